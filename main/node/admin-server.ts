/**
 * admin-server serves the admin protocol (docs/protocol.md, "Admin protocol"): the supervisor's
 * control and telemetry channel to one node. The first frame must carry the admin token; nothing
 * else is read before it is accepted. Then requests are answered by id, and a subscriber gets
 * status, event and log pushes. A slow subscriber never makes the server buffer without bound:
 * status pushes are coalesced to the latest, and events and log lines are queued up to a bound,
 * after which the subscriber is told how many were dropped.
 *
 * Bounds, so that nobody without the token can keep the supervisor out: connections that have
 * not authenticated yet are at most maxPending, and when one more arrives the oldest of them is
 * closed (a real client sends its token within milliseconds, so silent sockets cannot crowd it
 * out); each has authTimeoutMs to authenticate. Authenticated sessions have their own cap,
 * maxSessions, which only token holders can fill. A session with no request in flight and no
 * subscription that receives nothing for idleTimeoutMs is closed. Bytes of incomplete frames
 * count against the process's FrameBudget.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { NodeId } from '../raft/types';
import {
  NotLeaderError,
  OutcomeUnknownError,
  type MessageSampler,
  type NodeApi,
  type NodeEvent,
} from './node-api';
import type { AdminServerStats } from './server-stats';
import {
  LOG_READ_DEFAULT_BYTES,
  LOG_READ_MAX,
  LOG_READ_MAX_BYTES,
  type LogRead,
} from './log-inspect';
import { InvalidFaultRuleError, type FaultRule } from './transport/fault-filter';
import type { FrameBudget } from './transport/frame-budget';
import {
  DEFAULT_MESSAGES_PER_LINK_HZ,
  DEFAULT_TRACE_READ,
  MAX_MESSAGES_PER_LINK_HZ,
  MAX_TRACE_READ,
  type SampledTraces,
} from './transport/message-trace';
import { isPace, MAX_PACE, MIN_PACE } from './transport/pace';
import {
  FrameConnection,
  TcpListener,
  WireFormat,
  sweepInterval,
  describeValue,
  isRecord,
  isUint,
  parseHostPort,
  utf8Length,
  type ListenAddress,
  type WireLogger,
} from './wire';

/** MAX_AUTH_FRAME_BYTES bounds the first frame (the token). */
export const MAX_AUTH_FRAME_BYTES = 1024;

/** MAX_TOKEN_BYTES: the longest token accepted, in UTF-8 bytes. */
export const MAX_TOKEN_BYTES = 512;

/** MAX_ADMIN_REQUEST_BYTES bounds every request frame after authentication. */
export const MAX_ADMIN_REQUEST_BYTES = 1024 * 1024;

/** MAX_FAULT_RULES: rules in one set-faults request. */
export const MAX_FAULT_RULES = 256;

/** MAX_HZ: the fastest status push rate a subscriber may ask for. */
export const MAX_HZ = 60;

/** DEFAULT_HZ: the status push rate when a subscriber does not say. */
export const DEFAULT_HZ = 10;

/** REPLAY_EVENTS / REPLAY_LOGS: how much history a new subscriber is sent first. */
export const REPLAY_EVENTS = 200;
export const REPLAY_LOGS = 200;

/** MESSAGES_PUSH_MS: a messages subscriber gets a batch at most this often. */
export const MESSAGES_PUSH_MS = 50;

/** KEEPALIVE_MS: a status subscriber gets a status at least this often, changed or not. */
export const KEEPALIVE_MS = 1000;

/** DEFAULT_ADMIN_MAX_PENDING: connections not yet authenticated; the oldest makes room. */
export const DEFAULT_ADMIN_MAX_PENDING = 64;

/** DEFAULT_ADMIN_MAX_SESSIONS: authenticated connections. */
export const DEFAULT_ADMIN_MAX_SESSIONS = 32;

/** DEFAULT_ADMIN_AUTH_TIMEOUT_MS: time to send the token. */
export const DEFAULT_ADMIN_AUTH_TIMEOUT_MS = 2000;

/** DEFAULT_ADMIN_IDLE_MS: a session with nothing in flight and no subscription is closed after this. */
export const DEFAULT_ADMIN_IDLE_MS = 60_000;

/** The token frame is checked by the structure guard before it is decoded. */
const AUTH_FORMAT = new WireFormat(
  MAX_AUTH_FRAME_BYTES,
  { maxDepth: 1, maxArrayLength: 0, maxMapLength: 4, maxStrLength: 1024, maxBinLength: 0 },
  { maxStrLength: 1024, maxBinLength: 0, maxArrayLength: 0, maxMapLength: 4 },
);

/**
 * REQUEST_FORMAT: after authentication the peer is the token holder, and requests may hold
 * floats (a drop probability) and nil (an absent optional field), which the structure guard
 * refuses; so only the frame limit and the Decoder limits apply.
 */
