import { describe, expect, it } from 'vitest';
import { RawNode } from '../../main/raft/raw-node';
import { seededRng } from '../../main/raft/rng';
import { MAX_RAFT_NUMBER } from '../../main/raft/types';
import type { HeartbeatMsg, Message } from '../../main/raft/types';
import { SimCluster } from '../../main/lab/lab-cluster';
import { bootstrapEntry, data, drain, drainEvents, elect, internals, rawNode } from './helpers';

const heartbeat = (to: number, term: number): HeartbeatMsg => ({
  type: 'heartbeat',
  from: 1,
  to,
  term,
  commit: 1,
  readSeq: 0,
});

describe('terms and indexes stay within MAX_RAFT_NUMBER', () => {
  it('a heartbeat at term 2^53-1 is refused and reported, not adopted', () => {
    const r = rawNode(2, [1, 2, 3], { term: 3 });
    r.step(heartbeat(2, Number.MAX_SAFE_INTEGER));
    expect(r.term).toBe(3);
    expect(r.leader).toBe(0);
    const evs = drainEvents(r);
    expect(evs).toContainEqual(
      expect.objectContaining({ type: 'refused', from: 1, message: 'heartbeat' }),
    );
    expect(internals(r).refused).toBe(1);
    // The node still campaigns into the next term as usual.
    internals(r).campaign('election');
    expect(r.term).toBe(4);
  });

  it('one forged heartbeat at term 2^53-1 to every node leaves the cluster electing and committing', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 61 });
    const first = elect(c);
    const term = c.node(first).raft.term;
    const forger = 99;
    for (const id of [1, 2, 3]) {
      c.node(id).raft.step({ ...heartbeat(id, Number.MAX_SAFE_INTEGER), from: forger });
      c.process(c.node(id));
    }
    c.crash(first);
    c.rounds(100);
    const next = c.leader();
    expect(next).not.toBe(0);
    expect(next).not.toBe(first);
    for (const id of [1, 2, 3]) expect(c.node(id).raft.term).toBeLessThan(term + 10);
    const w = c.propose(next, 'after');
    c.rounds(5);
    expect(w.ok && c.node(next).raft.log.commit >= w.index).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('refuses any message whose term, index or entry is beyond the bound or out of order', () => {
    const r = rawNode(2, [1, 2], { terms: [1], term: 1 });
    const app = (over: Partial<Extract<Message, { type: 'app' }>>): Message => ({
      type: 'app',
      from: 1,
      to: 2,
      term: 2,
      prevIndex: 2,
      prevTerm: 1,
      commit: 2,
      entries: [],
      ...over,
    });
    const entry = (index: number, term: number) => ({
      index,
      term,
      type: 'normal' as const,
      data: data('x'),
    });
    const bad: Message[] = [
      heartbeat(2, MAX_RAFT_NUMBER + 1),
      app({ commit: MAX_RAFT_NUMBER + 1 }),
      app({ prevIndex: MAX_RAFT_NUMBER + 1 }),
      app({ entries: [entry(3, MAX_RAFT_NUMBER + 1)] }),
      app({ entries: [entry(3, 3)] }), // an entry of a later term than the message
      app({ entries: [entry(4, 2)] }), // does not follow prevIndex
      app({ entries: [entry(3, 2), entry(4, 1)] }), // terms going back
      app({ entries: [entry(3, 0.5)] }),
      {
        type: 'vote',
        from: 1,
        to: 2,
        term: 3,
        lastIndex: MAX_RAFT_NUMBER + 1,
        lastTerm: 1,
        transfer: false,
      },
      {
        type: 'snap',
        from: 1,
        to: 2,
        term: 2,
        meta: {
          index: MAX_RAFT_NUMBER + 1,
          term: 1,
          conf: { voters: [1], learners: [], addresses: {} },
        },
        offset: 0,
        total: 0,
        data: new Uint8Array(0),
        done: true,
      },
      { type: 'read-index-resp', from: 1, to: 2, term: 2, ctx: -1, index: 1, reject: false },
    ];
    for (const m of bad) r.step(m);
    expect(r.term).toBe(1);
    expect(r.log.lastIndex()).toBe(2);
    expect(internals(r).refused).toBe(bad.length);
    expect(drainEvents(r).filter((e) => e.type === 'refused')).toHaveLength(bad.length);
    // The same append within bounds is taken.
    r.step(app({ entries: [entry(3, 2)] }));
    drain(r);
    expect(r.log.lastIndex()).toBe(3);
    expect(r.term).toBe(2);
  });

  it('takes a term of exactly MAX_RAFT_NUMBER but never campaigns beyond it, and says so once', () => {
    const r = rawNode(2, [1, 2, 3], { term: 3 });
    r.step(heartbeat(2, MAX_RAFT_NUMBER));
    expect(r.term).toBe(MAX_RAFT_NUMBER);
    drain(r);
    for (let i = 0; i < 100; i++) r.tick();
    expect(r.term).toBe(MAX_RAFT_NUMBER);
    expect(r.role).toBe('follower');
    const refusals = drainEvents(r).filter((e) => e.type === 'refused');
    expect(refusals).toEqual([expect.objectContaining({ message: 'campaign', from: 2 })]);
  });

  it('a leader never appends beyond the largest index', () => {
    const conf = { voters: [1], learners: [], addresses: { '1': 'sim:1' } };
    const r = new RawNode({
      id: 1,
      electionTicks: 10,
      heartbeatTicks: 1,
      rng: seededRng(1),
      state: {
        hardState: { term: 1, vote: 0, commit: MAX_RAFT_NUMBER - 2 },
        snapshot: { meta: { index: MAX_RAFT_NUMBER - 2, term: 1, conf }, data: new Uint8Array(0) },
        entries: [],
      },
    });
    internals(r).campaign('election');
    drain(r);
    expect(r.role).toBe('leader');
    expect(r.log.lastIndex()).toBe(MAX_RAFT_NUMBER - 1); // the no-op
    expect(internals(r).proposeMany([data('a'), data('b')])).toMatchObject({
      ok: false,
      error: 'log-full',
    });
    expect(r.propose(data('a'))).toMatchObject({ ok: true, index: MAX_RAFT_NUMBER });
    expect(r.propose(data('b'))).toMatchObject({ ok: false, error: 'log-full' });
  });

  it('refuses persisted state beyond the bound, naming what', () => {
    expect(
      () =>
        new RawNode({
          id: 1,
          electionTicks: 10,
          heartbeatTicks: 1,
          rng: seededRng(1),
          state: {
            hardState: { term: Number.MAX_SAFE_INTEGER, vote: 0, commit: 1 },
            entries: [bootstrapEntry([1])],
          },
        }),
    ).toThrow(/hard state term 9007199254740991/);
  });
});
