/**
 * dashboard-bench: what the dashboard costs in Debian's Chromium, and how long it takes from
 * start to a leader on screen. Browser mode (main/web) serving the built renderer (out/renderer).
 *
 *   1. Renderer at scale: a lab cluster (main/lab/lab-dashboard.ts: the production Raft core on a
 *      simulated network, its virtual clock run at real time) of 9 nodes, pushing a view every
 *      100 ms (10 Hz) with a workload running, each page watched for
 *      `--seconds` at 1280×800. Main-thread time from the DevTools Protocol (Performance.getMetrics
 *      before and after), frame intervals from a requestAnimationFrame loop in the page, long
 *      tasks from a PerformanceObserver, and the CPU time of Chromium's processes from /proc.
 *      Pages: overview and replication, workload (the live charts), and topology at real time and
 *      slowed down 20 times (`topology@20`: messages held 200 ms, drawn in flight); `--pages`.
 *   2. Start to a leader on screen: startDashboard({ dir: a fresh temp dir, nodes: 3 }) spawns 3
 *      real node processes; then startWebServer and page.goto; the clock stops when the overview
 *      shows exactly one node card with the Leader badge (as test/e2e/dashboard.e2e.ts checks).
 *      `--runs` times with nodes run from sources (tsx, as `raftdeck serve` does) and as many with
 *      the built node bundle (out/main/node.js, as the desktop app does).
 *
 * Prints tables, writes test-results/dashboard-bench.json and appends a dated "Dashboard" section
 * to docs/benchmarks.md (unless --no-write). Needs `electron-vite build` and Chromium
 * (CHROMIUM_PATH, default /usr/bin/chromium). Everything listens on 127.0.0.1.
 *
 * Run: npm run bench:dashboard [-- --seconds 20 --runs 3 --only renderer,start --pages overview
 *      --no-write --doc other.md]
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, leaderOnScreen } from '../chromium';
import { format, resolveConfig } from 'prettier';
import { startDashboard } from '../../main/cluster/dashboard';
import type { LocalDashboard } from '../../main/cluster/dashboard';
import type { NodeCommand } from '../../main/cluster/node-command';
import { createLabDashboard, LAB_VIEW_MS } from '../../main/lab/lab-dashboard';
import { nodeLabHost } from '../../main/web/lab-host';
import { createSessionToken, startWebServer } from '../../main/web/server';

const root = fileURLToPath(new URL('../..', import.meta.url));
const staticDir = join(root, 'out', 'renderer');
const VIEWPORT = { width: 1280, height: 800 };
const LAB_NODES = 9;
const WARMUP_MS = 3000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- cleanup

/** Everything started is registered here and undone in reverse order, on success or failure. */
const cleanups: { what: string; fn: () => unknown }[] = [];
function onCleanup(what: string, fn: () => unknown): () => Promise<void> {
  const entry = { what, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await fn();
  };
}
async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const { what, fn } = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup: ${what}: ${(e as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------- statistics

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

// ---------------------------------------------------------------- Chromium process CPU (/proc)

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}

interface ProcCpu {
  /** CPU seconds (user + system) per Chromium process kind: browser, renderer, gpu-process, … */
  byKind: Map<string, number>;
}

function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/** descendants: the pids of this process's children, grandchildren, … with their parent. */
function processTable(): Map<number, number> {
  const ppids = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      ppids.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  return ppids;
}

function isMine(pid: number, ppids: Map<number, number>): boolean {
  let a = ppids.get(pid) ?? 0;
  for (let hops = 0; a > 1 && hops < 20; hops++) {
    if (a === process.pid) return true;
    a = ppids.get(a) ?? 0;
  }
  return false;
}

/** killStragglers: SIGKILL any process of ours still running with `dir` on its command line. */
function killStragglers(dir: string): void {
  const ppids = processTable();
  for (const pid of ppids.keys()) {
    if (!isMine(pid, ppids) || !cmdline(pid)?.includes(dir)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** chromiumCpu: the CPU time of every Chromium process descending from this one, by kind. */
function chromiumCpu(): ProcCpu {
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After "pid (comm) ": state ppid … utime is field 14 and stime 15 of the whole line.
      procs.set(Number(name), {
        ppid: Number(f[1]),
        cpu: (Number(f[11]) + Number(f[12])) / clockTicks,
      });
    } catch {
      // exited meanwhile
    }
  }
  const ppids = new Map([...procs].map(([pid, p]) => [pid, p.ppid]));
  const byKind = new Map<string, number>();
  for (const [pid, p] of procs) {
    if (!isMine(pid, ppids)) continue;
    const cmd = cmdline(pid);
    if (cmd === null || !/chrom/i.test(cmd.split(' ')[0] ?? '')) continue;
    const kind = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
    byKind.set(kind, (byKind.get(kind) ?? 0) + p.cpu);
  }
  return { byKind };
}

function cpuDelta(a: ProcCpu, b: ProcCpu): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b.byKind) out.set(k, v - (a.byKind.get(k) ?? 0));
  return out;
}

