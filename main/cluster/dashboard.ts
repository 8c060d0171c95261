import { CallRefused, type DashboardApi, type KvOutcome, type PushSource } from '../contract/api';
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  EngineFeature,
  LinkDetail,
  LinkRule,
  LogInspection,
  LabAction,
  LogQuery,
  MessageBatch,
  MessageTrace,
  NodeId,
  PaceView,
  RecordedMoment,
  RecordingInfo,
  ScenarioInfo,
  WorkloadOptions,
} from '../contract/view';
import { KvError, UnknownOutcomeError } from '../node/client';
import type { KvOperation } from '../node/client';
import { check, checkerView } from './checker/porcupine';
import { historyToJson } from './checker/history';
import { listScenarios, runScenario } from './scenarios';
import { ScenarioControl } from './scenarios/control';
import { connectAdmin } from './admin-link';
import type { NodeCommand } from './node-command';
import { IDLE_CHECKER } from '../view/projection';
import { openClusterRecording } from './recording/cluster-recording';
import { MemoryRecording } from './recording/memory-recording';
import { recordPushes } from './recording/recording';
import type { Recording } from './recording/recording';
import type { ClusterEngine, KvSession } from './engine';
import { EngineUnavailable } from './engine';
import { RaftdeckEngine } from './raftdeck-engine';
import { folderEngine } from './manifest';
import { Supervisor } from './supervisor';
import { Workload } from './workload';

/** NOT_A_LAB: why a cluster of real processes refuses the lab's controls. */
const NOT_A_LAB =
  'this cluster runs real node processes: stepping, message controls and schedules exist only in a lab cluster (raftdeck lab)';

export { LOG_CALL_TIMEOUT_MS } from './raftdeck-engine';

const dec = new TextDecoder();
const str = (v: Uint8Array | null | undefined): string | null => (v ? dec.decode(v) : null);

/**
 * ClusterDashboard is the dashboard API over a running cluster engine (raftdeck's own nodes or
 * etcd; see ClusterEngine): every button of the dashboard is one of these calls, and the same
 * object feeds the pushes (views and events). main/app binds it to Electron IPC and main/web to
 * HTTP + WebSocket; both validate arguments before calling. A call the engine cannot carry out
 * (EngineView.unavailable) is refused with CallRefused and the engine's reason, before anything
 * is tried.
 */
export class ClusterDashboard implements DashboardApi, PushSource {
  private kv: KvSession | undefined;
  private kvEndpoints = '';
  private workload: Workload | undefined;
  private scenarioRunning = false;
  /** control: pause, step and resume of the running scenario (none when no scenario runs). */
  private control: ScenarioControl | undefined;

  private readonly stopRecording: () => void;

  /**
   * The dashboard records everything the supervisor pushes into `recording` (kept in memory
   * unless one is given) from the moment it is made, for time travel.
   */
  constructor(
    readonly engine: ClusterEngine,
    readonly recording: Recording = new MemoryRecording(),
  ) {
    this.stopRecording = recordPushes(engine, recording);
  }

  /** need refuses a call the engine cannot carry out, with the engine's reason. */
  private need(feature: EngineFeature): void {
    const why = this.engine.engineView().unavailable[feature];
    if (why !== undefined) throw new EngineUnavailable(feature, why);
  }

  onView(cb: (view: ClusterView) => void): () => void {
    return this.engine.onView(cb);
  }

  onEvent(cb: (event: ClusterEvent) => void): () => void {
    return this.engine.onEvent(cb);
  }

  onMessages(cb: (batch: MessageBatch) => void): () => void {
    return this.engine.onMessages(cb);
  }

  async getView(): Promise<ClusterView> {
    return this.engine.view();
  }

  async getEvents(sinceSeq: number): Promise<ClusterEvent[]> {
    return this.engine.eventsSince(sinceSeq);
  }

  // ---------------------------------------------------------------- processes

  async killNode(id: NodeId): Promise<void> {
    this.need('kill');
    return this.engine.kill(id);
  }

  async stopNode(id: NodeId): Promise<void> {
    this.need('stop');
    return this.engine.stopNode(id);
  }

  async restartNode(id: NodeId): Promise<void> {
    this.need('restart');
    return this.engine.restart(id);
  }

  async pauseNode(id: NodeId): Promise<void> {
    this.need('pause');
    this.engine.pause(id);
  }

  async resumeNode(id: NodeId): Promise<void> {
    this.need('pause');
    this.engine.resume(id);
  }

