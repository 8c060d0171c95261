// Screenshots of the Topology view against the FAKE cluster (main/web/fake-dashboard.ts), at
// 1920×1080 and 1280×800, light and dark, into test-results/topology/: a healthy cluster under
// load with messages in flight (and four frames in a row of them moving), a partition, a
// minority that campaigns, an election with vote answers, a node catching up by snapshot, a
// scenario narrated with its controls, a link's detail, and 9 nodes under load. Needs
// `npx electron-vite build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// The fake does not simulate messages, pace or campaigns: this script adds them around it.
// `messages` batches are made up from each view (heartbeats and appends between the leader and
// its followers, votes around a campaign, snapshot chunks to a node catching up, dropped ones
// on cut links) and pushed into the page's WebSocket when the server does not push any itself;
// calls the fake lacks (setPace, linkDetail, scenario pause/step/resume) are answered here.
// Numbers are plausible, not measured.
//
// Run: npx tsx scripts/topology-screenshots.ts [--nine: only the nine nodes, with a rough cost]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { DashboardApi, PushSource } from '../main/contract/api';
import type {
  ClusterEvent,
  ClusterView,
  LinkDetail,
  MessageBatch,
  MessageTrace,
  NodeId,
  PaceView,
} from '../main/contract/view';
import { MESSAGE_FLIGHT_MS } from '../main/contract/view';
import { createFakeDashboard } from '../main/web/fake-dashboard';
import type { FakeDashboard } from '../main/web/fake-dashboard';
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

/**
 * TAP_SOCKET: a page script that keeps a handle on the page's WebSocket, so that made-up batches
 * can be delivered through it as if the server had pushed them (plain JavaScript: a function
 * handed to the page would carry the compiler's helpers with it).
 */
const TAP_SOCKET = `(() => {
  const Native = globalThis.WebSocket;
  class Tapped extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      globalThis.__topoInject = (m) => {
        if (this.readyState === 1 && this.onmessage) this.onmessage(new MessageEvent('message', { data: m }));
      };
    }
  }
  globalThis.WebSocket = Tapped;
})();`;

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

/** Staging: what this script lays over the fake's views. */
interface Staging {
  pace: PaceView;
  /** election: show node `candidate` campaigning, with these answers. */
  election: { candidate: NodeId; granted: NodeId[]; rejected: NodeId[] } | null;
  paused: boolean;
  /** heard: when each node last heard its leader (the fake's own timers are not usable). */
  heard: Map<NodeId, number>;
}

/** traceMaker: made-up messages for a view, as the nodes would have sent them. */
function traceMaker(): (v: ClusterView) => MessageTrace[] {
  let seq = 0;
  let beat = 0;
  return (v) => {
    beat++;
    const out: MessageTrace[] = [];
    const delay = v.pace.pace > 1 ? MESSAGE_FLIGHT_MS * v.pace.pace : 0;
    const linkState = (from: NodeId, to: NodeId) =>
      v.links.find((l) => l.from === from && l.to === to)?.state ?? 'down';
    const add = (from: NodeId, to: NodeId, type: MessageTrace['type'], extra = {}) => {
      const state = linkState(from, to);
      if (state === 'down') return;
      out.push({
        from,
        to,
        type,
        term: v.term,
        seq: ++seq,
        time: v.now + Math.round(Math.random() * 90),
        dir: 'out',
        fate: state === 'cut' ? 'dropped' : delay ? 'delayed' : 'sent',
        delayMs: delay,
        bytes: type === 'app' ? 400 : type === 'snap' ? 65_536 : 40,
        ...extra,
      });
    };
    const leader = v.nodes.find((n) => n.id === v.leader && n.role === 'leader');
    for (const n of v.nodes) {
      if (n.process.state !== 'running') continue;
      const c = n.raft?.campaign;
      if ((n.role === 'candidate' || n.role === 'pre-candidate') && beat % 3 === 0) {
        const type = c?.kind === 'vote' || n.role === 'candidate' ? 'vote' : 'pre-vote';
        for (const p of v.config.voters) if (p !== n.id) add(n.id, p, type);
        for (const p of c?.granted ?? []) if (p !== n.id) add(p, n.id, `${type}-resp`);
        for (const p of c?.rejected ?? []) add(p, n.id, `${type}-resp`, { reject: true });
      }
    }
    if (leader?.raft) {
      const busy = v.workload?.running === true;
      for (const p of leader.raft.progress) {
        if (p.snapshot) {
          add(leader.id, p.id, 'snap', {
            snapOffset: p.snapshot.sent,
            snapTotal: p.snapshot.total,
          });
          if (beat % 2 === 0) add(p.id, leader.id, 'snap-resp', { snapOffset: p.snapshot.acked });
          continue;
        }
        if (busy) {
          add(leader.id, p.id, 'app', { entries: 3, index: p.match, commit: leader.raft.commit });
          if (beat % 2 === 0) add(p.id, leader.id, 'app-resp', { index: p.match });
        } else if (beat % 2 === 0) {
          add(leader.id, p.id, 'heartbeat', { commit: leader.raft.commit });
          add(p.id, leader.id, 'heartbeat-resp');
        }
      }
    }
    return out;
  };
}

