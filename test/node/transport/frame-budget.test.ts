/**
 * The process's budget for bytes of incomplete frames: beyond it the connection holding the most
 * is closed, wherever the arrival that went over came from, and what it held is given back at
 * once, memory included. (Through a real client port: test/node/client/limits.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { FrameBudget, FrameBudgetError } from '../../../main/node/transport/frame-budget';
import { FrameDecoder } from '../../../main/node/transport/framing';
import { waitFor } from '../raw-conn';

const MiB = 1024 * 1024;

function header(n: number): Uint8Array {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(n, 0);
  return h;
}

/** feed pushes bytes into a decoder and returns the frames completed, or the error thrown. */
function feed(dec: FrameDecoder, bytes: Uint8Array): Uint8Array[] | Error {
  try {
    return [...dec.push(bytes)];
  } catch (e) {
    return e as Error;
  }
}

describe('FrameBudget with FrameDecoder', () => {
  it('evicts the largest holder when an arrival goes over, even if another connection sent it', () => {
    const budget = new FrameBudget(1000);
    const evicted: string[] = [];
    const a = new FrameDecoder(10_000, { budget, evicted: () => evicted.push('a') });
    const b = new FrameDecoder(10_000, { budget, evicted: () => evicted.push('b') });
    expect(feed(a, Buffer.concat([header(900), Buffer.alloc(600)]))).toEqual([]);
    expect(feed(b, Buffer.concat([header(900), Buffer.alloc(300)]))).toEqual([]);
    expect(budget.stats().heldBytes).toBe(908);
    // b's next bytes go over; a holds the most, so a goes, and b carries on.
    expect(feed(b, Buffer.alloc(200))).toEqual([]);
    expect(evicted).toEqual(['a']);
    expect(budget.stats()).toMatchObject({ heldBytes: 504, evictions: 1, evictedBytes: 604 });
    expect(feed(a, Buffer.alloc(1))).toBeInstanceOf(FrameBudgetError);
    // b completes its frame and holds nothing any more.
    const done = feed(b, Buffer.alloc(400));
    expect((done as Uint8Array[]).map((f) => f.length)).toEqual([900]);
    expect(budget.stats()).toMatchObject({ heldBytes: 0, holders: 0, peakBytes: 1108 });
  });

  it('evicts the decoder whose own arrival went over when it holds the most', () => {
    const budget = new FrameBudget(1000);
    const evicted: FrameBudgetError[] = [];
    const a = new FrameDecoder(10_000, { budget });
    const b = new FrameDecoder(10_000, { budget, evicted: (e) => evicted.push(e) });
    feed(a, Buffer.concat([header(900), Buffer.alloc(100)]));
    const err = feed(b, Buffer.concat([header(2000), Buffer.alloc(1000)]));
    expect(err).toBeInstanceOf(FrameBudgetError);
    expect(evicted).toEqual([err]);
    expect((err as Error).message).toBe(
      'closed to keep incomplete frames within the process budget of 1000 bytes: ' +
        'this connection held 1004 bytes of an incomplete frame, the most of any',
    );
    expect(budget.stats().heldBytes).toBe(104);
  });

  it('evicts strangers before authenticated connections, and these only when no stranger holds anything', () => {
    const budget = new FrameBudget(1000);
    const evicted: string[] = [];
    const peer = new FrameDecoder(10_000, { budget, evicted: () => evicted.push('peer') });
    const stranger = new FrameDecoder(10_000, { budget, evicted: () => evicted.push('stranger') });
    peer.trust();
    feed(peer, Buffer.concat([header(900), Buffer.alloc(700)]));
    feed(stranger, Buffer.concat([header(900), Buffer.alloc(400)]));
    // Over by 108: the authenticated peer holds the most, but the stranger goes.
    expect(evicted).toEqual(['stranger']);
    expect(budget.stats()).toMatchObject({ heldBytes: 704, evictions: 1 });
    // With only trusted holders left, the largest of them goes.
    const other = new FrameDecoder(10_000, { budget, evicted: () => evicted.push('other') });
    other.trust();
    feed(other, Buffer.concat([header(900), Buffer.alloc(400)]));
    expect(evicted).toEqual(['stranger', 'peer']);
    expect(budget.stats()).toMatchObject({ heldBytes: 404, evictions: 2 });
  });

  it('gives a large incomplete frame back on release, memory included, without waiting for a GC', async () => {
    const budget = new FrameBudget(256 * MiB);
    const dec = new FrameDecoder(64 * MiB, { budget });
    const chunk = Buffer.alloc(MiB, 7);
    feed(dec, header(48 * MiB));
    for (let i = 0; i < 32; i++) feed(dec, chunk);
    expect(budget.stats().heldBytes).toBe(32 * MiB + 4);
    const before = process.memoryUsage().arrayBuffers;
    dec.release();
    expect(budget.stats()).toMatchObject({ heldBytes: 0, holders: 0 });
    // The body's memory is handed back within a few milliseconds, by release() itself: this
    // process allocates nothing meanwhile that would make a garbage collection run.
    await waitFor(() => before - process.memoryUsage().arrayBuffers >= 48 * MiB, 1000);
    expect(() => dec.push(chunk)).toThrow('the frame decoder was released');
  });
});
