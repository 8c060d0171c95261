/**
 * timeline (npm run bench -- --timeline): where the time of one put goes at concurrency 1. A fresh
 * 3-node raftdeck cluster runs with the write path's stamps switched on (RAFTDECK_TIMELINE, see
 * main/node/put-timeline.ts); one client puts one key after another, stamping each put's send and
 * answer on the same monotonic clock; then every node's stamps are read over the admin link
 * (`timeline`) and joined with the client's by the write's clientId and sequence number (on the
 * leader) and by log index (on the follower whose acknowledgement made the quorum). Printed per
 * step: median and p90 in µs.
 */
import type { PutStamps } from '../../main/node/put-timeline';
import { nowMicros, TIMELINE_ENV } from '../../main/node/put-timeline';
import { KvClient } from '../../main/node/client';
import { percentile } from './load';
import { FloorClient } from './floor-client';
import { readFloorTimelines, startFloor } from './floor';
import type { FloorStamp } from './floor-node';
import {
  clientEndpoints,
  memberIds,
  startRaftdeck,
  type RaftdeckCluster,
} from './raftdeck-cluster';
import type { StageContext } from './throughput';

/** ClientStamp: one put as the client saw it (µs on the shared clock). */
export interface ClientStamp {
  seq: number;
  sent: number;
  received: number;
}

/** NodeStamps: what one node kept (its `timeline` read). */
export interface NodeStamps {
  node: number;
  stamps: PutStamps[];
}

/** STEPS: the steps of a put, in order, each from one stamp to a later one. */
export const STEPS = [
  'client send → leader receive',
  'leader receive → proposal',
  'proposal → follower receive',
  'follower receive → fsync done',
  'follower fsync → leader ack receive',
  'leader own fsync (proposal → done)',
  'ack → commit',
  'commit → apply',
  'apply → client receive',
  'total (client send → receive)',
] as const;

export type Step = (typeof STEPS)[number];

/** JoinedPut: one put's step durations (µs), with the nodes that saw it. */
export interface JoinedPut {
  seq: number;
  index: number;
  leader: number;
  follower: number;
  steps: Record<Step, number>;
}

/** LeaderMoments, FollowerMoments: the stamps a put's steps are measured between (µs). */
interface LeaderMoments {
  received: number;
  appended: number;
  synced: number;
  acked: number;
  committed: number;
}
interface FollowerMoments {
  appended: number;
  synced: number;
}

/**
 * stepsOf: a put's step durations from the client's stamps, the leader's and the acknowledging
 * follower's; `applied` is when the leader applied it (its commit where there is no state machine).
 */
function stepsOf(
  c: ClientStamp,
  L: LeaderMoments,
  f: FollowerMoments,
  applied: number,
): Record<Step, number> {
  return {
    'client send → leader receive': L.received - c.sent,
    'leader receive → proposal': L.appended - L.received,
    'proposal → follower receive': f.appended - L.appended,
    'follower receive → fsync done': f.synced - f.appended,
    'follower fsync → leader ack receive': L.acked - f.synced,
    'leader own fsync (proposal → done)': L.synced - L.appended,
    'ack → commit': L.committed - L.acked,
    'commit → apply': applied - L.committed,
    'apply → client receive': c.received - applied,
    'total (client send → receive)': c.received - c.sent,
  };
}

/**
 * joinTimeline joins the client's stamps with the nodes': a put's leader record is the one with
 * its clientId and seq (the node that proposed it), its follower record the one of the same index
 * and term on the node named by the leader's `ackFrom`. A put missing either, or a stamp in
 * either, is counted in `incomplete` and left out.
 */
