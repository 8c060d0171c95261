import { checkEntries } from '../node/storage/storage';
import { WalReplay } from '../node/storage/wal-replay';
import type { Entry, HardState, PersistedState, Snapshot, SnapshotMeta } from '../raft/types';

/** WalRecord is one record of the simulated WAL, as FileStorage writes it (docs/storage.md). */
export type WalRecord =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'commit'; commit: number }
  | { kind: 'snapshot'; index: number; term: number }
  /**
   * batchEnd: the last record of a batch; valid only right after records of its own batch, or
   * (`closes`, written on open) after whatever records follow the last batch end.
   */
  | { kind: 'batchEnd'; closes?: boolean }
  /** header: a segment's first record, with the number of records of the segment before. */
  | { kind: 'header'; prevEnd: number };

/** Rec is a record in a segment, with the batch (one write) it was written in. */
interface Rec {
  r: WalRecord;
  batch: number;
}

/**
 * Segment is one WAL segment file: its records as the page cache holds them (what a process
 * reads), of which the first `durable` are on the disk (what a power cut leaves).
 */
interface Segment {
  seq: number;
  recs: Rec[];
  durable: number;
  /** maxIndex: the largest entry or snapshot index recorded in it. */
  maxIndex: number;
}

/** SimCheckpoint is one slot of the checkpoint file; offset counts the segment's records. */
export interface SimCheckpoint {
  counter: number;
  seq: number;
  offset: number;
  commit: number;
  term: number;
  vote: number;
  snapshotIndex: number;
}

/** Slot is what a checkpoint slot holds: a checkpoint, or garbage from a torn write. */
type Slot = SimCheckpoint | 'torn';

/**
 * StorageMutation names a deliberate bug in the simulated store, for showing that the simulator
 * catches it. Each but the first is how FileStorage behaved before a fix:
 *  - 'commit-before-entries': a batch's commit record goes in front of its entries;
 *  - 'snapshot-file-unrecorded': open does not record in the WAL a snapshot it found only as a
 *    file;
 *  - 'open-without-sync': open does not make durable what the previous process left in the page
 *    cache only, and acts on it;
 *  - 'open-batch-kept': open leaves a batch that a crash cut without its batch end open, so the
 *    next batch end does not follow a complete batch;
 *  - 'checkpoint-one-slot': segments are kept only from the one the newest durable checkpoint
 *    names (the other slot may name an older one), and a new store names its first segment in
 *    one slot only (the other says nothing was written).
 */
export type StorageMutation =
  | 'commit-before-entries'
  | 'snapshot-file-unrecorded'
  | 'open-without-sync'
  | 'open-batch-kept'
  | 'checkpoint-one-slot';

export const STORAGE_MUTATIONS: readonly StorageMutation[] = [
  'commit-before-entries',
  'snapshot-file-unrecorded',
  'open-without-sync',
  'open-batch-kept',
  'checkpoint-one-slot',
];

/**
 * View is the log, commit and files as one state of the dir would give them back: `visible`,
 * what a process reads (page cache included), or `durable`, what is on the disk. The WAL is
 * replayed into it record by record, by the storage's own rules (WalReplay).
 */
export class View {
  replay = new WalReplay();
  walCommit = 0;
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: Snapshot | undefined;

  /** add replays one record; it returns why the record cannot be replayed, if it cannot. */
  add(r: WalRecord): string | undefined {
    if (r.kind === 'entry') return this.replay.entry(r.entry);
    if (r.kind === 'commit') {
      if (r.commit > this.walCommit) this.walCommit = r.commit;
    } else if (r.kind === 'snapshot') {
      this.replay.snapshot(r.index, r.term);
    }
    return undefined;
  }

  /**
   * termAt returns the term of the entry at `index` that load() would return from this view, or
   * undefined if none. Indexes at or below the snapshot file's return the snapshot's term at its
   * own index and 0 below it (the snapshot holds them, committed).
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

  /** commitFloor is the commit load() would give back (FileStorage.open's formula). */
  commitFloor(): number {
    const snapIndex = this.snapshot?.meta.index ?? 0;
    const log = this.replay.log;
    let last = snapIndex;
    if (log.length > 0) {
      const first = log[0]!.index;
      last = first + log.length - 1;
      if (snapIndex > 0 && this.termAt(last) === undefined) last = snapIndex;
    }
    return Math.min(Math.max(this.hardState.commit, this.walCommit, snapIndex), last);
  }

  /** holds: the view gives back the entry (index, term), or a snapshot covering it. */
  holds(index: number, term: number): boolean {
    const t = this.termAt(index);
    if (t === undefined) return false;
    return index <= (this.snapshot?.meta.index ?? 0) || t === term;
  }
}

function blank(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0 && hs.commit === 0;
}

