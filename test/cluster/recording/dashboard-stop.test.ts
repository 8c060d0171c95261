/**
 * A cluster's stop is in its recording: the desktop app's and browser mode's dashboard
 * (startDashboard) keeps recording while the nodes stop and closes the recording after, so a
 * replay of the run ends with the cluster stopped, not with the last moment it ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../../main/cluster/dashboard';
import type { LocalDashboard } from '../../../main/cluster/dashboard';
import { RecordingDashboard } from '../../../main/cluster/recording/recording-dashboard';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-recstop-'));
let local: LocalDashboard | undefined;
const pids: number[] = [];

afterAll(async () => {
  await local?.dispose().catch(() => undefined);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // stopped already
    }
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('startDashboard records the cluster stopping', () => {
  it('a replay of the run ends with the cluster and its nodes stopped', async () => {
    local = await startDashboard({ dir, nodes: 1 });
    const sup = local.sup;
    for (const m of sup.nodes.values()) if (m.proc.pid !== null) pids.push(m.proc.pid);
    const end = Date.now() + 20_000;
    while (sup.view().leader === 0) {
      if (Date.now() > end) throw new Error('timed out waiting for the node to lead');
      await sleep(50);
    }
    await sleep(300); // a recorded stretch of it running
    await local.dispose();
    local = undefined;

    const replay = RecordingDashboard.open(dir);
    try {
      const last = await replay.getView();
      expect(last.state).toBe('stopped');
      expect(last.nodes.map((n) => n.process.state)).toEqual(['stopped']);
      const info = await replay.recordingInfo();
      const running = await replay.viewAt(info.from! + 1);
      expect(running.view?.state).not.toBe('stopped');
    } finally {
      await replay.close();
    }
  }, 40_000);
});
