/**
 * projection: the one place where what the members report becomes what the dashboard shows.
 * projectView takes the members' process states and latest statuses, the fault model and the
 * view parts of workflows, workload, checker and scenario, and returns the ClusterView; every
 * implementation of the dashboard API feeds it, and the renderer and the CLI show its fields
 * without deriving them again. Pure: no I/O, no timers, no clock (the caller passes `now`).
 *
 * The rules, in one list:
 * - leader: the running (not paused) member reporting itself leader with the highest term;
 * - leadership: led; else electing while a member is (pre-)candidate; else silent while members
 *   still follow a leader that is not running (for how long it has not reported); else none;
 * - term: the highest term any member reported; commit: the leader's commit, else the highest
 *   any member reports, with the member it comes from;
 * - config: the leader's configuration, else that of the member with the longest log;
 * - membership: removed if the cluster removed it, else voter/learner as `config` says, else
 *   joining (a member added later) or unknown; role: its own, but learner for a learner of
 *   `config` that still calls itself follower;
 * - lag: 0 for the leader; the leader's progress for it when it has one and knows its match;
 *   else (no progress, or the leader still probes it: 'probe' with no match known, when the
 *   leader's figure would be its whole log) the leader's last index minus the member's applied
 *   index; unknown without a leader or without a report;
 * - health: paused, down (no process), unreachable (no status, or one older than
 *   staleStatusMs), cut-off (it knows no leader or another one than the cluster's, or campaigns
 *   while there is one — but not a follower that voted for the leader in its term and has not
 *   heard from it yet; with no leader at all, every reporting member is), lagging (lag above
 *   lagEntries), else healthy;
 * - quorum: voters of `config`, a majority of them needed, reachable = running, reporting and
 *   not cut-off voters (or all reporting voters while nobody leads: they are what an election
 *   has);
 * - divergence (completeView): how a member departs from the leader;
 * - faults (completeView): every fault in force; healthCounts: members per health; the
 *   thresholds used, so that no screen hard-codes them again.
 */
import type {
  CheckerView,
  ClusterView,
  EngineStat,
  EngineView,
  FollowerStatus,
  LabView,
  Health,
  Leadership,
  LinkRule,
  LinkView,
  Membership,
  NodeId,
  NodeView,
  PaceView,
  Quorum,
  RaftView,
} from '../contract/view';
import { RAFTDECK_ENGINE } from '../contract/view';
import type { Status } from '../raft/types';
import { activeFaults, linkRulesFor, NO_FAULTS, type NodeFaults } from './faults';
import { commitQuorumOf, linksOf, quorumSize, REAL_TIME, timerOf, type LinkRate } from './topology';

export { quorumSize };

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

/** IDLE_CHECKER: the checker's part of the view before any check. */
export const IDLE_CHECKER: Readonly<CheckerView> = Object.freeze({
  state: 'idle',
  result: null,
  operations: 0,
  keys: 0,
  ms: null,
  failure: null,
});

/** noHealthCounts: every state of health at 0. */
export function noHealthCounts(): Record<Health, number> {
  return { healthy: 0, lagging: 0, 'cut-off': 0, unreachable: 0, down: 0, paused: 0 };
}

/** MemberReport: what a member reports about itself (the node's status, or an imitation of it). */
export interface MemberReport extends Status {
  storage: { walBytes: number; segments: number; snapshotBytes: number; fsyncDelayMs: number };
  kv: { keys: number; bytes: number };
  transport: {
    malformed: number;
    dropped: number;
    peers?: Readonly<Record<string, { connected?: boolean } | undefined>>;
  };
  /** timing: the length of a tick at real time, and the pace it runs at (1 when absent). */
  timing?: { tickMs: number; pace?: number };
  /** engineStats: what the member's engine reports beyond Raft's status (NodeView.engineStats). */
  engineStats?: EngineStat[];
}

/** DEFAULT_TICK_MS: a node's tick when its report does not say. */
const DEFAULT_TICK_MS = 10;

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
  /** pace: the cluster's demo pace (REAL_TIME when absent). */
  pace?: PaceView;
  /** traffic: what each sender sent per link over the last second, by linkKey (none: 0). */
  traffic?: ReadonlyMap<string, LinkRate>;
  /** lab: the lab's own state on a lab cluster (null or absent elsewhere). */
  lab?: LabView | null;
  /** engine: which engine runs the members (RAFTDECK_ENGINE when absent). */
  engine?: EngineView;
}

/** BaseView: a ClusterView without the fields completeView derives from the rest. */
export type BaseView = Omit<
  ClusterView,
  | 'faults'
  | 'healthCounts'
  | 'nodes'
  | 'thresholds'
  | 'quorum'
  | 'leadership'
  | 'commitBy'
  | 'config'
  | 'pace'
  | 'links'
  | 'commitQuorum'
  | 'lab'
  | 'engine'
