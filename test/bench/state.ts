/**
 * state: how raftdeck's cost grows with the size of its state. A 3-member cluster that snapshots
 * only on request (--snapshot-entries 0) is filled with `bytes` of state (16-byte keys, 256-byte
 * values), then:
 *  (a) every member takes a snapshot of that state with no load (the leader's is the figure); a
 *      put load at concurrency 16 runs twice, once alone and once while the leader writes a
 *      snapshot, and their ops/s and p99 are compared;
 *  (b) a 4th member is added (workflows.addNode) and catches up by InstallSnapshot; its rate is
 *      compared with the disk floor (sequential write + fdatasync on the same filesystem);
 *  (c) `walEntries` more puts (overwriting keys, so the state keeps its size) go into the WAL
 *      behind the followers' snapshots, and a follower is restarted: the time from its spawn to
 *      applied >= commit, with the node's own split (store load, state restore);
 *  (d) the RSS of every member for the state (per million keys, over an empty node's) and the
 *      idle RSS of the nodes of the fresh cluster before the fill.
 */
import { readFileSync } from 'node:fs';
import type { ClusterEvent } from '../../main/contract/view';
import { diskFloorMBps } from './floor';
import { fill, runLevel, type LevelResult } from './load';
import { rssMB, restartTimed, type Restart } from './recovery';
import {
  clientEndpoints,
  memberIds,
  nodePids,
  raftdeckPutter,
  startRaftdeck,
  statusOf,
  waitHealthy,
} from './raftdeck-cluster';
import { installOnNewMember, type SnapshotTrial } from './snapshot';
import { isInterrupted } from './teardown';
import type { StageContext } from './throughput';

/** STATE_VALUE_BYTES: the value size of the state stage (keys are 16 bytes). */
export const STATE_VALUE_BYTES = 256;
/** STATE_CONCURRENCY: the foreground put load measured beside a snapshot. */
export const STATE_CONCURRENCY = 16;

