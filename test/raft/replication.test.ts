import { describe, expect, it } from 'vitest';
import { RawNode } from '../../main/raft/raw-node';
import { seededRng } from '../../main/raft/rng';
import type { NodeId } from '../../main/raft/types';
import { SimCluster } from '../../main/lab/lab-cluster';
import { ackApp, data, drain, elect, internals, logWithTerms, ofType, rawNode } from './helpers';

describe('log replication (§5.3)', () => {
  it('log matching: a follower with a divergent suffix ends up identical to the leader', () => {
    // Figure 7 style: the follower has extra entries from term 2 that never committed.
    const leader = rawNode(1, [1, 2, 3], { terms: [1, 1, 3, 3, 3], term: 3 });
    const follower = rawNode(2, [1, 2, 3], { terms: [1, 1, 2, 2, 2, 2, 2], term: 2 });
    const nodes = new Map<number, RawNode>([
      [1, leader],
      [2, follower],
    ]);
    internals(leader).becomeFollower(3, 0);
    internals(leader).campaign('election');
    // Node 3 is down; node 2 votes since leader 1's log (last term 3) is more up-to-date.
    let msgs = drain(leader);
    for (let round = 0; round < 50 && msgs.length; round++) {
      const next: typeof msgs = [];
      for (const m of msgs) {
        const to = nodes.get(m.to);
        if (!to) continue;
        to.step(m);
        next.push(...drain(to));
      }
      msgs = next;
    }
    expect(leader.role).toBe('leader');
    const la = leader.log;
    const fa = follower.log;
    expect(fa.lastIndex()).toBe(la.lastIndex());
    for (let i = 1; i <= la.lastIndex(); i++) {
      expect([i, fa.term(i)]).toEqual([i, la.term(i)]);
      expect(fa.entry(i)!.data).toEqual(la.entry(i)!.data);
    }
    expect(fa.commit).toBe(la.commit);
  });

  it('Figure 8: a leader never commits an entry of an earlier term by counting replicas (§5.4.2)', () => {
    // Leader 1 in term 4 holds an entry of term 2 at index 3 which a majority also holds.
    const r = rawNode(1, [1, 2, 3, 4, 5], { terms: [1, 2], term: 3 });
    internals(r).becomeFollower(3, 0);
    internals(r).campaign('election');
    drain(r);
    for (const v of [2, 3]) r.step({ type: 'vote-resp', from: v, to: 1, term: 4, reject: false });
    expect(r.role).toBe('leader');
    drain(r); // the no-op of term 4 is at index 4 and persisted
    expect(r.log.lastIndex()).toBe(4);
    // Followers 2 and 3 acknowledge index 3 (the term-2 entry): a majority holds it with the leader.
    for (const v of [2, 3]) {
      r.step({
        type: 'app-resp',
        from: v,
        to: 1,
        term: 4,
        index: 3,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
    }
    drain(r);
    expect(r.log.commit).toBe(1);
    // Once the term-4 no-op is on a majority, everything up to it commits at once.
    for (const v of [2, 3]) {
      r.step({
        type: 'app-resp',
        from: v,
        to: 1,
        term: 4,
        index: 4,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
    }
    drain(r);
    expect(r.log.commit).toBe(4);
  });

  it('commit index is the quorum-th largest match index', () => {
    const r = rawNode(1, [1, 2, 3, 4, 5], { terms: [], term: 1 });
    internals(r).campaign('election');
    drain(r);
    for (const v of [2, 3]) r.step({ type: 'vote-resp', from: v, to: 1, term: 2, reject: false });
    drain(r);
    for (let i = 0; i < 8; i++) r.propose(data(`x${i}`));
    drain(r); // leader persisted through index 10
    const ack = (from: number, index: number): void => {
      ackApp(r, from, index);
      drain(r);
    };
    ack(2, 9);
    expect(r.log.commit).toBe(1); // leader 10, node2 9: only 2 of 5
    ack(3, 4);
    expect(r.log.commit).toBe(4); // sorted [10,9,4,0,0] -> 3rd is 4
    ack(4, 7);
    expect(r.log.commit).toBe(7); // [10,9,7,4,0] -> 7
  });

  it('the leader counts its own entry only after its own fsync (advance)', () => {
    const r = rawNode(1, [1, 2, 3], { term: 1 });
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    const rd = r.ready(); // the no-op at index 2 is handed out but not yet persisted
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    r.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    r.step({
      type: 'app-resp',
      from: 3,
      to: 1,
      term: 2,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    // Two followers acknowledged, but with only our own copy unconfirmed, 2 of 3 is still a quorum:
    expect(r.log.commit).toBe(2);
    r.advance();
    // With one follower: commit must wait for our own persistence.
    const s = rawNode(1, [1, 2, 3], { term: 1 });
    internals(s).campaign('election');
    drain(s);
    s.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    s.ready();
    s.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    expect(s.log.commit).toBe(1);
    s.advance();
    expect(s.log.commit).toBe(2);
  });

  it('fast backtracking skips a long divergent log a term at a time', () => {
    // Follower: 300 entries of term 2 after index 1 that the leader (term 3) does not have.
    const leaderTerms = [...Array(50).fill(1), ...Array(250).fill(3)] as number[];
    const followerTerms = [...Array(50).fill(1), ...Array(300).fill(2)] as number[];
    const c = new SimCluster({ ids: [1, 2, 3], seed: 1 });
    const leader = new RawNode({
      id: 1,
      electionTicks: 10,
      heartbeatTicks: 1,
      rng: seededRng(1),
      maxMsgBytes: 1 << 20,
      state: {
        hardState: { term: 3, vote: 1, commit: 51 },
        entries: logWithTerms([1, 2, 3], leaderTerms),
      },
    });
    const follower = new RawNode({
      id: 2,
      electionTicks: 10,
      heartbeatTicks: 1,
      rng: seededRng(2),
      state: {
        hardState: { term: 2, vote: 0, commit: 51 },
        entries: logWithTerms([1, 2, 3], followerTerms),
      },
    });
    void c;
    internals(leader).becomeFollower(3, 0);
    internals(leader).campaign('election');
    drain(leader);
    leader.step({ type: 'vote-resp', from: 3, to: 1, term: 4, reject: false });
    let rejections = 0;
    let msgs = drain(leader);
    for (let round = 0; round < 100 && msgs.length; round++) {
      const next: typeof msgs = [];
      for (const m of msgs) {
        if (m.to === 2) {
          follower.step(m);
          const out = drain(follower);
          rejections += ofType(out, 'app-resp').filter((x) => x.reject).length;
          next.push(...out);
        } else if (m.to === 1) {
          leader.step(m);
          next.push(...drain(leader));
        }
      }
      msgs = next;
    }
    expect(follower.log.lastIndex()).toBe(leader.log.lastIndex());
    expect(follower.log.term(300)).toBe(3);
    // One rejection finds the divergence point: without the hint it would take ~250.
    expect(rejections).toBeLessThanOrEqual(2);
  });

  it('writes commit with all followers up, with a majority, and not with a minority', () => {
    const c = new SimCluster({ ids: [1, 2, 3, 4, 5], seed: 6 });
    const leader = elect(c);
    const others = [1, 2, 3, 4, 5].filter((id) => id !== leader);
    const commitOf = (payload: string): boolean => {
      const r = c.propose(leader, payload);
      expect(r.ok).toBe(true);
      c.rounds(5);
      return r.ok && c.node(leader).raft.log.commit >= r.index;
    };
    expect(commitOf('all-up')).toBe(true);
    for (const id of others)
      expect(c.node(id).raft.log.commit).toBe(c.node(leader).raft.log.commit);
    c.crash(others[0]!);
    c.crash(others[1]!);
    expect(commitOf('majority')).toBe(true);
    c.crash(others[2]!);
    const before = c.node(leader).raft.log.commit;
    const r = c.propose(leader, 'minority');
    c.rounds(5);
    expect(r.ok).toBe(true);
    expect(c.node(leader).raft.log.commit).toBe(before);
    expect(c.violations).toEqual([]);
  });

  it('batches entries up to maxMsgBytes and pipelines at most maxInflight messages', () => {
    const r = rawNode(1, [1, 2], { term: 1, maxMsgBytes: 200, maxInflight: 3 });
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    drain(r);
    r.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    drain(r); // follower 2 is in replicate state now
    expect(r.status().progress[0]!.state).toBe('replicate');
    for (let i = 0; i < 40; i++) r.propose(new Uint8Array(40));
    const apps = ofType(drain(r), 'app').filter((m) => m.to === 2);
    expect(apps.length).toBe(3); // window full
    for (const m of apps) {
      const bytes = m.entries.reduce((s, e) => s + e.data.length + 24, 0);
      expect(m.entries.length).toBeGreaterThan(1);
      expect(bytes).toBeLessThanOrEqual(200);
    }
    expect(r.status().progress[0]!.inflight).toBe(3);
    // One ack frees a slot and the pipeline refills.
    const last = apps[0]!.entries[apps[0]!.entries.length - 1]!.index;
    r.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: last,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    expect(ofType(drain(r), 'app').length).toBe(1);
  });

  it('sends a commit alone on the next tick, or before a read answer, not once per commit', () => {
    const r = rawNode(1, [1, 2, 3], { term: 1, heartbeatTicks: 5 });
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    drain(r);
    const ack = (from: NodeId, index: number): void => ackApp(r, from, index);
    ack(2, 2);
    ack(3, 2);
    drain(r);
    const { index } = r.propose(data('x')) as { index: number };
    const sent = ofType(drain(r), 'app');
    expect(sent.map((m) => [m.to, m.entries.length])).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(sent.every((m) => m.commit < index)).toBe(true);
    ack(2, index);
    expect(r.log.commit).toBe(index);
    // The commit alone is owed: no message for it yet.
    expect(drain(r)).toEqual([]);
    r.tick();
    const owed = ofType(drain(r), 'app');
    expect(owed.map((m) => [m.to, m.entries.length, m.commit])).toEqual([
      [2, 0, index],
      [3, 0, index],
    ]);
    // Paid: the next tick sends nothing more for it.
    r.tick();
    expect(ofType(drain(r), 'app')).toEqual([]);

    // An append carries the commit; a follower that asks for a read index gets the commit first.
    const next = (r.propose(data('y')) as { index: number }).index;
    expect(ofType(drain(r), 'app').every((m) => m.commit === index)).toBe(true);
    ack(2, next);
    ack(3, next);
    expect(drain(r)).toEqual([]);
    r.step({ type: 'read-index', from: 3, to: 1, term: 2, ctx: 7 });
    const round = ofType(drain(r), 'heartbeat');
    expect(round.map((m) => m.to)).toEqual([2, 3]);
    r.step({ type: 'heartbeat-resp', from: 2, to: 1, term: 2, readSeq: round[0]!.readSeq });
    const answer = drain(r).filter((m) => m.to === 3);
    expect(answer.map((m) => m.type)).toEqual(['app', 'read-index-resp']);
    expect((answer[0] as { commit: number }).commit).toBe(next);
    expect((answer[1] as { index: number }).index).toBe(next);
  });

  it('a follower rejects AppendEntries whose previous entry it lacks, with a hint', () => {
    const f = rawNode(2, [1, 2, 3], { terms: [1, 1], term: 2 });
    f.step({
      type: 'app',
      from: 1,
      to: 2,
      term: 2,
      prevIndex: 10,
      prevTerm: 2,
      entries: [],
      commit: 1,
    });
    const resp = ofType(drain(f), 'app-resp')[0]!;
    expect(resp).toMatchObject({ reject: true, index: 10, hintIndex: 3, hintTerm: 1 });
  });
});
