/**
 * A recording written by a real cluster: three node processes under a workload, the leader
 * killed with SIGKILL, a new one elected. The dashboard records into the cluster's folder; the
 * recording is closed, opened again from disk (a new RecordingDashboard, as `raftdeck replay`
 * does), and the views the recording was given, sampled, equal viewAt at the same instants. The
 * record limit given to the supervisor is kept in cluster.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterDashboard } from '../../../main/cluster/dashboard';
import { openClusterRecording } from '../../../main/cluster/recording/cluster-recording';
import { FileRecording } from '../../../main/cluster/recording/file-recording';
import type { Recording } from '../../../main/cluster/recording/recording';
import { RecordingDashboard } from '../../../main/cluster/recording/recording-dashboard';
import type { ClusterView } from '../../../main/contract/view';
import { startCluster, type TestCluster } from '../cluster-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, ms: number, fn: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.teardown();
});

describe('a recording of a real cluster', () => {
  it('replays from disk what it was given, across a workload and a kill -9 of the leader', async () => {
    cluster = await startCluster('recording', { recordLimitMiB: 64 });
    expect(JSON.parse(readFileSync(join(cluster.dir, 'cluster.json'), 'utf8')).recordLimitMiB).toBe(
      64,
    );
    const file = openClusterRecording(cluster.engine);
    expect(file).toBeInstanceOf(FileRecording);
    // what the recording is given, copied when it is given
    const given: ClusterView[] = [];
    const tap: Recording = {
      addView: (v) => {
        given.push(structuredClone(v));
        file.addView(v);
      },
      addEvent: (e) => file.addEvent(e),
      addMessages: (b, t) => file.addMessages(b, t),
      info: () => file.info(),
      viewAt: (t) => file.viewAt(t),
      events: (f, t, l) => file.events(f, t, l),
      messages: (f, t, l) => file.messages(f, t, l),
      close: () => file.close(),
    };
    const api = new ClusterDashboard(cluster.engine, tap);
    let latest: ClusterView = await api.getView();
    const off = api.onView((v) => (latest = v));
    try {
      await waitFor('a leader', 20_000, () => latest.leader !== 0);
      await api.startWorkload({
        clients: 2,
        rate: 100,
        keys: 10,
        readRatio: 0.3,
        casRatio: 0.1,
        valueBytes: 16,
        seconds: 0,
      });
      await waitFor('workload samples', 20_000, () => (latest.workload?.totals.ok ?? 0) > 20);
      const old = latest.leader;
      await api.killNode(old);
      const killedAt = Date.now();
      await waitFor(
        `a leader other than ${old}`,
        20_000,
        () => latest.leader !== 0 && latest.leader !== old,
      );
      await sleep(1000);
      await api.stopWorkload();
      await sleep(300);
      off();
      await api.close();

      expect(given.length).toBeGreaterThan(15);
      const info = await file.info();
      expect(info.recording).toBe(false);
      expect(info.limitBytes).toBe(64 << 20);
      expect(info.notes).toEqual([]);

      // opened again from disk, with no cluster
      const replay = RecordingDashboard.open(cluster.dir);
      const sample = given.filter((_, i) => i % 5 === 0 || i === given.length - 1);
      for (const v of sample) {
        const at = await replay.viewAt(v.now);
        expect(at.viewTime).toBe(v.now);
        expect(at.view).toEqual(v);
      }
      // just before the kill the old leader leads; at the end another one does
      const before = (await replay.viewAt(killedAt - 1)).view!;
      expect(before.leader).toBe(old);
      expect(before.nodes.find((n) => n.id === old)?.process.state).toBe('running');
      const end = (await replay.viewAt(given.at(-1)!.now)).view!;
      expect(end.leader).not.toBe(old);
      expect(end.leader).not.toBe(0);
      expect(await replay.getView()).toEqual(given.at(-1));
      const events = await replay.recordedEvents(killedAt - 1000, Date.now(), 1000);
      expect(
        events.some((e) => e.kind === 'fault' && e.node === old && /kill -9/.test(e.message)),
      ).toBe(true);
      expect(events.some((e) => e.kind === 'leader')).toBe(true);
      const traces = await replay.recordedMessages(killedAt - 1000, Date.now(), 10_000);
      expect(traces.some((t) => t.type === 'vote' || t.type === 'pre-vote')).toBe(true);
    } finally {
      off();
      await api.close().catch(() => undefined);
    }
  }, 90_000);
});
