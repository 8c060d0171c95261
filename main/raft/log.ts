import { decodeConfEntry, emptyConf } from './conf';
import type { ConfEntry, ConfState, Entry, SnapshotMeta, TermRun } from './types';

/** ConfPoint records that the configuration `conf` took effect at log index `index` through `change`. */
export interface ConfPoint {
  index: number;
  conf: ConfState;
  change: ConfEntry['change'] | undefined;
}

/**
 * LogView is the read-only face of a node's log: what a host, the simulator and the status may
 * look at. Only the core changes the log.
 */
export interface LogView {
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly commit: number;
  readonly applied: number;
  readonly persistedIndex: number;
  readonly confs: readonly ConfPoint[];
  firstIndex(): number;
  lastIndex(): number;
  lastTerm(): number;
  term(i: number): number | undefined;
  entry(i: number): Entry | undefined;
  conf(): ConfState;
  confIndex(): number;
  latestConf(): ConfPoint;
  confAt(i: number): ConfState;
  confPointAt(i: number): ConfPoint;
  termRuns(limit: number): TermRun[];
}

/**
 * RaftLog is a node's log in memory: the entries after a compaction point (prevIndex, prevTerm),
 * the commit and applied indexes, what has been handed to the host for persistence, and the
 * configurations found in it (a configuration takes effect when appended, Raft thesis §4.1).
 *
 * Ordering invariant: prevIndex <= applied <= commit <= lastIndex(), and persistedIndex <= lastIndex().
 */
export class RaftLog implements LogView {
  entries: Entry[] = [];
  prevIndex = 0;
  prevTerm = 0;
  commit = 0;
  applied = 0;
  /** unstableFrom: the lowest index not yet handed to the host in a Ready. */
  unstableFrom = 1;
  /** persistedIndex: entries up to here are durable on this node (confirmed by advance()). */
  persistedIndex = 0;
  /** truncatedBelow: the lowest index truncated since the last Ready (Infinity if none). */
  truncatedBelow = Infinity;
  /** confs: configurations in effect from each index on; confs[0] is the one at or before prevIndex. */
  confs: ConfPoint[] = [{ index: 0, conf: emptyConf(), change: undefined }];

  firstIndex(): number {
    return this.prevIndex + 1;
  }

  lastIndex(): number {
    return this.prevIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length ? this.entries[this.entries.length - 1]!.term : this.prevTerm;
  }

