/**
 * peer-proxy: network faults between etcd members in user space, without root. Every member
 * advertises a peer URL that is a TCP proxy in front of its real peer listener; PeerNetwork holds
 * one proxy per member and decides, for every connection, which member sent it and which way its
 * Raft messages go, and applies the faults of that directed link (docs/engines.md, "Peer proxies").
 *
 * Identification (peer-http.ts): every request on a connection is read (heads, and bodies by
 * length); a request carrying X-PeerURLs / X-Server-From names its sender. Direction: a stream
 * (GET /raft/stream/...) carries messages from the proxy's member back to the sender (etcd's
 * stream reader dials the member whose messages it reads); a post (/raft, /raft/snapshot)
 * carries them from the sender to the proxy's member; anything else carries none.
 *
 * Faults on the directed link from → to (the message direction) combine the sender's rules with
 * `to` (or '*') and the receiver's rules with `from` (or '*'), as raftdeck's own fault filters do
 * on both ends, plus the partition:
 *  - cut (drop 1): connections carrying that direction are destroyed, and new ones are closed
 *    right after the request that shows their direction is read. A request carrying no messages
 *    is closed when both directions between the pair are cut, or, from a sender it cannot name,
 *    when the proxy's member is cut both ways from every other member.
 *  - delay: bytes in the message direction are held delayMs (± jitterMs, uniform) before being
 *    forwarded. Bytes on one TCP connection cannot overtake each other, so jitter varies the
 *    delay but never reorders.
 *  - drop p < 1: a byte stream cannot lose one message without breaking etcd's framing, so each
 *    forwarded chunk in the message direction resets its connection with probability p; etcd sees
 *    the messages in flight lost and dials again.
 * Message types and snapshot offsets cannot be matched on etcd's streams: such rules are refused.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dialerUid } from './socket-owner';
import type { LinkRule, NodeId } from '../../contract/view';
import { flowOf, RequestReader, senderOf, type Flow, type RequestHead } from './peer-http';

/** LinkFault: the effective fault on one directed link. */
export interface LinkFault {
  /** drop: 1 cuts the link; below 1, the probability that a forwarded chunk resets its connection. */
  drop: number;
  delayMs: number;
  jitterMs: number;
}

/** LinkStats: what went over one directed link (message direction) since the member was added. */
export interface LinkStats {
  from: NodeId;
  to: NodeId;
  /** bytes: forwarded in the message direction. */
  bytes: number;
  /** connections: connections that carried this direction. */
  connections: number;
  /** open: such connections open now. */
  open: number;
  /** resets: connections reset by a drop rule below 1. */
  resets: number;
  /** refused: connections closed because the link was cut. */
  refused: number;
}

/** UnsupportedLinkRule: a rule the proxies cannot carry out on etcd; the message says why. */
export class UnsupportedLinkRule extends Error {
  constructor(
    readonly index: number,
    reason: string,
  ) {
    super(`link rule ${index}: ${reason}`);
    this.name = 'UnsupportedLinkRule';
  }
}

export interface PeerNetworkOptions {
  /** maxConnections: open connections per proxy (default 256); more are closed at once. */
  maxConnections?: number;
  /** maxQueuedBytes: delayed bytes held per connection before reading from it pauses (default 8 MiB). */
  maxQueuedBytes?: number;
  /** headTimeoutMs: a connection must send a complete request head within this (default 10 s). */
  headTimeoutMs?: number;
  /**
   * onlyUid: accept connections only from sockets this user owns (the etcd members raftdeck
   * started; see socket-owner.ts); others are closed at once and counted in `foreign`. Absent:
   * any local process may connect.
   */
  onlyUid?: number;
  /** rng: uniform in [0, 1), for drop and jitter (default Math.random). */
  rng?: () => number;
  /** onRequest: every request head a proxy reads, with what it made of it (for logging). */
  onRequest?: (info: {
    target: NodeId;
    sender: NodeId | null;
    flow: Flow;
    head: RequestHead;
  }) => void;
}

const NO_FAULT: LinkFault = Object.freeze({ drop: 0, delayMs: 0, jitterMs: 0 });

