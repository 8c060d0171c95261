import { agreedLeader, type Scenario, type ScenarioContext } from './context';

/** removeLeader: the leader removed from the configuration; the rest elect and take writes. */
export const removeLeader: Scenario = {
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
      const { run } = await ctx.sup.removeNode(old);
      const r = await run;
      ctx.expect(r.state === 'done', `removing node ${old} failed: ${r.error}`);
      const exited = r.steps.find((s) => s.name === 'node exited');
      ctx.expect(
        exited && /^exited/.test(exited.detail),
        `node ${old} did not exit by itself (${exited?.detail ?? 'no exit step'})`,
      );
      ctx.expect(!ctx.view().nodes.some((n) => n.id === old), `node ${old} is still managed`);
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
        const { view, run } = await ctx.sup.addNode();
        const r = await run;
        ctx.expect(r.state === 'done', `adding node ${view.node} failed: ${r.error}`);
        details.push(`node ${view.node}`);
      }
      return `added ${details.join(', ') || 'none'}; voters [${ctx.voters().join(',')}]`;
    });
  },
};
