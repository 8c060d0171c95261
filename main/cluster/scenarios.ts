/**
 * scenarios: scripted sequences of faults and expectations against a live cluster, for demos (the
 * dashboard narrates them step by step) and as tests. Each scenario is data (a name, a title, what
 * it expects, the plan of its steps) plus code that carries the steps out and checks every
 * expectation. A scenario restores the cluster when it ends (network healed, paused nodes resumed,
 * stopped nodes restarted, as many voters as before), so scenarios can run back to back.
 */
import type {
  ClusterEvent,
  ClusterView,
  NodeView,
  ScenarioInfo,
  ScenarioRun,
  StepState,
  WorkflowView,
  WorkloadOptions,
} from '../contract/view';
import { KvClient } from '../node/client';
import type { NodeId } from '../raft/types';
import { check } from './checker/porcupine';
import type { Supervisor } from './supervisor';
import { addNode, removeNode, transferLeader } from './workflows';
import { Workload } from './workload';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dec = new TextDecoder();

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
  readonly sup: Supervisor;
  /** electionMs: the cluster's election timeout; expectations are stated in multiples of it. */
  readonly electionMs: number;
  /** workflows: the membership workflows, each returning {wf, run}. */
  readonly workflows: {
    addNode: typeof addNode;
    removeNode: typeof removeNode;
    transferLeader: typeof transferLeader;
  };
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
  run(ctx: ScenarioContext): Promise<void>;
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
function settled(v: ClusterView): NodeId {
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

/** secs formats milliseconds as seconds for the narration. */
const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

// ---------------------------------------------------------------- the scenarios

/** leaderCrash: kill -9 the leader; a new one is elected; the old one rejoins as a follower. */
const leaderCrash: Scenario = {
  name: 'leader-crash',
  title: 'Leader crash',
  description:
    'Kill -9 the leader. Expect: the others elect a new leader within a few election timeouts, ' +
    'writes keep committing, and the restarted old leader rejoins as a follower of the new one.',
  plan: [
    'A healthy cluster with one leader',
    'Kill -9 the leader',
    'The others elect a new leader within a few election timeouts',
    'Writes continue',
    'Restart the old leader; it rejoins as a follower',
  ],
  async run(ctx: ScenarioContext) {
    const E = ctx.electionMs;
    let old = 0;
    let oldTerm = 0;
    let next = 0;
    let commit = 0;
    let killedAt = 0;
    let mark = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      old = await ctx.waitLeader();
      oldTerm = ctx.node(old).raft!.term;
      return `node ${old} leads term ${oldTerm}`;
    });
    await ctx.step('Kill -9 the leader', async () => {
      const pid = ctx.node(old).process.pid;
      mark = ctx.mark();
      killedAt = Date.now();
      await ctx.sup.kill(old);
      ctx.expect(ctx.node(old).process.state === 'crashed', `node ${old} is not shown as crashed`);
      return `killed node ${old} (pid ${pid})`;
    });
    await ctx.step('The others elect a new leader within a few election timeouts', async () => {
      next = await ctx.waitFor(
        `a new leader among the others (election timeout ${E} ms)`,
        (v) => {
          const l = agreedLeader(v);
          return l !== old && l !== 0 && v.term > oldTerm ? l : 0;
        },
        Math.max(5000, 10 * E),
      );
      const took = ledAt(ctx, next, mark) - killedAt;
      return `node ${next} leads term ${ctx.node(next).raft!.term} after ${secs(took)} (${(took / E).toFixed(1)} election timeouts)`;
    });
    await ctx.step('Writes continue', async () => {
      const before = ctx.node(next).raft!.commit;
      const n = await ctx.writeMany(20, 'leader-crash/');
      commit = await ctx.waitFor(
        `node ${next} to report the writes committed`,
        (v) => {
          const c = v.nodes.find((x) => x.id === next)?.raft?.commit ?? 0;
          return c >= before + n ? c : 0;
        },
        5000,
      );
      return `${n} writes committed by node ${next}; commit index ${before} → ${commit}`;
    });
    await ctx.step('Restart the old leader; it rejoins as a follower', async () => {
      await ctx.sup.restart(old);
      await ctx.waitFor(
        `node ${old} to follow node ${next} and catch up to ${commit}`,
        (v) => {
          const r = v.nodes.find((n) => n.id === old)?.raft;
          return r && r.role === 'follower' && r.leader === next && r.applied >= commit;
        },
        Math.max(10_000, 20 * E),
      );
      ctx.expect(
        ctx.leader() === next,
        `node ${next} lost the leadership when node ${old} came back`,
      );
      const v = await ctx.read('leader-crash/19', old);
      ctx.expect(
        v === 'v19',
        `node ${old} reads ${JSON.stringify(v)} for leader-crash/19, not "v19"`,
      );
      return `node ${old} follows node ${next} in term ${ctx.node(old).raft!.term} and serves reads`;
    });
  },
};