const REQUEST_FORMAT = new WireFormat(MAX_ADMIN_REQUEST_BYTES, undefined, {
  maxStrLength: 64 * 1024,
  maxBinLength: 64 * 1024,
  maxArrayLength: 4096,
  maxMapLength: 256,
});

/** AdminOp names every request of the admin protocol. */
export type AdminOp =
  | 'status'
  | 'subscribe'
  | 'unsubscribe'
  | 'add-learner'
  | 'promote'
  | 'remove'
  | 'transfer-leader'
  | 'snapshot'
  | 'set-faults'
  | 'clear-faults'
  | 'set-fsync-delay'
  | 'set-pace'
  | 'messages'
  | 'log-entries'
  | 'timeline'
  | 'shutdown';

/** AdminErrorCode is the `error` of a failed response. */
export type AdminErrorCode = 'not-leader' | 'bad-request' | 'unknown-outcome' | 'failed';

/** SubscribeOptions says what a subscriber wants pushed. */
export interface SubscribeOptions {
  events: boolean;
  status: boolean;
  logs: boolean;
  hz: number;
  /** messages: push samples of the messages the node sends (push "messages"). */
  messages: boolean;
  /** messagesPerLinkHz: at most this many per link and message type per second (1..1000, default 10). */
  messagesPerLinkHz: number;
}

/** AdminRequest is a validated request. */
export type AdminRequest =
  | { op: 'status' | 'unsubscribe' | 'snapshot' | 'clear-faults' }
  | ({ op: 'subscribe' } & SubscribeOptions)
  | { op: 'add-learner'; nodeId: NodeId; peerAddress: string; clientAddress: string }
  | { op: 'promote' | 'remove' | 'transfer-leader'; nodeId: NodeId }
  | { op: 'set-faults'; rules: FaultRule[] }
  | { op: 'set-fsync-delay'; ms: number }
  | { op: 'set-pace'; pace: number; fastFailover: boolean }
  | { op: 'messages'; since?: number; peer?: NodeId; limit: number }
  | { op: 'log-entries'; read: LogRead }
  | { op: 'timeline'; from: number; limit: number }
  | { op: 'shutdown'; reason: string };

const ARGS: Readonly<Record<AdminOp, { required: string[]; optional: string[] }>> = {
  status: { required: [], optional: [] },
  subscribe: {
    required: [],
    optional: ['events', 'status', 'logs', 'hz', 'messages', 'messagesPerLinkHz'],
  },
  unsubscribe: { required: [], optional: [] },
  'add-learner': { required: ['nodeId', 'peerAddress', 'clientAddress'], optional: [] },
  promote: { required: ['nodeId'], optional: [] },
  remove: { required: ['nodeId'], optional: [] },
  'transfer-leader': { required: ['nodeId'], optional: [] },
  snapshot: { required: [], optional: [] },
  'set-faults': { required: ['rules'], optional: [] },
  'clear-faults': { required: [], optional: [] },
  'set-fsync-delay': { required: ['ms'], optional: [] },
  'set-pace': { required: ['pace', 'fastFailover'], optional: [] },
  messages: { required: [], optional: ['since', 'peer', 'limit'] },
  'log-entries': { required: [], optional: ['from', 'count', 'maxBytes', 'key', 'indexes'] },
  timeline: { required: [], optional: ['from', 'limit'] },
  shutdown: { required: [], optional: ['reason'] },
};

/** MAX_TIMELINE_READ: the most entries' stamps one `timeline` request returns (the default too). */
export const MAX_TIMELINE_READ = 4096;

const RULE_FIELDS = ['to', 'from', 'drop', 'delayMs', 'jitterMs', 'types', 'snapshotOffset'];

/** MAX_FSYNC_DELAY_MS: the slowest simulated disk. */
export const MAX_FSYNC_DELAY_MS = 60_000;

class BadRequest extends Error {}

/**
 * parseAdminRequest validates the arguments of one request (its id and op already read). Fields
 * holding nil count as absent. Throws BadRequest with a precise detail.
 */