/**
 * DiskFiles is a node's data dir as FileStorage writes it (docs/storage.md), in two states: what
 * the page cache holds, which outlives a crash of the process and is what the next process
 * reads, and what is on the disk, which is all a power cut leaves. It outlives the process (one
 * SimStorage per process reads and writes it) and is replaced only when a node id is reused with
 * a fresh, empty dir.
 *
 *  - hardstate and a snapshot file: written to a tmp file, fsynced, renamed (now visible), then
 *    the directory fsynced (now durable);
 *  - WAL segments of records written in batches, each closed by a batch end: written (visible),
 *    then the segment fdatasynced (durable). A new segment starts with a header recording how
 *    many records the one before holds, and is durable as soon as it exists; segments are
 *    deleted from the oldest on once a durable snapshot covers them;
 *  - the checkpoint: two slots written in turn (a pwrite: visible), fdatasynced later (durable);
 *    a power cut can tear a slot being written.
 *
 * A power cut (powerLoss) keeps what is durable and, of what is not, whatever the page cache
 * happened to write back: each record, rename or slot, or one torn slot. load() then reads it with
 * FileStorage's open rules, refusals included.
 */
export class DiskFiles {
  segs: Segment[];
  private nextSeq = 2;
  /** nextBatch: the id of the next batch written (unique in the dir). */
  nextBatch = 2;
  hsVisible: HardState = { term: 0, vote: 0, commit: 0 };
  hsDurable: HardState = { term: 0, vote: 0, commit: 0 };
  snapVisible: Snapshot | undefined;
  snapDurable: Snapshot | undefined;
  readonly slots: { vis: Slot; dur: Slot }[];
  /** damage: why open refuses what a power cut left of the WAL, if it does. */
  damage: string | undefined;
  /** visible: what a process reads now; durable: what a power cut now would leave at least. */
  visible = new View();
  durable = new View();
  /** snapshotRecorded: the index of the newest snapshot record in the WAL. */
  snapshotRecorded = 0;
  /** corrupt: why the WAL as visible could not be read (load() would refuse), if it could not. */
  corrupt: string | undefined;
  /** checkedCommit: the commit floor the checker last verified (see SimCluster). */
  checkedCommit = 0;
  corruptReported = false;
  /** open: the batch of the records after the last batch end of the last segment, and how many. */
  private openBatchId = 0;
  private openMixed = false;
  private openCount = 0;

  /**
   * The dir as a new store leaves it: a blank hardstate, segment 1 with its opening batch
   * (header, commit 0, batch end), and the checkpoint naming it in both slots ('checkpoint-one-
   * slot': in one; the other says nothing was written).
   */
  constructor(mutation?: StorageMutation) {
    this.segs = [
      {
        seq: 1,
        recs: [
          { r: { kind: 'header', prevEnd: 0 }, batch: 1 },
          { r: { kind: 'commit', commit: 0 }, batch: 1 },
          { r: { kind: 'batchEnd' }, batch: 1 },
        ],
        durable: 3,
        maxIndex: 0,
      },
    ];
    const cp = (counter: number, seq: number, offset: number): SimCheckpoint => ({
      counter,
      seq,
      offset,
      commit: 0,
      term: 0,
      vote: 0,
      snapshotIndex: 0,
    });
    const older = mutation === 'checkpoint-one-slot' ? cp(1, 0, 0) : cp(3, 1, 3);
    const newer = cp(2, 1, 3);
    this.slots = [
      { vis: newer, dur: newer },
      { vis: older, dur: older },
    ];
  }

  /** hardState: the hardstate file on the disk. */
  get hardState(): HardState {
    return this.hsDurable;
  }

  /** snapshot: the newest snapshot file on the disk. */
  get snapshot(): Snapshot | undefined {
    return this.snapDurable;
  }

  /** wal: every record of the WAL as a process would read it, in order. */
  get wal(): WalRecord[] {
    return this.segs.flatMap((s) => s.recs.map((x) => x.r));
  }

  get active(): Segment {
    return this.segs[this.segs.length - 1]!;
  }

  /** holds: a power cut now would still give back the entry (index, term), or a snapshot covering it. */
  holds(index: number, term: number): boolean {
    return this.durable.holds(index, term);
  }

  /** termAt: the term at `index` a power cut now would give back (see View.termAt). */
  termAt(index: number): number | undefined {
    return this.durable.termAt(index);
  }

  // ---- writing (each is one moment a crash can fall after)

  /** write appends a record to the active segment (the page cache). */
  write(r: WalRecord, batch: number): void {
    const seg = this.active;
    seg.recs.push({ r, batch });
    this.note(seg, r);
    const why = this.visible.add(r);
    if (why !== undefined)
      this.corrupt ??= `segment ${seg.seq} record ${seg.recs.length - 1}: ${why}`;
    if (r.kind === 'batchEnd') {
      if (!r.closes && (this.openMixed || (this.openCount > 0 && this.openBatchId !== batch))) {
        this.corrupt ??= `segment ${seg.seq} record ${seg.recs.length - 1}: a batch end after records of another batch`;
      }
      this.openCount = 0;
      this.openMixed = false;
    } else {
      if (this.openCount > 0 && this.openBatchId !== batch) this.openMixed = true;
      if (this.openCount === 0) this.openBatchId = batch;
      this.openCount++;
    }
  }