> & {
  nodes: Omit<NodeView, 'divergence'>[];
  thresholds?: Thresholds;
  /** pace, links: when absent, real time and the links of the fault model without traffic. */
  pace?: PaceView;
  links?: LinkView[];
  /** leadership, commitBy, config: when absent (a view written by hand), taken from the leader. */
  leadership?: Leadership;
  commitBy?: NodeId;
  config?: ClusterView['config'];
  /** lab: null when absent. */
  lab?: LabView | null;
  /** engine: raftdeck's own nodes when absent (a view recorded before engines were named). */
  engine?: EngineView;
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
  const reporting = input.members.filter((m) => m.running && m.report);
  const commitFrom = ls
    ? input.members.find((m) => m.id === leader)!
    : reporting.reduce<MemberInput | undefined>(
        (best, m) => (!best || m.report!.commit > best.report!.commit ? m : best),
        undefined,
      );
  const confFrom = ls
    ? input.members.find((m) => m.id === leader)!
    : reporting.reduce<MemberInput | undefined>(
        (best, m) => (!best || m.report!.lastIndex > best.report!.lastIndex ? m : best),
        undefined,
      );
  const conf = confFrom?.report ?? null;
  const nodes = [...input.members]
    .sort((a, b) => a.id - b.id)
    .map((m) => memberView(m, ls, leader, conf, input, all, th));
  return completeView({
    clusterId: input.clusterId,
    dataDir: input.dataDir,
    version: input.version,
    now: input.now,
    state: input.state,
    nodes,
    leader,
    leadership: leadershipOf(leader, input),
    term,
    commit: commitFrom?.report?.commit ?? 0,
    commitBy: commitFrom?.report ? commitFrom.id : 0,
    config: {
      voters: conf ? [...conf.voters] : [],
      learners: conf ? [...conf.learners] : [],
      from: confFrom?.report ? confFrom.id : 0,
    },
    partitions: input.faults.partitions,
    ...input.parts,
    thresholds: th,
    pace: input.pace ?? REAL_TIME,
    links: linksOf(nodes, input.faults.partitions, input.traffic),
    lab: input.lab ?? null,
    engine: input.engine ?? RAFTDECK_ENGINE,
  });
}

/** leadershipOf: led, electing, silent or none (see Leadership in main/contract/view.ts). */
function leadershipOf(leader: NodeId, input: ProjectionInput): Leadership {
  if (leader !== 0) return { state: 'led', leader };
  const live = input.members.filter((m) => m.running && m.process.state === 'running' && m.report);
  const candidates = live
    .filter((m) => m.report!.role === 'pre-candidate' || m.report!.role === 'candidate')
    .map((m) => m.id)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return { state: 'electing', candidates };
  const followed = live.map((m) => m.report!.leader).filter((l) => l !== 0);
  if (followed.length > 0) {
    // The leader most of them still follow; it stopped reporting when it went silent.
    const counts = new Map<NodeId, number>();
    for (const l of followed) counts.set(l, (counts.get(l) ?? 0) + 1);
    const silent = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    const m = input.members.find((x) => x.id === silent);
    const silentMs = m && m.reportAt > 0 ? Math.max(0, input.now - m.reportAt) : null;
    return { state: 'silent', leader: silent, silentMs };
  }
  return { state: 'none' };
}

function membershipOf(m: MemberInput, conf: Status | null): Membership {
  if (m.removed) return 'removed';
  if (conf?.voters.includes(m.id)) return 'voter';
  if (conf?.learners.includes(m.id)) return 'learner';
  return m.founding ? 'unknown' : 'joining';
}

/**
 * leaderProbes: the leader's progress for a follower says it has yet to learn how far that log
 * matches its own ('probe' with no match known): its lag figure is then a guess of the whole log.
 */
export function leaderProbes(pr: Pick<FollowerStatus, 'state' | 'match'>): boolean {
  return pr.state === 'probe' && pr.match === 0;
}

/** probing: the leader has yet to learn how far member `m`'s log matches its own. */
function probing(m: MemberInput, ls: MemberReport | null, leader: NodeId): boolean {
  if (!ls || m.id === leader) return false;
  const pr = ls.progress.find((p) => p.id === m.id);
  return pr !== undefined && leaderProbes(pr);
}

/** lagOf: entries the member is behind the leader `ls` (null: unknown). */
function lagOf(m: MemberInput, ls: MemberReport | null, leader: NodeId): number | null {
  if (!ls) return null;
  if (m.id === leader) return 0;
  const pr = ls.progress.find((p) => p.id === m.id);
  if (pr && !probing(m, ls, leader)) return pr.lag;
  // No figure from the leader (or only its guess while it probes): the member's own report.
  return m.report ? Math.max(0, ls.lastIndex - m.report.applied) : null;
}

/** cutOff: member `m` knows no leader, or (with a leader) follows another or claims to lead. */
function cutOff(m: MemberInput, leader: NodeId, leaderTerm: number): boolean {
  const r = m.report;
  if (!r || m.id === leader) return false;
  if (leader === 0) return r.leader === 0 && r.role !== 'leader';
  // A voter that gave the new leader its vote in the leader's term and has not heard from it yet
  // is in touch, only not told: the moment right after an election (which a paused lab holds).
  if (r.leader === 0 && r.role === 'follower' && r.term === leaderTerm && r.vote === leader) {
    return false;
  }
  return r.leader !== leader || r.role === 'leader';
}

