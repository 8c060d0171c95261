/**
 * put-timeline keeps, when switched on, the moments one node saw each of the latest log entries
 * pass through its write path, so that where a put's time goes can be told stage by stage
 * (`npm run bench -- --timeline`, docs/benchmarks.md). It is off unless the process is started
 * with RAFTDECK_TIMELINE=N (the entries kept); a node without it makes no stamps and allocates
 * nothing per put.
 *
 * Stamps are microseconds of process.hrtime (CLOCK_MONOTONIC on Linux), one clock for every
 * process of the machine, so stamps taken by the client, the leader and a follower compare.
 */

/** TIMELINE_ENV: the environment variable that switches the timeline on (its value: entries kept). */
export const TIMELINE_ENV = 'RAFTDECK_TIMELINE';

/** MAX_TIMELINE_ENTRIES: the most entries a timeline keeps (and the most one read returns). */
export const MAX_TIMELINE_ENTRIES = 65_536;

/**
 * PutStamps: what one node saw of the entry at `index` (µs; 0: not seen here).
 *
 * On the node that proposed it (the leader): `received` (the client's request decoded),
 * `appended` (proposed: in the leader's log), `synced` (its own fsync of it done), `acked` (the
 * follower acknowledgement that made a quorum of the voters with the leader's copy arrived, from
 * `ackFrom`), `committed` (the core's commit index covers it), `applied` (applied to the
 * key-value state, the caller's answer about to be queued). `clientId` and `seq` name the write.
 *
 * On a follower: `appended` (the AppendEntries carrying it received) and `synced` (its fsync
 * done, the acknowledgement about to be sent), then `committed` and `applied` as on the leader.
 */
export interface PutStamps {
  index: number;
  term: number;
  clientId: string;
  seq: number;
  received: number;
  appended: number;
  synced: number;
  acked: number;
  ackFrom: number;
  committed: number;
  applied: number;
}

/** nowMicros reads the shared monotonic clock, in µs. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function blank(): PutStamps {
  return {
    index: 0,
    term: 0,
    clientId: '',
    seq: 0,
    received: 0,
    appended: 0,
    synced: 0,
    acked: 0,
    ackFrom: 0,
    committed: 0,
    applied: 0,
  };
}

/**
 * PutTimeline is a ring of PutStamps, one slot per log index modulo its size: it holds the stamps
 * of the latest `size` indexes at most, and a stamp for an index whose slot holds another (older
 * or newer) index replaces it. All slots are made when it is built; stamping allocates nothing.
 *
 * Acknowledgements: ack(from, index, voters) counts, per index, the followers that acknowledged
 * it (a follower's acknowledgement covers every index up to the one it names); the one that
 * brings the count to a quorum of `voters` with the leader's own copy is recorded in `acked`.
 */
export class PutTimeline {
  readonly size: number;
  private readonly slots: PutStamps[];
  private readonly ackCounts: Uint16Array;
  /** ackedTo: per follower, the highest index it acknowledged. */
  private readonly ackedTo = new Map<number, number>();
  /** pendingReceive: when the client request being handed to propose() was decoded (0: none). */
  private pendingReceive = 0;
  /** commitSeen: the highest index stamped committed. */
  private commitSeen = 0;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1 || size > MAX_TIMELINE_ENTRIES) {
      throw new RangeError(
        `timeline size must be an integer in 1..${MAX_TIMELINE_ENTRIES}, got ${size}`,
      );
    }
    this.size = size;
    this.slots = Array.from({ length: size }, blank);
    this.ackCounts = new Uint16Array(size);
  }

  /** slot returns the stamps of `index`, clearing the slot if it held another index. */
  private slot(index: number, term: number): PutStamps {
    const i = index % this.size;
    const s = this.slots[i]!;
    if (s.index !== index || (term !== 0 && s.term !== 0 && s.term !== term)) {
      s.index = index;
      s.term = term;
      s.clientId = '';
      s.seq = 0;
      s.received = 0;
      s.appended = 0;
      s.synced = 0;
      s.acked = 0;
      s.ackFrom = 0;
      s.committed = 0;
      s.applied = 0;
      this.ackCounts[i] = 0;
    } else if (s.term === 0) {
      s.term = term;
    }
    return s;
  }

  /** received notes that a client request was decoded now; the next proposed() takes it. */
  received(at: number = nowMicros()): void {
    this.pendingReceive = at;
  }

  /** proposed: this node appended a client's write at (index, term). */
  proposed(index: number, term: number, clientId: string, seq: number): void {
    const at = nowMicros();
    const s = this.slot(index, term);
    s.clientId = clientId;
    s.seq = seq;
    s.received = this.pendingReceive || at;
    this.pendingReceive = 0;
    s.appended = at;
  }

  /** appendReceived: an AppendEntries carrying indexes first..last of `term`s arrived now. */
  appendReceived(first: number, last: number, termOf: (index: number) => number): void {
    const at = nowMicros();
    for (let i = Math.max(first, last - this.size + 1); i <= last; i++) {
      const s = this.slot(i, termOf(i));
      if (s.appended === 0) s.appended = at;
    }
  }

  /** synced: the entries first..last are durable here now. */
  synced(first: number, last: number, termOf: (index: number) => number): void {
    const at = nowMicros();
    for (let i = Math.max(first, last - this.size + 1); i <= last; i++) {
      const s = this.slot(i, termOf(i));
      if (s.synced === 0) s.synced = at;
    }
  }

  /**
   * ack: follower `from` acknowledged every index up to `index`; `voters` is the configuration's
   * voter count (this leader included). Only indexes still kept are counted.
   */
  ack(from: number, index: number, voters: number): void {
    const prev = this.ackedTo.get(from) ?? 0;
    if (index <= prev) return;
    this.ackedTo.set(from, index);
    const need = Math.floor(voters / 2); // followers needed beside the leader's own copy
    const at = nowMicros();
    for (let i = Math.max(prev + 1, index - this.size + 1); i <= index; i++) {
      const k = i % this.size;
      const s = this.slots[k]!;
      if (s.index !== i) continue;
      this.ackCounts[k]! += 1;
      if (this.ackCounts[k] === need && s.acked === 0) {
        s.acked = at;
        s.ackFrom = from;
      }
    }
  }

  /** forgetAcks: a new term began; acknowledgements are counted afresh. */
  forgetAcks(): void {
    this.ackedTo.clear();
  }

  /** committed: the commit index is `commit` now; stamps the indexes it newly covers. */
  committed(commit: number, termOf: (index: number) => number): void {
    if (commit <= this.commitSeen) return;
    const at = nowMicros();
    for (let i = Math.max(this.commitSeen + 1, commit - this.size + 1); i <= commit; i++) {
      const s = this.slot(i, termOf(i));
      if (s.committed === 0) s.committed = at;
    }
    this.commitSeen = commit;
  }

  /** applied: the entry at (index, term) was applied now. */
  applied(index: number, term: number): void {
    const s = this.slot(index, term);
    if (s.applied === 0) s.applied = nowMicros();
  }

  /** read returns copies of the kept stamps with index ≥ `from`, lowest index first, at most `limit`. */
  read(from = 0, limit = this.size): PutStamps[] {
    const kept = this.slots.filter((s) => s.index > 0 && s.index >= from);
    kept.sort((a, b) => a.index - b.index);
    return kept.slice(0, limit).map((s) => ({ ...s }));
  }
}