export function parseAdminRequest(op: string, v: Record<string, unknown>): AdminRequest {
  if (!Object.hasOwn(ARGS, op)) throw new BadRequest(`unknown op ${JSON.stringify(op)}`);
  const spec = ARGS[op as AdminOp];
  const get = (k: string): unknown => (Object.hasOwn(v, k) ? v[k] : undefined) ?? undefined;
  for (const k of Object.keys(v)) {
    if (k === 'id' || k === 'op' || v[k] === null) continue;
    if (!spec.required.includes(k) && !spec.optional.includes(k)) {
      throw new BadRequest(`unknown field ${JSON.stringify(k.slice(0, 40))} for ${op}`);
    }
  }
  for (const k of spec.required) {
    if (get(k) === undefined) throw new BadRequest(`missing field ${k} for ${op}`);
  }
  const nodeId = (): NodeId => {
    const n = get('nodeId');
    if (!isUint(n) || n === 0) {
      throw new BadRequest(`nodeId must be a positive integer, got ${describeValue(n)}`);
    }
    return n;
  };
  const address = (k: string): string => {
    const a = get(k);
    if (typeof a !== 'string') throw new BadRequest(`${k} must be a str, got ${describeValue(a)}`);
    try {
      parseHostPort(a);
    } catch (e) {
      throw new BadRequest(`${k}: ${(e as Error).message}`);
    }
    return a;
  };
  const flag = (k: string): boolean => {
    const b = get(k);
    if (b === undefined) return false;
    if (typeof b !== 'boolean')
      throw new BadRequest(`${k} must be a bool, got ${describeValue(b)}`);
    return b;
  };
  const o = op as AdminOp;
  switch (o) {
    case 'status':
    case 'unsubscribe':
    case 'snapshot':
    case 'clear-faults':
      return { op: o };
    case 'subscribe': {
      const hz = get('hz') ?? DEFAULT_HZ;
      if (typeof hz !== 'number' || !(hz > 0 && hz <= MAX_HZ)) {
        throw new BadRequest(`hz must be a number in (0, ${MAX_HZ}], got ${describeValue(hz)}`);
      }
      const perLink = get('messagesPerLinkHz') ?? DEFAULT_MESSAGES_PER_LINK_HZ;
      if (!isUint(perLink) || perLink < 1 || perLink > MAX_MESSAGES_PER_LINK_HZ) {
        throw new BadRequest(
          `messagesPerLinkHz must be an integer in 1..${MAX_MESSAGES_PER_LINK_HZ}, got ${describeValue(perLink)}`,
        );
      }
      return {
        op: o,
        events: flag('events'),
        status: flag('status'),
        logs: flag('logs'),
        hz,
        messages: flag('messages'),
        messagesPerLinkHz: perLink,
      };
    }
    case 'set-pace': {
      const pace = get('pace');
      if (!isPace(pace)) {
        throw new BadRequest(
          `pace must be an integer in ${MIN_PACE}..${MAX_PACE}, got ${describeValue(pace)}`,
        );
      }
      const fast = get('fastFailover');
      if (typeof fast !== 'boolean') {
        throw new BadRequest(`fastFailover must be a bool, got ${describeValue(fast)}`);
      }
      return { op: o, pace, fastFailover: fast };
    }
    case 'messages': {
      const since = get('since');
      if (since !== undefined && !isUint(since)) {
        throw new BadRequest(`since must be an unsigned integer, got ${describeValue(since)}`);
      }
      const peer = get('peer');
      if (peer !== undefined && (!isUint(peer) || peer === 0)) {
        throw new BadRequest(`peer must be a positive integer, got ${describeValue(peer)}`);
      }
      const limit = get('limit') ?? DEFAULT_TRACE_READ;
      if (!isUint(limit) || limit < 1 || limit > MAX_TRACE_READ) {
        throw new BadRequest(
          `limit must be an integer in 1..${MAX_TRACE_READ}, got ${describeValue(limit)}`,
        );
      }
      return {
        op: o,
        ...(since !== undefined ? { since } : {}),
        ...(peer !== undefined ? { peer } : {}),
        limit,
      };
    }
    case 'log-entries':
      return { op: o, read: parseLogRead(get) };
    case 'timeline': {
      const from = get('from') ?? 0;
      if (!isUint(from)) {
        throw new BadRequest(`from must be an unsigned integer, got ${describeValue(from)}`);
      }
      const limit = get('limit') ?? MAX_TIMELINE_READ;
      if (!isUint(limit) || limit < 1 || limit > MAX_TIMELINE_READ) {
        throw new BadRequest(
          `limit must be an integer in 1..${MAX_TIMELINE_READ}, got ${describeValue(limit)}`,
        );
      }
      return { op: o, from, limit };
    }
    case 'add-learner':
      return {
        op: o,
        nodeId: nodeId(),
        peerAddress: address('peerAddress'),
        clientAddress: address('clientAddress'),
      };
    case 'promote':
    case 'remove':
    case 'transfer-leader':
      return { op: o, nodeId: nodeId() };
    case 'set-faults':
      return { op: o, rules: parseRules(get('rules')) };
    case 'set-fsync-delay': {
      const ms = get('ms');
      if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_FSYNC_DELAY_MS)) {
        throw new BadRequest(
          `ms must be a number in [0, ${MAX_FSYNC_DELAY_MS}], got ${describeValue(ms)}`,
        );
      }
      return { op: o, ms };
    }
    case 'shutdown': {
      const reason = get('reason') ?? 'admin request';
      if (typeof reason !== 'string' || utf8Length(reason) > 200) {
        throw new BadRequest(`reason must be a str of at most 200 bytes`);
      }
      return { op: o, reason };
    }
  }
}

