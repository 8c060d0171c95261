/**
 * client-server serves the key-value client protocol (docs/protocol.md, "Client protocol"): TCP,
 * length-prefixed msgpack maps, many requests in flight per connection, responses matched by id
 * and possibly out of order. Every request is validated field by field and a bad one is answered
 * with `bad-request` and a precise detail; a frame that cannot be read at all is counted, answered
 * with a last error frame, and closes the connection. No exception escapes a socket handler.
 *
 * Bounds: at most maxConnections connections. A connection is idle while it has no request in
 * flight; one idle for idleTimeoutMs (no request, no byte received) is closed. When a new
 * connection arrives and the port is full, the connection idle the longest is closed to make
 * room, so that a flood of idle connections cannot keep a working client out; only when every
 * connection has a request in flight is the new one refused. Bytes of incomplete frames count
 * against the process's FrameBudget.
 */
import type { Socket } from 'node:net';
import type { KvCommand, KvOp, KvResult } from './kv/kv-state';
import { NotLeaderError, OutcomeUnknownError, type NodeApi } from './node-api';
import { nowMicros, type PutTimeline } from './put-timeline';
import type { ClientServerStats } from './server-stats';
import type { FrameBudget } from './transport/frame-budget';
import {
  FrameConnection,
  TcpListener,
  WireFormat,
  describeValue,
  isRecord,
  isUint,
  encodeValueFrame,
  sweepInterval,
  utf8Length,
  type ListenAddress,
  type WireFault,
  type WireLogger,
} from './wire';

/** MAX_KEY_BYTES: the longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 4096;

/** MAX_VALUE_BYTES: the largest value (and cas `expected`), 16 MiB. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** MAX_CLIENT_ID_BYTES: the longest client id, in UTF-8 bytes. */
export const MAX_CLIENT_ID_BYTES = 128;

/**
 * MAX_CLIENT_FRAME_BYTES: the largest frame either side of the client protocol sends: a cas with
 * value and expected both at the limit, plus room for the other fields.
 */
export const MAX_CLIENT_FRAME_BYTES = 2 * MAX_VALUE_BYTES + 64 * 1024;

/** DEFAULT_MAX_IN_FLIGHT: requests one connection may have unanswered before `unavailable`. */
export const DEFAULT_MAX_IN_FLIGHT = 4096;

/** DEFAULT_MAX_CLIENT_CONNECTIONS: connections the client port keeps open at once. */
export const DEFAULT_MAX_CLIENT_CONNECTIONS = 1024;

/** DEFAULT_CLIENT_IDLE_MS: a connection with no request in flight and no bytes for this long is closed. */
export const DEFAULT_CLIENT_IDLE_MS = 60_000;

/** MAX_DETAIL_CHARS bounds the `detail` of every error response. */
const MAX_DETAIL_CHARS = 300;

/**
 * CLIENT_WIRE_FORMAT: what both ends of the client protocol accept. The guard's string limit is
 * well above MAX_KEY_BYTES so that an over-long key is answered with a precise `bad-request`
 * rather than treated as an unreadable frame.
 */
export const CLIENT_WIRE_FORMAT = new WireFormat(
  MAX_CLIENT_FRAME_BYTES,
  {
    maxDepth: 2,
    maxArrayLength: 64,
    maxMapLength: 64,
    maxStrLength: 64 * 1024,
    maxBinLength: MAX_CLIENT_FRAME_BYTES,
  },
  {
    maxStrLength: 64 * 1024,
    maxBinLength: MAX_CLIENT_FRAME_BYTES,
    maxArrayLength: 64,
    maxMapLength: 64,
  },
);

/** ClientOp names the operations of the client protocol. */
export type ClientOp = 'put' | 'get' | 'del' | 'cas';

/** ClientErrorCode is the `error` of a failed response. */
export type ClientErrorCode =
  | 'not-leader'
  | 'cas-mismatch'
  | 'unknown-outcome'
  | 'bad-request'
  | 'stale-request'
  | 'unavailable';

