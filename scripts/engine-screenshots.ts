// engine-screenshots: how the dashboard shows what an engine cannot do, in Chromium, into
// test-results/engine/<name>-<theme>.png, 1440×900. The cluster is a lab (main/lab/lab-dashboard.ts)
// whose views this script alone dresses as an etcd cluster's before they leave for the page (its
// `engine` replaced, its `lab` part dropped), so the pages draw a local etcd cluster (faults
// through proxies, no Raft-level views) and an attached read-only one. Nothing in the product
// reads a flag for it: the page gets the views an etcd engine would push.
// Needs the built renderer (`npm run build`) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
//
// Run: npx tsx scripts/engine-screenshots.ts
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { DashboardApi, PushSource } from '../main/contract/api';
import type { ClusterView, EngineFeature, EngineView } from '../main/contract/view';
import { createLabDashboard } from '../main/lab/lab-dashboard';
import { nodeLabHost } from '../main/web/lab-host';
import { createSessionToken, startWebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-results', 'engine');
const VIEWPORT = { width: 1440, height: 900 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const RAFT_VIEWS: Partial<Record<EngineFeature, string>> = {
  typeRules:
    "message-type rules need raftdeck's own transport; etcd's peer links are proxied as byte streams",
  slowDisk: 'etcd fsyncs its own WAL; raftdeck cannot delay it',
  logEntries: "raftdeck cannot read the entries of etcd's WAL",
  messages: "etcd's peer links are proxied as byte streams: there are no Raft messages to show",
  linkDetail: "etcd's peer links are proxied as byte streams: no counters per message type",
  pace: 'etcd keeps its own ticks',
};

const LOCAL: EngineView = {
  kind: 'etcd',
  version: '3.4.23',
  mode: 'local',
  unavailable: RAFT_VIEWS,
  endpoints: [],
};

const NOT_OURS = 'raftdeck did not start this cluster';
const ATTACHED: EngineView = {
  kind: 'etcd',
  version: '3.5.17',
  mode: 'attached',
  unavailable: {
    ...RAFT_VIEWS,
    ...Object.fromEntries(
      (
        [
          'kill',
          'stop',
          'restart',
          'pause',
          'autoRestart',
          'isolate',
          'partition',
          'linkRules',
          'slowDisk',
          'addNode',
          'removeNode',
          'replaceNode',
          'transferLeader',
          'kv',
          'workload',
          'scenarios',
          'nodeLogs',
        ] as const
      ).map((f) => [f, NOT_OURS]),
    ),
  },
  endpoints: ['https://10.0.0.11:2379', 'https://10.0.0.12:2379', 'https://10.0.0.13:2379'],
};

/** dressed: the lab's API and pushes with every view shown as one of `engine`'s. */
function dressed(
  lab: DashboardApi & PushSource,
  engine: EngineView,
): { api: DashboardApi; pushes: PushSource } {
  const dress = (v: ClusterView): ClusterView => ({ ...v, lab: null, engine });
  const api = new Proxy(lab, {
    get(target, prop, receiver) {
      if (prop === 'getView') return async () => dress(await target.getView());
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const pushes: PushSource = {
    onView: (cb) => lab.onView((v) => cb(dress(v))),
    onEvent: (cb) => lab.onEvent(cb),
    onMessages: (cb) => lab.onMessages(cb),
  };
  return { api, pushes };
}

async function shoot(browser: Browser, name: string, engine: EngineView, hashes: string[]) {
  const lab = createLabDashboard({ seed: 3, nodes: 3, host: nodeLabHost() });
  const { api, pushes } = dressed(lab, engine);
  const server = await startWebServer({
    api,
    pushes,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  try {
    for (const theme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: theme });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[${theme}] page error:`, err.message));
      await page.goto(`${server.url.split('#')[0]}#/topology`);
      await page.waitForSelector('[data-test=engine-badge]');
      for (const hash of hashes) {
        await page.evaluate((h) => {
          (globalThis as unknown as { location: { hash: string } }).location.hash = h;
        }, hash);
        await sleep(1200);
        const path = join(out, `${name}${hash.replace(/\//g, '-')}-${theme}.png`);
        await page.screenshot({ path });
        console.log(path);
      }
      await context.close();
    }
  } finally {
    lab.dispose();
    await server.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await shoot(browser, 'etcd-local', LOCAL, [
      '/topology',
      '/faults',
      '/replication',
      '/messages',
    ]);
    await shoot(browser, 'etcd-attached', ATTACHED, [
      '/topology',
      '/faults',
      '/membership',
      '/node/1',
      '/workload',
      '/scenarios',
      '/client',
    ]);
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
