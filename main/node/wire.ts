/**
 * wire carries msgpack values over a TCP socket as length-prefixed frames, for the client and
 * admin protocols (docs/protocol.md, "Client and admin protocol"). It reuses the node-to-node
 * framing (FrameDecoder, encodeFrame, writeBatch) and, where the sender is not trusted, the
 * msgpack structure guard; both servers and both clients build on FrameConnection so that none of
 * them repeats the socket plumbing.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameBudgetError, type FrameBudget } from './transport/frame-budget';
import { FrameDecoder, FrameTooLargeError, encodeFrame, writeBatch } from './transport/framing';
import { checkMsgpackStructure, type MsgpackGuardLimits } from './transport/msgpack-guard';
import { listenServer, parseAddress } from './transport/transport';

/** WireLogger receives what a connection or server has to say (JsonLog.log fits). */
export type WireLogger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** DecoderLimits bounds what the msgpack Decoder accepts. */
export interface DecoderLimits {
  maxStrLength: number;
  maxBinLength: number;
  maxArrayLength: number;
  maxMapLength: number;
}

/** WireFormatError: a frame body is not an acceptable msgpack value; `reason` says why. */
export class WireFormatError extends Error {
  constructor(readonly reason: string) {
    super(`malformed frame: ${reason}`);
    this.name = 'WireFormatError';
  }
}

/**
 * WireFormat is what one side accepts from the other: the largest frame, the structure guard
 * (omitted only for a peer that has authenticated) and the Decoder limits. decode() is not
 * reentrant, which is fine because it is synchronous.
 */
export class WireFormat {
  private readonly decoder: Decoder;

  constructor(
    readonly maxFrameBytes: number,
    readonly guard: MsgpackGuardLimits | undefined,
    limits: DecoderLimits,
  ) {
    this.decoder = new Decoder({ ...limits, maxExtLength: 0 });
  }

  /**
   * decode parses one frame body. Binaries in the result are Uint8Array views of `body`, which
   * must not be modified afterwards. Throws WireFormatError.
   */
  decode(body: Uint8Array): unknown {
    if (this.guard !== undefined) {
      const problem = checkMsgpackStructure(body, this.guard);
      if (problem !== undefined) throw new WireFormatError(problem);
    }
    const bytes =
      body.constructor === Uint8Array
        ? body
        : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    try {
      return this.decoder.decode(bytes);
    } catch (e) {
      throw new WireFormatError(`msgpack: ${(e as Error).message}`);
    }
  }
}

/** SHARED_ENCODER_BYTES: above this, the shared Encoder is replaced so it does not stay large. */
const SHARED_ENCODER_BYTES = 1024 * 1024;

let sharedEncoder = new Encoder({ ignoreUndefined: true });

/** encodeValueFrame returns `value` as one frame; undefined map values are left out. */
export function encodeValueFrame(value: unknown): Buffer {
  const body = sharedEncoder.encodeSharedRef(value);
  const frame = encodeFrame(body);
  if (body.length > SHARED_ENCODER_BYTES) sharedEncoder = new Encoder({ ignoreUndefined: true });
  return frame;
}

/** isRecord: a plain msgpack map as decoded (an object that is not an array or a binary). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** isUint: a msgpack integer in 0 .. 2^53 - 1. */
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** describeValue names the msgpack type of a decoded value, for error details. */
export function describeValue(v: unknown): string {
  if (v === null) return 'nil';
  if (v instanceof Uint8Array) return 'bin';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? `int ${v}` : `float ${v}`;
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'map';
  return typeof v;
}

/** utf8Length: bytes of `s` in UTF-8 (what msgpack str lengths count). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * WireFault says why a connection can no longer be read: a frame over the limit, a frame that is
 * not acceptable msgpack, or the process's budget for incomplete frames took this connection's
 * bytes back (it held the most when the budget was exceeded).
 */
export interface WireFault {
  kind: 'oversized' | 'malformed' | 'over-budget';
  reason: string;
}

export interface FrameConnectionHandlers {
  /** message: one decoded frame. */
  message(value: unknown): void;
  /**
   * malformed: a frame could not be read (too large, or not acceptable msgpack). The stream
   * cannot be trusted any more: the connection sends the returned value (if any) as its last
   * frame and closes.
   */
  malformed?(fault: WireFault): unknown;
  /** data: bytes arrived (before they are decoded); for telling idle connections apart. */
  data?(): void;
  /** drain: the socket's write buffer emptied. */
  drain?(): void;
  /** close: the connection is gone (error: the socket error that ended it, if any). */
  close?(error: Error | undefined): void;
}

