import { randomBytes } from 'node:crypto';
import type { StepState, WorkflowKind, WorkflowStep, WorkflowView } from '../contract/view';
import type { NodeStatus } from '../node/node-api';
import type { NodeId } from '../raft/types';
import { formatBytes } from '../view/format';
import type { ClusterEngine } from './engine';
import type { Managed, Supervisor } from './supervisor';

/** WorkflowHost: where a workflow shows its steps (the view) and tells its end (the events). */
export type WorkflowHost = Pick<ClusterEngine, 'putWorkflow' | 'event'>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** WorkflowError: a step cannot proceed; the message says why in words a person can act on. */
export class WorkflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowError';
  }
}

/**
 * WorkflowUnknownError: a step was carried out but its outcome is not known — a membership change
 * the leader took but could not commit in time (no quorum), or a call whose answer never came. It
 * may still take effect; the workflow ends 'unknown', never 'failed'.
 */
export class WorkflowUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowUnknownError';
  }
}

/** UNKNOWN_CODES: admin errors after which a change may or may not have been made. */
const UNKNOWN_CODES: ReadonlySet<string> = new Set(['unknown-outcome', 'timeout', 'closed']);

interface AdminCallError extends Error {
  code?: string;
  detail?: string;
}

/** Workflow tracks one membership change as visible steps, stored in the engine's view. */
export class Workflow {
  readonly view: WorkflowView;
  private cur = -1;

  constructor(
    private readonly sup: WorkflowHost,
    kind: WorkflowKind,
    node: NodeId,
    steps: string[],
  ) {
    this.view = {
      id: `${kind}-${randomBytes(3).toString('hex')}`,
      kind,
      node,
      state: 'running',
      startedAt: Date.now(),
      finishedAt: null,
      steps: steps.map((name) => ({ name, state: 'pending', detail: '', progress: null })),
      error: null,
    };
    sup.putWorkflow(this.view);
  }

  private step(i: number): WorkflowStep {
    return this.view.steps[i]!;
  }

  begin(i: number, detail = ''): void {
    if (this.cur >= 0 && this.step(this.cur).state === 'active') this.finish(this.cur);
    this.cur = i;
    Object.assign(this.step(i), { state: 'active' as StepState, detail });
    this.sup.event(
      this.view.node,
      'workflow',
      `${this.view.kind} ${this.view.node}: ${this.step(i).name}${detail ? ` — ${detail}` : ''}`,
    );
    this.sup.putWorkflow(this.view);
  }

  progress(fraction: number | null, detail: string): void {
    const s = this.step(this.cur);
    s.progress = fraction === null ? null : Math.max(0, Math.min(1, fraction));
    s.detail = detail;
    this.sup.putWorkflow(this.view);
  }

  finish(i: number, detail?: string): void {
    const s = this.step(i);
    s.state = 'done';
    s.progress = s.progress === null ? null : 1;
    if (detail !== undefined) s.detail = detail;
    this.sup.putWorkflow(this.view);
  }

  /** skip marks a pending step as not needed, saying why. */
  skip(i: number, detail: string): void {
    Object.assign(this.step(i), { state: 'skipped' as StepState, detail });
    this.sup.putWorkflow(this.view);
  }

  done(): WorkflowView {
    if (this.cur >= 0 && this.step(this.cur).state === 'active') this.finish(this.cur);
    for (const s of this.view.steps) if (s.state === 'pending') s.state = 'skipped';
    this.view.state = 'done';
    this.view.finishedAt = Date.now();
    this.sup.event(this.view.node, 'workflow', `${this.view.kind} ${this.view.node}: done`);
    this.sup.putWorkflow(this.view);
    return this.view;
  }

  /** end finishes the workflow on an error: 'unknown' for a WorkflowUnknownError, else 'failed'. */
  end(e: Error): WorkflowView {
    return e instanceof WorkflowUnknownError ? this.unknown(e) : this.fail(e);
  }

