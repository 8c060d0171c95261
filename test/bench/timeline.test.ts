/** The timeline's join of node stamps and client stamps, on hand-made stamps. */
import { describe, expect, it } from 'vitest';
import type { PutStamps } from '../../main/node/put-timeline';
import type { FloorStamp } from './floor-node';
import { joinFloorTimeline, joinTimeline, summarize } from './timeline';

function stamps(p: Partial<PutStamps> & { index: number }): PutStamps {
  return {
    term: 2,
    clientId: '',
    seq: 0,
    received: 0,
    appended: 0,
    synced: 0,
    acked: 0,
    ackFrom: 0,
    committed: 0,
    applied: 0,
    ...p,
  };
}

describe('joinTimeline', () => {
  it('joins by clientId and seq on the leader and by index on the acknowledging follower', () => {
    const leader = {
      node: 1,
      stamps: [
        stamps({
          index: 10,
          clientId: 'me',
          seq: 5,
          received: 1_100,
          appended: 1_120,
          synced: 1_500,
          acked: 1_600,
          ackFrom: 3,
          committed: 1_610,
          applied: 1_630,
        }),
        // Another client's write with the same seq: not ours.
        stamps({ index: 11, clientId: 'other', seq: 5, received: 9, appended: 9 }),
      ],
    };
    const f2 = { node: 2, stamps: [stamps({ index: 10, appended: 1_300, synced: 1_700 })] };
    const f3 = { node: 3, stamps: [stamps({ index: 10, appended: 1_200, synced: 1_450 })] };
    const { puts, incomplete } = joinTimeline(
      'me',
      [{ seq: 5, sent: 1_000, received: 1_700 }],
      [f2, leader, f3],
    );
    expect(incomplete).toBe(0);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ seq: 5, index: 10, leader: 1, follower: 3 });
    expect(puts[0]!.steps).toEqual({
      'client send → leader receive': 100,
      'leader receive → proposal': 20,
      'proposal → follower receive': 80,
      'follower receive → fsync done': 250,
      'follower fsync → leader ack receive': 150,
      'leader own fsync (proposal → done)': 380,
      'ack → commit': 10,
      'commit → apply': 20,
      'apply → client receive': 70,
      'total (client send → receive)': 700,
    });
  });

  it('counts a put without a leader record, a follower record of its term, or a stamp as incomplete', () => {
    const full = {
      clientId: 'me',
      received: 1,
      appended: 2,
      synced: 3,
      acked: 4,
      ackFrom: 2,
      committed: 5,
      applied: 6,
    };
    const leader = {
      node: 1,
      stamps: [
        stamps({ index: 1, seq: 1, ...full }),
        stamps({ index: 2, seq: 2, ...full }),
        stamps({ index: 3, seq: 3, ...full, committed: 0 }),
      ],
    };
    const follower = {
      node: 2,
      stamps: [
        stamps({ index: 1, appended: 2, synced: 3 }),
        stamps({ index: 2, term: 1, appended: 2, synced: 3 }),
        stamps({ index: 3, appended: 2, synced: 3 }),
      ],
    };
    const client = [1, 2, 3, 4].map((seq) => ({ seq, sent: 0, received: 7 }));
    const { puts, incomplete } = joinTimeline('me', client, [leader, follower]);
    expect(puts.map((p) => p.seq)).toEqual([1]);
    expect(incomplete).toBe(3);
  });

  it('summarizes each step by median and p90', () => {
    const puts = Array.from({ length: 10 }, (_, i) => {
      const steps = Object.fromEntries(
        [
          'client send → leader receive',
          'leader receive → proposal',
          'proposal → follower receive',
          'follower receive → fsync done',
          'follower fsync → leader ack receive',
          'leader own fsync (proposal → done)',
          'ack → commit',
          'commit → apply',
          'apply → client receive',
          'total (client send → receive)',
        ].map((s) => [s, (i + 1) * 10]),
      );
      return { seq: i, index: i, leader: 1, follower: 2, steps } as never;
    });
    const s = summarize(puts);
    expect(s[0]).toEqual({ step: 'client send → leader receive', p50: 60, p90: 100 });
  });
});

describe('joinFloorTimeline', () => {
  const leader = (index: number, more: Partial<FloorStamp> = {}): FloorStamp => ({
    index,
    received: 1_050,
    appended: 1_060,
    synced: 1_400,
    acked: 1_380,
    ackFrom: 3,
    committed: 1_400,
    ...more,
  });
  const follower = (index: number, appended: number, synced: number): FloorStamp => ({
    index,
    received: 0,
    appended,
    synced,
    acked: 0,
    ackFrom: 0,
    committed: 0,
  });

  it("joins by index with the follower the leader's acknowledgement came from", () => {
    const { puts, incomplete } = joinFloorTimeline(
      [{ seq: 7, sent: 1_000, received: 1_450 }],
      [[leader(7)], [follower(7, 1_100, 1_500)], [follower(7, 1_090, 1_330)]],
    );
    expect(incomplete).toBe(0);
    expect(puts[0]).toMatchObject({ seq: 7, index: 7, leader: 1, follower: 3 });
    expect(puts[0]!.steps).toEqual({
      'client send → leader receive': 50,
      'leader receive → proposal': 10,
      'proposal → follower receive': 30,
      'follower receive → fsync done': 240,
      'follower fsync → leader ack receive': 50,
      'leader own fsync (proposal → done)': 340,
      'ack → commit': 20,
      'commit → apply': 0,
      'apply → client receive': 50,
      'total (client send → receive)': 450,
    });
  });

  it('counts a put missing on the leader, on its follower, or a stamp as incomplete', () => {
    const { puts, incomplete } = joinFloorTimeline(
      [1, 2, 3, 4].map((seq) => ({ seq, sent: 1_000, received: 1_500 })),
      [
        [leader(1), leader(2, { ackFrom: 2 }), leader(3, { committed: 0 })],
        [follower(1, 1_100, 1_200)],
        [follower(1, 1_100, 1_300), follower(2, 1_100, 1_300), follower(3, 1_100, 1_300)],
      ],
    );
    expect(puts.map((p) => p.seq)).toEqual([1]);
    expect(incomplete).toBe(3);
  });
});
