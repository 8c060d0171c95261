/**
 * api: the dashboard API, written once. main/app implements it over Electron IPC, main/web over
 * HTTP + WebSocket, preload exposes it, and the renderer calls it. Every call's arguments are
 * validated in main (see validate.ts). A call missing from CALLS, or an extra one, fails to compile.
 */
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  LinkDetail,
  LinkRule,
  LogInspection,
  LabAction,
  LogQuery,
  MessageBatch,
  MessageTrace,
  NodeId,
  RecordedMoment,
  RecordingInfo,
  ScenarioInfo,
  WorkloadOptions,
} from './view';

/** KvOutcome: what the client console shows for one operation. */
export interface KvOutcome {
  ok: boolean;
  /** value: the value read (get), or the current value on a failed cas. */
  value: string | null;
  prev: string | null;
  error: string | null;
  /** servedBy: the node that answered, when known. */
  servedBy: NodeId | null;
  ms: number;
}

export interface DashboardApi {
  getView(): Promise<ClusterView>;
  getEvents(sinceSeq: number): Promise<ClusterEvent[]>;

  killNode(id: NodeId): Promise<void>;
  stopNode(id: NodeId): Promise<void>;
  restartNode(id: NodeId): Promise<void>;
  pauseNode(id: NodeId): Promise<void>;
  resumeNode(id: NodeId): Promise<void>;
  setAutoRestart(id: NodeId, on: boolean): Promise<void>;

  isolateNode(id: NodeId): Promise<void>;
  partition(groups: NodeId[][]): Promise<void>;
  healNetwork(): Promise<void>;
  setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void>;
  setSlowDisk(id: NodeId, fsyncDelayMs: number): Promise<void>;
  /**
   * clearAllFaults heals the network, restores disks, resumes paused nodes and starts killed or
   * stopped members again (not one whose data folder is gone); `summary` says what it did.
   */
  clearAllFaults(): Promise<{ summary: string }>;

  addNode(): Promise<{ workflowId: string }>;
  removeNode(id: NodeId): Promise<{ workflowId: string }>;
  /**
   * replaceNode removes member `id` and adds a fresh node (new id, new data folder) in its place:
   * the safe way back for a member whose data folder is gone (NodeView.startRefused).
   */
  replaceNode(id: NodeId): Promise<{ workflowId: string }>;
  transferLeader(id: NodeId): Promise<{ workflowId: string }>;

  kvPut(key: string, value: string): Promise<KvOutcome>;
  kvGet(key: string): Promise<KvOutcome>;
  kvDel(key: string): Promise<KvOutcome>;
  kvCas(key: string, expected: string | null, value: string): Promise<KvOutcome>;

  startWorkload(options: WorkloadOptions): Promise<void>;
  stopWorkload(): Promise<void>;
  checkHistory(): Promise<CheckerView>;
  exportHistory(): Promise<{ json: string }>;
  exportEvents(): Promise<{ json: string }>;

  listScenarios(): Promise<ScenarioInfo[]>;
  runScenario(name: string): Promise<void>;
  /** pauseScenario holds the running scenario before its next step (an error if none runs). */
  pauseScenario(): Promise<void>;
  /** resumeScenario lets a paused scenario go on. */
  resumeScenario(): Promise<void>;
  /** stepScenario runs the next step of a paused scenario, then holds it again. */
  stepScenario(): Promise<void>;

  /**
   * setPace slows every node of the cluster down `pace` times (1 = real time; see PaceView), now
   * and for nodes that start later, and sets whether followers campaign at once when their
   * leader's process is gone.
   */
  setPace(pace: number, fastFailover: boolean): Promise<void>;
  /** linkDetail: the counters and latest messages of the link from → to (see LinkDetail). */
  linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail>;

  nodeLogs(id: NodeId, lines: number): Promise<Record<string, unknown>[]>;

  /** recordingInfo: what the cluster's recording holds (see RecordingInfo). */
  recordingInfo(): Promise<RecordingInfo>;
  /** viewAt: the cluster as recorded at `time` (ms since the epoch); see RecordedMoment. */
  viewAt(time: number): Promise<RecordedMoment>;
  /**
   * recordedEvents: the events recorded with from <= time <= to, oldest first, at most `limit`
   * (the latest ones when there are more).
   */
  recordedEvents(from: number, to: number, limit: number): Promise<ClusterEvent[]>;
  /**
   * recordedMessages: the sampled messages recorded (the `messages` push) with from <= time <= to,
   * oldest first, at most `limit` (the latest ones when there are more).
   */
  recordedMessages(from: number, to: number, limit: number): Promise<MessageTrace[]>;
  /** logEntries: entries of the members' logs, decoded, side by side (see LogQuery, LogInspection). */
  logEntries(query: LogQuery): Promise<LogInspection>;
  /**
   * labControl: play, pause, step, speed, act on a message in flight, crash a node, align or
   * spread timers (see LabAction) on a lab cluster; `summary` says what it did ("dropped vote
   * 2→3 (term 4)"). Any other dashboard refuses it with CallRefused.
   */
  labControl(action: LabAction): Promise<{ summary: string }>;
  /**
   * exportLabSchedule: the lab run so far (seed, options and every action at the step it was
   * taken) as a schedule file (JSON) that `npm run sim -- --schedule FILE` replays as a regression
   * test and `raftdeck lab --schedule FILE` opens. Any other dashboard refuses it with CallRefused.
   */
  exportLabSchedule(): Promise<{ json: string }>;
}

