import { type Scenario, type ScenarioContext, secs } from './context';

/** prevoteStableTerm: an isolated follower's term stays put (prevote); its return disturbs no one. */
export const prevoteStableTerm: Scenario = {
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
