import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import { elect } from './helpers';

describe('leadership transfer (thesis §3.10)', () => {
  it('catches the target up, sends TimeoutNow, and the target leads well before an election timeout', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 41 });
    const leader = elect(c);
    const target = [1, 2, 3].find((id) => id !== leader)!;
    // Make the target lag so the leader must catch it up first.
    c.cut(leader, target);
    for (let i = 0; i < 10; i++) c.propose(leader, `t${i}`);
    c.rounds(2);
    c.heal();
    const term = c.node(leader).raft.term;
    expect(c.transfer(leader, target).ok).toBe(true);
    expect(c.propose(leader, 'during')).toMatchObject({ ok: false, error: 'transfer-in-progress' });
    c.rounds(3);
    expect(c.leader()).toBe(target);
    expect(c.node(target).raft.term).toBe(term + 1);
    expect(
      c
        .node(leader)
        .events.filter((e) => e.type === 'transfer')
        .map((e) => e.type === 'transfer' && e.status),
    ).toEqual(['started', 'done']);
    expect(c.violations).toEqual([]);
  });

  it('gives up after an election timeout when the target cannot take over', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 42 });
    const leader = elect(c);
    const target = [1, 2, 3].find((id) => id !== leader)!;
    c.crash(target);
    expect(c.transfer(leader, target).ok).toBe(true);
    c.rounds(12);
    expect(c.leader()).toBe(leader);
    const statuses = c
      .node(leader)
      .events.filter((e) => e.type === 'transfer')
      .map((e) => e.type === 'transfer' && e.status);
    expect(statuses).toEqual(['started', 'aborted']);
    expect(c.propose(leader, 'after').ok).toBe(true);
  });

  it('refuses to transfer to a non-voter or from a follower', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 43 });
    const leader = elect(c);
    const f = [1, 2, 3].find((id) => id !== leader)!;
    expect(c.transfer(leader, 9)).toMatchObject({ ok: false, error: 'invalid-change' });
    expect(c.transfer(f, leader)).toMatchObject({ ok: false, error: 'not-leader' });
  });
});
