/**
 * recovery: the idle RSS of the nodes of a fresh 3-node raftdeck cluster, and the restart time of
 * a follower whose WAL holds `entries` entries. Snapshots are off (--snapshot-entries 0), so every
 * entry written through the cluster stays in the WAL. The follower is stopped gracefully and
 * started again; its restart time runs from the spawn to (a) its ready line and (b) its status
 * reporting applied >= the commit index the leader had when it was stopped.
 */
import { readFileSync } from 'node:fs';
import type { Supervisor } from '../../main/cluster/supervisor';
import type { NodeId } from '../../main/raft/types';
import { fill, VALUE_BYTES } from './load';
import {
  memberIds,
  raftdeckPutter,
  startRaftdeck,
  statusOf,
  waitHealthy,
} from './raftdeck-cluster';
import { isInterrupted } from './teardown';
import type { StageContext } from './throughput';

export interface RecoveryResult {
  entries: number;
  /** recoveredEntries: what the node said it recovered from its WAL on the timed restart. */
  recoveredEntries: number | null;
  readySeconds: number;
  caughtUpSeconds: number;
  /** emptyReadySeconds: the same restart before the fill (the fixed cost of starting a node). */
  emptyReadySeconds: number;
  idleRssMB: number;
  idleRssByNodeMB: number[];
  /** rssAfterMB: the restarted node's RSS after 5 s idle with every entry in its WAL. */
  rssAfterMB: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round2 = (n: number): number => Number(n.toFixed(2));

/** rssMB reads VmRSS of a process from /proc (MB = 2^20 bytes, as the kernel's kB are KiB). */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number((Number(kb) / 1024).toFixed(1));
}

/** Restart is one timed restart; loadMs and restoreMs are what the node reported, if it did. */
export interface Restart {
  readySeconds: number;
  caughtUpSeconds: number;
  recovered: number | null;
  loadMs: number | null;
  restoreMs: number | null;
  /** snapshotMs, walMs: of loadMs, the snapshot file and the WAL. */
  snapshotMs: number | null;
  walMs: number | null;
}

/** restartTimed stops node `id` gracefully and starts it again, timing ready and catch-up. */
export async function restartTimed(sup: Supervisor, id: NodeId): Promise<Restart> {
  await sup.stopNode(id);
  const leader = sup.leaderId();
  const ls = await statusOf(sup, leader);
  if (!ls) throw new Error(`leader ${leader} does not answer`);
  const commit = ls.commit;
  const m = sup.get(id);
  let readyAt = 0;
  const onState = (s: string): void => {
    if (s === 'running' && readyAt === 0) readyAt = performance.now();
  };
  let recovered: number | null = null;
  let loadMs: number | null = null;
  let restoreMs: number | null = null;
  let snapshotMs: number | null = null;
  let walMs: number | null = null;
  const off = sup.onEvent((e) => {
    const d = e.data as
      | {
          type?: string;
          recovered?: {
            entries: number;
            loadMs?: number;
            restoreMs?: number;
            snapshotMs?: number;
            walMs?: number;
          };
        }
      | undefined;
    if (e.node === id && d?.type === 'started' && d.recovered) {
      recovered = d.recovered.entries;
      loadMs = d.recovered.loadMs ?? null;
      restoreMs = d.recovered.restoreMs ?? null;
      snapshotMs = d.recovered.snapshotMs ?? null;
      walMs = d.recovered.walMs ?? null;
    }
  });
  m.proc.on('state', onState);
  // NodeProcess stamps startedAt (Date.now()) right after the spawn; measure from just before it.
  const spawnAt = performance.now();
  try {
    await sup.startNode(id);
    const end = Date.now() + 120_000;
    for (;;) {
      const s = await statusOf(sup, id);
      if (s && s.applied >= commit) break;
      if (Date.now() > end) throw new Error(`node ${id} did not catch up within 120 s`);
      await sleep(5);
    }
    const caughtAt = performance.now();
    // The 'started' event may arrive just after the status; give it a moment.
    for (let i = 0; i < 40 && recovered === null; i++) await sleep(25);
    return {
      readySeconds: round2((readyAt - spawnAt) / 1000),
      caughtUpSeconds: round2((caughtAt - spawnAt) / 1000),
      recovered,
      loadMs,
      restoreMs,
      snapshotMs,
      walMs,
    };
  } finally {
    m.proc.off('state', onState);
    off();
  }
}

export async function recovery(ctx: StageContext, entries: number): Promise<RecoveryResult> {
  const c = await startRaftdeck(ctx, 'recovery-raftdeck', { snapshotEntries: 0 });
  const sup = c.sup;
  try {
    const warm = raftdeckPutter(sup);
    await warm.put('idle-warmup', new Uint8Array(8));
    await warm.close();
    await sleep(5000);
    const pids = memberIds(sup).map((id) => sup.get(id).proc.pid!);
    const idleRssByNodeMB = pids.map(rssMB);
    const idleRssMB = Math.max(...idleRssByNodeMB);
    ctx.log(`  idle RSS after 5 s: ${idleRssByNodeMB.map((r) => `${r} MB`).join(', ')}`);

    const leader = sup.leaderId();
    const follower = memberIds(sup).find((id) => id !== leader)!;
    const empty = await restartTimed(sup, follower);
    ctx.log(`  restart of node ${follower} with an empty WAL: ready after ${empty.readySeconds} s`);
    await waitHealthy(sup, 30_000);

    const putters = Array.from({ length: 4 }, () => raftdeckPutter(sup, { timeoutMs: 30_000 }));
    const t0 = performance.now();
    try {
      await fill(
        putters,
        entries,
        VALUE_BYTES,
        256,
        (done) =>
          ctx.log(
            `  wrote ${done.toLocaleString('en-US')} of ${entries.toLocaleString('en-US')} entries (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`,
          ),
        isInterrupted,
      );
    } finally {
      await Promise.all(putters.map((p) => p.close()));
    }
    await waitHealthy(sup, 120_000);
    await sleep(1000);
    const target = memberIds(sup).find((id) => id !== sup.leaderId())!;
    const r = await restartTimed(sup, target);
    ctx.log(
      `  restart of node ${target} (${r.recovered ?? '?'} entries recovered): ready after ${r.readySeconds} s, applied >= commit after ${r.caughtUpSeconds} s`,
    );
    await sleep(5000);
    const rssAfterMB = rssMB(sup.get(target).proc.pid!);
    return {
      entries,
      recoveredEntries: r.recovered,
      readySeconds: r.readySeconds,
      caughtUpSeconds: r.caughtUpSeconds,
      emptyReadySeconds: empty.readySeconds,
      idleRssMB,
      idleRssByNodeMB,
      rssAfterMB,
    };
  } finally {
    await c.stop();
  }
}