  async setAutoRestart(id: NodeId, on: boolean): Promise<void> {
    this.need('autoRestart');
    this.engine.setAutoRestart(id, on);
  }

  // ---------------------------------------------------------------- network and disk

  async isolateNode(id: NodeId): Promise<void> {
    this.need('isolate');
    return this.engine.isolate(id);
  }

  async partition(groups: NodeId[][]): Promise<void> {
    this.need('partition');
    return this.engine.partition(groups);
  }

  async healNetwork(): Promise<void> {
    this.need('partition');
    return this.engine.heal();
  }

  async setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void> {
    this.need('linkRules');
    if (rules.some((r) => r.types !== undefined || r.snapshotOffset !== undefined))
      this.need('typeRules');
    return this.engine.setLinkRules(id, rules);
  }

  async setSlowDisk(id: NodeId, fsyncDelayMs: number): Promise<void> {
    this.need('slowDisk');
    return this.engine.setSlowDisk(id, fsyncDelayMs);
  }

  async clearAllFaults(): Promise<{ summary: string }> {
    const { summary } = await this.engine.clearAllFaults();
    return { summary };
  }

  // ---------------------------------------------------------------- membership

  async addNode(): Promise<{ workflowId: string }> {
    this.need('addNode');
    const { view } = await this.engine.addNode();
    return { workflowId: view.id };
  }

  async removeNode(id: NodeId): Promise<{ workflowId: string }> {
    this.need('removeNode');
    const { view } = await this.engine.removeNode(id);
    return { workflowId: view.id };
  }

  async replaceNode(id: NodeId): Promise<{ workflowId: string }> {
    this.need('replaceNode');
    const { view } = await this.engine.replaceNode(id);
    return { workflowId: view.id };
  }

  async transferLeader(id: NodeId): Promise<{ workflowId: string }> {
    this.need('transferLeader');
    const { view } = await this.engine.transferLeader(id);
    return { workflowId: view.id };
  }

  // ---------------------------------------------------------------- client console

  private client(): KvSession {
    const view = this.engine.view();
    const key = view.nodes
      .filter((n) => n.membership !== 'removed')
      .map((n) => n.addresses.client)
      .join(',');
    if (!this.kv || key !== this.kvEndpoints) {
      void this.kv?.close();
      this.kv = this.engine.kvSession({ clientId: `console-${process.pid}`, timeoutMs: 5000 });
      this.kvEndpoints = key;
    }
    return this.kv;
  }

  private async run(op: KvOperation): Promise<KvOutcome> {
    // refused before anything is sent (a read-only attached cluster takes no reads or writes here)
    this.need('kv');
    const started = performance.now();
    const byAddress = (addr: string): NodeId | null =>
      this.engine.view().nodes.find((n) => n.addresses.client === addr)?.id ?? null;
    try {
      const r = await this.client().execute(op);
      const ms = Number((performance.now() - started).toFixed(2));
      const servedBy = byAddress(r.servedBy);
      const res = r.result as unknown;
      let out: KvOutcome;
      if (op.op === 'get') {
        out = {
          ok: true,
          value: str(res as Uint8Array | null),
          prev: null,
          error: null,
          servedBy,
          ms,
        };
      } else if (op.op === 'cas') {
        const c = res as { ok: boolean; current?: Uint8Array | null };
        out = c.ok
          ? { ok: true, value: null, prev: null, error: null, servedBy, ms }
          : {
              ok: false,
              value: str(c.current),
              prev: null,
              error: 'compare failed: the key holds another value',
              servedBy,
              ms,
            };
      } else {
        out = {
          ok: true,
          value: null,
          prev: str((res as { prev: Uint8Array | null }).prev),
          error: null,
          servedBy,
          ms,
        };
      }
      this.engine.event(
        servedBy,
        'client',
        `${op.op} ${JSON.stringify(op.key)}: ${out.ok ? 'ok' : out.error} (node ${servedBy ?? '?'}, ${ms} ms)`,
      );
      return out;
    } catch (e) {
      const ms = Number((performance.now() - started).toFixed(2));
      const error =
        e instanceof UnknownOutcomeError
          ? `outcome unknown: ${e.message}`
          : e instanceof KvError
            ? `${e.code}: ${e.message}`
            : (e as Error).message;
      this.engine.event(null, 'client', `${op.op} ${JSON.stringify(op.key)} failed: ${error}`);
      return { ok: false, value: null, prev: null, error, servedBy: null, ms };
    }
  }

  kvPut(key: string, value: string): Promise<KvOutcome> {
    return this.run({ op: 'put', key, value });
  }

