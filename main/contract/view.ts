/**
 * view: the data the dashboard shows. Written once; produced by the view projection
 * (main/view/projection.ts) for every implementation of the dashboard API, carried by main/app
 * and main/web, drawn by the renderer and printed by the CLI. Plain JSON only.
 */
import type { FollowerStatus, NodeId, Role, Status } from '../raft/types';

export type { FollowerStatus, NodeId, Role };

/** ProcessState: what the supervisor knows about a node's OS process. */
export type ProcessState = 'starting' | 'running' | 'paused' | 'stopped' | 'crashed' | 'exited';

/** Membership of a node as the cluster configuration records it. */
export type Membership = 'voter' | 'learner' | 'joining' | 'removed' | 'unknown';

/**
 * Health at a glance: healthy, lagging (behind the leader), cut-off (running and reporting, but it
 * knows no leader, or another one than the cluster's), unreachable (no status), down, paused.
 */
export type Health = 'healthy' | 'lagging' | 'cut-off' | 'unreachable' | 'down' | 'paused';

/** LinkRule: one network fault rule on a node (see the node's fault filter). */
export interface LinkRule {
  to?: NodeId | '*';
  from?: NodeId | '*';
  drop?: number;
  delayMs?: number;
  jitterMs?: number;
  types?: string[];
  snapshotOffset?: number;
}

/** RaftView is the node's own report of its Raft state (absent while it is down): its Status. */
export type RaftView = Omit<Status, 'id' | 'addresses'>;

export interface NodeView {
  id: NodeId;
  process: {
    state: ProcessState;
    pid: number | null;
    exitCode: number | null;
    signal: string | null;
    restarts: number;
    startedAt: number | null;
    autoRestart: boolean;
    /** lastLines: the last lines the node wrote to stderr or its log before exiting. */
    lastLines: string[];
    commandLine: string[];
  };
  addresses: { peer: string; client: string; admin: string };
  dataDir: string;
  /**
   * startRefused: why the supervisor refuses to start this member again (it has run, and its data
   * folder is gone), or null. Such a member must be replaced (replaceNode), not restarted.
   */
  startRefused: string | null;
  membership: Membership;
  /**
   * role: the role to show: the node's own (raft.role), except that a node the configuration
   * makes a learner shows as learner while it still calls itself follower (it has not received
   * that configuration yet); null while it reports nothing.
   */
  role: Role | null;
  health: Health;
  /** raft: latest status from the node, or null if none yet / unreachable. */
  raft: RaftView | null;
  /** statusAgeMs: how old `raft` is. */
  statusAgeMs: number | null;
  /** statusStale: `raft` is older than the projection's staleStatusMs (main/view/projection.ts). */
  statusStale: boolean;
  /**
   * lagBehindLeader: entries behind the leader: the leader's own figure for it when it has one,
   * else the leader's last index minus this node's applied index; null without a leader.
   */
  lagBehindLeader: number | null;
  /** divergence: how this node departs from the leader, in words (empty when it agrees). */
  divergence: string[];
  /**
   * probing: the leader does not know yet how far this node's log matches its own (a new leader
   * probes each follower first); lagBehindLeader then comes from the node's own report (null
   * without one), never from the leader's guess of the whole log.
   */
  probing: boolean;
  storage: {
    walBytes: number;
    segments: number;
    snapshotBytes: number;
    fsyncDelayMs: number;
  } | null;
  kv: { keys: number; bytes: number } | null;
  /**
   * faults: `rules` are all the rules the node's filter holds (from the partition, isolation and
   * hand-set ones); `custom` only the hand-set ones.
   */
  faults: { isolated: boolean; rules: LinkRule[]; custom: LinkRule[]; fsyncDelayMs: number };
  transport: { malformed: number; dropped: number; connectedPeers: number[] } | null;
}

export type WorkflowKind = 'add-node' | 'remove-node' | 'replace-node' | 'transfer-leader';
/**
 * StepState: where a step is. 'unknown': it was carried out but its outcome is not known (a
 * membership change sent to a leader that could not commit it in time may still commit later).
 */
export type StepState = 'pending' | 'active' | 'done' | 'failed' | 'skipped' | 'unknown';

export interface WorkflowStep {
  name: string;
  state: StepState;
  detail: string;
  /** progress in [0, 1] while active, when measurable (e.g. catching up). */
  progress: number | null;
}

export interface WorkflowView {
  id: string;
  kind: WorkflowKind;
  node: NodeId;
  /** state: 'unknown' when a step's outcome is unknown; `error` then says why and what to check. */
  state: 'running' | 'done' | 'failed' | 'unknown';
  startedAt: number;
  finishedAt: number | null;
  steps: WorkflowStep[];
  error: string | null;
}