/** MAX_LOG_KEY_BYTES: the longest key a `log-entries` search takes (the client port's key bound). */
export const MAX_LOG_KEY_BYTES = 4096;

/**
 * parseLogRead checks the arguments of `log-entries`: exactly one of `from` (a range, or with
 * `key` a search) and `indexes`; `count` and `maxBytes` within their caps.
 */
function parseLogRead(get: (k: string) => unknown): LogRead {
  const from = get('from');
  const indexes = get('indexes');
  const key = get('key');
  const count = get('count');
  if ((from === undefined) === (indexes === undefined)) {
    throw new BadRequest('log-entries takes exactly one of from and indexes');
  }
  const maxBytes = get('maxBytes') ?? LOG_READ_DEFAULT_BYTES;
  if (!isUint(maxBytes) || maxBytes < 1 || maxBytes > LOG_READ_MAX_BYTES) {
    throw new BadRequest(
      `maxBytes must be an integer in 1..${LOG_READ_MAX_BYTES}, got ${describeValue(maxBytes)}`,
    );
  }
  if (indexes !== undefined) {
    if (key !== undefined || count !== undefined) {
      throw new BadRequest('log-entries with indexes takes no key or count');
    }
    if (!Array.isArray(indexes) || indexes.length < 1 || indexes.length > LOG_READ_MAX) {
      throw new BadRequest(
        `indexes must be an array of 1..${LOG_READ_MAX} indexes, got ${Array.isArray(indexes) ? `${indexes.length} items` : describeValue(indexes)}`,
      );
    }
    indexes.forEach((i: unknown, k) => {
      if (!isUint(i) || i === 0) {
        throw new BadRequest(`indexes[${k}] must be a positive integer, got ${describeValue(i)}`);
      }
    });
    return { indexes: indexes as number[], maxBytes };
  }
  if (!isUint(from) || from === 0) {
    throw new BadRequest(`from must be a positive integer, got ${describeValue(from)}`);
  }
  const n = count ?? 100;
  if (!isUint(n) || n < 1 || n > LOG_READ_MAX) {
    throw new BadRequest(`count must be an integer in 1..${LOG_READ_MAX}, got ${describeValue(n)}`);
  }
  if (key === undefined) return { from, count: n, maxBytes };
  if (typeof key !== 'string' || key.length === 0 || utf8Length(key) > MAX_LOG_KEY_BYTES) {
    throw new BadRequest(
      `key must be a str of 1..${MAX_LOG_KEY_BYTES} bytes, got ${typeof key === 'string' ? `${utf8Length(key)} bytes` : describeValue(key)}`,
    );
  }
  return { from, count: n, maxBytes, key };
}

/**
 * parseRules checks the wire shape of fault rules: a map per rule, known fields, each of its
 * type. What the values mean (exactly one of to/from, drop in [0, 1], known message types) is
 * checked by the node's fault filter, whose reason is passed back.
 */
function parseRules(x: unknown): FaultRule[] {
  if (!Array.isArray(x)) throw new BadRequest(`rules must be an array, got ${describeValue(x)}`);
  if (x.length > MAX_FAULT_RULES) {
    throw new BadRequest(`${x.length} rules; the limit is ${MAX_FAULT_RULES}`);
  }
  return x.map((r: unknown, i): FaultRule => {
    const at = `rules[${i}]`;
    if (!isRecord(r)) throw new BadRequest(`${at} must be a map, got ${describeValue(r)}`);
    const rule: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(r)) {
      if (!RULE_FIELDS.includes(k)) {
        throw new BadRequest(`${at}: unknown field ${JSON.stringify(k.slice(0, 40))}`);
      }
      if (val === null) continue;
      const ok =
        k === 'to' || k === 'from'
          ? typeof val === 'number' || val === '*'
          : k === 'types'
            ? Array.isArray(val) && val.every((t) => typeof t === 'string')
            : typeof val === 'number';
      if (!ok) {
        const want =
          k === 'to' || k === 'from'
            ? "a node id or '*'"
            : k === 'types'
              ? 'an array of str'
              : 'a number';
        throw new BadRequest(`${at}.${k} must be ${want}, got ${describeValue(val)}`);
      }
      rule[k] = val;
    }
    return rule as FaultRule;
  });
}

/** sha256 of a token, so the comparison is always between equal-length buffers. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** AdminServerOptions configures an AdminServer. */
export interface AdminServerOptions {
  node: NodeApi;
  /** token every connection must present first. */
  token: string;
  /** host to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  port?: number;
  /** authTimeoutMs: a connection that has not authenticated by then is closed. */
  authTimeoutMs?: number;
  /** maxInFlight: unanswered requests per connection; more are answered `failed`. */
  maxInFlight?: number;
  /** maxPending: connections not yet authenticated (see the file comment). */
  maxPending?: number;
  /** maxSessions: authenticated connections; one more is refused with `unavailable`. */
  maxSessions?: number;
  /** idleTimeoutMs: close a session idle this long (0: never). */
  idleTimeoutMs?: number;
  /** frameBudget: the process's budget for bytes of incomplete frames (none: unbounded). */
  frameBudget?: FrameBudget;
  /** pushHighWaterBytes: above this much unsent data, pushes are held back (see the file comment). */
  pushHighWaterBytes?: number;
  /** maxQueuedPushes: events and log lines held back per subscriber before dropping. */
  maxQueuedPushes?: number;
  log?: WireLogger;
}

