import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import type { RawNode } from '../../main/raft/raw-node';
import type { Message, NodeId } from '../../main/raft/types';
import { drain, internals, ofType, rawNode } from './helpers';

/** until ticks the whole cluster until cond holds (or fails after limit ticks). */
function until(c: SimCluster, cond: () => boolean, limit = 500): void {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    c.rounds(1);
  }
  throw new Error('condition not reached');
}

/** followerOfLeader elects a leader in a 3-node cluster without PreVote and picks a follower. */
function followerOfLeader(): { leader: NodeId; f: NodeId; fr: RawNode } {
  const c = new SimCluster({ ids: [1, 2, 3], seed: 9, preVote: false });
  until(c, () => c.leader() !== 0);
  const leader = c.leader();
  const f = [1, 2, 3].find((id) => id !== leader)!;
  return { leader, f, fr: c.node(f).raft };
}

/** voteFrom99 is a vote request from an unknown node 99, five terms ahead, with a longer log. */
function voteFrom99(to: NodeId, term: number, transfer: boolean): Message {
  return {
    type: 'vote',
    from: 99,
    to,
    term: term + 5,
    lastIndex: 1000,
    lastTerm: term + 4,
    transfer,
  };
}

/**
 * failover elects a leader (election timeout 50 ticks), crashes it, tells the followers it is
 * gone if `told`, and runs up to `limit` rounds until one of them leads: `rounds` is how many ran.
 */
function failover(
  ids: NodeId[],
  seed: number,
  told: boolean,
  limit: number,
): { c: SimCluster; old: NodeId; followers: NodeId[]; rounds: number; leader?: NodeId } {
  const c = new SimCluster({ ids, seed, electionTicks: 50 });
  until(c, () => c.leader() !== 0);
  c.rounds(5);
  const old = c.leader();
  const followers = ids.filter((id) => id !== old);
  c.crash(old);
  if (told) for (const f of followers) c.node(f).raft.leaderGone(old);
  for (let rounds = 1; rounds <= limit; rounds++) {
    c.rounds(1);
    const leader = followers.find((id) => c.node(id).raft.role === 'leader');
    if (leader !== undefined) return { c, old, followers, rounds, leader };
  }
  return { c, old, followers, rounds: limit };
}