/** ClientRequest is a validated request. */
export type ClientRequest =
  | { id: number; op: 'get'; key: string }
  | { id: number; op: 'put' | 'del' | 'cas'; command: KvCommand };

/** ClientResponse is what the server answers (a field that would be null is left out). */
export type ClientResponse =
  | { id: number; ok: true; value?: Uint8Array; prev?: Uint8Array }
  | {
      id?: number;
      ok: false;
      error: ClientErrorCode;
      detail: string;
      leaderId?: number;
      leaderAddress?: string;
      current?: Uint8Array;
    };

const FIELDS: Readonly<Record<ClientOp, { required: string[]; optional: string[] }>> = {
  put: { required: ['key', 'value', 'clientId', 'seq'], optional: [] },
  del: { required: ['key', 'clientId', 'seq'], optional: [] },
  cas: { required: ['key', 'value', 'clientId', 'seq'], optional: ['expected'] },
  get: { required: ['key'], optional: ['clientId', 'seq'] },
};

/** ParsedRequest: a valid request, or the detail of a bad one and its id when it was readable. */
export type ParsedRequest =
  { ok: true; request: ClientRequest } | { ok: false; id: number | undefined; detail: string };

/**
 * parseClientRequest validates one decoded frame. Checks, in order: a map; `id` a uint; `op` one
 * of the four ops; no unknown field and every required field present; then each field's type and
 * length. The first failing check is reported.
 */
