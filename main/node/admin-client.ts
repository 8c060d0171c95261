/**
 * admin-client is the supervisor's side of the admin protocol (docs/protocol.md, "Admin
 * protocol"): connect with the node's admin token, call ops, and receive status, event, log
 * and message pushes. Every failure is an AdminError whose message names the address, e.g.
 * "admin 127.0.0.1:9101: connection refused".
 */
import type { NodeId } from '../raft/types';
import type { AdminErrorCode as ServerErrorCode, SubscribeOptions } from './admin-server';
import type {
  ChangeOutcome,
  MemberAddress,
  NodeEvent,
  NodeStatus,
  Pace,
  PaceChange,
} from './node-api';
import type { LogReadResult } from './log-inspect';
import type { PutStamps } from './put-timeline';
import type { FaultRule } from './transport/fault-filter';
import type { SampledTraces, TraceQuery, TraceRead } from './transport/message-trace';
import { FrameConnection, WireFormat, dial, describeSocketError, isRecord, isUint } from './wire';

/** AdminErrorCode: the server's codes, plus what can go wrong on the way. */
export type AdminErrorCode =
  | ServerErrorCode
  | 'unreachable'
  | 'unauthorized'
  | 'unavailable'
  | 'timeout'
  | 'closed'
  | 'protocol';

const SERVER_CODES: ReadonlySet<string> = new Set<ServerErrorCode>([
  'not-leader',
  'bad-request',
  'unknown-outcome',
  'failed',
]);

/** AdminError: a connection or a call failed; `code` says how, `detail` says why. */
export class AdminError extends Error {
  constructor(
    readonly address: string,
    readonly code: AdminErrorCode,
    readonly detail: string,
    readonly op?: string,
    readonly leaderId?: number,
    readonly leaderAddress?: string,
  ) {
    super(
      code === 'unauthorized'
        ? `admin ${address}: unauthorized (${detail})`
        : `admin ${address}: ${op === undefined ? '' : `${op}: `}${SERVER_CODES.has(code) ? `${code}: ` : ''}${detail}`,
    );
    this.name = 'AdminError';
  }
}

/**
 * LogEntriesArgs: the arguments of `log-entries`: `from` (with `count`, and `key` to search) or
 * `indexes`; `maxBytes` bounds the payload bytes decoded.
 */
export type LogEntriesArgs =
  | { from: number; count?: number; maxBytes?: number; key?: string }
  | { indexes: number[]; maxBytes?: number };

/** AdminOps: each op's arguments and result. */
export interface AdminOps {
  status: { args: Record<string, never>; result: NodeStatus };
  subscribe: { args: Partial<SubscribeOptions>; result: SubscribeOptions };
  unsubscribe: { args: Record<string, never>; result: Record<string, never> };
  'add-learner': {
    args: { nodeId: NodeId; peerAddress: string; clientAddress: string };
    result: ChangeOutcome;
  };
  promote: { args: { nodeId: NodeId }; result: ChangeOutcome };
  remove: { args: { nodeId: NodeId }; result: ChangeOutcome };
  'transfer-leader': { args: { nodeId: NodeId }; result: ChangeOutcome };
  snapshot: { args: Record<string, never>; result: { index: number; bytes: number } };
  'set-faults': { args: { rules: FaultRule[] }; result: Record<string, never> };
  'clear-faults': { args: Record<string, never>; result: Record<string, never> };
  'set-fsync-delay': { args: { ms: number }; result: Record<string, never> };
  'set-pace': { args: Pace; result: PaceChange };
  messages: { args: TraceQuery; result: TraceRead };
  'log-entries': { args: LogEntriesArgs; result: LogReadResult };
  timeline: {
    args: { from?: number; limit?: number };
    result: { size: number; stamps: PutStamps[] };
  };
  shutdown: { args: { reason?: string }; result: Record<string, never> };
}

export type AdminOpName = keyof AdminOps;

/** AdminPushHandlers receive what a subscription pushes. */
export interface AdminPushHandlers {
  status?(status: NodeStatus): void;
  event?(event: NodeEvent): void;
  log?(line: Record<string, unknown>): void;
  /**
   * messages: a batch of sampled headers of messages the node sent (oldest first), and per link
   * ("from-to") how many were left out since the previous batch.
   */
  messages?(batch: SampledTraces): void;
  /** overflow: the subscriber was too slow and `dropped` events or log lines were lost. */
  overflow?(dropped: number): void;
  /** closed: the connection ended; nothing more will be pushed. */
  closed?(error: AdminError): void;
}

export interface AdminClientOptions {
  /** connectTimeoutMs bounds connecting and authenticating together (default 3000). */
  connectTimeoutMs?: number;
  /** callTimeoutMs: how long a call waits for its answer by default (default 30000). */
  callTimeoutMs?: number;
}

