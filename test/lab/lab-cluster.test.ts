import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import { runSchedule } from '../../main/lab/schedule-runner';
import { internals } from '../raft/helpers';

describe('the randomized simulation', () => {
  it('replays a seed exactly', () => {
    const a = runSchedule(77);
    const b = runSchedule(77);
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
    expect(runSchedule(78).trace).not.toEqual(a.trace);
  });

  it('finds no violation in a batch of seeds and exercises faults, snapshots and membership', () => {
    const total: Record<string, number> = {};
    let oneWay = 0;
    let powerLoss = 0;
    for (let s = 1000; s < 1040; s++) {
      const r = runSchedule(s);
      expect(r.violations, `seed ${s}`).toEqual([]);
      for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v;
      oneWay += r.trace.filter((t) => t.includes('(one way)')).length;
      powerLoss += r.trace.filter((t) => t.includes('power loss')).length;
    }
    expect(total.snapshotsInstalled).toBeGreaterThan(0);
    expect(total.confChanges).toBeGreaterThan(0);
    expect(total.acked).toBeGreaterThan(1000);
    // What only the real host model has: crashes in the middle of a write, some of which leave
    // part of it on disk, nodes exiting on a failed fsync, leaderGone, group commit.
    expect(total.midWriteCrashes).toBeGreaterThan(0);
    expect(total.tornFlushes).toBeGreaterThan(0);
    expect(total.fatalExits).toBeGreaterThan(0);
    expect(total.leaderGone).toBeGreaterThan(0);
    expect(total.entriesSynced).toBeGreaterThan(total.syncs!);
    expect(oneWay).toBeGreaterThan(0);
    expect(powerLoss).toBeGreaterThan(0);
    // The store's files: power cuts, new segments, segments a snapshot covered deleted, and
    // batches a crash left open closed on open.
    expect(total.powerLosses).toBeGreaterThan(0);
    expect(total.rotations).toBeGreaterThan(0);
    expect(total.segmentsDeleted).toBeGreaterThan(0);
    expect(total.openRepairs).toBeGreaterThan(0);
  });

  it('the sync host still runs the original model without violations', () => {
    for (let s = 1000; s < 1010; s++) {
      const r = runSchedule(s, 6000, { host: 'sync' });
      expect(r.violations, `seed ${s}`).toEqual([]);
      expect(r.stats.midWriteCrashes + r.stats.tornFlushes + r.stats.fatalExits).toBe(0);
    }
  });

  it('the checker reports divergent logs', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 3 });
    c.rounds(50);
    const l = c.leader();
    for (let i = 0; i < 5; i++) c.propose(l, `d${i}`);
    c.rounds(5);
    c.checkLogMatching();
    expect(c.violations).toEqual([]);
    const f = [1, 2, 3].find((id) => id !== l)!;
    const e = c.node(f).raft.log.entry(3)!;
    internals(c.node(f).raft).log.entries[3 - c.node(f).raft.log.prevIndex - 1] = {
      ...e,
      data: new Uint8Array([1, 2, 3]),
    };
    c.checkLogMatching();
    expect(c.violations.join('\n')).toMatch(/log matching/);
  });
});