  private note(seg: Segment, r: WalRecord): void {
    const index = r.kind === 'entry' ? r.entry.index : r.kind === 'snapshot' ? r.index : 0;
    if (index > seg.maxIndex) seg.maxIndex = index;
    if (r.kind === 'snapshot' && r.index > this.snapshotRecorded) this.snapshotRecorded = r.index;
  }

  /** openBatch: records follow the last batch end of the WAL (a crash cut their batch short). */
  openBatch(): boolean {
    return this.openCount > 0;
  }

  /** syncWal is the fdatasync of the active segment: its records are on the disk. */
  syncWal(): void {
    const seg = this.active;
    if (this.segs.some((s) => s !== seg && s.durable < s.recs.length)) {
      // Records of an earlier segment are not durable (only a store that does not sync on open
      // leaves that): the durable view is read from the files again.
      seg.durable = seg.recs.length;
      this.durable = this.durableFromFiles();
      return;
    }
    for (let k = seg.durable; k < seg.recs.length; k++) this.durable.add(seg.recs[k]!.r);
    seg.durable = seg.recs.length;
  }

  /** durableFromFiles replays what is on the disk (the durable part of every segment). */
  private durableFromFiles(): View {
    const d = new View();
    d.hardState = this.hsDurable;
    d.snapshot = this.snapDurable;
    for (const seg of this.segs) for (const x of seg.recs.slice(0, seg.durable)) d.add(x.r);
    return d;
  }

  /** newSegment starts the next segment, durable at once (tmp, fdatasync, rename, fsync wal/). */
  newSegment(commit: number, batch: number): Segment {
    const prevEnd = this.active.recs.length;
    const seg: Segment = {
      seq: this.nextSeq++,
      recs: [
        { r: { kind: 'header', prevEnd }, batch },
        { r: { kind: 'commit', commit }, batch },
        { r: { kind: 'batchEnd' }, batch },
      ],
      durable: 3,
      maxIndex: 0,
    };
    this.segs.push(seg);
    this.visible.add(seg.recs[1]!.r);
    this.durable.add(seg.recs[1]!.r);
    this.openCount = 0;
    this.openMixed = false;
    return seg;
  }

  /** deleteOldest removes the oldest segment (unlink, fsync wal/: durable at once). */
  deleteOldest(): void {
    this.segs.shift();
  }

  /** renameHardState makes a hardstate file visible; it returns a problem if it goes back. */
  renameHardState(hs: HardState): string | undefined {
    const prev = this.hsVisible;
    this.hsVisible = { ...hs };
    this.visible.hardState = this.hsVisible;
    if (hs.term < prev.term) return `hard state term went back from ${prev.term} to ${hs.term}`;
    if (hs.term === prev.term && prev.vote !== 0 && hs.vote !== prev.vote)
      return `hard state vote in term ${hs.term} changed from ${prev.vote} to ${hs.vote}`;
    return undefined;
  }

  /** syncDataDir is the fsync of the data dir: the hardstate file's rename is durable. */
  syncDataDir(): void {
    this.hsDurable = this.hsVisible;
    this.durable.hardState = this.hsDurable;
  }

  /** renameSnapshot makes a snapshot file visible (it is the newest: older ones are refused). */
  renameSnapshot(s: Snapshot): void {
    this.snapVisible = s;
    this.visible.snapshot = s;
  }

  /** syncSnapDir is the fsync of snap/: the snapshot file's rename is durable. */
  syncSnapDir(): void {
    this.snapDurable = this.snapVisible;
    this.durable.snapshot = this.snapDurable;
  }

  writeSlot(cp: SimCheckpoint): void {
    this.slots[cp.counter % 2]!.vis = { ...cp };
  }

  syncCheckpoint(): void {
    for (const s of this.slots) s.dur = s.vis;
  }

  /** newestSlot: the checkpoint a process reads: the intact slot with the higher counter. */
  newestSlot(durable = false): SimCheckpoint | undefined {
    let best: SimCheckpoint | undefined;
    for (const s of this.slots) {
      const v = durable ? s.dur : s.vis;
      if (v !== 'torn' && (!best || v.counter > best.counter)) best = v;
    }
    return best;
  }

  /** slotSeqs: the segment each intact slot names (a torn one: the newest's, it is never read). */
  slotSeqs(): [number, number] {
    const seq = this.newestSlot()?.seq ?? 0;
    const [a, b] = this.slots.map((s) => (s.vis === 'torn' ? seq : s.vis.seq));
    return [a!, b!];
  }