  kvGet(key: string): Promise<KvOutcome> {
    return this.run({ op: 'get', key });
  }

  kvDel(key: string): Promise<KvOutcome> {
    return this.run({ op: 'del', key });
  }

  kvCas(key: string, expected: string | null, value: string): Promise<KvOutcome> {
    return this.run({ op: 'cas', key, expected, value });
  }

  // ---------------------------------------------------------------- workload and checker

  async startWorkload(options: WorkloadOptions): Promise<void> {
    if (this.workload?.isRunning) throw new Error('a workload is already running; stop it first');
    this.need('workload');
    const wl = new Workload(
      (clientId, timeoutMs) => this.engine.kvSession({ clientId, timeoutMs }),
      options,
      () => {
        this.engine.setWorkload(wl.view());
      },
    );
    this.workload = wl;
    this.engine.setChecker({ ...IDLE_CHECKER });
    wl.start();
    this.engine.event(
      null,
      'workload',
      `workload started: ${options.clients} clients, ${options.rate ? `${options.rate} ops/s` : 'closed loop'}, ${options.keys} keys`,
    );
  }

  async stopWorkload(): Promise<void> {
    const wl = this.workload;
    if (!wl?.isRunning) return;
    await wl.stop();
    this.engine.event(
      null,
      'workload',
      `workload stopped: ${wl.totals.ok} ok, ${wl.totals.failed} failed, ${wl.totals.unknown} unknown`,
    );
  }

  async checkHistory(): Promise<CheckerView> {
    const wl = this.workload;
    if (!wl || wl.history.length === 0)
      throw new Error('no history to check: run the workload first');
    const ops = wl.history.filter((o) => o.outcome !== 'ok' || o.complete !== undefined);
    this.engine.setChecker({
      state: 'running',
      result: null,
      operations: ops.length,
      keys: 0,
      ms: null,
      failure: null,
    });
    // Let the 'running' state reach the dashboard before the (synchronous) search starts.
    await new Promise((r) => setTimeout(r, 60));
    const r = check(ops, { timeoutMs: 30_000 });
    const view = checkerView(ops.length, r);
    this.engine.setChecker(view);
    this.engine.event(
      null,
      'checker',
      `history of ${ops.length} operations on ${view.keys} keys: ${r.result} (${view.ms} ms)`,
    );
    return view;
  }

  async exportHistory(): Promise<{ json: string }> {
    return { json: historyToJson(this.workload?.history ?? []) };
  }

  async exportEvents(): Promise<{ json: string }> {
    return {
      json: JSON.stringify(
        { clusterId: this.engine.clusterId, events: this.engine.allEvents() },
        null,
        1,
      ),
    };
  }

  // ---------------------------------------------------------------- scenarios and logs

  async listScenarios(): Promise<ScenarioInfo[]> {
    return listScenarios(this.engine.engineView().kind);
  }

  async runScenario(name: string): Promise<void> {
    if (this.scenarioRunning) throw new Error('a scenario is already running');
    this.need('scenarios');
    if (!listScenarios(this.engine.engineView().kind).some((s) => s.name === name)) {
      throw new Error(
        `no scenario '${name}'; known: ${listScenarios(this.engine.engineView().kind)
          .map((s) => s.name)
          .join(', ')}`,
      );
    }
    this.scenarioRunning = true;
    const control = new ScenarioControl();
    this.control = control;
    // The scenario narrates itself through the view; the call returns once it has started.
    void runScenario(this.engine, name, control)
      .catch((e: Error) =>
        this.engine.event(null, 'scenario', `scenario ${name} could not run: ${e.message}`),
      )
      .finally(() => {
        this.scenarioRunning = false;
        if (this.control === control) this.control = undefined;
      });
  }

  private running(): ScenarioControl {
    if (!this.control) throw new Error('no scenario is running');
    return this.control;
  }

  async pauseScenario(): Promise<void> {
    this.running().pause();
  }

  async resumeScenario(): Promise<void> {
    this.running().resume();
  }

  async stepScenario(): Promise<void> {
    this.running().step();
  }

  // ---------------------------------------------------------------- pace and links

  async setPace(pace: number, fastFailover: boolean): Promise<void> {
    this.need('pace');
    return this.engine.setPace(pace, fastFailover);
  }

  async linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail> {
    this.need('linkDetail');
    return this.engine.linkDetail!(from, to);
  }