// ---------------------------------------------------------------- the page

/** The page's globals this bench installs; the Node-side lib has no DOM types, so typed here. */
interface BenchGlobals {
  __bench?: { frames: number[]; longTasks: number[]; on: boolean };
  __leaderSeenAt?: number;
  __cardsSeenAt?: number;
}

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  }
  // Signals are handled below, closing pages, servers and nodes before the browser.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
  });
  onCleanup('close Chromium', () => browser.close());
  return browser;
}

async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  // tsx compiles this file with esbuild's keepNames, which wraps the functions handed to the page
  // in __name(…); the page needs that helper too.
  await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('WebSocket connection'))
      console.error('console:', m.text());
  });
  return { context, page };
}

/**
 * watchForLeader runs in the page from its first script: every animation frame it applies the e2e
 * test's rule (node cards; exactly one with an element whose whole text is "Leader") and records
 * when it first held, so the time is the frame the leader was painted in, not the next poll.
 */
function watchForLeader(minCards: number): void {
  interface El {
    textContent: string | null;
    querySelectorAll(s: string): ArrayLike<El>;
  }
  const g = globalThis as unknown as BenchGlobals & {
    document: { querySelectorAll(s: string): ArrayLike<El> };
    requestAnimationFrame(cb: () => void): number;
  };
  const check = (): void => {
    const cards = Array.from(g.document.querySelectorAll('.card')).filter((c) =>
      /Node \d+/.test(c.textContent ?? ''),
    );
    if (cards.length >= minCards && g.__cardsSeenAt === undefined) g.__cardsSeenAt = Date.now();
    const leaders = cards.filter((c) =>
      Array.from(c.querySelectorAll('*')).some((e) => (e.textContent ?? '').trim() === 'Leader'),
    );
    if (cards.length >= minCards && leaders.length === 1) {
      g.__leaderSeenAt = Date.now();
      return;
    }
    g.requestAnimationFrame(check);
  };
  g.requestAnimationFrame(check);
}

// ---------------------------------------------------------------- 1. renderer at scale

interface PageResult {
  page: string;
  seconds: number;
  /** main-thread time (DevTools Performance metrics) in % of wall time */
  taskPct: number;
  scriptPct: number;
  layoutPct: number;
  stylePct: number;
  layouts: number;
  styleRecalcs: number;
  /** CPU of Chromium's renderer process(es) and of all its processes, % of one core (/proc) */
  rendererProcPct: number | null;
  chromiumPct: number | null;
  frames: number;
  fps: number;
  frameP50Ms: number;
  frameP99Ms: number;
  frameMaxMs: number;
  framesOver50: number;
  longTasks: number;
  longTaskMaxMs: number;
  viewsPerSec: number;
  viewKB: number;
  domNodes: number;
  heapMB: number;
  /** CPU of this Node process (lab cluster, web server, the bench), % of one core */
  serverPct: number;
}

type Metrics = Record<string, number>;

