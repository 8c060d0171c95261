/**
 * client is the key-value client library used by the CLI, the supervisor's workload and the
 * tests. It speaks the client protocol (docs/protocol.md, "Client protocol") to the nodes' client
 * servers, follows the leader, and retries safely: a retried write carries the same clientId and
 * sequence number, so the node's session table applies it at most once. An operation whose effect
 * it cannot know is reported as unknown (UnknownOutcomeError), never as failed.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { CLIENT_WIRE_FORMAT, MAX_CLIENT_ID_BYTES, type ClientErrorCode } from './client-server';
import { FrameConnection, dial, describeSocketError, isRecord, isUint, utf8Length } from './wire';

/** KvValue: a value as the caller gives it; strings are sent as UTF-8. */
export type KvValue = string | Uint8Array;

/** KvOperation is one operation, as execute() takes it. */
export type KvOperation =
  | { op: 'put'; key: string; value: KvValue }
  | { op: 'get'; key: string }
  | { op: 'del'; key: string }
  | { op: 'cas'; key: string; expected: KvValue | null; value: KvValue };

/** CasResult: whether the swap happened, and if not, what the key held instead. */
export type CasResult = { ok: true } | { ok: false; current: Uint8Array | null };

/** KvResultOf is what each operation resolves with. */
export type KvResultOf<O extends KvOperation> = O extends { op: 'get' }
  ? Uint8Array | null
  : O extends { op: 'cas' }
    ? CasResult
    : { prev: Uint8Array | null };

/** KvExecution is a result with where it came from. */
export interface KvExecution<R> {
  result: R;
  /** servedBy: the client address of the node that answered. */
  servedBy: string;
  /** attempts: requests and connection attempts it took, the successful one included. */
  attempts: number;
}

/** KvErrorCode says why an operation definitely did not take effect (or, for a read, failed). */
export type KvErrorCode =
  | 'unreachable'
  | 'timeout'
  | 'unavailable'
  | 'not-leader'
  | 'bad-request'
  | 'stale-request'
  | 'closed'
  | 'protocol';

/** KvError: the operation failed, and a write among them did not take effect. */
export class KvError extends Error {
  constructor(
    readonly code: KvErrorCode,
    message: string,
    readonly leaderId?: number,
  ) {
    super(message);
    this.name = 'KvError';
  }
}

/**
 * UnknownOutcomeError: a write was (possibly) delivered and no definite answer came back before
 * the deadline. It may or may not have taken effect; record it as unknown, never as failed.
 */
export class UnknownOutcomeError extends Error {
  constructor(
    readonly op: 'put' | 'del' | 'cas',
    readonly key: string,
    override readonly cause: Error,
  ) {
    super(`${op} of ${JSON.stringify(key)}: outcome unknown (${cause.message})`, { cause });
    this.name = 'UnknownOutcomeError';
  }
}

/** BackoffOptions: waits between retries grow from initialMs by `multiplier` up to maxMs. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  multiplier?: number;
}

export interface KvClientOptions {
  /** endpoints: "host:port" client addresses of the nodes. */
  endpoints: string[];
  /** clientId: 1 to 128 bytes; random by default. */
  clientId?: string;
  /** timeoutMs: the overall deadline of one operation, retries included (default 2000). */
  timeoutMs?: number;
  /** attemptTimeoutMs: how long one request waits for its answer (default min(timeoutMs, 1000)). */
  attemptTimeoutMs?: number;
  /** connectTimeoutMs: how long a connection attempt may take (default min(attempt, 1000)). */
  connectTimeoutMs?: number;
  /** maxRetries: attempts after the first one (default 50; the deadline usually ends it first). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** firstSeq: the first write's sequence number (default Date.now() * 1000, see the class). */
  firstSeq?: number;
  /** rng jitters the backoff (Math.random by default). */
  rng?: () => number;
}

/** ClientResponseBody is a decoded response of the client protocol. */
type ResponseBody =
  | { ok: true; value: Uint8Array | null; prev: Uint8Array | null }
  | {
      ok: false;
      error: ClientErrorCode;
      detail: string;
      leaderId: number;
      leaderAddress: string;
      current: Uint8Array | null;
    };

/** Outcome is how one attempt ended. */
type Outcome =
  | { kind: 'response'; body: ResponseBody }
  /** unreachable: no connection; the request was not sent. */
  | { kind: 'unreachable'; reason: string }
  /** lost: the connection closed after the request was written. */
  | { kind: 'lost'; reason: string }
  | { kind: 'timeout' };

const ERROR_CODES: ReadonlySet<string> = new Set<ClientErrorCode>([
  'not-leader',
  'cas-mismatch',
  'unknown-outcome',
  'bad-request',
  'stale-request',
  'unavailable',
]);