/** The server is the node the supervisor started; its frames are bounded, not guarded. */
const RESPONSE_FORMAT = new WireFormat(64 * 1024 * 1024, undefined, {
  maxStrLength: 1024 * 1024,
  maxBinLength: 64 * 1024 * 1024,
  maxArrayLength: 1 << 20,
  maxMapLength: 1 << 20,
});

interface Waiter {
  op: string;
  done(err: AdminError | undefined, result?: unknown): void;
}

/**
 * AdminClient is one authenticated admin connection. Calls are pipelined and matched by id; one
 * subscription per connection (subscribing again changes it).
 */
export class AdminClient {
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private handlers: AdminPushHandlers = {};
  private closeReason: AdminError | undefined;
  private readonly closedPromise: Promise<void>;
  private onClosed!: () => void;

  private constructor(
    readonly address: string,
    /** nodeId: the node that accepted the token. */
    readonly nodeId: NodeId,
    private readonly fc: FrameConnection,
    private readonly callTimeoutMs: number,
  ) {
    this.closedPromise = new Promise((r) => (this.onClosed = r));
  }

  /** connect opens a connection to "host:port" and authenticates with `token`. */
  static async connect(
    address: string,
    token: string,
    options: AdminClientOptions = {},
  ): Promise<AdminClient> {
    const timeoutMs = options.connectTimeoutMs ?? 3000;
    const started = Date.now();
    let socket;
    try {
      socket = await dial(address, timeoutMs);
    } catch (e) {
      throw new AdminError(address, 'unreachable', (e as Error).message);
    }
    return new Promise<AdminClient>((resolve, reject) => {
      let client: AdminClient | undefined;
      let settled = false;
      let serverSaid: AdminError | undefined;
      const settle = (err: AdminError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) {
          resolve(client!);
        } else {
          fc.destroy();
          reject(err);
        }
      };
      const timer = setTimeout(
        () =>
          settle(
            new AdminError(address, 'timeout', `no answer to the token within ${timeoutMs} ms`),
          ),
        Math.max(1, timeoutMs - (Date.now() - started)),
      );
      const fc: FrameConnection = new FrameConnection(socket, RESPONSE_FORMAT, {
        message: (v) => {
          if (client !== undefined) {
            client.onMessage(v);
            return;
          }
          if (isRecord(v) && v.ok === true && isUint(v.node)) {
            client = new AdminClient(address, v.node, fc, options.callTimeoutMs ?? 30_000);
            settle(undefined);
            return;
          }
          const code =
            isRecord(v) && (v.error === 'unauthorized' || v.error === 'unavailable')
              ? v.error
              : 'protocol';
          const detail =
            isRecord(v) && typeof v.detail === 'string'
              ? v.detail
              : 'unexpected answer to the token';
          serverSaid = new AdminError(address, code, detail);
          settle(serverSaid);
        },
        malformed: (f) => {
          serverSaid = new AdminError(address, 'protocol', `unreadable frame: ${f.reason}`);
          return undefined;
        },
        close: (err) => {
          if (client !== undefined) client.onClose(err);
          else settle(serverSaid ?? new AdminError(address, 'closed', describeSocketError(err)));
        },
      });
      fc.send({ token });
    });
  }

  /** closed: the connection has ended. */
  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /**
   * call sends one request and resolves with its result. Rejects with AdminError: the server's
   * code (not-leader, bad-request, unknown-outcome, failed), or timeout / closed.
   */
  call<K extends AdminOpName>(
    op: K,
    args: AdminOps[K]['args'],
    options: { timeoutMs?: number } = {},
  ): Promise<AdminOps[K]['result']> {
    if (this.closeReason !== undefined) {
      return Promise.reject(new AdminError(this.address, 'closed', this.closeReason.detail, op));
    }
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.callTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new AdminError(this.address, 'timeout', `no answer within ${timeoutMs} ms`, op));
      }, timeoutMs);
      this.waiting.set(id, {
        op,
        done: (err, result) => {
          clearTimeout(timer);
          this.waiting.delete(id);
          if (err !== undefined) reject(err);
          else resolve(result as AdminOps[K]['result']);
        },
      });
      this.fc.send({ ...args, id, op });
    });
  }

  /**
   * subscribe asks for pushes and routes them to `handlers` (replacing earlier handlers). Events
   * are first replayed (the node's latest 200), then follow live; status comes at up to `hz` while
   * it changes and at least once a second; with `messages`, samples of the messages the node
   * sends come at most every 50 ms, `messagesPerLinkHz` per link and message type per second.
   */
  subscribe(
    options: Partial<SubscribeOptions>,
    handlers: AdminPushHandlers,
  ): Promise<SubscribeOptions> {
    this.handlers = handlers;
    return this.call('subscribe', options);
  }

  /** unsubscribe stops every push. */
  async unsubscribe(): Promise<void> {
    await this.call('unsubscribe', {});
    this.handlers = {};
  }

  status(): Promise<NodeStatus> {
    return this.call('status', {});
  }

  addLearner(nodeId: NodeId, address: MemberAddress): Promise<ChangeOutcome> {
    return this.call('add-learner', {
      nodeId,
      peerAddress: address.peer,
      clientAddress: address.client,
    });
  }

  promote(nodeId: NodeId): Promise<ChangeOutcome> {
    return this.call('promote', { nodeId });
  }

  remove(nodeId: NodeId): Promise<ChangeOutcome> {
    return this.call('remove', { nodeId });
  }

  transferLeader(nodeId: NodeId): Promise<ChangeOutcome> {
    return this.call('transfer-leader', { nodeId });
  }

  snapshot(): Promise<{ index: number; bytes: number }> {
    return this.call('snapshot', {});
  }

  async setFaults(rules: FaultRule[]): Promise<void> {
    await this.call('set-faults', { rules });
  }

  async clearFaults(): Promise<void> {
    await this.call('clear-faults', {});
  }

  async setFsyncDelay(ms: number): Promise<void> {
    await this.call('set-fsync-delay', { ms });
  }

  /** setPace sets the node's demo pace and fast failover; the result says what was before. */
  setPace(p: Pace): Promise<PaceChange> {
    return this.call('set-pace', { pace: p.pace, fastFailover: p.fastFailover });
  }

  /** logEntries reads entries of the node's log, decoded (op `log-entries`). */
  logEntries(args: LogEntriesArgs): Promise<LogReadResult> {
    return this.call('log-entries', args);
  }

  /** messages reads the node's ring of recent message headers, oldest first. */
  messages(q: TraceQuery = {}): Promise<TraceRead> {
    return this.call('messages', q);
  }

  /** shutdown asks the node to stop; it answers first, then shuts down and closes connections. */
  async shutdown(reason?: string): Promise<void> {
    await this.call('shutdown', reason === undefined ? {} : { reason });
  }

  /** close ends the connection; calls still waiting reject with code `closed`. */
  close(): Promise<void> {
    if (this.closeReason === undefined) this.fc.destroy();
    return this.closedPromise;
  }

  private onMessage(v: unknown): void {
    if (!isRecord(v)) return;
    if (typeof v.push === 'string') {
      this.onPush(v);
      return;
    }
    if (!isUint(v.id)) {
      // A connection-level error; the server closes the connection after it.
      if (typeof v.detail === 'string') {
        this.closeReason = new AdminError(this.address, 'protocol', v.detail);
      }
      return;
    }
    const w = this.waiting.get(v.id);
    if (w === undefined) return;
    if (v.ok === true) {
      w.done(undefined, v.result);
      return;
    }
    const code =
      typeof v.error === 'string' && SERVER_CODES.has(v.error)
        ? (v.error as ServerErrorCode)
        : 'protocol';
    const detail = typeof v.detail === 'string' ? v.detail : String(v.error);
    w.done(
      new AdminError(
        this.address,
        code,
        detail,
        w.op,
        isUint(v.leaderId) ? v.leaderId : undefined,
        typeof v.leaderAddress === 'string' ? v.leaderAddress : undefined,
      ),
    );
  }

  private onPush(v: Record<string, unknown>): void {
    const h = this.handlers;
    try {
      switch (v.push) {
        case 'status':
          h.status?.(v.status as NodeStatus);
          break;
        case 'event':
          h.event?.(v.event as NodeEvent);
          break;
        case 'log':
          h.log?.(v.line as Record<string, unknown>);
          break;
        case 'messages':
          h.messages?.({
            traces: Array.isArray(v.traces) ? (v.traces as SampledTraces['traces']) : [],
            skipped: isRecord(v.skipped) ? (v.skipped as Record<string, number>) : {},
          });
          break;
        case 'overflow':
          h.overflow?.(typeof v.dropped === 'number' ? v.dropped : 0);
          break;
      }
    } catch {
      // A handler's failure is the handler's business; the connection carries on.
    }
  }

  private onClose(err: Error | undefined): void {
    const reason =
      this.closeReason ?? new AdminError(this.address, 'closed', describeSocketError(err));
    this.closeReason = reason;
    for (const w of [...this.waiting.values()]) {
      w.done(new AdminError(this.address, 'closed', reason.detail, w.op));
    }
    this.waiting.clear();
    try {
      this.handlers.closed?.(reason);
    } catch {
      // as above
    }
    this.onClosed();
  }
}