/** watchPage measures the page as it is for `seconds`: main thread, process CPU, frames, pushes. */
async function watchPage(
  page: Page,
  name: string,
  seconds: number,
  views: { count: number; bytes: number },
): Promise<PageResult> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  const metrics = async (): Promise<Metrics> => {
    const { metrics: list } = await cdp.send('Performance.getMetrics');
    return Object.fromEntries(list.map((m) => [m.name, m.value]));
  };
  await page.evaluate(() => {
    const g = globalThis as unknown as BenchGlobals & {
      requestAnimationFrame(cb: (t: number) => void): number;
      PerformanceObserver: new (cb: (list: { getEntries(): { duration: number }[] }) => void) => {
        observe(o: { type: string }): void;
      };
    };
    const b = { frames: [] as number[], longTasks: [] as number[], on: true };
    g.__bench = b;
    const loop = (t: number): void => {
      if (!b.on) return;
      b.frames.push(t);
      g.requestAnimationFrame(loop);
    };
    g.requestAnimationFrame(loop);
    try {
      new g.PerformanceObserver((list) => {
        if (b.on) for (const e of list.getEntries()) b.longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
    } catch {
      // no Long Tasks API
    }
  });
  const v0 = { ...views };
  const cpu0 = chromiumCpu();
  const own0 = process.cpuUsage();
  const m0 = await metrics();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const m1 = await metrics();
  const wall = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const cpu = cpuDelta(cpu0, chromiumCpu());
  const v1 = { ...views };
  const got = await page.evaluate(() => {
    const b = (globalThis as unknown as BenchGlobals).__bench!;
    b.on = false;
    return { frames: b.frames, longTasks: b.longTasks };
  });
  await cdp.detach().catch(() => undefined);

  const dt = m1.Timestamp! - m0.Timestamp!;
  const pct = (k: string) => round((100 * (m1[k]! - m0[k]!)) / dt);
  const intervals = got.frames.slice(1).map((t, i) => t - got.frames[i]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const renderer = cpu.get('renderer');
  const all = [...cpu.values()].reduce((a, b) => a + b, 0);
  const r: PageResult = {
    page: name,
    seconds: round(wall),
    taskPct: pct('TaskDuration'),
    scriptPct: pct('ScriptDuration'),
    layoutPct: pct('LayoutDuration'),
    stylePct: pct('RecalcStyleDuration'),
    layouts: m1.LayoutCount! - m0.LayoutCount!,
    styleRecalcs: m1.RecalcStyleCount! - m0.RecalcStyleCount!,
    rendererProcPct: renderer === undefined ? null : round((100 * renderer) / wall),
    chromiumPct: cpu.size === 0 ? null : round((100 * all) / wall),
    frames: got.frames.length,
    fps: round(intervals.length / (intervals.reduce((a, b) => a + b, 0) / 1000)),
    frameP50Ms: round(quantile(sorted, 0.5)),
    frameP99Ms: round(quantile(sorted, 0.99)),
    frameMaxMs: round(sorted.at(-1) ?? NaN),
    framesOver50: intervals.filter((x) => x > 50).length,
    longTasks: got.longTasks.length,
    longTaskMaxMs: round(Math.max(0, ...got.longTasks)),
    viewsPerSec: round((v1.count - v0.count) / wall),
    viewKB: round((v1.bytes - v0.bytes) / Math.max(1, v1.count - v0.count) / 1024),
    domNodes: m1.Nodes ?? 0,
    heapMB: round((m1.JSHeapUsedSize ?? 0) / 2 ** 20),
    serverPct: round((100 * (own.user + own.system)) / 1e6 / wall),
  };
  console.log(
    `  ${name}: main thread ${r.taskPct}% · frames p50 ${r.frameP50Ms} ms p99 ${r.frameP99Ms} ms`,
  );
  return r;
}

/** baseline: the same measurement on a blank page: what the frame loop itself costs. */
async function measureBaseline(browser: Browser, seconds: number): Promise<PageResult> {
  const { context, page } = await newPage(browser);
  const closePage = onCleanup('close the blank page', () => context.close());
  await page.setContent('<!doctype html><title>blank</title><p>blank</p>');
  await sleep(1000);
  const r = await watchPage(page, 'blank page', seconds, { count: 0, bytes: 0 });
  await closePage();
  return r;
}

async function measureRenderer(
  browser: Browser,
  pages: string[],
  seconds: number,
): Promise<PageResult[]> {
  const lab = createLabDashboard({ seed: 9, nodes: LAB_NODES, host: nodeLabHost() });
  const disposeLab = onCleanup('dispose the lab cluster', () => lab.dispose());
  const server = await startWebServer({
    api: lab,
    pushes: lab,
    port: 0,
    token: createSessionToken(),
    staticDir,
  });
  const closeServer = onCleanup('close the lab web server', () => server.close());
  const { context, page } = await newPage(browser);
  const closePage = onCleanup('close the renderer page', () => context.close());

  const views = { count: 0, bytes: 0 };
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      if (typeof f.payload === 'string' && f.payload.startsWith('{"type":"push","push":"view"')) {
        views.count++;
        views.bytes += Buffer.byteLength(f.payload);
      }
    }),
  );

  await page.goto(`${server.url}#overview`);
  const end = Date.now() + 20_000;
  for (;;) {
    const cards = await page.locator('.card', { hasText: /Node \d+/ }).count();
    if (cards >= LAB_NODES && (await leaderOnScreen(page)).length === 1) break;
    if (Date.now() > end) throw new Error(`${LAB_NODES} nodes and a leader did not show up`);
    await sleep(100);
  }
  await lab.startWorkload({
    clients: 8,
    rate: 300,
    keys: 32,
    readRatio: 0.5,
    casRatio: 0.1,
    valueBytes: 32,
    seconds: 0,
  });

  const results: PageResult[] = [];
  for (const name of pages) {
    // "topology@20": the page with the cluster slowed down 20 times (fast failover off).
    const [hash, at] = name.split('@') as [string, string | undefined];
    const pace = at === undefined ? 1 : Number(at);
    if (!Number.isInteger(pace) || pace < 1) throw new Error(`bad pace in page "${name}"`);
    await lab.setPace(pace, pace === 1);
    await page.evaluate((v) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = v;
    }, hash);
    await sleep(WARMUP_MS);
    results.push(await watchPage(page, name, seconds, views));
  }
  await lab.stopWorkload().catch(() => undefined);
  await closePage();
  await closeServer();
  await disposeLab();
  return results;
}