/** validateLinkRules checks that every rule can be carried out by the proxies; throws UnsupportedLinkRule. */
export function validateLinkRules(rules: readonly LinkRule[]): void {
  rules.forEach((r, i) => {
    if (r === null || typeof r !== 'object') throw new UnsupportedLinkRule(i, 'not an object');
    if ((r.to === undefined) === (r.from === undefined)) {
      throw new UnsupportedLinkRule(i, 'set exactly one of to and from');
    }
    if (r.types !== undefined && r.types.length > 0) {
      throw new UnsupportedLinkRule(
        i,
        `etcd's peer streams cannot be filtered by message type (${r.types.join(', ')}): the proxy sees bytes of an HTTP stream, not single messages`,
      );
    }
    if (r.snapshotOffset !== undefined) {
      throw new UnsupportedLinkRule(
        i,
        'losing one snapshot chunk at an offset is not possible on etcd: it sends a snapshot as one HTTP body',
      );
    }
    const peer = r.to ?? r.from;
    if (peer !== '*' && !(typeof peer === 'number' && Number.isSafeInteger(peer) && peer > 0)) {
      throw new UnsupportedLinkRule(i, `peer must be a node id or '*', got ${String(peer)}`);
    }
    if (r.drop !== undefined && !(typeof r.drop === 'number' && r.drop >= 0 && r.drop <= 1)) {
      throw new UnsupportedLinkRule(i, 'drop must be a probability in [0, 1]');
    }
    for (const k of ['delayMs', 'jitterMs'] as const) {
      const v = r[k];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new UnsupportedLinkRule(i, `${k} must be a non-negative number`);
      }
    }
  });
}

/**
 * linkFault: the fault on the directed link from → to, given each member's rules and the
 * partition. Drop probabilities of the matching rules combine as independent losses (so a cut
 * anywhere cuts); the sender's largest delay and the receiver's largest delay add up (the two
 * ends of raftdeck's own links each hold a message), and so do their jitters.
 */
export function linkFault(
  from: NodeId,
  to: NodeId,
  rulesOf: (id: NodeId) => readonly LinkRule[],
  partition: readonly (readonly NodeId[])[] | null,
): LinkFault {
  let pass = 1;
  if (partition) {
    const g = partition.find((x) => x.includes(from)) ?? [from];
    if (!g.includes(to)) pass = 0;
  }
  let sendDelay = 0;
  let sendJitter = 0;
  let recvDelay = 0;
  let recvJitter = 0;
  for (const r of rulesOf(from)) {
    if (r.to === undefined || (r.to !== '*' && r.to !== to)) continue;
    pass *= 1 - (r.drop ?? 0);
    sendDelay = Math.max(sendDelay, r.delayMs ?? 0);
    sendJitter = Math.max(sendJitter, r.jitterMs ?? 0);
  }
  for (const r of rulesOf(to)) {
    if (r.from === undefined || (r.from !== '*' && r.from !== from)) continue;
    pass *= 1 - (r.drop ?? 0);
    recvDelay = Math.max(recvDelay, r.delayMs ?? 0);
    recvJitter = Math.max(recvJitter, r.jitterMs ?? 0);
  }
  if (pass === 1 && sendDelay + recvDelay + sendJitter + recvJitter === 0) return NO_FAULT;
  return { drop: 1 - pass, delayMs: sendDelay + recvDelay, jitterMs: sendJitter + recvJitter };
}

interface Counter {
  bytes: number;
  connections: number;
  open: number;
  resets: number;
  refused: number;
}

/** Pipe: one direction of a proxied connection, with its delay line. */
interface Pipe {
  src: Socket;
  dst: Socket;
  queue: { at: number; chunk: Buffer }[];
  queued: number;
  last: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Conn: one connection through a member's proxy. */
interface Conn {
  target: NodeId;
  client: Socket;
  upstream: Socket | undefined;
  sender: NodeId | null;
  /** flow: the message direction of the last request that carried messages ('none' before). */
  flow: Flow;
  /** counted: the directed link this connection has been counted on. */
  counted: string | undefined;
  up: Pipe | undefined;
  down: Pipe | undefined;
  closed: boolean;
}

interface Proxy {
  id: NodeId;
  real: string;
  address: string;
  server: Server;
  conns: Set<Conn>;
}

/** PeerNetwork: the peer proxies of one etcd cluster and the faults between its members. */
export class PeerNetwork {
  private readonly proxies = new Map<NodeId, Proxy>();
  private readonly byAddress = new Map<string, NodeId>();
  private readonly memberIds = new Map<string, NodeId>();
  private readonly rules = new Map<NodeId, LinkRule[]>();
  private partition: NodeId[][] | null = null;
  private readonly counters = new Map<string, Counter>();
  private readonly rng: () => number;
  private readonly maxConnections: number;
  private readonly maxQueuedBytes: number;
  private readonly headTimeoutMs: number;
  private closed = false;
  /** foreign: connections refused because another user's socket made them (see onlyUid). */
  foreign = 0;