export function joinTimeline(
  clientId: string,
  client: readonly ClientStamp[],
  nodes: readonly NodeStamps[],
): { puts: JoinedPut[]; incomplete: number } {
  const bySeq = new Map<number, { node: number; s: PutStamps }>();
  const byNodeIndex = new Map<string, PutStamps>();
  for (const n of nodes) {
    for (const s of n.stamps) {
      byNodeIndex.set(`${n.node}/${s.index}`, s);
      if (s.clientId === clientId && s.received > 0) bySeq.set(s.seq, { node: n.node, s });
    }
  }
  const puts: JoinedPut[] = [];
  let incomplete = 0;
  for (const c of client) {
    const l = bySeq.get(c.seq);
    const f = l && l.s.ackFrom > 0 ? byNodeIndex.get(`${l.s.ackFrom}/${l.s.index}`) : undefined;
    if (!l || !f || f.term !== l.s.term) {
      incomplete += 1;
      continue;
    }
    const L = l.s;
    const stamps = [L.received, L.appended, L.synced, L.acked, L.committed, L.applied];
    if (stamps.some((x) => x === 0) || f.appended === 0 || f.synced === 0) {
      incomplete += 1;
      continue;
    }
    puts.push({
      seq: c.seq,
      index: L.index,
      leader: l.node,
      follower: L.ackFrom,
      steps: stepsOf(c, L, f, L.applied),
    });
  }
  return { puts, incomplete };
}

/**
 * joinFloorTimeline joins the client's stamps of puts to the floor (`seq` is the put's index:
 * one client putting one key after another on a fresh floor cluster) with the members' stamps
 * (`nodes[0]` the leader's, `nodes[k]` member k + 1's), into the same steps as raftdeck's. The
 * floor has no state machine: its commit is its answer, so "commit → apply" is 0 and "apply →
 * client receive" runs from the answer.
 */
export function joinFloorTimeline(
  client: readonly ClientStamp[],
  nodes: readonly (readonly FloorStamp[])[],
): { puts: JoinedPut[]; incomplete: number } {
  const byIndex = nodes.map((list) => new Map(list.map((s) => [s.index, s])));
  const puts: JoinedPut[] = [];
  let incomplete = 0;
  for (const c of client) {
    const L = byIndex[0]?.get(c.seq);
    const f = L && L.ackFrom > 0 ? byIndex[L.ackFrom - 1]?.get(c.seq) : undefined;
    if (
      !L ||
      !f ||
      [L.received, L.appended, L.synced, L.acked, L.committed, f.appended, f.synced].some(
        (x) => x === 0,
      )
    ) {
      incomplete += 1;
      continue;
    }
    puts.push({
      seq: c.seq,
      index: c.seq,
      leader: 1,
      follower: L.ackFrom,
      steps: stepsOf(c, L, f, L.committed),
    });
  }
  return { puts, incomplete };
}

/** StepSummary: a step's median and 90th percentile over the joined puts (µs). */
export interface StepSummary {
  step: Step;
  p50: number;
  p90: number;
}

export function summarize(puts: readonly JoinedPut[]): StepSummary[] {
  return STEPS.map((step) => {
    const v = Float64Array.from(puts, (p) => p.steps[step]).sort();
    return { step, p50: percentile(v, 50), p90: percentile(v, 90) };
  });
}

/**
 * timelineTable prints the two summaries side by side (µs): the floor's and raftdeck's median,
 * raftdeck's time beyond the floor's, and both 90th percentiles.
 */
export function timelineTable(
  floor: readonly StepSummary[],
  raftdeck: readonly StepSummary[],
): string[] {
  const w = Math.max(...STEPS.map((s) => s.length));
  const cols = ['floor p50', 'raftdeck p50', 'beyond', 'floor p90', 'raftdeck p90'];
  const out = [`${'step (µs)'.padEnd(w)} ${cols.map((c) => c.padStart(12)).join(' ')}`];
  STEPS.forEach((step, i) => {
    const f = floor[i]!;
    const r = raftdeck[i]!;
    const cells = [f.p50, r.p50, r.p50 - f.p50, f.p90, r.p90].map((v) => v.toFixed(0).padStart(12));
    out.push(`${step.padEnd(w)} ${cells.join(' ')}`);
  });
  return out;
}

/** readStamps reads every stamp a node keeps, page by page. */
async function readStamps(
  call: (args: { from: number }) => Promise<{ size: number; stamps: PutStamps[] }>,
): Promise<PutStamps[]> {
  const out: PutStamps[] = [];
  let from = 0;
  for (;;) {
    const r = await call({ from });
    out.push(...r.stamps);
    if (r.stamps.length === 0 || out.length >= r.size) return out;
    from = r.stamps.at(-1)!.index + 1;
  }
}

/** TIMELINE_WARMUP: puts made before the measured ones (connections, JIT). */
const TIMELINE_WARMUP = 300;
/** TIMELINE_ROUNDS: blocks the measured puts are cut into, floor and raftdeck alternating. */
const TIMELINE_ROUNDS = 4;