type Push =
  | { push: 'event'; event: NodeEvent }
  | { push: 'log'; line: Record<string, unknown> }
  | ({ push: 'messages' } & SampledTraces);

/** AdminServer accepts admin connections for one node. */
export class AdminServer {
  private readonly listener: TcpListener;
  /** pending: connections not yet authenticated, oldest first; sessions: authenticated ones. */
  private readonly pending = new Set<AdminSession>();
  private readonly sessions = new Set<AdminSession>();
  private readonly tokenDigest: Buffer;
  private readonly sweeper: ReturnType<typeof setInterval> | undefined;
  readonly settings: Required<
    Pick<
      AdminServerOptions,
      | 'authTimeoutMs'
      | 'maxInFlight'
      | 'pushHighWaterBytes'
      | 'maxQueuedPushes'
      | 'maxPending'
      | 'maxSessions'
      | 'idleTimeoutMs'
    >
  >;
  readonly log: WireLogger;
  readonly budget: FrameBudget | undefined;
  /** unauthorized: connections refused for a wrong or missing token. */
  unauthorized = 0;
  readonly counters = {
    accepted: 0,
    evictedPending: 0,
    refusedSessions: 0,
    idleClosed: 0,
    overBudget: 0,
  };

  constructor(private readonly options: AdminServerOptions) {
    if (options.token.length === 0) throw new Error('admin token must not be empty');
    this.tokenDigest = digest(options.token);
    this.log = options.log ?? (() => undefined);
    this.budget = options.frameBudget;
    this.settings = {
      authTimeoutMs: options.authTimeoutMs ?? DEFAULT_ADMIN_AUTH_TIMEOUT_MS,
      maxInFlight: options.maxInFlight ?? 64,
      pushHighWaterBytes: options.pushHighWaterBytes ?? 1024 * 1024,
      maxQueuedPushes: options.maxQueuedPushes ?? 2000,
      maxPending: options.maxPending ?? DEFAULT_ADMIN_MAX_PENDING,
      maxSessions: options.maxSessions ?? DEFAULT_ADMIN_MAX_SESSIONS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_ADMIN_IDLE_MS,
    };
    const { maxPending, maxSessions, idleTimeoutMs } = this.settings;
    if (!(maxPending >= 1) || !(maxSessions >= 1)) {
      throw new RangeError('maxPending and maxSessions must be at least 1');
    }
    // One over the limits is accepted, so that it can take the oldest pending one's place.
    this.listener = new TcpListener(
      options.host ?? '127.0.0.1',
      options.port ?? 0,
      (s) => this.accept(s),
      maxPending + maxSessions + 1,
      this.log,
    );
    if (idleTimeoutMs > 0) {
      this.sweeper = setInterval(() => this.closeIdle(), sweepInterval(idleTimeoutMs));
      this.sweeper.unref();
    }
  }

  stats(): AdminServerStats {
    const s = this.settings;
    return {
      limits: {
        maxPending: s.maxPending,
        maxSessions: s.maxSessions,
        authTimeoutMs: s.authTimeoutMs,
        idleTimeoutMs: s.idleTimeoutMs,
        maxInFlight: s.maxInFlight,
      },
      pending: this.pending.size,
      sessions: this.sessions.size,
      unauthorized: this.unauthorized,
      ...this.counters,
    };
  }

  private accept(socket: Socket): void {
    this.counters.accepted += 1;
    if (this.pending.size >= this.settings.maxPending) {
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.counters.evictedPending += 1;
      oldest.destroy();
    }
    this.pending.add(new AdminSession(socket, this));
  }

  /**
   * admit moves a connection that presented the right token to the sessions; false (and nothing
   * changes) when maxSessions are open.
   */
  admit(s: AdminSession): boolean {
    if (this.sessions.size >= this.settings.maxSessions) {
      this.counters.refusedSessions += 1;
      return false;
    }
    this.pending.delete(s);
    this.sessions.add(s);
    return true;
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.settings.idleTimeoutMs;
    for (const s of [...this.sessions]) {
      if (s.idleSince() <= cutoff) {
        this.counters.idleClosed += 1;
        s.closeIdle(this.settings.idleTimeoutMs);
      }
    }
  }

  get node(): NodeApi {
    return this.options.node;
  }

  /** address: where the server listens (after listen()). */
  get address(): ListenAddress | undefined {
    return this.listener.address;
  }

  listen(): Promise<ListenAddress> {
    return this.listener.listen();
  }

