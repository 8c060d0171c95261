// screenshots: every dashboard view at 1280×800 in light and dark, against a lab cluster
// (main/lab/lab-dashboard.ts: the production Raft core on a simulated network, its virtual clock at
// real time), written to test-results/screenshots/<view>-<theme>.png. Every change is a call of
// its dashboard API; the lab's own controls are pictured by `npm run screenshots:lab`.
// `--size 1920x1080` takes them at another size, as <view>-<theme>-1920x1080.png.
// Needs the built renderer (`npm run build`) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
// Run: npm run screenshots [-- --size WxH]
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { createLabDashboard } from '../main/lab/lab-dashboard';
import { nodeLabHost } from '../main/web/lab-host';
import { createSessionToken, startWebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}test-results/screenshots`;
const THEMES = ['light', 'dark'] as const;

/** size: the viewport, 1280×800 unless `--size WxH` says otherwise. */
function size(): { width: number; height: number; suffix: string } {
  const i = process.argv.indexOf('--size');
  if (i < 0) return { width: 1280, height: 800, suffix: '' };
  const m = /^(\d+)x(\d+)$/.exec(process.argv[i + 1] ?? '');
  if (!m) throw new Error(`screenshots: --size wants WIDTHxHEIGHT, got ${process.argv[i + 1]}`);
  return { width: Number(m[1]), height: Number(m[2]), suffix: `-${m[1]}x${m[2]}` };
}
const SIZE = size();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`screenshots: timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const lab = createLabDashboard({ seed: 11, nodes: 3, host: nodeLabHost() });
  const server = await startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir: `${root}out/renderer`,
  });

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    });
    const pages: Record<(typeof THEMES)[number], Page> = {} as never;
    for (const theme of THEMES) {
      const context = await browser.newContext({
        viewport: { width: SIZE.width, height: SIZE.height },
        colorScheme: theme,
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[${theme}] page error:`, err.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().includes('WebSocket connection'))
          console.error(`[${theme}] console:`, m.text());
      });
      await page.goto(server.url);
      pages[theme] = page;
    }

    const go = async (view: string) => {
      for (const theme of THEMES) {
        await pages[theme].evaluate(
          (v) => ((globalThis as unknown as { location: { hash: string } }).location.hash = v),
          `/${view}`,
        );
      }
      await sleep(700);
    };
    const shoot = async (name: string) => {
      for (const theme of THEMES) {
        const path = `${outDir}/${name}-${theme}${SIZE.suffix}.png`;
        await pages[theme].screenshot({ path });
        console.log(path);
      }
    };
    const leader = async () => (await lab.getView()).leader;

    await until('a leader', async () => (await leader()) !== 0);
    await lab.startWorkload({
      clients: 8,
      rate: 300,
      keys: 32,
      readRatio: 0.5,
      casRatio: 0.1,
      valueBytes: 32,
      seconds: 0,
    });
    await sleep(6000);

    // A follower cut off: it diverges (no leader, falls behind) and the fault strip shows it.
    const l = await leader();
    const follower = (await lab.getView()).nodes.find((n) => n.id !== l)!.id;
    await lab.isolateNode(follower);
    await lab.setSlowDisk(l, 4);
    await sleep(2500);
    await go('overview');
    await shoot('overview');
    await go(`node/${follower}`);
    await shoot('node');
    await go('replication');
    await shoot('replication');

    await lab.healNetwork();
    await lab.partition([
      [l],
      (await lab.getView()).nodes.filter((n) => n.id !== l).map((n) => n.id),
    ]);
    await lab.setLinkRules(l, [{ to: '*', delayMs: 40, jitterMs: 10, types: ['app'] }]);
    await sleep(1500);
    await go('faults');
    await shoot('faults');
    await lab.clearAllFaults();
    await sleep(2500);

    await lab.checkHistory();
    await go('workload');
    await sleep(1000);
    await shoot('workload');

    await go('client');
    for (const theme of THEMES) {
      const p = pages[theme];
      await p.fill('input[placeholder="e.g. user:42"]', 'user:42');
      await p.fill('input[placeholder="value"]', 'ada');
      await p.click('button[type="submit"]');
      await sleep(150);
      await p.click('button[role="radio"]:has-text("get")');
      await p.click('button[type="submit"]');
      await sleep(150);
      await p.click('button[role="radio"]:has-text("cas")');
      await p.fill('input[placeholder="current value"]', 'grace');
      await p.fill('input[placeholder="value"]', 'lin');
      await p.click('button[type="submit"]');
      await sleep(150);
    }
    await sleep(400);
    await shoot('client');

    await go('events');
    await shoot('events');

    // Add a node after the log was compacted: it needs a snapshot, then the log. A transfer of
    // the lab's small store takes a few ms of virtual time, so the lab is paused and stepped
    // message by message until the leader is sending it; the pictures are of that step.
    await lab.addNode();
    await lab.labControl({ kind: 'pause' });
    await until(
      'a snapshot transfer',
      async () => {
        const v = await lab.getView();
        const lv = v.nodes.find((n) => n.id === v.leader);
        if (lv?.raft?.progress.some((p) => p.snapshot && p.snapshot.sent > 0)) return true;
        await lab.labControl({ kind: 'step', until: 'message' });
        return false;
      },
      60_000,
    );
    await sleep(800);
    await go('snapshots');
    await shoot('snapshots');
    await go('membership');
    await shoot('membership');
    await lab.labControl({ kind: 'play' });
    await until(
      'the new node to be promoted',
      async () => (await lab.getView()).workflows.every((w) => w.state !== 'running'),
      30_000,
    );

    await lab.stopWorkload();
    await lab.runScenario('partitioned-leader');
    await go('scenarios');
    await sleep(2600);
    await shoot('scenarios');

    // The browser banner when the server goes away.
    await go('overview');
    await server.close();
    await sleep(1500);
    await shoot('disconnected');
  } finally {
    await browser?.close();
    lab.dispose();
    await server.close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
