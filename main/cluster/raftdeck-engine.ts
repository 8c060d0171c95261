/**
 * raftdeck-engine: raftdeck's own nodes as a ClusterEngine. The Supervisor runs the processes,
 * polls their status and carries out faults; this adds what the engine seam names on top of it:
 * the membership workflows (main/cluster/workflows.ts), key-value sessions (KvClient), the
 * members' log files and logs side by side, and the link detail of the nodes' message traces.
 */
import { join } from 'node:path';
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
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
import { RAFTDECK_ENGINE } from '../contract/view';
import { KvClient } from '../node/client';
import type { LogReadResult } from '../node/log-inspect';
import { readLogTail } from '../node/logger';
import type { FaultRule } from '../node/transport/fault-filter';
import type { ViewParts } from '../view/projection';
import type { ClusterEngine, KvSession, KvSessionOptions, WorkflowRun } from './engine';
import { mergeLog, pickReference, type NodeAnswer } from './log-inspection';
import { DEFAULT_LIMIT_MIB } from './recording/file-recording';
import type { Supervisor } from './supervisor';
import { addNode, removeNode, replaceNode, transferLeader } from './workflows';

/** LOG_CALL_TIMEOUT_MS: how long logEntries waits for each member's answer. */
export const LOG_CALL_TIMEOUT_MS = 3000;

const started = async (
  w: Promise<{ wf: { view: WorkflowView }; run: Promise<WorkflowView> }>,
): Promise<WorkflowRun> => {
  const { wf, run } = await w;
  return { view: wf.view, run };
};

/** supervisorOf: the Supervisor behind a raftdeck engine; other engines have none. */
export function supervisorOf(engine: ClusterEngine): Supervisor {
  if (engine instanceof RaftdeckEngine) return engine.sup;
  throw new Error(`this needs raftdeck's own nodes; the cluster runs ${engine.engineView().kind}`);
}

/** RaftdeckEngine: the ClusterEngine of a Supervisor's cluster (see the file comment). */
export class RaftdeckEngine implements ClusterEngine {
  constructor(readonly sup: Supervisor) {}

  get dir(): string {
    return this.sup.dir;
  }
  get clusterId(): string {
    return this.sup.manifest.clusterId;
  }
  get state(): ClusterView['state'] {
    return this.sup.state;
  }
  get timing(): { heartbeatMs: number; electionMs: number } {
    const t = this.sup.manifest.timing;
    return { heartbeatMs: t.heartbeatMs, electionMs: t.electionMs };
  }
  get recordLimitMiB(): number {
    return this.sup.manifest.recordLimitMiB ?? DEFAULT_LIMIT_MIB;
  }
  engineView(): EngineView {
    return RAFTDECK_ENGINE;
  }

  start(): Promise<void> {
    return this.sup.start();
  }
  stop(): Promise<void> {
    return this.sup.stop();
  }

  view(): ClusterView {
    return this.sup.view();
  }
  onView(cb: (v: ClusterView) => void): () => void {
    return this.sup.onView(cb);
  }
  onEvent(cb: (e: ClusterEvent) => void): () => void {
    return this.sup.onEvent(cb);
  }
  onMessages(cb: (batch: MessageBatch) => void): () => void {
    return this.sup.onMessages(cb);
  }
  eventsSince(seq: number): ClusterEvent[] {
    return this.sup.eventsSince(seq);
  }
  allEvents(): ClusterEvent[] {
    return this.sup.allEvents();
  }
  event(
    node: NodeId | null,
    kind: EventKind,
    message: string,
    data?: Record<string, unknown>,
  ): ClusterEvent {
    return this.sup.event(node, kind, message, data);
  }

  get parts(): Readonly<ViewParts> {
    return this.sup.parts;
  }
  putWorkflow(w: WorkflowView): void {
    this.sup.putWorkflow(w);
  }
  setWorkload(w: WorkloadView | null): void {
    this.sup.setWorkload(w);
  }
  setChecker(c: CheckerView): void {
    this.sup.setChecker(c);
  }
  setScenario(run: ScenarioRun | null): void {
    this.sup.setScenario(run);
  }

  get pace(): PaceView {
    return this.sup.pace;
  }
  setPace(pace: number, fastFailover: boolean): Promise<void> {
    return this.sup.setPace(pace, fastFailover);
  }
  leaderId(): NodeId {
    return this.sup.leaderId();
  }
  pids(): number[] {
    return [...this.sup.nodes.values()]
      .filter((m) => m.proc.running && m.proc.pid !== null)
      .map((m) => m.proc.pid!);
  }

  kill(id: NodeId): Promise<void> {
    return this.sup.kill(id);
  }
  stopNode(id: NodeId): Promise<void> {
    return this.sup.stopNode(id);
  }
  restart(id: NodeId): Promise<void> {
    return this.sup.restart(id);
  }
  pause(id: NodeId): void {
    this.sup.pause(id);
  }
  resume(id: NodeId): void {
    this.sup.resume(id);
  }
  setAutoRestart(id: NodeId, on: boolean): void {
    this.sup.setAutoRestart(id, on);
  }

  isolate(id: NodeId): Promise<void> {
    return this.sup.isolate(id);
  }
  partition(groups: NodeId[][]): Promise<void> {
    return this.sup.partition(groups);
  }
  heal(): Promise<void> {
    return this.sup.heal();
  }
  setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void> {
    return this.sup.setLinkRules(id, rules as FaultRule[] as LinkRule[]);
  }
  linkRules(id: NodeId): LinkRule[] {
    this.sup.get(id);
    return [...this.sup.faults.of(id).customRules];
  }
  setSlowDisk(id: NodeId, ms: number): Promise<void> {
    return this.sup.setSlowDisk(id, ms);
  }
  clearAllFaults(): Promise<{ summary: string; failed: string[] }> {
    return this.sup.clearAllFaults();
  }

  addNode(): Promise<WorkflowRun> {
    return started(addNode(this.sup));
  }
  removeNode(id: NodeId): Promise<WorkflowRun> {
    return started(removeNode(this.sup, id));
  }
  replaceNode(id: NodeId): Promise<WorkflowRun> {
    return started(replaceNode(this.sup, id));
  }
  transferLeader(id: NodeId): Promise<WorkflowRun> {
    return started(transferLeader(this.sup, id));
  }

  /** kvSession: a KvClient over every member's client address (or `via`'s only). */
  kvSession(o: KvSessionOptions): KvSession {
    const nodes = this.sup.view().nodes.filter((n) => n.membership !== 'removed');
    const pinned = o.via === undefined ? nodes : nodes.filter((n) => n.id === o.via);
    return new KvClient({
      endpoints: pinned.map((n) => n.addresses.client),
      clientId: o.clientId,
      timeoutMs: o.timeoutMs,
    });
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

  /**
   * logEntries asks every member for the entries (in parallel, each within LOG_CALL_TIMEOUT_MS;
   * a member that is down or does not answer is shown unreachable with the reason) and lays
   * them side by side (mergeLog). A key search runs on every member, the reference's matches
   * decide the rows, and the others are then asked for exactly those indexes.
   */
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
}
