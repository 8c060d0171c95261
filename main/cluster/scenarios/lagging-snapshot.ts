import type { ClusterView } from '../../contract/view';
import { supervisorOf } from '../raftdeck-engine';
import { agreedLeader, type Scenario, type ScenarioContext } from './context';

/** laggingSnapshot: a stopped follower falls behind the leader's compacted log; InstallSnapshot. */
export const laggingSnapshot: Scenario = {
  name: 'lagging-snapshot',
  title: 'A lagging node catches up by snapshot',
  description:
    'Stop a follower and write until the leader has compacted its log past it. Expect: on restart ' +
    'the leader sends it a snapshot (InstallSnapshot), it installs it and catches up.',
  // It watches the leader's first log index, which only raftdeck's nodes report.
  engines: ['raftdeck'],
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
      const sup = supervisorOf(ctx.sup);
      const every = sup.manifest.snapshotEntries;
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
          const r = await sup.admin(ctx.leader()).call<{ index: number }>('snapshot');
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
