/**
 * transport moves Raft messages between nodes. TcpTransport keeps one TCP connection per directed
 * peer pair: this node dials every peer it sends to, and connections peers dial to it only carry
 * their messages in. Every connection starts with a handshake in which both sides prove that they
 * know the cluster's peer secret. The wire format is in docs/protocol.md ("Node to node protocol").
 *
 * Ordering: messages passed to send() for one peer leave in the order given (unless the fault
 * filter delays some with jitter), and each connection delivers in order. Nothing is delivered
 * twice; anything may be lost (queue overflow, reconnects, faults), which Raft tolerates.
 *
 * Telemetry: counters per peer and per message type (stats()), and a ring of the latest message
 * headers, sent and received, with what became of each (`traces`, message-trace.ts). At a pace
 * above 1 (setPace) every message sent is held MESSAGE_FLIGHT_MS × pace before it is written.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Message, NodeId } from '../../raft/types';
import { MESSAGE_TYPE_CODES, MessageCodec } from './codec';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  outFrameBytes,
  type OutFrame,
} from './framing';
import { FaultFilter } from './fault-filter';
import { DEFAULT_TRACE_CAPACITY, FATE, IN, OUT, TraceRing } from './message-trace';
import { isPace, paceHoldMs } from './pace';
import { InboundConnection } from './inbound-connection';
import type { LinkContext, LinkSettings, TransportLogger } from './link-context';
import { OutboundLink, type PeerAddress } from './outbound-link';
import { DEFAULT_QUEUE_LIMITS, type QueueLimits } from './outbound-queue';
import { DEFAULT_FRAME_BUDGET_BYTES, FrameBudget } from './frame-budget';
import { PEER_SECRET_BYTES } from './peer-auth';
import {
  CounterTable,
  TC,
  type PeerPortLimits,
  type PeerPortStats,
  type PeerStats,
  type TransportStats,
} from './stats';

export type { LogLevel, TransportLogger } from './link-context';
export type {
  PeerPortLimits,
  PeerPortStats,
  PeerStats,
  TransportCounters,
  TransportStats,
  TypeCounters,
} from './stats';

/** MessageHandler receives every valid inbound message, one at a time, in arrival order. */
export type MessageHandler = (m: Message) => void;

/** PeerAddresses maps a node id to "host:port" (a Record is keyed by the id in decimal). */
export type PeerAddresses = ReadonlyMap<NodeId, string> | Readonly<Record<string, string>>;

/** Transport sends and receives Raft messages for one node. */
export interface Transport {
  /**
   * send queues messages for their `to` peers; it never blocks and never throws for I/O. They are
   * written at the end of the current tick, in one batch per peer.
   */
  send(msgs: readonly Message[]): void;
  /** flush writes what send() queued now, before a long synchronous step would hold it back. */
  flush(): void;
  /** onMessage sets the handler for inbound messages (replacing any earlier one). */
  onMessage(handler: MessageHandler): void;
  /**
   * onPeerGone sets the handler told when a peer's process is known to be gone: its port refused
   * a connection (nothing listens there). A transport that cannot tell never calls it.
   */
  onPeerGone?(handler: (peer: NodeId) => void): void;
  /**
   * setPace makes the transport hold every message it sends MESSAGE_FLIGHT_MS × pace before
   * writing it (not at all at pace 1). A transport without a pace leaves it out.
   */
  setPace?(pace: number): void;
  /** traces: the ring of the latest message headers, if the transport keeps one. */
  readonly traces?: TraceRing;
  /** setPeers sets where every peer listens; peers no longer listed are disconnected. */
  setPeers(peers: PeerAddresses): void;
  /** listen starts accepting connections and resolves with the bound address. */
  listen(): Promise<PeerAddress>;
  /** close stops everything and resolves when every socket and the server are closed. */
  close(): Promise<void>;
  stats(): TransportStats;
}