/** minorityPartition: a follower cut off; the majority commits; the follower catches up on heal. */
const minorityPartition: Scenario = {
  name: 'minority-partition',
  title: 'Minority partition',
  description:
    'Cut one follower off from the others. Expect: the majority keeps committing writes under the ' +
    'same leader, the cut-off node cannot elect itself, and after healing it catches up.',
  plan: [
    'A healthy cluster with one leader',
    'Cut one follower off from the others',
    'The majority keeps committing writes',
    'The cut-off node cannot elect itself',
    'Heal; it catches up',
  ],
  async run(ctx: ScenarioContext) {
    const E = ctx.electionMs;
    let leader = 0;
    let term = 0;
    let cut = 0;
    let mark = 0;
    let commit = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      leader = await ctx.waitLeader();
      term = ctx.node(leader).raft!.term;
      return `node ${leader} leads term ${term}`;
    });
    await ctx.step('Cut one follower off from the others', async () => {
      cut = ctx.follower();
      const rest = ctx
        .view()
        .nodes.map((n) => n.id)
        .filter((id) => id !== cut);
      mark = ctx.mark();
      await ctx.sup.partition([rest, [cut]]);
      return `partitioned into {${rest.join(',')}} and {${cut}}`;
    });
    await ctx.step('The majority keeps committing writes', async () => {
      const before = ctx.node(leader).raft!.commit;
      const n = await ctx.writeMany(30, 'minority/');
      commit = await ctx.waitFor(
        'the leader to commit the writes',
        (v) => {
          const c = v.nodes.find((x) => x.id === leader)?.raft?.commit ?? 0;
          return c >= before + n ? c : 0;
        },
        5000,
      );
      ctx.expect(
        ctx.leader() === leader && ctx.node(leader).raft!.term === term,
        `the leader changed: ${describeView(ctx.view())}`,
      );
      return `${n} writes committed by node ${leader}: commit ${before} → ${commit}`;
    });
    await ctx.step('The cut-off node cannot elect itself', async () => {
      const campaigns = (): ClusterEvent[] =>
        ctx.eventsSince(mark).filter((e) => e.node === cut && e.kind === 'election');
      await ctx.waitFor(
        `node ${cut} to try an election twice`,
        () => campaigns().length >= 2,
        20 * E,
      );
      const became = ctx
        .eventsSince(mark)
        .filter((e) => e.node === cut && e.kind === 'leader' && /became leader/.test(e.message));
      ctx.expect(became.length === 0, `node ${cut} became leader while cut off`);
      const r = ctx.node(cut).raft!;
      ctx.expect(r.role !== 'leader', `node ${cut} is leader while cut off`);
      return `node ${cut} tried ${campaigns().length} times and is still ${r.role} (term ${r.term}, commit ${r.commit})`;
    });
    await ctx.step('Heal; it catches up', async () => {
      await ctx.sup.heal();
      await ctx.waitFor(
        `node ${cut} to follow node ${leader} and apply up to ${commit}`,
        (v) => {
          const r = v.nodes.find((n) => n.id === cut)?.raft;
          return r && r.leader === leader && r.applied >= commit;
        },
        Math.max(10_000, 20 * E),
      );
      const v = await ctx.read('minority/29', cut);
      ctx.expect(v === 'v29', `node ${cut} reads ${JSON.stringify(v)} for minority/29, not "v29"`);
      return `node ${cut} applied ${ctx.node(cut).raft!.applied} and reads the writes it missed`;
    });
  },
};