export function parseClientRequest(v: unknown): ParsedRequest {
  if (!isRecord(v)) return bad(undefined, `request must be a map, got ${describeValue(v)}`);
  const has = (k: string): boolean => Object.hasOwn(v, k);
  if (!has('id')) return bad(undefined, 'missing field id');
  const id = v.id;
  if (!isUint(id))
    return bad(undefined, `id must be an unsigned integer, got ${describeValue(id)}`);
  if (!has('op')) return bad(id, 'missing field op');
  const op = v.op;
  if (typeof op !== 'string' || !Object.hasOwn(FIELDS, op)) {
    const got = typeof op === 'string' ? JSON.stringify(op.slice(0, 40)) : describeValue(op);
    return bad(id, `op must be one of put, get, del, cas; got ${got}`);
  }
  const fields = FIELDS[op as ClientOp];
  for (const k of Object.keys(v)) {
    if (k !== 'id' && k !== 'op' && !fields.required.includes(k) && !fields.optional.includes(k)) {
      return bad(id, `unknown field ${JSON.stringify(k.slice(0, 40))} for ${op}`);
    }
  }
  for (const k of fields.required) if (!has(k)) return bad(id, `missing field ${k} for ${op}`);

  const key = v.key;
  if (typeof key !== 'string') return bad(id, `key must be a str, got ${describeValue(key)}`);
  const keyBytes = utf8Length(key);
  if (keyBytes > MAX_KEY_BYTES) {
    return bad(id, `key is ${keyBytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  }
  const bin = (name: 'value' | 'expected'): Uint8Array | string => {
    const b = v[name];
    if (!(b instanceof Uint8Array)) return `${name} must be a bin, got ${describeValue(b)}`;
    if (b.length > MAX_VALUE_BYTES) {
      return `${name} is ${b.length} bytes; the limit is ${MAX_VALUE_BYTES}`;
    }
    return b;
  };
  let clientId = '';
  let seq = 0;
  if (has('clientId')) {
    const c = v.clientId;
    if (typeof c !== 'string') return bad(id, `clientId must be a str, got ${describeValue(c)}`);
    const n = utf8Length(c);
    if (n === 0 || n > MAX_CLIENT_ID_BYTES) {
      return bad(id, `clientId must be 1 to ${MAX_CLIENT_ID_BYTES} bytes, got ${n}`);
    }
    clientId = c;
  }
  if (has('seq')) {
    const s = v.seq;
    if (!isUint(s)) return bad(id, `seq must be an unsigned integer, got ${describeValue(s)}`);
    seq = s;
  }

  let cmd: KvOp;
  switch (op as ClientOp) {
    case 'get':
      return { ok: true, request: { id, op: 'get', key } };
    case 'del':
      cmd = { op: 'del', key };
      break;
    case 'put': {
      const value = bin('value');
      if (typeof value === 'string') return bad(id, value);
      cmd = { op: 'put', key, value };
      break;
    }
    case 'cas': {
      const value = bin('value');
      if (typeof value === 'string') return bad(id, value);
      let expected: Uint8Array | null = null;
      if (has('expected')) {
        const e = bin('expected');
        if (typeof e === 'string') return bad(id, e);
        expected = e;
      }
      cmd = { op: 'cas', key, value, expected };
      break;
    }
  }
  return { ok: true, request: { id, op: cmd.op, command: { clientId, seq, cmd } } };
}

function bad(id: number | undefined, detail: string): ParsedRequest {
  return { ok: false, id, detail };
}

function trimDetail(s: string): string {
  return s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS - 3)}...` : s;
}

function errorResponse(
  id: number | undefined,
  error: ClientErrorCode,
  detail: string,
  extra: { leaderId?: number; leaderAddress?: string; current?: Uint8Array } = {},
): ClientResponse {
  return { id, ok: false, error, detail: trimDetail(detail), ...extra };
}

/** resultResponse turns what applying a write produced into its response. */
function resultResponse(id: number, r: KvResult, key: string): ClientResponse {
  if (r.ok) return r.prev === null ? { id, ok: true } : { id, ok: true, prev: r.prev };
  if (r.error === 'cas-mismatch') {
    return errorResponse(
      id,
      'cas-mismatch',
      `key ${JSON.stringify(key.slice(0, 100))} does not hold the expected value`,
      r.current === null ? {} : { current: r.current },
    );
  }
  return errorResponse(id, 'stale-request', r.detail);
}

/**
 * failureResponse maps what the node threw. A write the node may have carried out is
 * `unknown-outcome`; everything else it throws is a definite refusal (`not-leader`, or
 * `unavailable` for a node that cannot serve right now).
 */
function failureResponse(id: number, e: unknown, write: boolean): ClientResponse {
  if (e instanceof NotLeaderError) {
    const { leaderId, leaderClientAddress } = e.hint;
    return errorResponse(id, 'not-leader', e.message, {
      ...(leaderId > 0 ? { leaderId } : {}),
      ...(leaderClientAddress !== '' ? { leaderAddress: leaderClientAddress } : {}),
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof OutcomeUnknownError && write) {
    return errorResponse(id, 'unknown-outcome', message);
  }
  return errorResponse(id, 'unavailable', message);
}

export interface ClientServerOptions {
  node: NodeApi;
  /** host to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** port to listen on; 0 picks a free one. */
  port?: number;
  /** maxInFlight: unanswered requests per connection; more are answered `unavailable`. */
  maxInFlight?: number;
  /** maxConnections: open at once (default DEFAULT_MAX_CLIENT_CONNECTIONS); see the file comment. */
  maxConnections?: number;
  /** idleTimeoutMs: close a connection idle this long (default DEFAULT_CLIENT_IDLE_MS; 0: never). */
  idleTimeoutMs?: number;
  /** writeHighWaterBytes: stop reading a connection whose unsent responses exceed this. */
  writeHighWaterBytes?: number;
  /** frameBudget: the process's budget for bytes of incomplete frames (none: unbounded). */
  frameBudget?: FrameBudget;
  /** timeline: told when each write request is decoded (see PutTimeline); none: no stamps. */
  timeline?: PutTimeline;
  log?: WireLogger;
}

/** ClientConn is one connection and what the limits need to know about it. */
interface ClientConn {
  conn: FrameConnection;
  inFlight: number;
  /** lastActive: when it last received bytes or finished a request (ms since the epoch). */
  lastActive: number;
}

/** ClientServer accepts client connections and serves them from a NodeApi. */
export class ClientServer {
  private readonly node: NodeApi;
  private readonly listener: TcpListener;
  private readonly conns = new Set<ClientConn>();
  /** idle: the connections with no request in flight, least recently active first. */
  private readonly idle = new Set<ClientConn>();
  private readonly maxInFlight: number;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly highWater: number;
  private readonly budget: FrameBudget | undefined;
  private readonly timeline: PutTimeline | undefined;
  private readonly log: WireLogger;
  private readonly sweeper: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** answered: connections with responses queued since the last flushAnswers. */
  private readonly answered = new Set<FrameConnection>();
  private readonly flushAnswers = (): void => {
    for (const c of this.answered) c.flush();
    this.answered.clear();
  };
  private readonly counters = {
    accepted: 0,
    requests: 0,
    badRequests: 0,
    busy: 0,
    malformedFrames: 0,
    oversizedFrames: 0,
    overBudget: 0,
    idleClosed: 0,
    evicted: 0,
    refused: 0,
  };

  constructor(options: ClientServerOptions) {
    this.node = options.node;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CLIENT_CONNECTIONS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_CLIENT_IDLE_MS;
    this.highWater = options.writeHighWaterBytes ?? 8 * 1024 * 1024;
    this.budget = options.frameBudget;
    this.timeline = options.timeline;
    this.log = options.log ?? (() => undefined);
    if (!Number.isSafeInteger(this.maxConnections) || this.maxConnections < 1) {
      throw new RangeError(`maxConnections must be at least 1, got ${this.maxConnections}`);
    }
    // One over the limit is accepted, so that it can take an idle connection's place.
    this.listener = new TcpListener(
      options.host ?? '127.0.0.1',
      options.port ?? 0,
      (s) => this.accept(s),
      this.maxConnections + 1,
      this.log,
    );
    if (this.idleTimeoutMs > 0) {
      this.sweeper = setInterval(() => this.closeIdle(), sweepInterval(this.idleTimeoutMs));
      this.sweeper.unref();
    }
  }

  /** address: where the server listens (after listen()). */
  get address(): ListenAddress | undefined {
    return this.listener.address;
  }

  /** listen starts accepting connections and resolves with the bound address. */
  listen(): Promise<ListenAddress> {
    return this.listener.listen();
  }

  stats(): ClientServerStats {
    return {
      limits: {
        maxConnections: this.maxConnections,
        idleTimeoutMs: this.idleTimeoutMs,
        maxInFlight: this.maxInFlight,
      },
      connections: this.conns.size,
      idle: this.idle.size,
      ...this.counters,
    };
  }

  /** dropConnections cuts every open client connection at once, leaving requests unanswered. */
  dropConnections(): void {
    for (const c of [...this.conns]) c.conn.destroy();
  }

  /**
   * close stops accepting and ends every connection after sending the responses already queued;
   * requests still in flight go unanswered.
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    for (const c of [...this.conns]) c.conn.end();
    return this.listener.close(() => undefined);
  }

  /** closeIdle closes the connections idle for idleTimeoutMs (the idle set is oldest first). */
  private closeIdle(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const c of this.idle) {
      if (c.lastActive > cutoff) break;
      this.forget(c);
      this.counters.idleClosed += 1;
      c.conn.end(
        errorResponse(
          undefined,
          'unavailable',
          `closing the connection: idle for ${this.idleTimeoutMs} ms`,
        ),
      );
    }
  }

  /** forget stops tracking a connection (it is closing). */
  private forget(c: ClientConn): void {
    this.conns.delete(c);
    this.idle.delete(c);
  }

  /** makeRoom closes the connection idle the longest; false if every connection is busy. */
  private makeRoom(): boolean {
    const oldest = this.idle.values().next();
    if (oldest.done === true) return false;
    const c = oldest.value;
    this.forget(c);
    this.counters.evicted += 1;
    c.conn.destroy();
    return true;
  }

  private accept(socket: Socket): void {
    this.counters.accepted += 1;
    if (this.conns.size >= this.maxConnections && !this.makeRoom()) {
      this.counters.refused += 1;
      const last = errorResponse(
        undefined,
        'unavailable',
        `too many client connections (limit ${this.maxConnections}), all with requests in flight`,
      );
      socket.on('error', () => undefined);
      socket.once('finish', () => socket.destroy());
      socket.end(encodeValueFrame(last));
      return;
    }
    const active = (): void => {
      state.lastActive = Date.now();
      if (state.inFlight === 0 && this.conns.has(state)) {
        // Re-inserted at the end: the idle set stays ordered by last activity.
        this.idle.delete(state);
        this.idle.add(state);
      }
    };
    const conn: FrameConnection = new FrameConnection(
      socket,
      CLIENT_WIRE_FORMAT,
      {
        message: (v) => {
          const decodedAt = this.timeline !== undefined ? nowMicros() : 0;
          const parsed = parseClientRequest(v);
          if (!parsed.ok) {
            this.counters.badRequests += 1;
            conn.send(errorResponse(parsed.id, 'bad-request', parsed.detail));
            return;
          }
          const req = parsed.request;
          if (state.inFlight >= this.maxInFlight) {
            this.counters.busy += 1;
            conn.send(
              errorResponse(
                req.id,
                'unavailable',
                `too many requests in flight on this connection (limit ${this.maxInFlight})`,
              ),
            );
            return;
          }
          state.inFlight += 1;
          this.idle.delete(state);
          this.counters.requests += 1;
          if (decodedAt !== 0 && req.op !== 'get') this.timeline!.received(decodedAt);
          void this.serve(req).then((res) => {
            state.inFlight -= 1;
            if (state.inFlight === 0) active();
            if (this.closed) return;
            conn.send(res);
            // Out as soon as the answers of this batch of applied writes are all queued (they
            // are resolved together, so their sends run before this microtask), not on the
            // next turn of the event loop.
            if (this.answered.size === 0) queueMicrotask(this.flushAnswers);
            this.answered.add(conn);
            if (conn.bufferedBytes > this.highWater) conn.pauseReading();
          });
        },
        malformed: (f: WireFault) => {
          this.forget(state);
          if (f.kind === 'over-budget') {
            this.counters.overBudget += 1;
            this.log('warn', `closing client connection ${conn.remote}: ${f.reason}`);
            return errorResponse(undefined, 'unavailable', f.reason);
          }
          if (f.kind === 'oversized') this.counters.oversizedFrames += 1;
          else this.counters.malformedFrames += 1;
          this.log('warn', `closing client connection ${conn.remote}: ${f.reason}`);
          return errorResponse(undefined, 'bad-request', `unreadable frame: ${f.reason}`);
        },
        data: active,
        drain: () => conn.resumeReading(),
        close: () => this.forget(state),
      },
      this.log,
      this.budget,
    );
    const state: ClientConn = { conn, inFlight: 0, lastActive: Date.now() };
    this.conns.add(state);
    this.idle.add(state);
  }

  /** serve carries out one valid request; it never rejects. */
  private async serve(req: ClientRequest): Promise<ClientResponse> {
    const write = req.op !== 'get';
    try {
      if (req.op === 'get') {
        const value = await this.node.get(req.key);
        return value === null ? { id: req.id, ok: true } : { id: req.id, ok: true, value };
      }
      const r = await this.node.propose(req.command);
      return resultResponse(req.id, r, req.command.cmd.key);
    } catch (e) {
      return failureResponse(req.id, e, write);
    }
  }
}