  /** unknown ends the workflow with the current step's outcome unknown (see WorkflowUnknownError). */
  unknown(e: Error): WorkflowView {
    if (this.cur >= 0) {
      const s = this.step(this.cur);
      s.state = 'unknown';
      s.detail = `outcome unknown: ${e.message}`;
    }
    for (const s of this.view.steps) if (s.state === 'pending') s.state = 'skipped';
    this.view.state = 'unknown';
    this.view.error = e.message;
    this.view.finishedAt = Date.now();
    this.sup.event(
      this.view.node,
      'workflow',
      `${this.view.kind} ${this.view.node}: outcome unknown: ${e.message}`,
    );
    this.sup.putWorkflow(this.view);
    return this.view;
  }

  fail(e: Error): WorkflowView {
    if (this.cur >= 0) {
      const s = this.step(this.cur);
      s.state = 'failed';
      s.detail = e.message;
    }
    for (const s of this.view.steps) if (s.state === 'pending') s.state = 'skipped';
    this.view.state = 'failed';
    this.view.error = e.message;
    this.view.finishedAt = Date.now();
    this.sup.event(
      this.view.node,
      'workflow',
      `${this.view.kind} ${this.view.node} failed: ${e.message}`,
    );
    this.sup.putWorkflow(this.view);
    return this.view;
  }
}

/**
 * paced: a time limit at the cluster's pace. Every limit below is stated for real time; a cluster
 * slowed down N times gets N times as long (elections, catch-up and exits all take N times longer).
 */
const paced = (sup: Supervisor, ms: number): number => ms * sup.pace.pace;

/** waitLeader returns the current leader's status, waiting up to ms for one to appear. */
async function waitLeader(sup: Supervisor, ms = 5000): Promise<NodeStatus> {
  const end = Date.now() + paced(sup, ms);
  for (;;) {
    const id = sup.leaderId();
    const s = id ? sup.nodes.get(id)?.status : undefined;
    if (s) return s;
    if (Date.now() > end)
      throw new WorkflowError(`no leader: the cluster has had no leader for ${ms / 1000} s`);
    await sleep(50);
  }
}

/**
 * callLeader sends an admin call to the leader, following leadership changes and waiting out a
 * change in progress. A call whose outcome is unknown (the node said so, or no answer came) is
 * never retried: it throws WorkflowUnknownError.
 */
async function callLeader<T>(
  sup: Supervisor,
  op: string,
  args: Record<string, unknown>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + paced(sup, ms);
  for (;;) {
    // end is at the pace already; waitLeader scales what it is given.
    const leader = await waitLeader(sup, Math.max(1000, end - Date.now()) / sup.pace.pace);
    try {
      return await sup.admin(leader.id).call<T>(op, args);
    } catch (e) {
      const err = e as AdminCallError;
      if (err.code !== undefined && UNKNOWN_CODES.has(err.code)) {
        throw new WorkflowUnknownError(`${op} on node ${leader.id}: ${err.detail ?? err.message}`);
      }
      const text = `${err.code ?? ''} ${err.message}`;
      const retriable =
        /not-leader|config-change-in-progress|leader-not-ready|transfer-in-progress|not reachable/.test(
          text,
        );
      if (!retriable || Date.now() > end) throw new WorkflowError(err.detail ?? err.message);
      await sleep(100);
    }
  }
}

const quorum = (n: number): number => Math.floor(n / 2) + 1;

/** JOIN_STEPS: how a fresh node joins, in addNode and at the end of replaceNode. */
const JOIN_STEPS = [
  'spawn empty node',
  'add as learner',
  'catch up',
  'promote to voter',
  'configuration committed',
];

/**
 * join runs JOIN_STEPS from step `first` of `wf` for the allocated node `m`: spawn it empty, add
 * it as a learner, wait while it catches up, promote it (unless `learner`), and wait until the
 * configuration holding it is committed.
 */
