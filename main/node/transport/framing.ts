/**
 * framing splits a TCP byte stream into frames: `[u32 big-endian body length][body]`. A frame's
 * announced length is checked against the limit before any memory is set aside for its body, and
 * the bytes a process holds in incomplete frames can be bounded by a shared FrameBudget.
 */
import { isArrayBuffer } from 'node:util/types';
import type { BudgetAccount, FrameBudget, FrameBudgetError } from './frame-budget';

/** FRAME_HEADER_BYTES: the length prefix of every frame. */
export const FRAME_HEADER_BYTES = 4;

/** DEFAULT_MAX_FRAME_BYTES: 64 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** MAX_FRAME_BODY: the largest length a 4-byte prefix can announce. */
const MAX_FRAME_BODY = 0xffff_ffff;

/** FrameTooLargeError: a frame announced a body longer than the limit. The stream is unusable. */
export class FrameTooLargeError extends Error {
  constructor(
    readonly announced: number,
    readonly limit: number,
  ) {
    super(`frame of ${announced} bytes exceeds the limit of ${limit} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

/** encodeFrame returns `body` behind its 4-byte big-endian length, in one new buffer. */
export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BODY) {
    throw new RangeError(`frame body of ${body.length} bytes does not fit a 4-byte length`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** FrameDecoderOptions: the process's budget for incomplete frames, and who hears of an eviction. */
export interface FrameDecoderOptions {
  /** budget: shared by every framed connection of the process; without one, nothing is bounded. */
  budget?: FrameBudget;
  /**
   * evicted: the budget closed this decoder to make room (possibly while another connection's
   * bytes arrived). The decoder has failed and dropped its bytes; close the connection.
   */
  evicted?: (e: FrameBudgetError) => void;
}

/** OWN_BUFFER_BYTES: a body at least this large gets a buffer of its own, returned at release. */
const OWN_BUFFER_BYTES = 64 * 1024;

/**
 * FrameDecoder turns socket chunks into frame bodies. push() stores the chunk at once and returns
 * an iterator over the frames that are now complete; iterate it before the next push (frames not
 * taken stay buffered). A body that lies within one chunk is a view of that chunk (no copy). A
 * body that does not is assembled in one buffer of exactly its size, allocated once its length is
 * known and its first bytes are being taken, and each later chunk is copied into it as the
 * iterator reaches it: every byte is copied at most once, and the socket's chunks are not kept
 * while a large frame arrives slowly. Once a frame is too large (or the budget evicts the
 * decoder) the decoder is failed: the iterator throws FrameTooLargeError (FrameBudgetError), and
 * so does every later push.
 *
 * Memory: the bytes held (received, not yet handed over) are accounted in the budget if one is
 * given. release() drops them, and hands a large body's memory back to the system within
 * milliseconds rather than at the next full garbage collection, which a quiet process may not run
 * for a long time (see returnMemory).
 */
export class FrameDecoder {
  /** maxFrameBytes may be changed between frames (the handshake uses a smaller limit). */
  maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  /** buffered: bytes in `chunks` not yet taken. */
  private buffered = 0;
  /** need: body length of the frame whose header was read; -1 while waiting for a header. */
  private need = -1;
  /** body: the frame being assembled (its bytes span chunks still to come); filled: its bytes so far. */
  private body: Buffer | undefined;
  private filled = 0;
  private failure: Error | undefined;
  private readonly account: BudgetAccount | undefined;

  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES, options: FrameDecoderOptions = {}) {
    this.maxFrameBytes = maxFrameBytes;
    const { budget, evicted } = options;
    this.account = budget?.account((e) => {
      this.failure = e;
      this.drop();
      evicted?.(e);
    });
  }

  /** bufferedBytes: bytes received but not yet returned as frames (headers included). */
  get bufferedBytes(): number {
    return this.buffered + this.filled + (this.need >= 0 ? FRAME_HEADER_BYTES : 0);
  }

  /** push adds one chunk and returns the frames it completes (lazily; see the class comment). */
  push(chunk: Uint8Array): Iterable<Uint8Array> {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.account?.hold(this.bufferedBytes);
      if (this.failure !== undefined) throw this.failure;
    }
    return this.frames();
  }

  /** trust marks the decoder's budget account as an authenticated connection's (see FrameBudget). */
  trust(): void {
    if (this.account !== undefined) this.account.trusted = true;
  }

  /**
   * release drops everything held (the connection is gone or failed) and gives it back to the
   * budget; a large partial body's memory is returned to the system at once. Later pushes throw.
   */
  release(): void {
    this.failure ??= new Error('the frame decoder was released');
    this.drop();
    this.account?.close();
  }

  private *frames(): Generator<Uint8Array, void, undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const announced = this.readHeader();
        if (announced > this.maxFrameBytes) {
          this.failure = new FrameTooLargeError(announced, this.maxFrameBytes);
          this.drop();
          this.account?.close();
          throw this.failure;
        }
        this.need = announced;
      }
      let out: Uint8Array;
      if (this.body === undefined && this.buffered >= this.need) {
        out = this.take(this.need);
      } else {
        // The body spans chunks still to come: assemble it in one buffer.
        this.body ??=
          this.need >= OWN_BUFFER_BYTES
            ? Buffer.allocUnsafeSlow(this.need)
            : Buffer.allocUnsafe(this.need);
        this.fill();
        if (this.filled < this.need) return;
        out = this.body;
        this.body = undefined;
        this.filled = 0;
      }
      this.need = -1;
      this.account?.hold(this.bufferedBytes);
      yield out;
    }
  }

  private readHeader(): number {
    const c = this.chunks[this.head];
    const o = this.headOffset;
    if (c.length - o >= FRAME_HEADER_BYTES) {
      const n = c[o] * 0x1000000 + ((c[o + 1] << 16) | (c[o + 2] << 8) | c[o + 3]);
      this.skip(FRAME_HEADER_BYTES);
      return n;
    }
    const h = this.take(FRAME_HEADER_BYTES);
    return h[0] * 0x1000000 + ((h[1] << 16) | (h[2] << 8) | h[3]);
  }

  /** fill copies buffered bytes into the body being assembled, up to its length. */
  private fill(): void {
    const body = this.body!;
    while (this.filled < this.need && this.buffered > 0) {
      const cur = this.chunks[this.head];
      const k = Math.min(cur.length - this.headOffset, this.need - this.filled);
      body.set(cur.subarray(this.headOffset, this.headOffset + k), this.filled);
      this.filled += k;
      this.skip(k);
    }
  }

  /** take removes the next n buffered bytes (n <= buffered) and returns them. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const c = this.chunks[this.head];
    if (c.length - this.headOffset >= n) {
      const view = c.subarray(this.headOffset, this.headOffset + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const cur = this.chunks[this.head];
      const k = Math.min(cur.length - this.headOffset, n - filled);
      out.set(cur.subarray(this.headOffset, this.headOffset + k), filled);
      filled += k;
      this.skip(k);
    }
    return out;
  }

  /** skip consumes n bytes that lie in the current head chunk. */
  private skip(n: number): void {
    this.headOffset += n;
    this.buffered -= n;
    if (this.headOffset === this.chunks[this.head].length) {
      this.head += 1;
      this.headOffset = 0;
      if (this.head === this.chunks.length) {
        this.chunks = [];
        this.head = 0;
      } else if (this.head >= 1024) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** drop forgets every byte held; a body of its own is handed back to the system now. */
  private drop(): void {
    const body = this.body;
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.buffered = 0;
    this.need = -1;
    this.body = undefined;
    this.filled = 0;
    if (body !== undefined && body.length >= OWN_BUFFER_BYTES) returnMemory(body);
  }
}

/**
 * returnMemory frees a buffer's memory without waiting for the garbage collector. An ArrayBuffer
 * is normally freed by a full collection, and a process that allocates little may not run one
 * for many minutes: large frame bodies dropped after an attack would stay resident all that time.
 * Transferring the buffer into a message on a channel that is then closed detaches it at once (it
 * reads as empty from now on) and discards the message, which frees the memory as soon as the
 * closed ports are cleaned up, within milliseconds. A body of its own is allocated by the system
 * allocator's mmap for large sizes, so freeing it also lowers the process's RSS. Only a buffer
 * that owns its whole ArrayBuffer, and that nothing else uses, may be passed.
 */
function returnMemory(buf: Buffer): void {
  const ab = buf.buffer;
  if (!isArrayBuffer(ab) || buf.byteOffset !== 0 || buf.length !== ab.byteLength) return;
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(null, [ab]);
  } catch {
    // Not transferable: the garbage collector frees it in its own time.
  } finally {
    port1.close();
    port2.close();
  }
}

/**
 * OutFrame is one encoded frame on its way out: a buffer, or the buffers that make it up in order
 * (so that a large body already in memory is written from where it is instead of copied).
 */
export type OutFrame = Uint8Array | readonly Uint8Array[];

/** outFrameBytes is the length of a frame, header included. */
export function outFrameBytes(f: OutFrame): number {
  if (f instanceof Uint8Array) return f.length;
  let n = 0;
  for (let i = 0; i < f.length; i++) n += f[i].length;
  return n;
}

/** FrameSink is the part of a socket a batch write needs. */
export interface FrameSink {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
}

/**
 * writeBatch writes frames as one corked batch: the socket sends them with a single writev. It
 * returns false when the socket's buffer is above its high-water mark (wait for 'drain').
 */
export function writeBatch(sink: FrameSink, frames: readonly Uint8Array[]): boolean {
  if (frames.length === 0) return true;
  if (frames.length === 1) return sink.write(frames[0]);
  sink.cork();
  let ok = true;
  for (let i = 0; i < frames.length; i++) ok = sink.write(frames[i]);
  sink.uncork();
  return ok;
}