function optionalBin(v: unknown): Uint8Array | null | undefined {
  if (v === undefined) return null;
  // A copy, so a result does not keep the socket chunk it arrived in alive.
  return v instanceof Uint8Array ? v.slice() : undefined;
}

/** parseResponse checks a response's shape; undefined means the server broke the protocol. */
function parseResponse(v: Record<string, unknown>): ResponseBody | undefined {
  if (v.ok === true) {
    const value = optionalBin(v.value);
    const prev = optionalBin(v.prev);
    if (value === undefined || prev === undefined) return undefined;
    return { ok: true, value, prev };
  }
  if (v.ok !== false || typeof v.error !== 'string' || !ERROR_CODES.has(v.error)) return undefined;
  const current = optionalBin(v.current);
  if (current === undefined) return undefined;
  return {
    ok: false,
    error: v.error as ClientErrorCode,
    detail: typeof v.detail === 'string' ? v.detail : '',
    leaderId: isUint(v.leaderId) ? v.leaderId : 0,
    leaderAddress: typeof v.leaderAddress === 'string' ? v.leaderAddress : '',
    current,
  };
}

/**
 * Connection is one client connection to one address. Requests are pipelined: each gets a fresh
 * id and its answer is matched by id, whatever order answers arrive in.
 */
class Connection {
  private readonly fc: FrameConnection;
  private readonly waiting = new Map<number, (o: Outcome) => void>();
  private nextId = 1;
  /** lastError: what the server said when it closed the connection, if it said anything. */
  private lastError = '';

  constructor(
    readonly address: string,
    socket: Socket,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.fc = new FrameConnection(socket, CLIENT_WIRE_FORMAT, {
      message: (v) => this.onMessage(v),
      malformed: (f) => {
        this.lastError = `unreadable response: ${f.reason}`;
        return undefined;
      },
      close: (err) => this.onClose(err),
    });
  }

  get open(): boolean {
    return this.fc.open;
  }

  /** request sends `body` under a fresh id and resolves with how it ended (never rejects). */
  request(body: Record<string, unknown>, timeoutMs: number): Promise<Outcome> {
    if (!this.fc.open) return Promise.resolve({ kind: 'unreachable', reason: 'connection closed' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.waiting.set(id, (o) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(o);
      });
      this.fc.send({ ...body, id });
    });
  }

  close(): void {
    this.fc.destroy();
  }

  private onMessage(v: unknown): void {
    if (!isRecord(v)) {
      this.protocolError('a response that is not a map');
      return;
    }
    if (v.id === undefined) {
      // A connection-level error: the server closes the connection after it.
      if (typeof v.detail === 'string') this.lastError = v.detail;
      return;
    }
    const body = isUint(v.id) ? parseResponse(v) : undefined;
    if (body === undefined) {
      this.protocolError('a malformed response');
      return;
    }
    this.waiting.get(v.id as number)?.({ kind: 'response', body });
  }

  private protocolError(what: string): void {
    this.lastError = `the server sent ${what}`;
    this.fc.destroy();
  }

  private onClose(err: Error | undefined): void {
    const reason = this.lastError || describeSocketError(err);
    for (const done of [...this.waiting.values()]) done({ kind: 'lost', reason });
    this.waiting.clear();
    this.onGone(this);
  }
}

const encoder = new TextEncoder();

function toBytes(v: KvValue): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

/**
 * KvClient talks to a cluster through its nodes' client servers. It keeps at most one connection
 * per address (opened lazily, reopened after a failure) and pipelines requests on it.
 *
 * Writes: each write gets the next sequence number of this client, and keeps it across retries.
 * Retries happen on connection failures, timeouts, `unavailable`, `unknown-outcome` and
 * `not-leader` (following the leader's address when the node names one, else trying the next
 * endpoint), with backoff, until the deadline or maxRetries. Once a request may have reached a
 * node, a write ends either with a definite answer or with UnknownOutcomeError. Sequence numbers
 * start at Date.now() * 1000 so that a clientId reused by a later process keeps increasing.
 * Concurrent writes on one client are allowed. A write refused as stale (a later write of the
 * same client got applied first) is sent again under a fresh seq if no earlier attempt of it can
 * have been applied, and reported as unknown otherwise (the node can only say it is stale).
 * Open connections keep the process alive: close() the client when done.
 */
export class KvClient {
  readonly clientId: string;
  /** lastServedBy: the address of the node that answered the latest successful operation. */
  lastServedBy: string | undefined;
  private readonly endpoints: string[];
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly rng: () => number;
  /** ready: open connections by address; dialing: connections being opened. */
  private readonly ready = new Map<string, Connection>();
  private readonly dialing = new Map<string, Promise<Connection>>();
  private seq: number;
  private preferred: string | undefined;
  private rotation = 0;
  private closed = false;

