import { check } from '../checker/porcupine';
import { type Scenario, type ScenarioContext, secs, stepsOf } from './context';

/** addRemoveUnderLoad: a node added (learner → voter) and removed while clients run. */
export const addRemoveUnderLoad: Scenario = {
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
      const { view, run } = await ctx.sup.addNode();
      added = view.node;
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
      const { run } = await ctx.sup.removeNode(added);
      const r = await run;
      ctx.expect(r.state === 'done', `removing node ${added} failed: ${r.error}`);
      ctx.expect(!ctx.view().nodes.some((n) => n.id === added), `node ${added} is still managed`);
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