  constructor(private readonly options: PeerNetworkOptions = {}) {
    this.rng = options.rng ?? Math.random;
    this.maxConnections = options.maxConnections ?? 256;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 << 20;
    this.headTimeoutMs = options.headTimeoutMs ?? 10_000;
  }

  /**
   * addMember starts member `id`'s proxy on 127.0.0.1:listenPort (any free port without one),
   * forwarding to its real peer listener `realPeer` ('127.0.0.1:port'), and returns the proxy's
   * address ('127.0.0.1:port'), which the member advertises as its peer URL.
   */
  async addMember(id: NodeId, realPeer: string, listenPort = 0): Promise<string> {
    if (this.closed) throw new Error('the peer network is closed');
    if (this.proxies.has(id)) throw new Error(`member ${id} already has a peer proxy`);
    const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(realPeer);
    if (!realPeer.startsWith('/') && (!m || Number(m[1]) < 1 || Number(m[1]) > 65535)) {
      throw new Error(
        `member ${id}: the real peer address must be 127.0.0.1:PORT or a socket path, got ${realPeer}`,
      );
    }
    const proxy: Proxy = {
      id,
      real: realPeer,
      address: '',
      server: createServer(),
      conns: new Set(),
    };
    proxy.server.on('connection', (s) => this.accept(proxy, s));
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen({ host: '127.0.0.1', port: listenPort }, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    }).catch((e: Error) => {
      throw new Error(
        `member ${id}: peer proxy cannot listen on 127.0.0.1:${listenPort}: ${e.message}`,
      );
    });
    proxy.server.on('error', () => undefined);
    const port = (proxy.server.address() as { port: number }).port;
    proxy.address = `127.0.0.1:${port}`;
    this.proxies.set(id, proxy);
    this.byAddress.set(proxy.address, id);
    this.byAddress.set(`localhost:${port}`, id);
    return proxy.address;
  }

  /** removeMember closes member `id`'s proxy and every connection through it or from it. */
  async removeMember(id: NodeId): Promise<void> {
    const p = this.proxies.get(id);
    if (!p) return;
    this.proxies.delete(id);
    this.rules.delete(id);
    for (const [a, n] of this.byAddress) if (n === id) this.byAddress.delete(a);
    for (const q of this.proxies.values()) {
      for (const c of q.conns) if (c.sender === id) this.destroy(c);
    }
    for (const c of p.conns) this.destroy(c);
    await new Promise<void>((r) => p.server.close(() => r()));
  }

  /** proxyAddress: member `id`'s proxy address, if it has one. */
  proxyAddress(id: NodeId): string | undefined {
    return this.proxies.get(id)?.address;
  }

  /** members: the members with a proxy, in the order they were added. */
  members(): NodeId[] {
    return [...this.proxies.keys()];
  }

  /** memberIdsSeen: etcd member ids (hex) learnt from request headers, with their members. */
  memberIdsSeen(): ReadonlyMap<string, NodeId> {
    return new Map(this.memberIds);
  }

  /**
   * setRules replaces member `id`'s link rules (LinkRule semantics: `to: Y` for what it sends to
   * Y, `from: Y` for what it receives from Y). Throws UnsupportedLinkRule, changing nothing, for
   * a rule the proxies cannot carry out. Connections on links now cut are destroyed.
   */
  setRules(id: NodeId, rules: readonly LinkRule[]): void {
    validateLinkRules(rules);
    if (rules.length === 0) this.rules.delete(id);
    else
      this.rules.set(
        id,
        rules.map((r) => ({ ...r })),
      );
    this.enforce();
  }

  /** rulesOf: member `id`'s link rules. */
  rulesOf(id: NodeId): LinkRule[] {
    return (this.rules.get(id) ?? []).map((r) => ({ ...r }));
  }

  /**
   * setPartition splits the members into groups that cannot talk to each other (a member in no
   * group stands alone), or heals (null). It adds to the members' rules.
   */
  setPartition(groups: readonly (readonly NodeId[])[] | null): void {
    this.partition = groups ? groups.map((g) => [...g]) : null;
    this.enforce();
  }

  /** fault: the effective fault on the directed link from → to. */
  fault(from: NodeId, to: NodeId): LinkFault {
    return linkFault(from, to, (id) => this.rules.get(id) ?? [], this.partition);
  }

