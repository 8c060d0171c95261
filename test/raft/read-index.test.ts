import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import { drain, drainReadStates, elect, internals, rawNode } from './helpers';

describe('ReadIndex (thesis §6.4)', () => {
  it('a read at any node returns an index covering every write committed before it began', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 51 });
    const leader = elect(c);
    const w = c.propose(leader, 'x=1');
    c.rounds(3);
    for (const id of [1, 2, 3]) {
      const ctx = c.read(id);
      expect(ctx).toBeGreaterThan(0);
      c.stabilize();
      const rs = c.node(id).readStates.find((s) => s.ctx === ctx)!;
      expect(rs.ok).toBe(true);
      expect(w.ok && rs.index >= w.index).toBe(true);
    }
  });

  it('is never stale after a partition: the deposed leader cannot confirm a read', () => {
    const c = new SimCluster({ ids: [1, 2, 3, 4, 5], seed: 52, checkQuorum: false });
    const old = elect(c);
    const others = [1, 2, 3, 4, 5].filter((id) => id !== old);
    const minority = [old, others[0]!];
    const majority = others.slice(1);
    c.partition([minority, majority]);
    for (let i = 0; i < 300 && !majority.some((id) => c.node(id).raft.role === 'leader'); i++)
      c.rounds(1);
    const fresh = majority.find((id) => c.node(id).raft.role === 'leader')!;
    expect(fresh).toBeDefined();
    const w = c.propose(fresh, 'y=2');
    c.rounds(3);
    expect(c.node(fresh).raft.log.commit).toBeGreaterThanOrEqual(w.ok ? w.index : Infinity);
    // The old leader still believes it leads (no check-quorum here), but its read never completes.
    expect(c.node(old).raft.role).toBe('leader');
    const ctx = c.read(old);
    c.rounds(20);
    expect(c.node(old).readStates.filter((s) => s.ctx === ctx && s.ok)).toEqual([]);
    // After healing, the old leader steps down and its pending read fails rather than going stale.
    c.heal();
    c.rounds(10);
    const answered = c.node(old).readStates.filter((s) => s.ctx === ctx);
    expect(answered.every((s) => !s.ok)).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('a forwarded read is served only by the answer of the leader it went to, once', () => {
    const f = rawNode(2, [1, 2, 3], { terms: [1], term: 1, commit: 2 });
    f.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 2, readSeq: 0 });
    drain(f);
    expect(f.readIndex(7).ok).toBe(true);
    const answer = (from: number, ctx: number, index: number) =>
      f.step({ type: 'read-index-resp', from, to: 2, term: 1, ctx, index, reject: false });
    answer(3, 7, 2); // not the node it was sent to
    answer(1, 8, 2); // no read of this node waits for tag 8
    answer(1, 7, 2);
    answer(1, 7, 1); // a duplicate, or a late answer to an earlier read with the same tag
    expect(drainReadStates(f)).toEqual([{ ctx: 7, index: 2, ok: true }]);
  });

  it('an answer to a read of the previous incarnation of a node serves no read of the new one', () => {
    const f = rawNode(2, [1, 2, 3], { terms: [1], term: 1, commit: 2 });
    f.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 2, readSeq: 0 });
    drain(f);
    f.readIndex(7);
    drain(f);
    // The node restarts from what it persisted; the leader's answer to tag 7 arrives only now.
    const g = rawNode(2, [1, 2, 3], { terms: [1], term: 1, commit: 2 });
    g.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 2, readSeq: 0 });
    drain(g);
    g.step({ type: 'read-index-resp', from: 1, to: 2, term: 1, ctx: 7, index: 2, reject: false });
    expect(drainReadStates(g)).toEqual([]);
  });

  it('a change of leader fails the reads forwarded to the old one at once', () => {
    const f = rawNode(2, [1, 2, 3], { terms: [1], term: 1, commit: 2 });
    f.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 2, readSeq: 0 });
    drain(f);
    f.readIndex(7);
    f.readIndex(8);
    drain(f);
    f.step({ type: 'heartbeat', from: 3, to: 2, term: 2, commit: 2, readSeq: 0 });
    expect(drainReadStates(f)).toEqual([
      { ctx: 7, index: 0, ok: false },
      { ctx: 8, index: 0, ok: false },
    ]);
    f.step({ type: 'read-index-resp', from: 1, to: 2, term: 2, ctx: 7, index: 2, reject: false });
    expect(drainReadStates(f)).toEqual([]);
  });

  it('a new leader answers no read before an entry of its own term commits', () => {
    const r = rawNode(1, [1, 2, 3], { terms: [1, 1], term: 1, commit: 2 });
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    drain(r);
    r.readIndex(7);
    const noReads = (): boolean => {
      const rd = r.ready();
      const n = rd.readStates.length;
      r.advance();
      return n === 0;
    };
    expect(noReads()).toBe(true);
    // Follower 2 acknowledges the no-op (index 4): commit advances into term 2, then a heartbeat round confirms.
    r.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: 4,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    drain(r);
    r.step({ type: 'heartbeat-resp', from: 2, to: 1, term: 2, readSeq: 1 });
    const rd = r.ready();
    expect(rd.readStates).toEqual([{ ctx: 7, index: 4, ok: true }]);
    r.advance();
  });
});
