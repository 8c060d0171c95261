/**
 * framing splits a TCP byte stream into frames: `[u32 big-endian body length][body]`. A frame's
 * announced length is checked against the limit before any memory is set aside for its body, and
 * a body is only assembled once all of its bytes have arrived.
 */

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

/**
 * FrameDecoder turns socket chunks into frame bodies. push() stores the chunk at once and returns
 * an iterator over the frames that are now complete; iterate it before the next push (frames not
 * taken stay buffered). A body that lies within one chunk is a view of that chunk (no copy); a body
 * spread over several chunks is copied once into a buffer of exactly its size, so every byte is
 * copied at most once however the stream is split. Once a frame is too large the decoder is failed:
 * the iterator throws FrameTooLargeError, and so does every later push.
 */
export class FrameDecoder {
  /** maxFrameBytes may be changed between frames (the handshake uses a smaller limit). */
  maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  private buffered = 0;
  /** need: body length of the frame whose header was read; -1 while waiting for a header. */
  private need = -1;
  private failure: FrameTooLargeError | undefined;

  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** bufferedBytes: bytes received but not yet returned as frames (headers included). */
  get bufferedBytes(): number {
    return this.buffered + (this.need >= 0 ? FRAME_HEADER_BYTES : 0);
  }

  /** push adds one chunk and returns the frames it completes (lazily; see the class comment). */
  push(chunk: Uint8Array): Iterable<Uint8Array> {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return this.frames();
  }

  private *frames(): Generator<Uint8Array, void, undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const announced = this.readHeader();
        if (announced > this.maxFrameBytes) {
          this.failure = new FrameTooLargeError(announced, this.maxFrameBytes);
          this.chunks = [];
          this.head = 0;
          this.headOffset = 0;
          this.buffered = 0;
          throw this.failure;
        }
        this.need = announced;
      }
      if (this.buffered < this.need) return;
      const body = this.take(this.need);
      this.need = -1;
      yield body;
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