  /** tokenMatches compares in constant time (both sides hashed, so lengths always match). */
  tokenMatches(token: string): boolean {
    return timingSafeEqual(digest(token), this.tokenDigest);
  }

  /** forget drops a closed session. */
  forget(s: AdminSession): void {
    this.pending.delete(s);
    this.sessions.delete(s);
  }

  /** close stops accepting and ends every connection (queued responses are flushed first). */
  close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    for (const s of [...this.pending, ...this.sessions]) s.close();
    return this.listener.close(() => undefined);
  }
}

/** AdminSession is one admin connection: authentication, requests, and its subscription. */
class AdminSession {
  private readonly conn: FrameConnection;
  private authed = false;
  private authTimer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = 0;
  private sub: SubscribeOptions | undefined;
  private unsubscribeEvents: (() => void) | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private sampler: MessageSampler | undefined;
  private samplerTimer: ReturnType<typeof setInterval> | undefined;
  private lastStatusVersion = -1;
  private lastStatusAt = 0;
  private statusHeld = false;
  private readonly queue: Push[] = [];
  private dropped = 0;
  private lastLog: Record<string, unknown> | undefined;
  private lastLogKey = '';
  /** lastActive: when bytes last arrived or a request was last answered (ms since the epoch). */
  private lastActive = Date.now();

  constructor(
    socket: Socket,
    private readonly server: AdminServer,
  ) {
    this.conn = new FrameConnection(
      socket,
      AUTH_FORMAT,
      {
        message: (v) => (this.authed ? this.onRequest(v) : this.onAuth(v)),
        malformed: (f) => {
          if (f.kind === 'over-budget') {
            this.server.counters.overBudget += 1;
            this.server.log('warn', `closing admin connection ${this.conn.remote}: ${f.reason}`);
            return { error: 'failed', detail: f.reason };
          }
          if (!this.authed) {
            this.server.unauthorized += 1;
            return { error: 'unauthorized', detail: `unreadable first frame: ${f.reason}` };
          }
          this.server.log('warn', `closing admin connection ${this.conn.remote}: ${f.reason}`);
          return { error: 'bad-request', detail: `unreadable frame: ${f.reason}` };
        },
        data: () => {
          this.lastActive = Date.now();
        },
        drain: () => this.onDrain(),
        close: () => this.onClose(),
      },
      server.log,
      server.budget,
    );
    this.authTimer = setTimeout(() => {
      // The event loop may have been busy past the deadline with the token already waiting to be
      // read: read it first (I/O runs before setImmediate callbacks), then decide.
      setImmediate(() => {
        this.authTimer = undefined;
        if (this.authed || !this.conn.open) return;
        this.server.unauthorized += 1;
        this.conn.end({
          error: 'unauthorized',
          detail: `no token within ${this.server.settings.authTimeoutMs} ms`,
        });
      });
    }, this.server.settings.authTimeoutMs);
    this.authTimer.unref();
  }

  close(): void {
    this.stopSubscription();
    this.conn.end();
  }

  /** destroy closes the connection at once (an unauthenticated one making room for another). */
  destroy(): void {
    this.conn.destroy();
  }

  /**
   * idleSince: when the session became idle; +Infinity while it has a request in flight or a
   * subscription that pushes something.
   */
  idleSince(): number {
    const sub = this.sub;
    const pushed = sub !== undefined && (sub.events || sub.status || sub.logs || sub.messages);
    if (!this.authed || this.inFlight > 0 || pushed) return Infinity;
    return this.lastActive;
  }

  /** closeIdle ends an idle session, saying why. */
  closeIdle(ms: number): void {
    this.conn.end({
      ok: false,
      error: 'failed',
      detail: `closing the connection: idle for ${ms} ms`,
    });
  }

  private onAuth(v: unknown): void {
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    const token = isRecord(v) && Object.hasOwn(v, 'token') ? v.token : undefined;
    let detail: string | undefined;
    if (typeof token !== 'string') detail = 'the first frame must be a map {token: str}';
    else if (utf8Length(token) > MAX_TOKEN_BYTES || !this.server.tokenMatches(token)) {
      detail = 'wrong token';
    }
    if (detail !== undefined) {
      this.server.unauthorized += 1;
      this.server.log('warn', `admin connection ${this.conn.remote} refused: ${detail}`);
      this.conn.end({ error: 'unauthorized', detail });
      return;
    }
    if (!this.server.admit(this)) {
      const limit = this.server.settings.maxSessions;
      this.server.log(
        'warn',
        `admin connection ${this.conn.remote} refused: ${limit} sessions open`,
      );
      this.conn.end({ error: 'unavailable', detail: `too many admin sessions (limit ${limit})` });
      return;
    }
    this.authed = true;
    this.conn.setFormat(REQUEST_FORMAT);
    this.conn.trust();
    this.conn.send({ ok: true, node: this.server.node.id });
  }