/** CLOSE_GRACE_MS: how long an ending connection may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * FrameConnection reads and writes frames on one socket. Ordering rules: frames are handed to
 * `message` in arrival order, one at a time, and never while reading is paused; values passed to
 * send() go out in call order, batched per event-loop turn into one corked write. No exception
 * escapes a socket handler: one thrown by a handler is logged and destroys the connection.
 * Bytes of an incomplete frame count against `budget`, if given; once the connection ends they
 * are released at once.
 */
export class FrameConnection {
  private readonly frames: FrameDecoder;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushing: ReturnType<typeof setImmediate> | undefined;
  private readingPaused = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private error: Error | undefined;
  /** ending: end() or destroy() was called, or a malformed frame arrived; nothing more is read. */
  private ending = false;
  /** closed: the socket has closed. */
  closed = false;

  constructor(
    readonly socket: Socket,
    private format: WireFormat,
    private readonly handlers: FrameConnectionHandlers,
    private readonly log: WireLogger = () => undefined,
    budget?: FrameBudget,
  ) {
    this.frames = new FrameDecoder(format.maxFrameBytes, {
      budget,
      evicted: (e) => this.safely(() => this.fail({ kind: 'over-budget', reason: e.message })),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.safely(() => this.onData(chunk)));
    socket.on('drain', () => this.safely(() => this.handlers.drain?.()));
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => this.safely(() => this.onClose()));
  }

  /** remote: "host:port" of the other end. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** open: the connection can still carry frames both ways. */
  get open(): boolean {
    return !this.ending && !this.closed;
  }

  /** bufferedBytes: bytes accepted by send() and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  /**
   * trust marks the connection as authenticated: its incomplete frames are evicted from the
   * process's budget only after every unauthenticated connection's (see FrameBudget).
   */
  trust(): void {
    this.frames.trust();
  }

  /** setFormat changes what later frames must satisfy (e.g. after authentication). */
  setFormat(format: WireFormat): void {
    this.format = format;
    this.frames.maxFrameBytes = format.maxFrameBytes;
  }

  /**
   * send queues `value` as a frame; it is written at the end of this event-loop turn. Returns
   * false if the connection is no longer open or `value` cannot be encoded (which is logged).
   */
  send(value: unknown): boolean {
    if (!this.open) return false;
    let frame: Buffer;
    try {
      frame = encodeValueFrame(value);
    } catch (e) {
      this.log(
        'error',
        `connection ${this.remote}: cannot encode a frame: ${(e as Error).message}`,
      );
      return false;
    }
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    this.flushing ??= setImmediate(() => this.flush());
    return true;
  }

  /** flush writes every queued frame now, as one corked batch. */
  flush(): void {
    if (this.flushing !== undefined) clearImmediate(this.flushing);
    this.flushing = undefined;
    const frames = this.pending;
    if (frames.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    writeBatch(this.socket, frames);
  }

  /** pauseReading stops handing frames to `message` (and reading the socket) until resumed. */
  pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  /** resumeReading hands over the frames already buffered, then reads the socket again. */
  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.safely(() => this.onData(undefined));
    if (!this.readingPaused && !this.socket.destroyed) this.socket.resume();
  }

  /**
   * end sends `last` (if given) after everything queued, closes the sending side, and destroys
   * the socket if the other end has not closed within a grace period.
   */
  end(last?: unknown): void {
    if (this.ending || this.closed) return;
    if (last !== undefined) this.send(last);
    this.ending = true;
    this.frames.release();
    this.flush();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  /** destroy closes the connection at once; queued frames are lost. */
  destroy(): void {
    this.ending = true;
    this.frames.release();
    this.pending = [];
    this.pendingBytes = 0;
    if (this.flushing !== undefined) clearImmediate(this.flushing);
    this.flushing = undefined;
    this.socket.destroy();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log('error', `connection ${this.remote}: ${(e as Error).stack ?? String(e)}`);
      this.destroy();
    }
  }

