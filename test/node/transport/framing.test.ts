import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FrameDecoder,
  FrameTooLargeError,
  encodeFrame,
  writeBatch,
  type FrameSink,
} from '../../../main/node/transport/framing';
import { OutboundQueue } from '../../../main/node/transport/outbound-queue';
import { seededRng } from '../../../main/raft/rng';

function body(n: number, seed: number): Uint8Array {
  const rng = seededRng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

function collect(dec: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) for (const f of dec.push(c)) out.push(f);
  return out;
}

/** hex makes frames comparable whatever Uint8Array subclass holds them. */
function hex(frames: Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.length).toString('hex'));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FrameDecoder', () => {
  const bodies = [body(10, 1), body(0, 2), body(1, 3), body(5000, 4), body(3, 5), body(70000, 6)];
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));

  it('encodeFrame writes a 4-byte big-endian length', () => {
    const f = encodeFrame(new Uint8Array([9, 8, 7]));
    expect([...f]).toEqual([0, 0, 0, 3, 9, 8, 7]);
    expect([...encodeFrame(new Uint8Array(0x1234)).subarray(0, 4)]).toEqual([0, 0, 0x12, 0x34]);
  });

  it('yields many frames coalesced in one chunk', () => {
    const out = collect(new FrameDecoder(), [stream]);
    expect(hex(out)).toEqual(hex(bodies));
  });

  it('yields frames split across chunks at every possible boundary', () => {
    for (let cut = 0; cut <= 40; cut++) {
      const out = collect(new FrameDecoder(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(hex(out)).toEqual(hex(bodies));
    }
  });

  it('yields frames fed one byte at a time and in random-sized chunks', () => {
    const small = Buffer.concat(bodies.slice(0, 5).map((b) => encodeFrame(b)));
    const bytewise = [...small].map((x) => new Uint8Array([x]));
    expect(hex(collect(new FrameDecoder(), bytewise))).toEqual(hex(bodies.slice(0, 5)));
    const rng = seededRng(42);
    for (let round = 0; round < 20; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length;) {
        const n = 1 + Math.floor(rng() * 9000);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(hex(collect(new FrameDecoder(), chunks))).toEqual(hex(bodies));
    }
  });

  it('returns a view of the chunk when a frame lies within it, and copies each byte once otherwise', () => {
    const chunk = encodeFrame(body(100, 7));
    const [f] = collect(new FrameDecoder(), [chunk]);
    expect(f.buffer).toBe(chunk.buffer);
    const big = encodeFrame(body(4 << 20, 8));
    const dec = new FrameDecoder();
    const set = vi.spyOn(Uint8Array.prototype, 'set');
    const out: Uint8Array[] = [];
    for (let at = 0; at < big.length; at += 1024) {
      for (const x of dec.push(big.subarray(at, at + 1024))) out.push(x);
    }
    const copied = set.mock.calls.reduce((n, c) => n + (c[0] as Uint8Array).length, 0);
    set.mockRestore();
    expect(out).toHaveLength(1);
    expect(Buffer.compare(out[0], big.subarray(4))).toBe(0);
    expect(copied).toBe(4 << 20);
  });

  it('throws FrameTooLargeError on a 2 GB announcement before allocating anything', () => {
    const dec = new FrameDecoder();
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    // Only the header arrives: the decoder must refuse it now, not wait for 2 GB of body.
    const header = new Uint8Array([0x80, 0, 0, 0]);
    let err: unknown;
    try {
      collect(dec, [header]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).announced).toBe(2 ** 31);
    expect((err as FrameTooLargeError).limit).toBe(64 * 1024 * 1024);
    expect(allocUnsafe).not.toHaveBeenCalled();
    expect(alloc).not.toHaveBeenCalled();
    // The decoder stays failed.
    expect(() => dec.push(new Uint8Array([0]))).toThrow(FrameTooLargeError);
  });

  it('checks a header split across chunks, and yields the good frames before a bad one', () => {
    const dec = new FrameDecoder(1000);
    const good = encodeFrame(body(10, 9));
    const out: Uint8Array[] = [];
    expect(() => {
      for (const f of dec.push(Buffer.concat([good, new Uint8Array([0, 0])]))) out.push(f);
      for (const f of dec.push(new Uint8Array([0x03, 0xe9]))) out.push(f); // 1001
    }).toThrow('frame of 1001 bytes exceeds the limit of 1000 bytes');
    expect(out).toHaveLength(1);
  });

  it('applies a changed limit from the next frame on', () => {
    const dec = new FrameDecoder(16);
    const a = encodeFrame(body(10, 1));
    const b = encodeFrame(body(100, 2));
    const out: Uint8Array[] = [];
    for (const f of dec.push(Buffer.concat([a, b]))) {
      out.push(f);
      dec.maxFrameBytes = 1000;
    }
    expect(out.map((f) => f.length)).toEqual([10, 100]);
  });
});