  /**
   * syncAll makes everything visible durable: what open does first (fsync of the dirs,
   * fdatasync of the checkpoint and the last segment). Segments before the last are durable
   * already, except what a process that did not do this left in them.
   */
  syncAll(): void {
    const pending = this.segs.some((s) => s.durable < s.recs.length);
    for (const seg of this.segs) seg.durable = seg.recs.length;
    this.syncDataDir();
    this.syncSnapDir();
    this.syncCheckpoint();
    if (pending) this.durable = this.durableFromFiles();
  }

  // ---- a power cut

  /**
   * powerLoss is a power cut (or an OS crash): of everything not yet durable, the page cache
   * may have written back any part. Each rename not yet durable happened or not; each slot
   * written since the checkpoint's last fdatasync is as it was, as written, or (one of them at
   * most) torn; each WAL
   * record not yet durable reached the disk or not. Open's rules then decide what is read
   * back: the WAL ends at the first record lost (cut there, repaired, if it was torn rather
   * than never written), unless a record of a later batch survived after it, a segment after
   * it exists, or the cut would lose entries at or below the durable commit: then open refuses.
   */
  powerLoss(rng: () => number): void {
    // Each draw below 0.5 (0.4 for a slot) is "it reached the disk": rng() => 0.7 loses all that
    // can be lost, tearing nothing; rng() => 0.1 keeps all of it.
    if (this.hsVisible !== this.hsDurable && rng() >= 0.5) this.hsVisible = this.hsDurable;
    this.hsDurable = this.hsVisible;
    if (this.snapVisible !== this.snapDurable && rng() >= 0.5) this.snapVisible = this.snapDurable;
    this.snapDurable = this.snapVisible;
    // The file is one page: written back whole, slot by slot (a 512-byte sector each), so a
    // power cut tears at most the one slot being written at that instant.
    let torn = false;
    for (const s of this.slots) {
      if (s.vis !== s.dur) {
        const x = rng();
        if (x >= 0.4 && x < 0.8) s.vis = s.dur;
        else if (x >= 0.8 && !torn) {
          s.vis = 'torn';
          torn = true;
        }
      }
      s.dur = s.vis;
    }
    const snapIndex = this.snapVisible?.meta.index ?? 0;
    for (let k = 0; k < this.segs.length; k++) {
      const seg = this.segs[k]!;
      const pending = seg.recs.length - seg.durable;
      if (pending === 0) continue;
      const survives = Array.from({ length: pending }, () => rng() < 0.5);
      const j = survives.indexOf(false);
      if (j < 0) {
        seg.durable = seg.recs.length;
        continue;
      }
      const at = seg.durable + j;
      const lost = seg.recs[at]!;
      const where = `WAL segment ${seg.seq} record ${at}`;
      if (k < this.segs.length - 1) {
        this.damage ??= `${where} was lost in a power cut, but segment ${this.segs[k + 1]!.seq} follows it`;
      } else {
        const later = survives.slice(j + 1);
        const foreign = later.some((ok, i) => ok && seg.recs[at + 1 + i]!.batch !== lost.batch);
        if (foreign) {
          this.damage ??= `${where} was lost in a power cut, but a record of a later batch after it survived: refusing to cut it`;
        } else if (later.some((ok) => ok) || rng() < 0.5) {
          // Damage rather than zeros from a record boundary: the repair's floor check applies.
          const replay = new WalReplay();
          let commit = 0;
          for (const s of this.segs) {
            for (let i = 0; i < (s === seg ? at : s.recs.length); i++) {
              const r = s.recs[i]!.r;
              if (r.kind === 'entry') replay.entry(r.entry);
              else if (r.kind === 'snapshot') replay.snapshot(r.index, r.term);
              else if (r.kind === 'commit') commit = Math.max(commit, r.commit);
            }
          }
          const floor = Math.max(this.hsVisible.commit, commit);
          const kept = Math.max(replay.lastIndex(), snapIndex);
          const claims = lost.r.kind === 'entry' ? lost.r.entry.index : -1;
          if (floor > kept || (claims > snapIndex && claims <= floor)) {
            this.damage ??= `${where} was torn in a power cut; cutting the tail there would lose entries at or below the durable commit index ${floor}`;
          }
        }
      }
      seg.recs.length = at;
      seg.durable = at;
    }
    this.rebuild();
  }

  /** rebuild computes both views (now the same) and the WAL's state from the files. */
  private rebuild(): void {
    const v = new View();
    v.hardState = this.hsVisible;
    v.snapshot = this.snapVisible;
    this.snapshotRecorded = 0;
    this.openCount = 0;
    this.openMixed = false;
    this.corrupt = undefined;
    for (const seg of this.segs) {
      seg.maxIndex = 0;
      this.openCount = 0;
      this.openMixed = false;
      for (const x of seg.recs) {
        this.note(seg, x.r);
        v.add(x.r);
        if (x.r.kind === 'batchEnd') {
          this.openCount = 0;
          this.openMixed = false;
        } else {
          if (this.openCount > 0 && this.openBatchId !== x.batch) this.openMixed = true;
          if (this.openCount === 0) this.openBatchId = x.batch;
          this.openCount++;
        }
      }
    }
    this.visible = v;
    this.durable = this.durableFromFiles();
    this.checkedCommit = 0;
  }