export interface StateResult {
  /** keys, stateBytes: what was written (stateBytes: key + value bytes, as the node counts). */
  keys: number;
  stateBytes: number;
  fillSeconds: number;
  /** snapshotBytes: the leader's image of that state; snapshotSeconds: writing it with no load. */
  snapshotBytes: number;
  snapshotSeconds: number;
  /** followerSnapshotSeconds: the same on each follower. */
  followerSnapshotSeconds: number[];
  /** foreground: the c=16 put load alone, and while the leader writes a snapshot. */
  foreground: { without: LevelResult; during: LevelResult; snapshotSeconds: number };
  /** install: one new member's catch-up by InstallSnapshot, and the disk floor beside it. */
  install: SnapshotTrial & { diskFloorMBps: number; floorRatio: number };
  /** restart: a follower with the snapshot and walEntries entries after it. */
  restart: Restart & { walEntries: number; snapshotIndex: number };
  /** rss: MB (2^20 bytes). emptyIdleMB: the largest node of the fresh cluster after 5 s idle. */
  rss: {
    emptyIdleMB: number;
    emptyIdleByNodeMB: number[];
    /**
     * emptyIdleSharedMB, emptyIdlePrivateMB: of the largest idle node's RSS, the pages it shares
     * with other processes (the node binary and libraries: the same pages for every member) and
     * its own (smaps_rollup: Shared_Clean + Shared_Dirty, Private_Clean + Private_Dirty).
     */
    emptyIdleSharedMB: number | null;
    emptyIdlePrivateMB: number | null;
    filledByNodeMB: number[];
    perMillionKeysMB: number;
    restartedMB: number;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round2 = (n: number): number => Number(n.toFixed(2));

/** MemorySplit is a process's RSS as pages shared with other processes and its own, in MB. */
export interface MemorySplit {
  rssMB: number;
  sharedMB: number;
  privateMB: number;
}

/** memorySplit reads /proc/<pid>/smaps_rollup (MB = 2^20 bytes); null where there is none. */
export function memorySplit(pid: number): MemorySplit | null {
  try {
    return parseSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  } catch {
    return null;
  }
}

/** parseSmapsRollup takes Rss, the shared and the private pages out of smaps_rollup's text. */
export function parseSmapsRollup(text: string): MemorySplit {
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  const mib = (k: number): number => Number((k / 1024).toFixed(1));
  return {
    rssMB: mib(kb('Rss')),
    sharedMB: mib(kb('Shared_Clean') + kb('Shared_Dirty')),
    privateMB: mib(kb('Private_Clean') + kb('Private_Dirty')),
  };
}

/** perMillionKeys: the RSS a million keys add, from the RSS with and without them. */
export function perMillionKeys(filledMB: number, emptyMB: number, keys: number): number {
  if (keys <= 0) return 0;
  return round2(((filledMB - emptyMB) * 1e6) / keys);
}

export async function stateStage(
  ctx: StageContext,
  bytes: number,
  walEntries: number,
  seconds: number,
): Promise<StateResult> {
  const c = await startRaftdeck(ctx, 'state-raftdeck', { snapshotEntries: 0 });
  const sup = c.sup;
  const events: ClusterEvent[] = [];
  const off = sup.onEvent((e) => {
    if (e.kind === 'snapshot') events.push(e);
  });
  const log = ctx.log;
  try {
    // (d) an empty node, idle
    const warm = raftdeckPutter(sup);
    await warm.put('idle-warmup', new Uint8Array(8));
    await warm.close();
    await sleep(5000);
    const emptyIdleByNodeMB = memberIds(sup).map((id) => rssMB(sup.get(id).proc.pid!));
    const emptyIdleMB = Math.max(...emptyIdleByNodeMB);
    const largest = memberIds(sup)[emptyIdleByNodeMB.indexOf(emptyIdleMB)]!;
    const split = memorySplit(sup.get(largest).proc.pid!);
    log(
      `  idle RSS of an empty node after 5 s: ${emptyIdleByNodeMB.join(', ')} MB${split ? ` (node ${largest}: ${split.sharedMB} MB shared with other processes, ${split.privateMB} MB its own)` : ''}`,
    );

    // the fill
    const keys = Math.max(1, Math.round(bytes / STATE_VALUE_BYTES));
    const t0 = performance.now();
    await fillKeys(ctx, sup, keys, 'filled');
    const fillSeconds = round2((performance.now() - t0) / 1000);
    await waitHealthy(sup, 120_000);
    const leader = sup.leaderId();
    const followers = memberIds(sup).filter((id) => id !== leader);
    const stateBytes = (await statusOf(sup, leader))?.kv.bytes ?? keys * (16 + STATE_VALUE_BYTES);
    const filledByNodeMB = memberIds(sup).map((id) => rssMB(sup.get(id).proc.pid!));
    log(
      `  filled ${keys.toLocaleString('en-US')} keys (${(stateBytes / 2 ** 20).toFixed(0)} MiB) in ${fillSeconds} s; RSS ${filledByNodeMB.join(', ')} MB`,
    );

    // (a) snapshot creation, idle: followers first (their snapshot is the restart's base)
    const followerSnapshotSeconds: number[] = [];
    const snapshotAt = new Map<number, number>();
    for (const id of followers) {
      const s = await timedSnapshot(sup, id);
      followerSnapshotSeconds.push(s.seconds);
      snapshotAt.set(id, s.index);
      log(`  node ${id} took a snapshot at ${s.index} in ${s.seconds} s (${mb(s.bytes)} MB)`);
    }
    const lead = await timedSnapshot(sup, leader);
    log(
      `  leader ${leader} took a snapshot at ${lead.index} in ${lead.seconds} s (${mb(lead.bytes)} MB)`,
    );

    // (a) the foreground load alone, then with a snapshot on the leader during it
    const spec = { system: 'raftdeck' as const, endpoints: clientEndpoints(sup) };
    const pids = (): number[] => nodePids(sup);
    const secs = Math.max(seconds, Math.ceil(lead.seconds) + 2);
    const without = await runLevel(spec, STATE_CONCURRENCY, secs, pids, ctx.threads);
    log(
      `  c=${STATE_CONCURRENCY} alone: ${without.opsPerSec} ops/s, p50 ${without.p50Ms} ms, p99 ${without.p99Ms} ms`,
    );
    const warmMs = Math.min(1000, secs * 200);
    const during = runLevel(spec, STATE_CONCURRENCY, secs, pids, ctx.threads);
    await sleep(warmMs + 300);
    const under = await timedSnapshot(sup, leader);
    const withSnap = await during;
    snapshotAt.set(leader, under.index);
    log(
      `  c=${STATE_CONCURRENCY} while the leader writes a snapshot (${under.seconds} s): ${withSnap.opsPerSec} ops/s, p50 ${withSnap.p50Ms} ms, p99 ${withSnap.p99Ms} ms`,
    );

    // (b) install on a new member, beside the disk floor of the same filesystem
    const floor = await diskFloorMBps(sup.dir);
    await waitHealthy(sup, 60_000);
    const trial = await installOnNewMember(sup, events);
    const floorRatio = round2(trial.mbPerSec / floor);
    log(
      `  install on a new member: ${mb(trial.bytes)} MB in ${trial.seconds.toFixed(2)} s = ${trial.mbPerSec} MB/s; disk floor ${floor} MB/s (${Math.round(floorRatio * 100)} %)`,
    );

    // (c) the WAL behind the followers' snapshots, then a follower's restart
    await waitHealthy(sup, 60_000);
    await fillKeys(ctx, sup, walEntries, 'wrote', walEntries);
    await waitHealthy(sup, 120_000);
    await sleep(1000);
    const target = memberIds(sup).find((id) => id !== sup.leaderId())!;
    const r = await restartTimed(sup, target);
    log(
      `  restart of node ${target} (snapshot + ${r.recovered ?? '?'} entries): ready after ${r.readySeconds} s, applied >= commit after ${r.caughtUpSeconds} s (store load ${r.loadMs ?? '?'} ms: snapshot file ${r.snapshotMs ?? '?'} ms, WAL ${r.walMs ?? '?'} ms; state restore ${r.restoreMs ?? '?'} ms)`,
    );
    await sleep(2000);
    const restartedMB = rssMB(sup.get(target).proc.pid!);
    const snapshotIndex = snapshotAt.get(target) ?? 0;
    return {
      keys,
      stateBytes,
      fillSeconds,
      snapshotBytes: lead.bytes,
      snapshotSeconds: lead.seconds,
      followerSnapshotSeconds,
      foreground: { without, during: withSnap, snapshotSeconds: under.seconds },
      install: { ...trial, diskFloorMBps: floor, floorRatio },
      restart: { ...r, walEntries, snapshotIndex },
      rss: {
        emptyIdleMB,
        emptyIdleByNodeMB,
        emptyIdleSharedMB: split?.sharedMB ?? null,
        emptyIdlePrivateMB: split?.privateMB ?? null,
        filledByNodeMB,
        perMillionKeysMB: perMillionKeys(Math.max(...filledByNodeMB), emptyIdleMB, keys),
        restartedMB,
      },
    };
  } finally {
    off();
    await c.stop();
  }
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

async function timedSnapshot(
  sup: StateCluster,
  id: number,
): Promise<{ index: number; bytes: number; seconds: number }> {
  const t0 = performance.now();
  const s = await sup.admin(id).call<{ index: number; bytes: number }>('snapshot');
  return { ...s, seconds: round2((performance.now() - t0) / 1000) };
}

type StateCluster = Awaited<ReturnType<typeof startRaftdeck>>['sup'];

/** fillKeys writes `count` keys f000…, STATE_VALUE_BYTES each (again: overwriting them). */
async function fillKeys(
  ctx: StageContext,
  sup: StateCluster,
  count: number,
  verb: string,
  of = count,
): Promise<void> {
  const putters = Array.from({ length: 4 }, () => raftdeckPutter(sup, { timeoutMs: 30_000 }));
  const t0 = performance.now();
  try {
    await fill(
      putters,
      count,
      STATE_VALUE_BYTES,
      256,
      (done) =>
        ctx.log(
          `  ${verb} ${done.toLocaleString('en-US')} of ${of.toLocaleString('en-US')} keys (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`,
        ),
      isInterrupted,
    );
  } finally {
    await Promise.all(putters.map((p) => p.close()));
  }
}

function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** stateSection renders the state stage as markdown. */
export function stateSection(s: StateResult): string {
  const f = s.foreground;
  const lvl = (l: LevelResult): string =>
    `${l.opsPerSec} ops/s, p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms`;
  const r = s.restart;
  const rows = [
    [
      'state',
      `${s.keys.toLocaleString('en-US')} keys of ${STATE_VALUE_BYTES} B (${(s.stateBytes / 2 ** 20).toFixed(0)} MiB of keys and values), written in ${s.fillSeconds} s`,
    ],
    [
      'snapshot creation (no load)',
      `${s.snapshotSeconds} s on the leader for ${mb(s.snapshotBytes)} MB; followers ${s.followerSnapshotSeconds.join(', ')} s`,
    ],
    [
      `put load at concurrency ${STATE_CONCURRENCY}`,
      `alone: ${lvl(f.without)}; while the leader writes a snapshot (${f.snapshotSeconds} s): ${lvl(f.during)}`,
    ],
    [
      'install on a new member',
      `${s.install.mbPerSec} MB/s (${mb(s.install.bytes)} MB in ${s.install.seconds.toFixed(2)} s, ${s.install.chunks} chunks); disk floor ${s.install.diskFloorMBps} MB/s: ${Math.round(s.install.floorRatio * 100)} %; installed after ${s.install.installSeconds === null ? '?' : s.install.installSeconds.toFixed(2)} s; add-node workflow ${s.install.addNodeSeconds} s`,
    ],
    [
      `restart with the snapshot + ${r.walEntries.toLocaleString('en-US')} WAL entries`,
      `${r.caughtUpSeconds} s to applied ≥ commit (ready line after ${r.readySeconds} s; ${r.recovered?.toLocaleString('en-US') ?? '?'} entries recovered after the snapshot at ${r.snapshotIndex}); store load ${r.loadMs ?? '?'} ms (reading and checking the snapshot file ${r.snapshotMs ?? '?'} ms, reading and replaying the WAL ${r.walMs ?? '?'} ms), state restore ${r.restoreMs ?? '?'} ms, the rest (starting the process, applying the entries, catching up) ${r.loadMs !== null && r.restoreMs !== null ? `${(r.caughtUpSeconds - (r.loadMs + r.restoreMs) / 1000).toFixed(2)} s` : '?'}`,
    ],
    [
      'RSS',
      `empty node idle: ${s.rss.emptyIdleMB} MB (nodes: ${s.rss.emptyIdleByNodeMB.join(', ')}${s.rss.emptyIdleSharedMB === null ? '' : `; the largest: ${s.rss.emptyIdleSharedMB} MB shared with other processes, the node binary's pages mostly, and ${s.rss.emptyIdlePrivateMB} MB its own`}); filled: ${s.rss.filledByNodeMB.join(', ')} MB, ${s.rss.perMillionKeysMB} MB per million keys; restarted node ${s.rss.restartedMB} MB`,
    ],
  ];
  return `### State size (raftdeck)\n\n${mdTable(['figure', 'result'], rows)}`;
}
