/**
 * throughput: closed-loop puts (16-byte keys, 128-byte values) at each concurrency level. The
 * floor system (floor.ts) and raftdeck run side by side: both clusters are started once and kept
 * up, and at each level they take turns (floor, raftdeck, floor, raftdeck, …) in short trials, so
 * that the machine's drift falls on both alike; the figures are the trials' medians
 * (combineTrials in load.ts). etcd runs after them, on a cluster of its own, one run per level.
 * Writers are spread over load threads and clients (see runLevel in load.ts).
 * The scale stage runs the same at one concurrency for clusters of several sizes.
 */
import { startEtcd } from './etcd-cluster';
import type { NodeCommand } from '../../main/cluster/node-command';
import type { ClientSpec } from './clients';
import { startFloor, type FloorCommand } from './floor';
import { combineTrials, runLevel, type LevelResult } from './load';
import { TIMING, clientEndpoints, nodePids, startRaftdeck } from './raftdeck-cluster';
import { isInterrupted } from './teardown';

export interface StageContext {
  root: string;
  quick: boolean;
  /** threads: load threads per level (--threads); undefined = automatic. */
  threads?: number;
  /** nodeCommand: how raftdeck nodes are started (undefined: from sources, through tsx). */
  nodeCommand?: NodeCommand;
  /** floorCommand: how floor processes are started (buildFloorBundle). */
  floorCommand?: FloorCommand;
  log: (line: string) => void;
}

export const LEVEL_HEADER =
  'system   members   conc     ops/s    p50 ms    p99 ms  errors  threads/clients  cpu % client/servers  server core-s  puts/core-s';

export function levelRow(r: LevelResult): string {
  return [
    r.system.padEnd(8),
    String(r.members).padStart(7),
    String(r.concurrency).padStart(6),
    String(r.opsPerSec).padStart(9),
    r.p50Ms.toFixed(2).padStart(9),
    r.p99Ms.toFixed(2).padStart(9),
    String(r.errors).padStart(7),
    `${r.threads}/${r.clients}`.padStart(16),
    `${r.clientCpu} / ${r.serverCpu}`.padStart(21),
    r.serverCpuCoreSeconds.toFixed(2).padStart(14),
    String(r.opsPerCoreSecond).padStart(12),
    r.trialsOpsPerSec ? `  trials ${r.trialsOpsPerSec.join(', ')} ops/s` : '',
  ].join(' ');
}

/** Target is one running cluster the load generator can drive. */
export interface Target {
  spec: ClientSpec;
  members: number;
  pids: () => number[];
}

/**
 * interleave runs, at each level, `trials` rounds in which every target takes one trial of
 * seconds/trials in turn, and returns one combined result per target and level (in level order,
 * the targets' order within a level). Each combined row is logged as it is done.
 */
export async function interleave(
  ctx: StageContext,
  targets: Target[],
  levels: number[],
  seconds: number,
  trials: number,
): Promise<LevelResult[]> {
  const out: LevelResult[] = [];
  const each = seconds / trials;
  for (const c of levels) {
    const done: LevelResult[][] = targets.map(() => []);
    for (let k = 0; k < trials && !isInterrupted(); k++) {
      for (const [i, t] of targets.entries()) {
        if (isInterrupted()) break;
        done[i]!.push(await runLevel(t.spec, c, each, t.pids, ctx.threads, 64, t.members));
      }
    }
    for (const d of done) {
      if (d.length === 0) continue;
      const r = combineTrials(d);
      out.push(r);
      ctx.log(levelRow(r));
    }
    if (isInterrupted()) break;
  }
  return out;
}

function floorCommand(ctx: StageContext): FloorCommand {
  if (!ctx.floorCommand) throw new Error('the floor system needs its bundle (buildFloorBundle)');
  return ctx.floorCommand;
}

/**
 * throughputFloorRaftdeck starts a floor cluster and a raftdeck cluster of `members` each and
 * runs them interleaved at every level; both stay up for the whole stage, one idle while the
 * other is measured.
 */
export async function throughputFloorRaftdeck(
  ctx: StageContext,
  levels: number[],
  seconds: number,
  trials: number,
  members = 3,
  name = 'throughput',
): Promise<LevelResult[]> {
  const floor = await startFloor(
    { root: ctx.root, floorCommand: floorCommand(ctx) },
    `${name}-floor`,
    members,
  );
  try {
    const rd = await startRaftdeck(ctx, `${name}-raftdeck`, { nodes: members });
    try {
      return await interleave(
        ctx,
        [
          { spec: { system: 'floor', endpoints: [floor.client] }, members, pids: floor.pids },
          {
            spec: { system: 'raftdeck', endpoints: clientEndpoints(rd.sup) },
            members,
            pids: () => nodePids(rd.sup),
          },
        ],
        levels,
        seconds,
        trials,
      );
    } finally {
      await rd.stop();
    }
  } finally {
    await floor.stop();
  }
}

/**
 * throughputEtcd: clients talk to the leader only, as raftdeck's client does once it has found
 * it (a follower would forward each proposal to the leader, one more hop per put).
 */
export async function throughputEtcd(
  ctx: StageContext,
  levels: number[],
  seconds: number,
  members = 3,
  name = 'throughput',
): Promise<LevelResult[]> {
  const c = await startEtcd(ctx.root, `${name}-etcd`, TIMING, members);
  try {
    const leader = await c.etcd.leader();
    if (!leader) throw new Error('etcd cluster has no leader');
    const spec: ClientSpec = { system: 'etcd', endpoints: [leader.client] };
    return await interleave(
      ctx,
      [{ spec, members, pids: () => c.etcd.pids() }],
      levels,
      seconds,
      1,
    );
  } finally {
    await c.stop();
  }
}

/**
 * scale runs the floor and raftdeck (interleaved) and then etcd (unless withEtcd is false, or it
 * fails: then the stage goes on without it) at one concurrency for each cluster size in turn, on
 * fresh clusters of that size.
 */
export async function scale(
  ctx: StageContext,
  sizes: number[],
  concurrency: number,
  seconds: number,
  trials: number,
  etcd: ((run: () => Promise<LevelResult[]>) => Promise<LevelResult[] | undefined>) | undefined,
): Promise<LevelResult[]> {
  const out: LevelResult[] = [];
  for (const n of sizes) {
    if (isInterrupted()) break;
    out.push(
      ...(await throughputFloorRaftdeck(ctx, [concurrency], seconds, trials, n, `scale-${n}`)),
    );
    if (etcd && !isInterrupted()) {
      const rows = await etcd(() => throughputEtcd(ctx, [concurrency], seconds, n, `scale-${n}`));
      out.push(...(rows ?? []));
    }
  }
  return out;
}