  /** linkStats: counters of every directed link that has carried a connection. */
  linkStats(): LinkStats[] {
    const out: LinkStats[] = [];
    for (const [k, c] of this.counters) {
      const [from, to] = k.split('>').map(Number) as [number, number];
      out.push({ from, to, ...c });
    }
    return out.sort((a, b) => a.from - b.from || a.to - b.to);
  }

  /** close closes every proxy and connection. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.proxies.keys()].map((id) => this.removeMember(id)));
  }

  private counter(from: NodeId, to: NodeId): Counter {
    const k = `${from}>${to}`;
    let c = this.counters.get(k);
    if (!c) {
      c = { bytes: 0, connections: 0, open: 0, resets: 0, refused: 0 };
      this.counters.set(k, c);
    }
    return c;
  }

  /** cutBothWaysFromAll: member `id` can neither send to nor receive from any other member. */
  private cutBothWaysFromAll(id: NodeId): boolean {
    const others = [...this.proxies.keys()].filter((o) => o !== id);
    return (
      others.length > 0 &&
      others.every((o) => this.fault(id, o).drop >= 1 && this.fault(o, id).drop >= 1)
    );
  }

  /** messageLink: the directed link a connection's messages travel, if it carries any. */
  private messageLink(c: Conn): [NodeId, NodeId] | undefined {
    if (c.sender === null || c.flow === 'none') return undefined;
    return c.flow === 'to-target' ? [c.sender, c.target] : [c.target, c.sender];
  }

  /** isCut: whether connection `c`, as its requests have shown it, must not carry on. */
  private isCut(c: Conn): boolean {
    const link = this.messageLink(c);
    if (link) return this.fault(link[0], link[1]).drop >= 1;
    if (c.sender !== null) {
      return this.fault(c.sender, c.target).drop >= 1 && this.fault(c.target, c.sender).drop >= 1;
    }
    return this.cutBothWaysFromAll(c.target);
  }

  private enforce(): void {
    for (const p of this.proxies.values()) {
      for (const c of p.conns) if (c.upstream && this.isCut(c)) this.refuse(c);
    }
  }

  private refuse(c: Conn): void {
    const link = this.messageLink(c);
    if (link) this.counter(link[0], link[1]).refused += 1;
    this.destroy(c);
  }

  private destroy(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    for (const pipe of [c.up, c.down]) if (pipe?.timer) clearTimeout(pipe.timer);
    c.client.destroy();
    c.upstream?.destroy();
    if (c.counted) {
      const cnt = this.counters.get(c.counted);
      if (cnt) cnt.open -= 1;
    }
    this.proxies.get(c.target)?.conns.delete(c);
  }

  private accept(p: Proxy, client: Socket): void {
    client.on('error', () => undefined);
    if (this.closed || this.proxies.get(p.id) !== p || p.conns.size >= this.maxConnections) {
      client.destroy();
      return;
    }
    const only = this.options.onlyUid;
    if (only !== undefined && dialerUid(client.localPort ?? 0, client.remotePort ?? 0) !== only) {
      this.foreign += 1;
      client.destroy();
      return;
    }
    const c: Conn = {
      target: p.id,
      client,
      upstream: undefined,
      sender: null,
      flow: 'none',
      counted: undefined,
      up: undefined,
      down: undefined,
      closed: false,
    };
    p.conns.add(c);
    const reader = new RequestReader();
    const pre: Buffer[] = [];
    const headTimer = setTimeout(() => this.destroy(c), this.headTimeoutMs);
    client.on('close', () => {
      clearTimeout(headTimer);
      this.destroy(c);
    });
    client.on('data', (chunk: Buffer) => {
      try {
        this.fromClient(p, c, reader, pre, headTimer, chunk);
      } catch {
        // PeerHttpError (not what etcd sends: malformed, a head over MAX_HEAD_BYTES) or a
        // failing onRequest listener: nothing escapes a socket handler; the connection closes.
        clearTimeout(headTimer);
        this.destroy(c);
      }
    });
  }

  /** fromClient reads the requests in `chunk`, applies the faults they reveal, and forwards it. */
  private fromClient(
    p: Proxy,
    c: Conn,
    reader: RequestReader,
    pre: Buffer[],
    headTimer: ReturnType<typeof setTimeout>,
    chunk: Buffer,
  ): void {
    if (c.closed) return;
    const heads = reader.push(chunk);
    for (const head of heads) {
      const flow = flowOf(head);
      const sender = senderOf(
        head,
        (a) => this.byAddress.get(a),
        (hex) => this.memberIds.get(hex),
      );
      this.learn(head, sender);
      if (sender !== null) c.sender = sender;
      if (flow !== 'none') c.flow = flow;
      this.options.onRequest?.({ target: p.id, sender: c.sender, flow, head });
      if (this.isCut(c)) {
        clearTimeout(headTimer);
        this.refuse(c);
        return;
      }
      this.count(c);
    }
    if (!c.upstream) {
      pre.push(chunk);
      if (reader.requests === 0) return;
      clearTimeout(headTimer);
      this.open(p, c, pre);
    } else this.forward(c, c.up!, chunk, true);
  }

