import { join } from 'node:path';
import { CallRefused, type DashboardApi, type KvOutcome, type PushSource } from '../contract/api';
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
  PaceView,
  RecordedMoment,
  RecordingInfo,
  ScenarioInfo,
  WorkloadOptions,
} from '../contract/view';
import { KvClient, KvError, UnknownOutcomeError } from '../node/client';
import type { KvOperation } from '../node/client';
import { readLogTail } from '../node/logger';
import type { FaultRule } from '../node/transport/fault-filter';
import { check, checkerView } from './checker/porcupine';
import { historyToJson } from './checker/history';
import { listScenarios, runScenario } from './scenarios';
import { ScenarioControl } from './scenarios/control';
import { connectAdmin } from './admin-link';
import type { NodeCommand } from './node-command';
import { IDLE_CHECKER } from '../view/projection';
import type { LogReadResult } from '../node/log-inspect';
import { mergeLog, pickReference, type NodeAnswer } from './log-inspection';
import { openClusterRecording } from './recording/cluster-recording';
import { MemoryRecording } from './recording/memory-recording';
import { recordPushes } from './recording/recording';
import type { Recording } from './recording/recording';
import { Supervisor } from './supervisor';
import { Workload } from './workload';
import { addNode, removeNode, replaceNode, transferLeader } from './workflows';

/** NOT_A_LAB: why a cluster of real processes refuses the lab's controls. */
const NOT_A_LAB =
  'this cluster runs real node processes: stepping, message controls and schedules exist only in a lab cluster (raftdeck lab)';

/** LOG_CALL_TIMEOUT_MS: how long logEntries waits for each member's answer. */
export const LOG_CALL_TIMEOUT_MS = 3000;

const dec = new TextDecoder();
const str = (v: Uint8Array | null | undefined): string | null => (v ? dec.decode(v) : null);

/**
 * ClusterDashboard is the dashboard API over a running Supervisor: every button of the dashboard
 * is one of these calls, and the same object feeds the pushes (views and events). main/app binds
 * it to Electron IPC and main/web to HTTP + WebSocket; both validate arguments before calling.
 */
