// lab-screenshots: the lab's controls on screen, against a lab cluster (main/lab/lab-dashboard.ts)
// served as it is, into test-results/lab/<name>-<theme>.png, light and dark, 1440×900. Every
// change is a call of the lab's dashboard API (crash, pause, step); every moment is read from the
// lab's own view, and the lab is paused on it, so each picture is exactly one step of the run.
//
// Captures: the lab playing (heartbeats in flight); the leader crashed, the lab paused and stepped
// event by event until a candidate's vote requests are on the network (drawn on their links and
// listed in flight); one of the votes selected (ringed on the drawing, highlighted in the list);
// one step to the next message delivered, by the lab bar's button; and the failure banner of a simulator seed run
// with a broken core (openSimSeed(1, { mutation: 'send-before-fsync' })), on the Topology and the
// Overview.
// Needs the built renderer (`npm run build`) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
//
// Run: npm run screenshots:lab
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { ClusterView, LabMessageView } from '../main/contract/view';
import { createLabDashboard } from '../main/lab/lab-dashboard';
import type { LabDashboard } from '../main/lab/lab-dashboard';
import { openSimSeed } from '../main/lab/sim-replay';
import { nodeLabHost } from '../main/web/lab-host';
import { createSessionToken, startWebServer } from '../main/web/server';
import type { WebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-results', 'lab');
const THEMES = ['light', 'dark'] as const;
const VIEWPORT = { width: 1440, height: 900 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** until polls `f` every 50 ms until it holds; an error naming `what` after `ms`. */
async function until(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`lab-screenshots: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Shots: one page per theme on the same server, shot together. */
interface Shots {
  pages: Record<(typeof THEMES)[number], Page>;
  shoot(name: string): Promise<void>;
  go(hash: string): Promise<void>;
}

async function open(browser: Browser, server: WebServer, hash: string): Promise<Shots> {
  const pages = {} as Shots['pages'];
  for (const theme of THEMES) {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      colorScheme: theme,
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[${theme}] page error:`, err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('WebSocket connection'))
        console.error(`[${theme}] console:`, m.text());
    });
    await page.goto(`${server.url.split('#')[0]}#${hash}`);
    pages[theme] = page;
  }
  return {
    pages,
    async shoot(name) {
      for (const theme of THEMES) {
        const path = join(out, `${name}-${theme}.png`);
        await pages[theme].screenshot({ path });
        console.log(path);
      }
    },
    async go(h) {
      for (const theme of THEMES) {
        await pages[theme].evaluate((v) => {
          (globalThis as unknown as { location: { hash: string } }).location.hash = v;
        }, h);
      }
      await sleep(700);
    },
  };
}

async function serve(lab: LabDashboard): Promise<WebServer> {
  return startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
}

const votes = (v: ClusterView): LabMessageView[] =>
  (v.lab?.inFlight ?? []).filter((m) => m.type === 'vote');

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await election(browser);
    await failure(browser);
  } finally {
    await browser.close();
  }
}

/** election: a leader crashed, and the election that follows held still, step by step. */
async function election(browser: Browser): Promise<void> {
  const lab = createLabDashboard({ seed: 5, nodes: 5, host: nodeLabHost() });
  const server = await serve(lab);
  try {
    const shots = await open(browser, server, '/topology');
    const view = () => lab.getView();
    await until('a leader', async () => (await view()).leader !== 0);
    await sleep(2500);
    await shots.shoot('lab-playing');

    // The leader crashes; the lab pauses at once and runs one event at a time (a change of a
    // node's role, term or leader) until a candidate's vote requests are on the network.
    const old = (await view()).leader;
    await lab.labControl({ kind: 'pause' });
    await lab.labControl({ kind: 'crash', node: old, unsynced: 'kept' });
    await until('a candidate with its vote requests in flight', async () => {
      if (votes(await view()).length > 0) return true;
      await lab.labControl({ kind: 'step', until: 'event' });
      return false;
    });
    const v = await view();
    console.log(`crashed leader ${old}; ${v.lab!.lastStep}`);
    // The vote request furthest from arriving: mid-link, where its ring is clear of the nodes.
    const vote = votes(v).reduce((a, b) => (b.deliverAt > a.deliverAt ? b : a));
    for (const theme of THEMES) {
      const p = shots.pages[theme];
      await p.waitForSelector(`[data-lab-msg="${vote.id}"]`);
      await p.waitForSelector(`[data-test=lab-msg-row][data-msg-id="${vote.id}"]`);
    }
    await sleep(800);
    await shots.shoot('lab-election');

    // One vote request selected: ringed and labelled on its link, highlighted in the list.
    for (const theme of THEMES) await shots.pages[theme].click(`[data-lab-msg="${vote.id}"]`);
    await sleep(500);
    await shots.shoot('lab-selected');

    // One step to the next message taken off the network, by the lab bar's own button (one
    // lab behind both pages: the click on one moves both).
    const before = (await view()).lab!.steps;
    await shots.pages.dark.click('[data-test=lab-step-message]');
    await until('the step to land', async () => (await view()).lab!.steps !== before);
    console.log(`stepped: ${(await view()).lab!.lastStep}`);
    await sleep(800);
    await shots.shoot('lab-step-message');
  } finally {
    lab.dispose();
    await server.close().catch(() => undefined);
  }
}

/** failure: a simulator seed whose core sends before it fsyncs, opened where it broke. */
async function failure(browser: Browser): Promise<void> {
  const lab = createLabDashboard({
    host: nodeLabHost(),
    from: openSimSeed(1, { mutation: 'send-before-fsync' }),
  });
  const server = await serve(lab);
  try {
    const f = (await lab.getView()).lab?.failure;
    if (!f) throw new Error('simulator seed 1 with send-before-fsync broke no invariant');
    console.log(`failure: ${f.invariant} at step ${f.step}, nodes ${f.nodes.join(', ')}`);
    const shots = await open(browser, server, '/topology');
    for (const theme of THEMES) await shots.pages[theme].waitForSelector('[data-test=lab-failure]');
    await sleep(800);
    await shots.shoot('lab-failure-topology');
    await shots.go('/overview');
    await shots.shoot('lab-failure-overview');
  } finally {
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
