/**
 * view: the data the dashboard shows. Written once; produced by the view projection
 * (main/view/projection.ts) for every implementation of the dashboard API, carried by main/app
 * and main/web, drawn by the renderer and printed by the CLI. Plain JSON only.
 */
import type { MessageTrace } from '../raft/message-header';
import type {
  Campaign,
  ElectionTimer,
  FollowerStatus,
  NodeId,
  Role,
  Status,
  TermRun,
} from '../raft/types';

export type { Campaign, ElectionTimer, FollowerStatus, MessageTrace, NodeId, Role, TermRun };

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

/** EngineStat: one figure an engine reports about a member (see NodeView.engineStats). */
export interface EngineStat {
  name: string;
  value: string;
  /** warn: the figure is a problem (an alarm, failed proposals). */
  warn?: boolean;
}

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
   * engineStats: what the member's engine reports beyond Raft's status, one figure a line, in
   * the engine's words (etcd: DB size and in use, WAL fsync latency, proposals, alarms, peer
   * bytes per second); empty for raftdeck's own nodes, whose storage and transport say it.
   */
  engineStats?: EngineStat[];
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
  /** timer: the node's election (or, on a leader, heartbeat) timer in ms; null without a report. */
  timer: TimerView | null;
}

/**
 * TimerView: one node's timer as the Topology view draws it, in milliseconds at the cluster's
 * pace. 'election' on a follower, learner or (pre-)candidate: it fills as the node hears nothing
 * from a leader and campaigns when full; 'heartbeat' on a leader: it fills until the next
 * heartbeat round. `fraction` is elapsedMs / timeoutMs in [0, 1]; `at` is when the node reported
 * it (the view's clock), so a drawing can advance it between views at 1 ms per ms.
 */
export interface TimerView {
  kind: 'election' | 'heartbeat';
  elapsedMs: number;
  timeoutMs: number;
  fraction: number;
  at: number;
}

/**
 * LinkState: the state of the directed link from one node to another, from the fault model and
 * the processes: 'up'; 'cut' (every message dropped: a partition, an isolation or a drop-all
 * rule); 'faulty' (some loss or delay, or a rule on some message types); 'down' (either end's
 * process is not running).
 */
export type LinkState = 'up' | 'cut' | 'faulty' | 'down';

/**
 * LinkView: the directed link `from` → `to` between two members. `rule` words the fault rules
 * on it (null when none); `oneWay`: this direction is cut or faulty while the reverse is up;
 * msgsPerSec and bytesPerSec: what the sender sent on it over the last second (0 without
 * figures); `connected`: the sender holds an open connection to the receiver.
 */
export interface LinkView {
  from: NodeId;
  to: NodeId;
  state: LinkState;
  rule: string | null;
  drop: number;
  delayMs: number;
  oneWay: boolean;
  msgsPerSec: number;
  bytesPerSec: number;
  connected: boolean;
}

/**
 * CommitQuorum: on a leader, how its last entry stands: `index` (the leader's last index),
 * `acked` the voters whose log holds it (the leader included), `needed` a majority of voters,
 * `committed` whether the leader's commit index has reached it; `commit` the leader's commit
 * index; `text` all of it in words ("2 of 3 acked entry 1234 · committed").
 */
export interface CommitQuorum {
  index: number;
  commit: number;
  acked: NodeId[];
  needed: number;
  voters: number;
  committed: boolean;
  text: string;
}

/**
 * PaceView: how much slower than real time the cluster runs (1 = real time; 20 = every tick,
 * heartbeat and election timeout 20 times longer, and every message held for MESSAGE_FLIGHT_MS
 * × pace on its way), and whether a follower campaigns at once when its leader's process is
 * gone (fastFailover; otherwise it waits for its election timeout).
 */
export interface PaceView {
  pace: number;
  fastFailover: boolean;
}

/** PACES: the paces the dashboard offers; setPace accepts any in [1, MAX_PACE]. */
export const PACES: readonly number[] = [1, 5, 20, 50];
export const MAX_PACE = 100;
/** MESSAGE_FLIGHT_MS: at a pace P > 1 every message is held MESSAGE_FLIGHT_MS × P on its way. */
export const MESSAGE_FLIGHT_MS = 10;