export class ClusterDashboard implements DashboardApi, PushSource {
  private kv: KvClient | undefined;
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
    readonly sup: Supervisor,
    readonly recording: Recording = new MemoryRecording(),
  ) {
    this.stopRecording = recordPushes(sup, recording);
  }

  onView(cb: (view: ClusterView) => void): () => void {
    return this.sup.onView(cb);
  }

  onEvent(cb: (event: ClusterEvent) => void): () => void {
    return this.sup.onEvent(cb);
  }

  onMessages(cb: (batch: MessageBatch) => void): () => void {
    return this.sup.onMessages(cb);
  }

  async getView(): Promise<ClusterView> {
    return this.sup.view();
  }

  async getEvents(sinceSeq: number): Promise<ClusterEvent[]> {
    return this.sup.eventsSince(sinceSeq);
  }

  // ---------------------------------------------------------------- processes

  killNode(id: NodeId): Promise<void> {
    return this.sup.kill(id);
  }

  stopNode(id: NodeId): Promise<void> {
    return this.sup.stopNode(id);
  }

  restartNode(id: NodeId): Promise<void> {
    return this.sup.restart(id);
  }

  async pauseNode(id: NodeId): Promise<void> {
    this.sup.pause(id);
  }

  async resumeNode(id: NodeId): Promise<void> {
    this.sup.resume(id);
  }

  async setAutoRestart(id: NodeId, on: boolean): Promise<void> {
    this.sup.setAutoRestart(id, on);
  }

  // ---------------------------------------------------------------- network and disk

  isolateNode(id: NodeId): Promise<void> {
    return this.sup.isolate(id);
  }

  partition(groups: NodeId[][]): Promise<void> {
    return this.sup.partition(groups);
  }

  healNetwork(): Promise<void> {
    return this.sup.heal();
  }

  setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void> {
    return this.sup.setLinkRules(id, rules as FaultRule[] as LinkRule[]);
  }

  setSlowDisk(id: NodeId, fsyncDelayMs: number): Promise<void> {
    return this.sup.setSlowDisk(id, fsyncDelayMs);
  }

  async clearAllFaults(): Promise<{ summary: string }> {
    const { summary } = await this.sup.clearAllFaults();
    return { summary };
  }

  // ---------------------------------------------------------------- membership

  async addNode(): Promise<{ workflowId: string }> {
    const { wf } = await addNode(this.sup);
    return { workflowId: wf.view.id };
  }

  async removeNode(id: NodeId): Promise<{ workflowId: string }> {
    const { wf } = await removeNode(this.sup, id);
    return { workflowId: wf.view.id };
  }

  async replaceNode(id: NodeId): Promise<{ workflowId: string }> {
    const { wf } = await replaceNode(this.sup, id);
    return { workflowId: wf.view.id };
  }

  async transferLeader(id: NodeId): Promise<{ workflowId: string }> {
    const { wf } = await transferLeader(this.sup, id);
    return { workflowId: wf.view.id };
  }

  // ---------------------------------------------------------------- client console

  private client(): KvClient {
    const view = this.sup.view();
    const eps = view.nodes.filter((n) => n.membership !== 'removed').map((n) => n.addresses.client);
    const key = eps.join(',');
    if (!this.kv || key !== this.kvEndpoints) {
      void this.kv?.close();
      this.kv = new KvClient({
        endpoints: eps,
        clientId: `console-${process.pid}`,
        timeoutMs: 5000,
      });
      this.kvEndpoints = key;
    }
    return this.kv;
  }

  private async run(op: KvOperation): Promise<KvOutcome> {
    const started = performance.now();
    const byAddress = (addr: string): NodeId | null =>
      this.sup.view().nodes.find((n) => n.addresses.client === addr)?.id ?? null;
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
      this.sup.event(
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
      this.sup.event(null, 'client', `${op.op} ${JSON.stringify(op.key)} failed: ${error}`);
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
    const wl = new Workload(
      () =>
        this.sup
          .view()
          .nodes.filter((n) => n.membership !== 'removed')
          .map((n) => n.addresses.client),
      options,
      () => {
        this.sup.setWorkload(wl.view());
      },
    );
    this.workload = wl;
    this.sup.setChecker({ ...IDLE_CHECKER });
    wl.start();
    this.sup.event(
      null,
      'workload',
      `workload started: ${options.clients} clients, ${options.rate ? `${options.rate} ops/s` : 'closed loop'}, ${options.keys} keys`,
    );
  }

  async stopWorkload(): Promise<void> {
    const wl = this.workload;
    if (!wl?.isRunning) return;
    await wl.stop();
    this.sup.event(
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
    this.sup.setChecker({
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
    this.sup.setChecker(view);
    this.sup.event(
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
        { clusterId: this.sup.manifest.clusterId, events: this.sup.allEvents() },
        null,
        1,
      ),
    };
  }

  // ---------------------------------------------------------------- scenarios and logs

  async listScenarios(): Promise<ScenarioInfo[]> {
    return listScenarios();
  }

  async runScenario(name: string): Promise<void> {
    if (this.scenarioRunning) throw new Error('a scenario is already running');
    if (!listScenarios().some((s) => s.name === name)) {
      throw new Error(
        `no scenario '${name}'; known: ${listScenarios()
          .map((s) => s.name)
          .join(', ')}`,
      );
    }
    this.scenarioRunning = true;
    const control = new ScenarioControl();
    this.control = control;
    // The scenario narrates itself through the view; the call returns once it has started.
    void runScenario(this.sup, name, control)
      .catch((e: Error) =>
        this.sup.event(null, 'scenario', `scenario ${name} could not run: ${e.message}`),
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

  setPace(pace: number, fastFailover: boolean): Promise<void> {
    return this.sup.setPace(pace, fastFailover);
  }

  linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail> {
    return this.sup.linkDetail(from, to);
  }

  /**
   * nodeLogs reads the tail of the node's own log file (and of the files it rotated into), so it
   * works while the node is down too.
   */
  async nodeLogs(id: NodeId, lines: number): Promise<Record<string, unknown>[]> {
    const m = this.sup.get(id);
    const file = join(this.sup.nodeDir(m.rec), 'node.log');
    const out: Record<string, unknown>[] = [];
    for (const line of readLogTail(file, lines)) {
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        out.push({ level: 'info', msg: line });
      }
    }
    return out;
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

  /**
   * logEntries asks every member for the entries (in parallel, each within LOG_CALL_TIMEOUT_MS;
   * a member that is down or does not answer is shown unreachable with the reason) and lays
   * them side by side (mergeLog). A key search runs on every member, the reference's matches
   * decide the rows, and the others are then asked for exactly those indexes.
   */
  async labControl(_action: LabAction): Promise<{ summary: string }> {
    throw new CallRefused(NOT_A_LAB);
  }

  async exportLabSchedule(): Promise<{ json: string }> {
    throw new CallRefused(NOT_A_LAB);
  }

  async logEntries(query: LogQuery): Promise<LogInspection> {
    const ids = this.sup
      .view()
      .nodes.map((n) => n.id)
      .sort((a, b) => a - b);
    const leader = this.sup.leaderId();
    const args: Record<string, unknown> =
      query.key === undefined
        ? { from: query.from, count: query.count }
        : { from: query.from, count: query.count, key: query.key };
    const first = await Promise.all(ids.map((id) => this.askLog(id, args)));
    if (query.key === undefined) return mergeLog(query, leader, first);
    const reference = pickReference(first, leader);
    const ref = first.find((a) => a.id === reference);
    const indexes = ref?.read?.entries.map((e) => e.index) ?? [];
    if (indexes.length === 0) return mergeLog(query, leader, first, reference);
    const answers = await Promise.all(
      first.map((a) => (a.id === reference ? a : this.askLog(a.id, { indexes }))),
    );
    return mergeLog(query, leader, answers, reference);
  }

  /** askLog sends `log-entries` to one member; its answer, or why there is none. */
  private async askLog(id: NodeId, args: Record<string, unknown>): Promise<NodeAnswer> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const link = this.sup.admin(id);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${LOG_CALL_TIMEOUT_MS} ms`)),
          LOG_CALL_TIMEOUT_MS,
        );
      });
      const read = await Promise.race([link.call<LogReadResult>('log-entries', args), timeout]);
      return { id, read, error: null };
    } catch (e) {
      return { id, read: null, error: (e as Error).message };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
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
  dispose(): Promise<void>;
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
  // The recording in the cluster's folder: time travel covers earlier runs too.
  const api = new ClusterDashboard(sup, openClusterRecording(sup));
  return {
    api,
    sup,
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
