import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type {
  Entry,
  HardState,
  PersistedState,
  Snapshot,
  SnapshotMeta,
  SnapshotPart,
} from '../../raft/types';
import {
  SLOT_DATA_BYTES,
  checkpointSlots,
  decodeCheckpoint,
  encodeCheckpointFile,
  encodeCheckpointSlot,
  slotOffset,
  type Checkpoint,
} from './checkpoint-file';
import { acquireLock, releaseLock } from './data-dir-lock';
import { nodeFs, writeFully, type StorageFs } from './fs-ops';
import { decodeHardState, encodeHardState } from './hard-state-file';
import { SNAP_NAME, decodeSnapshot, snapshotFileParts, snapshotName } from './snapshot-file';
import { SnapshotSpool } from './snapshot-spool';
import {
  StorageCorruptError,
  checkEntries,
  checkHardState,
  type LoadInfo,
  type Storage,
  type StorageSizes,
} from './storage';
import { TermRuns } from './term-runs';
import {
  RecordBuffer,
  SEGMENT_NAME,
  WAL_VERSION,
  batchAfterDamage,
  dataEnd,
  encodeSegmentHead,
  findValidRecord,
  holdsZeroSector,
  segmentHeader,
  segmentName,
} from './wal-format';
import { WalReplay } from './wal-replay';

/** DEFAULT_SEGMENT_BYTES: a WAL segment is rotated once it has grown past 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/**
 * EXTEND_BYTES: the active segment's file is made this much longer than its records before a
 * write reaches its end, so that the fdatasync of a write has only the data to flush and not the
 * file's new size as well (a journal commit on ext4, and one all syncing processes wait on).
 */
const EXTEND_BYTES = 1 << 20;
/**
 * DEFAULT_CHECKPOINT_SYNC_MS: the checkpoint is written after every sync (into the page cache,
 * which outlives the process) and made durable by an fdatasync beside the WAL's, at most this long
 * after it changed.
 */
export const DEFAULT_CHECKPOINT_SYNC_MS = 100;

export interface FileStorageOptions {
  /** dir is the node's data dir; it holds LOCK, hardstate, wal/ and snap/. */
  dir: string;
  /** segmentBytes: a sync that finds the active segment at or past this size starts a new one. */
  segmentBytes?: number;
  /** fsyncDelayMs delays every sync that has something to write, simulating a slow disk. */
  fsyncDelayMs?: number;
  /** fs replaces single file-system calls (tests inject errors or count calls). */
  fs?: Partial<StorageFs>;
  /**
   * requireState: the data dir is known to have held this node's state (the reason, for the
   * message). A store that finds no state at all then refuses to open instead of starting empty.
   */
  requireState?: string;
  /** checkpointSyncMs: how long a checkpoint may stay in the page cache only (default 100). */
  checkpointSyncMs?: number;
}

/** FileStorageStats counts system calls, so tests can check group commit. */
export interface FileStorageStats {
  /** syncs: flushes that had something to write. */
  syncs: number;
  /** writes: write/writev calls into WAL segments. */
  writes: number;
  /** fdatasyncs: fdatasync calls on WAL segments. */
  fdatasyncs: number;
  /** fsyncs: fsync calls on hardstate / snapshot files and directories. */
  fsyncs: number;
  bytesWritten: number;
  rotations: number;
  /** snapshotsSpooled: snapshots saved from a file written while they arrived. */
  snapshotsSpooled: number;
  /** checkpoints: checkpoints written (one per sync); checkpointSyncs: their fdatasyncs. */
  checkpoints: number;
  checkpointSyncs: number;
}

interface Segment {
  seq: number;
  firstIndex: number;
  file: string;
  /** bytes: the length of the segment's records. */
  bytes: number;
  /** fileBytes: the length of the file; from `bytes` on it holds zeros (see EXTEND_BYTES). */
  fileBytes: number;
  /** maxIndex: the largest entry or snapshot index recorded in the segment. */
  maxIndex: number;
  /** version: the segment's format (1: written before batch ends and checkpoints). */
  version: number;
}

type State = 'new' | 'loading' | 'open' | 'closed';

const noop = (): void => undefined;

