import { checkEntries } from '../../../main/node/storage/storage';
import { WalReplay } from '../../../main/node/storage/wal-replay';
import type {
  Entry,
  HardState,
  PersistedState,
  Snapshot,
  SnapshotMeta,
} from '../../../main/raft/types';

/** WalRecord is one record of the simulated WAL, as FileStorage writes it (docs/storage.md). */
export type WalRecord =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'commit'; commit: number }
  | { kind: 'snapshot'; index: number; term: number };

/**
 * StorageMutation names a deliberate bug in the simulated store, for showing that the simulator
 * catches it: 'commit-before-entries' writes a batch's commit record in front of its entries
 * instead of after them; 'snapshot-file-unrecorded' does not record in the WAL a snapshot that it
 * found on open only as a file (see SimStorage), as FileStorage did not at first.
 */
export type StorageMutation = 'commit-before-entries' | 'snapshot-file-unrecorded';

/**
 * DiskFiles is what a node's data dir holds: exactly what survives a crash. It outlives the
 * process (one SimStorage per incarnation reads and writes it) and is replaced only when a node
 * id is reused with a fresh, empty dir.
 *
 *  - hardState: the hardstate file (term, vote and the commit that was durable when it was written);
 *  - wal: every WAL record that reached the disk, in write order (segments are never deleted here:
 *    FileStorage deletes only segments wholly covered by a durable snapshot, which changes
 *    nothing that load() returns);
 *  - snapshot: the newest snapshot file.
 *
 * `replay` is the WAL replayed so far by the storage's own replay rules (WalReplay), kept up to
 * date record by record, so that "would this node get (index, term) back after a crash?" costs
 * O(1); `commit` is the largest commit record.
 */
export class DiskFiles {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  readonly wal: WalRecord[] = [];
  snapshot: Snapshot | undefined;
  private readonly replay = new WalReplay();
  private walCommit = 0;
  /** snapshotRecorded: the index of the newest snapshot record in the WAL. */
  snapshotRecorded = 0;
  /** corrupt: why a record could not be replayed (load() would refuse to open), if one could not. */
  corrupt: string | undefined;
  /** checkedCommit: the commit floor the checker last verified (see SimCluster). */
  checkedCommit = 0;
  corruptReported = false;

  /** land makes one WAL record durable. */
  land(r: WalRecord): void {
    this.wal.push(r);
    if (r.kind === 'entry') {
      const why = this.replay.entry(r.entry);
      if (why !== undefined) this.corrupt ??= `record ${this.wal.length - 1}: ${why}`;
    } else if (r.kind === 'commit') {
      if (r.commit > this.walCommit) this.walCommit = r.commit;
    } else {
      this.replay.snapshot(r.index, r.term);
      if (r.index > this.snapshotRecorded) this.snapshotRecorded = r.index;
    }
  }

  /** landHardState makes a hardstate file durable (tmp, fsync, rename: all or nothing). */
  landHardState(hs: HardState): string | undefined {
    const prev = this.hardState;
    this.hardState = { ...hs };
    if (hs.term < prev.term) return `hard state term went back from ${prev.term} to ${hs.term}`;
    if (hs.term === prev.term && prev.vote !== 0 && hs.vote !== prev.vote)
      return `hard state vote in term ${hs.term} changed from ${prev.vote} to ${hs.vote}`;
    return undefined;
  }

  /** landSnapshot makes a snapshot file durable (it is the newest: older ones are refused). */
  landSnapshot(s: Snapshot): void {
    this.snapshot = s;
  }

  /**
   * termAt returns the term of the entry at `index` that load() would return right now, or
   * undefined if it would return none there. Indexes at or below the snapshot file's return the
   * snapshot's term at its own index and 0 below it (the snapshot holds them, committed).
   */
  termAt(index: number): number | undefined {
    const snap = this.snapshot?.meta;
    const s = snap?.index ?? 0;
    if (index < s) return 0;
    if (index === s && snap) return snap.term;
    const log = this.replay.log;
    if (log.length === 0) return undefined;
    const first = log[0]!.index;
    const last = first + log.length - 1;
    // The snapshot file's rule, applied after the last record (FileStorage.open).
    if (snap && s >= first && !(s <= last && log[s - first]!.term === snap.term)) return undefined;
    if (index < first || index > last) return undefined;
    return log[index - first]!.term;
  }

