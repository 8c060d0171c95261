/**
 * context: what every scenario works with. ScenarioContext (the steps, the waits, the cluster's
 * view, clients and workflows a scenario's code uses), Scenario (one scripted sequence: data plus
 * code), the view helpers the scenarios share (agreedLeader, describeView, settled), and
 * publishRun, the one place a run's narration is handed to the supervisor's view.
 */
import type {
  ClusterEvent,
  ClusterView,
  EngineKind,
  NodeView,
  ScenarioRun,
  WorkflowView,
  WorkloadOptions,
} from '../../contract/view';
import type { NodeId } from '../../raft/types';
import type { ClusterEngine } from '../engine';
import type { Workload } from '../workload';

/** ScenarioFailure: an expectation of a scenario did not hold; the message says which and why. */
export class ScenarioFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
  }
}

/** StepFn carries out one step; it returns the step's detail (what happened), if any. */
export type StepFn = () => Promise<string | void>;

/** ViewPredicate looks at the cluster view; a truthy answer ends the wait and is returned. */
export type ViewPredicate<T> = (v: ClusterView) => T | false | null | undefined | 0 | '';

/** ScenarioContext is what a scenario's code works with. */
export interface ScenarioContext {
  /** sup: the cluster engine the scenario runs on (faults, membership workflows, the view). */
  readonly sup: ClusterEngine;
  /**
   * electionMs: the cluster's election timeout at real time; expectations are stated in multiples
   * of it, and every wait (waitFor, holds, waitLeader) lasts pace() times longer.
   */
  readonly electionMs: number;
  /** pace: the cluster's current pace (1 = real time). */
  pace(): number;
  /** step narrates and times one step; a thrown error fails it and ends the scenario. */
  step(text: string, fn: StepFn): Promise<void>;
  /** note updates the detail of the step in progress. */
  note(detail: string): void;
  /** expect fails the step with `message` unless `cond` holds. */
  expect(cond: unknown, message: string): asserts cond;
  /** waitFor polls the view until `predicate` answers truthy, or fails after timeoutMs. */
  waitFor<T>(what: string, predicate: ViewPredicate<T>, timeoutMs?: number): Promise<T>;
  /** holds fails unless `predicate` stays truthy for `ms` (for things that must NOT happen). */
  holds(what: string, predicate: ViewPredicate<unknown>, ms: number): Promise<void>;
  view(): ClusterView;
  node(id: NodeId): NodeView;
  /** leader is the current leader (a majority of the voters agrees), or a failure if none. */
  leader(): NodeId;
  /** waitLeader waits for a leader a majority of the voters agrees on. */
  waitLeader(what?: string, timeoutMs?: number): Promise<NodeId>;
  /** voters are the voters in the leader's configuration. */
  voters(): NodeId[];
  /** followers are the running voters other than the leader. */
  followers(): NodeId[];
  /** follower is one running follower, or a failure if there is none. */
  follower(): NodeId;
  /** write puts a value through the cluster (any node; it follows the leader). */
  write(key: string, value: string): Promise<void>;
  /** del deletes a key through the cluster. */
  del(key: string): Promise<void>;
  /** read reads a key linearizably; `via` pins the read to one node's client address. */
  read(key: string, via?: NodeId): Promise<string | null>;
  /** writeMany puts `count` keys with `concurrency` writes in flight; resolves with the count. */
  writeMany(count: number, prefix: string, concurrency?: number): Promise<number>;
  /** workload creates a Workload over the cluster's client addresses (not started). */
  workload(options: Partial<WorkloadOptions>): Workload;
  /** eventsSince returns the cluster events after `seq` (see mark()). */
  eventsSince(seq: number): ClusterEvent[];
  /** mark is the latest event's sequence number, to look at what happens from now on. */
  mark(): number;
  /** defer runs `fn` when the scenario ends, before the cluster is restored. */
  defer(fn: () => Promise<void> | void): void;
}

/** Scenario is one scripted sequence: data (name, title, description, plan) plus its code. */
export interface Scenario {
  name: string;
  title: string;
  /** description says what the scenario does and what it expects. */
  description: string;
  /** plan lists the step texts up front, so a run shows them as pending from the start. */
  plan?: string[];
  /**
   * engines: the engines the scenario makes sense on, each with what it needs (default: every
   * engine that has the features it uses); on any other it is listed as unavailable.
   */
  engines?: readonly EngineKind[];
  run(ctx: ScenarioContext): Promise<void>;
}