/** leaderIsolated: the leader alone in a minority steps down; the majority elects; heal → one leader. */
const leaderIsolated: Scenario = {
  name: 'leader-isolated',
  title: 'Leader alone in a minority',
  description:
    'Isolate the leader. Expect: it steps down by itself (check-quorum) within a few election ' +
    'timeouts, the majority elects a new leader that takes writes, and after healing there is one ' +
    'leader, followed by the old one.',
  plan: [
    'A healthy cluster with one leader',
    'Isolate the leader',
    'The isolated leader steps down (check-quorum)',
    'The majority elects a new leader and takes writes',
    'Heal; one leader, followed by all',
  ],
  async run(ctx: ScenarioContext) {
    const E = ctx.electionMs;
    let old = 0;
    let term = 0;
    let next = 0;
    let mark = 0;
    let at = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      old = await ctx.waitLeader();
      term = ctx.node(old).raft!.term;
      return `node ${old} leads term ${term}`;
    });
    await ctx.step('Isolate the leader', async () => {
      mark = ctx.mark();
      at = Date.now();
      await ctx.sup.isolate(old);
      return `node ${old} cut off from every other node`;
    });
    await ctx.step('The isolated leader steps down (check-quorum)', async () => {
      await ctx.waitFor(
        `node ${old} to step down`,
        (v) => {
          const r = v.nodes.find((n) => n.id === old)?.raft;
          return r && r.role !== 'leader';
        },
        Math.max(5000, 10 * E),
      );
      const took = Date.now() - at;
      const down = ctx
        .eventsSince(mark)
        .find((e) => e.node === old && e.data?.type === 'step-down');
      ctx.expect(down, `node ${old} is no longer leader but reported no step-down`);
      ctx.expect(
        down.data?.reason === 'check-quorum',
        `node ${old} stepped down for ${String(down.data?.reason)}, not check-quorum`,
      );
      return `node ${old} stepped down after ${secs(took)}: ${String(down.data?.reason)}`;
    });
    await ctx.step('The majority elects a new leader and takes writes', async () => {
      next = await ctx.waitFor(
        'a new leader among the majority',
        (v) => {
          const l = agreedLeader(v);
          return l !== old && l !== 0 ? l : 0;
        },
        Math.max(5000, 10 * E),
      );
      const n = await ctx.writeMany(10, 'isolated/');
      return `node ${next} leads term ${ctx.node(next).raft!.term}; ${n} writes committed`;
    });
    await ctx.step('Heal; one leader, followed by all', async () => {
      await ctx.sup.heal();
      const nextTerm = ctx.node(next).raft!.term;
      await ctx.waitFor(
        `node ${old} to follow node ${next}`,
        (v) => {
          const r = v.nodes.find((n) => n.id === old)?.raft;
          return r && r.leader === next && r.role === 'follower';
        },
        Math.max(10_000, 20 * E),
      );
      const leaders = ctx.view().nodes.filter((n) => n.raft?.role === 'leader');
      ctx.expect(
        leaders.length === 1 && leaders[0]!.id === next,
        `expected node ${next} as the only leader: ${describeView(ctx.view())}`,
      );
      ctx.expect(
        ctx.node(next).raft!.term === nextTerm,
        `the term moved from ${nextTerm} to ${ctx.node(next).raft!.term} when node ${old} came back`,
      );
      return `node ${next} is the only leader (term ${nextTerm}); node ${old} follows it`;
    });
  },
};

/** prevoteStableTerm: an isolated follower's term stays put (prevote); its return disturbs no one. */
const prevoteStableTerm: Scenario = {
  name: 'prevote-stable-term',
  title: 'Prevote keeps terms stable',
  description:
    'Isolate a follower for several election timeouts. Expect: it keeps asking for pre-votes but ' +
    'its term does not grow; after healing the leader is undisturbed and the term unchanged.',
  plan: [
    'A healthy cluster with one leader',
    'Isolate a follower for several election timeouts',
    'Its term does not grow (prevote)',
    'Heal; the leader is undisturbed and the term unchanged',
  ],
  async run(ctx: ScenarioContext) {
    const E = ctx.electionMs;
    let leader = 0;
    let term = 0;
    let f = 0;
    let mark = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      leader = await ctx.waitLeader();
      term = ctx.node(leader).raft!.term;
      return `node ${leader} leads term ${term}`;
    });
    await ctx.step('Isolate a follower for several election timeouts', async () => {
      f = ctx.follower();
      ctx.expect(ctx.node(f).raft!.term === term, `node ${f} is not in term ${term}`);
      mark = ctx.mark();
      const at = Date.now();
      await ctx.sup.isolate(f);
      const tries = await ctx.waitFor(
        `node ${f} to ask for pre-votes three times`,
        () => {
          const n = ctx
            .eventsSince(mark)
            .filter(
              (e) => e.node === f && e.kind === 'election' && e.data?.prevote === true,
            ).length;
          return n >= 3 ? n : 0;
        },
        Math.max(10_000, 20 * E),
      );
      return `node ${f} isolated for ${secs(Date.now() - at)}; it asked for pre-votes ${tries} times`;
    });
    await ctx.step('Its term does not grow (prevote)', async () => {
      const r = ctx.node(f).raft!;
      ctx.expect(r.term === term, `node ${f}'s term grew from ${term} to ${r.term} while isolated`);
      const real = ctx
        .eventsSince(mark)
        .filter((e) => e.node === f && e.kind === 'election' && e.data?.prevote !== true);
      ctx.expect(real.length === 0, `node ${f} started a real election: ${real[0]?.message}`);
      return `node ${f} is ${r.role} in term ${r.term}, as before`;
    });
    await ctx.step('Heal; the leader is undisturbed and the term unchanged', async () => {
      await ctx.sup.heal();
      await ctx.waitFor(
        `node ${f} to follow node ${leader} again`,
        (v) => {
          const r = v.nodes.find((n) => n.id === f)?.raft;
          return r && r.role === 'follower' && r.leader === leader;
        },
        Math.max(10_000, 20 * E),
      );
      await ctx.holds(
        `node ${leader} to stay leader of term ${term}`,
        (v) =>
          v.leader === leader &&
          v.nodes.every((n) => !n.raft || (n.raft.term === term && n.raft.role !== 'candidate')),
        2 * E,
      );
      const downs = ctx
        .eventsSince(mark)
        .filter((e) => e.node === leader && e.data?.type === 'step-down');
      ctx.expect(downs.length === 0, `node ${leader} stepped down: ${downs[0]?.message}`);
      return `node ${leader} still leads term ${term}; node ${f} follows it`;
    });
  },
};

