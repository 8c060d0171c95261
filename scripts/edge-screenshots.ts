// Screenshots of a real 3-node cluster at the edges people look at: healthy, leader paused (no
// leader yet), partition, quorum lost, and a finished workload, each in light and dark, into
// test-results/edges/. Needs `npm run build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// Run: npx tsx scripts/edge-screenshots.ts
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { startDashboard } from '../main/cluster/dashboard';
import type { ClusterView } from '../main/contract/view';
import { createSessionToken, startWebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-results', 'edges');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`edge-screenshots: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-edges-'));
  const local = await startDashboard({ dir, nodes: 3 });
  const server = await startWebServer({
    api: local.api,
    pushes: local.api,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const view = (): ClusterView => local.sup.view();
  try {
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    const shoot = async (name: string, hash: string): Promise<void> => {
      for (const theme of ['light', 'dark'] as const) {
        await page.evaluate((t) => {
          const g = globalThis as unknown as {
            localStorage: { setItem(k: string, v: string): void };
          };
          g.localStorage.setItem('raftdeck.theme', t);
        }, theme);
        await page.goto(`${server.url.split('#')[0]}#/${hash}`);
        await page.reload();
        await sleep(700);
        await page.screenshot({ path: join(out, `${name}-${theme}.png`) });
      }
      console.log(`edge-screenshots: ${name}`);
    };
    await until('a leader', () => view().leader !== 0);
    await sleep(1500);
    await shoot('healthy', 'overview');

    const l = view().leader;
    local.sup.pause(l);
    await sleep(600);
    await shoot('leader-paused', 'overview');
    local.sup.resume(l);
    await until('a leader again', () => view().leader !== 0);

    const leader = view().leader;
    const [a, b] = view()
      .nodes.map((n) => n.id)
      .filter((id) => id !== leader);
    await local.sup.partition([[leader, a!], [b!]]);
    await until(
      `node ${b} cut off`,
      () => view().nodes.find((n) => n.id === b)?.health === 'cut-off',
    );
    await shoot('partition', 'overview');
    await shoot('partition-faults', 'faults');
    await local.sup.heal();

    await until('a settled cluster', () => view().leader !== 0);
    await local.api.startWorkload({
      clients: 4,
      rate: 200,
      keys: 16,
      readRatio: 0.5,
      casRatio: 0.1,
      valueBytes: 16,
      seconds: 4,
    });
    await until('the workload to finish', () => view().workload?.running === false, 20_000);
    await shoot('workload-finished', 'workload');

    const l2 = view().leader;
    const [c] = view()
      .nodes.map((n) => n.id)
      .filter((id) => id !== l2);
    await local.sup.kill(c!);
    await local.sup.kill(l2);
    await sleep(2500);
    await shoot('quorum-lost', 'overview');
    await shoot('quorum-lost-membership', 'membership');
  } finally {
    await browser.close();
    await server.close();
    await local.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
