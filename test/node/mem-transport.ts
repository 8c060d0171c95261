/**
 * MemNetwork connects RaftNodes in one process without sockets: each MemTransport delivers a
 * message on a later turn of the event loop, and only to a peer in its current peer set (as the
 * TCP transport has no link to any other). A test decides which messages are lost (`drop`), and
 * reads every peer set a node was given (`peerSets`).
 */
import type { Message, NodeId } from '../../main/raft/types';
import type {
  MessageHandler,
  PeerAddresses,
  Transport,
  TransportStats,
} from '../../main/node/transport/transport';
import { newCounters } from '../../main/node/transport/stats';
import { idlePeerPortStats } from '../../main/node/transport/transport';

export class MemNetwork {
  readonly transports = new Map<NodeId, MemTransport>();
  /** drop: when it returns true for a message, the message is lost. */
  drop: ((m: Message) => boolean) | undefined;
  /** sent: every message handed to a transport, in order (lost ones included). */
  readonly sent: Message[] = [];

  transport(id: NodeId): MemTransport {
    const t = new MemTransport(id, this);
    this.transports.set(id, t);
    return t;
  }

  deliver(m: Message): void {
    this.sent.push(m);
    if (this.drop?.(m)) return;
    setImmediate(() => this.transports.get(m.to)?.receive(m));
  }
}

export class MemTransport implements Transport {
  private handler: MessageHandler | undefined;
  private closed = false;
  /** peers: the peer set last given to setPeers. */
  peers = new Map<NodeId, string>();
  /** peerSets: every peer set given to setPeers, in order (ids only, sorted). */
  readonly peerSets: NodeId[][] = [];
  private readonly counters = newCounters();

  constructor(
    readonly id: NodeId,
    private readonly net: MemNetwork,
  ) {}

  send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (this.closed || !this.peers.has(m.to)) {
        this.counters.dropped++;
        continue;
      }
      this.counters.sent++;
      this.net.deliver(m);
    }
  }

  flush(): void {}

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  receive(m: Message): void {
    if (this.closed) return;
    this.counters.received++;
    this.handler?.(m);
  }

  setPeers(peers: PeerAddresses): void {
    const entries: [NodeId | string, string][] =
      peers instanceof Map ? [...peers.entries()] : Object.entries(peers);
    this.peers = new Map(entries.map(([k, v]) => [Number(k), v]));
    this.peerSets.push([...this.peers.keys()].sort((a, b) => a - b));
  }

  listen(): Promise<{ host: string; port: number }> {
    return Promise.resolve({ host: '127.0.0.1', port: 10_000 + this.id });
  }

  close(): Promise<void> {
    this.closed = true;
    this.net.transports.delete(this.id);
    return Promise.resolve();
  }

  stats(): TransportStats {
    return { ...this.counters, peers: {}, peerPort: idlePeerPortStats() };
  }
}
