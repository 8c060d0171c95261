/**
 * engine-contract: the engine-agnostic supervisor tests. The same sequence — start three members,
 * kill -9 the leader and restart it, pause and resume a follower, a minority partition and its
 * healing, a workload through a leader kill checked linearizable, a learner added and promoted,
 * the leader removed, the leadership moved — runs on every ClusterEngine, through the engine
 * seam only (the view, faults, workflows and key-value sessions), the way the storage contract
 * runs over both storages. Each engine's test file calls describeEngine with a factory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEngine } from '../../main/cluster/engine';
import { check } from '../../main/cluster/checker/porcupine';
import { Workload } from '../../main/cluster/workload';
import type { ClusterView, NodeId } from '../../main/contract/view';

export interface EngineSubject {
  engine: ClusterEngine;
  /** dispose stops the engine and everything it started (by pid, even after a failure). */
  dispose(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** waitView polls the view until `pred` holds, or fails naming `what` and the last view. */
async function waitView<T>(
  e: ClusterEngine,
  what: string,
  ms: number,
  pred: (v: ClusterView) => T | false | null | undefined | 0,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = e.view();
    const r = pred(v);
    if (r) return r;
    if (Date.now() > end) {
      const nodes = v.nodes
        .map((n) => `${n.id}:${n.process.state}/${n.role ?? '-'}/${n.membership}/${n.health}`)
        .join(' ');
      throw new Error(`timed out after ${ms} ms waiting for ${what}; leader ${v.leader}, ${nodes}`);
    }
    await sleep(50);
  }
}

/** settled: one leader that every running member follows, all voters. */
const settled = (v: ClusterView): boolean =>
  v.leader !== 0 &&
  v.nodes.every(
    (n) =>
      n.process.state === 'running' &&
      n.membership === 'voter' &&
      n.raft !== null &&
      (n.id === v.leader || n.raft.leader === v.leader),
  );