export type CallName = keyof DashboardApi;

/** CALLS lists every request/response channel; the check below makes a missing or extra one a compile error. */
export const CALLS = [
  'getView',
  'getEvents',
  'killNode',
  'stopNode',
  'restartNode',
  'pauseNode',
  'resumeNode',
  'setAutoRestart',
  'isolateNode',
  'partition',
  'healNetwork',
  'setLinkRules',
  'setSlowDisk',
  'clearAllFaults',
  'addNode',
  'removeNode',
  'replaceNode',
  'transferLeader',
  'kvPut',
  'kvGet',
  'kvDel',
  'kvCas',
  'startWorkload',
  'stopWorkload',
  'checkHistory',
  'exportHistory',
  'exportEvents',
  'listScenarios',
  'runScenario',
  'pauseScenario',
  'resumeScenario',
  'stepScenario',
  'setPace',
  'linkDetail',
  'nodeLogs',
  'recordingInfo',
  'viewAt',
  'recordedEvents',
  'recordedMessages',
  'logEntries',
  'labControl',
  'exportLabSchedule',
] as const satisfies readonly CallName[];

/**
 * READ_ONLY_CALLS: the calls that only look; every other call changes the cluster (or its
 * workload, checker or scenario), and is refused while the dashboard replays a recorded moment and
 * by a recording opened without a cluster.
 */
export const READ_ONLY_CALLS = [
  'getView',
  'getEvents',
  'exportHistory',
  'exportEvents',
  'listScenarios',
  'linkDetail',
  'nodeLogs',
  'recordingInfo',
  'viewAt',
  'recordedEvents',
  'recordedMessages',
  'logEntries',
  'exportLabSchedule',
] as const satisfies readonly CallName[];

const READ_ONLY_SET: ReadonlySet<string> = new Set(READ_ONLY_CALLS);
/** changesCluster: whether a call changes something (it is not in READ_ONLY_CALLS). */
export const changesCluster = (name: CallName): boolean => !READ_ONLY_SET.has(name);

type Missing = Exclude<CallName, (typeof CALLS)[number]>;
/** A compile error here names a DashboardApi method missing from CALLS. */
export const CALLS_COMPLETE: [Missing] extends [never] ? true : Missing = true;

/** Pushes: what main sends the renderer without being asked. */
export interface DashboardPushes {
  view: ClusterView;
  event: ClusterEvent;
  /** messages: sampled messages the nodes sent, for the Topology view (see MessageBatch). */
  messages: MessageBatch;
}

export type PushName = keyof DashboardPushes;
export const PUSHES = ['view', 'event', 'messages'] as const satisfies readonly PushName[];

/**
 * PushSource is where main gets the pushes from: the supervisor (or a stand-in) calls each
 * subscriber with every new view and every event, in order. Each subscribe returns its unsubscribe.
 */
export interface PushSource {
  onView(cb: (view: ClusterView) => void): () => void;
  onEvent(cb: (event: ClusterEvent) => void): () => void;
  onMessages(cb: (batch: MessageBatch) => void): () => void;
}

/** PushHandler receives one push of the named kind. */
export type PushHandler<P extends PushName> = (payload: DashboardPushes[P]) => void;

/**
 * DashboardBridge is what preload exposes as `window.raftdeck`: exactly one function per call,
 * plus `on` to subscribe to a push (returns its unsubscribe). Nothing else.
 */
export type DashboardBridge = { readonly [K in CallName]: DashboardApi[K] } & {
  readonly on: <P extends PushName>(push: P, handler: PushHandler<P>) => () => void;
};

/**
 * CallReply is how a call's result crosses IPC and the WebSocket: a value, or an error message
 * with a status (400 invalid arguments, 403 refused sender, 404 unknown call, 409 the call cannot
 * be carried out by this dashboard at all — see CallRefused —, 500 the call failed).
 */
export type CallReply<T = unknown> =
  { ok: true; value: T } | { ok: false; status: 400 | 403 | 404 | 409 | 500; error: string };

/**
 * CallRefused: what an implementation throws for a call it can never carry out, whatever the
 * arguments and the moment (a recording opened without a cluster refuses every change); the
 * transports answer it with status 409 instead of 500.
 */
export class CallRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallRefused';
  }
}

/** Channel names on the wire (IPC channel or WebSocket message type). */
export const callChannel = (name: CallName): string => `raftdeck:call:${name}`;
export const pushChannel = (name: PushName): string => `raftdeck:push:${name}`;

export type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  LinkDetail,
  LinkRule,
  LogInspection,
  LogQuery,
  MessageBatch,
  MessageTrace,
  NodeId,
  RecordedMoment,
  RecordingInfo,
  ScenarioInfo,
  WorkloadOptions,
};