/** laggingSnapshot: a stopped follower falls behind the leader's compacted log; InstallSnapshot. */
const laggingSnapshot: Scenario = {
  name: 'lagging-snapshot',
  title: 'A lagging node catches up by snapshot',
  description:
    'Stop a follower and write until the leader has compacted its log past it. Expect: on restart ' +
    'the leader sends it a snapshot (InstallSnapshot), it installs it and catches up.',
  plan: [
    'A healthy cluster with one leader',
    'Stop a follower',
    'Write until the leader compacts its log past it',
    'Restart it; it catches up by InstallSnapshot',
  ],
  async run(ctx: ScenarioContext) {
    let leader = 0;
    let f = 0;
    let match = 0;
    let commit = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      leader = await ctx.waitLeader();
      return `node ${leader} leads term ${ctx.node(leader).raft!.term}`;
    });
    await ctx.step('Stop a follower', async () => {
      f = ctx.follower();
      await ctx.sup.stopNode(f);
      const pr = ctx.node(leader).raft!.progress.find((p) => p.id === f);
      match = pr?.match ?? 0;
      return `stopped node ${f}; the leader has it at index ${match}`;
    });
    await ctx.step('Write until the leader compacts its log past it', async () => {
      const every = ctx.sup.manifest.snapshotEntries;
      const leaderRaft = (v: ClusterView) =>
        v.nodes.find((n) => n.id === (agreedLeader(v) || v.leader))?.raft ?? null;
      const compacted = (v: ClusterView): boolean => {
        const r = leaderRaft(v);
        return !!r && r.firstIndex > match + 1;
      };
      let written = 0;
      let asked = 0;
      while (!compacted(ctx.view())) {
        ctx.expect(
          written < 50_000,
          `the leader did not compact past ${match} after ${written} writes (snapshot every ${every})`,
        );
        written += await ctx.writeMany(200, `lag/${written}/`, 32);
        // Automatic snapshots come every `every` entries. When that is far off (a cluster with the
        // default of 10 000, or none), ask the leader for one, so the step takes seconds.
        if ((every === 0 || every > 2000) && written >= 1500 && written - asked >= 1000) {
          asked = written;
          const r = await ctx.sup.admin(ctx.leader()).call<{ index: number }>('snapshot');
          ctx.note(`${written} writes; asked the leader for a snapshot: ${r.index}`);
        } else {
          ctx.note(
            `${written} writes; the leader's log starts at ${leaderRaft(ctx.view())?.firstIndex}`,
          );
        }
        // The snapshot is taken once the entries are applied; give it a moment to show.
        await ctx.waitFor('the leader to compact', compacted, 500).catch(() => undefined);
      }
      const r = leaderRaft(ctx.view())!;
      commit = r.commit;
      const how = asked ? 'snapshot requested' : `snapshot every ${every}`;
      return `${written} writes (${how}); the leader's log starts at ${r.firstIndex}, snapshot ${r.snapshotIndex}; node ${f} stopped at ${match}`;
    });
    await ctx.step('Restart it; it catches up by InstallSnapshot', async () => {
      const mark = ctx.mark();
      await ctx.sup.restart(f);
      await ctx.waitFor(
        `node ${f} to apply up to ${commit}`,
        (v) => {
          const r = v.nodes.find((n) => n.id === f)?.raft;
          return r && r.applied >= commit;
        },
        30_000,
      );
      const installed = await ctx.waitFor(
        `node ${f} to report an installed snapshot`,
        () =>
          ctx.eventsSince(mark).find((e) => e.node === f && e.data?.type === 'snapshot-installed'),
        5000,
      );
      const sent = ctx
        .eventsSince(mark)
        .find((e) => e.data?.type === 'snapshot-send' && e.data.to === f);
      ctx.expect(sent, `no node reported sending a snapshot to node ${f}`);
      const v = await ctx.read('lag/0/0', f);
      ctx.expect(v === 'v0', `node ${f} reads ${JSON.stringify(v)} for lag/0/0, not "v0"`);
      return `node ${sent.node} sent snapshot ${String(sent.data?.index)} (${String(sent.data?.total)} bytes); node ${f} installed snapshot ${String(installed.data?.index)} and applied ${ctx.node(f).raft!.applied}`;
    });
  },
};