/** stage: a view with this script's pace, campaign and scenario state laid over it. */
function stage(v: ClusterView, s: Staging): ClusterView {
  const beat = 100 * s.pace.pace;
  const leaderUp = v.nodes.some((n) => n.id === v.leader && n.process.state === 'running');
  const nodes = v.nodes.map((n0) => {
    let n = n0;
    if (!n.raft) return n;
    if (n.role === 'leader') {
      const elapsedMs = v.now % beat;
      const timer = { kind: 'heartbeat' as const, elapsedMs, timeoutMs: beat, at: v.now };
      n = { ...n, timer: { ...timer, fraction: elapsedMs / beat } };
    } else {
      const up = v.links.find((l) => l.from === v.leader && l.to === n.id)?.state === 'up';
      if ((leaderUp && up) || !s.heard.has(n.id)) s.heard.set(n.id, v.now - (v.now % beat));
      const timeoutMs = (1000 + ((n.id * 397) % 1000)) * s.pace.pace;
      const elapsedMs = Math.min(timeoutMs, v.now - s.heard.get(n.id)!);
      const timer = { kind: 'election' as const, elapsedMs, timeoutMs, at: v.now };
      n = { ...n, timer: { ...timer, fraction: elapsedMs / timeoutMs } };
    }
    if (!n.raft) return n;
    if (s.election && n.id === s.election.candidate) {
      const role = 'candidate' as const;
      const campaign = {
        kind: 'vote' as const,
        term: v.term + 1,
        granted: [n.id, ...s.election.granted],
        rejected: s.election.rejected,
      };
      return { ...n, role, raft: { ...n.raft, role, term: v.term + 1, campaign } };
    }
    if (n.role === 'pre-candidate' && !n.raft.campaign) {
      const campaign = {
        kind: 'pre-vote' as const,
        term: n.raft.term + 1,
        granted: [n.id],
        rejected: [],
      };
      return { ...n, raft: { ...n.raft, campaign } };
    }
    return n;
  });
  const scenario = v.scenario ? { ...v.scenario, paused: s.paused } : null;
  let leadership = v.leadership;
  if (s.election) leadership = { state: 'electing', candidates: [s.election.candidate] };
  return { ...v, nodes, pace: s.pace, scenario, leadership };
}

