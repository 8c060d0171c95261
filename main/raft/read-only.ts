import { quorum } from './conf';
import type { LogView } from './log';
import type { NodeId, Outgoing, ReadIndexRespMsg, ReadState } from './types';

/**
 * MAX_FORWARDED_READS bounds the reads a follower has forwarded to its leader and not yet seen
 * answered; beyond it the oldest is failed (ok=false), so lost answers cannot pile up.
 */
export const MAX_FORWARDED_READS = 4096;

/** PendingRead is a ReadIndex request waiting for a quorum to confirm leadership round `seq`. */
interface PendingRead {
  ctx: number;
  from: NodeId;
  index: number;
  seq: number;
}

/** ReadHost is what the ReadIndex bookkeeping needs from the node it belongs to. */
export interface ReadHost {
  readonly id: NodeId;
  readonly log: LogView;
  /** term: the node's current term. */
  term(): number;
  /** readAck: the highest ReadIndex round follower `id` confirmed (0 if unknown). */
  readAck(id: NodeId): number;
  send(m: Outgoing): void;
  /** sendOwedCommit sends follower `id` the commit index it is owed, if it is owed one. */
  sendOwedCommit(id: NodeId): void;
}

/**
 * ReadOnly keeps a node's linearizable reads (ReadIndex, Raft thesis §6.4), as etcd's readonly.go:
 * on the leader, the reads waiting for a quorum to confirm a round of heartbeats (and, on a new
 * leader, those waiting for an entry of its term to commit); on a follower, the reads it forwarded
 * to its leader. It collects the ReadStates the host gets in the next Ready, in the order they
 * were settled.
 */
export class ReadOnly {
  /** seq numbers the leadership-confirming heartbeat rounds; heartbeats carry the latest. */
  private seqNo = 0;
  /**
   * forwarded: reads this node forwarded to a leader, by ctx, with the node they went to. Only an
   * answer from that node to a read still outstanding is passed on, so an answer meant for an
   * earlier incarnation of this node, a duplicate, or one from another node cannot serve a read;
   * a change of leader or term fails them all at once (the host retries).
   */
  private readonly forwarded = new Map<number, NodeId>();
  private reads: PendingRead[] = [];
  private awaitingCommit: { ctx: number; from: NodeId }[] = [];
  private roundPending = false;
  private states: ReadState[] = [];

  constructor(private readonly host: ReadHost) {}

  /** seq is the latest heartbeat round, which heartbeats carry and followers echo. */
  get seq(): number {
    return this.seqNo;
  }

  /** pending: a round of heartbeats must go out to confirm leadership for waiting reads. */
  get pending(): boolean {
    return this.roundPending;
  }

  // ---------------------------------------------------------------- leader

  /** request takes a read tagged ctx from node `from` (possibly the leader itself). */
  request(ctx: number, from: NodeId): void {
    const h = this.host;
    const log = h.log;
    if (log.term(log.commit) !== h.term()) {
      // A new leader does not know the latest commit until an entry of its term commits.
      this.awaitingCommit.push({ ctx, from });
      return;
    }
    const voters = log.conf().voters;
    if (voters.length === 1 && voters[0] === h.id) {
      this.deliver({ ctx, from, index: log.commit, seq: 0 }, true);
      return;
    }
    this.reads.push({ ctx, from, index: log.commit, seq: this.seqNo + 1 });
    this.roundPending = true;
  }

  /** onCommit takes the reads that waited for an entry of the leader's term to commit. */
  onCommit(): void {
    const log = this.host.log;
    if (this.awaitingCommit.length > 0 && log.term(log.commit) === this.host.term()) {
      const waiting = this.awaitingCommit;
      this.awaitingCommit = [];
      for (const r of waiting) this.request(r.ctx, r.from);
    }
  }

  /**
   * startRound says whether a round of heartbeats is due for waiting reads and, if so, numbers
   * it: the caller broadcasts heartbeats carrying the new seq.
   */
  startRound(): boolean {
    if (!this.roundPending) return false;
    this.roundPending = false;
    this.seqNo++;
    return true;
  }

  /** cancelRound drops a round not yet started (the node is not the leader). */
  cancelRound(): void {
    this.roundPending = false;
  }

  /** release serves, in order, the reads whose round a quorum of voters has confirmed. */
  release(): void {
    const h = this.host;
    const voters = h.log.conf().voters;
    const q = quorum(voters.length);
    while (this.reads.length > 0) {
      const rd = this.reads[0]!;
      let acks = 0;
      for (const v of voters) {
        if (v === h.id || h.readAck(v) >= rd.seq) acks++;
      }
      if (acks < q) return;
      this.reads.shift();
      this.deliver(rd, true);
    }
  }

  /** failPending answers every read waiting on the leader with ok=false (leadership is lost). */
  failPending(): void {
    const all = [...this.reads, ...this.awaitingCommit.map((r) => ({ ...r, index: 0, seq: 0 }))];
    this.reads = [];
    this.awaitingCommit = [];
    this.roundPending = false;
    for (const rd of all) this.deliver(rd, false);
  }

  private deliver(rd: PendingRead, ok: boolean): void {
    const h = this.host;
    if (rd.from === h.id) {
      this.states.push({ ctx: rd.ctx, index: ok ? rd.index : 0, ok });
    } else {
      // The follower serves the read once it has applied rd.index: give it the commit first.
      if (ok) h.sendOwedCommit(rd.from);
      h.send({
        type: 'read-index-resp',
        to: rd.from,
        ctx: rd.ctx,
        index: ok ? rd.index : 0,
        reject: !ok,
      });
    }
  }

  // ---------------------------------------------------------------- follower

  /** forward sends a read tagged ctx to `leader`, failing the oldest if too many are outstanding. */
  forward(ctx: number, leader: NodeId): void {
    if (this.forwarded.size >= MAX_FORWARDED_READS) {
      const [oldest] = this.forwarded.keys();
      this.forwarded.delete(oldest!);
      this.states.push({ ctx: oldest!, index: 0, ok: false });
    }
    this.forwarded.delete(ctx);
    this.forwarded.set(ctx, leader);
    this.host.send({ type: 'read-index', to: leader, ctx });
  }

  /** answer passes on the leader's answer to a forwarded read that is still outstanding. */
  answer(m: ReadIndexRespMsg): void {
    if (this.forwarded.get(m.ctx) !== m.from) return;
    this.forwarded.delete(m.ctx);
    this.states.push({ ctx: m.ctx, index: m.index, ok: !m.reject });
  }

  /** failForwarded answers every read forwarded to a leader with ok=false (the host retries). */
  failForwarded(): void {
    for (const ctx of this.forwarded.keys()) this.states.push({ ctx, index: 0, ok: false });
    this.forwarded.clear();
  }

  // ---------------------------------------------------------------- output

  hasStates(): boolean {
    return this.states.length > 0;
  }

  /** takeStates hands over the ReadStates settled since the last call, in order. */
  takeStates(): ReadState[] {
    const s = this.states;
    this.states = [];
    return s;
  }
}