/** addRemoveUnderLoad: a node added (learner → voter) and removed while clients run. */
const addRemoveUnderLoad: Scenario = {
  name: 'add-remove-under-load',
  title: 'Add then remove a node under load',
  description:
    'With a workload running, add a node (learner, catch up, promote to voter), then remove it. ' +
    "Expect: both changes complete, and the workload's history is linearizable with few errors.",
  plan: [
    'Start a workload',
    'Add a node: learner → voter',
    'Remove it again',
    'Stop the workload; its history is linearizable, with few errors',
  ],
  async run(ctx: ScenarioContext) {
    let added = 0;
    const wl = ctx.workload({ clients: 4, keys: 10, readRatio: 0.5, casRatio: 0.1 });
    ctx.defer(() => wl.stop());
    await ctx.step('Start a workload', async () => {
      await ctx.waitLeader();
      // The workload's keys carry a fresh prefix, so they start absent as the checker assumes.
      wl.start();
      await ctx.waitFor('the workload to complete 50 operations', () => wl.totals.ok >= 50, 10_000);
      return `4 clients over 10 keys; ${wl.totals.ok} operations so far`;
    });
    await ctx.step('Add a node: learner → voter', async () => {
      const { wf, run } = await ctx.workflows.addNode(ctx.sup);
      added = wf.view.node;
      ctx.note(`adding node ${added}`);
      const r = await run;
      ctx.expect(r.state === 'done', `adding node ${added} failed: ${r.error}`);
      ctx.expect(
        ctx.node(added).membership === 'voter',
        `node ${added} is ${ctx.node(added).membership}, not a voter`,
      );
      return `node ${added} is a voter: ${stepsOf(r)}`;
    });
    await ctx.step('Remove it again', async () => {
      const { run } = await ctx.workflows.removeNode(ctx.sup, added);
      const r = await run;
      ctx.expect(r.state === 'done', `removing node ${added} failed: ${r.error}`);
      ctx.expect(!ctx.sup.nodes.has(added), `node ${added} is still managed`);
      const l = await ctx.waitLeader();
      const voters = ctx.node(l).raft!.voters;
      ctx.expect(!voters.includes(added), `node ${added} is still a voter: [${voters.join(',')}]`);
      return `voters [${voters.join(',')}]: ${stepsOf(r)}`;
    });
    await ctx.step('Stop the workload; its history is linearizable, with few errors', async () => {
      await wl.stop();
      const t = wl.totals;
      const total = t.ok + t.failed + t.unknown;
      ctx.expect(t.ok >= 50, `only ${t.ok} operations completed`);
      const errors = t.failed + t.unknown;
      ctx.expect(
        errors <= Math.max(10, total * 0.05),
        `${errors} of ${total} operations failed or ended unknown (${t.failed} failed, ${t.unknown} unknown)`,
      );
      const res = check(wl.history, { timeoutMs: 30_000 });
      ctx.expect(
        res.result !== 'unknown',
        `the checker could not decide within 30 s (${wl.history.length} operations)`,
      );
      ctx.expect(
        res.result === 'ok',
        `not linearizable: ${res.failure?.key}: ${res.failure?.explanation}`,
      );
      return `${total} operations (${t.failed} failed, ${t.unknown} unknown), linearizable (checked in ${secs(res.elapsedMs)})`;
    });
  },
};

