/**
 * stats: the counters a transport keeps, in total and per peer.
 */
import type { NodeId } from '../../raft/types';

/** TransportCounters are monotonic counts since the transport was created. */
export interface TransportCounters {
  /** sent: messages written to a socket. */
  sent: number;
  /** received: valid messages read from a socket. */
  received: number;
  /** dropped: messages the transport lost (queue full, no address, too large, closing). */
  dropped: number;
  /** faultDropped, faultDelayed: messages the fault filter dropped or delayed. */
  faultDropped: number;
  faultDelayed: number;
  /** malformed: frames that are not valid messages, or messages on the wrong connection. */
  malformed: number;
  /** unknownType: well-formed messages with a type code this version does not know. */
  unknownType: number;
  /** oversized: frames announcing more bytes than the limit (the connection is closed). */
  oversized: number;
  /**
   * handshakeFailures: handshakes that did not complete: refused or timed out here, and refusals
   * received from peers (authFailures included).
   */
  handshakeFailures: number;
  /** authFailures: handshakes in which a proof of the peer secret was wrong, in either direction. */
  authFailures: number;
  /** handshakesEvicted: unauthenticated connections closed to make room for a newer one. */
  handshakesEvicted: number;
  /** inboundRefused: connections closed at once because the peer port held its maximum. */
  inboundRefused: number;
  /** replaced: authenticated connections closed because the same peer authenticated a newer one. */
  replaced: number;
  /** budgetEvicted: connections closed as the largest holder of partial frames over the budget. */
  budgetEvicted: number;
  /** kicked: connections closed because the peer sent too many bad messages. */
  kicked: number;
  /** connects, disconnects: outbound connections established and lost. */
  connects: number;
  disconnects: number;
}

/** PeerStats is one peer's counters plus the state of its links. */
export interface PeerStats extends TransportCounters {
  address: string | undefined;
  /** connected: the outbound connection to the peer is open. */
  connected: boolean;
  /** inbound: an accepted connection from the peer is open. */
  inbound: boolean;
  queuedMessages: number;
  queuedBytes: number;
}

/** PeerPortLimits are the bounds of the peer port (docs/protocol.md, "Limits of the peer port"). */
export interface PeerPortLimits {
  /** maxInboundConnections: accepted connections open at once, in every stage. */
  maxInboundConnections: number;
  /** maxPendingHandshakes: accepted connections not yet authenticated. */
  maxPendingHandshakes: number;
  /** handshakeTimeoutMs: time from accept (or connect) to a completed handshake. */
  handshakeTimeoutMs: number;
  /** partialFrameBudgetBytes: bytes all inbound connections may hold in incomplete frames. */
  partialFrameBudgetBytes: number;
  /** maxFrameBytes: the largest frame body after the handshake. */
  maxFrameBytes: number;
}

/** PeerPortStats: what the peer port holds now, and its limits. */
export interface PeerPortStats {
  /** connections: accepted connections open now (pending + authenticated + closing). */
  connections: number;
  /** pendingHandshakes: accepted connections whose handshake is not complete. */
  pendingHandshakes: number;
  /** authenticated: accepted connections whose peer proved the secret. */
  authenticated: number;
  /** partialFrameBytes: bytes held in incomplete frames by accepted connections. */
  partialFrameBytes: number;
  limits: PeerPortLimits;
}

/** TransportStats: totals, per peer keyed by node id, and the peer port's state. */
export interface TransportStats extends TransportCounters {
  peers: Record<string, PeerStats>;
  peerPort: PeerPortStats;
}

export type CounterName = keyof TransportCounters;

export function newCounters(): TransportCounters {
  return {
    sent: 0,
    received: 0,
    dropped: 0,
    faultDropped: 0,
    faultDelayed: 0,
    malformed: 0,
    unknownType: 0,
    oversized: 0,
    handshakeFailures: 0,
    authFailures: 0,
    handshakesEvicted: 0,
    inboundRefused: 0,
    replaced: 0,
    budgetEvicted: 0,
    kicked: 0,
    connects: 0,
    disconnects: 0,
  };
}

/** MAX_TRACKED_PEERS bounds the per-peer table; ids beyond it are counted in the totals only. */
const MAX_TRACKED_PEERS = 4096;

/** CounterTable keeps totals and per-peer counters together. */
export class CounterTable {
  readonly total = newCounters();
  readonly peers = new Map<NodeId, TransportCounters>();

  /** count adds n to a counter, in the total and (when known) for the peer. */
  count(name: CounterName, peer: NodeId | undefined, n = 1): void {
    this.total[name] += n;
    if (peer === undefined) return;
    const p = this.peer(peer);
    if (p) p[name] += n;
  }

  peer(id: NodeId): TransportCounters | undefined {
    let p = this.peers.get(id);
    if (p === undefined && this.peers.size < MAX_TRACKED_PEERS) {
      p = newCounters();
      this.peers.set(id, p);
    }
    return p;
  }
}
