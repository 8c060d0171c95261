import type { AdminServerStats, ClientServerStats } from './server-stats';
import type { FaultRule, FaultRuleStatus } from './transport/fault-filter';
import type { FrameBudgetStats } from './transport/frame-budget';
import type { TransportStats } from './transport/transport';
import type { KvCommand, KvResult } from './kv/kv-state';
import type { NodeId, RaftEvent, Status } from '../raft/types';

/**
 * MemberAddress is what a configuration records for each member: where its peers reach it and
 * where clients reach it. It travels inside ConfState.addresses as "peerHost:port|clientHost:port".
 */
export interface MemberAddress {
  peer: string;
  client: string;
}

export function formatMemberAddress(a: MemberAddress): string {
  return `${a.peer}|${a.client}`;
}

/** parseMemberAddress reads "peer|client" (a bare "host:port" is taken as both). */
export function parseMemberAddress(s: string): MemberAddress {
  const bar = s.indexOf('|');
  if (bar < 0) return { peer: s, client: s };
  return { peer: s.slice(0, bar), client: s.slice(bar + 1) };
}

/** LeaderHint tells a client where to go instead. */
export interface LeaderHint {
  leaderId: NodeId;
  /** leaderClientAddress: "host:port" of the leader's client server, or '' when unknown. */
  leaderClientAddress: string;
}

/** NotLeaderError: this node cannot take the request; the hint names the leader if one is known. */
export class NotLeaderError extends Error {
  constructor(
    readonly hint: LeaderHint,
    message?: string,
  ) {
    super(
      message ??
        (hint.leaderId ? `not the leader; leader is ${hint.leaderId}` : 'no leader is known'),
    );
    this.name = 'NotLeaderError';
  }
}

/**
 * OutcomeUnknownError: the request may or may not take effect (e.g. the node lost leadership with
 * the write in flight, or timed out). Clients must report such an operation as unknown, never failed.
 */
export class OutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

/** NodeEventBody is what happened; NodeEvent adds when, where and its place in the stream. */
export type NodeEventBody =
  | RaftEvent
  | { type: 'storage-warning'; message: string }
  | { type: 'faults'; rules: FaultRule[]; fsyncDelayMs: number }
  | {
      type: 'started';
      pid: number;
      recovered: { entries: number; snapshotIndex: number; repairedTail: boolean };
    }
  | { type: 'shutdown'; reason: string };

/** NodeEvent is one entry of the node's event stream (Raft transitions plus node-level happenings). */
export type NodeEvent = { seq: number; time: number; node: NodeId } & NodeEventBody;

/**
 * ServerStats: the bounds of the node's client and admin ports, of its budget for incomplete
 * frames and of its log, with what they have refused or closed so far.
 */
export interface ServerStats {
  client: ClientServerStats;
  admin: AdminServerStats;
  frameBudget: FrameBudgetStats;
  /** log: lines left out by the repeat limit, and rotations of node.log, since start. */
  log: { suppressed: number; rotations: number };
}

/** NodeStatus is everything the node reports about itself: Raft status plus process, storage and network. */
export interface NodeStatus extends Status {
  /** version increases whenever anything in the status may have changed. */
  version: number;
  clusterId: string;
  pid: number;
  dataDir: string;
  startedAt: number;
  now: number;
  peerAddress: string;
  clientAddress: string;
  adminAddress: string;
  storage: { walBytes: number; segments: number; snapshotBytes: number; fsyncDelayMs: number };
  transport: TransportStats;
  faults: FaultRuleStatus[];
  kv: { keys: number; bytes: number };
  timing: { tickMs: number; heartbeatMs: number; electionMs: number };
  /** servers: the ports' bounds and counts (absent until the client and admin ports listen). */
  servers?: ServerStats;
}

/** ChangeOutcome: a membership change or transfer that was carried out (committed / completed). */
export interface ChangeOutcome {
  index: number;
  term: number;
}

/**
 * NodeApi is what the client and admin servers need from a running node. Errors are thrown as
 * NotLeaderError, OutcomeUnknownError or Error with a message a person can act on.
 */
export interface NodeApi {
  readonly id: NodeId;
  /** propose replicates a write and resolves with its result once applied here. */
  propose(cmd: KvCommand): Promise<KvResult>;
  /** get is a linearizable read (ReadIndex), served by any member. */
  get(key: string): Promise<Uint8Array | null>;
  leaderHint(): LeaderHint;
  status(): NodeStatus;
  /** subscribe calls the listener for every event from now on; returns the unsubscribe function. */
  subscribe(listener: (e: NodeEvent) => void): () => void;
  /** recentEvents returns up to n of the latest events (for a new subscriber). */
  recentEvents(n: number): NodeEvent[];
  /** recentLogs returns up to n of the latest structured log lines. */
  recentLogs(n: number): Record<string, unknown>[];
  addLearner(id: NodeId, address: MemberAddress): Promise<ChangeOutcome>;
  promote(id: NodeId): Promise<ChangeOutcome>;
  remove(id: NodeId): Promise<ChangeOutcome>;
  transferLeader(id: NodeId): Promise<ChangeOutcome>;
  snapshotNow(): Promise<{ index: number; bytes: number }>;
  setFaults(rules: FaultRule[]): void;
  clearFaults(): void;
  setFsyncDelay(ms: number): void;
  /** shutdown stops the node gracefully; the process exits afterwards. */
  shutdown(reason: string): Promise<void>;
}