  private onData(chunk: Buffer | undefined): void {
    if (this.ending) return;
    if (chunk !== undefined) this.handlers.data?.();
    let it: Iterable<Uint8Array>;
    try {
      it = this.frames.push(chunk ?? new Uint8Array(0));
      if (this.readingPaused) return;
      for (const body of it) {
        let value: unknown;
        try {
          value = this.format.decode(body);
        } catch (e) {
          if (!(e instanceof WireFormatError)) throw e;
          this.fail({ kind: 'malformed', reason: e.reason });
          return;
        }
        this.handlers.message(value);
        if (this.ending || this.readingPaused) return;
      }
    } catch (e) {
      // An eviction has already been handled through the decoder's `evicted` callback.
      if (e instanceof FrameBudgetError) return;
      if (!(e instanceof FrameTooLargeError)) throw e;
      this.fail({ kind: 'oversized', reason: e.message });
    }
  }

  private fail(fault: WireFault): void {
    if (this.ending || this.closed) return;
    const last = this.handlers.malformed?.(fault);
    this.end(last);
  }

  private onClose(): void {
    this.closed = true;
    this.ending = true;
    this.frames.release();
    this.pending = [];
    this.pendingBytes = 0;
    if (this.flushing !== undefined) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.handlers.close?.(this.error);
  }
}

/**
 * sweepInterval: how often a server looks for connections idle longer than `idleTimeoutMs` (a
 * quarter of it, 50 ms to 5 s), so a connection is closed at most a quarter late.
 */
export function sweepInterval(idleTimeoutMs: number): number {
  return Math.min(5000, Math.max(50, Math.floor(idleTimeoutMs / 4)));
}

/** ListenAddress is where a server ended up listening. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** parseHostPort reads "host:port" or "[ipv6]:port"; throws TypeError with the text otherwise. */
export const parseHostPort: (text: string) => ListenAddress = parseAddress;

/**
 * TcpListener accepts connections for one server and keeps track of them, so close() can stop
 * them all. Sockets are handed to `accept` with no data read yet.
 */
export class TcpListener {
  private server: Server | undefined;
  private closing: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();
  private port: number;

  constructor(
    private readonly host: string,
    port: number,
    private readonly accept: (socket: Socket) => void,
    private readonly maxConnections: number,
    private readonly log: WireLogger,
  ) {
    this.port = port;
  }

  /** address: where the server listens (after listen()). */
  get address(): ListenAddress | undefined {
    return this.server?.listening ? { host: this.host, port: this.port } : undefined;
  }

  /** connections: sockets currently open. */
  get connections(): number {
    return this.sockets.size;
  }

  listen(): Promise<ListenAddress> {
    if (this.closing) return Promise.reject(new Error('server is closed'));
    if (this.server) return Promise.reject(new Error('server is already listening'));
    const server = createServer({ noDelay: true }, (socket) => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      try {
        this.accept(socket);
      } catch (e) {
        this.log('error', `accepting a connection failed: ${(e as Error).message}`);
        socket.destroy();
      }
    });
    server.maxConnections = this.maxConnections;
    this.server = server;
    return listenServer(server, this.host, this.port, {
      isClosed: () => this.closing !== undefined,
      closedMessage: 'server closed while starting to listen',
      onFail: () => {
        if (this.server === server) this.server = undefined;
      },
      onLateError: (err) => this.log('error', `server error: ${err.message}`),
    }).then((bound) => {
      this.port = bound.port;
      return bound;
    });
  }

  /** close stops accepting; `each` is called for every open socket (to end it). */
  close(each: (socket: Socket) => void): Promise<void> {
    if (this.closing) return this.closing;
    const server = this.server;
    this.closing = new Promise((resolve) => {
      if (server === undefined || !server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });
    for (const s of [...this.sockets]) each(s);
    return this.closing;
  }
}

/** describeSocketError turns a socket error into the few words a person needs. */
export function describeSocketError(err: Error | undefined): string {
  if (err === undefined) return 'connection closed';
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EPIPE':
      return 'connection closed';
    case 'ETIMEDOUT':
      return 'connect timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ENOTFOUND':
      return 'host not found';
    default:
      return err.message;
  }
}

/**
 * dial opens a TCP connection to "host:port" and resolves once it is connected. It rejects with an
 * Error whose message is describeSocketError's (or "connect timed out after N ms").
 */
export function dial(address: string, timeoutMs: number): Promise<Socket> {
  let target: ListenAddress;
  try {
    target = parseHostPort(address);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(describeSocketError(err)));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // The caller attaches its own handlers; until then an error must not go unheard.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