export interface TcpTransportOptions {
  id: NodeId;
  clusterId: string;
  /** secret: the cluster's peer secret (PEER_SECRET_BYTES bytes); both sides prove they know it. */
  secret: Uint8Array;
  /** host to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** port to listen on; 0 picks a free one. */
  port?: number;
  maxFrameBytes?: number;
  maxEntries?: number;
  /** queue bounds each peer's outbound queue. */
  queue?: Partial<QueueLimits>;
  /** handshakeTimeoutMs: from accept (or connect) to an authenticated connection. */
  handshakeTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** maxMalformed bad messages within malformedWindowMs are tolerated; one more disconnects. */
  maxMalformed?: number;
  malformedWindowMs?: number;
  /** writeHighWaterBytes: stop writing to a socket holding this much until it drains. */
  writeHighWaterBytes?: number;
  /** maxInboundConnections: accepted connections open at once; beyond it new ones are closed. */
  maxInboundConnections?: number;
  /** maxPendingHandshakes: unauthenticated accepted connections; beyond it the oldest is closed. */
  maxPendingHandshakes?: number;
  /**
   * frameBudget: the process's budget for bytes of incomplete frames, shared with its other
   * ports; a budget of DEFAULT_FRAME_BUDGET_BYTES for this transport alone if not given.
   */
  frameBudget?: FrameBudget;
  /** rng jitters the reconnect backoff. */
  rng?: () => number;
  /** faults: the fault filter to apply (a new, empty one by default). */
  faults?: FaultFilter;
  /** traceCapacity: message headers kept in `traces` (default DEFAULT_TRACE_CAPACITY). */
  traceCapacity?: number;
  /** pace: the demo pace to start at (default 1; see setPace). */
  pace?: number;
  log?: TransportLogger;
}

/**
 * DEFAULT_PEER_PORT_LIMITS: the peer port's bounds unless told otherwise (docs/protocol.md,
 * "Limits of the peer port"). A real peer authenticates within milliseconds and keeps one
 * connection, so these leave ample room for a cluster while a local process that opens sockets
 * by the thousand, or sends half frames, runs into them.
 */
export const DEFAULT_PEER_PORT_LIMITS: Readonly<PeerPortLimits> = {
  maxInboundConnections: 256,
  maxPendingHandshakes: 64,
  handshakeTimeoutMs: 2000,
  partialFrameBudgetBytes: DEFAULT_FRAME_BUDGET_BYTES,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
};

/** idlePeerPortStats: the peer port's stats with nothing connected and the default limits. */
export function idlePeerPortStats(): PeerPortStats {
  return {
    connections: 0,
    pendingHandshakes: 0,
    authenticated: 0,
    partialFrameBytes: 0,
    limits: { ...DEFAULT_PEER_PORT_LIMITS },
  };
}

const DEFAULT_SETTINGS: LinkSettings = {
  maxFrameBytes: DEFAULT_PEER_PORT_LIMITS.maxFrameBytes,
  handshakeTimeoutMs: DEFAULT_PEER_PORT_LIMITS.handshakeTimeoutMs,
  backoffMinMs: 50,
  backoffMaxMs: 2000,
  maxMalformed: 10,
  malformedWindowMs: 10_000,
  writeHighWaterBytes: 4 * 1024 * 1024,
};

/** PortInUseError: listen() found its port taken. */
export class PortInUseError extends Error {
  constructor(host: string, port: number) {
    super(`port ${formatHostPort(host, port)} is already in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * listenServer binds `server` to host:port (port 0: any free one) and resolves with the bound
 * address. A taken port rejects with PortInUseError; if `isClosed()` has become true by the time
 * the bind completes, the server is closed again and the promise rejects with `closedMessage`.
 * `onFail` runs before either rejection; errors after a successful bind go to `onLateError`.
 */
export function listenServer(
  server: Server,
  host: string,
  port: number,
  o: {
    isClosed: () => boolean;
    closedMessage: string;
    onFail: () => void;
    onLateError: (err: Error) => void;
  },
): Promise<PeerAddress> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      server.close();
      o.onFail();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      fail(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      server.on('error', o.onLateError);
      const bound = server.address();
      if (o.isClosed()) {
        fail(new Error(o.closedMessage));
        return;
      }
      resolve({ host, port: bound !== null && typeof bound === 'object' ? bound.port : port });
    });
  });
}

function positive(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${n}`);
  }
  return n;
}