async function join(
  sup: Supervisor,
  wf: Workflow,
  m: Managed,
  first: number,
  learner = false,
): Promise<void> {
  const id = m.rec.id;
  wf.begin(first, `node ${id} on ${m.rec.peer}`);
  await sup.startNode(id);
  wf.finish(first, `node ${id}, pid ${m.proc.pid}`);
  wf.begin(first + 1);
  try {
    const added = await callLeader<{ index: number }>(sup, 'add-learner', {
      nodeId: id,
      peerAddress: m.rec.peer,
      clientAddress: m.rec.client,
    });
    wf.finish(first + 1, `config entry ${added.index} committed`);
  } catch (e) {
    if (!(e instanceof WorkflowUnknownError)) throw e;
    // It may have committed meanwhile: believe a leader whose committed configuration has it.
    wf.progress(null, `${e.message}; asking the current leader`);
    const s = await committedWith(sup, id, true, 2000);
    if (!s)
      throw new WorkflowUnknownError(
        `${e.message}. Node ${id} keeps running and joins if the change commits; check \`raftdeck status\`, or remove it with \`raftdeck remove-node ${id}\``,
      );
    wf.finish(first + 1, `committed: node ${s.id} in term ${s.term} (commit ${s.commit})`);
  }
  if (learner) {
    wf.begin(first + 2);
    await catchUp(sup, wf, id);
    wf.finish(first + 2);
    wf.skip(first + 3, 'it replaces a learner');
  } else {
    for (let attempt = 0; ; attempt++) {
      wf.begin(first + 2);
      await catchUp(sup, wf, id);
      wf.begin(first + 3);
      try {
        const p = await callLeader<{ index: number }>(sup, 'promote', { nodeId: id });
        wf.finish(first + 3, `config entry ${p.index}`);
        break;
      } catch (e) {
        if (!/not caught up|learner-not-caught-up/.test((e as Error).message) || attempt > 20)
          throw e;
      }
    }
  }
  wf.begin(first + 4);
  await waitFor(
    sup,
    10_000,
    () => {
      const l = sup.leaderId();
      const s = l ? sup.nodes.get(l)?.status : undefined;
      const holds = learner ? s?.learners.includes(id) : s?.voters.includes(id);
      return !!s && !!holds && s.pendingConfIndex === 0;
    },
    `the ${learner ? 'learner' : 'promotion'} of node ${id} to commit`,
  );
  wf.finish(first + 4, `node ${id} is a ${learner ? 'learner' : 'voter'}`);
}

/**
 * addNode: spawn an empty node → add it as a learner → wait while it catches up (snapshot and
 * log) → promote it once within the promotion gap → wait until the configuration is committed.
 */
export async function addNode(
  sup: Supervisor,
): Promise<{ wf: Workflow; run: Promise<WorkflowView> }> {
  // Refuse up front, before spawning anything, when there is nobody to add the node.
  await waitLeader(sup, 3000);
  const m = await sup.allocateNode();
  const wf = new Workflow(sup, 'add-node', m.rec.id, JOIN_STEPS);
  const run = (async () => {
    try {
      await join(sup, wf, m, 0);
      return wf.done();
    } catch (e) {
      return wf.end(e as Error);
    }
  })();
  return { wf, run };
}

/**
 * committedWith waits up to ms for a leader (other than `id`) whose committed configuration holds
 * `id` (`member` true) or leaves it out (`member` false); it returns that leader's status, or null.
 */
async function committedWith(
  sup: Supervisor,
  id: NodeId,
  member: boolean,
  ms: number,
): Promise<NodeStatus | null> {
  const end = Date.now() + paced(sup, ms);
  for (;;) {
    const l = sup.leaderId();
    const s = l !== 0 && l !== id ? sup.nodes.get(l)?.status : undefined;
    const holds = s !== undefined && (s.voters.includes(id) || s.learners.includes(id));
    if (s && s.pendingConfIndex === 0 && holds === member) return s;
    if (Date.now() > end) return null;
    await sleep(100);
  }
}

/**
 * snapshotProgress: the catch-up step's progress while a snapshot is sent: one source for the
 * bar and the words, the bytes the new node acknowledged.
 */
