// Screenshots of the Topology view against a lab cluster (main/lab/lab-dashboard.ts: the
// production Raft core on a simulated network, its virtual clock at real time), at 1920×1080 and
// 1280×800, light and dark, into test-results/topology/. The lab is served as it is: the pages
// see only its views, events and message batches, and every change comes from a call of its
// dashboard API (workload, partition, pace, kill, add node, scenario pause/resume, and the lab's
// pause and step), so the pictures show what the cluster did, no more. Moments are waited for,
// not staged: the script polls the lab's view or the page until what a picture is about is on
// screen; a moment shorter than a poll (votes in flight, a snapshot of the lab's small store on
// its way) is reached by pausing the lab and stepping it, so the picture is of that exact step.
//
// Captures: a healthy cluster under load with messages in flight (and four frames in a row of
// them moving); a minority cut off by a partition, campaigning as pre-candidates; the pace at 20×
// on the top bar; the leader killed at 20× without fast failover: the followers' election timers
// filling, then the lab paused and stepped event by event until a candidate's vote requests are
// in flight (drawn on their links, with the candidate); dragging a node to partition; a link's
// detail; an added node catching up by snapshot (three frames, one message step apart, the lab
// paused); a narrated scenario paused between steps, and its end; and 9 nodes under load with a
// rough cost.
// Needs `npx electron-vite build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// Run: npx tsx scripts/topology-screenshots.ts [--nine: only the nine nodes, with a rough cost]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { NodeId } from '../main/contract/view';
import { createLabDashboard } from '../main/lab/lab-dashboard';
import { nodeLabHost } from '../main/web/lab-host';
import { createSessionToken, startWebServer } from '../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-results', 'topology');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SIZES = [
  { width: 1920, height: 1080, suffix: '1920' },
  { width: 1280, height: 800, suffix: '1280' },
] as const;
const THEMES = ['light', 'dark'] as const;

/** FRAME_WATCH: a page script recording the longest gap between animation frames from now on. */
const FRAME_WATCH = `(() => {
  let last = performance.now();
  globalThis.__worstFrame = 0;
  const f = (t) => {
    globalThis.__worstFrame = Math.max(globalThis.__worstFrame, t - last);
    last = t;
    requestAnimationFrame(f);
  };
  requestAnimationFrame(f);
})()`;

/** CAMPAIGNING: a node drawn as a candidate or a pre-candidate. */
const CAMPAIGNING = '[data-role="candidate"], [data-role="pre-candidate"]';