  // ---- reading

  /**
   * load reads the dir back as FileStorage.open() does (docs/storage.md, "Recovery"): the
   * checkpoint (the newest intact slot), the segments it requires, each closed segment as long as
   * the next one's header says, the last as long as the checkpoint says, the WAL replayed record
   * by record (entries appended or overwriting, commit records raising the commit, snapshot
   * records applying the Raft snapshot rule, every batch end right after records of its own
   * batch), the snapshot file's rule once more at the end, entries required to follow the
   * snapshot, the hardstate and the snapshot file no older than the checkpoint says, and commit =
   * min(max(hardstate commit, commit records, snapshot index), last index). It returns why it
   * refuses to open, if it does.
   */
  load(): { state: PersistedState } | { error: string } {
    if (this.damage) return { error: this.damage };
    const cp = this.newestSlot();
    if (!cp) return { error: 'corrupt checkpoint: no intact slot' };
    const hs = this.hsVisible;
    const snapshot = this.snapVisible;
    const segs = this.segs;
    if (cp.seq === 0) {
      if (!blank(hs) || snapshot)
        return {
          error: 'the checkpoint records that nothing was written yet, but hardstate exists',
        };
    } else if (segs.length === 0 || cp.seq < segs[0]!.seq || cp.seq > segs.at(-1)!.seq) {
      return {
        error: `WAL segments are missing: the checkpoint records that segment ${cp.seq} was written up to record ${cp.offset}, but the WAL holds segments ${segs[0]?.seq} to ${segs.at(-1)?.seq}`,
      };
    }
    const replay = new WalReplay();
    let commit = 0;
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k]!;
      if (k > 0) {
        const h = seg.recs[0]?.r;
        const prev = segs[k - 1]!;
        if (h?.kind === 'header' && h.prevEnd !== prev.recs.length) {
          return {
            error: `WAL segment ${prev.seq} holds ${prev.recs.length} records, but segment ${seg.seq} records that it ended at ${h.prevEnd}`,
          };
        }
      }
      if (seg.seq === cp.seq && seg.recs.length < cp.offset) {
        return {
          error: `WAL segment ${seg.seq} ends at record ${seg.recs.length}, but the checkpoint records that it was written up to ${cp.offset}`,
        };
      }
      let openBatch = 0;
      let mixed = false;
      let count = 0;
      for (let i = 0; i < seg.recs.length; i++) {
        const { r, batch } = seg.recs[i]!;
        const where = `corrupt WAL record in segment ${seg.seq} at record ${i}`;
        if (r.kind === 'batchEnd') {
          // FileStorage: a batch end names where its batch began, which must be where the last
          // batch end left off.
          if (!r.closes && (mixed || (count > 0 && openBatch !== batch)))
            return { error: `${where}: a batch end after records of another batch` };
          count = 0;
          mixed = false;
          continue;
        }
        if (count > 0 && openBatch !== batch) mixed = true;
        if (count === 0) openBatch = batch;
        count++;
        if (r.kind === 'entry') {
          const why = replay.entry(r.entry);
          if (why !== undefined) return { error: `${where}: ${why}` };
        } else if (r.kind === 'commit') {
          commit = Math.max(commit, r.commit);
        } else if (r.kind === 'snapshot') {
          replay.snapshot(r.index, r.term);
        }
      }
    }
    const snapIndex = snapshot?.meta.index ?? 0;
    if (snapshot) replay.snapshot(snapIndex, snapshot.meta.term);
    const entries = replay.log;
    if (entries.length > 0 && entries[0]!.index !== snapIndex + 1) {
      return {
        error: `WAL resumes at index ${entries[0]!.index} but the snapshot ends at ${snapIndex}: entries are missing`,
      };
    }
    if (hs.term < cp.term || (hs.term === cp.term && cp.vote !== 0 && hs.vote !== cp.vote)) {
      return {
        error: `hard state file holds term ${hs.term}, vote ${hs.vote}, but the checkpoint records that term ${cp.term}, vote ${cp.vote} was durable`,
      };
    }
    if (cp.snapshotIndex > snapIndex) {
      return {
        error: `a snapshot is missing: the checkpoint records a durable snapshot at index ${cp.snapshotIndex}, the newest there is ${snapIndex}`,
      };
    }
    const lastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : snapIndex;
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
   * landed is called after each write or sync of a file: every such moment is one where a crash
   * would leave exactly what is there.
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