  /** learn records a member's hex id from a request that names it both ways. */
  private learn(head: RequestHead, sender: NodeId | null): void {
    const from = head.headers['x-server-from'];
    if (sender === null || !from || !/^[0-9a-f]{1,16}$/i.test(from)) return;
    if (this.memberIds.size < 4096) this.memberIds.set(from.toLowerCase(), sender);
  }

  private count(c: Conn): void {
    const link = this.messageLink(c);
    if (!link) return;
    const k = `${link[0]}>${link[1]}`;
    if (c.counted === k) return;
    if (c.counted) {
      const old = this.counters.get(c.counted);
      if (old) old.open -= 1;
    }
    c.counted = k;
    const cnt = this.counter(link[0], link[1]);
    cnt.connections += 1;
    cnt.open += 1;
  }

  private open(p: Proxy, c: Conn, pre: Buffer[]): void {
    const [host, port] = p.real.split(':') as [string, string];
    const upstream = p.real.startsWith('/')
      ? connect({ path: p.real })
      : connect({ host, port: Number(port) });
    c.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.destroy(c));
    c.up = { src: c.client, dst: upstream, queue: [], queued: 0, last: 0, timer: undefined };
    c.down = { src: upstream, dst: c.client, queue: [], queued: 0, last: 0, timer: undefined };
    upstream.on('data', (chunk: Buffer) => {
      try {
        this.forward(c, c.down!, chunk, false);
      } catch {
        this.destroy(c);
      }
    });
    for (const b of pre) this.forward(c, c.up, b, true);
  }

  /**
   * forward passes `chunk` along one direction of `c`: untouched if it is not the message
   * direction, else counted and subject to the link's drop and delay.
   */
  private forward(c: Conn, pipe: Pipe, chunk: Buffer, upward: boolean): void {
    if (c.closed) return;
    const link = this.messageLink(c);
    const carries = link !== undefined && (c.flow === 'to-target') === upward;
    if (!carries) {
      this.send(c, pipe, chunk, 0);
      return;
    }
    const f = this.fault(link[0], link[1]);
    if (f.drop >= 1) {
      this.refuse(c);
      return;
    }
    if (f.drop > 0 && this.rng() < f.drop) {
      this.counter(link[0], link[1]).resets += 1;
      this.destroy(c);
      return;
    }
    this.counter(link[0], link[1]).bytes += chunk.length;
    const jitter = f.jitterMs > 0 ? (this.rng() * 2 - 1) * f.jitterMs : 0;
    this.send(c, pipe, chunk, Math.max(0, f.delayMs + jitter));
  }

  /** send writes `chunk` after delayMs, never before a chunk queued earlier on the same pipe. */
  private send(c: Conn, pipe: Pipe, chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && pipe.queue.length === 0) {
      if (!pipe.dst.write(chunk)) {
        pipe.src.pause();
        pipe.dst.once('drain', () => pipe.src.resume());
      }
      return;
    }
    const now = Date.now();
    const at = Math.max(now + delayMs, pipe.last);
    pipe.last = at;
    pipe.queue.push({ at, chunk });
    pipe.queued += chunk.length;
    if (pipe.queued > this.maxQueuedBytes) pipe.src.pause();
    if (pipe.timer === undefined) this.arm(c, pipe);
  }

  private arm(c: Conn, pipe: Pipe): void {
    const wait = Math.max(0, pipe.queue[0]!.at - Date.now());
    pipe.timer = setTimeout(() => {
      pipe.timer = undefined;
      if (c.closed) return;
      const now = Date.now();
      let ok = true;
      while (pipe.queue.length > 0 && pipe.queue[0]!.at <= now) {
        const h = pipe.queue.shift()!;
        pipe.queued -= h.chunk.length;
        ok = pipe.dst.write(h.chunk) && ok;
      }
      if (pipe.queued <= this.maxQueuedBytes) {
        if (ok) pipe.src.resume();
        else pipe.dst.once('drain', () => pipe.src.resume());
      }
      if (pipe.queue.length > 0) this.arm(c, pipe);
    }, wait);
  }
}