export function snapshotProgress(t: {
  index: number;
  acked: number;
  total: number;
  chunks: number;
  retries: number;
}): { fraction: number; detail: string } {
  return {
    fraction: Math.min(1, t.acked / Math.max(1, t.total)),
    detail: `receiving snapshot ${t.index}: ${formatBytes(t.acked)} of ${formatBytes(t.total)} (${t.chunks} chunks, ${t.retries} retries)`,
  };
}

async function catchUp(sup: Supervisor, wf: Workflow, id: NodeId, ms = 300_000): Promise<void> {
  const end = Date.now() + paced(sup, ms);
  for (;;) {
    const leader = await waitLeader(sup);
    const pr = leader.progress.find((p) => p.id === id);
    if (pr) {
      const last = Math.max(1, leader.lastIndex);
      if (pr.snapshot) {
        const t = pr.snapshot;
        const p = snapshotProgress(t);
        wf.progress(p.fraction, p.detail);
      } else {
        wf.progress(pr.match / last, `match ${pr.match} of ${leader.lastIndex} (${pr.lag} behind)`);
      }
      if (pr.match > 0 && pr.lag <= 5) {
        wf.progress(1, `caught up at ${pr.match}`);
        return;
      }
    }
    if (Date.now() > end)
      throw new WorkflowError(`node ${id} did not catch up within ${ms / 1000} s`);
    await sleep(100);
  }
}