export interface WorkloadOptions {
  clients: number;
  /** rate: target operations per second over all clients; 0 = closed loop, as fast as possible. */
  rate: number;
  keys: number;
  /** readRatio and casRatio in [0,1]; the rest are puts. */
  readRatio: number;
  casRatio: number;
  valueBytes: number;
  /** seconds: stop after this long (0 = until stopped). */
  seconds: number;
}

export interface WorkloadSample {
  time: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  unknown: number;
}

export interface WorkloadView {
  running: boolean;
  options: WorkloadOptions;
  startedAt: number;
  stoppedAt: number | null;
  totals: { ok: number; failed: number; unknown: number; reads: number; writes: number };
  samples: WorkloadSample[];
}

export interface CheckerView {
  state: 'idle' | 'running' | 'done';
  result: 'ok' | 'not-linearizable' | 'unknown' | null;
  operations: number;
  keys: number;
  ms: number | null;
  failure: { key: string; explanation: string; window: HistoryOp[] } | null;
}

/** HistoryOp: one recorded client operation (the checker's input). */
export interface HistoryOp {
  id: number;
  client: string;
  op: 'get' | 'put' | 'del' | 'cas';
  key: string;
  value?: string | null;
  expected?: string | null;
  invoke: number;
  complete?: number;
  outcome: 'ok' | 'fail' | 'unknown';
  output?: { value?: string | null; casOk?: boolean };
}

export interface ScenarioInfo {
  name: string;
  title: string;
  description: string;
}

export interface ScenarioRun {
  name: string;
  state: 'running' | 'passed' | 'failed';
  startedAt: number;
  steps: { text: string; state: StepState; detail: string }[];
}

/**
 * Leadership: 'led' (a running leader), 'silent' (no running leader, but nodes still follow
 * `leader`, which has not been heard from for `silentMs`; nobody campaigns yet), 'electing'
 * (some node is a pre-candidate or candidate), 'none' (no leader, nobody follows or campaigns).
 */
export type Leadership =
  | { state: 'led'; leader: NodeId }
  | { state: 'silent'; leader: NodeId; silentMs: number | null }
  | { state: 'electing'; candidates: NodeId[] }
  | { state: 'none' };

/**
 * Quorum: `voters` in the latest configuration; a commit needs `needed` of them; so the cluster
 * tolerates `tolerates` failures. `reachable`: voters running, reporting and not cut off;
 * `lost`: fewer than `needed` are; `text`: all of it in one line.
 */
export interface Quorum {
  voters: number;
  needed: number;
  tolerates: number;
  reachable: number;
  lost: boolean;
  text: string;
}

export type FaultKind = 'partition' | 'isolated' | 'link-rules' | 'slow-disk' | 'paused' | 'down';

/** ActiveFault: one fault in force, as the dashboard lists it. */
export interface ActiveFault {
  key: string;
  kind: FaultKind;
  node: NodeId | null;
  label: string;
}

export interface ClusterView {
  clusterId: string;
  dataDir: string;
  /** version increases with every change; views are pushed at >= 10 Hz while it changes. */
  version: number;
  now: number;
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  nodes: NodeView[];
  leader: NodeId;
  /** leadership: who leads, in words a presenter can read out (see Leadership). */
  leadership: Leadership;
  term: number;
  /**
   * commit: the leader's commit index, or with no leader the highest any node reports (never 0
   * for a cluster that has committed); commitBy: the node it comes from (0: none).
   */
  commit: number;
  commitBy: NodeId;
  /**
   * config: the latest configuration known: the leader's, or with no leader the one of the node
   * with the longest log; `from` is that node (0: none).
   */
  config: { voters: NodeId[]; learners: NodeId[]; from: NodeId };
  /** quorum: the voters, how many a commit needs, how many failures that tolerates, who is reachable. */
  quorum: Quorum;
  partitions: NodeId[][] | null;
  /** faults: every fault in force, cluster-wide first, then per node in id order. */
  faults: ActiveFault[];
  /** healthCounts: how many nodes are in each state of health. */
  healthCounts: Record<Health, number>;
  /** thresholds: where the projection starts counting a node as lagging or its status as stale. */
  thresholds: { lagEntries: number; staleStatusMs: number };
  workflows: WorkflowView[];
  workload: WorkloadView | null;
  checker: CheckerView;
  scenario: ScenarioRun | null;
}

export type EventKind =
  | 'election'
  | 'vote'
  | 'role'
  | 'leader'
  | 'config'
  | 'snapshot'
  | 'fault'
  | 'process'
  | 'client'
  | 'workflow'
  | 'workload'
  | 'checker'
  | 'scenario'
  | 'storage';

/** ClusterEvent is one line of the cluster's ordered event stream. */
export interface ClusterEvent {
  seq: number;
  time: number;
  node: NodeId | null;
  kind: EventKind;
  message: string;
  data?: Record<string, unknown>;
}