/** SNAPSHOT_SLICE_BYTES: a snapshot file is checksummed and written this much at a time. */
const SNAPSHOT_SLICE_BYTES = 4 << 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function syncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeSync(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * FileStorage keeps a node's state in a data dir (format: docs/storage.md):
 *   LOCK.*      which process has the dir open (data-dir-lock.ts)
 *   hardstate   term, vote, commit (rewritten tmp -> fsync -> rename -> fsync dir on term/vote change)
 *   checkpoint  what the last sync made durable: WAL position, commit, term, vote, snapshot index
 *   wal/        segments of checksummed records: entries, commit marks, snapshot marks, batch ends
 *   snap/       the latest snapshot image
 *
 * Ordering inside one sync: the hardstate file (if term or vote changed) is made durable first,
 * then the WAL batch, closed by a batch-end record, is written with one write call and made
 * durable with one fdatasync, then the checkpoint records the new position (a write without an
 * fsync of its own; an fdatasync follows beside the next syncs); the sync resolves only after all
 * of that. A commit change rides the batch as a commit record placed after every entry of the
 * batch, so an intact commit record implies the entries it covers are intact.
 */
export class FileStorage implements Storage {
  readonly dir: string;
  private readonly walDir: string;
  private readonly snapDir: string;
  private readonly hardStateFile: string;
  private readonly checkpointFile: string;
  private readonly segmentBytes: number;
  private readonly checkpointSyncMs: number;
  private readonly requireState: string | undefined;
  private readonly fs: StorageFs;
  private fsyncDelayMs: number;
  private readonly counters: FileStorageStats = {
    syncs: 0,
    writes: 0,
    fdatasyncs: 0,
    fsyncs: 0,
    bytesWritten: 0,
    rotations: 0,
    snapshotsSpooled: 0,
    checkpoints: 0,
    checkpointSyncs: 0,
  };

  private state: State = 'new';
  private failure: Error | undefined;
  private lockFile: string | undefined;

  private segments: Segment[] = [];
  /** fd of the active (last) segment. */
  private fd = -1;

  private batch = new RecordBuffer();
  private spare = new RecordBuffer();
  private readonly runs = new TermRuns();
  private snapMeta: SnapshotMeta | undefined;
  private snapFile: string | undefined;
  private snapBytes = 0;

  /** hs: the latest hard state set; hsQueued: the term/vote the hardstate file has or will have. */
  private hs: HardState = { term: 0, vote: 0, commit: 0 };
  private hsQueued = { term: 0, vote: 0 };
  private hsDirty = false;
  /** commitQueued: the largest commit handed to a flush; commitDurable: the largest made durable. */
  private commitQueued = 0;
  private commitDurable = 0;
  /** durable*: what the checkpoint records: term/vote on disk, snapshot file, last index synced. */
  private durableTerm = 0;
  private durableVote = 0;
  private durableSnapshotIndex = 0;
  private durableLast = 0;

  /** cpFd: the checkpoint file, written in place; cpCounter: the last checkpoint's counter. */
  private cpFd = -1;
  private cpCounter = 0;
  /** cpSlot: the buffer each checkpoint is encoded into (one write at a time). */
  private readonly cpSlot = Buffer.alloc(SLOT_DATA_BYTES);
  /** cpDirty: a checkpoint was written and not yet fdatasynced. */
  private cpDirty = false;
  /**
   * cpSyncedSeq: the oldest segment named by either slot of the checkpoint as last made durable.
   * Segments from it on are never deleted, so the checkpoint on disk names a segment that is
   * there even when a power cut tears the newer slot and leaves the older one to be read.
   */
  private cpSyncedSeq = 0;
  /** cpSlotSeq: the segment named by what was last written to each slot. */
  private readonly cpSlotSeq = [0, 0];
  private cpTimer: NodeJS.Timeout | undefined;
  private cpSyncing: Promise<void> | undefined;

  private syncing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** maintenance serializes saveSnapshot and compact. */
  private maintenance: Promise<void> = Promise.resolve();
  /** spool: the incoming snapshot being written while it arrives (receiveSnapshot). */
  private spool: SnapshotSpool | undefined;
  /** spoolsDone: the file operations of every spool let go so far; a new one starts after them. */
  private spoolsDone: Promise<void> = Promise.resolve();

  constructor(options: FileStorageOptions) {
    this.dir = options.dir;
    this.walDir = join(this.dir, 'wal');
    this.snapDir = join(this.dir, 'snap');
    this.hardStateFile = join(this.dir, 'hardstate');
    this.checkpointFile = join(this.dir, 'checkpoint');
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.checkpointSyncMs = options.checkpointSyncMs ?? DEFAULT_CHECKPOINT_SYNC_MS;
    this.requireState = options.requireState;
    this.fsyncDelayMs = options.fsyncDelayMs ?? 0;
    this.fs = { ...nodeFs, ...options.fs };
  }

  /** stats returns a copy of the system-call counters. */
  stats(): FileStorageStats {
    return { ...this.counters };
  }

  setFsyncDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`fsync delay ${ms} is not a duration`);
    this.fsyncDelayMs = ms;
  }

  sizes(): StorageSizes {
    let walBytes = 0;
    for (const s of this.segments) walBytes += s.bytes;
    return { walBytes, segments: this.segments.length, snapshotBytes: this.snapBytes };
  }

  async load(): Promise<PersistedState & { info: LoadInfo }> {
    if (this.state !== 'new') throw new Error('FileStorage.load() may be called only once');
    this.state = 'loading';
    try {
      const loaded = await this.open();
      this.state = 'open';
      return loaded;
    } catch (err) {
      this.state = 'closed';
      for (const fd of [this.fd, this.cpFd]) if (fd >= 0) closeSync(fd);
      this.fd = -1;
      this.cpFd = -1;
      if (this.lockFile !== undefined) releaseLock(this.lockFile);
      throw err;
    }
  }

  append(entries: Entry[]): void {
    this.check();
    if (entries.length === 0) return;
    const kept = checkEntries(entries, this.snapMeta?.index ?? 0, this.lastIndex());
    if (kept.length === 0) return;
    this.runs.truncateFrom(kept[0].index);
    for (const e of kept) {
      this.batch.appendEntry(e);
      this.runs.append(e.index, e.term);
    }
  }

  setHardState(hs: HardState): void {
    this.check();
    checkHardState(hs);
    this.hs = { term: hs.term, vote: hs.vote, commit: hs.commit };
    if (hs.term !== this.hsQueued.term || hs.vote !== this.hsQueued.vote) {
      this.hsQueued = { term: hs.term, vote: hs.vote };
      this.hsDirty = true;
    }
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state !== 'open') return Promise.reject(this.notOpen());
    const dirty = this.dirty();
    if (this.syncing === undefined) return dirty ? this.startFlush() : Promise.resolve();
    if (!dirty) return this.syncing;
    this.queued ??= this.syncing.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.sync();
    });
    return this.queued;
  }

  receiveSnapshot(part: SnapshotPart): void {
    if (this.state !== 'open' || this.failure) return;
    const s = this.spool;
    if (part.kind === 'dropped') {
      if (s?.isFor(part.meta)) this.dropSpool();
      return;
    }
    if (part.offset === 0) {
      this.dropSpool();
      // An image no newer than the stored snapshot would be refused by saveSnapshot anyway.
      if (this.snapMeta && part.meta.index <= this.snapMeta.index) return;
      const file = join(this.snapDir, snapshotName(part.meta.index, part.meta.term));
      this.spool = new SnapshotSpool(this.fs, file, part.meta, part.total, this.spoolsDone);
    } else if (!s?.isFor(part.meta) || s.received !== part.offset) {
      this.dropSpool();
      return;
    }
    try {
      this.spool!.write(part.data);
    } catch {
      this.dropSpool(); // more bytes than announced: saveSnapshot() would not take it anyway
    }
  }

  saveSnapshot(snap: Snapshot): Promise<void> {
    const spool = this.takeSpool(snap);
    const spoolsBefore = this.spoolsDone;
    const run = this.serial(async () => {
      const meta = snap.meta;
      const current = this.snapMeta;
      try {
        this.check();
        if (current && meta.index < current.index) {
          throw new RangeError(
            `snapshot at index ${meta.index} is older than the stored one at ${current.index}`,
          );
        }
      } catch (err) {
        await spool?.abort();
        throw err;
      }
      const name = snapshotName(meta.index, meta.term);
      const file = join(this.snapDir, name);
      let bytes: number | undefined;
      if (spool) {
        try {
          bytes = await spool.finish();
          await this.syncDir(this.snapDir);
          this.counters.fsyncs++;
          this.counters.snapshotsSpooled++;
        } catch {
          // Written the usual way below; a disk that is failing fails there too.
          await spool.abort();
          bytes = undefined;
        }
      }
      try {
        if (bytes === undefined) {
          await spoolsBefore;
          bytes = await this.writeDurably(
            file,
            snapshotFileParts(snap, SNAPSHOT_SLICE_BYTES),
            this.snapDir,
          );
        }
      } catch (err) {
        throw this.fail(err);
      }
      if (meta.index > this.durableSnapshotIndex) this.durableSnapshotIndex = meta.index;
      const matches =
        this.runs.termAt(meta.index) === meta.term ||
        (current?.index === meta.index && current.term === meta.term);
      if (matches) this.runs.dropThrough(meta.index);
      else this.runs.clear();
      this.snapMeta = structuredClone(meta);
      this.snapFile = file;
      this.snapBytes = bytes;
      this.batch.appendSnapshot(meta.index, meta.term);
      await this.sync();
      try {
        await this.removeOtherSnapshots(name);
        await this.removeSegmentsThrough(meta.index);
      } catch (err) {
        throw this.fail(err);
      }
    });
    if (spool) this.spoolsDone = run.then(noop, noop);
    return run;
  }

  /**
   * takeSpool hands over the spool if it holds all of `snap` (same meta, every byte received);
   * a spool of another snapshot is left alone, one of this snapshot that is short is dropped.
   */
  private takeSpool(snap: Snapshot): SnapshotSpool | undefined {
    const s = this.spool;
    if (!s?.isFor(snap.meta)) return undefined;
    this.spool = undefined;
    if (s.complete && s.total === snap.data.length && s.metaJson === JSON.stringify(snap.meta)) {
      return s;
    }
    this.spoolsDone = this.spoolsDone.then(() => s.abort());
    return undefined;
  }

  /** dropSpool gives up the spool (if any) and removes its file. */
  private dropSpool(): void {
    const s = this.spool;
    if (!s) return;
    this.spool = undefined;
    this.spoolsDone = this.spoolsDone.then(() => s.abort());
  }

  compact(index: number): Promise<void> {
    return this.serial(async () => {
      this.check();
      const through = Math.min(index, this.snapMeta?.index ?? 0);
      if (through <= 0) return;
      try {
        await this.removeSegmentsThrough(through);
      } catch (err) {
        throw this.fail(err);
      }
    });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    let error: unknown;
    if (!this.failure) {
      try {
        await this.maintenance;
        await this.sync();
      } catch (err) {
        error = err;
      }
    }
    this.dropSpool();
    await Promise.allSettled([this.syncing, this.queued, this.maintenance, this.spoolsDone]);
    clearTimeout(this.cpTimer);
    this.cpTimer = undefined;
    await this.cpSyncing;
    if (!this.failure && this.cpDirty) {
      try {
        await this.fs.fdatasync(this.cpFd);
        this.counters.checkpointSyncs++;
        this.cpDirty = false;
      } catch (err) {
        error ??= err;
      }
    }
    this.state = 'closed';
    for (const fd of [this.fd, this.cpFd]) if (fd >= 0) await this.fs.close(fd).catch(noop);
    this.fd = -1;
    this.cpFd = -1;
    if (this.lockFile !== undefined) releaseLock(this.lockFile);
    if (error !== undefined) throw error;
  }

  // ---- loading ----

  private corrupt(message: string, file: string, offset?: number): StorageCorruptError {
    return new StorageCorruptError(message, file, offset);
  }

  private async open(): Promise<PersistedState & { info: LoadInfo }> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lockFile = acquireLock(this.dir);
    let created = false;
    for (const d of [this.walDir, this.snapDir]) {
      if (!existsSync(d)) {
        mkdirSync(d, 0o700);
        created = true;
      }
    }
    if (created) syncDirSync(this.dir);
    removeSync(`${this.hardStateFile}.tmp`);
    removeSync(`${this.checkpointFile}.tmp`);
    for (const d of [this.snapDir, this.walDir]) {
      for (const name of readdirSync(d)) if (name.endsWith('.tmp')) removeSync(join(d, name));
    }

    const cpFile = this.checkpointFile;
    const cp = existsSync(cpFile) ? decodeCheckpoint(cpFile, readFileSync(cpFile)) : undefined;
    const hsFound = existsSync(this.hardStateFile)
      ? decodeHardState(this.hardStateFile, readFileSync(this.hardStateFile))
      : undefined;
    const hs = hsFound ?? { term: 0, vote: 0, commit: 0 };
    const snapStart = performance.now();
    const snapshot = this.loadSnapshot();
    const snapshotMs = Math.round(performance.now() - snapStart);
    const snapIndex = snapshot?.meta.index ?? 0;

    const names = readdirSync(this.walDir)
      .filter((n) => SEGMENT_NAME.test(n))
      .sort();
    const seqs = names.map((n) => parseInt((SEGMENT_NAME.exec(n) as RegExpExecArray)[1], 16));
    for (let k = 1; k < seqs.length; k++) {
      if (seqs[k] !== seqs[k - 1] + 1) {
        throw this.corrupt(
          `WAL segment ${seqs[k - 1] + 1} is missing from ${this.walDir}: ` +
            `${names[k - 1]} is followed by ${names[k]}`,
          join(this.walDir, names[k]),
        );
      }
    }
    const lastSeq = seqs.length > 0 ? seqs[seqs.length - 1] : 0;
    await this.syncFound(names.length > 0 ? join(this.walDir, names[names.length - 1]) : undefined);
    // A blank hard state is what a new store writes first: found alone, it means nothing ran.
    const hsBlank = hsFound === undefined || (hs.term === 0 && hs.vote === 0 && hs.commit === 0);
    const empty = names.length === 0 && hsBlank && snapshot === undefined;
    if (empty && (cp === undefined || cp.seq === 0)) {
      if (this.requireState !== undefined) {
        throw this.corrupt(
          `data dir ${this.dir} holds no Raft state (no hardstate, WAL or snapshot), but ` +
            `${this.requireState}: it was emptied or replaced; refusing to start as an empty node`,
          this.dir,
        );
      }
    } else if (cp === undefined) {
      // Written before checkpoints (and always with at least one segment), or missing files.
      if (names.length === 0) {
        throw this.corrupt(
          `the WAL in ${this.walDir} and ${cpFile} are missing, but ` +
            `${hsFound ? this.hardStateFile : this.snapFile} shows this node has run`,
          this.walDir,
        );
      }
    } else if (cp.seq === 0) {
      // Created, and the first segment perhaps too, before the first sync.
      if (!hsBlank || snapshot !== undefined) {
        throw this.corrupt(
          `${cpFile} records that nothing was written yet, but ` +
            `${hsFound ? this.hardStateFile : this.snapFile} exists`,
          cpFile,
        );
      }
    } else if (names.length === 0 || lastSeq < cp.seq || seqs[0] > cp.seq) {
      const found =
        names.length === 0 ? 'no segment' : `segments ${seqs[0]} to ${lastSeq} (${names.at(-1)})`;
      throw this.corrupt(
        `WAL segments are missing from ${this.walDir}: ${cpFile} records that segment ` +
          `${cp.seq} was written up to offset ${cp.offset} (index ${cp.lastIndex} durable), ` +
          `but the WAL holds ${found}`,
        this.walDir,
      );
    }

    const walStart = performance.now();
    const replay = new WalReplay();
    let repairedTail: LoadInfo['repairedTail'];
    /**
     * openBatch: where the last segment's last batch begins if a crash left it without its batch
     * end (records follow the last intact batch end); -1 if it ends with a complete batch.
     */
    let openBatch = -1;
    for (let k = 0; k < names.length; k++) {
      const seq = seqs[k];
      const file = join(this.walDir, names[k]);
      const buf = readFileSync(file);
      const last = k === names.length - 1;
      const prev = k > 0 ? this.segments[k - 1] : undefined;
      // The header is checked before the records are: a segment cut short shows there first.
      const header = segmentHeader(buf);
      if (header?.version === WAL_VERSION) {
        if (cp === undefined) {
          throw this.corrupt(
            `${cpFile} is missing, but ${file} was written with it: whether records are ` +
              'missing from the end of the WAL cannot be told; refusing to start',
            cpFile,
          );
        }
        if (header.seq !== seq) {
          throw this.corrupt(
            `corrupt WAL segment ${file}: its header says segment ${header.seq}, its name ${seq}`,
            file,
            0,
          );
        }
        if (prev && header.prevEnd !== prev.bytes) {
          const missing = header.prevEnd - prev.bytes;
          throw this.corrupt(
            `WAL segment ${prev.file} holds ${prev.bytes} bytes of records, but ${file} ` +
              `records that it ended at offset ${header.prevEnd}: ` +
              `${missing > 0 ? `${missing} bytes of acknowledged records are missing` : 'it was written to after it was closed'}`,
            prev.file,
            prev.bytes,
          );
        }
      } else if (prev && prev.bytes === 0) {
        throw this.corrupt(`corrupt WAL segment ${prev.file}: empty`, prev.file, 0);
      }
      const scan = replay.segment(file, buf);
      const v2 = scan.version === WAL_VERSION || (scan.version === 0 && cp !== undefined);
      const segment: Segment = {
        seq,
        firstIndex: parseInt((SEGMENT_NAME.exec(names[k]) as RegExpExecArray)[2], 16),
        file,
        bytes: scan.validEnd,
        fileBytes: buf.length,
        maxIndex: scan.maxIndex,
        version: scan.version,
      };
      this.segments.push(segment);
      /** durableEnd: what the checkpoint says this segment holds at least (0 if it says nothing). */
      const durableEnd = cp !== undefined && cp.seq === seq ? cp.offset : 0;
      const bad = scan.bad;
      if (bad === undefined) {
        if (scan.validEnd < durableEnd) {
          const at = scan.validEnd;
          throw this.corrupt(
            `WAL segment ${file} ends at offset ${at} ` +
              `(${at < buf.length ? 'zeros from there on' : 'end of file'}), but ${cpFile} ` +
              `records that it was written up to offset ${durableEnd}: ` +
              `${durableEnd - at} bytes of acknowledged records are missing ` +
              `(index ${cp!.lastIndex} and commit ${cp!.commit} were durable)`,
            file,
            at,
          );
        }
        if (scan.validEnd === 0 && last && cp !== undefined && cp.seq !== seq) {
          throw this.corrupt(`corrupt WAL segment ${file}: empty`, file, 0);
        }
        if (last && scan.version === WAL_VERSION && scan.validEnd > scan.batchStart) {
          openBatch = scan.batchStart;
        }
        continue;
      }
      const where = `corrupt WAL record in ${file} at offset ${bad.offset}: ${bad.reason}`;
      if (!last) throw this.corrupt(where, file, bad.offset);
      if (bad.offset < durableEnd) {
        throw this.corrupt(
          `${where}; ${cpFile} records that the segment was written up to offset ` +
            `${durableEnd}, so this record was acknowledged: refusing to cut it`,
          file,
          bad.offset,
        );
      }
      if (v2) {
        // Past the checkpoint: the batch being written when the process stopped, unless a later
        // batch follows (batches are written only once the one before is durable).
        const after = batchAfterDamage(buf, bad.offset, scan.batchStart);
        if (after.foreign >= 0) {
          throw this.corrupt(
            `${where}; the record at offset ${after.foreign} is not part of the batch that ` +
              `begins at offset ${scan.batchStart}, so that batch was made durable (or the ` +
              'damage runs on): refusing to cut it',
            file,
            bad.offset,
          );
        }
      } else {
        const after = findValidRecord(buf, bad.offset + 1);
        if (after >= 0) {
          throw this.corrupt(
            `${where}; a valid record follows at offset ${after}`,
            file,
            bad.offset,
          );
        }
        if (bad.complete && !holdsZeroSector(buf, bad.offset, bad.end)) {
          throw this.corrupt(
            `${where}; the record is complete and nothing shows it was never synced, so it may ` +
              'hold an acknowledged entry: refusing to cut it',
            file,
            bad.offset,
          );
        }
      }
      // A torn tail. Cut it only if nothing durable goes with it.
      const floor = Math.max(hs.commit, replay.commit);
      const kept = Math.max(replay.lastIndex(), snapIndex);
      if (floor > kept || (bad.entryIndex > snapIndex && bad.entryIndex <= floor)) {
        throw this.corrupt(
          `${where}; cutting the tail there would lose entries at or below the durable commit ` +
            `index ${floor}, refusing to repair`,
          file,
          bad.offset,
        );
      }
      const fd = await this.fs.open(file, 'r+');
      try {
        await this.fs.ftruncate(fd, bad.offset);
        await this.fs.fsync(fd);
      } finally {
        await this.fs.close(fd);
      }
      // The zeros the segment was extended by are not counted as damage.
      repairedTail = { file, offset: bad.offset, bytes: dataEnd(buf, bad.offset) - bad.offset };
      segment.bytes = bad.offset;
      segment.fileBytes = bad.offset;
      if (scan.version === WAL_VERSION && bad.offset > scan.batchStart) openBatch = scan.batchStart;
    }

    const walMs = Math.round(performance.now() - walStart);
    /** recorded: the newest snapshot the WAL records; the snapshot file may be newer. */
    const recorded = replay.base;
    if (snapshot) replay.snapshot(snapIndex, snapshot.meta.term);
    const entries = replay.log;
    if (entries.length > 0 && entries[0].index !== snapIndex + 1) {
      const what = snapshot ? `the snapshot ${this.snapFile} ends at ${snapIndex}` : 'no snapshot';
      throw this.corrupt(
        `WAL in ${this.walDir} resumes at index ${entries[0].index} but there is ${what}: ` +
          'entries are missing',
        this.walDir,
      );
    }
    const lastIndex = entries.length > 0 ? entries[entries.length - 1].index : snapIndex;
    const lastTerm = entries.length > 0 ? entries[entries.length - 1].term : snapshot?.meta.term;
    this.checkHardState(hsFound, cp, lastTerm ?? 0, snapIndex);
    const commit = Math.min(Math.max(hs.commit, replay.commit, snapIndex), lastIndex);

    for (const e of entries) this.runs.append(e.index, e.term);
    this.hs = { term: hs.term, vote: hs.vote, commit };
    this.hsQueued = { term: hs.term, vote: hs.vote };
    this.commitQueued = commit;
    this.commitDurable = commit;
    this.durableTerm = hs.term;
    this.durableVote = hs.vote;
    this.durableSnapshotIndex = snapIndex;
    this.durableLast = lastIndex;
    this.cpCounter = cp?.counter ?? 0;
    // Both slots as they are on disk (made durable on open): an intact slot names its segment;
    // a damaged one can never be read, so it counts as the one that is.
    const slots = cp === undefined ? [] : checkpointSlots(readFileSync(cpFile));
    for (const k of [0, 1]) this.cpSlotSeq[k] = slots[k]?.seq ?? cp?.seq ?? 0;
    this.cpSyncedSeq = Math.min(this.cpSlotSeq[0], this.cpSlotSeq[1]);

    const active = this.segments[this.segments.length - 1];
    if (active === undefined || active.version !== WAL_VERSION) {
      // A new store, or one whose WAL was written before checkpoints: the hard state file (if
      // there is none yet) and the checkpoint are created naming the WAL as it is, then every
      // later write goes to a new segment of this format.
      if (hsFound === undefined) {
        await this.writeDurably(this.hardStateFile, [encodeHardState(hs)], this.dir);
      }
      if (cp === undefined) {
        this.cpCounter = 1;
        await this.writeDurably(
          cpFile,
          [encodeCheckpointFile(this.checkpoint(active?.seq ?? 0, active?.bytes ?? 0))],
          this.dir,
        );
      }
      this.cpFd = await this.fs.open(cpFile, 'r+');
      const { fd, seg } = await this.createSegment(
        (active?.seq ?? 0) + 1,
        lastIndex + 1,
        active?.bytes ?? 0,
      );
      this.fd = fd;
      this.segments.push(seg);
      await this.writeCheckpoint(true);
      // A new store's other slot still says that nothing was written: name the segment there too,
      // or a torn write of this slot would leave that one to be read (and refused beside a
      // hardstate that is no longer blank).
      if (active === undefined) await this.writeCheckpoint(true);
    } else {
      this.cpFd = await this.fs.open(cpFile, 'r+');
      this.fd = await this.fs.open(active.file, 'r+');
    }
    if (openBatch >= 0) await this.closeBatch(openBatch);
    if (snapshot && snapIndex > recorded) await this.recordSnapshot(snapshot.meta);

    const sizes = this.sizes();
    const info: LoadInfo = {
      segments: sizes.segments,
      walBytes: sizes.walBytes,
      snapshotMs,
      walMs,
    };
    if (repairedTail) info.repairedTail = repairedTail;
    return { hardState: { ...this.hs }, snapshot, entries, info };
  }

  /**
   * syncFound makes durable, on open and before anything read is acted on, what the process
   * that had the dir before may have left in the page cache only: a process killed after a write
   * and before its fsync (or after a rename and before the fsync of its directory) leaves data
   * that this one reads but that a power cut would still take away. Acting on it first would
   * acknowledge entries, keep a vote or record a snapshot in the checkpoint that the disk does
   * not hold, and could make a later open refuse. The directories (renames, new and deleted
   * files), the checkpoint (written in place without an fsync) and the last segment (the only
   * one written after its last fdatasync) are synced; the hardstate and snapshot files are synced
   * before their rename.
   */
  private async syncFound(lastSegment: string | undefined): Promise<void> {
    for (const d of [this.dir, this.walDir, this.snapDir]) await this.syncDir(d);
    for (const file of [this.checkpointFile, lastSegment]) {
      if (file === undefined || !existsSync(file)) continue;
      const fd = await this.fs.open(file, 'r+');
      try {
        await this.fs.fdatasync(fd);
      } finally {
        await this.fs.close(fd);
      }
    }
  }

  /**
   * closeBatch ends, on open, the last batch of the active segment that a crash left without its
   * batch end (records of it follow the last intact batch end, before the damage that was cut or
   * before the zeros): a batch end naming where that batch began, fdatasynced, then a checkpoint
   * made durable. Its records were all intact and are kept, as a shorter batch. Without it the
   * next batch's end, which names the offset it starts at, would not follow a complete batch, and
   * the next open would refuse the segment. A crash before it is durable leaves the same open
   * batch for the next open to close.
   */
  private async closeBatch(start: number): Promise<void> {
    const seg = this.segments[this.segments.length - 1];
    const batch = new RecordBuffer(64);
    batch.appendBatchEnd(start);
    const body = batch.bytes();
    const end = seg.bytes + body.length;
    if (end > seg.fileBytes) {
      await this.fs.ftruncate(this.fd, end);
      seg.fileBytes = end;
    }
    await this.writeAll(this.fd, body, seg.bytes);
    seg.bytes = end;
    await this.fs.fdatasync(this.fd);
    this.counters.fdatasyncs++;
    await this.writeCheckpoint(true);
  }

  /**
   * recordSnapshot writes, on open and before anything else, the WAL record of a snapshot found
   * only as a file (a crash came after the file's rename and before its record was written). The
   * snapshot file's rule has just discarded (or cut) the log in memory; without the record the
   * WAL would still hold that log, the entries written next would follow the snapshot, and the
   * next open would find them leaving a gap after the old log. It is one batch (the record and a
   * batch end) at the end of the active segment, fdatasynced, then a checkpoint made durable: a
   * crash before the batch is durable leaves it torn past the checkpoint (cut on the next open,
   * which records the snapshot again), and a checkpoint that lags it leaves an intact batch past
   * its offset, which is never damage.
   */
  private async recordSnapshot(meta: SnapshotMeta): Promise<void> {
    const batch = new RecordBuffer(64);
    batch.appendSnapshot(meta.index, meta.term);
    await this.writeBatch(batch);
    await this.writeCheckpoint(true);
  }

  /**
   * checkHardState refuses a hard state file that is missing or older than the checkpoint's term
   * and vote, and a snapshot older than the one the checkpoint records.
   */
  private checkHardState(
    found: HardState | undefined,
    cp: Checkpoint | undefined,
    lastTerm: number,
    snapIndex: number,
  ): void {
    const file = this.hardStateFile;
    if (found === undefined && (cp !== undefined || lastTerm > 0)) {
      // A store with a checkpoint wrote its hard state file before it; one written before
      // checkpoints wrote it before the first entry of a term above 0.
      const ran =
        cp === undefined
          ? `the log holds entries of term ${lastTerm}`
          : `${this.checkpointFile} exists${cp.term > 0 ? ` and records term ${cp.term}, vote ${cp.vote}` : ''}`;
      throw this.corrupt(
        `hard state file ${file} is missing, but ${ran}: the node's term and vote are lost; ` +
          'refusing to start with term 0 and no vote',
        file,
      );
    }
    if (cp === undefined) return;
    const hs = found ?? { term: 0, vote: 0, commit: 0 };
    if (hs.term < cp.term || (hs.term === cp.term && cp.vote !== 0 && hs.vote !== cp.vote)) {
      throw this.corrupt(
        `hard state file ${file} holds term ${hs.term}, vote ${hs.vote}, but ` +
          `${this.checkpointFile} records that term ${cp.term}, vote ${cp.vote} was durable: ` +
          'the hard state is older than what the node acknowledged',
        file,
      );
    }
    if (cp.snapshotIndex > snapIndex) {
      throw this.corrupt(
        `a snapshot is missing from ${this.snapDir}: ${this.checkpointFile} records a durable ` +
          `snapshot at index ${cp.snapshotIndex}, the newest there is ` +
          `${snapIndex > 0 ? `at ${snapIndex}` : 'none'}`,
        this.snapDir,
      );
    }
  }

  /** loadSnapshot reads the newest snapshot; a damaged newest snapshot is an error, never skipped. */
  private loadSnapshot(): Snapshot | undefined {
    const names = readdirSync(this.snapDir)
      .filter((n) => SNAP_NAME.test(n))
      .sort();
    const name = names[names.length - 1];
    if (name === undefined) return undefined;
    const file = join(this.snapDir, name);
    const snapshot = decodeSnapshot(file, readFileSync(file));
    const m = SNAP_NAME.exec(name) as RegExpExecArray;
    if (parseInt(m[1], 16) !== snapshot.meta.index || parseInt(m[2], 16) !== snapshot.meta.term) {
      throw new StorageCorruptError(
        `corrupt snapshot ${file}: its meta says index ${snapshot.meta.index} term ` +
          `${snapshot.meta.term}, which does not match the file name`,
        file,
      );
    }
    this.snapMeta = structuredClone(snapshot.meta);
    this.snapFile = file;
    this.snapBytes = statSync(file).size;
    return snapshot;
  }

  // ---- writing ----

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw this.notOpen();
  }

  private notOpen(): Error {
    return new Error(
      this.state === 'closed'
        ? `storage ${this.dir} is closed`
        : `storage ${this.dir} is not loaded`,
    );
  }

  /** fail records the first I/O error; the store stays failed. It returns the error to throw. */
  private fail(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure ??= error;
    return this.failure;
  }

  private lastIndex(): number {
    return this.runs.empty ? (this.snapMeta?.index ?? 0) : this.runs.last;
  }

  private dirty(): boolean {
    return this.batch.length > 0 || this.hsDirty || this.hs.commit > this.commitQueued;
  }

  private startFlush(): Promise<void> {
    const p: Promise<void> = this.flush().finally(() => {
      if (this.syncing === p) this.syncing = undefined;
    });
    this.syncing = p;
    return p;
  }

  /**
   * flush takes everything buffered (synchronously, before its first await) and makes it durable:
   * hardstate file first, then the WAL batch, then the checkpoint records where the WAL now ends.
   * New appends meanwhile go to the other buffer.
   */
  private async flush(): Promise<void> {
    if (this.hs.commit > this.commitQueued) {
      this.batch.appendCommit(this.hs.commit);
      this.commitQueued = this.hs.commit;
    }
    const batch = this.batch;
    this.batch = this.spare;
    this.spare = batch;
    const hs = this.hsDirty
      ? { term: this.hsQueued.term, vote: this.hsQueued.vote, commit: this.commitDurable }
      : undefined;
    this.hsDirty = false;
    const commit = this.commitQueued;
    const last = this.lastIndex();
    this.counters.syncs++;
    try {
      if (this.fsyncDelayMs > 0) await sleep(this.fsyncDelayMs);
      if (hs) {
        await this.writeDurably(this.hardStateFile, [encodeHardState(hs)], this.dir);
        this.durableTerm = hs.term;
        this.durableVote = hs.vote;
      }
      if (batch.length > 0) await this.writeBatch(batch);
      if (commit > this.commitDurable) this.commitDurable = commit;
      this.durableLast = last;
      await this.writeCheckpoint(false);
    } catch (err) {
      throw this.fail(err);
    } finally {
      batch.reset();
    }
  }

  private async writeBatch(batch: RecordBuffer): Promise<void> {
    let seg = this.segments[this.segments.length - 1];
    if (seg.bytes >= this.segmentBytes) seg = await this.rotate(batch);
    batch.appendBatchEnd(seg.bytes);
    const body = batch.bytes();
    const end = seg.bytes + body.length;
    if (end > seg.fileBytes) {
      const step = Math.min(EXTEND_BYTES, this.segmentBytes);
      const fileBytes = (Math.floor(end / step) + 1) * step;
      await this.fs.ftruncate(this.fd, fileBytes);
      seg.fileBytes = fileBytes;
    }
    await this.writeAll(this.fd, body, seg.bytes);
    seg.bytes = end;
    if (batch.maxIndex > seg.maxIndex) seg.maxIndex = batch.maxIndex;
    await this.fs.fdatasync(this.fd);
    this.counters.fdatasyncs++;
  }

  /**
   * createSegment makes a new segment durable before anything is written to it: its opening batch
   * (header with seq and the previous segment's end, the durable commit, a batch end) goes into
   * `<name>.tmp`, extended like the active segment, fdatasynced, renamed, and wal/ fsynced. A
   * segment file therefore never exists without its header. Returns its fd, open for writing.
   */
  private async createSegment(
    seq: number,
    firstIndex: number,
    prevEnd: number,
  ): Promise<{ fd: number; seg: Segment }> {
    const file = join(this.walDir, segmentName(seq, firstIndex));
    if (existsSync(file)) throw new Error(`WAL segment ${file} already exists`);
    const tmp = `${file}.tmp`;
    const head = encodeSegmentHead(seq, prevEnd, this.commitDurable);
    const step = Math.min(EXTEND_BYTES, this.segmentBytes);
    const fileBytes = (Math.floor(head.length / step) + 1) * step;
    const fd = await this.fs.open(tmp, 'w');
    try {
      await writeFully(this.fs, fd, head, 0);
      await this.fs.ftruncate(fd, fileBytes);
      await this.fs.fdatasync(fd);
      this.counters.fdatasyncs++;
      await this.fs.rename(tmp, file);
    } catch (err) {
      await this.fs.close(fd).catch(noop);
      throw err;
    }
    await this.syncDir(this.walDir);
    const seg: Segment = {
      seq,
      firstIndex,
      file,
      bytes: head.length,
      fileBytes,
      maxIndex: 0,
      version: WAL_VERSION,
    };
    return { fd, seg };
  }

  /**
   * rotate starts the next segment (see createSegment) and records it in the checkpoint, made
   * durable at once: a rotation is rare, and a checkpoint naming the newest segment makes its loss
   * visible even after a power cut.
   */
  private async rotate(batch: RecordBuffer): Promise<Segment> {
    const prev = this.segments[this.segments.length - 1];
    const firstIndex = batch.firstIndex > 0 ? batch.firstIndex : this.lastIndex() + 1;
    const { fd, seg } = await this.createSegment(prev.seq + 1, firstIndex, prev.bytes);
    const old = this.fd;
    this.fd = fd;
    this.segments.push(seg);
    this.counters.rotations++;
    await this.fs.close(old);
    await this.writeCheckpoint(true);
    return seg;
  }

  /** checkpoint describes what is durable now, as if the active segment were (seq, offset). */
  private checkpoint(seq: number, offset: number): Checkpoint {
    return {
      counter: this.cpCounter,
      seq,
      offset,
      commit: this.commitDurable,
      term: this.durableTerm,
      vote: this.durableVote,
      snapshotIndex: this.durableSnapshotIndex,
      lastIndex: this.durableLast,
    };
  }

  /**
   * writeCheckpoint writes the next checkpoint into its slot. With `sync` it is made durable
   * before this returns; otherwise it is left in the page cache, which outlives the process, and
   * an fdatasync follows within checkpointSyncMs, beside the WAL's own.
   */
  private async writeCheckpoint(sync: boolean): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    this.cpCounter++;
    const cp = this.checkpoint(active.seq, active.bytes);
    const slot = encodeCheckpointSlot(cp, this.cpSlot);
    await writeFully(this.fs, this.cpFd, slot, slotOffset(cp.counter));
    this.cpSlotSeq[cp.counter % 2] = cp.seq;
    this.counters.checkpoints++;
    this.cpDirty = true;
    if (sync) {
      await this.fs.fdatasync(this.cpFd);
      this.counters.checkpointSyncs++;
      this.cpDirty = false;
      this.cpSyncedSeq = Math.max(this.cpSyncedSeq, Math.min(this.cpSlotSeq[0], this.cpSlotSeq[1]));
    } else if (this.cpTimer === undefined && this.cpSyncing === undefined) {
      this.cpTimer = setTimeout(() => this.syncCheckpoint(), this.checkpointSyncMs);
      this.cpTimer.unref();
    }
  }

  /** syncCheckpoint makes the latest checkpoint durable; an I/O error fails the store. */
  private syncCheckpoint(): void {
    this.cpTimer = undefined;
    if (!this.cpDirty || this.state !== 'open' || this.failure) return;
    this.cpDirty = false;
    // What the slots hold now, or something newer written meanwhile, is what becomes durable.
    const seq = Math.min(this.cpSlotSeq[0], this.cpSlotSeq[1]);
    const done = this.fs.fdatasync(this.cpFd).then(
      () => {
        this.counters.checkpointSyncs++;
        if (seq > this.cpSyncedSeq) this.cpSyncedSeq = seq;
      },
      (err: unknown) => {
        this.fail(err);
      },
    );
    this.cpSyncing = done.finally(() => {
      this.cpSyncing = undefined;
      if (this.cpDirty && this.cpTimer === undefined && this.state === 'open') {
        this.cpTimer = setTimeout(() => this.syncCheckpoint(), this.checkpointSyncMs);
        this.cpTimer.unref();
      }
    });
  }

  private async writeAll(fd: number, b: Uint8Array, position: number): Promise<void> {
    let pos = position;
    let rest = b;
    while (rest.length > 0) {
      const n = await this.fs.write(fd, rest, pos);
      this.counters.writes++;
      this.counters.bytesWritten += n;
      pos += n;
      rest = rest.subarray(n);
    }
  }

  /**
   * writeDurably writes `file` via `file.tmp`: write -> fsync -> rename -> fsync(dir). The next
   * part is taken from `parts` while the previous one is being written; it returns the bytes
   * written.
   */
  private async writeDurably(
    file: string,
    parts: Iterable<Uint8Array>,
    dir: string,
  ): Promise<number> {
    const tmp = `${file}.tmp`;
    const fd = await this.fs.open(tmp, 'w');
    let pos = 0;
    let writing: Promise<void> = Promise.resolve();
    try {
      for (const b of parts) {
        await writing;
        writing = writeFully(this.fs, fd, b, pos);
        pos += b.length;
      }
      await writing;
      await this.fs.fsync(fd);
      this.counters.fsyncs++;
    } finally {
      await writing.catch(noop);
      await this.fs.close(fd);
    }
    await this.fs.rename(tmp, file);
    await this.syncDir(dir);
    return pos;
  }

  private async syncDir(dir: string): Promise<void> {
    if (process.platform === 'win32') return;
    const fd = await this.fs.open(dir, 'r');
    try {
      await this.fs.fsync(fd);
      this.counters.fsyncs++;
    } finally {
      await this.fs.close(fd);
    }
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.maintenance.then(task);
    this.maintenance = run.then(noop, noop);
    return run;
  }

  private async removeOtherSnapshots(keep: string): Promise<void> {
    let removed = false;
    for (const name of readdirSync(this.snapDir)) {
      if (name === keep || !SNAP_NAME.test(name)) continue;
      await this.fs.unlink(join(this.snapDir, name));
      removed = true;
    }
    if (removed) await this.syncDir(this.snapDir);
  }

  /**
   * removeSegmentsThrough deletes segments from the oldest on while every index they record is
   * <= `index`; the active segment always stays, as does the one the durable checkpoint names,
   * and the WAL stays a suffix of what was written.
   */
  private async removeSegmentsThrough(index: number): Promise<void> {
    const doomed: Segment[] = [];
    while (
      this.segments.length > 1 &&
      this.segments[0].maxIndex <= index &&
      this.segments[0].seq < this.cpSyncedSeq
    ) {
      doomed.push(this.segments.shift() as Segment);
    }
    for (const s of doomed) await this.fs.unlink(s.file);
    if (doomed.length > 0) await this.syncDir(this.walDir);
  }
}
