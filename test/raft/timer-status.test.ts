import { describe, expect, it } from 'vitest';
import { headerOf } from '../../main/raft/message-header';
import type { Message } from '../../main/raft/types';
import { drain, ofType, rawNode } from './helpers';

describe('the timers and the campaign in a node status', () => {
  it('counts election ticks on a follower and starts again on its leader heartbeat', () => {
    const r = rawNode(1, [1, 2, 3], { terms: [1], term: 1 });
    const t0 = r.status().timer;
    expect(t0.electionTicks).toBe(10);
    expect(t0.heartbeatTicks).toBe(1);
    expect(t0.electionTimeout).toBeGreaterThanOrEqual(10);
    expect(t0.electionTimeout).toBeLessThan(20);
    for (let i = 0; i < 4; i++) r.tick();
    expect(r.status().timer.electionElapsed).toBe(t0.electionElapsed + 4);
    r.step({ type: 'heartbeat', from: 2, to: 1, term: 1, commit: 1, readSeq: 0 });
    expect(r.status().timer.electionElapsed).toBe(0);
    expect(r.status().campaign).toBeUndefined();
  });

  it('lists who granted and who refused while a node campaigns', () => {
    const r = rawNode(1, [1, 2, 3, 4, 5], { terms: [1], term: 1, preVote: true });
    for (let i = 0; i < 20 && r.status().role !== 'pre-candidate'; i++) r.tick();
    drain(r);
    const pre = r.status().campaign;
    expect(r.status().role).toBe('pre-candidate');
    expect(pre).toEqual({ kind: 'pre-vote', term: 2, granted: [1], rejected: [] });
    // A refusal carries the refuser's own term (1): a higher one would end the campaign.
    r.step({ type: 'pre-vote-resp', from: 3, to: 1, term: 1, reject: true });
    r.step({ type: 'pre-vote-resp', from: 2, to: 1, term: 2, reject: false });
    expect(r.status().campaign).toEqual({
      kind: 'pre-vote',
      term: 2,
      granted: [1, 2],
      rejected: [3],
    });
    r.step({ type: 'pre-vote-resp', from: 4, to: 1, term: 2, reject: false });
    const votes = ofType(drain(r), 'vote');
    expect(votes.length).toBe(4);
    expect(r.status().role).toBe('candidate');
    expect(r.status().campaign).toEqual({ kind: 'vote', term: 2, granted: [1], rejected: [] });
  });
});

describe('a message header', () => {
  it('keeps the fields a person reads and none of the payload', () => {
    const app: Message = {
      type: 'app',
      from: 1,
      to: 2,
      term: 3,
      prevIndex: 10,
      prevTerm: 2,
      commit: 9,
      entries: [
        { index: 11, term: 3, type: 'normal', data: new Uint8Array(5) },
        { index: 12, term: 3, type: 'normal', data: new Uint8Array(7) },
      ],
    };
    expect(headerOf(app)).toEqual({
      from: 1,
      to: 2,
      type: 'app',
      term: 3,
      index: 10,
      logTerm: 2,
      entries: 2,
      entryBytes: 12,
      commit: 9,
    });
    const rej: Message = {
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 3,
      index: 10,
      reject: true,
      hintIndex: 7,
      hintTerm: 2,
    };
    expect(headerOf(rej)).toMatchObject({ index: 10, reject: true, hint: 7 });
    const snap: Message = {
      type: 'snap',
      from: 1,
      to: 4,
      term: 3,
      meta: { index: 500, term: 3, conf: { voters: [1, 2, 3], learners: [4], addresses: {} } },
      offset: 65536,
      total: 200000,
      data: new Uint8Array(1000),
      done: false,
    };
    const h = headerOf(snap);
    expect(h).toMatchObject({ index: 500, snapOffset: 65536, snapTotal: 200000, entryBytes: 1000 });
    expect(Object.values(h).some((v) => v instanceof Uint8Array)).toBe(false);
  });
});
