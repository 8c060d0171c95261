import type { LogView } from './log';
import { Raft } from './raft';
import type {
  ConfChange,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  Status,
} from './types';

/**
 * RawNode is the boundary around the Raft core, as etcd's RawNode wraps its private raft: the
 * only way a host (main/node's RaftNode, the simulator) drives a node. It exposes the inputs —
 * tick(), step(), leaderGone(), propose(), proposeConfChange(), readIndex(), transferLeader(),
 * compact() — the Ready cycle — hasReady(), ready(), then advance() once the Ready is carried out
 * in the order Ready documents (persist BEFORE send) — and read-only views: status() for a
 * dashboard, and cheap getters for what a host checks on every message or Ready. Nothing a host
 * holds can change the core's state other than through these calls.
 */
export class RawNode {
  private readonly raft: Raft;

  /** RawNode starts a node from its configuration (fresh, bootstrapping, or restarted from `state`). */
  constructor(c: RaftConfig) {
    this.raft = new Raft(c);
  }

  get id(): NodeId {
    return this.raft.id;
  }

  get role(): Role {
    return this.raft.role;
  }

  get term(): number {
    return this.raft.term;
  }

  /** leader is the leader of the current term as far as this node knows (0: none). */
  get leader(): NodeId {
    return this.raft.leader;
  }

  /** log is a read-only view of the node's log: indexes, terms, entries and configurations. */
  get log(): LogView {
    return this.raft.log;
  }

  /** snapshot is the latest local state-machine image (taken here or installed from the leader). */
  get snapshot(): Readonly<Snapshot> | undefined {
    return this.raft.snapshot;
  }

  /** tick advances logical time by one tick (elections, heartbeats, retries). */
  tick(): void {
    this.raft.tick();
  }

  /** step feeds one message received from a peer; misaddressed or out-of-bounds ones are dropped. */
  step(m: Message): void {
    this.raft.step(m);
  }

  /**
   * leaderGone says the process of leader `id` is known to be gone: a follower forgets it and
   * campaigns after a short, staggered wait instead of a whole election timeout (timing only).
   */
  leaderGone(id: NodeId): void {
    this.raft.leaderGone(id);
  }

  /** propose appends data on the leader; the result says where, or why not. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  /** proposeConfChange proposes one single-server membership change (at most one uncommitted). */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc);
  }

  /**
   * readIndex requests a linearizable read tagged ctx. A ReadState with the same ctx follows in a
   * later Ready: serve the read once applied >= its index, or retry when ok is false.
   */
  readIndex(ctx: number): ProposeResult {
    return this.raft.readIndex(ctx);
  }

  /** transferLeader hands leadership to `target` (caught up first, then TimeoutNow). */
  transferLeader(target: NodeId): ProposeResult {
    return this.raft.transferLeader(target);
  }

  /**
   * compact records that the state machine image `data` reflects every entry up to `index` (which
   * must be applied) and drops log entries up to index - keep; undefined when the log already
   * starts at or after `index`. The image is what lagging followers receive.
   */
  compact(index: number, data: Uint8Array, keep = 0): SnapshotMeta | undefined {
    return this.raft.compact(index, data, keep);
  }

  /** hasReady says whether ready() has work for the host (always false between ready() and advance()). */
  hasReady(): boolean {
    return this.raft.hasReady();
  }

  /** ready returns the next batch of work, to be carried out in the order Ready documents. */
  ready(): Ready {
    return this.raft.ready();
  }

  /** advance tells the core the last Ready was carried out: persisted, sent and applied. */
  advance(): void {
    this.raft.advance();
  }

  /**
   * setElectionTimer: the lab's hook to align or spread election timers (see Raft's); hosts of
   * real nodes never call it.
   */
  setElectionTimer(elapsed: number, timeout: number): void {
    this.raft.setElectionTimer(elapsed, timeout);
  }

  /** status is everything a dashboard shows about the node (a copy: it is built on each call). */
  status(): Status {
    return this.raft.status();
  }
}
