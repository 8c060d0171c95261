/**
 * projection: the one place where what the members report becomes what the dashboard shows.
 * projectView takes the members' process states and latest statuses, the fault model and the
 * view parts of workflows, workload, checker and scenario, and returns the ClusterView; every
 * implementation of the dashboard API feeds it, and the renderer and the CLI show its fields
 * without deriving them again. Pure: no I/O, no timers, no clock (the caller passes `now`).
 *
 * The rules, in one list:
 * - leader: the running (not paused) member reporting itself leader with the highest term;
 * - term: the highest term any member reported; commit: the leader's commit (0 without one);
 * - membership: removed if the cluster removed it, else voter/learner as the leader's (or, with no
 *   leader, the member's own) configuration says, else joining (a member added later) or unknown;
 * - lag: 0 for the leader; the leader's progress for it when it has one; else the leader's last
 *   index minus the member's applied index; unknown without a leader;
 * - health: paused, down (no process), unreachable (no status, or one older than
 *   staleStatusMs), lagging (lag above lagEntries), else healthy;
 * - divergence (completeView): how a member departs from the leader;
 * - faults (completeView): every fault in force; healthCounts: members per health; the
 *   thresholds used, so that no screen hard-codes them again.
 */
import type {
  ClusterView,
  Health,
  LinkRule,
  Membership,
  NodeId,
  NodeView,
  RaftView,
} from '../contract/view';
import type { Status } from '../raft/types';
import { activeFaults, linkRulesFor, NO_FAULTS, type NodeFaults } from './faults';

/** Thresholds: where a member's figures start to count against its health. */
export interface Thresholds {
  /** lagEntries: entries behind the leader before a member counts as lagging. */
  lagEntries: number;
  /** staleStatusMs: a status older than this leaves the member unreachable (and marked stale). */
  staleStatusMs: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  lagEntries: 100,
  staleStatusMs: 2000,
});

/** MemberReport: what a member reports about itself (the node's status, or an imitation of it). */
export interface MemberReport extends Status {
  storage: { walBytes: number; segments: number; snapshotBytes: number; fsyncDelayMs: number };
  kv: { keys: number; bytes: number };
  transport: {
    malformed: number;
    dropped: number;
    peers?: Readonly<Record<string, { connected?: boolean } | undefined>>;
  };
}

/** MemberInput: one member as the process owner knows it. */
export interface MemberInput {
  id: NodeId;
  /** founding: a member of the cluster's first configuration (others joined later). */
  founding: boolean;
  /** removed: the cluster removed this member (it may still be shown until it is forgotten). */
  removed: boolean;
  /** running: the member's process exists (starting, running or paused). */
  running: boolean;
  process: NodeView['process'];
  addresses: NodeView['addresses'];
  dataDir: string;
  startRefused: string | null;
  /** report: the member's latest status while its process runs, else null. */
  report: MemberReport | null;
  /** reportAt: when `report` arrived (same clock as ProjectionInput.now). */
  reportAt: number;
}

/** FaultInput: the fault model: the partition and each member's own faults. */
export interface FaultInput {
  partitions: NodeId[][] | null;
  /** nodes: faults per member; a member missing here has none. */
  nodes: ReadonlyMap<NodeId, Readonly<NodeFaults>>;
}

/** ViewParts: what workflows, the workload, the checker and scenarios contribute. */
export type ViewParts = Pick<ClusterView, 'workflows' | 'workload' | 'checker' | 'scenario'>;

export interface ProjectionInput {
  clusterId: string;
  dataDir: string;
  version: number;
  now: number;
  state: ClusterView['state'];
  members: readonly MemberInput[];
  faults: FaultInput;
  parts: ViewParts;
  thresholds?: Partial<Thresholds>;
}

/** BaseView: a ClusterView without the fields completeView derives from the rest. */
export type BaseView = Omit<ClusterView, 'faults' | 'healthCounts' | 'nodes' | 'thresholds'> & {
  nodes: Omit<NodeView, 'divergence'>[];
  thresholds?: Thresholds;
};

/** electedLeader: the running member reporting itself leader with the highest term (0: none). */
export function electedLeader(members: readonly MemberInput[]): NodeId {
  let best: MemberReport | undefined;
  let id = 0;
  for (const m of members) {
    const s = m.report;
    if (m.process.state !== 'running' || !s || s.role !== 'leader') continue;
    if (!best || s.term > best.term) {
      best = s;
      id = m.id;
    }
  }
  return id;
}

/** projectView: the ClusterView of the input (see the rules at the top of this file). */
export function projectView(input: ProjectionInput): ClusterView {
  const th: Thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const leader = electedLeader(input.members);
  const ls = input.members.find((m) => m.id === leader)?.report ?? null;
  const all = input.members.map((m) => m.id);
  let term = 0;
  for (const m of input.members) term = Math.max(term, m.report?.term ?? 0);
  const nodes = [...input.members]
    .sort((a, b) => a.id - b.id)
    .map((m) => memberView(m, ls, leader, input, all, th));
  return completeView({
    clusterId: input.clusterId,
    dataDir: input.dataDir,
    version: input.version,
    now: input.now,
    state: input.state,
    nodes,
    leader,
    term,
    commit: ls?.commit ?? 0,
    partitions: input.faults.partitions,
    ...input.parts,
    thresholds: th,
  });
}

