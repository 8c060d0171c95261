/**
 * raftdeck-cluster starts a raftdeck cluster for the benchmark through the Supervisor (real node
 * processes, fsync on), registers it for teardown, and waits for it to be healthy.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectAdmin } from '../../main/cluster/admin-link';
import type { NodeCommand } from '../../main/cluster/node-command';
import { Supervisor } from '../../main/cluster/supervisor';
import type { KvClientOptions } from '../../main/node/client';
import type { NodeStatus } from '../../main/node/node-api';
import type { NodeId } from '../../main/raft/types';
import { openPutter } from './clients';
import type { Putter } from './load';
import { onTeardown, trackPids } from './teardown';

export const TIMING = { tickMs: 10, heartbeatMs: 100, electionMs: 1000 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RaftdeckCluster {
  sup: Supervisor;
  /** stop stops the nodes and removes the cluster folder. */
  stop(): Promise<void>;
}

/** startRaftdeck starts `nodes` founding voters in ctx.root/name and waits until they are healthy. */
export async function startRaftdeck(
  ctx: { root: string; nodeCommand?: NodeCommand },
  name: string,
  opts: { nodes?: number; snapshotEntries?: number } = {},
): Promise<RaftdeckCluster> {
  const dir = join(ctx.root, name);
  const sup = new Supervisor({
    dir,
    nodes: opts.nodes ?? 3,
    timing: TIMING,
    snapshotEntries: opts.snapshotEntries,
    command: ctx.nodeCommand,
    connect: connectAdmin,
  });
  const untrack = trackPids(() => [...sup.nodes.values()].map((m) => m.proc.pid));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await sup.stop();
    untrack();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onTeardown(`raftdeck cluster ${name}`, stop);
  await sup.start();
  await waitHealthy(sup, 30_000);
  return {
    sup,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

/** memberIds: the ids of the nodes that are members (not removed). */
export function memberIds(sup: Supervisor): NodeId[] {
  return [...sup.nodes.values()].filter((m) => m.rec.state === 'member').map((m) => m.rec.id);
}

/**
 * waitHealthy waits until every member runs, reports a fresh status naming the same leader, and
 * is within the supervisor's lag threshold of the leader.
 */
export async function waitHealthy(sup: Supervisor, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const v = sup.view();
    const members = v.nodes.filter((n) => n.membership !== 'removed');
    if (
      v.leader !== 0 &&
      members.length > 0 &&
      members.every((n) => n.health === 'healthy' && n.raft?.leader === v.leader)
    )
      return;
    if (Date.now() > end) {
      const what = members.map((n) => `${n.id}: ${n.health}`).join(', ');
      throw new Error(`raftdeck cluster not healthy within ${ms / 1000} s (${what})`);
    }
    await sleep(50);
  }
}

/** statusOf asks a node for its status over the admin link (undefined if it cannot answer). */
export async function statusOf(sup: Supervisor, id: NodeId): Promise<NodeStatus | undefined> {
  try {
    return await sup.admin(id).call<NodeStatus>('status');
  } catch {
    return undefined;
  }
}

export function clientEndpoints(sup: Supervisor): string[] {
  return [...sup.nodes.values()].filter((m) => m.rec.state === 'member').map((m) => m.rec.client);
}

/** putter opens one KvClient (one pipelined connection per node) on the cluster. */
export function raftdeckPutter(sup: Supervisor, opts: Partial<KvClientOptions> = {}): Putter {
  return openPutter({ system: 'raftdeck', endpoints: clientEndpoints(sup) }, opts);
}

/** nodePids: the pids of the running member processes. */
export function nodePids(sup: Supervisor): number[] {
  return [...sup.nodes.values()].flatMap((m) => (m.proc.pid && m.proc.running ? [m.proc.pid] : []));
}