  /** term returns the term of the entry at index i, or undefined when it is compacted or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.prevIndex) return this.prevTerm;
    if (i < this.prevIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - this.prevIndex - 1]!.term;
  }

  entry(i: number): Entry | undefined {
    if (i <= this.prevIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - this.prevIndex - 1];
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** isUpToDate: a candidate's log (lastIndex, lastTerm) is at least as up-to-date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** slice returns entries [lo, hi) — lo must be > prevIndex — at most maxBytes of payload (at least one entry). */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    const from = lo - this.prevIndex - 1;
    const to = Math.min(hi, this.lastIndex() + 1) - this.prevIndex - 1;
    if (from >= to) return [];
    if (maxBytes === Infinity) return this.entries.slice(from, to);
    let bytes = 0;
    let end = from;
    while (end < to) {
      bytes += this.entries[end]!.data.length + 24;
      if (bytes > maxBytes && end > from) break;
      end++;
    }
    return this.entries.slice(from, end);
  }

  /** conf is the latest configuration in the log (in effect even if uncommitted). */
  conf(): ConfState {
    return this.confs[this.confs.length - 1]!.conf;
  }

  /** confIndex is the index of the entry that set the latest configuration. */
  confIndex(): number {
    return this.confs[this.confs.length - 1]!.index;
  }

  latestConf(): ConfPoint {
    return this.confs[this.confs.length - 1]!;
  }

  /** confAt returns the configuration in effect at index i. */
  confAt(i: number): ConfState {
    return this.confPointAt(i).conf;
  }

  /** confPointAt returns the configuration in effect at index i, with where it took effect. */
  confPointAt(i: number): ConfPoint {
    for (let k = this.confs.length - 1; k >= 0; k--) {
      if (this.confs[k]!.index <= i) return this.confs[k]!;
    }
    return this.confs[0]!;
  }

  /**
   * termRuns returns where each run of equal terms begins in the entries this log holds
   * (firstIndex() … lastIndex(); nothing compacted into the snapshot), oldest first, keeping only
   * the latest `limit` runs. Terms never decrease along a log, so each run's start is found by a
   * binary search from the end: O(runs × log entries), cheap on every status even for a long log.
   */
  termRuns(limit: number): TermRun[] {
    const runs: TermRun[] = [];
    const ents = this.entries;
    let end = ents.length;
    while (end > 0 && runs.length < limit) {
      const term = ents[end - 1]!.term;
      let lo = 0;
      let hi = end - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ents[mid]!.term >= term) hi = mid;
        else lo = mid + 1;
      }
      runs.push({ start: this.prevIndex + 1 + lo, term });
      end = lo;
    }
    return runs.reverse();
  }

  /**
   * append adds entries that directly follow lastIndex() or overwrite a suffix: entries from
   * ents[0].index on are replaced. Truncating a committed entry is a safety violation and throws.
   */
  append(ents: Entry[]): void {
    if (ents.length === 0) return;
    const first = ents[0]!.index;
    if (first > this.lastIndex() + 1) {
      throw new Error(`raft log: gap appending ${first} after ${this.lastIndex()}`);
    }
    if (first <= this.lastIndex()) {
      if (first <= this.commit) {
        throw new Error(`raft log: truncating committed entry ${first} (commit ${this.commit})`);
      }
      this.entries.length = first - this.prevIndex - 1;
      this.truncatedBelow = Math.min(this.truncatedBelow, first);
      this.persistedIndex = Math.min(this.persistedIndex, first - 1);
      while (this.confs.length > 1 && this.confs[this.confs.length - 1]!.index >= first) {
        this.confs.pop();
      }
    }
    for (const e of ents) {
      this.entries.push(e);
      if (e.type === 'conf') {
        const ce = decodeConfEntry(e.data);
        this.confs.push({ index: e.index, conf: ce.conf, change: ce.change });
      }
    }
    this.unstableFrom = Math.min(this.unstableFrom, first);
  }

  /** findConflict returns the first index in ents whose term differs from ours (or that we lack), 0 if none. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * findConflictByTerm returns the largest index <= `index` whose term is <= `term`, stopping at
   * the compaction point. Used for fast backtracking on both sides of a rejected AppendEntries.
   */
  findConflictByTerm(index: number, term: number): number {
    if (index > this.lastIndex()) return index;
    for (;;) {
      const t = this.term(index);
      if (t === undefined || t <= term) return index;
      index--;
    }
  }

  /**
   * maybeAppend is the follower's AppendEntries consistency check (§5.3): if our entry at prevIndex
   * has prevTerm, append what is new and advance commit to min(leaderCommit, last new index).
   * Returns the last new index, or -1 on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.commit) {
        throw new Error(`raft log: conflict at committed index ${ci} (commit ${this.commit})`);
      }
      this.append(ents.slice(ci - (prevIndex + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  commitTo(i: number): boolean {
    if (i > this.commit) {
      if (i > this.lastIndex())
        throw new Error(`raft log: commit ${i} beyond last ${this.lastIndex()}`);
      this.commit = i;
      return true;
    }
    return false;
  }

  /** restore resets the log to a snapshot: nothing before or at meta.index remains. */
  restore(meta: SnapshotMeta): void {
    this.entries = [];
    this.prevIndex = meta.index;
    this.prevTerm = meta.term;
    this.commit = Math.max(this.commit, meta.index);
    this.applied = meta.index;
    this.unstableFrom = meta.index + 1;
    this.persistedIndex = meta.index;
    this.truncatedBelow = Math.min(this.truncatedBelow, meta.index + 1);
    this.confs = [{ index: meta.index, conf: meta.conf, change: undefined }];
  }

  /** compactTo drops entries <= index (which must be applied); confAt() still answers for kept indexes. */
  compactTo(index: number): void {
    if (index <= this.prevIndex) return;
    if (index > this.applied)
      throw new Error(`raft log: compacting ${index} beyond applied ${this.applied}`);
    const t = this.term(index)!;
    this.entries = this.entries.slice(index - this.prevIndex);
    this.prevIndex = index;
    this.prevTerm = t;
    let k = 0;
    while (k + 1 < this.confs.length && this.confs[k + 1]!.index <= index) k++;
    if (k > 0) this.confs = this.confs.slice(k);
  }
}
