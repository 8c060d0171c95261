/**
 * End-to-end: a recording opened without a cluster, in Chromium. One run of a real 3-node
 * cluster is recorded (its leader killed, a new one elected), stopped and exported to one file;
 * then, with no node running, that file is served as `raftdeck replay FILE` serves it: the page
 * replays from the recording's start, offers no way back to live, shows the old leader before the
 * kill and the new one after it, and nothing on it can change anything. Screenshots go to
 * test-results/e2e/replay-file-*.png.
 * Needs `npm run build` and /usr/bin/chromium (or CHROMIUM_PATH); run with `npm run test:e2e`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRecording } from '../../main/cli/commands/replay';
import type { ReplayServer } from '../../main/cli/commands/replay';
import { startDashboard } from '../../main/cluster/dashboard';
import type { LocalDashboard } from '../../main/cluster/dashboard';
import { exportRecording } from '../../main/cluster/recording/recording-reader';
import {
  haveChromium,
  nodePids,
  openPage,
  shotsDir,
  sleep,
  stopAll,
  until,
  root,
} from './e2e-harness';

const shots = shotsDir('e2e');

/** alive: whether a process with this pid still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
let local: LocalDashboard | undefined;
let pids: number[] = [];
let replay: ReplayServer | undefined;
let browser: Browser | undefined;
let page: Page;

/** The run that was recorded: who led before the kill and after it, and when. */
const run = { old: 0, fresh: 0, killedAt: 0, electedAt: 0 };

async function scrub(t: number): Promise<void> {
  await page.locator('[data-test=replay-slider]').evaluate((el, v) => {
    const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, t);
}

const topLeader = () => page.locator('[data-test=top-leader]').innerText();

describe.skipIf(!haveChromium)('a recording replayed in Chromium with no cluster running', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftdeck-e2e-replay-'));
    const cluster = join(dir, 'cluster');
    local = await startDashboard({ dir: cluster, nodes: 3 });
    const sup = local.sup;
    run.old = await until('a leader', () => sup.view().leader || undefined);
    await sleep(1200); // a stretch of recording under the first leader
    pids = nodePids(sup);
    run.killedAt = Date.now();
    await local.api.killNode(run.old);
    run.fresh = await until('a new leader', () => {
      const l = sup.view().leader;
      return l !== 0 && l !== run.old ? l : undefined;
    });
    run.electedAt = Date.now();
    await sleep(800);
    await local.dispose();
    local = undefined;
    await until('every node process gone', () => pids.every((p) => !alive(p)) || undefined);

    const file = join(dir, 'run.rdrec');
    const summary = exportRecording(cluster, file);
    expect(summary.segments).toBeGreaterThan(0);
    rmSync(cluster, { recursive: true, force: true }); // the file alone must do
    replay = await serveRecording({
      path: file,
      port: 0,
      staticDir: join(root, 'out', 'renderer'),
    });
    ({ browser, page } = await openPage(replay.server.url, {
      viewport: { width: 1440, height: 900 },
    }));
  }, 90_000);

  afterAll(async () => {
    await stopAll({
      browser,
      close: [() => replay?.close(), () => local?.dispose()],
      pids,
      dir,
    });
  }, 60_000);

  it('replays the run from its file: no way back to live, the old leader then the new one, nothing changeable', async () => {
    // It opens replaying, at the recording's start, with no "back to live".
    await until(
      'the page replaying the recording',
      async () => (await page.locator('[data-test=replay-state]').count()) === 1,
    );
    expect(await page.locator('[data-test=replay-state]').innerText()).toContain('recording');
    expect(await page.locator('[data-test=back-to-live]').count()).toBe(0);
    expect(await page.locator('[data-test=top-conn]').count()).toBe(0);
    expect(await page.locator('[data-test=top-replaying]').count()).toBe(1);

    await scrub(run.killedAt - 500);
    await until('the first leader on the top bar', async () =>
      (await topLeader()).includes(`node ${run.old}`),
    );
    await page.screenshot({ path: join(shots, 'replay-file-1-before-kill.png') });

    await scrub(run.electedAt + 300);
    await until('the second leader on the top bar', async () =>
      (await topLeader()).includes(`node ${run.fresh}`),
    );
    await page.locator('nav [data-page="faults"]').click();
    const kill = page.locator(`[data-action="kill-${run.fresh}"]`);
    await kill.waitFor();
    expect(await kill.isDisabled()).toBe(true);
    await page.screenshot({ path: join(shots, 'replay-file-2-after-election.png') });

    // The server refuses a change even when asked directly, naming the file.
    await expect(replay!.dashboard.killNode(run.fresh)).rejects.toThrow(
      /is a recording: nothing can be changed/,
    );
  }, 60_000);
});