/** removeLeader: the leader removed from the configuration; the rest elect and take writes. */
const removeLeader: Scenario = {
  name: 'remove-leader',
  title: 'Remove the leader',
  description:
    'Remove the current leader from the configuration. Expect: a new leader among the rest, the ' +
    'removed node exits by itself, and the cluster takes writes. A fresh node is then added so ' +
    'the cluster has as many voters as before.',
  plan: [
    'A healthy cluster with one leader',
    'Remove the leader',
    'A new leader among the rest',
    'The cluster takes writes',
    'Add a fresh node to restore the voter count',
  ],
  async run(ctx: ScenarioContext) {
    let old = 0;
    let count = 0;
    let next = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      old = await ctx.waitLeader();
      count = ctx.voters().length;
      return `node ${old} leads term ${ctx.node(old).raft!.term}; voters [${ctx.voters().join(',')}]`;
    });
    await ctx.step('Remove the leader', async () => {
      const { run } = await ctx.workflows.removeNode(ctx.sup, old);
      const r = await run;
      ctx.expect(r.state === 'done', `removing node ${old} failed: ${r.error}`);
      const exited = r.steps.find((s) => s.name === 'node exited');
      ctx.expect(
        exited && /^exited/.test(exited.detail),
        `node ${old} did not exit by itself (${exited?.detail ?? 'no exit step'})`,
      );
      ctx.expect(!ctx.sup.nodes.has(old), `node ${old} is still managed`);
      return `node ${old} removed; it ${exited.detail}`;
    });
    await ctx.step('A new leader among the rest', async () => {
      next = await ctx.waitFor(
        `a leader among the remaining voters`,
        (v) => {
          const l = agreedLeader(v);
          return l && l !== old ? l : 0;
        },
        Math.max(5000, 10 * ctx.electionMs),
      );
      const voters = ctx.node(next).raft!.voters;
      ctx.expect(!voters.includes(old), `node ${old} is still a voter: [${voters.join(',')}]`);
      return `node ${next} leads term ${ctx.node(next).raft!.term}; voters [${voters.join(',')}]`;
    });
    await ctx.step('The cluster takes writes', async () => {
      const n = await ctx.writeMany(10, 'remove-leader/');
      return `${n} writes committed`;
    });
    await ctx.step('Add a fresh node to restore the voter count', async () => {
      const details: string[] = [];
      while (ctx.voters().length < count) {
        const { wf, run } = await ctx.workflows.addNode(ctx.sup);
        const r = await run;
        ctx.expect(r.state === 'done', `adding node ${wf.view.node} failed: ${r.error}`);
        details.push(`node ${wf.view.node}`);
      }
      return `added ${details.join(', ') || 'none'}; voters [${ctx.voters().join(',')}]`;
    });
  },
};

/** leadershipTransfer: hand over to a chosen follower; it leads at once, one term later. */
const leadershipTransfer: Scenario = {
  name: 'leadership-transfer',
  title: 'Leadership transfer',
  description:
    'Transfer leadership to a chosen follower. Expect: it leads within about one election ' +
    'timeout, and the term grew by exactly one (no competing election).',
  plan: [
    'A healthy cluster with one leader',
    'Transfer leadership to a follower',
    'It leads within about one election timeout',
    'The term grew by exactly one',
  ],
  async run(ctx: ScenarioContext) {
    const E = ctx.electionMs;
    let old = 0;
    let term = 0;
    let target = 0;
    let took = 0;
    await ctx.step('A healthy cluster with one leader', async () => {
      old = await ctx.waitLeader();
      term = ctx.node(old).raft!.term;
      return `node ${old} leads term ${term}`;
    });
    await ctx.step('Transfer leadership to a follower', async () => {
      const progress = ctx.node(old).raft!.progress;
      target = [...ctx.followers()].sort(
        (a, b) =>
          (progress.find((p) => p.id === b)?.match ?? 0) -
          (progress.find((p) => p.id === a)?.match ?? 0),
      )[0]!;
      const mark = ctx.mark();
      const at = Date.now();
      const { run } = await ctx.workflows.transferLeader(ctx.sup, target);
      const r = await run;
      ctx.expect(r.state === 'done', `the transfer to node ${target} failed: ${r.error}`);
      took = ledAt(ctx, target, mark) - at;
      return `node ${old} handed over to node ${target}`;
    });
    await ctx.step('It leads within about one election timeout', async () => {
      ctx.expect(
        took <= 2 * E,
        `node ${target} took ${secs(took)} to lead; the election timeout is ${E} ms`,
      );
      await ctx.waitFor(
        `a majority to follow node ${target}`,
        (v) => agreedLeader(v) === target,
        5000,
      );
      return `node ${target} leads after ${secs(took)} (election timeout ${E} ms)`;
    });
    await ctx.step('The term grew by exactly one', async () => {
      const now = ctx.node(target).raft!.term;
      ctx.expect(now === term + 1, `the term went from ${term} to ${now}, not ${term + 1}`);
      return `term ${term} → ${now}`;
    });
  },
};

/**
 * ledAt is when `id` became leader after event `mark`, by the node's own clock (the same host
 * clock, without the delay of status reports and polling); now if it reported no such event.
 */
function ledAt(ctx: ScenarioContext, id: NodeId, mark: number): number {
  const e = ctx
    .eventsSince(mark)
    .find((x) => x.node === id && x.kind === 'leader' && x.data?.type === 'leader');
  const t = e?.data?.time;
  return typeof t === 'number' ? t : (e?.time ?? Date.now());
}

/** stepsOf lists a workflow's steps with their details, for a step's detail. */
function stepsOf(wf: WorkflowView): string {
  return wf.steps.map((s) => `${s.name}${s.detail ? ` (${s.detail})` : ''}`).join(' → ');
}

/** SCENARIOS: every scenario, in the order they are listed and run by the tests. */
export const SCENARIOS: Scenario[] = [
  leaderCrash,
  minorityPartition,
  leaderIsolated,
  prevoteStableTerm,
  laggingSnapshot,
  addRemoveUnderLoad,
  removeLeader,
  leadershipTransfer,
];

