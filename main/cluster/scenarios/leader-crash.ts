import {
  agreedLeader,
  failoverPath,
  leaderGone,
  ledAt,
  type Scenario,
  type ScenarioContext,
  secs,
} from './context';

/** leaderCrash: kill -9 the leader; a new one is elected; the old one rejoins as a follower. */
export const leaderCrash: Scenario = {
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
      const v = ctx.view();
      const path = failoverPath(v.pace.fastFailover, leaderGone(v, old));
      return `node ${next} leads term ${ctx.node(next).raft!.term} after ${secs(took)} (${(took / (E * ctx.pace())).toFixed(1)} election timeouts); ${path}`;
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