export interface TimelineResult {
  floor: StepSummary[];
  raftdeck: StepSummary[];
  joined: { floor: number; raftdeck: number };
  incomplete: { floor: number; raftdeck: number };
}

/**
 * timelineStage puts `puts` keys at concurrency 1 on a fresh 3-member floor cluster and a fresh
 * 3-node raftdeck cluster, both with their stamps on, in TIMELINE_ROUNDS alternating blocks (so
 * that the machine's drift falls on both alike), prints the two timelines side by side and
 * returns them.
 */
export async function timelineStage(ctx: StageContext, puts: number): Promise<TimelineResult> {
  if (!ctx.floorCommand) throw new Error('the timeline needs the floor bundle (buildFloorBundle)');
  const keep = Math.min(65_536, 2 * (puts + TIMELINE_WARMUP) + 1024);
  const base = ctx.nodeCommand;
  const nodeCommand = base && { ...base, env: { ...base.env, [TIMELINE_ENV]: String(keep) } };
  const prev = process.env[TIMELINE_ENV];
  // Nodes started from sources inherit this process's environment.
  if (!nodeCommand) process.env[TIMELINE_ENV] = String(keep);
  const floor = await startFloor(
    { root: ctx.root, floorCommand: ctx.floorCommand },
    'timeline-floor',
    3,
    { timeline: keep },
  );
  let cluster: RaftdeckCluster | undefined;
  let kv: KvClient | undefined;
  const fc = new FloorClient(floor.client);
  try {
    try {
      cluster = await startRaftdeck({ root: ctx.root, nodeCommand }, 'timeline');
    } finally {
      if (!nodeCommand) {
        if (prev === undefined) delete process.env[TIMELINE_ENV];
        else process.env[TIMELINE_ENV] = prev;
      }
    }
    const clientId = `timeline-${process.pid}`;
    const raft = new KvClient({
      endpoints: clientEndpoints(cluster.sup),
      clientId,
      firstSeq: 1,
      timeoutMs: 10_000,
    });
    kv = raft;
    const value = new Uint8Array(128).fill(0x61);
    let floorIndex = 0;
    let seq = 0;
    for (let i = 0; i < TIMELINE_WARMUP; i++) {
      await fc.put(`warm-${i}`.padEnd(16, '0'), value);
      floorIndex += 1;
      await raft.put(`warm-${i}`.padEnd(16, '0'), value);
      seq += 1;
    }
    const floorClient: ClientStamp[] = [];
    const raftClient: ClientStamp[] = [];
    const block = Math.ceil(puts / TIMELINE_ROUNDS);
    for (let done = 0; done < puts;) {
      const n = Math.min(block, puts - done);
      for (let i = done; i < done + n; i++) {
        const sent = nowMicros();
        await fc.put(`tl-${i.toString(36)}`.padEnd(16, '0'), value);
        floorClient.push({ seq: ++floorIndex, sent, received: nowMicros() });
      }
      for (let i = done; i < done + n; i++) {
        const sent = nowMicros();
        await raft.put(`tl-${i.toString(36)}`.padEnd(16, '0'), value);
        raftClient.push({ seq: ++seq, sent, received: nowMicros() });
      }
      done += n;
    }
    const nodes: NodeStamps[] = [];
    for (const id of memberIds(cluster.sup)) {
      const link = cluster.sup.admin(id);
      nodes.push({ node: id, stamps: await readStamps((a) => link.call('timeline', a)) });
    }
    const r = joinTimeline(clientId, raftClient, nodes);
    const f = joinFloorTimeline(floorClient, await readFloorTimelines(floor));
    const result: TimelineResult = {
      floor: summarize(f.puts),
      raftdeck: summarize(r.puts),
      joined: { floor: f.puts.length, raftdeck: r.puts.length },
      incomplete: { floor: f.incomplete, raftdeck: r.incomplete },
    };
    ctx.log(
      `joined: floor ${f.puts.length} of ${puts} puts (${f.incomplete} incomplete), raftdeck ${r.puts.length} (${r.incomplete} incomplete); µs on the shared monotonic clock`,
    );
    for (const line of timelineTable(result.floor, result.raftdeck)) ctx.log(line);
    return result;
  } finally {
    await fc.close();
    await kv?.close();
    await cluster?.stop();
    await floor.stop();
  }
}