/** wrap: the fake with staged views, made-up messages and the calls it lacks. */
function wrap(fake: FakeDashboard, s: Staging): { api: DashboardApi; pushes: PushSource } {
  const batchSubs = new Set<(b: MessageBatch) => void>();
  const make = traceMaker();
  const recent = new Map<string, MessageTrace[]>();
  fake.onView((v) => {
    const traces = make(stage(v, s));
    for (const t of traces) {
      const key = `${t.from}-${t.to}`;
      const list = recent.get(key) ?? [];
      list.push(t);
      recent.set(key, list.slice(-30));
    }
    const batch: MessageBatch = { traces, skipped: {} };
    for (const cb of batchSubs) cb(batch);
  });
  const extra = {
    async setPace(pace: number, fastFailover: boolean) {
      s.pace = { pace, fastFailover };
    },
    async linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail> {
      const v = stage(await fake.getView(), s);
      const link = v.links.find((l) => l.from === from && l.to === to);
      if (!link) throw new Error(`no link ${from} → ${to}`);
      const list = recent.get(`${from}-${to}`) ?? [];
      const types = [...new Set(list.map((t) => t.type))];
      const byType = types.map((type) => {
        const of = list.filter((t) => t.type === type);
        const dropped = of.filter((t) => t.fate === 'dropped').length;
        return {
          type,
          sent: of.length * 37,
          sentBytes: of.reduce((a, t) => a + t.bytes, 0) * 37,
          received: (of.length - dropped) * 37,
          receivedBytes: 0,
          faultDropped: dropped * 37,
          faultDelayed: of.filter((t) => t.fate === 'delayed').length * 37,
        };
      });
      return { link, byType, recent: list.slice(-14) };
    },
    async pauseScenario() {
      s.paused = true;
    },
    async resumeScenario() {
      s.paused = false;
    },
    async stepScenario() {},
  };
  const api = new Proxy(fake as unknown as DashboardApi, {
    get(target, prop) {
      if (prop === 'getView') return async () => stage(await fake.getView(), s);
      if (prop in extra) return extra[prop as keyof typeof extra];
      return (target as unknown as Record<string | symbol, unknown>)[prop];
    },
  });
  const pushes: PushSource = {
    onView: (cb) => fake.onView((v) => cb(stage(v, s))),
    onEvent: (cb: (e: ClusterEvent) => void) => fake.onEvent(cb),
    onMessages: (cb) => {
      batchSubs.add(cb);
      return () => batchSubs.delete(cb);
    },
  };
  return { api, pushes };
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  if (process.argv.includes('--nine')) return nine();
  const staging: Staging = {
    pace: { pace: 1, fastFailover: true },
    election: null,
    paused: false,
    heard: new Map(),
  };
  const fake = createFakeDashboard({
    nodes: 5,
    snapshotEvery: 200,
    snapshotBytes: 8 * 1024 * 1024,
    chunkBytes: 96 * 1024,
  });
  const { api, pushes } = wrap(fake, staging);
  const server = await startWebServer({
    api,
    pushes,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  // Batches go to every page through its WebSocket unless the server pushes them itself.
  const pages: Page[] = [];
  let serverPushesMessages = false;
  pushes.onMessages((b) => {
    if (serverPushesMessages) return;
    for (const p of pages) {
      void p
        .evaluate(
          (payload) => {
            const g = globalThis as unknown as { __topoInject?: (m: string) => void };
            g.__topoInject?.(payload);
          },
          JSON.stringify({ type: 'push', push: 'messages', payload: b }),
        )
        .catch(() => undefined);
    }
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
      await context.addInitScript({ content: TAP_SOCKET });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[${theme}] page error:`, err.message));
      page.on('websocket', (ws) =>
        ws.on('framereceived', (f) => {
          if (typeof f.payload === 'string' && f.payload.includes('"push":"messages"')) {
            serverPushesMessages = true;
          }
        }),
      );
      await page.goto(`${server.url.split('#')[0]}#/topology`);
      pages.push(page);
      return { page, size, theme };
    };
    const shots: Awaited<ReturnType<typeof open>>[] = [];
    for (const size of SIZES) for (const theme of THEMES) shots.push(await open(size, theme));

    const shoot = async (name: string): Promise<void> => {
      for (const s of shots) {
        const path = join(out, `${name}-${s.theme}-${s.size.suffix}.png`);
        await s.page.screenshot({ path });
        console.log(path);
      }
    };
    const hash = async (h: string): Promise<void> => {
      for (const s of shots) {
        await s.page.evaluate((v) => {
          (globalThis as unknown as { location: { hash: string } }).location.hash = v;
        }, h);
      }
      await sleep(500);
    };
    const view = () => fake.getView();
    const until = async (what: string, f: () => Promise<boolean>, ms = 30_000) => {
      const end = Date.now() + ms;
      while (!(await f())) {
        if (Date.now() > end)
          throw new Error(`topology-screenshots: timed out waiting for ${what}`);
        await sleep(100);
      }
    };

    await until('a leader', async () => (await view()).leader !== 0);
    await fake.startWorkload({
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

    // A slow pace, shown on the top bar.
    staging.pace = { pace: 20, fastFailover: false };
    await sleep(1200);
    await shoot('pace-20');

    // A minority partition: the cut links, the minority campaigning (pre-vote).
    const l = (await view()).leader;
    const ids = (await view()).nodes.map((n) => n.id);
    const others = ids.filter((id) => id !== l);
    const minority = others.slice(0, 2);
    await fake.partition([ids.filter((id) => !minority.includes(id)), minority]);
    await sleep(2500);
    await shoot('partition');
    await fake.healNetwork();
    await sleep(1500);

    // An election with vote answers (staged over the fake, which elects at once).
    const l2 = (await view()).leader;
    const rest = (await view()).nodes.map((n) => n.id).filter((id) => id !== l2);
    staging.election = { candidate: rest[0]!, granted: [rest[1]!], rejected: [rest[2]!] };
    await fake.killNode(l2);
    await sleep(900);
    await shoot('election');
    staging.election = null;
    await fake.restartNode(l2);
    await until('a leader again', async () => (await view()).leader !== 0);
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

    // A link's detail.
    for (const s of shots) {
      const pair = s.page.locator('[data-pair] .hit').first();
      await pair.click({ force: true });
    }
    await sleep(1500);
    await shoot('link-detail');
    for (const s of shots)
      await s.page.locator('[data-test=link-panel] [aria-label=Close]').click();

    // A new node catching up by snapshot: the band along its link.
    await fake.addNode();
    await until('a snapshot transfer', async () => {
      const v = await view();
      const lv = v.nodes.find((n) => n.id === v.leader);
      return lv?.raft?.progress.some((p) => p.snapshot && p.snapshot.sent > 0) ?? false;
    });
    for (let i = 1; i <= 3; i++) {
      await sleep(250);
      await shoot(`snapshot-${i}`);
    }
    await until(
      'the new node to be promoted',
      async () => (await view()).workflows.every((w) => w.state !== 'running'),
      30_000,
    );

    // A scenario narrated over the topology, paused between steps.
    await fake.stopWorkload();
    staging.pace = { pace: 1, fastFailover: true };
    await fake.runScenario('partitioned-leader');
    await sleep(1800);
    staging.paused = true;
    await sleep(600);
    await shoot('scenario');
    staging.paused = false;
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
    fake.dispose();
    await server.close().catch(() => undefined);
  }

  // Nine nodes under load.
  await nine();
}

async function nine(): Promise<void> {
  const staging: Staging = {
    pace: { pace: 1, fastFailover: true },
    election: null,
    paused: false,
    heard: new Map(),
  };
  const fake = createFakeDashboard({ nodes: 9 });
  const { api, pushes } = wrap(fake, staging);
  const server = await startWebServer({
    api,
    pushes,
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
      await context.addInitScript({ content: TAP_SOCKET });
      const page = await context.newPage();
      const off = pushes.onMessages((b) => {
        void page
          .evaluate(
            (m) => {
              (globalThis as unknown as { __topoInject?: (x: string) => void }).__topoInject?.(m);
            },
            JSON.stringify({ type: 'push', push: 'messages', payload: b }),
          )
          .catch(() => undefined);
      });
      await page.goto(`${server.url.split('#')[0]}#/topology`);
      while ((await fake.getView()).leader === 0) await sleep(100);
      await fake.startWorkload({
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
      off();
      await fake.stopWorkload();
      await context.close();
    }
  } finally {
    await browser.close();
    fake.dispose();
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
