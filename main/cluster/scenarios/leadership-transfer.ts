import { agreedLeader, ledAt, type Scenario, type ScenarioContext, secs } from './context';

/** leadershipTransfer: hand over to a chosen follower; it leads at once, one term later. */
export const leadershipTransfer: Scenario = {
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
      const { run } = await ctx.sup.transferLeader(target);
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
