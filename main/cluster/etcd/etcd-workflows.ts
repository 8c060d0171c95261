/**
 * etcd-workflows: membership changes of a local etcd cluster as visible steps, with the same
 * Workflow as raftdeck's own nodes. etcd wants a member added to the configuration before it
 * starts, so a join is: add as learner → start the empty member → catch up (its raft index
 * against the leader's) → promote to voter (etcd refuses a learner that is not in sync yet: that
 * answer is shown on the step while it is tried again) → configuration committed. A removal:
 * remove from the configuration → the member exits (etcd stops a removed member itself) → its
 * data folder is deleted. A leadership move goes to the leader (etcd's MoveLeader).
 */
import type { Etcd3 } from 'etcd3';
import type { ClusterView, NodeId, WorkflowView } from '../../contract/view';
import type { WorkflowRun } from '../engine';
import { Workflow, WorkflowError, WorkflowUnknownError, type WorkflowHost } from '../workflows';
import type { EtcdMemberRecord } from './etcd-manifest';

/** EtcdMembership: what the workflows need from the engine of a local etcd cluster. */
export interface EtcdMembership extends WorkflowHost {
  view(): ClusterView;
  leaderId(): NodeId;
  /** clientOf: a client of member `id` alone. */
  clientOf(id: NodeId): Etcd3;
  get(id: NodeId): {
    rec: EtcdMemberRecord;
    proc: { pid: number | null; running: boolean; stop(): Promise<void> };
  };
  memberDir(rec: EtcdMemberRecord): string;
  startMember(id: NodeId, state: 'new' | 'existing'): Promise<void>;
  allocateMember(): Promise<EtcdMemberRecord>;
  forgetMember(id: NodeId): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ADD_STEPS: how a fresh member joins an etcd cluster. */
export const ADD_STEPS = [
  'add as learner',
  'start the empty member',
  'catch up',
  'promote to voter',
  'configuration committed',
];
/** REMOVE_STEPS: how a member leaves. */
export const REMOVE_STEPS = ['remove from the configuration', 'member exits', 'data cleaned up'];
export const TRANSFER_STEPS = ['move leadership', 'new leader elected'];

/** READY_SHARE: etcd promotes a learner whose raft index is at least 90 % of the leader's. */
const READY_SHARE = 0.9;

/**
 * unknownOutcome: errors after which a change may or may not have been made: no answer in time,
 * the connection lost after sending, a leader change while it was proposed.
 */
const UNKNOWN =
  /deadline|timed out|timeout|request cancelled|leader changed|UNAVAILABLE|ECONNRESET|connection (closed|reset)/i;

/**
 * REFUSED: etcd's answers that say a change was not made and may be asked again: it refuses
 * membership changes while a voter has been connected for less than 5 s ("unhealthy cluster"),
 * and a promotion of a learner that is not in sync with the leader.
 */
const REFUSED = /unhealthy cluster|not in sync|not ready|too many learner/i;

export interface EtcdWorkflows {
  addNode(): Promise<WorkflowRun>;
  removeNode(id: NodeId): Promise<WorkflowRun>;
  replaceNode(id: NodeId): Promise<WorkflowRun>;
  transferLeader(id: NodeId): Promise<WorkflowRun>;
}

/** etcdWorkflows: the membership workflows of `engine`. */
export function etcdWorkflows(engine: EtcdMembership): EtcdWorkflows {
  /** waitLeader: the leader's id, waiting up to ms for one. */
  const waitLeader = async (ms = 5000): Promise<NodeId> => {
    const end = Date.now() + ms;
    for (;;) {
      const l = engine.leaderId();
      if (l !== 0) return l;
      if (Date.now() > end)
        throw new WorkflowError(`no leader: the cluster has had no leader for ${ms / 1000} s`);
      await sleep(50);
    }
  };

  /** call runs one admin call on the leader's member; an unclear failure is unknown. */
  const onLeader = async <T>(what: string, fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    const leader = await waitLeader();
    try {
      return await fn(engine.clientOf(leader));
    } catch (e) {
      const msg = (e as Error).message;
      if (REFUSED.test(msg)) throw new WorkflowError(`${what}: etcd answered: ${msg}`);
      if (UNKNOWN.test(msg)) throw new WorkflowUnknownError(`${what} on member ${leader}: ${msg}`);
      throw new WorkflowError(`${what}: etcd answered: ${msg}`);
    }
  };

  const until = async (ms: number, what: string, cond: () => boolean): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new WorkflowError(`${what} did not happen within ${ms / 1000} s`);
      await sleep(100);
    }
  };

  /**
   * asking calls `fn` until etcd stops refusing it (REFUSED) or `ms` pass, showing etcd's answer
   * on the step meanwhile.
   */
  const asking = async <T>(wf: Workflow, ms: number, fn: () => Promise<T>): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof WorkflowError) || !REFUSED.test(e.message) || Date.now() > end) throw e;
        wf.progress(null, `${e.message}; asking again`);
        await sleep(500);
      }
    }
  };

  const raftOf = (id: NodeId) => engine.view().nodes.find((n) => n.id === id)?.raft ?? null;

  /** join runs ADD_STEPS from step `first` of `wf` for the allocated member `id`. */
  const join = async (wf: Workflow, id: NodeId, first: number): Promise<void> => {
    const rec = engine.get(id).rec;
    wf.begin(first, `member ${id} at ${rec.proxy}`);
    const added = await asking(wf, 20_000, () =>
      onLeader('member add', (c) =>
        c.cluster.memberAdd({ peerURLs: [`http://${rec.proxy}`], isLearner: true }),
      ),
    );
    rec.memberId = String(added.member.ID);
    wf.finish(first, `etcd member ${BigInt(rec.memberId).toString(16)} is a learner`);

    wf.begin(first + 1);
    await engine.startMember(id, 'existing');
    wf.finish(first + 1, `pid ${engine.get(id).proc.pid}`);

    wf.begin(first + 2);
    const end = Date.now() + 120_000;
    for (;;) {
      const leader = raftOf(engine.leaderId());
      const mine = raftOf(id);
      if (leader && mine) {
        const share = leader.commit > 0 ? Math.min(1, mine.commit / leader.commit) : 1;
        wf.progress(share, `raft index ${mine.commit} of the leader's ${leader.commit}`);
        if (share >= READY_SHARE) break;
      }
      if (Date.now() > end) throw new WorkflowError(`member ${id} did not catch up within 120 s`);
      await sleep(200);
    }
    wf.finish(first + 2, `raft index ${raftOf(id)?.commit ?? 0}`);

    wf.begin(first + 3);
    // etcd refuses a learner that is not in sync with the leader yet: its answer shows on the
    // step while it is asked again.
    await asking(wf, 30_000, () =>
      onLeader('member promote', (c) => c.cluster.memberPromote({ ID: rec.memberId! })),
    );
    wf.finish(first + 3, `member ${id} is a voter`);

    wf.begin(first + 4);
    await until(15_000, `the promotion of member ${id} to show in the configuration`, () =>
      engine.view().config.voters.includes(id),
    );
    wf.finish(first + 4, `voters ${engine.view().config.voters.join(', ')}`);
  };

  /**
   * joinOrForget joins member `id`; when etcd never took it into its configuration, the member
   * raftdeck allocated for it is forgotten again (nothing of it is left in the cluster).
   */
  const joinOrForget = async (wf: Workflow, id: NodeId, first: number): Promise<void> => {
    try {
      await join(wf, id, first);
    } catch (e) {
      if (engine.get(id).rec.memberId === undefined && !(e instanceof WorkflowUnknownError))
        await engine.forgetMember(id).catch(() => undefined);
      throw e;
    }
  };

  /** leave runs REMOVE_STEPS from step `first` of `wf` for member `id`. */
  const leave = async (wf: Workflow, id: NodeId, first: number): Promise<void> => {
    const m = engine.get(id);
    if (m.rec.memberId === undefined)
      throw new WorkflowError(`member ${id} has not reported its etcd member id yet`);
    wf.begin(first);
    await asking(wf, 20_000, () =>
      onLeader('member remove', (c) => c.cluster.memberRemove({ ID: m.rec.memberId! })),
    );
    await until(15_000, `the removal of member ${id} to show in the configuration`, () => {
      const c = engine.view().config;
      return !c.voters.includes(id) && !c.learners.includes(id);
    });
    wf.finish(first, `voters ${engine.view().config.voters.join(', ')}`);

    wf.begin(first + 1);
    const exited = await Promise.race([
      until(10_000, `member ${id} to exit`, () => !m.proc.running).then(() => true),
      sleep(10_500).then(() => false),
    ]).catch(() => false);
    if (!exited && m.proc.running) await m.proc.stop();
    wf.finish(first + 1, exited ? 'it stopped by itself' : 'stopped it');

    wf.begin(first + 2);
    await engine.forgetMember(id);
    wf.finish(first + 2, `deleted ${engine.memberDir(m.rec)}`);
  };

  const launch = (wf: Workflow, body: () => Promise<void>): WorkflowRun => {
    const run = (async (): Promise<WorkflowView> => {
      try {
        await body();
        return wf.done();
      } catch (e) {
        return wf.end(e as Error);
      }
    })();
    return { view: wf.view, run };
  };

  const member = (id: NodeId): void => {
    const m = engine.get(id);
    if (m.rec.state !== 'member') throw new WorkflowError(`member ${id} was removed already`);
  };

  return {
    async addNode() {
      await waitLeader(3000);
      const rec = await engine.allocateMember();
      const wf = new Workflow(engine, 'add-node', rec.id, ADD_STEPS);
      return launch(wf, () => joinOrForget(wf, rec.id, 0));
    },

    async removeNode(id) {
      member(id);
      await waitLeader(3000);
      const wf = new Workflow(engine, 'remove-node', id, REMOVE_STEPS);
      return launch(wf, () => leave(wf, id, 0));
    },

    async replaceNode(id) {
      member(id);
      await waitLeader(3000);
      const wf = new Workflow(engine, 'replace-node', id, [...REMOVE_STEPS, ...ADD_STEPS]);
      return launch(wf, async () => {
        await leave(wf, id, 0);
        const rec = await engine.allocateMember();
        await joinOrForget(wf, rec.id, REMOVE_STEPS.length);
      });
    },

    async transferLeader(id) {
      member(id);
      const target = engine.get(id).rec.memberId;
      if (target === undefined)
        throw new WorkflowError(`member ${id} has not reported its etcd member id yet`);
      const wf = new Workflow(engine, 'transfer-leader', id, TRANSFER_STEPS);
      return launch(wf, async () => {
        wf.begin(0);
        const from = await waitLeader();
        if (from === id) {
          wf.skip(0, `member ${id} leads already`);
          wf.skip(1, `member ${id} leads already`);
          return;
        }
        await onLeader('move leader', (c) => c.maintenance.moveLeader({ targetID: target }));
        wf.finish(0, `asked member ${from} to hand over`);
        wf.begin(1);
        await until(10_000, `member ${id} to lead`, () => engine.leaderId() === id);
        wf.finish(1, `member ${id} leads term ${engine.view().term}`);
      });
    },
  };
}
