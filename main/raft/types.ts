/**
 * Types of the pure Raft core. Nothing here performs I/O; every value is plain data that a host
 * can persist, encode or send.
 */

/**
 * MAX_RAFT_NUMBER is the largest term or log index a node accepts from anyone (a peer, its own
 * storage, a test). It leaves 2^52 of headroom below Number.MAX_SAFE_INTEGER, so a term can always
 * be incremented and an index can always be extended by a batch without leaving the integers a
 * double holds exactly. A message carrying more is malformed; it is refused, never adopted.
 */
export const MAX_RAFT_NUMBER = 2 ** 52;

/** NodeId identifies a server; 0 means "none" (no leader, no vote). */
export type NodeId = number;

/** Role is what a server currently does. A learner replicates but never votes or campaigns. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner';

/** EntryType: a normal entry carries state-machine data (empty data = the leader's no-op); a conf entry carries a ConfEntry. */
export type EntryType = 'normal' | 'conf';

/** Entry is one log record. `data` is opaque to the core except for conf entries. */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** HardState is what must be durable before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** ConfState is a complete cluster configuration: who votes, who only listens, and where they live. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** addresses maps a node id (as a string key) to an opaque address the host understands. */
  addresses: Record<string, string>;
}

/** ConfChange is one single-server membership change (Raft thesis §4.1). */
export type ConfChange =
  | { type: 'add-learner'; node: NodeId; address: string }
  | { type: 'promote'; node: NodeId }
  | { type: 'remove'; node: NodeId };

/** ConfEntry is the payload of a conf entry: the change and the configuration that results from it. */
export interface ConfEntry {
  change: ConfChange | { type: 'bootstrap' };
  conf: ConfState;
}

/** SnapshotMeta describes the state-machine image taken at `index`. */
export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

/** Snapshot is a state-machine image plus its metadata. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** PersistedState is everything a node reads back from stable storage when it restarts. */
export interface PersistedState {
  hardState: HardState;
  snapshot?: Snapshot | undefined;
  /** entries contiguous and following the snapshot; entries at or below the snapshot index are ignored. */
  entries: Entry[];
}