describe('writeBatch', () => {
  it('writes all frames of a batch inside one cork/uncork', () => {
    const calls: string[] = [];
    const sink: FrameSink = {
      cork: () => calls.push('cork'),
      uncork: () => calls.push('uncork'),
      write: (c) => {
        calls.push(`write ${c.length}`);
        return true;
      },
    };
    expect(writeBatch(sink, [new Uint8Array(1), new Uint8Array(2), new Uint8Array(3)])).toBe(true);
    expect(calls).toEqual(['cork', 'write 1', 'write 2', 'write 3', 'uncork']);
  });
});

describe('OutboundQueue', () => {
  it('drops the oldest frames when the count or the bytes would exceed the limits', () => {
    const q = new OutboundQueue({ maxMessages: 3, maxBytes: 100 });
    const f = (n: number, tag: number): Uint8Array => new Uint8Array(n).fill(tag);
    expect(q.push(f(10, 1))).toBe(0);
    expect(q.push(f(10, 2))).toBe(0);
    expect(q.push(f(10, 3))).toBe(0);
    expect(q.push(f(10, 4))).toBe(1);
    expect([q.length, q.bytes]).toEqual([3, 30]);
    expect(q.push(f(85, 5))).toBe(2);
    expect(q.takeBatch(1000).buffers.map((x) => x[0])).toEqual([4, 5]);
    expect(q.push(f(101, 6))).toBe(1);
    expect(q.length).toBe(0);
  });

  it('takes batches of at least one frame, bounded by bytes', () => {
    const q = new OutboundQueue({ maxMessages: 100, maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) q.push(new Uint8Array(300));
    expect(q.takeBatch(1000).frames).toBe(3);
    expect(q.takeBatch(10).frames).toBe(1);
    expect(q.length).toBe(6);
    expect(q.clear()).toBe(6);
  });

  it('keeps a frame made of parts whole: counted, taken and dropped as one', () => {
    const q = new OutboundQueue({ maxMessages: 3, maxBytes: 100 });
    const part = (n: number, tag: number): Uint8Array => new Uint8Array(n).fill(tag);
    expect(q.push([part(4, 1), part(30, 1), part(1, 1)])).toBe(0);
    expect(q.push(part(10, 2))).toBe(0);
    expect([q.length, q.bytes]).toEqual([2, 45]);
    // The parts come out in order, all of them, and count as one frame against the batch bound.
    const batch = q.takeBatch(20);
    expect(batch.frames).toBe(1);
    expect(batch.buffers.map((b) => [b[0], b.length])).toEqual([
      [1, 4],
      [1, 30],
      [1, 1],
    ]);
    expect(q.takeBatch(1000).buffers.map((b) => b[0])).toEqual([2]);
    // Dropping the oldest frame to make room drops all of its parts.
    expect(q.push([part(4, 3), part(50, 3)])).toBe(0);
    expect(q.push(part(40, 4))).toBe(0);
    expect(q.push(part(10, 5))).toBe(1);
    expect([q.length, q.bytes]).toEqual([2, 50]);
    expect(q.takeBatch(1000).buffers.map((b) => b[0])).toEqual([4, 5]);
  });
});
