import type { AdminServerStats, ClientServerStats } from './server-stats';
import type { FaultRule, FaultRuleStatus } from './transport/fault-filter';
import type { FrameBudgetStats } from './transport/frame-budget';
import type { SampledTraces, TraceQuery, TraceRead } from './transport/message-trace';
import type { TransportStats } from './transport/transport';
import type { KvCommand, KvResult } from './kv/kv-state';
import type { LogRead, LogReadResult } from './log-inspect';
import type { PutStamps } from './put-timeline';
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
      recovered: {
        entries: number;
        snapshotIndex: number;
        repairedTail: boolean;
        /**
         * loadMs: opening the store (reading the snapshot file and replaying the WAL);
         * restoreMs: rebuilding the state machine from the snapshot. Entries are applied after.
         */
        loadMs?: number;
        restoreMs?: number;
        /** snapshotMs, walMs: of loadMs, reading the snapshot file, and reading and replaying the WAL. */
        snapshotMs?: number;
        walMs?: number;
      };
    }
  | { type: 'shutdown'; reason: string }
  /** pace: the demo pace or the fast-failover switch was set (see NodeApi.setPace). */
  | { type: 'pace'; pace: number; fastFailover: boolean; previous: Pace }
  /**
   * leader-gone: a follower found its leader's port refusing connections (the leader's process
   * is gone). With fast failover on it campaigns at once (`campaign: true`); with it off it waits
   * for its election timeout (`campaign: false`). Reported once per leader and term.
   */
  | { type: 'leader-gone'; leader: NodeId; term: number; campaign: boolean };

/**
 * Pace: the node's demo pace (an integer in 1..100: ticks last tickMs × pace, and every message
 * sent is held MESSAGE_FLIGHT_MS × pace when pace > 1) and whether a follower campaigns at once
 * when its leader's port refuses connections (fastFailover).
 */
export interface Pace {
  pace: number;
  fastFailover: boolean;
}

/** PaceChange: the result of setting the pace: what is in effect now, and what was before. */
export interface PaceChange extends Pace {
  previous: Pace;
}

/**
 * MessageSampler: a live sample of the messages a node sends (TraceSampler): drain() returns
 * what was picked and skipped since the last drain; close() stops sampling.
 */
export interface MessageSampler {
  readonly empty: boolean;
  drain(): SampledTraces;
  close(): void;
}

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
  /**
   * timing: the configured tick, heartbeat and election timeout (ms at pace 1), the demo pace
   * (each lasts `pace` times as long) and whether fast failover is on.
   */
  timing: {
    tickMs: number;
    heartbeatMs: number;
    electionMs: number;
    pace: number;
    fastFailover: boolean;
  };
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
  /** setPace sets the demo pace and fast failover (see Pace); setting the same again changes nothing. */
  setPace(p: Pace): PaceChange;
  /** messages reads the ring of recent message headers (TraceRing.read). */
  messages(q: TraceQuery): TraceRead;
  /** logEntries reads entries of the node's log, decoded, with their times (see LogRead). */
  logEntries(q: LogRead): LogReadResult;
  /**
   * putTimeline reads the kept stamps of the write path (PutTimeline.read) with index ≥ `from`,
   * at most `limit`; `size` is 0 when the timeline is off.
   */
  putTimeline(q: { from?: number; limit: number }): { size: number; stamps: PutStamps[] };
  /** sampleMessages starts a live sample of the messages sent, `perLinkHz` per link and type per second. */
  sampleMessages(perLinkHz: number): MessageSampler;
  /** shutdown stops the node gracefully; the process exits afterwards. */
  shutdown(reason: string): Promise<void>;
}
