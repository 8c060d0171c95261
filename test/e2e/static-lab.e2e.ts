// The static lab build (npm run build:lab) opened from disk in Chromium: one HTML file, no server
// and no node process anywhere; the lab cluster runs in the page's Web Worker and elects a leader,
// which the dashboard shows. Every request the page makes stays inside the page (file:, data:,
// blob:). Run alone, the test builds out/lab/ first when it is missing (npm run test:e2e always builds).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { haveChromium, openPage, root, shotsDir, until } from './e2e-harness';

const page = join(root, 'out', 'lab', 'index.html');
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!haveChromium)('the static lab build', () => {
  it('opens from a file URL and elects a leader with no server running', async () => {
    if (!existsSync(page)) {
      execFileSync('npx', ['vite', 'build', '-c', 'lab.vite.config.ts'], { cwd: root });
    }
    const url = `${pathToFileURL(page).href}?seed=5&nodes=3#/topology`;
    const requests: string[] = [];
    const errors: string[] = [];
    const opened = await openPage('about:blank');
    browser = opened.browser;
    const p = opened.page;
    p.on('request', (r) => requests.push(r.url()));
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(url);
    const leader = await until(
      'the lab to elect a leader',
      async () => {
        const text = (await p.locator('[data-test=top-leader]').textContent()) ?? '';
        return /node \d+/.test(text) ? text : undefined;
      },
      30_000,
    );
    expect(leader).toMatch(/♛ node [1-3]/);
    await p.screenshot({ path: join(shotsDir('static-lab'), 'topology.png') });
    expect(errors).toEqual([]);
    const outside = requests.filter((u) => !/^(file|data|blob):/.test(u));
    expect(outside).toEqual([]);
  });
});