function first<T>(set: Set<T>): T | undefined {
  for (const v of set) return v;
  return undefined;
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** parseAddress reads "host:port" or "[ipv6]:port". */
export function parseAddress(text: string): PeerAddress {
  const i = text.lastIndexOf(':');
  let host = i > 0 ? text.slice(0, i) : '';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portText = text.slice(i + 1);
  const port = Number(portText);
  if (host === '' || !/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new TypeError(`address must be "host:port", got ${JSON.stringify(text)}`);
  }
  return { host, port };
}

const stderrLogger: TransportLogger = (level, msg, fields) => {
  if (level === 'warn' || level === 'error') {
    process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
  }
};

/** TcpTransport is the Transport between node processes: msgpack frames over TCP. */
export class TcpTransport implements Transport {
  readonly id: NodeId;
  /** faults: the fault filter on this node's links; change its rules at any time. */
  readonly faults: FaultFilter;
  /** traces: the latest message headers this transport sent or received. */
  readonly traces: TraceRing;
  private readonly host: string;
  private port: number;
  private readonly ctx: LinkContext;
  private readonly queueLimits: QueueLimits;
  private readonly maxInboundConnections: number;
  private readonly maxPendingHandshakes: number;
  private readonly budget: FrameBudget;
  private readonly links = new Map<NodeId, OutboundLink>();
  /** inbound: every accepted connection still open. */
  private readonly inbound = new Set<InboundConnection>();
  /** pending: accepted connections whose handshake runs, oldest first. */
  private readonly pending = new Set<InboundConnection>();
  /** silent: the pending connections that have not sent an acceptable hello yet, oldest first. */
  private readonly silent = new Set<InboundConnection>();
  /** refusedConns: refused connections flushing their error frame, oldest first. */
  private readonly refusedConns = new Set<InboundConnection>();
  private readonly inboundByPeer = new Map<NodeId, InboundConnection>();
  private readonly counters = new CounterTable();
  private server: Server | undefined;
  private handler: MessageHandler | undefined;
  private goneHandler: ((peer: NodeId) => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private pace = 1;
  /** sending: send() is running; sendTime: its clock reading (ms since the epoch). */
  private sending = false;
  private sendTime = 0;
  private readonly sendNow = (m: Message, heldMs: number): void => this.enqueue(m, heldMs);
  private readonly receiveNow = (m: Message): void => this.dispatch(m);

  constructor(options: TcpTransportOptions) {
    if (!Number.isSafeInteger(options.id) || options.id <= 0) {
      throw new TypeError(`node id must be a positive integer, got ${options.id}`);
    }
    if (typeof options.clusterId !== 'string' || options.clusterId === '') {
      throw new TypeError('clusterId must be a non-empty string');
    }
    if (!(options.secret instanceof Uint8Array) || options.secret.length !== PEER_SECRET_BYTES) {
      throw new TypeError(`the peer secret must be ${PEER_SECRET_BYTES} bytes`);
    }
    this.id = options.id;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.queueLimits = { ...DEFAULT_QUEUE_LIMITS, ...options.queue };
    this.maxInboundConnections = positive(
      'maxInboundConnections',
      options.maxInboundConnections ?? DEFAULT_PEER_PORT_LIMITS.maxInboundConnections,
    );
    this.maxPendingHandshakes = positive(
      'maxPendingHandshakes',
      options.maxPendingHandshakes ?? DEFAULT_PEER_PORT_LIMITS.maxPendingHandshakes,
    );
    this.budget = options.frameBudget ?? new FrameBudget(DEFAULT_FRAME_BUDGET_BYTES);
    const maxFrame = options.maxFrameBytes ?? DEFAULT_SETTINGS.maxFrameBytes;
    if (!(this.budget.limitBytes >= maxFrame + FRAME_HEADER_BYTES)) {
      throw new TypeError(
        `the frame budget (${this.budget.limitBytes} bytes) must hold at least one whole frame of maxFrameBytes (${maxFrame}) and its header`,
      );
    }
    const settings: LinkSettings = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(settings) as (keyof LinkSettings)[]) {
      const v = options[key];
      if (v !== undefined) settings[key] = v;
    }
    const rng = options.rng ?? Math.random;
    this.faults = options.faults ?? new FaultFilter({ rng });
    this.traces = new TraceRing(options.traceCapacity ?? DEFAULT_TRACE_CAPACITY);
    this.ctx = {
      self: this.id,
      clusterId: options.clusterId,
      secret: Uint8Array.from(options.secret),
      settings,
      counters: this.counters,
      codec: new MessageCodec({
        maxFrameBytes: settings.maxFrameBytes,
        ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
      }),
      log: options.log ?? stderrLogger,
      rng,
      paceHoldMs: 0,
      deliver: (m, bytes, now) => this.receive(m, bytes, now),
      refused: (peer) => {
        if (!this.closed) this.goneHandler?.(peer);
      },
    };
    this.setPace(options.pace ?? 1);
  }

  /**
   * setPace sets the demo pace: at pace P > 1 every message sent is held MESSAGE_FLIGHT_MS × P
   * before it is written (pace.ts). Messages already held keep their release time. Throws
   * RangeError for a pace that is not an integer in [MIN_PACE, MAX_PACE].
   */
  setPace(pace: number): void {
    if (!isPace(pace)) throw new RangeError(`pace must be an integer in 1..100, got ${pace}`);
    this.pace = pace;
    this.ctx.paceHoldMs = paceHoldMs(pace);
  }

  /** currentPace: the pace set last. */
  get currentPace(): number {
    return this.pace;
  }

  /** address: where this transport listens (after listen()). */
  get address(): PeerAddress | undefined {
    return this.server ? { host: this.host, port: this.port } : undefined;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onPeerGone(handler: (peer: NodeId) => void): void {
    this.goneHandler = handler;
  }

  listen(): Promise<PeerAddress> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    if (this.server) return Promise.reject(new Error('transport is already listening'));
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return listenServer(server, this.host, this.port, {
      isClosed: () => this.closed,
      closedMessage: 'transport closed while starting to listen',
      onFail: () => {
        if (this.server === server) this.server = undefined;
      },
      onLateError: (err) => this.ctx.log('error', `server error: ${err.message}`),
    }).then((bound) => {
      this.port = bound.port;
      return bound;
    });
  }

  setPeers(peers: PeerAddresses): void {
    const wanted = new Map<NodeId, { text: string; address: PeerAddress }>();
    const entries: [NodeId | string, string][] =
      peers instanceof Map ? [...peers.entries()] : Object.entries(peers);
    for (const [key, text] of entries) {
      const id = Number(key);
      if (!Number.isSafeInteger(id) || id <= 0) {
        throw new TypeError(`peer id must be a positive integer, got ${String(key)}`);
      }
      if (id === this.id) continue;
      wanted.set(id, { text, address: parseAddress(text) });
    }
    if (this.closed) return;
    for (const [id, link] of this.links) {
      const w = wanted.get(id);
      if (w === undefined || w.text !== link.addressText) {
        link.close();
        this.links.delete(id);
      }
    }
    for (const [id, w] of wanted) {
      if (this.links.has(id)) continue;
      const link = new OutboundLink(id, w.address, w.text, this.ctx, this.queueLimits);
      this.links.set(id, link);
      link.start();
    }
  }

  send(msgs: readonly Message[]): void {
    // One clock reading for the batch: its messages are handed over together.
    const now = Date.now();
    this.sendTime = now;
    this.sending = true;
    try {
      for (let i = 0; i < msgs.length; i++) this.sendOne(msgs[i], now);
    } finally {
      this.sending = false;
    }
  }

  private sendOne(m: Message, now: number): void {
    if (this.closed) {
      this.counters.count('dropped', m.to);
      this.traces.record(OUT, FATE.dropped, m, 0, 0, now);
      return;
    }
    const verdict = this.faults.apply('send', m, this.sendNow);
    if (verdict === 'pass') return;
    const code = MESSAGE_TYPE_CODES[m.type];
    if (verdict === 'drop') {
      this.counters.count('faultDropped', m.to);
      this.counters.countType(m.to, code, TC.faultDropped);
      this.traces.record(OUT, FATE.dropped, m, 0, 0, now);
    } else {
      // Traced when released (enqueue), with how long it was held.
      this.counters.count('faultDelayed', m.to);
      this.counters.countType(m.to, code, TC.faultDelayed);
    }
  }

  flush(): void {
    for (const link of this.links.values()) link.flushNow();
  }

  /**
   * enqueue encodes a message that passed the send filter (after holding it `heldMs`) and queues
   * it on its link, and traces it: sent, delayed (by the filter or the pace; `time` is when it
   * was given to send(), `delayMs` the filter's hold plus the pace's) or dropped.
   */
  private enqueue(m: Message, heldMs: number): void {
    const now = this.sending ? this.sendTime : Date.now();
    if (this.closed) {
      this.counters.count('dropped', m.to);
      this.traces.record(OUT, FATE.dropped, m, heldMs, 0, now - heldMs);
      return;
    }
    const link = this.links.get(m.to);
    if (link === undefined) {
      this.traces.record(OUT, FATE.dropped, m, heldMs, 0, now - heldMs);
      this.counters.count('dropped', m.to === this.id ? undefined : m.to);
      this.ctx.log('debug', `dropped ${m.type} to node ${m.to}: no address for it`, {
        peer: m.to,
      });
      return;
    }
    let frame: OutFrame;
    try {
      frame = this.ctx.codec.encodeOutFrame(m);
    } catch (e) {
      this.counters.count('dropped', m.to);
      this.traces.record(OUT, FATE.dropped, m, heldMs, 0, now - heldMs);
      this.ctx.log('error', `cannot encode ${m.type} to node ${m.to}: ${(e as Error).message}`);
      return;
    }
    const bytes = outFrameBytes(frame);
    const body = bytes - FRAME_HEADER_BYTES;
    if (body > this.ctx.settings.maxFrameBytes) {
      this.counters.count('dropped', m.to);
      this.traces.record(OUT, FATE.dropped, m, heldMs, bytes, now - heldMs);
      this.ctx.log(
        'warn',
        `dropped ${m.type} to node ${m.to}: ${body} bytes exceed the frame limit`,
        { peer: m.to },
      );
      return;
    }
    const hold = link.enqueue(frame);
    if (hold < 0) {
      this.traces.record(OUT, FATE.dropped, m, heldMs, bytes, now - heldMs);
      return;
    }
    const code = MESSAGE_TYPE_CODES[m.type];
    this.counters.countTypeBytes(m.to, code, TC.sent, bytes);
    const delay = heldMs + hold;
    this.traces.record(OUT, delay > 0 ? FATE.delayed : FATE.sent, m, delay, bytes, now - heldMs);
  }

  /**
   * receive counts and traces an inbound message (its frame `bytes` long, read at `now`) and
   * passes it through the receive side of the fault filter.
   */
  private receive(m: Message, bytes: number, now: number): void {
    const code = MESSAGE_TYPE_CODES[m.type];
    this.counters.countTypeBytes(m.from, code, TC.received, bytes);
    const verdict = this.faults.apply('receive', m, this.receiveNow);
    if (verdict === 'pass') {
      this.traces.record(IN, FATE.received, m, 0, bytes, now);
    } else if (verdict === 'drop') {
      this.counters.count('faultDropped', m.from);
      this.counters.countType(m.from, code, TC.faultDropped);
      this.traces.record(IN, FATE.dropped, m, 0, bytes, now);
    } else {
      this.counters.count('faultDelayed', m.from);
      this.counters.countType(m.from, code, TC.faultDelayed);
      this.traces.record(IN, FATE.delayed, m, this.faults.lastDelayMs, bytes, now);
    }
  }

  private dispatch(m: Message): void {
    if (this.closed || this.handler === undefined) return;
    try {
      this.handler(m);
    } catch (e) {
      this.ctx.log('error', `message handler threw on ${m.type} from node ${m.from}: ${String(e)}`);
    }
  }

  /**
   * accept takes a new connection on the peer port. Room is made in this order: at the connection
   * cap, a refused connection still flushing its error frame is closed, else a pending handshake,
   * else the new connection itself; at the pending cap, a pending handshake is closed. The pending
   * handshake closed is the oldest of those that have not sent an acceptable hello, or if every
   * one has, the oldest of all. So unauthenticated connections only ever displace each other, and
   * a real peer — which sends its hello as soon as it connects and authenticates within a round
   * trip — gets in however many silent sockets others hold or reopen.
   */
  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.inbound.size >= this.maxInboundConnections) {
      const victim = first(this.refusedConns) ?? this.pendingVictim();
      if (victim === undefined) {
        this.counters.count('inboundRefused', undefined);
        this.ctx.log(
          'warn',
          `closed a new connection on the peer port: ${this.inbound.size} connections are open, the limit`,
          { limit: this.maxInboundConnections },
        );
        socket.destroy();
        return;
      }
      this.evict(victim, 'the peer port is at its connection limit');
    }
    if (this.pending.size >= this.maxPendingHandshakes) {
      this.evict(this.pendingVictim() as InboundConnection, 'too many pending handshakes');
    }
    const conn = new InboundConnection(socket, this.ctx, this.budget, {
      challenged: (c) => this.silent.delete(c),
      authenticated: (c) => {
        this.pending.delete(c);
        const peer = c.peer as NodeId;
        const previous = this.inboundByPeer.get(peer);
        this.inboundByPeer.set(peer, c);
        // The peer dialed again: its old connection is dead or dying.
        if (previous !== undefined && previous !== c) {
          this.counters.count('replaced', peer);
          previous.destroy();
          this.forget(previous);
        }
      },
      refused: (c) => {
        this.pending.delete(c);
        this.silent.delete(c);
        this.refusedConns.add(c);
      },
      closed: (c) => this.forget(c),
    });
    this.inbound.add(conn);
    this.pending.add(conn);
    this.silent.add(conn);
  }

  /** pendingVictim: the pending handshake to close first (see accept). */
  private pendingVictim(): InboundConnection | undefined {
    return first(this.silent) ?? first(this.pending);
  }

  /** evict closes an unauthenticated connection to make room for a newer one. */
  private evict(c: InboundConnection, why: string): void {
    if (this.pending.has(c)) {
      this.counters.count('handshakesEvicted', undefined);
      this.ctx.log('debug', `closed the handshake of ${c.remote}: ${why}`);
    }
    c.destroy();
    this.forget(c);
  }

  /** forget drops a closed (or closing) connection from every set. */
  private forget(c: InboundConnection): void {
    this.inbound.delete(c);
    this.pending.delete(c);
    this.silent.delete(c);
    this.refusedConns.delete(c);
    if (c.peer !== undefined && this.inboundByPeer.get(c.peer) === c) {
      this.inboundByPeer.delete(c.peer);
    }
  }

  stats(): TransportStats {
    const peers: Record<string, PeerStats> = {};
    const ids = new Set<NodeId>([...this.counters.peers.keys(), ...this.links.keys()]);
    for (const id of ids) {
      const c = this.counters.peer(id);
      if (c === undefined) continue;
      const link = this.links.get(id);
      peers[String(id)] = {
        ...c,
        types: this.counters.types(id),
        address: link?.addressText,
        connected: link?.connected ?? false,
        inbound: this.inboundByPeer.has(id),
        queuedMessages: link?.queue.length ?? 0,
        queuedBytes: link?.queue.bytes ?? 0,
      };
    }
    return {
      ...this.counters.total,
      peers,
      peerPort: {
        connections: this.inbound.size,
        pendingHandshakes: this.pending.size,
        authenticated: this.inboundByPeer.size,
        partialFrameBytes: this.heldBytes(),
        limits: {
          maxInboundConnections: this.maxInboundConnections,
          maxPendingHandshakes: this.maxPendingHandshakes,
          handshakeTimeoutMs: this.ctx.settings.handshakeTimeoutMs,
          partialFrameBudgetBytes: this.budget.limitBytes,
          maxFrameBytes: this.ctx.settings.maxFrameBytes,
        },
      },
    };
  }

  /** heldBytes: what the inbound connections hold in incomplete frames now. */
  private heldBytes(): number {
    let n = 0;
    for (const c of this.inbound) n += c.heldBytes;
    return n;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.faults.dispose();
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const c of this.inbound) c.destroy();
    this.inbound.clear();
    this.pending.clear();
    this.silent.clear();
    this.refusedConns.clear();
    this.inboundByPeer.clear();
    const server = this.server;
    this.closing = new Promise((resolve) => {
      if (server === undefined || !server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });
    return this.closing;
  }
}
