/**
 * throughput: closed-loop puts (16-byte keys, 128-byte values) at each concurrency level against
 * a fresh 3-member cluster of one system. Writers are spread over load threads and clients (see
 * runLevel in load.ts).
 */
import { startEtcd } from './etcd-cluster';
import type { NodeCommand } from '../../main/cluster/node-command';
import type { ClientSpec } from './clients';
import { runLevel, type LevelResult } from './load';
import { TIMING, clientEndpoints, nodePids, startRaftdeck } from './raftdeck-cluster';
import { isInterrupted } from './teardown';

export interface StageContext {
  root: string;
  quick: boolean;
  /** threads: load threads per level (--threads); undefined = automatic. */
  threads?: number;
  /** nodeCommand: how raftdeck nodes are started (undefined: from sources, through tsx). */
  nodeCommand?: NodeCommand;
  log: (line: string) => void;
}

export const LEVEL_HEADER =
  'system     conc     ops/s    p50 ms    p99 ms  errors  threads/clients  cpu % client/servers';

export function levelRow(r: LevelResult): string {
  return [
    r.system.padEnd(8),
    String(r.concurrency).padStart(6),
    String(r.opsPerSec).padStart(9),
    r.p50Ms.toFixed(2).padStart(9),
    r.p99Ms.toFixed(2).padStart(9),
    String(r.errors).padStart(7),
    `${r.threads}/${r.clients}`.padStart(16),
    `  ${r.clientCpu} / ${r.serverCpu}`,
  ].join(' ');
}

async function runLevels(
  ctx: StageContext,
  spec: ClientSpec,
  levels: number[],
  seconds: number,
  pids: () => number[],
): Promise<LevelResult[]> {
  const out: LevelResult[] = [];
  for (const c of levels) {
    if (isInterrupted()) break;
    const r = await runLevel(spec, c, seconds, pids, ctx.threads);
    out.push(r);
    ctx.log(levelRow(r));
  }
  return out;
}

export async function throughputRaftdeck(
  ctx: StageContext,
  levels: number[],
  seconds: number,
): Promise<LevelResult[]> {
  const c = await startRaftdeck(ctx, 'throughput-raftdeck');
  try {
    const spec: ClientSpec = { system: 'raftdeck', endpoints: clientEndpoints(c.sup) };
    return await runLevels(ctx, spec, levels, seconds, () => nodePids(c.sup));
  } finally {
    await c.stop();
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
): Promise<LevelResult[]> {
  const c = await startEtcd(ctx.root, 'throughput-etcd', TIMING);
  try {
    const leader = await c.etcd.leader();
    if (!leader) throw new Error('etcd cluster has no leader');
    const spec: ClientSpec = { system: 'etcd', endpoints: [leader.client] };
    return await runLevels(ctx, spec, levels, seconds, () => c.etcd.pids());
  } finally {
    await c.stop();
  }
}
