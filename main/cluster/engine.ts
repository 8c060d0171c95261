/**
 * engine: the seam between what raftdeck does with a cluster (dashboard, control port, workload,
 * checker, scenarios, recording) and the members that run it. A ClusterEngine starts or adopts
 * members, knows their addresses, polls their status into the one view projection, turns what
 * they log into the event stream, carries out faults and membership workflows, and opens clients
 * for the workload and the console. raftdeck's own nodes (Supervisor) are one implementation, etcd
 * (main/cluster/etcd) the second. What an engine cannot do is named in its EngineView with the
 * reason, and its methods for it throw EngineUnavailable with that reason.
 */
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  EngineFeature,
  EngineView,
  EventKind,
  LinkDetail,
  LinkRule,
  LogInspection,
  LogQuery,
  MessageBatch,
  NodeId,
  PaceView,
  ScenarioRun,
  WorkflowView,
  WorkloadView,
} from '../contract/view';
import { CallRefused } from '../contract/api';
import type { CasResult, KvExecution, KvOperation, KvResultOf, KvValue } from '../node/client';
import type { ViewParts } from '../view/projection';

/**
 * KvSession is one client of the cluster's key-value store, as the console, the workload and the
 * scenarios use it. A write whose outcome is not known throws UnknownOutcomeError (never a plain
 * failure), a definite failure throws KvError; `servedBy` is the client address that answered.
 */
export interface KvSession {
  execute<O extends KvOperation>(op: O): Promise<KvExecution<KvResultOf<O>>>;
  put(key: string, value: KvValue): Promise<{ prev: Uint8Array | null }>;
  get(key: string): Promise<Uint8Array | null>;
  del(key: string): Promise<{ prev: Uint8Array | null }>;
  cas(key: string, expected: KvValue | null, value: KvValue): Promise<CasResult>;
  close(): Promise<void>;
}

/** KvSessionOptions: how a session identifies itself and how long one operation may take. */
export interface KvSessionOptions {
  clientId: string;
  timeoutMs: number;
  /** via: talk to this member only (default: any member, following the leader). */
  via?: NodeId;
}

/** WorkflowRun: a membership workflow that has started, and its end. */
export interface WorkflowRun {
  view: WorkflowView;
  run: Promise<WorkflowView>;
}

/**
 * EngineUnavailable: the engine cannot do this at all; the message is the reason to show. It is
 * a CallRefused, so the dashboard's transports answer it as a refusal (409), not a failure.
 */
export class EngineUnavailable extends CallRefused {
  constructor(
    readonly feature: EngineFeature,
    message: string,
  ) {
    super(message);
    this.name = 'EngineUnavailable';
  }
}

/**
 * ClusterEngine is what everything above the members works with. Views and events come in order
 * (onView / onEvent from the moment of subscribing; eventsSince for what came before); every
 * change of the view parts (workflows, workload, checker, scenario) shows in the next view.
 */
export interface ClusterEngine {
  /** dir: the cluster folder ('' for an attached cluster raftdeck keeps no folder for). */
  readonly dir: string;
  readonly clusterId: string;
  readonly state: ClusterView['state'];
  /** engine: which engine this is and what it cannot do (also in every view). */
  engineView(): EngineView;
  /** timing: the members' heartbeat and election timeout at real time (ms). */
  readonly timing: { heartbeatMs: number; electionMs: number };
  /** recordLimitMiB: the bound of the cluster's recording on disk (0: memory only). */
  readonly recordLimitMiB: number;

  start(): Promise<void>;
  /** stop ends everything this engine started (processes, proxies, polls); idempotent. */
  stop(): Promise<void>;

  view(): ClusterView;
  onView(cb: (v: ClusterView) => void): () => void;
  onEvent(cb: (e: ClusterEvent) => void): () => void;
  onMessages(cb: (batch: MessageBatch) => void): () => void;
  eventsSince(seq: number): ClusterEvent[];
  allEvents(): ClusterEvent[];
  /** event adds one event to the stream (and pushes it). */
  event(
    node: NodeId | null,
    kind: EventKind,
    message: string,
    data?: Record<string, unknown>,
  ): ClusterEvent;

  readonly parts: Readonly<ViewParts>;
  putWorkflow(w: WorkflowView): void;
  setWorkload(w: WorkloadView | null): void;
  setChecker(c: CheckerView): void;
  setScenario(run: ScenarioRun | null): void;

  /** pace: the demo pace (engines without one stay at real time). */
  readonly pace: PaceView;
  setPace(pace: number, fastFailover: boolean): Promise<void>;
  /** leaderId: the leader the view shows now (0: none). */
  leaderId(): NodeId;
  /** pids: the member processes running now (none for an attached cluster). */
  pids(): number[];

  kill(id: NodeId): Promise<void>;
  stopNode(id: NodeId): Promise<void>;
  restart(id: NodeId): Promise<void>;
  pause(id: NodeId): void;
  resume(id: NodeId): void;
  setAutoRestart(id: NodeId, on: boolean): void;

  isolate(id: NodeId): Promise<void>;
  partition(groups: NodeId[][]): Promise<void>;
  heal(): Promise<void>;
  /** setLinkRules replaces member `id`'s own link rules (see LinkRule). */
  setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void>;
  /** linkRules: member `id`'s own link rules in force. */
  linkRules(id: NodeId): LinkRule[];
  setSlowDisk(id: NodeId, ms: number): Promise<void>;
  clearAllFaults(): Promise<{ summary: string; failed: string[] }>;

  /** addNode: a fresh member joins as a learner, catches up and is promoted (a workflow). */
  addNode(): Promise<WorkflowRun>;
  removeNode(id: NodeId): Promise<WorkflowRun>;
  replaceNode(id: NodeId): Promise<WorkflowRun>;
  transferLeader(id: NodeId): Promise<WorkflowRun>;

  /** kvSession opens a client of the cluster's key-value store (see KvSession). */
  kvSession(options: KvSessionOptions): KvSession;

  /** linkDetail: the counters and latest messages of a link (engines that trace messages). */
  linkDetail?(from: NodeId, to: NodeId): Promise<LinkDetail>;
  /** nodeLogs: the tail of a member's own log, one record per line, oldest first. */
  nodeLogs?(id: NodeId, lines: number): Promise<Record<string, unknown>[]>;
  /** logEntries: the members' logs side by side (engines whose members expose their log). */
  logEntries?(query: LogQuery): Promise<LogInspection>;
}

/**
 * refuseUnavailable throws EngineUnavailable when `engine` cannot do `feature` (with its reason).
 */
export function refuseUnavailable(engine: ClusterEngine, feature: EngineFeature): void {
  const why = engine.engineView().unavailable[feature];
  if (why !== undefined) throw new EngineUnavailable(feature, why);
}