  private onRequest(v: unknown): void {
    if (!isRecord(v)) {
      this.reply(undefined, fail('bad-request', `request must be a map, got ${describeValue(v)}`));
      return;
    }
    const id = v.id;
    if (!isUint(id)) {
      this.reply(
        undefined,
        fail('bad-request', `id must be an unsigned integer, got ${describeValue(id)}`),
      );
      return;
    }
    const op = v.op;
    if (typeof op !== 'string') {
      this.reply(id, fail('bad-request', `op must be a str, got ${describeValue(op)}`));
      return;
    }
    let req: AdminRequest;
    try {
      req = parseAdminRequest(op, v);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      this.reply(id, fail('bad-request', e.message));
      return;
    }
    if (this.inFlight >= this.server.settings.maxInFlight) {
      this.reply(
        id,
        fail('failed', `too many requests in flight (limit ${this.server.settings.maxInFlight})`),
      );
      return;
    }
    if (req.op === 'subscribe') {
      // Answered before anything is pushed: the response, then the replay, then live pushes.
      const { events, status, logs, hz, messages, messagesPerLinkHz } = req;
      this.reply(id, {
        ok: true,
        result: { events, status, logs, hz, messages, messagesPerLinkHz },
      });
      this.subscribe(req);
      return;
    }
    this.inFlight += 1;
    void this.execute(req).then(
      (result) => {
        this.inFlight -= 1;
        this.lastActive = Date.now();
        this.reply(id, { ok: true, result });
        if (req.op === 'shutdown') setImmediate(() => void this.shutdown(req.reason));
      },
      (e: unknown) => {
        this.inFlight -= 1;
        this.lastActive = Date.now();
        this.reply(id, failureOf(e));
      },
    );
  }

  private reply(id: number | undefined, body: Record<string, unknown>): void {
    if (this.conn.send({ id, ...body }) || !this.conn.open) return;
    this.conn.send({ id, ...fail('failed', 'the node returned a result that cannot be encoded') });
  }

  private async shutdown(reason: string): Promise<void> {
    try {
      await this.server.node.shutdown(reason);
    } catch (e) {
      this.server.log('error', `shutdown failed: ${(e as Error).message}`);
    }
  }

  /** execute carries out a valid request and resolves with its result. */
  private async execute(req: AdminRequest): Promise<unknown> {
    const node = this.server.node;
    switch (req.op) {
      case 'status':
        return node.status();
      case 'subscribe':
        return req;
      case 'unsubscribe':
        this.stopSubscription();
        return {};
      case 'add-learner':
        return node.addLearner(req.nodeId, { peer: req.peerAddress, client: req.clientAddress });
      case 'promote':
        return node.promote(req.nodeId);
      case 'remove':
        return node.remove(req.nodeId);
      case 'transfer-leader':
        return node.transferLeader(req.nodeId);
      case 'snapshot':
        return node.snapshotNow();
      case 'set-faults':
        node.setFaults(req.rules);
        return {};
      case 'clear-faults':
        node.clearFaults();
        return {};
      case 'set-fsync-delay':
        node.setFsyncDelay(req.ms);
        return {};
      case 'set-pace':
        return node.setPace({ pace: req.pace, fastFailover: req.fastFailover });
      case 'messages': {
        const { op: _, ...q } = req;
        return node.messages(q);
      }
      case 'log-entries':
        return node.logEntries(req.read);
      case 'timeline':
        return node.putTimeline({ from: req.from, limit: req.limit });
      case 'shutdown':
        // Answered first; the node is shut down once the answer is on its way.
        return {};
    }
  }

  // ------------------------------------------------------------------ subscription

  /**
   * subscribe starts (or changes) this connection's subscription; its response has been queued.
   * Ordering: the replayed events (oldest first) are queued next, in the same turn as the
   * listener is registered, so the subscriber sees every event exactly once and in order. A
   * second subscribe changes what is pushed; events are not replayed again.
   */
  private subscribe(o: SubscribeOptions): void {
    const node = this.server.node;
    const had = this.sub;
    this.sub = o;
    if (o.events && this.unsubscribeEvents === undefined) {
      for (const event of node.recentEvents(REPLAY_EVENTS)) this.push({ push: 'event', event });
      this.unsubscribeEvents = node.subscribe((event) => this.push({ push: 'event', event }));
    } else if (!o.events && this.unsubscribeEvents !== undefined) {
      this.unsubscribeEvents();
      this.unsubscribeEvents = undefined;
    }
    if (o.logs && !had?.logs) {
      this.lastLog = undefined;
      this.lastLogKey = '';
    }
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (o.status || o.logs) {
      this.lastStatusVersion = -1;
      this.poll();
      this.pollTimer = setInterval(() => this.poll(), 1000 / o.hz);
    }
    if (!o.messages || o.messagesPerLinkHz !== had?.messagesPerLinkHz) this.stopSampling();
    if (o.messages && this.sampler === undefined) {
      this.sampler = node.sampleMessages(o.messagesPerLinkHz);
      this.samplerTimer = setInterval(() => this.pushMessages(), MESSAGES_PUSH_MS);
    }
  }

