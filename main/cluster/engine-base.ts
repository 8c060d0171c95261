/**
 * engine-base: what every engine keeps the same way: the ordered event stream, the view parts
 * (workflows, workload, checker, scenario), the view's version and its push at most every 50 ms
 * while it changes, and the subscriptions to views, events and messages. An engine extends it
 * and supplies view(); it calls bump() whenever anything the view is made of may have changed.
 */
import { EventEmitter } from 'node:events';
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  EventKind,
  MessageBatch,
  NodeId,
  ScenarioRun,
  WorkflowView,
  WorkloadView,
} from '../contract/view';
import { IDLE_CHECKER, type ViewParts } from '../view/projection';

/** MAX_EVENTS: how many of the latest events an engine keeps in memory. */
export const MAX_EVENTS = 20_000;
/** MAX_WORKFLOWS: how many of the latest workflows the view shows. */
export const MAX_WORKFLOWS = 20;
/** PUSH_MS: how often a changed view is pushed (at most). */
export const PUSH_MS = 50;

export abstract class EngineBase extends EventEmitter {
  /** version: increases with every change of anything the view is made of. */
  protected version = 0;
  private lastPushed = -1;
  private eventSeq = 0;
  private readonly events: ClusterEvent[] = [];
  private pushTimer: NodeJS.Timeout | undefined;
  /**
   * viewParts: what workflows, the workload, the checker and scenarios contribute to the view.
   * Only the setters below change them (each a copy, and each marks the view changed).
   */
  protected readonly viewParts: ViewParts = {
    workflows: [],
    workload: null,
    checker: { ...IDLE_CHECKER },
    scenario: null,
  };

  constructor() {
    super();
    this.setMaxListeners(100);
  }

  abstract view(): ClusterView;

  /** parts: the current view parts (read only; change them through the setters). */
  get parts(): Readonly<ViewParts> {
    return this.viewParts;
  }

  /** putWorkflow adds or updates a workflow's view (a copy; the latest MAX_WORKFLOWS are kept). */
  putWorkflow(w: WorkflowView): void {
    const copy = { ...w, steps: w.steps.map((st) => ({ ...st })) };
    const list = this.viewParts.workflows;
    const i = list.findIndex((x) => x.id === w.id);
    if (i >= 0) list[i] = copy;
    else {
      list.push(copy);
      if (list.length > MAX_WORKFLOWS) list.splice(0, list.length - MAX_WORKFLOWS);
    }
    this.bump();
  }

  setWorkload(w: WorkloadView | null): void {
    this.viewParts.workload = w;
    this.bump();
  }

  setChecker(c: CheckerView): void {
    this.viewParts.checker = c;
    this.bump();
  }

  /** setScenario shows a scenario run (a copy) or none. */
  setScenario(run: ScenarioRun | null): void {
    this.viewParts.scenario = run ? { ...run, steps: run.steps.map((st) => ({ ...st })) } : null;
    this.bump();
  }

  /** bump marks the view changed; it is pushed within PUSH_MS (so at most 20 Hz). */
  bump(): void {
    this.version++;
  }

  /** startPushing pushes the view whenever it changed, every PUSH_MS, and calls `each` too. */
  protected startPushing(each?: () => void): void {
    this.stopPushing();
    this.pushTimer = setInterval(() => {
      this.pushView();
      each?.();
    }, PUSH_MS);
    this.pushTimer.unref();
  }

  protected stopPushing(): void {
    if (this.pushTimer) clearInterval(this.pushTimer);
    this.pushTimer = undefined;
  }

  /** pushView pushes the view if it changed since the last push. */
  protected pushView(): void {
    if (this.version === this.lastPushed) return;
    this.lastPushed = this.version;
    this.emit('view', this.view());
  }

  onView(cb: (v: ClusterView) => void): () => void {
    this.on('view', cb);
    return () => this.off('view', cb);
  }

  onEvent(cb: (e: ClusterEvent) => void): () => void {
    this.on('event', cb);
    return () => this.off('event', cb);
  }

  onMessages(cb: (batch: MessageBatch) => void): () => void {
    this.on('messages', cb);
    return () => this.off('messages', cb);
  }

  eventsSince(seq: number): ClusterEvent[] {
    return this.events.filter((e) => e.seq > seq);
  }

  allEvents(): ClusterEvent[] {
    return [...this.events];
  }

  /** event appends to the cluster's ordered event stream (the latest MAX_EVENTS are kept). */
  event(
    node: NodeId | null,
    kind: EventKind,
    message: string,
    data?: Record<string, unknown>,
  ): ClusterEvent {
    const e: ClusterEvent = {
      seq: ++this.eventSeq,
      time: Date.now(),
      node,
      kind,
      message,
      ...(data ? { data } : {}),
    };
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.bump();
    this.emit('event', e);
    return e;
  }
}