/** StoreOptions: a deliberate bug, and how many records a segment holds before the next starts. */
export interface StoreOptions {
  mutation?: StorageMutation | undefined;
  /** segmentRecords: a flush that finds the active segment this long starts a new one. */
  segmentRecords?: number;
}

/** CHECKPOINT_SYNC_MS: the checkpoint is fdatasynced this long after it changed (FileStorage). */
const CHECKPOINT_SYNC_MS = 100;

type Done = (err?: Error) => void;

interface Flush {
  /** steps: what the flush does to the files, in order; a crash stops it after any of them. */
  steps: (() => void)[];
  /** fsyncStep: the index of the WAL's fdatasync in steps (an injected error fails there). */
  fsyncStep: number;
  waiters: Done[];
}

/** SimStorageStats counts what the simulated disk did, for the run summary. */
export interface SimStorageStats {
  /** syncs: flushes (each one fdatasync); entriesSynced: entry records they carried. */
  syncs: number;
  entriesSynced: number;
  /** groupedSyncs: sync() calls that joined a flush already running or queued (group commit). */
  groupedSyncs: number;
  /** tornFlushes: flushes cut by a crash or a failed fsync with only part of them written. */
  tornFlushes: number;
  /** failures: injected I/O errors (a failed fsync or snapshot write). */
  failures: number;
  /** rotations: new segments started; segmentsDeleted: segments a snapshot covered, deleted. */
  rotations: number;
  segmentsDeleted: number;
  /** openRepairs: batches a crash left open, closed on open; snapshots recorded on open. */
  openRepairs: number;
}