  /**
   * pushMessages sends what the sampler picked and skipped since the last push, if anything;
   * while the connection is congested it waits (the sampler keeps a bounded number of traces and
   * counts the rest as skipped).
   */
  private pushMessages(): void {
    const sampler = this.sampler;
    if (sampler === undefined || !this.conn.open || sampler.empty || this.congested()) return;
    this.conn.send({ push: 'messages', ...sampler.drain() });
  }

  private stopSampling(): void {
    if (this.samplerTimer !== undefined) clearInterval(this.samplerTimer);
    this.samplerTimer = undefined;
    this.sampler?.close();
    this.sampler = undefined;
  }

  private stopSubscription(): void {
    this.sub = undefined;
    this.stopSampling();
    if (this.unsubscribeEvents !== undefined) this.unsubscribeEvents();
    this.unsubscribeEvents = undefined;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.queue.length = 0;
    this.dropped = 0;
    this.statusHeld = false;
  }

  private poll(): void {
    try {
      const sub = this.sub;
      if (sub === undefined || !this.conn.open) return;
      if (sub.logs) this.pollLogs();
      if (sub.status) {
        const now = Date.now();
        const s = this.server.node.status();
        if (s.version !== this.lastStatusVersion || now - this.lastStatusAt >= KEEPALIVE_MS) {
          if (this.congested()) {
            this.statusHeld = true;
          } else {
            this.sendStatus(s);
          }
        }
      }
    } catch (e) {
      this.server.log('error', `admin push failed: ${(e as Error).message}`);
      this.conn.destroy();
    }
  }

  private sendStatus(s = this.server.node.status()): void {
    this.statusHeld = false;
    this.lastStatusVersion = s.version;
    this.lastStatusAt = Date.now();
    this.conn.send({ push: 'status', status: s });
  }

  /** pollLogs pushes the log lines that appeared since the last poll. */
  private pollLogs(): void {
    const lines = this.server.node.recentLogs(REPLAY_LOGS);
    let from = 0;
    if (this.lastLog !== undefined) {
      // Lines are the node's ring buffer entries; match the last one pushed by identity, or by
      // content for a node that hands out copies.
      for (let i = lines.length - 1; i >= 0; i--) {
        if (lines[i] === this.lastLog || safeJson(lines[i]) === this.lastLogKey) {
          from = i + 1;
          break;
        }
      }
    }
    if (from >= lines.length) return;
    for (let i = from; i < lines.length; i++) this.push({ push: 'log', line: lines[i] });
    this.lastLog = lines[lines.length - 1];
    this.lastLogKey = safeJson(this.lastLog);
  }

  private congested(): boolean {
    return this.conn.bufferedBytes > this.server.settings.pushHighWaterBytes;
  }

  /** push sends an event or log line, or queues it while the subscriber is slow. */
  private push(p: Push): void {
    if (!this.conn.open) return;
    if (this.queue.length === 0 && this.dropped === 0 && !this.congested()) {
      this.conn.send(p);
      return;
    }
    if (this.queue.length < this.server.settings.maxQueuedPushes) this.queue.push(p);
    else this.dropped += 1;
  }

  /** onDrain sends what was held back: the latest status, queued pushes, then the drop count. */
  private onDrain(): void {
    if (!this.conn.open || this.sub === undefined) return;
    if (this.statusHeld && this.sub.status) this.sendStatus();
    let k = 0;
    while (k < this.queue.length && !this.congested()) this.conn.send(this.queue[k++]);
    this.queue.splice(0, k);
    if (this.queue.length === 0 && this.dropped > 0) {
      this.conn.send({ push: 'overflow', dropped: this.dropped });
      this.dropped = 0;
    }
    this.conn.flush();
  }

  private onClose(): void {
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.stopSubscription();
    this.server.forget(this);
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return '';
  }
}

function fail(error: AdminErrorCode, detail: string, extra: Record<string, unknown> = {}) {
  return { ok: false, error, detail, ...extra };
}

/** failureOf maps what the node threw to an error response. */
function failureOf(e: unknown): Record<string, unknown> {
  if (e instanceof NotLeaderError) {
    const { leaderId, leaderClientAddress } = e.hint;
    return fail('not-leader', e.message, {
      ...(leaderId > 0 ? { leaderId } : {}),
      ...(leaderClientAddress !== '' ? { leaderAddress: leaderClientAddress } : {}),
    });
  }
  if (e instanceof InvalidFaultRuleError) return fail('bad-request', e.message);
  if (e instanceof OutcomeUnknownError) return fail('unknown-outcome', e.message);
  return fail('failed', e instanceof Error ? e.message : String(e));
}
