/**
 * e2e-harness: what the Chromium end-to-end tests share: where screenshots go, whether Chromium
 * is there (it must be in CI), waiting with a deadline that names what it waited for, opening a
 * page, and stopping everything a test started — by pid too, so no node outlives a failed test.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { Supervisor } from '../../main/cluster/supervisor';
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