// ---------------------------------------------------------------- the run in the view

/**
 * publishRun shows (a copy of) `run` as the cluster view's scenario and marks the view changed.
 * Every change of a run's state, steps or details is followed by publishRun, so the view shows it
 * within one push; nothing else hands the supervisor the view's scenario.
 */
export function publishRun(sup: ClusterEngine, run: ScenarioRun): void {
  sup.setScenario(run);
}

// ---------------------------------------------------------------- view helpers

/** agreedLeader is the leader a majority of its voters follows in its term, or 0. */
export function agreedLeader(v: ClusterView): NodeId {
  const l = v.nodes.find(
    (n) => n.id === v.leader && n.process.state === 'running' && n.raft?.role === 'leader',
  );
  if (!l?.raft) return 0;
  const { term, voters } = l.raft;
  const following = v.nodes.filter(
    (n) =>
      voters.includes(n.id) &&
      n.process.state === 'running' &&
      n.raft?.term === term &&
      n.raft.leader === l.id,
  ).length;
  return following >= Math.floor(voters.length / 2) + 1 ? l.id : 0;
}

/** describeView is a one-line summary of every node, for failure messages. */
export function describeView(v: ClusterView): string {
  return v.nodes
    .map((n) => {
      if (n.process.state !== 'running') return `${n.id} ${n.process.state}`;
      const r = n.raft;
      if (!r) return `${n.id} no status`;
      const faults = n.faults.isolated ? ' isolated' : n.faults.rules.length ? ' faulted' : '';
      return `${n.id} ${r.role} t${r.term} →${r.leader || '-'} commit ${r.commit} applied ${r.applied}${faults}`;
    })
    .join('; ');
}

/** settled: every member runs, reports, follows one agreed leader and is close behind it. */
export function settled(v: ClusterView): NodeId {
  const leader = agreedLeader(v);
  if (!leader) return 0;
  const lr = v.nodes.find((n) => n.id === leader)!.raft!;
  const members = v.nodes.filter((n) => n.membership !== 'removed');
  const ok = members.every(
    (n) =>
      n.process.state === 'running' &&
      n.health === 'healthy' &&
      n.raft !== null &&
      n.raft.term === lr.term &&
      n.raft.leader === leader &&
      n.raft.applied >= lr.commit - 20,
  );
  return ok ? leader : 0;
}

/** leaderGone: the node's process is gone (killed, stopped or exited), not paused or cut off. */
export function leaderGone(v: ClusterView, id: NodeId): boolean {
  const state = v.nodes.find((n) => n.id === id)?.process.state;
  return state === 'crashed' || state === 'stopped' || state === 'exited';
}

/**
 * failoverPath says how the followers came to campaign after their leader went away: at once
 * when fast failover is on and the leader's process is gone (its port refuses connections), else
 * after their election timeout — fast failover off, or a leader that is paused or cut off, whose
 * port does not refuse.
 */
export function failoverPath(fastFailover: boolean, gone: boolean): string {
  if (gone && fastFailover) {
    return "followers campaigned at once: the leader's port refused connections (fast failover)";
  }
  if (gone) return 'followers campaigned after the election timeout (fast failover is off)';
  return "followers campaigned after the election timeout: a paused or cut-off leader's port does not refuse connections";
}

/** secs formats milliseconds as seconds for the narration. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/**
 * ledAt is when `id` became leader after event `mark`, by the node's own clock (the same host
 * clock, without the delay of status reports and polling); now if it reported no such event.
 */
export function ledAt(ctx: ScenarioContext, id: NodeId, mark: number): number {
  const e = ctx
    .eventsSince(mark)
    .find((x) => x.node === id && x.kind === 'leader' && x.data?.type === 'leader');
  const t = e?.data?.time;
  return typeof t === 'number' ? t : (e?.time ?? Date.now());
}

/** stepsOf lists a workflow's steps with their details, for a step's detail. */
export function stepsOf(wf: WorkflowView): string {
  return wf.steps.map((s) => `${s.name}${s.detail ? ` (${s.detail})` : ''}`).join(' → ');
}
