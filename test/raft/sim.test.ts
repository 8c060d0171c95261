import { describe, expect, it } from 'vitest';
import { SimCluster } from './sim/cluster';
import { runSchedule } from './sim/run';

describe('the randomized simulation', () => {
  it('replays a seed exactly', () => {
    const a = runSchedule(77);
    const b = runSchedule(77);
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
    expect(runSchedule(78).trace).not.toEqual(a.trace);
  });

  it('finds no violation in a batch of seeds and exercises faults, snapshots and membership', () => {
    let snaps = 0;
    let conf = 0;
    let acked = 0;
    for (let s = 1000; s < 1040; s++) {
      const r = runSchedule(s);
      expect(r.violations, `seed ${s}`).toEqual([]);
      snaps += r.stats.snapshotsInstalled;
      conf += r.stats.confChanges;
      acked += r.stats.acked;
    }
    expect(snaps).toBeGreaterThan(0);
    expect(conf).toBeGreaterThan(0);
    expect(acked).toBeGreaterThan(1000);
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
    c.node(f).raft.log.entries[3 - c.node(f).raft.log.prevIndex - 1] = {
      ...e,
      data: new Uint8Array([1, 2, 3]),
    };
    c.checkLogMatching();
    expect(c.violations.join('\n')).toMatch(/log matching/);
  });
});