/** until polls `f` every 50 ms until it holds; an error naming `what` after `ms`. */
async function until(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`topology-screenshots: timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  if (process.argv.includes('--nine')) return nine();
  const lab = createLabDashboard({ seed: 5, nodes: 5, host: nodeLabHost() });
  const server = await startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const open = async (size: (typeof SIZES)[number], theme: (typeof THEMES)[number]) => {
      const context = await browser!.newContext({
        viewport: { width: size.width, height: size.height },
        colorScheme: theme,
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[${theme}] page error:`, err.message));
      await page.goto(`${server.url.split('#')[0]}#/topology`);
      return { page, size, theme };
    };
    const shots: Awaited<ReturnType<typeof open>>[] = [];
    for (const size of SIZES) for (const theme of THEMES) shots.push(await open(size, theme));
    const fileOf = (name: string, s: (typeof shots)[number]) =>
      join(out, `${name}-${s.theme}-${s.size.suffix}.png`);

    const shoot = async (name: string): Promise<void> => {
      for (const s of shots) {
        await s.page.screenshot({ path: fileOf(name, s) });
        console.log(fileOf(name, s));
      }
    };
    /** shootWhen: each page shot as soon as `ready` holds on it (all pages at once). */
    const shootWhen = async (
      name: string,
      ready: (p: Page) => Promise<boolean>,
      ms = 10_000,
    ): Promise<void> => {
      await Promise.all(
        shots.map(async (s) => {
          await until(`${name} on the ${s.theme} ${s.size.suffix} page`, () => ready(s.page), ms);
          await s.page.screenshot({ path: fileOf(name, s) });
          console.log(fileOf(name, s));
        }),
      );
    };
    const hash = async (h: string): Promise<void> => {
      for (const s of shots) {
        await s.page.evaluate((v) => {
          (globalThis as unknown as { location: { hash: string } }).location.hash = v;
        }, h);
      }
      await sleep(500);
    };
    const view = () => lab.getView();
    const shows = (sel: string) => async (p: Page) => (await p.locator(sel).count()) > 0;
    const allFollow = async () => {
      const v = await view();
      return (
        v.leader !== 0 &&
        v.nodes.every(
          (n) => n.id === v.leader || (n.process.state === 'running' && n.role === 'follower'),
        )
      );
    };

    await until('a leader', async () => (await view()).leader !== 0);
    await lab.startWorkload({
      clients: 6,
      rate: 200,
      keys: 32,
      readRatio: 0.5,
      casRatio: 0.1,
      valueBytes: 32,
      seconds: 0,
    });
    await sleep(2500);
    await shoot('healthy-load');

    // Frames in a row: messages moving (the dark 1920 page).
    const big = shots.find((s) => s.theme === 'dark' && s.size.width === 1920)!;
    for (let i = 1; i <= 4; i++) {
      await big.page.screenshot({ path: join(out, `frames-${i}-dark-1920.png`) });
      console.log(`frames-${i}`);
      await sleep(120);
    }

    // A minority partition: the cut links, and the cut-off pair campaigning (pre-vote, which
    // cannot reach a majority, so their term stays).
    {
      const v = await view();
      const ids = v.nodes.map((n) => n.id);
      const minority = ids.filter((id) => id !== v.leader).slice(0, 2);
      await lab.partition([ids.filter((id) => !minority.includes(id)), minority]);
      await shootWhen('partition', shows(CAMPAIGNING));
      await lab.healNetwork();
      await until('the minority to follow again', allFollow);
      await sleep(1000);
    }

    // A slow pace, shown on the top bar; the failover waits for a real election timeout.
    await lab.setPace(20, false);
    await sleep(2500);
    await shoot('pace-20');

    // An election: the leader killed; the followers' timers fill over the stretched election
    // timeout, then they elect, and the votes fly.
    {
      const old = (await view()).leader;
      const offVotes = lab.onEvent((e) => {
        if (e.kind === 'vote' || e.kind === 'election') console.log(e.message);
      });
      await lab.killNode(old);
      console.log(`killed leader ${old} at 20× without fast failover`);
      await sleep(10_000);
      await shoot('election-timers');
      // Paused, then one event at a time until a candidate's vote requests are on the network.
      await lab.labControl({ kind: 'pause' });
      await until(
        'vote requests in flight',
        async () => {
          const v = await view();
          if ((v.lab?.inFlight ?? []).some((m) => m.type === 'vote')) return true;
          await lab.labControl({ kind: 'step', until: 'event' });
          return false;
        },
        90_000,
      );
      await shootWhen(
        'election-votes',
        async (p) =>
          (await p.locator('[data-lab-msg][data-type="vote"]').count()) > 0 &&
          (await p.locator(CAMPAIGNING).count()) > 0,
      );
      await lab.labControl({ kind: 'play' });
      offVotes();
      await lab.restartNode(old);
      await until('the old leader to follow', allFollow, 30_000);
    }
    await lab.setPace(1, true);
    await sleep(1000);

    // Dragging a node to partition, on the dark 1920 page: mid-drag (the hint says what a drop
    // would do), then the question asked on the drop; cancelled, and a click opens the node.
    {
      const node = big.page.locator('[data-node] .body').last();
      const box = (await node.boundingBox())!;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      await big.page.mouse.move(cx, cy);
      await big.page.mouse.down();
      await big.page.mouse.move(cx + 120, cy - 160, { steps: 8 });
      await sleep(200);
      await big.page.screenshot({ path: join(out, 'drag-dark-1920.png') });
      await big.page.mouse.up();
      await sleep(300);
      await big.page.screenshot({ path: join(out, 'drag-confirm-dark-1920.png') });
      console.log('drag');
      await big.page.locator('[data-test=confirm] button', { hasText: 'Cancel' }).click();
      await node.click();
      await sleep(300);
      const hash = await big.page.evaluate(
        () => (globalThis as unknown as { location: { hash: string } }).location.hash,
      );
      if (!hash.startsWith('#/node/')) throw new Error(`a click on a node opened ${hash}`);
      await big.page.goBack();
      await sleep(300);
    }

    // A link's detail: the leader and one follower, as the lab counted them. A click on the
    // link a third of the way from the leader (its middle carries the label).
    {
      const v = await view();
      // A follower not receiving a snapshot (its band would lie over the link).
      const lv = v.nodes.find((n) => n.id === v.leader)!;
      const f: NodeId = lv.raft!.progress.find((p) => !p.snapshot && !p.learner)!.id;
      for (const s of shots) {
        const centre = async (id: NodeId) => {
          const b = (await s.page.locator(`[data-node="${id}"] .body`).boundingBox())!;
          return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
        };
        const a = await centre(v.leader);
        const b = await centre(f);
        await s.page.mouse.click(a.x + (b.x - a.x) / 3, a.y + (b.y - a.y) / 3);
        const panel = s.page.locator('[data-test=link-panel]');
        await panel.waitFor({ timeout: 5000 });
        await panel
          .locator('[data-test=link-state]')
          .waitFor({ timeout: 5000 })
          .catch(async () => {
            throw new Error(`the link panel says: ${await panel.innerText()}`);
          });
      }
      await sleep(1000);
      await shoot('link-detail');
      for (const s of shots)
        await s.page.locator('[data-test=link-panel] [aria-label=Close]').click();
    }

    // A new node catching up by snapshot: the band along its link. First the snapshots the
    // minority of the partition may still be receiving (the leader compacted past them) finish.
    const transferTo = async (id: NodeId | null) => {
      const v = await view();
      const lv = v.nodes.find((n) => n.id === v.leader);
      const all = lv?.raft?.progress.filter((p) => p.snapshot && p.snapshot.sent > 0) ?? [];
      return all.some((p) => id === null || p.id === id);
    };
    await until('earlier snapshots to finish', async () => !(await transferTo(null)), 60_000);
    // The lab's store is small: its snapshot crosses in a few ms of virtual time, so the lab is
    // paused as the node is added and stepped message by message (at most 20,000) until the
    // leader is sending it; each frame after is one step further.
    const before = new Set((await view()).nodes.map((n) => n.id));
    await lab.addNode();
    await lab.labControl({ kind: 'pause' });
    let added: NodeId | undefined;
    for (let i = 0; ; i++) {
      if (i === 20_000)
        throw new Error('topology-screenshots: no snapshot transfer to the new node');
      const v = await view();
      added ??= v.nodes.find((n) => !before.has(n.id))?.id;
      if (added !== undefined && (await transferTo(added))) break;
      await lab.labControl({ kind: 'step', until: 'message' });
    }
    for (let i = 1; i <= 3; i++) {
      if (i > 1) await lab.labControl({ kind: 'step', until: 'message' });
      await sleep(600);
      await shoot(`snapshot-${i}`);
    }
    await lab.labControl({ kind: 'play' });
    await until(
      'the new node to be promoted',
      async () => (await view()).workflows.every((w) => w.state !== 'running'),
      30_000,
    );

    // A scenario narrated over the topology, paused between steps once the leader is isolated.
    await lab.stopWorkload();
    await lab.runScenario('partitioned-leader');
    await until('the leader to be isolated', async () => {
      const sc = (await view()).scenario;
      return (sc?.steps[1]?.state ?? 'pending') !== 'pending';
    });
    await lab.pauseScenario();
    await until('the scenario to hold', async () => {
      const sc = (await view()).scenario;
      return sc?.paused === true && !sc.steps.some((s) => s.state === 'active');
    });
    await sleep(1500);
    await shoot('scenario');
    await lab.resumeScenario();
    await until(
      'the scenario to end',
      async () => (await view()).scenario?.state !== 'running',
      30_000,
    );
    await sleep(500);
    await shoot('scenario-done');
    await hash('/overview');
    await hash('/topology');
  } finally {
    await browser?.close();
    lab.dispose();
    await server.close().catch(() => undefined);
  }

  // Nine nodes under load.
  await nine();
}