interface MsgBase {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** AppendEntries: replicate `entries` after (prevIndex, prevTerm) and advertise the leader's commit. */
export interface AppMsg extends MsgBase {
  type: 'app';
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * AppendEntries response. On success `index` is the last index the follower now matches.
 * On reject `index` echoes the rejected prevIndex and (hintIndex, hintTerm) let the leader skip a
 * whole divergent term at once: hintIndex is the largest index <= min(prevIndex, lastIndex) whose
 * term is <= the leader's prevTerm, hintTerm is that entry's term.
 */
export interface AppRespMsg extends MsgBase {
  type: 'app-resp';
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
}

/** RequestVote or PreVote. `transfer` marks a campaign started by TimeoutNow, which bypasses leader stickiness. */
export interface VoteMsg extends MsgBase {
  type: 'vote' | 'pre-vote';
  lastIndex: number;
  lastTerm: number;
  transfer: boolean;
}

export interface VoteRespMsg extends MsgBase {
  type: 'vote-resp' | 'pre-vote-resp';
  reject: boolean;
}

/** Heartbeat carries a commit index safe for the follower (min(match, commit)) and a ReadIndex round number. */
export interface HeartbeatMsg extends MsgBase {
  type: 'heartbeat';
  commit: number;
  readSeq: number;
}

export interface HeartbeatRespMsg extends MsgBase {
  type: 'heartbeat-resp';
  readSeq: number;
}

/** InstallSnapshot chunk: `data` holds bytes [offset, offset + data.length) of a `total`-byte image. */
export interface SnapMsg extends MsgBase {
  type: 'snap';
  meta: SnapshotMeta;
  offset: number;
  total: number;
  data: Uint8Array;
  done: boolean;
}

/**
 * InstallSnapshot response: the follower has bytes [0, nextOffset) of snapshot `snapIndex`.
 * `gap` says a chunk arrived beyond nextOffset (one was lost); `done` says the image is installed.
 */
export interface SnapRespMsg extends MsgBase {
  type: 'snap-resp';
  snapIndex: number;
  nextOffset: number;
  gap: boolean;
  done: boolean;
}

/** TimeoutNow tells a caught-up transfer target to campaign at once. */
export interface TimeoutNowMsg extends MsgBase {
  type: 'timeout-now';
}

/** ReadIndex request forwarded by a follower or learner to the leader; ctx is the requester's own tag. */
export interface ReadIndexMsg extends MsgBase {
  type: 'read-index';
  ctx: number;
}

export interface ReadIndexRespMsg extends MsgBase {
  type: 'read-index-resp';
  ctx: number;
  index: number;
  reject: boolean;
}

export type Message =
  | AppMsg
  | AppRespMsg
  | VoteMsg
  | VoteRespMsg
  | HeartbeatMsg
  | HeartbeatRespMsg
  | SnapMsg
  | SnapRespMsg
  | TimeoutNowMsg
  | ReadIndexMsg
  | ReadIndexRespMsg;

export type MessageType = Message['type'];

/** Distributive Omit, so each member of the Message union keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Outgoing is a message the core is about to send, before `from` (and, by default, `term`) are filled in. */
export type Outgoing = DistributiveOmit<Message, 'from' | 'term'> & { term?: number };

/** MESSAGE_TYPES lists every message type; the handler table is checked against it. */
export const MESSAGE_TYPES: readonly MessageType[] = [
  'app',
  'app-resp',
  'vote',
  'pre-vote',
  'vote-resp',
  'pre-vote-resp',
  'heartbeat',
  'heartbeat-resp',
  'snap',
  'snap-resp',
  'timeout-now',
  'read-index',
  'read-index-resp',
];

export const ROLES: readonly Role[] = [
  'follower',
  'pre-candidate',
  'candidate',
  'leader',
  'learner',
];

/** ReadState: a linearizable read tagged `ctx` may be served once the state machine has applied `index`. ok=false: retry. */
export interface ReadState {
  ctx: number;
  index: number;
  ok: boolean;
}

/** RaftEvent is a notable transition, reported in Ready for telemetry and tests. */
export type RaftEvent =
  | { type: 'role'; role: Role; term: number }
  | { type: 'leader'; leader: NodeId; term: number }
  | { type: 'campaign'; term: number; prevote: boolean; transfer: boolean }
  | {
      type: 'vote';
      candidate: NodeId;
      term: number;
      prevote: boolean;
      granted: boolean;
      reason: string;
    }
  | { type: 'step-down'; term: number; reason: 'check-quorum' | 'removed' | 'higher-term' }
  | { type: 'config'; index: number; change: ConfEntry['change']; conf: ConfState }
  | { type: 'snapshot-send'; to: NodeId; index: number; total: number }
  | { type: 'snapshot-retry'; to: NodeId; index: number; offset: number; retries: number }
  | {
      type: 'snapshot-sent';
      to: NodeId;
      index: number;
      total: number;
      chunks: number;
      retries: number;
    }
  | { type: 'snapshot-installed'; index: number; term: number; from: NodeId }
  | { type: 'compacted'; index: number }
  | { type: 'transfer'; target: NodeId; status: 'started' | 'done' | 'aborted' }
  /**
   * refused: a message from `from` was dropped because a number in it is out of bounds (see
   * MAX_RAFT_NUMBER), or (message 'campaign', from this node) a campaign was not started because
   * its term would be.
   */
  | { type: 'refused'; from: NodeId; message: MessageType | 'campaign'; reason: string }
  /**
   * removed: this node learnt that it was removed: a committed configuration included it and a
   * later one, in effect from `index` on and committed, does not (learnt from its log or from a
   * snapshot). Reported once; the host should shut the node down once it has applied `index`.
   */
  | { type: 'removed'; index: number };

/**
 * SnapshotPart reports an incoming snapshot as it arrives: 'bytes' are the image's bytes from
 * `offset` on, accepted in order (offset 0 begins a new image of `total` bytes, replacing any
 * other); 'dropped' says the image being received was given up without being installed. A host
 * may write the bytes ahead (Storage.receiveSnapshot), so that persisting the finished snapshot
 * only has to complete the file; ignoring them is always correct.
 */
export type SnapshotPart =
  | { kind: 'bytes'; meta: SnapshotMeta; total: number; offset: number; data: Uint8Array }
  | { kind: 'dropped'; meta: SnapshotMeta };

/**
 * Ready is a batch of work the host must carry out, in this order:
 *  1. persist `hardState` (if present), `entries` (overwriting any existing entries from
 *     entries[0].index on) and `snapshot` (if present) — durably (fsync) when `mustSync`;
 *  2. only then send `messages` (every one of them may depend on step 1);
 *  3. restore the state machine from `snapshot` (if present), then apply `committedEntries` in order
 *     (they are committed; they may include entries persisted in step 1, never unpersisted ones);
 *  4. serve `readStates` once the state machine has applied their index;
 *  5. call advance(ready).
 * The host may call step()/tick()/propose() between ready() and advance(), but must not call
 * ready() again before advance().
 */
export interface Ready {
  hardState: HardState | undefined;
  entries: Entry[];
  snapshot: Snapshot | undefined;
  /** snapshotParts: progress of an incoming snapshot since the last Ready, in order (advisory). */
  snapshotParts: SnapshotPart[];
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  events: RaftEvent[];
  /** mustSync: the hard state's term/vote or the log changed; persistence must be fsynced before sending. */
  mustSync: boolean;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** SnapshotTransfer is the leader's view of one InstallSnapshot in flight. */
export interface SnapshotTransferStatus {
  index: number;
  total: number;
  /** acked: bytes the follower confirmed; sent: bytes put on the wire (acked <= sent <= total). */
  acked: number;
  sent: number;
  chunks: number;
  retries: number;
}

export interface FollowerStatus {
  id: NodeId;
  learner: boolean;
  match: number;
  next: number;
  state: ProgressState;
  inflight: number;
  active: boolean;
  lag: number;
  snapshot: SnapshotTransferStatus | undefined;
}

/** Status is everything a dashboard shows about one node. */
export interface Status {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leader: NodeId;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  persistedIndex: number;
  snapshotIndex: number;
  snapshotTerm: number;
  voters: NodeId[];
  learners: NodeId[];
  addresses: Record<string, string>;
  pendingConfIndex: number;
  transferee: NodeId;
  /** progress: only on a leader, one row per other member. */
  progress: FollowerStatus[];
  /** snapshotReceiving: on a follower, bytes received of an incoming snapshot. */
  snapshotReceiving: { index: number; received: number; total: number } | undefined;
  /** timer: where this node's election and heartbeat clocks stand, in ticks. */
  timer: ElectionTimer;
  /** campaign: on a pre-candidate or candidate, the answers it has so far; else undefined. */
  campaign: Campaign | undefined;
  /**
   * termRuns: the terms of the entries this node holds, firstIndex … lastIndex, as runs of equal
   * terms in index order: each run starts at `start` and lasts until the next run's start (the
   * last one until lastIndex). At most the latest STATUS_TERM_RUNS runs: when a log holds more,
   * the entries before the first run reported are of earlier terms, unnamed. Empty when the log
   * holds no entries (all of it is in the snapshot, or nothing was written yet).
   */
  termRuns: TermRun[];
}

/** TermRun: a run of entries of one term, from index `start` on. */
export interface TermRun {
  start: number;
  term: number;
}

/** STATUS_TERM_RUNS: how many runs of equal terms a status reports at most (the latest ones). */
export const STATUS_TERM_RUNS = 64;

/**
 * ElectionTimer: a node's clocks in ticks. A follower, learner or (pre-)candidate campaigns when
 * electionElapsed reaches electionTimeout (randomized in [electionTicks, 2*electionTicks) each
 * time it resets: on a heartbeat or append from its leader, on granting a vote, on a new term); a
 * leader sends heartbeats when heartbeatElapsed reaches heartbeatTicks.
 */
export interface ElectionTimer {
  electionElapsed: number;
  electionTimeout: number;
  electionTicks: number;
  heartbeatElapsed: number;
  heartbeatTicks: number;
}

/** Campaign: the votes a (pre-)candidate has asked for in `term`: who granted, who refused. */
export interface Campaign {
  kind: 'pre-vote' | 'vote';
  term: number;
  granted: NodeId[];
  rejected: NodeId[];
}

export type ProposeError =
  | 'not-leader'
  | 'transfer-in-progress'
  | 'config-change-in-progress'
  | 'leader-not-ready'
  | 'invalid-change'
  | 'learner-not-caught-up'
  | 'removed'
  /** log-full: the entries would take the log beyond MAX_RAFT_NUMBER. */
  | 'log-full';

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; error: ProposeError; leader: NodeId; detail: string };

/** RaftConfig configures one node. Ticks are abstract: the host decides how long one is. */
export interface RaftConfig {
  id: NodeId;
  /** electionTicks: followers campaign after a random timeout in [electionTicks, 2*electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  /** rng returns a uniformly distributed number in [0, 1); inject a seeded one for determinism. */
  rng: () => number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** maxMsgBytes bounds the entry payload of one AppendEntries. */
  maxMsgBytes?: number;
  /** maxInflight bounds the AppendEntries messages in flight to one follower in replicate state. */
  maxInflight?: number;
  snapshotChunkBytes?: number;
  /** snapshotWindow: chunks in flight at once during InstallSnapshot. */
  snapshotWindow?: number;
  /** promoteGap: a learner may be promoted only when its match index is within this many entries of the leader's last index. */
  promoteGap?: number;
  /** maxApplyBytes bounds the payload of committedEntries in one Ready (at least one entry is always given). */
  maxApplyBytes?: number;
  /** initialVoters bootstraps a brand-new cluster; ignored when `state` holds anything. */
  initialVoters?: { id: NodeId; address: string }[];
  /** state: what the node persisted before a restart. */
  state?: PersistedState;
  /** applied: the index the host's state machine already reflects (defaults to the snapshot index). */
  applied?: number;
}