// ---------------------------------------------------------------- 2. start to a leader on screen

interface StartRun {
  nodes: 'sources' | 'bundle';
  /** all in ms from the startDashboard call */
  totalMs: number;
  nodeStartMs: number;
  electionMs: number;
  renderMs: number;
  /** the page loaded (goto resolved) and the 3 node cards first painted, for reference */
  pageLoadedAt: number;
  cardsAt: number;
  leader: number;
}

async function startRun(browser: Browser, command: NodeCommand | undefined): Promise<StartRun> {
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-dash-bench-'));
  const removeDir = onCleanup('remove the data dir', () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const held: { local?: LocalDashboard } = {};
  // dispose() stops the nodes; anything still running with this data dir is killed after it,
  // also when startDashboard itself failed half-way.
  const stopNodes = onCleanup('stop the nodes', async () => {
    await held.local?.dispose();
    killStragglers(dir);
  });

  const t0 = Date.now();
  const local = await startDashboard({ dir, nodes: 3, command });
  held.local = local;
  const tNodes = Date.now();
  let tLeader = local.sup.view().leader !== 0 ? tNodes : 0;
  const off = local.sup.onView((v) => {
    if (tLeader === 0 && v.leader !== 0) tLeader = Date.now();
  });
  const server = await startWebServer({
    api: local.api,
    pushes: local.api,
    port: 0,
    token: createSessionToken(),
    staticDir,
  });
  const closeServer = onCleanup('close the web server', () => server.close());
  const { context, page } = await newPage(browser);
  const closePage = onCleanup('close the page', () => context.close());
  await context.addInitScript(watchForLeader, 3);
  await page.goto(`${server.url}#overview`);
  const tGoto = Date.now();
  await page.waitForFunction(
    () => (globalThis as unknown as BenchGlobals).__leaderSeenAt !== undefined,
    null,
    { timeout: 30_000 },
  );
  const seen = await page.evaluate(() => {
    const g = globalThis as unknown as BenchGlobals;
    return { leaderAt: g.__leaderSeenAt!, cardsAt: g.__cardsSeenAt ?? NaN };
  });
  off();
  // The same check as the e2e test, through Playwright's locators, and against the supervisor.
  const onScreen = await leaderOnScreen(page);
  const leader = local.sup.view().leader;
  if (onScreen.length !== 1 || onScreen[0] !== leader) {
    throw new Error(`leader on screen ${JSON.stringify(onScreen)}, supervisor says ${leader}`);
  }
  if (tLeader === 0) tLeader = seen.leaderAt;

  await closePage();
  await closeServer();
  await stopNodes();
  await removeDir();
  return {
    nodes: command ? 'bundle' : 'sources',
    totalMs: seen.leaderAt - t0,
    nodeStartMs: tNodes - t0,
    electionMs: tLeader - tNodes,
    renderMs: seen.leaderAt - tLeader,
    pageLoadedAt: tGoto - t0,
    cardsAt: seen.cardsAt - t0,
    leader,
  };
}

async function measureStart(browser: Browser, runs: number): Promise<StartRun[]> {
  const out: StartRun[] = [];
  const bundle = join(root, 'out', 'main', 'node.js');
  const variants: (NodeCommand | undefined)[] = [undefined];
  if (existsSync(bundle)) variants.push({ exe: process.execPath, args: [bundle], env: {} });
  for (const command of variants) {
    for (let i = 0; i < runs; i++) {
      const r = await startRun(browser, command);
      console.log(
        `  ${r.nodes} #${i + 1}: ${r.totalMs} ms (nodes ${r.nodeStartMs}, election ${r.electionMs}, render ${r.renderMs})`,
      );
      out.push(r);
    }
  }
  return out;
}

// ---------------------------------------------------------------- report

function machine() {
  const c = cpus();
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) os = `${pretty[1]} (${os})`;
  } catch {
    // not Linux
  }
  let chromiumVersion = 'unknown';
  try {
    chromiumVersion = execFileSync(CHROMIUM_PATH, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    // leave unknown
  }
  return {
    cpus: c.length,
    model: c[0]?.model.trim() ?? 'unknown',
    memGB: round(totalmem() / 2 ** 30),
    os,
    node: process.version,
    chromium: chromiumVersion,
    loadAvg: round(loadavg()[0]!, 2),
  };
}