  /** commitFloor is the commit a crash now would give back (FileStorage.open's formula). */
  commitFloor(): number {
    const snapIndex = this.snapshot?.meta.index ?? 0;
    const log = this.replay.log;
    let last = snapIndex;
    if (log.length > 0) {
      const first = log[0]!.index;
      last = first + log.length - 1;
      // The snapshot file's rule after the last record may discard the log.
      if (snapIndex > 0 && this.termAt(last) === undefined) last = snapIndex;
    }
    return Math.min(Math.max(this.hardState.commit, this.walCommit, snapIndex), last);
  }

  /** holds: a crash now would give back the entry (index, term), or a snapshot covering it. */
  holds(index: number, term: number): boolean {
    const t = this.termAt(index);
    if (t === undefined) return false;
    return index <= (this.snapshot?.meta.index ?? 0) || t === term;
  }

  /**
   * load reads the dir back as FileStorage.open() does: hard state, newest snapshot, WAL replayed
   * record by record (entries appended or overwriting, commit records raising the commit,
   * snapshot records applying the Raft snapshot rule), the snapshot file's rule once more at the
   * end, entries required to follow the snapshot, and commit = min(max(hardstate commit, commit
   * records, snapshot index), last index). It returns why it refuses to open, if it does.
   */
  load(): { state: PersistedState } | { error: string } {
    const replay = new WalReplay();
    let commit = 0;
    for (let k = 0; k < this.wal.length; k++) {
      const r = this.wal[k]!;
      if (r.kind === 'entry') {
        const why = replay.entry(r.entry);
        if (why !== undefined) return { error: `corrupt WAL record ${k}: ${why}` };
      } else if (r.kind === 'commit') {
        commit = Math.max(commit, r.commit);
      } else {
        replay.snapshot(r.index, r.term);
      }
    }
    const snapshot = this.snapshot;
    const snapIndex = snapshot?.meta.index ?? 0;
    if (snapshot) replay.snapshot(snapIndex, snapshot.meta.term);
    const entries = replay.log;
    if (entries.length > 0 && entries[0]!.index !== snapIndex + 1) {
      return {
        error: `WAL resumes at index ${entries[0]!.index} but the snapshot ends at ${snapIndex}: entries are missing`,
      };
    }
    const lastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : snapIndex;
    const hs = this.hardState;
    return {
      state: {
        hardState: {
          term: hs.term,
          vote: hs.vote,
          commit: Math.min(Math.max(hs.commit, commit, snapIndex), lastIndex),
        },
        snapshot,
        entries,
      },
    };
  }
}

/** StorageEnv is what a SimStorage needs from the simulator. */
export interface StorageEnv {
  rng: () => number;
  /** after runs fn after ms of simulated time, unless the process crashed meanwhile. */
  after: (ms: number, fn: () => void) => void;
  /** stats: counters shared by every store of the run. */
  stats: SimStorageStats;
  /** problem reports a violation of the storage's own invariants (the hard state went back). */
  problem: (what: string) => void;
  /**
   * landed is called after each hardstate file, WAL record or snapshot file reaches the disk:
   * every such moment is one where a crash would leave exactly what is there.
   */
  landed: () => void;
}

/** InjectedIoError is an I/O error the simulator injected (a failed fsync); the node must exit. */
export class InjectedIoError extends Error {
  constructor(what: string) {
    super(`EIO: ${what} failed (injected)`);
    this.name = 'InjectedIoError';
  }
}

/** DiskTiming: how long the simulated disk takes, as [min, max] ms; all zero is an instant disk. */
export interface DiskTiming {
  /** syncMs: one flush (hardstate file if needed, one write of the batch, one fdatasync). */
  syncMs: [number, number];
  /** snapshotMs: writing a snapshot file durably (tmp, fsync, rename, fsync dir). */
  snapshotMs: [number, number];
}

