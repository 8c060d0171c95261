/**
 * e2e-harness: what the Chromium end-to-end tests share: where screenshots go, whether Chromium
 * is there (it must be in CI), waiting with a deadline that names what it waited for, opening a
 * page (or a real cluster's dashboard in one: openClusterPage), moving between pages, and
 * stopping everything a test started — by pid too, so no node outlives a failed test.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { startDashboard, type LocalDashboard } from '../../main/cluster/dashboard';
import type { Supervisor } from '../../main/cluster/supervisor';
import { createSessionToken, startWebServer, type WebServer } from '../../main/web/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium';

/** root: the repository's folder. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** haveChromium: whether the browser binary exists; in CI its absence fails the run at once. */
export const haveChromium = existsSync(CHROMIUM_PATH);
if (!haveChromium && process.env.CI) {
  throw new Error(
    `Chromium is required in CI: ${CHROMIUM_PATH} not found (apt-get install -y chromium)`,
  );
}

/** shotsDir: test-results/<name>, made if missing, where a test's screenshots go. */
export function shotsDir(name: string): string {
  const dir = join(root, 'test-results', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * until calls `fn` every `everyMs` until it answers something truthy and returns that, or fails
 * after `ms` naming `what`.
 */
export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** openPage launches Chromium and opens `url` in a new page of the given size and scheme. */
export async function openPage(
  url: string,
  context: BrowserContextOptions = { viewport: { width: 1280, height: 800 } },
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const page = await (await browser.newContext(context)).newPage();
  await page.goto(url);
  return { browser, page };
}

/** nodePids: the pids of the supervisor's node processes that run now. */
export function nodePids(sup: Supervisor | undefined): number[] {
  if (!sup) return [];
  return [...sup.nodes.values()].map((m) => m.proc.pid).filter((p): p is number => p !== null);
}

/**
 * stopAll closes what a test opened, in order (browser, then each `close` — web server,
 * dashboard, cluster — each allowed to fail), then SIGKILLs every pid given (those of nodes that
 * ran, gathered before closing) and removes `dir`.
 */
export async function stopAll(options: {
  browser?: Browser;
  close: (() => Promise<unknown> | undefined)[];
  pids: number[];
  dir?: string;
}): Promise<void> {
  await options.browser?.close().catch(() => undefined);
  for (const close of options.close) await close()?.catch(() => undefined);
  for (const pid of options.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // stopped already
    }
  }
  if (options.dir) rmSync(options.dir, { recursive: true, force: true });
}

/**
 * ClusterPage: a real cluster of 3 node processes in a fresh temporary folder, its dashboard
 * served in browser mode, and a Chromium page open on it; `stop` closes all of it (stopAll).
 */
export interface ClusterPage {
  dir: string;
  local: LocalDashboard;
  server: WebServer;
  browser: Browser;
  page: Page;
  stop(): Promise<void>;
}

/**
 * openClusterPage starts a ClusterPage, its folder named after `prefix`; if any part fails to
 * start, what did start is stopped before the error is thrown.
 */
export async function openClusterPage(
  prefix: string,
  context?: BrowserContextOptions,
): Promise<ClusterPage> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let local: LocalDashboard | undefined;
  let server: WebServer | undefined;
  let browser: Browser | undefined;
  const stop = (): Promise<void> =>
    stopAll({
      browser,
      close: [() => server?.close(), () => local?.dispose()],
      pids: nodePids(local?.sup),
      dir,
    });
  try {
    local = await startDashboard({ dir, nodes: 3 });
    server = await startWebServer({
      api: local.api,
      pushes: local.api,
      port: 0,
      token: createSessionToken(),
      staticDir: join(root, 'out', 'renderer'),
    });
    const opened = await openPage(server.url, context);
    browser = opened.browser;
    return { dir, local, server, browser, page: opened.page, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** goTo shows the page at `#/<view>` and lets it settle. */
export async function goTo(page: Page, view: string): Promise<void> {
  await page.evaluate((v) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = v;
  }, view);
  await sleep(400);
}