async function waitFor(
  sup: Supervisor,
  ms: number,
  cond: () => boolean,
  what: string,
): Promise<void> {
  const end = Date.now() + paced(sup, ms);
  while (!cond()) {
    if (Date.now() > end) throw new WorkflowError(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** LEAVE_STEPS: how a node leaves, in removeNode and at the start of replaceNode. */
const LEAVE_STEPS = [
  'check quorum',
  'commit configuration without it',
  'node exited',
  'data removed',
];

/**
 * leave runs LEAVE_STEPS from step `first` of `wf` for node `id`: refuse if the change would lose
 * quorum, commit a configuration without the node, wait for it to exit by itself (stop it if it
 * does not), remove its data. It returns whether the node was a voter (or a learner) before.
 */
async function leave(
  sup: Supervisor,
  wf: Workflow,
  id: NodeId,
  first: number,
): Promise<{ voter: boolean; learner: boolean }> {
  wf.begin(first);
  const leader = await waitLeader(sup);
  const isVoter = leader.voters.includes(id);
  const isLearner = leader.learners.includes(id);
  const isMember = isVoter || isLearner;
  if (!isMember && leader.pendingConfIndex !== 0)
    throw new WorkflowError(
      `a configuration change (entry ${leader.pendingConfIndex}) is still in progress`,
    );
  if (isVoter) {
    const remaining = leader.voters.filter((v) => v !== id);
    if (remaining.length === 0) throw new WorkflowError(`node ${id} is the last voter`);
    const live = remaining.filter((v) => {
      const m = sup.nodes.get(v);
      return m?.proc.state === 'running' && m.status !== undefined;
    });
    if (live.length < quorum(remaining.length)) {
      throw new WorkflowError(
        `removing node ${id} would lose quorum: only ${live.length} of the ${remaining.length} remaining voters are running (${quorum(remaining.length)} needed)`,
      );
    }
  }
  wf.finish(
    first,
    isVoter
      ? 'a majority of the remaining voters is running'
      : isMember
        ? 'a learner; quorum unaffected'
        : 'not in the configuration; quorum unaffected',
  );
  wf.begin(first + 1);
  // Whether the node can learn that its removal committed (the leader tells it, or its probe finds
  // a leader that does), and so exit by itself; a node the configuration never held cannot.
  const m = sup.get(id);
  const seesRemoval = isMember && m.proc.running;
  if (!isMember) {
    // An earlier removal committed without its proposer seeing it, or the node never joined:
    // the configuration already leaves it out, so only its process and data remain.
    wf.finish(
      first + 1,
      `entry ${leader.commit}: the committed configuration already leaves it out`,
    );
  } else {
    try {
      const r = await callLeader<{ index: number }>(sup, 'remove', { nodeId: id });
      wf.finish(first + 1, `config entry ${r.index} committed`);
    } catch (e) {
      // A leader that removes itself can lose leadership before it learns of the commit; the
      // next leader commits the entry. Believe the configuration the current leader reports.
      wf.progress(null, `${(e as Error).message}; asking the current leader`);
      const s = await committedWith(sup, id, false, 10_000);
      if (!s) throw e;
      wf.finish(first + 1, `committed by node ${s.id} in term ${s.term} (commit ${s.commit})`);
    }
  }
  wf.begin(first + 2);
  const wasRunning = m.proc.running;
  const end = Date.now() + (seesRemoval ? paced(sup, 10_000) : 0);
  while (m.proc.running && Date.now() < end) await sleep(50);
  if (m.proc.running) {
    await m.proc.stop();
    wf.finish(
      first + 2,
      seesRemoval ? 'did not exit by itself; stopped' : 'cannot learn of its removal; stopped',
    );
  } else if (!wasRunning) {
    wf.finish(first + 2, `was not running (${m.proc.state})`);
  } else {
    wf.finish(first + 2, `exited with code ${m.proc.exitCode}`);
  }
  wf.begin(first + 3);
  await sup.forgetNode(id);
  wf.finish(first + 3, sup.nodeDir(m.rec));
  return { voter: isVoter, learner: isLearner };
}

/**
 * removeNode: refuse if the change would lose quorum → commit a configuration without the node →
 * wait for the node to exit by itself (stop it if it does not) → remove its data.
 */
export async function removeNode(
  sup: Supervisor,
  id: NodeId,
): Promise<{ wf: Workflow; run: Promise<WorkflowView> }> {
  sup.get(id);
  const wf = new Workflow(sup, 'remove-node', id, LEAVE_STEPS);
  const run = (async () => {
    try {
      await leave(sup, wf, id, 0);
      return wf.done();
    } catch (e) {
      return wf.end(e as Error);
    }
  })();
  return { wf, run };
}

/**
 * replaceNode puts a fresh node (new id, new data folder) in the place of member `id`: the way
 * back for a member whose data folder is gone or whose storage refuses to start, which must not
 * come back empty under its old id. It is removeNode's steps, then addNode's (a replaced learner
 * stays a learner). Removing first keeps every configuration on the way one the running members
 * can commit: with a voter down, adding first would raise the quorum while it is missing.
 */
export async function replaceNode(
  sup: Supervisor,
  id: NodeId,
): Promise<{ wf: Workflow; run: Promise<WorkflowView> }> {
  const m = sup.get(id);
  if (m.rec.state !== 'member') throw new WorkflowError(`node ${id} was removed already`);
  // Refuse up front, before changing anything, when there is nobody to change the configuration.
  await waitLeader(sup, 3000);
  const wf = new Workflow(sup, 'replace-node', id, [...LEAVE_STEPS, ...JOIN_STEPS]);
  const run = (async () => {
    try {
      const was = await leave(sup, wf, id, 0);
      const fresh = await sup.allocateNode();
      await join(sup, wf, fresh, LEAVE_STEPS.length, was.learner);
      return wf.done();
    } catch (e) {
      return wf.end(e as Error);
    }
  })();
  return { wf, run };
}

/** transferLeader: ask the leader to hand over to `id` and wait until `id` leads. */
export async function transferLeader(
  sup: Supervisor,
  id: NodeId,
): Promise<{ wf: Workflow; run: Promise<WorkflowView> }> {
  sup.get(id);
  const wf = new Workflow(sup, 'transfer-leader', id, [
    'catch up and hand over',
    `node ${id} leads`,
  ]);
  const run = (async () => {
    try {
      wf.begin(0);
      const leader = await waitLeader(sup);
      if (leader.id !== id) {
        if (!leader.voters.includes(id)) throw new WorkflowError(`node ${id} is not a voter`);
        await sup.admin(leader.id).call('transfer-leader', { nodeId: id });
      }
      wf.begin(1);
      await waitFor(sup, 5000, () => sup.leaderId() === id, `node ${id} to lead`);
      return wf.done();
    } catch (e) {
      return wf.end(e as Error);
    }
  })();
  return { wf, run };
}
