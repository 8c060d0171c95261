import type { FollowerStatus, NodeId, ProgressState, Snapshot } from './types';

/**
 * SnapshotTransfer is the leader's state for one InstallSnapshot to one follower. It holds the
 * image it sends: a newer snapshot taken meanwhile does not restart the transfer, which would
 * never finish for a slow follower while the leader keeps taking snapshots (etcd does the same).
 */
export interface SnapshotTransfer {
  image: Snapshot;
  index: number;
  term: number;
  total: number;
  acked: number;
  sent: number;
  chunks: number;
  retries: number;
  /** idleTicks: heartbeat ticks since the follower last confirmed progress; triggers a resend. */
  idleTicks: number;
  /** lastGap: the offset of the last gap we rewound to, so duplicate gap reports rewind once. */
  lastGap: number;
}

/**
 * Progress is the leader's view of one follower (etcd's tracker.Progress):
 *  - probe: one AppendEntries at a time until the follower's match is found;
 *  - replicate: pipelined AppendEntries, at most maxInflight messages unacknowledged;
 *  - snapshot: InstallSnapshot in flight; no AppendEntries until it completes.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** paused: in probe, an AppendEntries is outstanding; cleared by a response or a heartbeat response. */
  paused = false;
  /** inflight holds the last index of each AppendEntries not yet acknowledged (replicate state). */
  inflight: number[] = [];
  recentActive = false;
  /** readAck: the highest ReadIndex round this follower confirmed. */
  readAck = 0;
  snap: SnapshotTransfer | undefined;

  constructor(
    readonly id: NodeId,
    next: number,
    public learner: boolean,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.snap) {
      this.next = Math.max(this.match + 1, this.snap.index + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = 'probe';
    this.paused = false;
    this.inflight = [];
    this.snap = undefined;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.paused = false;
    this.inflight = [];
    this.snap = undefined;
  }

  becomeSnapshot(snap: SnapshotTransfer): void {
    this.state = 'snapshot';
    this.paused = false;
    this.inflight = [];
    this.snap = snap;
  }

  /** maybeUpdate records an acknowledgement of index n; returns true if match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.paused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * maybeDecrTo handles a rejection of AppendEntries at prevIndex `rejected`, with `matchHint` the
   * last index the follower may match. Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.paused = false;
    return true;
  }

  isPaused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.paused;
      case 'replicate':
        return this.inflight.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }

  /** freeTo drops in-flight records acknowledged by an ack of index n. */
  freeTo(n: number): void {
    let k = 0;
    while (k < this.inflight.length && this.inflight[k]! <= n) k++;
    if (k > 0) this.inflight.splice(0, k);
  }

  status(lastIndex: number): FollowerStatus {
    return {
      id: this.id,
      learner: this.learner,
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflight.length,
      active: this.recentActive,
      lag: Math.max(0, lastIndex - this.match),
      snapshot: this.snap
        ? {
            index: this.snap.index,
            total: this.snap.total,
            acked: this.snap.acked,
            sent: this.snap.sent,
            chunks: this.snap.chunks,
            retries: this.snap.retries,
          }
        : undefined,
    };
  }
}
