/**
 * snapshot: fill a 3-node raftdeck cluster (snapshots every 10,000 entries, so the leader compacts
 * its log) with `values` values of 1 KiB, take a fresh snapshot on the leader so it holds the
 * whole state, then add a 4th member (workflows.addNode). The new member can only catch up by
 * InstallSnapshot; its rate is the snapshot's size over the time from the leader's snapshot-send
 * event to its snapshot-sent event (every byte acknowledged by the new member). The member is
 * removed again (workflows.removeNode) and another one added, `trials` times in all; the figure
 * is the median trial, as one install takes well under a second and one run says little.
 */
import type { ClusterEvent } from '../../main/contract/view';
import type { Supervisor } from '../../main/cluster/supervisor';
import { addNode, removeNode } from '../../main/cluster/workflows';
import { fill } from './load';
import { memberIds, raftdeckPutter, startRaftdeck, waitHealthy } from './raftdeck-cluster';
import { isInterrupted } from './teardown';
import type { StageContext } from './throughput';

export const SNAPSHOT_VALUE_BYTES = 1024;

/** SnapshotTrial is one new member's install. */
export interface SnapshotTrial {
  mbPerSec: number;
  /** bytes: the snapshot's size. */
  bytes: number;
  index: number;
  /** seconds: snapshot-send to snapshot-sent on the leader. */
  seconds: number;
  /** installSeconds: snapshot-send on the leader to snapshot-installed on the new member. */
  installSeconds: number | null;
  chunks: number;
  retries: number;
  /** addNodeSeconds: the whole add-node workflow (spawn, learner, catch up, promote). */
  addNodeSeconds: number;
}

/** SnapshotResult is the median trial (by MB/s), with every trial's rate. */
export interface SnapshotResult extends SnapshotTrial {
  values: number;
  /** trialsMBps: the rate of each trial, in the order they ran. */
  trialsMBps: number[];
}

type SnapData = {
  type?: string;
  to?: number;
  index?: number;
  total?: number;
  time?: number;
  chunks?: number;
  retries?: number;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function snapshotTransfer(
  ctx: StageContext,
  values: number,
  trials: number,
): Promise<SnapshotResult> {
  const c = await startRaftdeck(ctx, 'snapshot-raftdeck');
  const sup = c.sup;
  const events: ClusterEvent[] = [];
  const off = sup.onEvent((e) => {
    if (e.kind === 'snapshot') events.push(e);
  });
  try {
    const putters = Array.from({ length: 4 }, () => raftdeckPutter(sup, { timeoutMs: 30_000 }));
    const t0 = performance.now();
    try {
      await fill(
        putters,
        values,
        SNAPSHOT_VALUE_BYTES,
        256,
        (done) =>
          ctx.log(
            `  filled ${done.toLocaleString('en-US')} of ${values.toLocaleString('en-US')} values (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`,
          ),
        isInterrupted,
      );
    } finally {
      await Promise.all(putters.map((p) => p.close()));
    }
    await waitHealthy(sup, 60_000);
    const leader = sup.leaderId();
    // Every member takes a fresh snapshot first (the call returns once it is saved), so that none
    // is still writing one of its own while the new member's install is timed.
    const others = memberIds(sup).filter((id) => id !== leader);
    await Promise.all(others.map((id) => sup.admin(id).call('snapshot')));
    const snap = await sup.admin(leader).call<{ index: number; bytes: number }>('snapshot');
    ctx.log(
      `  leader ${leader} took a snapshot at ${snap.index}: ${(snap.bytes / 1e6).toFixed(1)} MB`,
    );
    const done: SnapshotTrial[] = [];
    for (let k = 1; k <= trials && !isInterrupted(); k++) {
      const t = await installOnNewMember(sup, events);
      done.push(t);
      ctx.log(
        `  trial ${k}: ${(t.bytes / 1e6).toFixed(1)} MB in ${t.seconds.toFixed(2)} s = ${t.mbPerSec} MB/s (${t.chunks} chunks, ${t.retries} retries); installed after ${t.installSeconds?.toFixed(2) ?? '?'} s; add-node took ${t.addNodeSeconds} s`,
      );
    }
    if (done.length === 0) throw new Error('interrupted before the first install');
    const median = [...done].sort((a, b) => a.mbPerSec - b.mbPerSec)[(done.length - 1) >> 1];
    return { ...median, values, trialsMBps: done.map((t) => t.mbPerSec) };
  } finally {
    off();
    await c.stop();
  }
}

/**
 * installOnNewMember adds a member, times the snapshot sent to it from the leader's events, and
 * removes the member again (its process stopped, its data deleted), so the next trial starts
 * from the same three members.
 */
export async function installOnNewMember(
  sup: Supervisor,
  events: ClusterEvent[],
): Promise<SnapshotTrial> {
  const a0 = performance.now();
  const { wf, run } = await addNode(sup);
  const view = await run;
  const addNodeSeconds = (performance.now() - a0) / 1000;
  const id = wf.view.node;
  if (view.state !== 'done') throw new Error(`add-node failed: ${view.error ?? view.state}`);
  const data = events.map((e) => e.data as SnapData | undefined);
  const sent = data.filter((d) => d?.type === 'snapshot-sent' && d.to === id).pop();
  if (!sent) throw new Error(`no snapshot was sent to the new member ${id}`);
  const send = data.filter(
    (d) => d?.type === 'snapshot-send' && d.to === id && d.index === sent.index,
  )[0];
  if (!send) throw new Error(`no snapshot-send event for snapshot ${sent.index}`);
  const findInstalled = (): ClusterEvent | undefined =>
    events.find(
      (e) =>
        e.node === id &&
        (e.data as SnapData | undefined)?.type === 'snapshot-installed' &&
        (e.data as SnapData).index === sent.index,
    );
  // The new member reports the install once its state is restored, which may be after the
  // leader has its acknowledgement and the workflow is done.
  for (let i = 0; i < 100 && !findInstalled(); i++) await sleep(20);
  const installed = findInstalled();
  const seconds = Math.max(0.001, (sent.time! - send.time!) / 1000);
  const installAt = (installed?.data as SnapData | undefined)?.time;
  const removal = await removeNode(sup, id);
  const removed = await removal.run;
  if (removed.state !== 'done') {
    throw new Error(`removing member ${id} failed: ${removed.error ?? removed.state}`);
  }
  return {
    mbPerSec: Number((sent.total! / 1e6 / seconds).toFixed(1)),
    bytes: sent.total!,
    index: sent.index!,
    seconds,
    installSeconds: installAt === undefined ? null : (installAt - send.time!) / 1000,
    chunks: sent.chunks ?? 0,
    retries: sent.retries ?? 0,
    addNodeSeconds: Number(addNodeSeconds.toFixed(2)),
  };
}