  /** nodeLogs: the tail of the member's own log (it works while the member is down too). */
  async nodeLogs(id: NodeId, lines: number): Promise<Record<string, unknown>[]> {
    this.need('nodeLogs');
    return this.engine.nodeLogs!(id, lines);
  }

  // ---------------------------------------------------------------- time travel

  recordingInfo(): Promise<RecordingInfo> {
    return this.recording.info();
  }

  viewAt(time: number): Promise<RecordedMoment> {
    return this.recording.viewAt(time);
  }

  recordedEvents(from: number, to: number, limit: number): Promise<ClusterEvent[]> {
    return this.recording.events(from, to, limit);
  }

  recordedMessages(from: number, to: number, limit: number): Promise<MessageTrace[]> {
    return this.recording.messages(from, to, limit);
  }

  async labControl(_action: LabAction): Promise<{ summary: string }> {
    throw new CallRefused(NOT_A_LAB);
  }

  async exportLabSchedule(): Promise<{ json: string }> {
    throw new CallRefused(NOT_A_LAB);
  }

  /** logEntries: the members' logs side by side (see ClusterEngine.logEntries). */
  async logEntries(query: LogQuery): Promise<LogInspection> {
    this.need('logEntries');
    return this.engine.logEntries!(query);
  }

  /**
   * release stops what the dashboard itself started (the workload and the console client) and
   * keeps recording: a cluster stopped after it has its stop recorded; close() then ends it.
   */
  async release(): Promise<void> {
    await this.workload?.stop();
    const kv = this.kv;
    this.kv = undefined;
    await kv?.close();
  }

  /** close releases what the dashboard started and closes the recording, writing what is pending. */
  async close(): Promise<void> {
    await this.release();
    this.stopRecording();
    await this.recording.close();
  }
}

export interface LocalDashboard {
  api: ClusterDashboard;
  sup: Supervisor;
  engine: RaftdeckEngine;
  dispose(): Promise<void>;
}

/**
 * startEngineDashboard starts (or brings back) the cluster in `dir` with the engine the folder
 * holds, or `engine` for a new folder (raftdeck's own nodes by default), and wraps it in the
 * dashboard API recording into the folder: what the desktop app serves. dispose() stops every
 * process it started.
 */
export async function startEngineDashboard(options: {
  dir: string;
  engine?: 'raftdeck' | 'etcd';
  etcdBin?: string;
}): Promise<{ api: ClusterDashboard; dispose(): Promise<void> }> {
  const held = folderEngine(options.dir);
  if (held !== undefined && options.engine !== undefined && held !== options.engine)
    throw new Error(
      `${options.dir} holds a cluster of ${held === 'etcd' ? 'etcd' : "raftdeck's own nodes"}, not ${options.engine}`,
    );
  if ((held ?? options.engine) !== 'etcd') return startDashboard({ dir: options.dir });
  const { EtcdEngine } = await import('./etcd/etcd-engine');
  const engine = new EtcdEngine({ dir: options.dir, nodes: 3, etcdBin: options.etcdBin });
  await engine.start();
  const api = new ClusterDashboard(engine, openClusterRecording(engine));
  return {
    api,
    dispose: async () => {
      await api.release().catch(() => undefined);
      try {
        await engine.stop();
      } finally {
        await api.close().catch(() => undefined);
      }
    },
  };
}

/**
 * startDashboard starts (or brings back) the cluster in `dir` and wraps it in the dashboard API,
 * recording into the cluster's folder: what the desktop app and browser mode both serve. dispose() stops every node it started.
 */
export async function startDashboard(options: {
  dir: string;
  nodes?: number;
  command?: NodeCommand;
  /** pace: the demo pace to start the nodes at (default real time). */
  pace?: PaceView;
  /** recordLimitMiB: the recording's bound (SupervisorOptions.recordLimitMiB). */
  recordLimitMiB?: number;
}): Promise<LocalDashboard> {
  const sup = new Supervisor({
    dir: options.dir,
    nodes: options.nodes ?? 3,
    connect: connectAdmin,
    command: options.command,
    pace: options.pace,
    recordLimitMiB: options.recordLimitMiB,
  });
  await sup.start();
  const engine = new RaftdeckEngine(sup);
  // The recording in the cluster's folder: time travel covers earlier runs too.
  const api = new ClusterDashboard(engine, openClusterRecording(engine));
  return {
    api,
    sup,
    engine,
    dispose: async () => {
      // The stop is recorded too: the recording closes after the nodes have stopped.
      await api.release().catch(() => undefined);
      try {
        await sup.stop();
      } finally {
        await api.close().catch(() => undefined);
      }
    },
  };
}
