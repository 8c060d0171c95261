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
import { clientEndpoints, memberIds, startRaftdeck } from './raftdeck-cluster';
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
      steps: {
        'client send → leader receive': L.received - c.sent,
        'leader receive → proposal': L.appended - L.received,
        'proposal → follower receive': f.appended - L.appended,
        'follower receive → fsync done': f.synced - f.appended,
        'follower fsync → leader ack receive': L.acked - f.synced,
        'leader own fsync (proposal → done)': L.synced - L.appended,
        'ack → commit': L.committed - L.acked,
        'commit → apply': L.applied - L.committed,
        'apply → client receive': c.received - L.applied,
        'total (client send → receive)': c.received - c.sent,
      },
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

/** timelineTable prints the summary as a table (µs). */
export function timelineTable(rows: readonly StepSummary[]): string[] {
  const w = Math.max(...STEPS.map((s) => s.length));
  const out = [`${'step'.padEnd(w)}   p50 µs   p90 µs`];
  for (const r of rows) {
    out.push(`${r.step.padEnd(w)} ${r.p50.toFixed(0).padStart(8)} ${r.p90.toFixed(0).padStart(8)}`);
  }
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

/**
 * timelineStage runs `puts` puts at concurrency 1 on a fresh 3-node cluster with the timeline on,
 * prints the table and returns the summary.
 */
export async function timelineStage(
  ctx: StageContext,
  puts: number,
): Promise<{ summary: StepSummary[]; joined: number; incomplete: number }> {
  const keep = Math.min(65_536, 2 * (puts + TIMELINE_WARMUP) + 1024);
  const base = ctx.nodeCommand;
  const nodeCommand = base && { ...base, env: { ...base.env, [TIMELINE_ENV]: String(keep) } };
  const prev = process.env[TIMELINE_ENV];
  // Nodes started from sources inherit this process's environment.
  if (!nodeCommand) process.env[TIMELINE_ENV] = String(keep);
  const cluster = await startRaftdeck({ root: ctx.root, nodeCommand }, 'timeline');
  if (!nodeCommand) {
    if (prev === undefined) delete process.env[TIMELINE_ENV];
    else process.env[TIMELINE_ENV] = prev;
  }
  const clientId = `timeline-${process.pid}`;
  const kv = new KvClient({
    endpoints: clientEndpoints(cluster.sup),
    clientId,
    firstSeq: 1,
    timeoutMs: 10_000,
  });
  try {
    const value = new Uint8Array(128).fill(0x61);
    for (let i = 0; i < TIMELINE_WARMUP; i++) await kv.put(`warm-${i}`.padEnd(16, '0'), value);
    const client: ClientStamp[] = [];
    for (let i = 0; i < puts; i++) {
      const seq = TIMELINE_WARMUP + 1 + i;
      const sent = nowMicros();
      await kv.put(`tl-${i.toString(36)}`.padEnd(16, '0'), value);
      client.push({ seq, sent, received: nowMicros() });
    }
    const nodes: NodeStamps[] = [];
    for (const id of memberIds(cluster.sup)) {
      const link = cluster.sup.admin(id);
      nodes.push({ node: id, stamps: await readStamps((a) => link.call('timeline', a)) });
    }
    const { puts: joined, incomplete } = joinTimeline(clientId, client, nodes);
    const summary = summarize(joined);
    ctx.log(
      `${joined.length} of ${puts} puts joined (${incomplete} incomplete); µs on the shared monotonic clock`,
    );
    for (const line of timelineTable(summary)) ctx.log(line);
    return { summary, joined: joined.length, incomplete };
  } finally {
    await kv.close();
    await cluster.stop();
  }
}