  constructor(options: KvClientOptions) {
    if (options.endpoints.length === 0) throw new TypeError('KvClient needs at least one endpoint');
    this.endpoints = [...options.endpoints];
    this.clientId = options.clientId ?? randomUUID();
    const idBytes = utf8Length(this.clientId);
    if (idBytes === 0 || idBytes > MAX_CLIENT_ID_BYTES) {
      throw new TypeError(`clientId must be 1 to ${MAX_CLIENT_ID_BYTES} bytes`);
    }
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? Math.min(this.timeoutMs, 1000);
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.min(this.attemptTimeoutMs, 1000);
    this.maxRetries = options.maxRetries ?? 50;
    this.backoff = {
      initialMs: options.backoff?.initialMs ?? 20,
      maxMs: options.backoff?.maxMs ?? 500,
      multiplier: options.backoff?.multiplier ?? 2,
    };
    this.rng = options.rng ?? Math.random;
    this.seq = options.firstSeq ?? Date.now() * 1000;
  }

  /** put stores value under key; resolves with what the key held before. */
  async put(key: string, value: KvValue): Promise<{ prev: Uint8Array | null }> {
    return (await this.execute({ op: 'put', key, value })).result;
  }

  /** get reads key (linearizably); null when absent. */
  async get(key: string): Promise<Uint8Array | null> {
    return (await this.execute({ op: 'get', key })).result;
  }

  /** del removes key; resolves with what it held. */
  async del(key: string): Promise<{ prev: Uint8Array | null }> {
    return (await this.execute({ op: 'del', key })).result;
  }

  /** cas sets key to value only if it holds `expected` (null: only if absent). */
  async cas(key: string, expected: KvValue | null, value: KvValue): Promise<CasResult> {
    return (await this.execute({ op: 'cas', key, expected, value })).result;
  }

  /**
   * execute runs one operation and says which node answered. Rejects with KvError (definitely
   * failed; a write among them did not take effect) or UnknownOutcomeError (writes only).
   */
  async execute<O extends KvOperation>(op: O): Promise<KvExecution<KvResultOf<O>>> {
    if (this.closed) throw new KvError('closed', 'the client is closed');
    const body = this.requestBody(op);
    const write = op.op !== 'get';
    const deadline = Date.now() + this.timeoutMs;
    let target = this.preferred ?? this.endpoints[this.rotation % this.endpoints.length];
    let maybeApplied = false;
    let lastError: KvError | undefined;
    const unreachable: string[] = [];
    let onlyUnreachable = true;
    let failedInARow = 0;
    let redirects = 0;
    let backoff = this.backoff.initialMs;
    let attempts = 0;

    const pause = async (): Promise<void> => {
      const ms = Math.min(backoff * (0.5 + this.rng() / 2), deadline - Date.now());
      backoff = Math.min(backoff * this.backoff.multiplier, this.backoff.maxMs);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    };

    while (!this.closed && attempts <= this.maxRetries) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      attempts += 1;
      const outcome = await this.attempt(target, body, remaining);
      if (outcome.kind === 'unreachable') {
        if (!unreachable.includes(target)) unreachable.push(target);
        lastError = new KvError('unreachable', `${target}: ${outcome.reason}`);
        target = this.next(target);
        failedInARow += 1;
        if (failedInARow >= this.endpoints.length) {
          failedInARow = 0;
          await pause();
        }
        continue;
      }
      onlyUnreachable = false;
      failedInARow = 0;
      if (outcome.kind === 'lost' || outcome.kind === 'timeout') {
        if (write) maybeApplied = true;
        lastError =
          outcome.kind === 'lost'
            ? new KvError('unavailable', `${target}: connection lost (${outcome.reason})`)
            : new KvError(
                'timeout',
                `${target}: no answer within ${Math.min(this.attemptTimeoutMs, remaining)} ms`,
              );
        target = this.next(target);
        if (outcome.kind === 'lost') await pause();
        continue;
      }
      const res = outcome.body;
      if (res.ok) {
        this.lastServedBy = target;
        this.preferred = target;
        return { result: this.resultOf(op, res) as KvResultOf<O>, servedBy: target, attempts };
      }
      switch (res.error) {
        case 'cas-mismatch':
          this.lastServedBy = target;
          this.preferred = target;
          return {
            result: { ok: false, current: res.current } as KvResultOf<O>,
            servedBy: target,
            attempts,
          };
        case 'bad-request':
          throw new KvError('bad-request', `${target}: ${res.detail}`);
        case 'stale-request':
          // A later write of this client was applied first. If no attempt of this write may
          // have been applied, it is safe to send it again as a new one (a fresh seq).
          lastError = new KvError('stale-request', `${target}: ${res.detail}`);
          if (maybeApplied) throw this.unknown(op, lastError);
          body.seq = this.seq++;
          continue;
        case 'not-leader': {
          lastError = new KvError('not-leader', `${target}: ${res.detail}`, res.leaderId);
          const hinted = res.leaderAddress !== '' && res.leaderAddress !== target;
          target = hinted ? res.leaderAddress : this.next(target);
          redirects += 1;
          if (!hinted || redirects > this.endpoints.length + 1) await pause();
          continue;
        }
        case 'unknown-outcome':
          if (write) maybeApplied = true;
          lastError = new KvError('unavailable', `${target}: ${res.detail}`);
          await pause();
          continue;
        case 'unavailable':
          lastError = new KvError('unavailable', `${target}: ${res.detail}`);
          target = this.next(target);
          await pause();
          continue;
      }
    }

