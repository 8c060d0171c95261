/**
 * stats: the counters a transport keeps, in total and per peer.
 */
import type { MessageType, NodeId } from '../../raft/types';
import { MAX_MESSAGE_TYPE_CODE, messageTypeOfCode } from './codec';

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

/**
 * TypeCounters: one peer's messages of one type, since the transport was created. `sent` counts
 * messages encoded and queued on the peer's connection (a connection lost later may still drop
 * them: see `dropped`), `sentBytes` their frames' bytes (length prefix included); `received`
 * and `receivedBytes` count valid messages read from the peer; `faultDropped` and
 * `faultDelayed` what fault rules dropped or delayed, in either direction (the pace's hold is
 * not a fault and is not counted here).
 */
export interface TypeCounters {
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  faultDropped: number;
  faultDelayed: number;
}

/** TYPE_COUNTER_NAMES: the fields of TypeCounters, in the order a TypeTable stores them. */
export const TYPE_COUNTER_NAMES = [
  'sent',
  'sentBytes',
  'received',
  'receivedBytes',
  'faultDropped',
  'faultDelayed',
] as const satisfies readonly (keyof TypeCounters)[];

/** TypeCounter: the position of a TypeCounters field in a TypeTable row. */
export const TC = {
  sent: 0,
  sentBytes: 1,
  received: 2,
  receivedBytes: 3,
  faultDropped: 4,
  faultDelayed: 5,
} as const satisfies Record<keyof TypeCounters, number>;

const TC_FIELDS = TYPE_COUNTER_NAMES.length;
const TC_ROW = (MAX_MESSAGE_TYPE_CODE + 1) * TC_FIELDS;

/** PeerStats is one peer's counters plus the state of its links. */
export interface PeerStats extends TransportCounters {
  /** types: the peer's counters per message type; only types seen appear. */
  types: Partial<Record<MessageType, TypeCounters>>;
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

/**
 * CounterTable keeps totals and per-peer counters together, and per peer a row of counters per
 * message type (a Float64Array indexed by type code × field, so counting allocates nothing).
 */
export class CounterTable {
  readonly total = newCounters();
  readonly peers = new Map<NodeId, TransportCounters>();
  private readonly typeRows = new Map<NodeId, Float64Array>();

  /**
   * countType adds `n` to field `field` (a TC value) of message type `code` (its wire code) for
   * `peer`. Peers beyond MAX_TRACKED_PEERS are not counted per type.
   */
  countType(peer: NodeId, code: number, field: number, n = 1): void {
    let row = this.typeRows.get(peer);
    if (row === undefined) {
      if (this.typeRows.size >= MAX_TRACKED_PEERS) return;
      row = new Float64Array(TC_ROW);
      this.typeRows.set(peer, row);
    }
    row[code * TC_FIELDS + field] += n;
  }

  /**
   * countTypeBytes counts one message of `bytes` bytes: TC.sent (with TC.sentBytes, the field
   * after it) or TC.received (with TC.receivedBytes), in one lookup.
   */
  countTypeBytes(peer: NodeId, code: number, field: 0 | 2, bytes: number): void {
    let row = this.typeRows.get(peer);
    if (row === undefined) {
      if (this.typeRows.size >= MAX_TRACKED_PEERS) return;
      row = new Float64Array(TC_ROW);
      this.typeRows.set(peer, row);
    }
    const at = code * TC_FIELDS + field;
    row[at] += 1;
    row[at + 1] += bytes;
  }

  /** types: the per-type counters of `peer`, only of types with a count. */
  types(peer: NodeId): Partial<Record<MessageType, TypeCounters>> {
    const out: Partial<Record<MessageType, TypeCounters>> = {};
    const row = this.typeRows.get(peer);
    if (row === undefined) return out;
    for (let code = 0; code <= MAX_MESSAGE_TYPE_CODE; code++) {
      const type = messageTypeOfCode(code);
      if (type === undefined) continue;
      const at = code * TC_FIELDS;
      let any = false;
      for (let k = 0; k < TC_FIELDS; k++) if (row[at + k] !== 0) any = true;
      if (!any) continue;
      out[type] = {
        sent: row[at + TC.sent],
        sentBytes: row[at + TC.sentBytes],
        received: row[at + TC.received],
        receivedBytes: row[at + TC.receivedBytes],
        faultDropped: row[at + TC.faultDropped],
        faultDelayed: row[at + TC.faultDelayed],
      };
    }
    return out;
  }

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