type Done = (err?: Error) => void;

interface Flush {
  hs: HardState | undefined;
  records: WalRecord[];
  commit: number;
  waiters: Done[];
}

/** SimStorageStats counts what the simulated disk did, for the run summary. */
export interface SimStorageStats {
  /** syncs: flushes (each one fdatasync); entriesSynced: entry records they carried. */
  syncs: number;
  entriesSynced: number;
  /** groupedSyncs: sync() calls that joined a flush already running or queued (group commit). */
  groupedSyncs: number;
  /** tornFlushes: flushes cut by a crash or a failed fsync with only part of them on disk. */
  tornFlushes: number;
  /** failures: injected I/O errors (a failed fsync or snapshot write). */
  failures: number;
}

/**
 * SimStorage is one process's open store over a DiskFiles, with FileStorage's semantics and
 * ordering (main/node/storage/file-storage.ts, docs/storage.md), on simulated time:
 *
 *  - append() and setHardState() only buffer, one batch per flush; append() validates like the
 *    real store (checkEntries: consecutive, no gap after the last index) and throws RangeError;
 *  - sync() takes the batch (with a commit record AFTER its entries, if the commit grew) and
 *    makes it durable: first the hardstate file, if term or vote changed, then the WAL records
 *    in order. A sync() while one runs joins the next one (at most one queued): group commit;
 *  - saveSnapshot() runs one at a time: the file is written durably, then the snapshot rule is
 *    applied to the in-memory log and a snapshot record buffered, then a sync;
 *  - a crash (crash()) keeps what already landed, plus a prefix of the flush in progress, in that
 *    order (hardstate file, then records one by one: a torn tail is cut at a record boundary on
 *    load), and the snapshot file being written or not; everything buffered is lost;
 *  - an injected I/O error fails the store: that call and every later one fail with it, and the
 *    flush concerned may have landed in part, as on a real disk;
 *  - on open, a snapshot found only as a file (a crash came after its rename and before its WAL
 *    record was synced) is recorded in the WAL, durably, before anything else is written.
 *    Without that ('snapshot-file-unrecorded') the log the file's rule discarded is still in the
 *    WAL, the entries written next follow the snapshot, and the open after that finds a gap and
 *    refuses the data dir ("entry 21 leaves a gap after entry 5").
 * With an instant disk (timing all zero) every operation completes synchronously, slow or not.
 */
export class SimStorage {
  failure: Error | undefined;
  /** fsyncDelayMs: a slow disk: every flush and snapshot write takes this much longer. */
  fsyncDelayMs = 0;
  /** failNext: the next flush or snapshot write fails with an I/O error. */
  failNext = false;
  /** onWrite: called when a flush or snapshot write starts, with its duration (crash injection). */
  onWrite: ((ms: number) => void) | undefined;

  private batch: WalRecord[] = [];
  private hs: HardState;
  private hsQueued: { term: number; vote: number };
  private hsDirty = false;
  private commitQueued: number;
  private commitDurable: number;
  /** the in-memory log view (FileStorage's term runs): base = snapshot index, then terms. */
  private base: number;
  private terms: number[];
  private snapMeta: SnapshotMeta | undefined;
  private flushing: Flush | undefined;
  private queued: Done[] | undefined;
  private writingSnapshot: Snapshot | undefined;
  private maintenance: (() => void)[] = [];
  private maintenanceBusy = false;

