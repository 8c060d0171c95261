/**
 * etcd-kv: a KvSession over etcd's KV API (through the `etcd3` library's raw gRPC calls), with
 * the same contract as raftdeck's own KvClient: a definite failure is a KvError, a write that may
 * have taken effect without an answer is an UnknownOutcomeError, never a plain failure.
 *
 * put: Put with prev_kv; get: a linearizable Range; del: DeleteRange with prev_kv; cas: one Txn:
 * compare (expected null: createRevision == 0, i.e. absent; else value == expected), success:
 * the Put, failure: a Range of the key, whose value is the current one reported.
 *
 * Each member has its own client, so every call goes to one known endpoint. An operation tries
 * the endpoints in turn from the one that answered last: it moves on when a call was refused
 * before anything was sent (no connection could be made, TLS failed) or etcd answered that it did
 * not take the request (no leader, too many requests, not started); a read also moves on after
 * any other error. A write is never sent again once it may have reached the cluster: a deadline,
 * a connection lost after sending, or etcd's "leader changed" / "request timed out" answers end
 * it as unknown. All of it within the operation's deadline (timeoutMs).
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import type { KvSession } from '../engine';
import {
  KvError,
  UnknownOutcomeError,
  type CasResult,
  type KvErrorCode,
  type KvExecution,
  type KvOperation,
  type KvResultOf,
  type KvValue,
} from '../../node/client';
import { hostOf, openEtcdClient, type EtcdAuth, type EtcdTls } from './etcd-client';

/** EtcdKvSessionOptions: the members' client URLs and how to reach them. */
export interface EtcdKvSessionOptions {
  /** endpoints: full client URLs (http:// or https://) of the members. */
  endpoints: string[];
  tls?: EtcdTls;
  auth?: EtcdAuth;
  /** clientId: names the session (etcd has no client sessions; kept for the history). */
  clientId: string;
  /** timeoutMs: the deadline of one operation, every attempt included. */
  timeoutMs: number;
  /** via: talk to this endpoint only (one of `endpoints`, as a URL or "host:port"). */
  via?: string;
}

/**
 * Failure: how one call ended badly. `sent`: the request may have reached the cluster (for a
 * write: its outcome is unknown); `refused`: etcd said it did not take it (safe to try another
 * member); `code`: the KvError code when it is final.
 */
interface Failure {
  sent: boolean;
  refused: boolean;
  code: KvErrorCode;
  message: string;
}

/**
 * classify sorts an error of one gRPC call. Connection failures before a request went out show as
 * UNAVAILABLE "No connection established" (refused, TLS handshake failed) or as a deadline hit
 * while the call still waited for a connection (no "remote_addr" in grpc-js's message).
 */
export function classify(e: unknown): Failure {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg = err.message;
  const name = err.constructor.name;
  const has = (s: string): boolean => msg.includes(s);
  if (name === 'ClientClosedError')
    return { sent: false, refused: true, code: 'closed', message: msg };
  if (has('No connection established') || has('ECONNREFUSED') || has('connect ENOENT')) {
    return { sent: false, refused: true, code: 'unreachable', message: msg };
  }
  if (
    name === 'GRPCDeadlineExceededError' ||
    has('DEADLINE_EXCEEDED') ||
    has('Deadline exceeded')
  ) {
    const waitedForConnection = !has('remote_addr') && (has('LB pick') || has('waiting for'));
    return waitedForConnection
      ? { sent: false, refused: true, code: 'unreachable', message: msg }
      : { sent: true, refused: false, code: 'timeout', message: msg };
  }
  // etcd's answers that it did not take the request.
  for (const s of [
    'etcdserver: no leader',
    'etcdserver: too many requests',
    'etcdserver: not capable',
    'etcdserver: server stopped',
    'etcdserver: not started',
    'etcdserver: unhealthy cluster',
    'etcdserver: mvcc: database space exceeded',
    'etcdserver: corrupt cluster',
    // A member that knows no leader drops the proposal before it enters any log.
    'raft proposal dropped',
    // A learner serves only Status and serializable reads.
    'rpc not supported for learner',
  ]) {
    if (has(s)) return { sent: false, refused: true, code: 'unavailable', message: msg };
  }
  for (const s of [
    'etcdserver: request is too large',
    'etcdserver: key is not provided',
    'etcdserver: permission denied',
    'etcdserver: user name or password',
    'etcdserver: authentication failed',
    'INVALID_ARGUMENT',
    'PERMISSION_DENIED',
    'UNAUTHENTICATED',
  ]) {
    if (has(s)) return { sent: false, refused: false, code: 'bad-request', message: msg };
  }
  // Everything else may have happened after the request went out: "leader changed", "request
  // timed out" (possibly due to previous leader failure / connection lost), a connection dropped
  // or reset mid-call, an internal error.
  return { sent: true, refused: false, code: 'unavailable', message: msg };
}

const encoder = new TextEncoder();
const toBuffer = (v: KvValue): Buffer =>
  typeof v === 'string' ? Buffer.from(encoder.encode(v)) : Buffer.from(v);
const valueOf = (kv: IKeyValue | null | undefined): Uint8Array | null =>
  kv ? new Uint8Array(kv.value ?? Buffer.alloc(0)) : null;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** EtcdKvSession: see the top of this file. Close it when done (it holds gRPC channels). */
export class EtcdKvSession implements KvSession {
  readonly clientId: string;
  /** lastServedBy: "host:port" of the member that answered the latest successful operation. */
  lastServedBy: string | undefined;
  private readonly endpoints: string[];
  private readonly clients = new Map<string, Etcd3>();
  private preferred = 0;
  private closed = false;