export function describeEngine(
  name: string,
  open: () => Promise<EngineSubject>,
  options: { t?: number; skip?: boolean } = {},
): void {
  const t = options.t ?? 30_000;
  describe.skipIf(options.skip === true)(`engine contract: ${name}`, () => {
    let s: EngineSubject;
    let e: ClusterEngine;

    beforeAll(async () => {
      s = await open();
      e = s.engine;
    }, 60_000);
    afterAll(async () => {
      await s?.dispose();
    }, 60_000);

    const write = async (key: string, value: string): Promise<void> => {
      // through the leader: a write sent to a paused or cut-off member waits for its deadline
      const via = e.view().leader || undefined;
      const kv = e.kvSession({ clientId: `contract-${Date.now()}`, timeoutMs: 5000, via });
      try {
        await kv.put(key, value);
      } finally {
        await kv.close();
      }
    };

    it(
      'starts three voters that follow one leader',
      async () => {
        const v = await waitView(e, 'three settled voters', t, (x) => settled(x) && x);
        expect(v.nodes).toHaveLength(3);
        expect(v.config.voters).toHaveLength(3);
        expect(v.quorum.needed).toBe(2);
      },
      t + 5000,
    );

    it(
      'elects a new leader after a kill -9 of the leader, and takes the old one back as a follower',
      async () => {
        const old = (await waitView(e, 'a leader', t, (v) => settled(v) && v.leader)) as NodeId;
        const term = e.view().term;
        await e.kill(old);
        const next = await waitView(
          e,
          'a new leader',
          t,
          (v) => v.leader !== 0 && v.leader !== old && v.leader,
        );
        expect(e.view().term).toBeGreaterThan(term);
        expect(e.view().nodes.find((n) => n.id === old)!.process.state).not.toBe('running');
        await write('contract/after-kill', 'x');
        await e.restart(old);
        await waitView(e, 'the old leader back as a follower', t, (v) => {
          const n = v.nodes.find((x) => x.id === old)!;
          return settled(v) && v.leader === next && n.raft?.leader === next;
        });
      },
      3 * t,
    );

    it(
      'keeps leading while a follower is paused, and the follower catches up on resume',
      async () => {
        const leader = await waitView(e, 'a leader', t, (v) => settled(v) && v.leader);
        const f = e.view().nodes.find((n) => n.id !== leader)!.id;
        e.pause(f);
        await waitView(e, `member ${f} paused`, t, (v) => {
          const n = v.nodes.find((x) => x.id === f)!;
          return n.process.state === 'paused' && n.health === 'paused';
        });
        const behind = e.view().nodes.find((x) => x.id === f)!.raft?.commit ?? 0;
        for (let i = 0; i < 5; i++) await write(`contract/while-paused/${i}`, 'y');
        // the others went on without it: the leader's commit passed what the paused member has
        await waitView(e, 'the commit to move past the paused member', t, (v) => v.commit > behind);
        await sleep(2 * e.timing.electionMs);
        expect(e.view().leader).toBe(leader);
        expect(e.view().nodes.find((x) => x.id === f)!.process.state).toBe('paused');
        e.resume(f);
        await waitView(e, `member ${f} caught up`, t, (v) => {
          const n = v.nodes.find((x) => x.id === f)!;
          return (
            settled(v) && n.raft !== null && n.raft.commit >= v.commit && n.health === 'healthy'
          );
        });
      },
      3 * t,
    );

    it(
      'a minority member cut off by a partition has no leader; the majority goes on; healing rejoins it',
      async () => {
        const leader = await waitView(e, 'a leader', t, (v) => settled(v) && v.leader);
        const cut = e.view().nodes.find((n) => n.id !== leader)!.id;
        const rest = e
          .view()
          .nodes.map((n) => n.id)
          .filter((id) => id !== cut);
        await e.partition([rest, [cut]]);
        await waitView(e, `member ${cut} cut off`, t, (v) => {
          const n = v.nodes.find((x) => x.id === cut)!;
          return v.leader !== cut && n.health === 'cut-off' && v.partitions !== null;
        });
        // the majority accepts a write while the minority cannot lead
        await write('contract/during-partition', 'z');
        await sleep(3 * e.timing.electionMs);
        const during = e.view();
        expect(during.leader).not.toBe(cut);
        expect(during.nodes.find((n) => n.id === cut)!.role).not.toBe('leader');
        await e.heal();
        await waitView(e, 'every member following one leader again', t, (v) => {
          const n = v.nodes.find((x) => x.id === cut)!;
          return settled(v) && v.partitions === null && n.health === 'healthy';
        });
      },
      4 * t,
    );

    it(
      'a workload through a leader kill and a partition stays linearizable',
      async () => {
        await waitView(e, 'a settled cluster', t, (v) => settled(v) && v.leader);
        const wl = new Workload((clientId, timeoutMs) => e.kvSession({ clientId, timeoutMs }), {
          clients: 4,
          keys: 5,
          readRatio: 0.5,
          casRatio: 0.1,
          seconds: 0,
        });
        wl.start();
        await sleep(1500);
        const old = e.view().leader;
        await e.kill(old);
        const next = await waitView(
          e,
          'a new leader',
          t,
          (v) => v.leader !== 0 && v.leader !== old && v.leader,
        );
        await sleep(1000);
        // then a partition: the new leader alone on one side, so the rest must elect again
        const rest = e
          .view()
          .nodes.map((n) => n.id)
          .filter((id) => id !== next);
        await e.partition([[next], rest]);
        await sleep(2 * e.timing.electionMs + 1000);
        await e.heal();
        await sleep(1000);
        await wl.stop();
        await e.restart(old);
        expect(wl.totals.ok).toBeGreaterThan(50);
        const verdict = check(wl.history, { timeoutMs: 30_000 });
        expect(verdict.result).toBe('ok');
        await waitView(e, 'the old leader back', t, settled);
      },
      4 * t,
    );

    it(
      'adds a member as a learner and promotes it to voter',
      async () => {
        await waitView(e, 'a settled cluster', t, settled);
        const { view, run } = await e.addNode();
        expect(view.kind).toBe('add-node');
        const seen = new Set<string>();
        const off = e.onView((v) => {
          const n = v.nodes.find((x) => x.id === view.node);
          if (n) seen.add(n.membership);
        });
        const r = await run;
        off();
        expect(r.state, r.error ?? '').toBe('done');
        expect(r.steps.every((st) => st.state === 'done' || st.state === 'skipped')).toBe(true);
        const v = await waitView(e, `member ${view.node} a voter`, t, (x) => {
          const n = x.nodes.find((y) => y.id === view.node);
          return n?.membership === 'voter' && x.config.voters.length === 4 && x;
        });
        expect(v.config.voters).toContain(view.node);
        // it was a learner before it was a voter
        expect(seen.has('learner') || seen.has('joining')).toBe(true);
      },
      6 * t,
    );

    it(
      'removes the leader; the others elect a new one without it',
      async () => {
        const old = await waitView(e, 'a settled cluster', t, (v) => settled(v) && v.leader);
        const { run } = await e.removeNode(old);
        const r = await run;
        expect(r.state, r.error ?? '').toBe('done');
        const v = await waitView(
          e,
          'a new leader without the removed member',
          t,
          (x) => x.leader !== 0 && x.leader !== old && !x.config.voters.includes(old) && x,
        );
        expect(v.config.voters).toHaveLength(3);
        expect(v.nodes.some((n) => n.id === old)).toBe(false);
      },
      4 * t,
    );

    it(
      'moves the leadership to a chosen follower',
      async () => {
        const leader = await waitView(e, 'a settled cluster', t, (v) => settled(v) && v.leader);
        const target = e.view().nodes.find((n) => n.id !== leader)!.id;
        const { run } = await e.transferLeader(target);
        const r = await run;
        expect(r.state, r.error ?? '').toBe('done');
        await waitView(e, `member ${target} leading`, t, (v) => v.leader === target);
      },
      3 * t,
    );
  });
}