  constructor(
    readonly disk: DiskFiles,
    loaded: PersistedState,
    private readonly env: StorageEnv,
    private readonly timing: DiskTiming,
    private readonly mutation?: StorageMutation,
  ) {
    this.hs = { ...loaded.hardState };
    this.hsQueued = { term: loaded.hardState.term, vote: loaded.hardState.vote };
    this.commitQueued = loaded.hardState.commit;
    this.commitDurable = loaded.hardState.commit;
    this.snapMeta = loaded.snapshot?.meta;
    this.base = loaded.snapshot?.meta.index ?? 0;
    this.terms = loaded.entries.map((e) => e.term);
    const s = loaded.snapshot?.meta;
    if (s && s.index > disk.snapshotRecorded && mutation !== 'snapshot-file-unrecorded') {
      // FileStorage.open records a snapshot found only as a file, durably, before it returns.
      disk.land({ kind: 'snapshot', index: s.index, term: s.term });
      env.landed();
    }
  }

  /** busy: a flush or a snapshot write is on its way to the disk. */
  get busy(): boolean {
    return this.flushing !== undefined || this.writingSnapshot !== undefined;
  }

  private lastIndex(): number {
    return this.base + this.terms.length;
  }

  private termAt(i: number): number | undefined {
    if (i === this.base) return this.snapMeta?.term;
    if (i < this.base || i > this.lastIndex()) return undefined;
    return this.terms[i - this.base - 1];
  }

