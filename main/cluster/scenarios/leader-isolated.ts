import {
  agreedLeader,
  describeView,
  failoverPath,
  leaderGone,
  type Scenario,
  type ScenarioContext,
  secs,
} from './context';

/** leaderIsolated: the leader alone in a minority steps down; the majority elects; heal → one leader. */
export const leaderIsolated: Scenario = {
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
      const v = ctx.view();
      const path = failoverPath(v.pace.fastFailover, leaderGone(v, old));
      return `node ${next} leads term ${ctx.node(next).raft!.term}; ${n} writes committed; ${path}`;
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
