/**
 * link-context: what an outbound link and an inbound connection need from their transport.
 */
import type { Message, NodeId } from '../../raft/types';
import type { MessageCodec } from './codec';
import type { CounterTable } from './stats';

/** LogLevel of a transport log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** TransportLogger receives the transport's log lines; fields are plain data. */
export type TransportLogger = (
  level: LogLevel,
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** LinkSettings are the resolved transport options the links use. */
export interface LinkSettings {
  maxFrameBytes: number;
  /** handshakeTimeoutMs: an acceptor's time from accept, a dialer's from connect, to authenticated. */
  handshakeTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  maxMalformed: number;
  malformedWindowMs: number;
  writeHighWaterBytes: number;
}

export interface LinkContext {
  readonly self: NodeId;
  readonly clusterId: string;
  /** secret: the cluster's peer secret, the key of both handshake proofs. */
  readonly secret: Uint8Array;
  readonly settings: LinkSettings;
  readonly counters: CounterTable;
  readonly codec: MessageCodec;
  readonly log: TransportLogger;
  readonly rng: () => number;
  /**
   * paceHoldMs: how long an outbound link holds each frame before writing it (the pace's hold;
   * 0 at pace 1). The transport changes it at run time.
   */
  paceHoldMs: number;
  /**
   * deliver hands a validated inbound message, whose frame was `bytes` long, to the receive path;
   * `now` is when the bytes that completed it were read (ms since the epoch).
   */
  deliver(m: Message, bytes: number, now: number): void;
  /** refused reports that a peer's port refused a connection: no process listens there. */
  refused(peer: NodeId): void;
}