/**
 * SimStorage is one process's open store over a DiskFiles, with FileStorage's semantics and
 * ordering (main/node/storage/file-storage.ts, docs/storage.md), on simulated time:
 *
 *  - open makes durable what it reads (the previous process may have left it in the page cache
 *    only), closes a batch that a crash left without its batch end, and records a snapshot found
 *    only as a file (a crash came after its rename and before its WAL record was written), each
 *    durably, before anything else;
 *  - append() and setHardState() only buffer, one batch per flush; append() validates like the
 *    real store (checkEntries: consecutive, no gap after the last index) and throws RangeError;
 *  - sync() takes the batch (with a commit record AFTER its entries, if the commit grew) and
 *    makes it durable: the hardstate file first, if term or vote changed (renamed, then the dir
 *    fsynced); then, after starting a new segment if the active one is full, the records and a
 *    batch end, one by one into the page cache, and the segment's fdatasync; then the next
 *    checkpoint slot is written (fdatasynced within 100 ms, or at once with a new segment). A
 *    sync() while one runs joins the next one (at most one queued): group commit;
 *  - saveSnapshot() runs one at a time: the file is written, renamed and its dir fsynced, then
 *    the snapshot rule is applied to the in-memory log, a snapshot record buffered and synced,
 *    and the segments the snapshot covers deleted (never one either durable checkpoint slot
 *    names, nor any after it);
 *  - a crash (crash()) keeps the page cache: what was written, plus the steps of the flush in
 *    progress up to where it stopped, and the snapshot file being written or not (renamed, or
 *    renamed and durable); everything buffered is lost;
 *  - an injected I/O error fails the store: that call and every later one fail with it, and
 *    the flush concerned may have been written in part, as on a real disk.
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
  /** durable*: what the checkpoint records: term/vote on disk, snapshot file. */
  private durableTerm: number;
  private durableVote: number;
  private durableSnapshotIndex: number;
  private cpCounter: number;
  /** cpSlotSeq: the segment each slot names as last written; cpSyncedSeq: see FileStorage. */
  private readonly cpSlotSeq: [number, number];
  private cpSyncedSeq: number;
  private cpTimer = false;
  /** the in-memory log view (FileStorage's term runs): base = snapshot index, then terms. */
  private base: number;
  private terms: number[];
  private snapMeta: SnapshotMeta | undefined;
  private flushing: Flush | undefined;
  private queued: Done[] | undefined;
  private writingSnapshot: Snapshot | undefined;
  private maintenance: (() => void)[] = [];
  private maintenanceBusy = false;
  private readonly mutation: StorageMutation | undefined;
  private readonly segmentRecords: number;

  constructor(
    readonly disk: DiskFiles,
    loaded: PersistedState,
    private readonly env: StorageEnv,
    private readonly timing: DiskTiming,
    options: StoreOptions = {},
  ) {
    this.mutation = options.mutation;
    this.segmentRecords = options.segmentRecords ?? 64;
    this.hs = { ...loaded.hardState };
    this.hsQueued = { term: loaded.hardState.term, vote: loaded.hardState.vote };
    this.commitQueued = loaded.hardState.commit;
    this.commitDurable = loaded.hardState.commit;
    this.durableTerm = loaded.hardState.term;
    this.durableVote = loaded.hardState.vote;
    this.durableSnapshotIndex = loaded.snapshot?.meta.index ?? 0;
    this.snapMeta = loaded.snapshot?.meta;
    this.base = loaded.snapshot?.meta.index ?? 0;
    this.terms = loaded.entries.map((e) => e.term);
    if (this.mutation !== 'open-without-sync') disk.syncAll();
    this.cpCounter = disk.newestSlot()?.counter ?? 0;
    this.cpSlotSeq = disk.slotSeqs();
    this.cpSyncedSeq =
      this.mutation === 'checkpoint-one-slot'
        ? (disk.newestSlot()?.seq ?? 0)
        : Math.min(...this.cpSlotSeq);
    let wrote = false;
    if (disk.openBatch() && this.mutation !== 'open-batch-kept') {
      // FileStorage.open closes a batch a crash left open before anything else is written.
      disk.write({ kind: 'batchEnd', closes: true }, 0);
      disk.syncWal();
      this.writeCheckpoint(true);
      env.stats.openRepairs++;
      wrote = true;
    }
    const s = loaded.snapshot?.meta;
    if (s && s.index > disk.snapshotRecorded && this.mutation !== 'snapshot-file-unrecorded') {
      // FileStorage.open records a snapshot found only as a file, durably, before it returns.
      const b = disk.nextBatch++;
      disk.write({ kind: 'snapshot', index: s.index, term: s.term }, b);
      disk.write({ kind: 'batchEnd' }, b);
      disk.syncWal();
      this.writeCheckpoint(true);
      env.stats.openRepairs++;
      wrote = true;
    }
    if (wrote) env.landed();
  }

  /** busy: a flush or a snapshot write is on its way to the disk. */
  /**
   * writeSteps: how many steps of the flush in progress write to the files before its WAL
   * fdatasync (0 if none is in progress); crash(writeSteps) leaves all its writes in the page
   * cache and none of them durable by it.
   */
  get writeSteps(): number {
    return this.flushing?.fsyncStep ?? 0;
  }

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

  /**
   * writeCheckpoint writes the next slot: what is durable now, with the active segment as long as
   * it is; `sync` fdatasyncs it at once, otherwise within CHECKPOINT_SYNC_MS.
   */
  private writeCheckpoint(sync: boolean): void {
    const disk = this.disk;
    const seg = disk.active;
    this.cpCounter++;
    disk.writeSlot({
      counter: this.cpCounter,
      seq: seg.seq,
      offset: seg.recs.length,
      commit: this.commitDurable,
      term: this.durableTerm,
      vote: this.durableVote,
      snapshotIndex: this.durableSnapshotIndex,
    });
    this.cpSlotSeq[this.cpCounter % 2] = seg.seq;
    if (sync) {
      this.syncCheckpoint();
    } else if (!this.cpTimer) {
      this.cpTimer = true;
      this.env.after(CHECKPOINT_SYNC_MS, () => {
        this.cpTimer = false;
        if (this.failure) return;
        this.syncCheckpoint();
        this.env.landed();
      });
    }
  }

  private syncCheckpoint(): void {
    this.disk.syncCheckpoint();
    const safe =
      this.mutation === 'checkpoint-one-slot'
        ? this.cpSlotSeq[this.cpCounter % 2]
        : Math.min(...this.cpSlotSeq);
    if (safe > this.cpSyncedSeq) this.cpSyncedSeq = safe;
  }

  private startFlush(waiters: Done[]): void {
    const disk = this.disk;
    if (this.hs.commit > this.commitQueued) {
      const rec: WalRecord = { kind: 'commit', commit: this.hs.commit };
      if (this.mutation === 'commit-before-entries') this.batch.unshift(rec);
      else this.batch.push(rec);
      this.commitQueued = this.hs.commit;
    }
    const records = this.batch;
    this.batch = [];
    const hs = this.hsDirty
      ? { term: this.hsQueued.term, vote: this.hsQueued.vote, commit: this.commitDurable }
      : undefined;
    this.hsDirty = false;
    const commit = this.commitQueued;
    const steps: (() => void)[] = [];
    if (hs) {
      steps.push(() => {
        const p = disk.renameHardState(hs);
        if (p) this.env.problem(p);
      });
      steps.push(() => {
        disk.syncDataDir();
        this.durableTerm = hs.term;
        this.durableVote = hs.vote;
      });
    }
    let fsyncStep = steps.length;
    if (records.length > 0) {
      const b = disk.nextBatch++;
      records.forEach((r, i) =>
        steps.push(() => {
          if (i === 0 && disk.active.recs.length >= this.segmentRecords) this.rotate();
          disk.write(r, b);
        }),
      );
      steps.push(() => disk.write({ kind: 'batchEnd' }, b));
      fsyncStep = steps.length;
      steps.push(() => disk.syncWal());
    }
    steps.push(() => {
      if (commit > this.commitDurable) this.commitDurable = commit;
      this.writeCheckpoint(false);
    });
    const f: Flush = { steps, fsyncStep, waiters };
    this.flushing = f;
    this.env.stats.syncs++;
    for (const r of records) if (r.kind === 'entry') this.env.stats.entriesSynced++;
    const ms = this.duration(this.timing.syncMs);
    this.onWrite?.(ms);
    if (ms <= 0) this.endFlush(f);
    else this.env.after(ms, () => this.endFlush(f));
  }

  /**
   * rotate starts the next segment (durable at once) and records it in a checkpoint made durable
   * at once, as FileStorage does.
   */
  private rotate(): void {
    this.disk.newSegment(this.commitDurable, this.disk.nextBatch++);
    this.env.stats.rotations++;
    this.writeCheckpoint(true);
  }

  private endFlush(f: Flush): void {
    if (this.flushing !== f) return; // the process crashed meanwhile
    if (this.failNext) {
      this.failNext = false;
      this.env.stats.failures++;
      this.runSteps(f, Math.floor(this.env.rng() * (f.fsyncStep + 1)));
      this.flushing = undefined;
      this.failure = new InjectedIoError('fdatasync');
      for (const w of [...f.waiters, ...(this.queued ?? [])]) w(this.failure);
      this.queued = undefined;
      return;
    }
    // An instant flush is atomic (nothing can happen in between); a real one lands step by step,
    // and a crash may stop it after any step.
    const atomic = this.timing.syncMs[1] <= 0;
    for (const step of f.steps) {
      step();
      if (!atomic) this.env.landed();
    }
    if (atomic) this.env.landed();
    this.flushing = undefined;
    const q = this.queued;
    this.queued = undefined;
    if (q) {
      if (this.dirty()) this.startFlush(q);
      else f.waiters.push(...q);
    }
    for (const w of f.waiters) w();
  }

  /** runSteps carries out the first `k` steps of a flush cut short (a crash or a failed fsync). */
  private runSteps(f: Flush, k: number): void {
    if (k < f.steps.length) this.env.stats.tornFlushes++;
    for (const step of f.steps.slice(0, k)) {
      step();
      this.env.landed();
    }
  }

  /**
   * saveSnapshot writes the snapshot file, applies the snapshot rule to the in-memory log,
   * buffers a snapshot record and syncs, then deletes the segments the snapshot covers; calls
   * run one at a time. A snapshot older than the stored one is refused with a RangeError (the
   * store stays usable).
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
      if (this.writingSnapshot !== snap) return; // the process crashed meanwhile
      this.writingSnapshot = undefined;
      if (this.failNext) {
        this.failNext = false;
        this.env.stats.failures++;
        this.failure = new InjectedIoError('snapshot fsync');
        return finish(this.failure);
      }
      this.disk.renameSnapshot(snap);
      this.env.landed();
      this.disk.syncSnapDir();
      this.env.landed();
      if (meta.index > this.durableSnapshotIndex) this.durableSnapshotIndex = meta.index;
      const current = this.snapMeta;
      const matches =
        this.termAt(meta.index) === meta.term ||
        (current?.index === meta.index && current.term === meta.term);
      this.terms = matches ? this.terms.slice(Math.max(0, meta.index - this.base)) : [];
      this.base = meta.index;
      this.snapMeta = meta;
      this.batch.push({ kind: 'snapshot', index: meta.index, term: meta.term });
      this.sync((err) => {
        if (!err) this.removeSegmentsThrough(meta.index);
        finish(err);
      });
    };
    const ms = this.duration(this.timing.snapshotMs);
    this.onWrite?.(ms);
    if (ms <= 0) written();
    else this.env.after(ms, written);
  }

  /**
   * removeSegmentsThrough deletes segments from the oldest on while every index they record is
   * <= `index`; never the active one, nor any from the oldest one a durable checkpoint slot names.
   */
  private removeSegmentsThrough(index: number): void {
    const segs = this.disk.segs;
    while (segs.length > 1 && segs[0]!.maxIndex <= index && segs[0]!.seq < this.cpSyncedSeq) {
      this.disk.deleteOldest();
      this.env.stats.segmentsDeleted++;
    }
  }

  /**
   * crash ends the process: the page cache keeps what was written, plus the first `landed` steps
   * of the flush in progress (a random number if not given); the snapshot file being written is
   * not renamed, renamed, or renamed and durable; everything buffered is lost.
   */
  crash(landed?: number): void {
    const f = this.flushing;
    if (f) {
      const k = landed ?? Math.floor(this.env.rng() * (f.steps.length + 1));
      this.runSteps(f, Math.min(k, f.steps.length));
    }
    this.flushing = undefined;
    const s = this.writingSnapshot;
    if (s) {
      const x = this.env.rng();
      if (x >= 1 / 3) {
        this.disk.renameSnapshot(s);
        if (x >= 2 / 3) this.disk.syncSnapDir();
        this.env.landed();
      }
    }
    this.writingSnapshot = undefined;
    this.failure ??= new Error('crashed');
  }
}