function membershipOf(m: MemberInput, conf: Status | null): Membership {
  if (m.removed) return 'removed';
  if (conf?.voters.includes(m.id)) return 'voter';
  if (conf?.learners.includes(m.id)) return 'learner';
  return m.founding ? 'unknown' : 'joining';
}

/** lagOf: entries the member is behind the leader `ls` (null: unknown). */
function lagOf(m: MemberInput, ls: MemberReport | null, leader: NodeId): number | null {
  if (!ls) return null;
  if (m.id === leader) return 0;
  const pr = ls.progress.find((p) => p.id === m.id);
  if (pr) return pr.lag;
  return m.report ? Math.max(0, ls.lastIndex - m.report.applied) : null;
}

function healthOf(m: MemberInput, age: number | null, lag: number | null, th: Thresholds): Health {
  if (m.process.state === 'paused') return 'paused';
  if (!m.running) return 'down';
  if (!m.report || (age !== null && age > th.staleStatusMs)) return 'unreachable';
  if (lag !== null && lag > th.lagEntries) return 'lagging';
  return 'healthy';
}

function memberView(
  m: MemberInput,
  ls: MemberReport | null,
  leader: NodeId,
  input: ProjectionInput,
  all: NodeId[],
  th: Thresholds,
): Omit<NodeView, 'divergence'> {
  const s = m.report;
  const age = s ? input.now - m.reportAt : null;
  const lag = lagOf(m, ls, leader);
  const faults = input.faults.nodes.get(m.id) ?? NO_FAULTS;
  const rules: LinkRule[] = linkRulesFor(m.id, faults, input.faults.partitions, all);
  return {
    id: m.id,
    process: m.process,
    addresses: m.addresses,
    dataDir: m.dataDir,
    startRefused: m.startRefused,
    membership: membershipOf(m, ls ?? s),
    health: healthOf(m, age, lag, th),
    raft: s ? raftView(s) : null,
    statusAgeMs: age,
    statusStale: age !== null && age > th.staleStatusMs,
    lagBehindLeader: lag,
    storage: s ? { ...s.storage } : null,
    kv: s ? { ...s.kv } : null,
    faults: { isolated: faults.isolated, rules, fsyncDelayMs: faults.fsyncDelayMs },
    transport: s
      ? {
          malformed: s.transport.malformed,
          dropped: s.transport.dropped,
          connectedPeers: Object.entries(s.transport.peers ?? {})
            .filter(([, p]) => p?.connected)
            .map(([id]) => Number(id)),
        }
      : null,
  };
}

/**
 * completeView adds what follows from the rest of a view: each member's divergence from the
 * leader, the faults in force and the health counts. projectView ends with it; recorded or
 * hand-written base views go through it too, so no other code derives these fields.
 */
export function completeView(base: BaseView): ClusterView {
  const leader = base.leader === 0 ? undefined : base.nodes.find((n) => n.id === base.leader);
  const nodes: NodeView[] = base.nodes.map((n) => ({ ...n, divergence: divergence(n, leader) }));
  const healthCounts: Record<Health, number> = {
    healthy: 0,
    lagging: 0,
    unreachable: 0,
    down: 0,
    paused: 0,
  };
  for (const n of nodes) healthCounts[n.health]++;
  return {
    ...base,
    nodes,
    faults: activeFaults({ ...base, nodes }),
    healthCounts,
    thresholds: { ...DEFAULT_THRESHOLDS, ...base.thresholds },
  };
}

type DivergenceInput = Pick<NodeView, 'id' | 'raft' | 'membership'>;

/**
 * divergence lists how a member's state departs from the leader's: a deposed leader, an older
 * term, another (or no) leader, a log longer than the leader's (those entries will be
 * overwritten). Empty for the leader, for agreeing members, for removed and for down members.
 */
export function divergence(node: DivergenceInput, leader: DivergenceInput | undefined): string[] {
  const r = node.raft;
  const l = leader?.raft;
  if (!r || !leader || !l || node.id === leader.id) return [];
  if (node.membership === 'removed') return [];
  const out: string[] = [];
  if (r.role === 'leader') out.push(`also claims leadership (term ${r.term})`);
  if (r.term < l.term) out.push(`term ${r.term} behind the leader's ${l.term}`);
  if (r.role !== 'leader' && r.leader !== leader.id) {
    out.push(r.leader === 0 ? 'knows no leader' : `follows node ${r.leader}`);
  }
  if (r.lastIndex > l.lastIndex) {
    out.push(`${r.lastIndex - l.lastIndex} entries beyond the leader's log`);
  }
  return out;
}

/** raftView: the Raft part of a report, as the view carries it. */
export function raftView(s: Status): RaftView {
  return {
    role: s.role,
    term: s.term,
    vote: s.vote,
    leader: s.leader,
    commit: s.commit,
    applied: s.applied,
    firstIndex: s.firstIndex,
    lastIndex: s.lastIndex,
    persistedIndex: s.persistedIndex,
    snapshotIndex: s.snapshotIndex,
    snapshotTerm: s.snapshotTerm,
    voters: s.voters,
    learners: s.learners,
    pendingConfIndex: s.pendingConfIndex,
    transferee: s.transferee,
    progress: s.progress,
    snapshotReceiving: s.snapshotReceiving,
  };
}