    if (this.closed) lastError = new KvError('closed', 'the client was closed');
    const what = `${op.op} of ${JSON.stringify(op.key)}`;
    lastError ??= new KvError('timeout', `${what}: no attempt within ${this.timeoutMs} ms`);
    if (write && maybeApplied) throw this.unknown(op, lastError);
    if (onlyUnreachable && lastError.code === 'unreachable') {
      throw new KvError('unreachable', `no node reachable (tried ${unreachable.join(', ')})`);
    }
    throw new KvError(
      lastError.code,
      `${what} failed after ${attempts} attempt(s): ${lastError.message}`,
      lastError.leaderId,
    );
  }

  /** close ends every connection; operations still running fail (writes: outcome unknown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.ready.values()]) c.close();
    this.ready.clear();
    const dialing = [...this.dialing.values()];
    this.dialing.clear();
    await Promise.allSettled(dialing);
  }

  private unknown(op: KvOperation, cause: KvError): UnknownOutcomeError {
    return new UnknownOutcomeError(op.op as 'put' | 'del' | 'cas', op.key, cause);
  }

  private requestBody(op: KvOperation): Record<string, unknown> {
    switch (op.op) {
      case 'get':
        return { op: 'get', key: op.key };
      case 'put':
        return { ...this.session(), op: 'put', key: op.key, value: toBytes(op.value) };
      case 'del':
        return { ...this.session(), op: 'del', key: op.key };
      case 'cas':
        return {
          ...this.session(),
          op: 'cas',
          key: op.key,
          value: toBytes(op.value),
          ...(op.expected === null ? {} : { expected: toBytes(op.expected) }),
        };
    }
  }

  private session(): { clientId: string; seq: number } {
    return { clientId: this.clientId, seq: this.seq++ };
  }

  private resultOf(op: KvOperation, res: ResponseBody & { ok: true }): unknown {
    switch (op.op) {
      case 'get':
        return res.value;
      case 'cas':
        return { ok: true };
      default:
        return { prev: res.prev };
    }
  }

  /** next is the endpoint to try after `target` (round robin; a redirect address is not listed). */
  private next(target: string): string {
    const i = this.endpoints.indexOf(target);
    if (this.preferred === target) this.preferred = undefined;
    if (i >= 0) return this.endpoints[(i + 1) % this.endpoints.length];
    return this.endpoints[this.rotation++ % this.endpoints.length];
  }

  /** attempt sends one request to `address`, connecting first if needed. */
  private async attempt(
    address: string,
    body: Record<string, unknown>,
    remaining: number,
  ): Promise<Outcome> {
    let conn: Connection;
    try {
      conn = await this.connection(address, remaining);
    } catch (e) {
      return { kind: 'unreachable', reason: (e as Error).message };
    }
    if (this.closed) return { kind: 'unreachable', reason: 'the client was closed' };
    return conn.request(body, Math.min(this.attemptTimeoutMs, remaining));
  }

  /** connection returns the open connection to `address`, dialing one if there is none. */
  private connection(address: string, remaining: number): Promise<Connection> {
    const open = this.ready.get(address);
    if (open !== undefined && open.open) return Promise.resolve(open);
    const dialing = this.dialing.get(address);
    if (dialing !== undefined) return dialing;
    const p = dial(address, Math.min(this.connectTimeoutMs, remaining)).then(
      (socket) => {
        this.dialing.delete(address);
        const c = new Connection(address, socket, (gone) => {
          if (this.ready.get(address) === gone) this.ready.delete(address);
        });
        if (this.closed) c.close();
        else this.ready.set(address, c);
        return c;
      },
      (e: Error) => {
        this.dialing.delete(address);
        throw e;
      },
    );
    this.dialing.set(address, p);
    return p;
  }
}