  constructor(private readonly options: EtcdKvSessionOptions) {
    if (options.endpoints.length === 0)
      throw new TypeError('an etcd session needs at least one endpoint');
    this.clientId = options.clientId;
    if (options.via !== undefined) {
      const pinned = options.endpoints.find((e) => e === options.via || hostOf(e) === options.via);
      if (pinned === undefined) {
        throw new TypeError(
          `etcd endpoint ${options.via} is not one of ${options.endpoints.join(', ')}`,
        );
      }
      this.endpoints = [pinned];
    } else {
      this.endpoints = [...options.endpoints];
    }
    // Fail now on a malformed endpoint list rather than on the first operation.
    openEtcdClient({
      endpoints: this.endpoints,
      ...(options.tls ? { tls: options.tls } : {}),
      dialTimeoutMs: options.timeoutMs,
    }).close();
  }

  async put(key: string, value: KvValue): Promise<{ prev: Uint8Array | null }> {
    return (await this.execute({ op: 'put', key, value })).result;
  }

  async get(key: string): Promise<Uint8Array | null> {
    return (await this.execute({ op: 'get', key })).result;
  }

  async del(key: string): Promise<{ prev: Uint8Array | null }> {
    return (await this.execute({ op: 'del', key })).result;
  }

  async cas(key: string, expected: KvValue | null, value: KvValue): Promise<CasResult> {
    return (await this.execute({ op: 'cas', key, expected, value })).result;
  }

  /**
   * execute runs one operation (see the top of this file for where it goes and when it gives
   * up). Rejects with KvError, or UnknownOutcomeError for a write that may have taken effect.
   */
  async execute<O extends KvOperation>(op: O): Promise<KvExecution<KvResultOf<O>>> {
    if (this.closed) throw new KvError('closed', 'the session is closed');
    const write = op.op !== 'get';
    const deadline = Date.now() + this.options.timeoutMs;
    const what = `${op.op} of ${JSON.stringify(op.key)}`;
    let i = this.preferred;
    let attempts = 0;
    let last: Failure | undefined;
    const tried = new Set<string>();
    let sinceRound = 0;
    while (!this.closed && Date.now() < deadline) {
      const endpoint = this.endpoints[i % this.endpoints.length]!;
      attempts += 1;
      tried.add(hostOf(endpoint));
      try {
        const result = await this.call(endpoint, op, deadline);
        this.preferred = i % this.endpoints.length;
        this.lastServedBy = hostOf(endpoint);
        return { result: result as KvResultOf<O>, servedBy: hostOf(endpoint), attempts };
      } catch (e) {
        const f = classify(e);
        last = { ...f, message: `${hostOf(endpoint)}: ${f.message}` };
        if (write && f.sent) throw this.unknown(op, new KvError(f.code, last.message));
        if (!f.refused && !f.sent) break;
      }
      i += 1;
      sinceRound += 1;
      if (sinceRound >= this.endpoints.length) {
        // Every member refused once: wait a little before the next round (a leader is elected
        // within an election timeout; a restarted member listens within a second).
        sinceRound = 0;
        await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
      }
    }
    if (this.closed) throw new KvError('closed', `${what}: the session was closed`);
    if (last === undefined)
      throw new KvError('timeout', `${what}: no attempt within ${this.options.timeoutMs} ms`);
    if (last.code === 'unreachable') {
      throw new KvError(
        'unreachable',
        `${what}: no member reachable (tried ${[...tried].join(', ')}): ${last.message}`,
      );
    }
    throw new KvError(last.code, `${what} failed after ${attempts} attempt(s): ${last.message}`);
  }

  /** close closes every member's client; an operation still running fails. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private unknown(op: KvOperation, cause: KvError): UnknownOutcomeError {
    return new UnknownOutcomeError(op.op as 'put' | 'del' | 'cas', op.key, cause);
  }

  private client(endpoint: string): Etcd3 {
    let c = this.clients.get(endpoint);
    if (c === undefined) {
      c = openEtcdClient({
        endpoints: [endpoint],
        ...(this.options.tls ? { tls: this.options.tls } : {}),
        ...(this.options.auth ? { auth: this.options.auth } : {}),
        dialTimeoutMs: this.options.timeoutMs,
      });
      this.clients.set(endpoint, c);
    }
    return c;
  }

  /** call makes one gRPC call of `op` on `endpoint` (rejects with the library's error). */
  private async call(endpoint: string, op: KvOperation, deadline: number): Promise<unknown> {
    const kv = this.client(endpoint).kv;
    const opts = { deadline };
    const key = toBuffer(op.key);
    switch (op.op) {
      case 'get': {
        const r = await kv.range({ key, serializable: false }, opts);
        return valueOf(r.kvs[0]);
      }
      case 'put': {
        const r = await kv.put({ key, value: toBuffer(op.value), prev_kv: true }, opts);
        return { prev: valueOf(r.prev_kv) };
      }
      case 'del': {
        const r = await kv.deleteRange({ key, prev_kv: true }, opts);
        return { prev: valueOf(r.prev_kvs[0]) };
      }
      case 'cas': {
        const compare =
          op.expected === null
            ? { key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }
            : {
                key,
                target: 'Value' as const,
                result: 'Equal' as const,
                value: toBuffer(op.expected),
              };
        const r = await kv.txn(
          {
            compare: [compare],
            success: [{ request_put: { key, value: toBuffer(op.value) } }],
            failure: [{ request_range: { key } }],
          },
          opts,
        );
        if (r.succeeded) return { ok: true } satisfies CasResult;
        const range = r.responses[0]?.response_range;
        return { ok: false, current: valueOf(range?.kvs[0]) } satisfies CasResult;
      }
    }
  }
}
