/**
 * PutTimeline: a bounded ring of the write path's stamps per log index, and the acknowledgement
 * that makes a quorum.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TIMELINE_ENTRIES, PutTimeline } from '../../main/node/put-timeline';

const term1 = (): number => 1;

describe('PutTimeline', () => {
  it('keeps at most its size, the latest indexes, lowest first', () => {
    const tl = new PutTimeline(8);
    for (let i = 1; i <= 50; i++) tl.proposed(i, 1, 'c', i);
    const kept = tl.read();
    expect(kept).toHaveLength(8);
    expect(kept.map((s) => s.index)).toEqual([43, 44, 45, 46, 47, 48, 49, 50]);
    expect(kept.map((s) => s.seq)).toEqual([43, 44, 45, 46, 47, 48, 49, 50]);
    // A range wider than the ring stamps only what it can keep.
    tl.synced(1, 1000, term1);
    expect(tl.read().map((s) => s.index)).toEqual([993, 994, 995, 996, 997, 998, 999, 1000]);
    expect(tl.read(997, 2).map((s) => s.index)).toEqual([997, 998]);
  });

  it('clears a slot taken by another index or term', () => {
    const tl = new PutTimeline(4);
    tl.proposed(1, 1, 'c', 7);
    tl.synced(1, 1, term1);
    tl.proposed(5, 1, 'c', 8); // same slot as 1
    const [s] = tl.read();
    expect(s).toMatchObject({ index: 5, seq: 8, synced: 0 });
    tl.synced(5, 5, () => 2); // a new term's entry at 5
    expect(tl.read()[0]).toMatchObject({ index: 5, term: 2, seq: 0, appended: 0 });
    expect(tl.read()[0]!.synced).toBeGreaterThan(0);
  });

  it('stamps each step once, the first time it is seen', () => {
    const tl = new PutTimeline(16);
    tl.received(100);
    tl.proposed(3, 1, 'c', 1);
    tl.proposed(4, 1, 'c', 2); // no receive pending: received = proposal time
    tl.committed(4, term1);
    const [a, b] = tl.read(3);
    expect(a!.received).toBe(100);
    expect(b!.received).toBe(b!.appended);
    const c1 = a!.committed;
    expect(c1).toBeGreaterThan(0);
    tl.committed(4, term1);
    expect(tl.read(3)[0]!.committed).toBe(c1);
    // Indexes the commit covers that were not proposed here are stamped too.
    expect(tl.read().map((s) => s.index)).toEqual([1, 2, 3, 4]);
  });

  it('records the acknowledgement that makes the quorum', () => {
    const tl = new PutTimeline(16);
    for (let i = 1; i <= 3; i++) tl.proposed(i, 1, 'c', i);
    // Five voters: the leader and two followers make a quorum.
    tl.ack(2, 2, 5);
    expect(tl.read().map((s) => s.acked)).toEqual([0, 0, 0]);
    tl.ack(2, 1, 5); // older than what 2 already acknowledged: counts nothing
    tl.ack(3, 3, 5);
    const s = tl.read();
    expect(s.slice(0, 2).every((x) => x.acked > 0 && x.ackFrom === 3)).toBe(true);
    expect(s[2]).toMatchObject({ acked: 0, ackFrom: 0 });
    tl.ack(4, 3, 5);
    expect(tl.read()[2]).toMatchObject({ ackFrom: 4 });
    // Three voters: the first follower's acknowledgement is the quorum.
    const t3 = new PutTimeline(4);
    t3.proposed(1, 1, 'c', 1);
    t3.ack(3, 1, 3);
    expect(t3.read()[0]).toMatchObject({ ackFrom: 3 });
  });

  it('refuses a size out of bounds', () => {
    expect(() => new PutTimeline(0)).toThrow(/1\.\.65536, got 0/);
    expect(() => new PutTimeline(MAX_TIMELINE_ENTRIES + 1)).toThrow(RangeError);
    expect(() => new PutTimeline(Number.NaN)).toThrow(RangeError);
  });
});