/** listScenarios describes every scenario (name, title, what it expects). */
export function listScenarios(): ScenarioInfo[] {
  return SCENARIOS.map((s) => ({ name: s.name, title: s.title, description: s.description }));
}

// ---------------------------------------------------------------- running

/** RESTORE is the last step of every run. */
const RESTORE = 'Restore the cluster';

/**
 * runScenario runs one scenario against the supervisor's cluster, narrating its steps in
 * sup.parts.scenario and the event stream, and resolves with the finished run ('passed' or
 * 'failed'; a failed expectation never throws). The cluster is restored afterwards either way.
 * An unknown name throws, listing the known ones, and so does a cluster that is not running.
 */
export async function runScenario(sup: Supervisor, name: string): Promise<ScenarioRun> {
  const sc = SCENARIOS.find((s) => s.name === name);
  if (!sc) {
    throw new Error(
      `no scenario named '${name}'; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  if (sup.state !== 'running') throw new Error(`the cluster is ${sup.state}; start it first`);
  const run: ScenarioRun = {
    name,
    state: 'running',
    startedAt: Date.now(),
    steps: [...(sc.plan ?? []), RESTORE].map((text) => ({
      text,
      state: 'pending' as StepState,
      detail: '',
    })),
  };
  sup.setScenario(run);
  sup.event(null, 'scenario', `scenario ${name} started: ${sc.description}`);
  const r = new Runner(sup, sc, run);
  let failure: Error | undefined;
  try {
    await sc.run(r.ctx);
  } catch (e) {
    failure = e as Error;
  }
  for (const s of run.steps) if (s.state === 'pending' && s.text !== RESTORE) s.state = 'skipped';
  await r.cleanup();
  try {
    await r.ctx.step(RESTORE, () => r.restore());
  } catch (e) {
    failure ??= e as Error;
  }
  await r.close();
  run.state = failure ? 'failed' : 'passed';
  sup.setScenario(run);
  sup.event(
    null,
    'scenario',
    failure
      ? `scenario ${name} failed: ${failure.message}`
      : `scenario ${name} passed in ${secs(Date.now() - run.startedAt)}`,
  );
  return run;
}

/** Runner holds one run's state and implements its ScenarioContext. */
class Runner {
  readonly ctx: ScenarioContext;
  private current: ScenarioRun['steps'][number] | undefined;
  private readonly deferred: (() => Promise<void> | void)[] = [];
  private readonly clients = new Map<string, KvClient>();
  private readonly startVoters: number;

  constructor(
    private readonly sup: Supervisor,
    private readonly sc: Scenario,
    private readonly run: ScenarioRun,
  ) {
    const electionMs = sup.manifest.timing.electionMs;
    const v0 = sup.view();
    const l0 = v0.nodes.find((n) => n.id === v0.leader)?.raft;
    this.startVoters = l0 ? l0.voters.length : v0.nodes.length;
    const ctx: ScenarioContext = {
      sup,
      electionMs,
      workflows: { addNode, removeNode, transferLeader },
      step: (text, fn) => this.step(text, fn),
      note: (detail) => {
        if (this.current) {
          this.current.detail = detail;
          sup.setScenario(this.run);
        }
      },
      expect(cond: unknown, message: string): asserts cond {
        if (!cond) throw new ScenarioFailure(message);
      },
      waitFor: (what, predicate, timeoutMs) => this.waitFor(what, predicate, timeoutMs),
      holds: async (what, predicate, ms) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (!predicate(sup.view())) {
            throw new ScenarioFailure(`expected ${what}, but: ${describeView(sup.view())}`);
          }
          await sleep(25);
        }
      },
      view: () => sup.view(),
      node: (id) => {
        const n = sup.view().nodes.find((x) => x.id === id);
        if (!n) throw new ScenarioFailure(`node ${id} is not in the cluster`);
        return n;
      },
      leader: () => {
        const l = agreedLeader(sup.view());
        if (!l) throw new ScenarioFailure(`no leader: ${describeView(sup.view())}`);
        return l;
      },
      waitLeader: (what = 'a leader', timeoutMs = Math.max(10_000, 20 * electionMs)) =>
        this.waitFor(what, agreedLeader, timeoutMs),
      voters: () => this.voters(),
      followers: () => {
        const v = sup.view();
        const l = agreedLeader(v);
        return this.voters().filter(
          (id) => id !== l && v.nodes.find((n) => n.id === id)?.process.state === 'running',
        );
      },
      follower: () => {
        const f = ctx.followers()[0];
        if (!f) throw new ScenarioFailure(`no running follower: ${describeView(sup.view())}`);
        return f;
      },
      write: async (key, value) => {
        await this.client().put(key, value);
      },
      del: async (key) => {
        await this.client().del(key);
      },
      read: async (key, via) => {
        const v = await this.client(via).get(key);
        return v === null ? null : dec.decode(v);
      },
      writeMany: (count, prefix, concurrency = 8) => this.writeMany(count, prefix, concurrency),
      workload: (options) =>
        new Workload(
          () => this.endpoints(),
          options,
          () => sup.bump(),
        ),
      eventsSince: (seq) => sup.eventsSince(seq),
      mark: () => {
        const all = sup.allEvents();
        return all.length ? all[all.length - 1]!.seq : 0;
      },
      defer: (fn) => {
        this.deferred.push(fn);
      },
    };
    this.ctx = ctx;
  }

  private async step(text: string, fn: StepFn): Promise<void> {
    let s = this.run.steps.find((x) => x.text === text && x.state === 'pending');
    if (!s) {
      s = { text, state: 'pending', detail: '' };
      const restore = this.run.steps.findIndex((x) => x.text === RESTORE && x.state === 'pending');
      if (restore >= 0 && text !== RESTORE) this.run.steps.splice(restore, 0, s);
      else this.run.steps.push(s);
    }
    const start = Date.now();
    s.state = 'active';
    s.detail = '';
    this.current = s;
    this.sup.setScenario(this.run);
    this.sup.event(null, 'scenario', `${this.sc.name}: ${text}…`);
    try {
      const detail = await fn();
      s.state = 'done';
      s.detail = `${detail || s.detail || 'done'} (${secs(Date.now() - start)})`;
      this.sup.event(null, 'scenario', `${this.sc.name}: ${text} — ${s.detail}`);
    } catch (e) {
      s.state = 'failed';
      s.detail = `${(e as Error).message} (after ${secs(Date.now() - start)})`;
      this.sup.event(null, 'scenario', `${this.sc.name}: ${text} FAILED — ${s.detail}`);
      throw e;
    } finally {
      this.current = undefined;
      this.sup.setScenario(this.run);
    }
  }

  private async waitFor<T>(
    what: string,
    predicate: ViewPredicate<T>,
    timeoutMs = 10_000,
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = this.sup.view();
      const r = predicate(v);
      if (r) return r;
      if (Date.now() > end) {
        throw new ScenarioFailure(
          `timed out after ${secs(timeoutMs)} waiting for ${what}; cluster: ${describeView(v)}`,
        );
      }
      await sleep(25);
    }
  }

  private voters(): NodeId[] {
    const v = this.sup.view();
    const l = v.nodes.find((n) => n.id === (agreedLeader(v) || v.leader))?.raft;
    if (l) return [...l.voters];
    return v.nodes.filter((n) => n.membership === 'voter').map((n) => n.id);
  }

  private endpoints(): string[] {
    return this.sup
      .view()
      .nodes.filter((n) => n.membership !== 'removed')
      .map((n) => n.addresses.client);
  }

  /** client is a KvClient over every node's client address, or pinned to one node. */
  private client(via?: NodeId): KvClient {
    const endpoints = via ? [this.ctx.node(via).addresses.client] : this.endpoints();
    const key = endpoints.join(',');
    let c = this.clients.get(key);
    if (!c) {
      c = new KvClient({
        endpoints,
        timeoutMs: 10_000,
        clientId: `scenario-${this.sc.name}-${this.clients.size}-${Date.now()}`,
      });
      this.clients.set(key, c);
    }
    return c;
  }

  private async writeMany(count: number, prefix: string, concurrency: number): Promise<number> {
    const c = this.client();
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        await c.put(`${prefix}${i}`, `v${i}`);
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
    return done;
  }

  async cleanup(): Promise<void> {
    for (const fn of this.deferred.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup is best effort; the restore step reports what is still wrong.
      }
    }
  }

  /** restore heals the network, resumes and restarts nodes and restores the voter count. */
  async restore(): Promise<string> {
    const did: string[] = [];
    const sup = this.sup;
    await sup.clearAllFaults();
    for (const [id, m] of sup.nodes) {
      if (m.rec.state === 'member' && !m.proc.running) {
        await sup.startNode(id);
        did.push(`restarted node ${id}`);
      }
    }
    await this.ctx.waitLeader('a leader after restoring', 30_000);
    while (this.voters().length < this.startVoters) {
      const { wf, run } = await addNode(sup);
      const r = await run;
      if (r.state !== 'done') throw new ScenarioFailure(`could not add a node: ${r.error}`);
      did.push(`added node ${wf.view.node}`);
    }
    await this.waitFor(
      'every node to run, follow one leader and catch up',
      settled,
      Math.max(30_000, 40 * this.ctx.electionMs),
    );
    const v = sup.view();
    return `${did.length ? `${did.join(', ')}; ` : ''}${v.nodes.length} nodes follow node ${v.leader} in term ${v.term}`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