  private duration(range: [number, number]): number {
    const [lo, hi] = range;
    if (hi <= 0) return 0;
    return lo + this.env.rng() * (hi - lo) + this.fsyncDelayMs;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  append(entries: Entry[]): void {
    this.check();
    if (entries.length === 0) return;
    const kept = checkEntries(entries, this.snapMeta?.index ?? 0, this.lastIndex());
    if (kept.length === 0) return;
    this.terms.length = kept[0]!.index - this.base - 1;
    for (const e of kept) {
      this.batch.push({ kind: 'entry', entry: e });
      this.terms.push(e.term);
    }
  }

  setHardState(hs: HardState): void {
    this.check();
    this.hs = { ...hs };
    if (hs.term !== this.hsQueued.term || hs.vote !== this.hsQueued.vote) {
      this.hsQueued = { term: hs.term, vote: hs.vote };
      this.hsDirty = true;
    }
  }

  private dirty(): boolean {
    return this.batch.length > 0 || this.hsDirty || this.hs.commit > this.commitQueued;
  }

  /** sync calls done once everything buffered before the call is durable (or with the error). */
  sync(done: Done): void {
    if (this.failure) return done(this.failure);
    const dirty = this.dirty();
    if (this.flushing === undefined) {
      if (dirty) this.startFlush([done]);
      else done();
      return;
    }
    this.env.stats.groupedSyncs++;
    // Not dirty: everything buffered went into the flush running (a queued one implies dirty).
    if (!dirty) this.flushing.waiters.push(done);
    else (this.queued ??= []).push(done);
  }

  private startFlush(waiters: Done[]): void {
    if (this.hs.commit > this.commitQueued) {
      const rec: WalRecord = { kind: 'commit', commit: this.hs.commit };
      if (this.mutation === 'commit-before-entries') this.batch.unshift(rec);
      else this.batch.push(rec);
      this.commitQueued = this.hs.commit;
    }
    const f: Flush = {
      hs: this.hsDirty
        ? { term: this.hsQueued.term, vote: this.hsQueued.vote, commit: this.commitDurable }
        : undefined,
      records: this.batch,
      commit: this.commitQueued,
      waiters,
    };
    this.batch = [];
    this.hsDirty = false;
    this.flushing = f;
    this.env.stats.syncs++;
    for (const r of f.records) if (r.kind === 'entry') this.env.stats.entriesSynced++;
    const ms = this.duration(this.timing.syncMs);
    this.onWrite?.(ms);
    if (ms <= 0) this.endFlush(f);
    else this.env.after(ms, () => this.endFlush(f));
  }

  private endFlush(f: Flush): void {
    if (this.failNext) {
      this.failNext = false;
      this.env.stats.failures++;
      this.landPart(f);
      this.flushing = undefined;
      this.failure = new InjectedIoError('fdatasync');
      for (const w of [...f.waiters, ...(this.queued ?? [])]) w(this.failure);
      this.queued = undefined;
      return;
    }
    // An instant flush is atomic (nothing can happen in between); a real one lands piece by piece,
    // and a crash may stop it after any piece.
    const atomic = this.timing.syncMs[1] <= 0;
    if (f.hs) this.landHardState(f.hs, !atomic);
    for (const r of f.records) {
      this.disk.land(r);
      if (!atomic) this.env.landed();
    }
    if (atomic) this.env.landed();
    if (f.commit > this.commitDurable) this.commitDurable = f.commit;
    this.flushing = undefined;
    const q = this.queued;
    this.queued = undefined;
    if (q) {
      if (this.dirty()) this.startFlush(q);
      else f.waiters.push(...q);
    }
    for (const w of f.waiters) w();
  }

  private landHardState(hs: HardState, tell = true): void {
    const p = this.disk.landHardState(hs);
    if (p) this.env.problem(p);
    if (tell) this.env.landed();
  }

  /**
   * landPart lands a prefix of a flush, `k` pieces (random if not given): the hardstate file
   * first, then the records in order.
   */
  private landPart(f: Flush, landed?: number): void {
    const steps = (f.hs ? 1 : 0) + f.records.length;
    const k = Math.min(steps, landed ?? Math.floor(this.env.rng() * (steps + 1)));
    if (k < steps) this.env.stats.tornFlushes++;
    let i = 0;
    if (f.hs && i++ < k) this.landHardState(f.hs);
    for (const r of f.records) {
      if (i++ >= k) break;
      this.disk.land(r);
      this.env.landed();
    }
  }

  /**
   * saveSnapshot writes the snapshot file, applies the snapshot rule to the in-memory log,
   * buffers a snapshot record and syncs; calls run one at a time. A snapshot older than the
   * stored one is refused with a RangeError (the store stays usable).
   */
  saveSnapshot(snap: Snapshot, done: Done): void {
    this.maintenance.push(() => this.runSaveSnapshot(snap, done));
    if (!this.maintenanceBusy) this.nextMaintenance();
  }

  private nextMaintenance(): void {
    const task = this.maintenance.shift();
    this.maintenanceBusy = task !== undefined;
    task?.();
  }

  private runSaveSnapshot(snap: Snapshot, done: Done): void {
    const finish = (err?: Error): void => {
      this.nextMaintenance();
      done(err);
    };
    const meta = snap.meta;
    if (this.failure) return finish(this.failure);
    if (this.snapMeta && meta.index < this.snapMeta.index) {
      return finish(
        new RangeError(
          `snapshot at index ${meta.index} is older than the stored one at ${this.snapMeta.index}`,
        ),
      );
    }
    this.writingSnapshot = snap;
    const written = (): void => {
      this.writingSnapshot = undefined;
      if (this.failNext) {
        this.failNext = false;
        this.env.stats.failures++;
        this.failure = new InjectedIoError('snapshot fsync');
        return finish(this.failure);
      }
      this.disk.landSnapshot(snap);
      this.env.landed();
      const current = this.snapMeta;
      const matches =
        this.termAt(meta.index) === meta.term ||
        (current?.index === meta.index && current.term === meta.term);
      this.terms = matches ? this.terms.slice(Math.max(0, meta.index - this.base)) : [];
      this.base = meta.index;
      this.snapMeta = meta;
      this.batch.push({ kind: 'snapshot', index: meta.index, term: meta.term });
      this.sync(finish);
    };
    const ms = this.duration(this.timing.snapshotMs);
    this.onWrite?.(ms);
    if (ms <= 0) written();
    else this.env.after(ms, written);
  }

  /**
   * crash ends the process: what landed stays; a prefix of the flush in progress lands (`landed`
   * pieces if given); the snapshot file being written lands or not; everything buffered is lost.
   */
  crash(landed?: number): void {
    const f = this.flushing;
    if (f) this.landPart(f, landed);
    this.flushing = undefined;
    const s = this.writingSnapshot;
    if (s && this.env.rng() < 0.5) {
      this.disk.landSnapshot(s);
      this.env.landed();
    }
    this.writingSnapshot = undefined;
    this.failure ??= new Error('crashed');
  }
}
