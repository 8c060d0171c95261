// Screenshots of time travel and the message inspector against a lab cluster
// (main/lab/lab-dashboard.ts, its virtual clock at real time), into test-results/replay/: the replay bar live; the Topology
// replayed one second before the leader was killed and just after the new leader, and four
// frames of playback at 1× across the election; the Faults page in replay (its controls
// disabled); the event timeline with its "jump" buttons; the message inspector at the election,
// live, and following one link. The lab records what it pushes, as the real dashboard does;
// every change here is a call of its dashboard API, and every moment is read from the lab's view
// clock (its epoch + virtual time, not the wall clock).
// Needs `npx electron-vite build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// Run: npx tsx scripts/replay-screenshots.ts [--light]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { createLabDashboard } from '../main/lab/lab-dashboard';
import { nodeLabHost } from '../main/web/lab-host';
import { createSessionToken, startWebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-results', 'replay');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const theme = process.argv.includes('--light') ? 'light' : 'dark';
  const lab = createLabDashboard({ seed: 3, nodes: 3, host: nodeLabHost() });
  const server = await startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  let browser: Browser | undefined;
  try {
    await lab.startWorkload({
      clients: 4,
      rate: 200,
      keys: 16,
      readRatio: 0.5,
      casRatio: 0.1,
      valueBytes: 16,
      seconds: 0,
    });
    await sleep(4000);
    const old = (await lab.getView()).leader;
    const killedAt = Math.round((await lab.getView()).now);
    await lab.killNode(old);
    let fresh = 0;
    for (let i = 0; i < 100 && (fresh === 0 || fresh === old); i++) {
      await sleep(100);
      fresh = (await lab.getView()).leader;
    }
    await sleep(3000);
    console.log(`leader ${old} killed at ${killedAt}, new leader ${fresh}`);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      colorScheme: theme,
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    const base = server.url.split('#')[0];
    const shot = async (name: string) => {
      await page.screenshot({ path: join(out, `${name}-${theme}.png`) });
      console.log(`wrote ${name}-${theme}.png`);
    };

    await page.goto(`${base}#/topology`);
    await page.waitForSelector('[data-test=replay-slider]:not([disabled])');
    await sleep(1500);
    await shot('01-live');

    await page.goto(`${base}#/topology?at=${killedAt - 1000}`);
    await page.waitForSelector('[data-test=top-replaying]');
    await sleep(800);
    await shot('02-before-kill');

    await page.keyboard.press('ArrowRight');
    await sleep(600);
    await shot('03-next-event');

    await page.goto(`${base}#/topology?at=${killedAt - 300}`);
    await sleep(600);
    await page.click('[data-test=play]');
    for (let i = 0; i < 4; i++) {
      await sleep(350);
      await shot(`04-play-${i}`);
    }
    await page.click('[data-test=play]');

    await page.goto(`${base}#/faults?at=${killedAt + 1500}`);
    await sleep(800);
    await shot('05-faults-replay');

    await page.goto(`${base}#/events?at=${killedAt + 1500}`);
    await sleep(800);
    await shot('06-events-replay');

    await page.goto(`${base}#/messages?at=${killedAt + 1500}`);
    await sleep(800);
    await page.selectOption('[data-test=messages-term]', { index: 0 });
    await shot('07-messages-replay');

    await page.click('[data-test=back-to-live]');
    await sleep(1500);
    await shot('08-messages-live');

    await page.selectOption('[data-test=messages-from]', String(fresh));
    const other = [1, 2, 3].find((id) => id !== old && id !== fresh)!;
    await page.selectOption('[data-test=messages-to]', String(other));
    await page.click('[data-test=messages-follow]');
    await sleep(1500);
    await shot('09-messages-follow');
  } finally {
    await browser?.close();
    await server.close();
    lab.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
