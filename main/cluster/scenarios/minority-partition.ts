import type { ClusterEvent } from '../../contract/view';
import { describeView, type Scenario, type ScenarioContext } from './context';

/** minorityPartition: a follower cut off; the majority commits; the follower catches up on heal. */
export const minorityPartition: Scenario = {
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