async function nine(): Promise<void> {
  const lab = createLabDashboard({ seed: 9, nodes: 9, host: nodeLabHost() });
  const server = await startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    for (const size of SIZES) {
      const context = await browser.newContext({
        viewport: { width: size.width, height: size.height },
        colorScheme: 'dark',
      });
      const page = await context.newPage();
      await page.goto(`${server.url.split('#')[0]}#/topology`);
      while ((await lab.getView()).leader === 0) await sleep(100);
      await lab.startWorkload({
        clients: 8,
        rate: 400,
        keys: 32,
        readRatio: 0.5,
        casRatio: 0.1,
        valueBytes: 32,
        seconds: 0,
      });
      await sleep(2500);
      const path = join(out, `nine-dark-${size.suffix}.png`);
      await page.screenshot({ path });
      console.log(path);
      // A rough look at the cost (the dashboard benchmark is the measurement): the page's main
      // thread busy time over 10 s, and the longest gap between two animation frames.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const busy = async (): Promise<number> => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
      };
      await page.evaluate(FRAME_WATCH);
      const b0 = await busy();
      await sleep(10_000);
      const b1 = await busy();
      const worst = await page.evaluate(
        () => (globalThis as unknown as { __worstFrame: number }).__worstFrame,
      );
      console.log(
        `nine nodes at ${size.suffix}: main thread ${(((b1 - b0) / 10) * 100).toFixed(1)} % ` +
          `of a core, longest frame gap ${worst.toFixed(0)} ms`,
      );
      await lab.stopWorkload();
      await context.close();
    }
  } finally {
    await browser.close();
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