function healthOf(
  m: MemberInput,
  age: number | null,
  lag: number | null,
  leader: NodeId,
  leaderTerm: number,
  th: Thresholds,
): Health {
  if (m.process.state === 'paused') return 'paused';
  if (!m.running) return 'down';
  if (!m.report || (age !== null && age > th.staleStatusMs)) return 'unreachable';
  if (cutOff(m, leader, leaderTerm)) return 'cut-off';
  if (lag !== null && lag > th.lagEntries) return 'lagging';
  return 'healthy';
}

function memberView(
  m: MemberInput,
  ls: MemberReport | null,
  leader: NodeId,
  conf: Status | null,
  input: ProjectionInput,
  all: NodeId[],
  th: Thresholds,
): Omit<NodeView, 'divergence'> {
  const s = m.report;
  const age = s ? input.now - m.reportAt : null;
  const lag = lagOf(m, ls, leader);
  const faults = input.faults.nodes.get(m.id) ?? NO_FAULTS;
  const rules: LinkRule[] = linkRulesFor(m.id, faults, input.faults.partitions, all);
  const membership = membershipOf(m, conf ?? s);
  const role = s ? (s.role === 'follower' && membership === 'learner' ? 'learner' : s.role) : null;
  const tickMs = (s?.timing?.tickMs ?? DEFAULT_TICK_MS) * (s?.timing?.pace ?? 1);
  return {
    id: m.id,
    process: m.process,
    addresses: m.addresses,
    dataDir: m.dataDir,
    startRefused: m.startRefused,
    membership,
    role,
    health: healthOf(m, age, lag, leader, ls?.term ?? 0, th),
    raft: s ? raftView(s) : null,
    statusAgeMs: age,
    statusStale: age !== null && age > th.staleStatusMs,
    lagBehindLeader: lag,
    probing: probing(m, ls, leader),
    storage: s ? { ...s.storage } : null,
    kv: s ? { ...s.kv } : null,
    ...(s?.engineStats ? { engineStats: s.engineStats.map((x) => ({ ...x })) } : {}),
    faults: {
      isolated: faults.isolated,
      rules,
      custom: [...faults.customRules],
      fsyncDelayMs: faults.fsyncDelayMs,
    },
    transport: s
      ? {
          malformed: s.transport.malformed,
          dropped: s.transport.dropped,
          connectedPeers: Object.entries(s.transport.peers ?? {})
            .filter(([, p]) => p?.connected)
            .map(([id]) => Number(id)),
        }
      : null,
    // A node of an earlier version does not report its timers.
    timer: s?.timer ? timerOf(s.role, s.timer, tickMs, m.reportAt) : null,
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
  const healthCounts = noHealthCounts();
  for (const n of nodes) healthCounts[n.health]++;
  const lr = leader?.raft;
  const config = base.config ?? {
    voters: lr ? [...lr.voters] : [],
    learners: lr ? [...lr.learners] : [],
    from: lr ? base.leader : 0,
  };
  return {
    ...base,
    leadership:
      base.leadership ??
      (base.leader !== 0 ? { state: 'led', leader: base.leader } : { state: 'none' }),
    commitBy: base.commitBy ?? (lr ? base.leader : 0),
    config,
    nodes,
    faults: activeFaults({ ...base, nodes }),
    healthCounts,
    quorum: quorumOf(config.voters, nodes, base.leader),
    thresholds: { ...DEFAULT_THRESHOLDS, ...base.thresholds },
    pace: base.pace ?? REAL_TIME,
    links: base.links ?? linksOf(nodes, base.partitions),
    commitQuorum: commitQuorumOf(leader, config.voters),
    lab: base.lab ?? null,
    engine: base.engine ?? RAFTDECK_ENGINE,
  };
}

/**
 * quorumOf: the quorum of `voters` and how many of them the cluster can count on: running,
 * reporting, not paused and not cut off from the leader (with no leader, every reporting voter:
 * they are what an election has).
 */
export function quorumOf(
  voters: readonly NodeId[],
  nodes: readonly NodeView[],
  leader: NodeId,
): Quorum {
  const n = voters.length;
  const { needed, tolerates } = quorumSize(n);
  const ok = new Set<Health>(
    leader !== 0 ? ['healthy', 'lagging'] : ['healthy', 'lagging', 'cut-off'],
  );
  const reachable = nodes.filter((x) => voters.includes(x.id) && ok.has(x.health)).length;
  const lost = n > 0 && reachable < needed;
  const text =
    n === 0
      ? 'no configuration known'
      : lost
        ? `no quorum: ${n - reachable} of ${n} voters down or cut off — writes cannot commit`
        : `${n} voter${n === 1 ? '' : 's'} · quorum ${needed} · tolerates ${tolerates} failure${tolerates === 1 ? '' : 's'} · ${reachable} reachable`;
  return { voters: n, needed, tolerates, reachable, lost, text };
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
    timer: s.timer,
    campaign: s.campaign,
    termRuns: s.termRuns,
  };
}