/**
 * MessageBatch: messages the nodes sent, sampled (at most a few per link and type per second;
 * votes and snapshot chunks are rarer than that and all come through), for the Topology view to
 * draw in flight. `skipped` counts, per link "from-to", those sent but not sampled since the
 * previous batch.
 */
export interface MessageBatch {
  traces: MessageTrace[];
  skipped: Record<string, number>;
}

/** TypeCounts: the messages of one type on one link, as each end counted them. */
export interface TypeCounts {
  type: string;
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  faultDropped: number;
  faultDelayed: number;
}

/**
 * LinkDetail: what the Topology view shows for a clicked link: the link, its counters by message
 * type since the nodes started (sender's sent and fault counts, receiver's received), and the
 * latest messages on it as the sender recorded them, oldest first.
 */
export interface LinkDetail {
  link: LinkView;
  byType: TypeCounts[];
  recent: MessageTrace[];
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
  /**
   * paused: the run waits before its next step until resumed or stepped (pauseScenario holds it
   * after the step in progress; stepScenario runs one more step, then holds again).
   */
  paused: boolean;
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

/**
 * ENGINE_FEATURES: what a dashboard can be asked to do that an engine may not support; each
 * names a group of calls and controls (see EngineView.unavailable).
 */
export const ENGINE_FEATURES = [
  'kill',
  'stop',
  'restart',
  'pause',
  'autoRestart',
  'isolate',
  'partition',
  'linkRules',
  'typeRules',
  'slowDisk',
  'addNode',
  'removeNode',
  'replaceNode',
  'transferLeader',
  'kv',
  'workload',
  'scenarios',
  'pace',
  'messages',
  'linkDetail',
  'nodeLogs',
  'logEntries',
] as const;
export type EngineFeature = (typeof ENGINE_FEATURES)[number];

/** EngineKind: whose members the cluster runs: raftdeck's own nodes, or etcd. */
export type EngineKind = 'raftdeck' | 'etcd';

/**
 * EngineView: which engine runs the members and how raftdeck holds them: `local` (raftdeck
 * started them and may break them), `attached` (someone else's cluster, reached by its
 * endpoints: read-only unless changes were allowed) or `lab` (the simulated network).
 */
export interface EngineView {
  kind: EngineKind;
  /** version: the engine's version ("3.4.23"), '' when unknown. */
  version: string;
  mode: 'local' | 'attached' | 'lab';
  /**
   * unavailable: the features this engine (or mode) cannot carry out, each with the reason a
   * page shows instead of the control ("message-type rules need raftdeck's own transport");
   * a feature missing here is available.
   */
  unavailable: Partial<Record<EngineFeature, string>>;
  /** endpoints: the client endpoints the cluster was reached by (attached clusters), else []. */
  endpoints: string[];
}

/** RAFTDECK_ENGINE: raftdeck's own nodes, started here: everything available. */
export const RAFTDECK_ENGINE: Readonly<EngineView> = Object.freeze({
  kind: 'raftdeck',
  version: '',
  mode: 'local',
  unavailable: Object.freeze({}),
  endpoints: Object.freeze([]) as unknown as string[],
});

/**
 * unavailableReason: why `feature` cannot be used on the cluster `view` shows, or null when it
 * can. A view recorded before engines were named is raftdeck's own (everything available).
 */
export function unavailableReason(
  view: { engine?: EngineView | undefined },
  feature: EngineFeature,
): string | null {
  return view.engine?.unavailable[feature] ?? null;
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
  /** pace: the cluster's demo pace (1 = real time). */
  pace: PaceView;
  /** links: every directed link between members that are not removed, by (from, to). */
  links: LinkView[];
  /** commitQuorum: how the leader's last entry stands; null without a leader. */
  commitQuorum: CommitQuorum | null;
  /** lab: the lab's controls and network, on a lab cluster; null on real processes and recordings of them. */
  lab: LabView | null;
  /** engine: which engine runs the members, and what it cannot do (see EngineView). */
  engine: EngineView;
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

/**
 * RecordingInfo: what the cluster's recording holds. `source` 'live': the cluster runs and the
 * supervisor appends to the recording in its folder as it goes; 'file': a recording opened
 * without a cluster (`raftdeck replay FILE`), so nothing can be changed and there is no live view.
 * `from`/`to`: the first and last instants recorded (null while empty); `bytes` on disk against
 * `limitBytes` (the oldest segments are dropped beyond it); `recording`: new moments are still
 * being added; `notes`: what a reader should know, in words (a damaged segment skipped, an unknown
 * format version, the oldest segments dropped, recording stopped after a write error).
 */
export interface RecordingInfo {
  source: 'live' | 'file';
  path: string;
  clusterId: string;
  formatVersion: number;
  from: number | null;
  to: number | null;
  bytes: number;
  limitBytes: number;
  segments: number;
  recording: boolean;
  notes: string[];
}

/**
 * RecordedMoment: the cluster as recorded at instant `time`: `view` is the latest view recorded
 * at or before it (null before the first), `viewTime` when that view was recorded.
 */
export interface RecordedMoment {
  time: number;
  view: ClusterView | null;
  viewTime: number | null;
}

/** RECORDED_LIMIT: the most events or messages one recordedEvents/recordedMessages call answers. */
export const RECORDED_LIMIT = 10_000;

/**
 * LogEntryKind: what an entry is: the leader's no-op (empty entry of a new term), a key-value
 * command, a configuration change, or something that does not decode ('unknown').
 */
export type LogEntryKind = 'noop' | 'put' | 'del' | 'cas' | 'config' | 'unknown';

/**
 * LogEntryView: one log entry decoded for a person. `bytes`: its payload size. For put/del/cas:
 * `key`, `value` and `expected` as text previews (at most PREVIEW_CHARS characters; `valueBytes`
 * the whole value's size) and the client session (`client`, `seq`) that proposed it. For config:
 * `config` says what it changes ("add learner 4", "promote 4", "remove 2"). `summary`: the entry
 * in one line. `error`: why it did not decode (kind 'unknown').
 */
export interface LogEntryView {
  index: number;
  term: number;
  kind: LogEntryKind;
  bytes: number;
  summary: string;
  key?: string;
  value?: string | null;
  valueBytes?: number;
  expected?: string | null;
  client?: string;
  seq?: number;
  config?: string;
  error?: string;
}

/** PREVIEW_CHARS: the longest key or value preview a LogEntryView carries. */
export const PREVIEW_CHARS = 120;

/**
 * EntryHolder: how one node's log stands at one index. 'holds': the same term as the reference
 * node's entry; 'conflict': another term (its own entry is in `entry`, to show side by side);
 * 'missing': beyond its last index; 'compacted': below its first index (folded into its snapshot
 * at `snapshotIndex`); 'unreachable': the node did not answer (`error`). Times (ms since the
 * epoch, the node's clock) are when that node appended, committed and applied the entry, where it
 * still remembers (null otherwise).
 */
export interface EntryHolder {
  node: NodeId;
  state: 'holds' | 'conflict' | 'missing' | 'compacted' | 'unreachable';
  term: number | null;
  entry: LogEntryView | null;
  appendedAt: number | null;
  committedAt: number | null;
  appliedAt: number | null;
  snapshotIndex: number | null;
  error: string | null;
}

/** LogRow: one index: the reference node's entry (null where it has none) and every node's. */
export interface LogRow {
  index: number;
  entry: LogEntryView | null;
  holders: EntryHolder[];
}

/**
 * LogQuery: which entries to inspect: `count` entries from index `from`; with `key`, only entries
 * on that key, searching forward from `from` (a bounded scan; `LogInspection.scannedTo` says how
 * far it got).
 */
export interface LogQuery {
  from: number;
  count: number;
  key?: string;
}

/**
 * LogInspection: the answer to a LogQuery. `reference`: the node whose log the rows follow (the
 * leader, else the running node with the longest log; 0 if none answered). `nodes`: each member's
 * log bounds as it reported them. `rows` in index order. `scannedTo`: the last index looked at.
 * `note`: why fewer rows came than asked (the byte bound, the end of the log, compaction), or null.
 */
export interface LogInspection {
  reference: NodeId;
  nodes: {
    id: NodeId;
    firstIndex: number | null;
    lastIndex: number | null;
    snapshotIndex: number | null;
    commit: number | null;
    applied: number | null;
    error: string | null;
  }[];
  rows: LogRow[];
  scannedTo: number;
  note: string | null;
}

/** LOG_QUERY_MAX: the most entries one logEntries call answers. */
export const LOG_QUERY_MAX = 200;

/**
 * LabStepUntil: where one lab step stops: after the next message taken off the simulated
 * network ('message'), after the next tick of a node that is up ('tick'), or after the first
 * change of any node's role, term or leader, or of whether it is up ('event').
 */
export type LabStepUntil = 'message' | 'tick' | 'event';

/**
 * LabAction: what the lab's controls ask of a lab cluster (labControl):
 *  - 'play' / 'pause': run virtual time at `speed` × real time, or hold it;
 *  - 'step': pause (if playing) and run until `until` (see LabStepUntil);
 *  - 'speed': virtual ms per real ms, LAB_MIN_SPEED..LAB_MAX_SPEED;
 *  - 'drop' / 'duplicate' / 'delay': act on one message in flight by its id (LabMessageView.id);
 *    'delay' holds it `ms` longer;
 *  - 'crash': kill a node's process; what it wrote but had not fsynced is 'kept' (the process
 *    died, the page cache survived) or 'lost' (the machine lost power);
 *  - 'timers': 'align' sets every follower's election timer to the same remaining time (to
 *    provoke a split vote), 'spread' draws them apart again.
 */
export type LabAction =
  | { kind: 'play' }
  | { kind: 'pause' }
  | { kind: 'step'; until: LabStepUntil }
  | { kind: 'speed'; speed: number }
  | { kind: 'drop'; id: number }
  | { kind: 'duplicate'; id: number }
  | { kind: 'delay'; id: number; ms: number }
  | { kind: 'crash'; node: NodeId; unsynced: 'kept' | 'lost' }
  | { kind: 'timers'; how: 'align' | 'spread' };

/** LAB_MIN_SPEED, LAB_MAX_SPEED: the bounds of a lab's speed; LAB_SPEEDS: what the controls offer. */
export const LAB_MIN_SPEED = 0.1;
export const LAB_MAX_SPEED = 100;
export const LAB_SPEEDS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 100];
/** LAB_MAX_DELAY_MS: the longest a 'delay' action may hold a message. */
export const LAB_MAX_DELAY_MS = 60_000;
/** LAB_IN_FLIGHT_MAX: at most this many messages in flight are listed in a view (inFlightTotal counts all). */
export const LAB_IN_FLIGHT_MAX = 500;

/**
 * LabMessageView: one message on the lab's simulated network, exactly as it is (never sampled):
 * its header, `id` (unique within the run, in the order messages were sent; a duplicate gets its
 * own), when it was sent and when it will be delivered (virtual ms, the view's `now` clock).
 */
export interface LabMessageView extends MessageHeaderView {
  id: number;
  sentAt: number;
  deliverAt: number;
}

/** MessageHeaderView: a message's header (see main/raft/message-header.ts). */
export type MessageHeaderView = Omit<
  MessageTrace,
  'seq' | 'time' | 'dir' | 'fate' | 'delayMs' | 'bytes'
>;

/**
 * LabFailure: the first safety invariant a lab run broke: its name ("election safety", "log
 * matching", "state machine safety", "leader completeness", "commit monotonicity", "durability",
 * "linearizable reads", "liveness", …), the nodes involved, the step (LabView.steps) and virtual
 * time it broke at, and the checker's own words.
 */
export interface LabFailure {
  invariant: string;
  nodes: NodeId[];
  step: number;
  at: number;
  text: string;
}

/**
 * LabView: the lab's own state, present on a lab cluster's view only (null elsewhere). `now` is
 * virtual ms since the run began (the view's `now` is the same instant on the view's clock);
 * `steps` counts the events the lab ran; `inFlight` lists the messages on the network by
 * delivery time (at most LAB_IN_FLIGHT_MAX; `inFlightTotal` counts them all); `lastStep` says in
 * words what the last step did; `failure` the first invariant broken (the lab pauses there);
 * `source` where the run comes from ("seed 7", "simulator seed 1234 with mutation
 * send-before-fsync", "schedule lesson.json").
 */
export interface LabView {
  seed: number;
  playing: boolean;
  speed: number;
  now: number;
  steps: number;
  inFlight: LabMessageView[];
  inFlightTotal: number;
  lastStep: string | null;
  failure: LabFailure | null;
  source: string;
}