describe('leader election (§5.2)', () => {
  it('grants at most one vote per term (§5.2)', () => {
    const r = rawNode(1, [1, 2, 3], { term: 1 });
    r.step({ type: 'vote', from: 2, to: 1, term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    r.step({ type: 'vote', from: 3, to: 1, term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    const resps = ofType(drain(r), 'vote-resp');
    expect(resps.map((m) => [m.to, m.reject])).toEqual([
      [2, false],
      [3, true],
    ]);
    expect(internals(r).vote).toBe(2);
    // A retried request from the same candidate is granted again (idempotent).
    r.step({ type: 'vote', from: 2, to: 1, term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    expect(ofType(drain(r), 'vote-resp')[0]!.reject).toBe(false);
  });

  it('votes only for candidates whose log is at least as up-to-date (§5.4.1)', () => {
    // Our log: terms [2, 2] at indexes 2..3 (last 3/2).
    const cases: [number, number, boolean][] = [
      [3, 2, true], // same last term and index
      [4, 2, true], // longer, same term
      [2, 2, false], // shorter, same term
      [9, 1, false], // longer but older term
      [2, 3, true], // shorter but newer term
    ];
    for (const [lastIndex, lastTerm, granted] of cases) {
      const r = rawNode(1, [1, 2, 3], { terms: [2, 2], term: 2 });
      r.step({ type: 'vote', from: 2, to: 1, term: 3, lastIndex, lastTerm, transfer: false });
      const resp = ofType(drain(r), 'vote-resp')[0]!;
      expect({ lastIndex, lastTerm, granted: !resp.reject }).toEqual({
        lastIndex,
        lastTerm,
        granted,
      });
    }
  });

  it('two of three elect a leader while the third is down', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 11 });
    c.crash(3);
    until(c, () => c.leader() !== 0);
    expect([1, 2]).toContain(c.leader());
    expect(c.violations).toEqual([]);
  });

  it('dueling candidates settle on one leader with randomized timeouts', () => {
    // Without prevote, force 1 and 3 to campaign at the same moment in the same term.
    const c = new SimCluster({ ids: [1, 2, 3], seed: 5, preVote: false });
    internals(c.node(1).raft).campaign('election');
    internals(c.node(3).raft).campaign('election');
    c.process(c.node(1));
    c.process(c.node(3));
    c.stabilize();
    // Node 2 votes for whichever asked first; the other candidate cannot win term 2.
    const leaders = [1, 2, 3].filter((id) => c.node(id).raft.role === 'leader');
    expect(leaders.length).toBeLessThanOrEqual(1);
    until(c, () => c.leader() !== 0);
    const terms = new Set([1, 2, 3].map((id) => c.node(id).raft.term));
    expect(terms.size).toBe(1);
    expect(c.violations).toEqual([]);
  });

  it('heartbeats keep the leader: no election while it is up', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 3 });
    until(c, () => c.leader() !== 0);
    const leader = c.leader();
    const term = c.node(leader).raft.term;
    c.rounds(500);
    expect(c.leader()).toBe(leader);
    expect(c.node(leader).raft.term).toBe(term);
  });

  it('a lone node keeps raising its term without prevote, and not with it', () => {
    for (const preVote of [false, true]) {
      const c = new SimCluster({ ids: [1, 2, 3], seed: 8, preVote });
      until(c, () => c.leader() !== 0);
      const lone = [1, 2, 3].find((id) => id !== c.leader())!;
      const before = c.node(lone).raft.term;
      c.isolate(lone);
      c.rounds(300);
      const after = c.node(lone).raft.term;
      if (preVote) expect(after).toBe(before);
      else expect(after).toBeGreaterThan(before + 5);
    }
  });

  it('prevote keeps a rejoining partitioned node from disrupting the leader (thesis §9.6)', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 21, preVote: true });
    until(c, () => c.leader() !== 0);
    const leader = c.leader();
    const term = c.node(leader).raft.term;
    const lone = [1, 2, 3].find((id) => id !== leader)!;
    c.isolate(lone);
    c.rounds(200);
    c.heal();
    c.rounds(50);
    expect(c.leader()).toBe(leader);
    expect(c.node(leader).raft.term).toBe(term);
    expect(c.node(lone).raft.term).toBe(term);
    expect(c.node(lone).raft.leader).toBe(leader);
  });

  it('without prevote a rejoining node forces a new term (the problem prevote solves)', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 21, preVote: false, checkQuorum: false });
    until(c, () => c.leader() !== 0);
    const term = c.node(c.leader()).raft.term;
    const lone = [1, 2, 3].find((id) => id !== c.leader())!;
    c.isolate(lone);
    c.rounds(200);
    c.heal();
    until(c, () => c.leader() !== 0 && c.node(c.leader()).raft.term > term + 1);
    expect(c.node(c.leader()).raft.term).toBeGreaterThan(term + 1);
  });

  it('check-quorum: a leader that loses its majority steps down', () => {
    const c = new SimCluster({ ids: [1, 2, 3, 4, 5], seed: 4 });
    until(c, () => c.leader() !== 0);
    const leader = c.leader();
    c.isolate(leader);
    // Within two election timeouts the isolated leader must have stepped down.
    c.rounds(25);
    expect(c.node(leader).raft.role).not.toBe('leader');
    const ev = c.node(leader).events.find((e) => e.type === 'step-down');
    expect(ev).toMatchObject({ type: 'step-down', reason: 'check-quorum' });
    // The majority elects a new leader.
    until(c, () => c.leader() !== 0 && c.leader() !== leader);
  });

  it('leader stickiness: followers that hear from a leader ignore a higher-term vote request', () => {
    const { leader, f, fr } = followerOfLeader();
    const term = fr.term;
    fr.step(voteFrom99(f, term, false));
    expect(fr.term).toBe(term);
    expect(fr.leader).toBe(leader);
    // The same request marked as a leadership transfer is honoured.
    fr.step(voteFrom99(f, term, true));
    expect(fr.term).toBe(term + 5);
  });

  it('followers told their leader is gone elect a new one within a fifth of an election timeout', () => {
    /** roundsToNewLeader crashes the leader and counts rounds until another is elected. */
    const roundsToNewLeader = (told: boolean): number => {
      const { c, old, followers, rounds, leader: l } = failover([1, 2, 3], 11, told, 500);
      if (l === undefined) throw new Error('no new leader');
      // The usual rules elected it: a new term, and the other follower follows it.
      const other = followers.find((id) => id !== l)!;
      expect(c.node(l).raft.term).toBeGreaterThan(c.node(old).raft.term);
      expect(c.node(other).raft.leader).toBe(l);
      return rounds;
    };
    // Told: at most electionTicks / 5 ticks of waiting, plus the rounds of prevote and vote.
    expect(roundsToNewLeader(true)).toBeLessThanOrEqual(50 / 5 + 3);
    // Not told: at least a whole election timeout.
    expect(roundsToNewLeader(false)).toBeGreaterThanOrEqual(50 - 5);
  });

  it('followers told at the same instant that their leader is gone do not split the vote', () => {
    const slow: number[] = [];
    for (const ids of [
      [1, 2, 3],
      [1, 2, 3, 4, 5],
    ]) {
      for (let seed = 1; seed <= 60; seed++) {
        const { rounds, leader } = failover(ids, seed, true, 50);
        if (leader === undefined || rounds >= 50 / 5 + 3) slow.push(seed);
      }
    }
    expect(slow).toEqual([]);
  });

  it('a follower told its leader is gone grants the campaign that stickiness refused', () => {
    const { leader, f, fr } = followerOfLeader();
    const term = fr.term;
    const vote = voteFrom99(f, term, false);
    // Only the leader it follows counts: news of another node changes nothing.
    fr.leaderGone(99);
    fr.step(vote);
    expect([fr.term, fr.leader]).toEqual([term, leader]);
    fr.leaderGone(leader);
    expect(fr.leader).toBe(0);
    fr.step(vote);
    expect(fr.term).toBe(term + 5);
    expect(internals(fr).vote).toBe(99);
  });

  it('leaderGone changes nothing on a leader, and a follower follows a leader heard again', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 9 });
    until(c, () => c.leader() !== 0);
    const leader = c.leader();
    const lr = c.node(leader).raft;
    lr.leaderGone(leader);
    expect([lr.role, lr.leader]).toEqual(['leader', leader]);
    const f = [1, 2, 3].find((id) => id !== leader)!;
    c.node(f).raft.leaderGone(leader);
    expect(c.node(f).raft.leader).toBe(0);
    // The leader was alive after all: its next heartbeat puts the follower back behind it.
    c.rounds(2);
    expect(c.node(f).raft.leader).toBe(leader);
    expect(c.leader()).toBe(leader);
  });

  it('randomized election timeouts come from the injected rng (same seed, same elections)', () => {
    const run = (seed: number): string => {
      const c = new SimCluster({ ids: [1, 2, 3, 4, 5], seed, delay: [1, 10] });
      c.runFor(3000);
      return (
        [1, 2, 3, 4, 5].map((id) => `${c.node(id).raft.term}/${c.node(id).raft.leader}`).join(',') +
        `@${c.stats.delivered}`
      );
    };
    expect(run(42)).toBe(run(42));
    expect(new Set([run(1), run(2), run(3), run(4)]).size).toBeGreaterThan(1);
  });
});