function commit(): { commit: string; dirty: boolean } {
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
    return {
      commit: git(['rev-parse', '--short', 'HEAD']).trim(),
      dirty: git(['status', '--porcelain', '--untracked-files=no']).trim() !== '',
    };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padStart(w[i]!)).join('  ')).join('\n');
}

function mdTable(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const na = (x: number | null) => (x === null ? '—' : String(x));

const CPU_HEAD = [
  'page',
  'main thread %',
  'script %',
  'layout %',
  'style %',
  'renderer proc %',
  'Chromium %',
  'server %',
  'views/s',
  'KB/view',
];
const cpuRows = (rs: PageResult[]) =>
  rs.map((r) => [
    r.page,
    r.taskPct,
    r.scriptPct,
    r.layoutPct,
    r.stylePct,
    na(r.rendererProcPct),
    na(r.chromiumPct),
    r.serverPct,
    r.viewsPerSec,
    r.viewKB,
  ]);
const FRAME_HEAD = [
  'page',
  'fps',
  'frame p50 ms',
  'frame p99 ms',
  'frame max ms',
  'frames > 50 ms',
  'long tasks',
  'DOM nodes',
  'JS heap MB',
];
const frameRows = (rs: PageResult[]) =>
  rs.map((r) => [
    r.page,
    r.fps,
    r.frameP50Ms,
    r.frameP99Ms,
    r.frameMaxMs,
    `${r.framesOver50} of ${r.frames}`,
    r.longTasks,
    r.domNodes,
    r.heapMB,
  ]);

/** summary: one sentence on the worst page, against the blank page. */
function summary(rs: PageResult[]): string {
  const base = rs.find((r) => r.page === 'blank page');
  const pages = rs.filter((r) => r !== base);
  if (pages.length === 0) return '';
  const worst = pages.reduce((a, b) => (b.taskPct > a.taskPct ? b : a));
  const over = pages.reduce((n, r) => n + r.framesOver50, 0);
  const frames = pages.reduce((n, r) => n + r.frames, 0);
  return (
    `Busiest page: ${worst.page}, main thread ${worst.taskPct}% of wall time` +
    (base ? ` (${round(worst.taskPct - base.taskPct)} points above the blank page)` : '') +
    `, renderer process ${na(worst.rendererProcPct)}% of a core. ` +
    `Frames over 50 ms on the dashboard pages: ${over} of ${frames}; ` +
    `worst p99 frame interval ${Math.max(...pages.map((r) => r.frameP99Ms))} ms, ` +
    `longest frame ${Math.max(...pages.map((r) => r.frameMaxMs))} ms.`
  );
}

const START_HEAD = ['nodes', 'run', 'total', 'node start', 'election', 'to screen', 'page loaded'];
function startRows(rs: StartRun[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const kind of ['sources', 'bundle'] as const) {
    const k = rs.filter((r) => r.nodes === kind);
    if (k.length === 0) continue;
    k.forEach((r, i) =>
      rows.push([
        kind,
        String(i + 1),
        r.totalMs,
        r.nodeStartMs,
        r.electionMs,
        r.renderMs,
        r.pageLoadedAt,
      ]),
    );
    rows.push([
      kind,
      'median',
      median(k.map((r) => r.totalMs)),
      median(k.map((r) => r.nodeStartMs)),
      median(k.map((r) => r.electionMs)),
      median(k.map((r) => r.renderMs)),
      median(k.map((r) => r.pageLoadedAt)),
    ]);
  }
  return rows;
}

interface Report {
  date: string;
  machine: ReturnType<typeof machine>;
  commit: string;
  dirty: boolean;
  seconds: number;
  renderer: PageResult[];
  start: StartRun[];
}

function section(r: Report): string {
  const m = r.machine;
  const parts: string[] = [`## Dashboard — ${r.date.replace('T', ' ').slice(0, 16)} UTC`];
  parts.push(
    [
      `- Machine: ${m.cpus} × ${m.model}, ${m.memGB} GB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAvg} when the run started`,
      `- Browser: ${m.chromium}, headless, \`--disable-gpu\` (software compositing), 1280×800`,
      `- Commit: \`${r.commit}\`${r.dirty ? ' with uncommitted changes' : ''}`,
      '- Run: `npm run bench:dashboard` (test/bench/dashboard-bench.ts)',
    ].join('\n'),
  );
  if (r.renderer.length > 0) {
    parts.push(
      `### Renderer with ${LAB_NODES} nodes updating at 10 Hz\n\n` +
        `A lab cluster (main/lab/lab-dashboard.ts: the production Raft core on a simulated network, ` +
        `its virtual clock at real time) of ${LAB_NODES} nodes pushes a view every ` +
        `${LAB_VIEW_MS} ms while a workload (8 clients, 300 ops/s) runs, so indexes, lag and ` +
        `the log strips move on every view and the workload page's charts take a sample a ` +
        `second; each page (${r.renderer
          .filter((p) => p.page !== 'blank page')
          .map((p) => p.page)
          .join(', ')}) is watched for ${r.seconds} s after ${WARMUP_MS / 1000} s of warm-up. ` +
        'The blank page row is the same measurement of an empty page: the cost of the ' +
        'measuring frame loop itself, which keeps Chromium producing 60 frames a second. ' +
        'Main thread, script, layout and style are the ' +
        "renderer main thread's busy time in % of wall time (DevTools Protocol " +
        '`Performance.getMetrics`: TaskDuration, ScriptDuration, LayoutDuration, ' +
        "RecalcStyleDuration). Renderer proc and Chromium are CPU time from /proc: the page's " +
        'renderer process (all its threads) and all of Chromium (browser, renderer, GPU and ' +
        'utility processes), in % of one core. Frames are the intervals between ' +
        '`requestAnimationFrame` callbacks; long tasks are main-thread tasks over 50 ms ' +
        '(Long Tasks API). Server is this Node process (lab cluster, web server, the bench) in % ' +
        'of one core; views/s and KB/view are the view pushes the page received. DOM nodes and ' +
        'JS heap are read at the end of the window (DOM nodes include ones not yet collected).\n\n' +
        mdTable(CPU_HEAD, cpuRows(r.renderer)) +
        '\n\n' +
        mdTable(FRAME_HEAD, frameRows(r.renderer)) +
        '\n\n' +
        summary(r.renderer),
    );
  }
  if (r.start.length > 0) {
    parts.push(
      '### Start to a leader on screen (real cluster)\n\n' +
        'From the call to `startDashboard({ dir: fresh temp dir, nodes: 3 })` (3 real node ' +
        'processes) through `startWebServer` and `page.goto` until the overview shows exactly ' +
        "one node card with the Leader badge (the end-to-end test's rule, checked on every frame). " +
        'Chromium is already running; each run has a fresh data dir and a fresh browser context. ' +
        'In ms: node start is until `startDashboard` resolved (processes spawned, each reported ready and its admin link is up; status then streams at 20 Hz), ' +
        'election from then until the supervisor reports a leader, to screen from then until ' +
        'the leader was painted; page loaded is when `page.goto` resolved (in parallel with the ' +
        'election), measured from the start too. Nodes run from sources (`node --import tsx`, ' +
        'as `raftdeck serve` and the tests do) and from the build (`out/main/node.js`, which ' +
        "the desktop app runs with Electron's Node; here with plain Node). The median row takes " +
        "each column's median on its own, so its parts need not add up to its total.\n\n" +
        mdTable(START_HEAD, startRows(r.start)),
    );
  }
  return parts.join('\n\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      pages: { type: 'string', default: 'overview,replication,workload,topology,topology@20' },
      only: { type: 'string', default: 'renderer,start' },
      'no-write': { type: 'boolean', default: false },
      doc: { type: 'string', default: join(root, 'docs', 'benchmarks.md') },
    },
  });
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  const stages = values.only.split(',');
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error('no built renderer in out/renderer: run `npx electron-vite build` first');
  }
  const report: Report = {
    date: new Date().toISOString(),
    machine: machine(),
    ...commit(),
    seconds,
    renderer: [],
    start: [],
  };
  if (report.machine.loadAvg > 1) {
    console.warn(
      `note: load average ${report.machine.loadAvg}: other work on this machine skews the figures`,
    );
  }
  const browser = await launch();

  if (stages.includes('renderer')) {
    console.log(`renderer: ${LAB_NODES} lab nodes at 10 Hz, ${seconds} s per page`);
    report.renderer = [
      await measureBaseline(browser, seconds),
      ...(await measureRenderer(browser, values.pages.split(','), seconds)),
    ];
    console.log(`\n${table(CPU_HEAD, cpuRows(report.renderer))}\n`);
    console.log(`${table(FRAME_HEAD, frameRows(report.renderer))}\n`);
    console.log(`${summary(report.renderer)}\n`);
  }
  if (stages.includes('start')) {
    console.log(`start to a leader on screen: ${runs} runs per way of running the nodes`);
    report.start = await measureStart(browser, runs);
    console.log(`\n${table(START_HEAD, startRows(report.start))}\n`);
  }
  await cleanupAll();

  if (values['no-write']) return;
  mkdirSync(join(root, 'test-results'), { recursive: true });
  const json = join(root, 'test-results', 'dashboard-bench.json');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  // Append only: other benchmarks keep their own sections in the same file.
  const doc = values.doc;
  const md = await format(section(report), {
    ...(await resolveConfig(doc)),
    parser: 'markdown',
  });
  if (existsSync(doc)) {
    const sep = readFileSync(doc, 'utf8').endsWith('\n') ? '\n' : '\n\n';
    appendFileSync(doc, `${sep}${md}`);
  } else {
    writeFileSync(doc, `# Benchmarks\n\n${md}`);
  }
  console.log(`wrote ${json} and appended to ${doc}`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping everything the bench started`);
    setTimeout(() => process.exit(130), 20_000).unref();
    void cleanupAll().finally(() => process.exit(130));
  });
}

main()
  .then(
    () => 0,
    (err: unknown) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  });
