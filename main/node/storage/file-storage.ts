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
  encodeSegmentHead,
  dataEnd,
  findValidRecord,
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

export interface FileStorageOptions {
  /** dir is the node's data dir; it holds LOCK, hardstate, wal/ and snap/. */
  dir: string;
  /** segmentBytes: a sync that finds the active segment at or past this size starts a new one. */
  segmentBytes?: number;
  /** fsyncDelayMs delays every sync that has something to write, simulating a slow disk. */
  fsyncDelayMs?: number;
  /** fs replaces single file-system calls (tests inject errors or count calls). */
  fs?: Partial<StorageFs>;
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
 *   LOCK       pid of the process that has the dir open
 *   hardstate  term, vote, commit (rewritten tmp -> fsync -> rename -> fsync dir on term/vote change)
 *   wal/       segments of checksummed records: entries, commit marks, snapshot marks
 *   snap/      the latest snapshot image
 *
 * Ordering inside one sync: the hardstate file (if term or vote changed) is made durable first,
 * then the WAL batch is written with one write call and made durable with one fdatasync; the sync
 * resolves only after both. A commit change rides the batch as a commit record placed after every
 * entry of the batch, so an intact commit record implies the entries it covers are intact.
 */
export class FileStorage implements Storage {
  readonly dir: string;
  private readonly walDir: string;
  private readonly snapDir: string;
  private readonly hardStateFile: string;
  private readonly segmentBytes: number;
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
  };

  private state: State = 'new';
  private failure: Error | undefined;
  private lockFile: string | undefined;

  private segments: Segment[] = [];
  /** fd of the active (last) segment. */
  private fd = -1;
  /** head: records the active segment still needs at its start (a fresh or emptied segment). */
  private head: Buffer | undefined;
  /** walDirDirty: a segment was created; wal/ must be fsynced after the next write. */
  private walDirDirty = false;

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
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
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
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
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
    this.state = 'closed';
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await this.fs.close(fd).catch(noop);
    }
    if (this.lockFile !== undefined) releaseLock(this.lockFile);
    if (error !== undefined) throw error;
  }

  // ---- loading ----

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
    for (const name of readdirSync(this.snapDir)) {
      if (name.endsWith('.tmp')) removeSync(join(this.snapDir, name));
    }

    const hs = existsSync(this.hardStateFile)
      ? decodeHardState(this.hardStateFile, readFileSync(this.hardStateFile))
      : { term: 0, vote: 0, commit: 0 };
    const snapshot = this.loadSnapshot();
    const snapIndex = snapshot?.meta.index ?? 0;

    const replay = new WalReplay();
    const names = readdirSync(this.walDir)
      .filter((n) => SEGMENT_NAME.test(n))
      .sort();
    let repairedTail: LoadInfo['repairedTail'];
    for (let k = 0; k < names.length; k++) {
      const m = SEGMENT_NAME.exec(names[k]) as RegExpExecArray;
      const file = join(this.walDir, names[k]);
      const buf = readFileSync(file);
      const last = k === names.length - 1;
      const scan = replay.segment(file, buf);
      if (scan.validEnd === 0 && scan.bad === undefined && !last) {
        throw new StorageCorruptError(`corrupt WAL segment ${file}: empty`, file, 0);
      }
      const segment: Segment = {
        seq: parseInt(m[1], 16),
        firstIndex: parseInt(m[2], 16),
        file,
        bytes: scan.validEnd,
        fileBytes: buf.length,
        maxIndex: scan.maxIndex,
      };
      this.segments.push(segment);
      const bad = scan.bad;
      if (bad === undefined) continue;
      const where = `corrupt WAL record in ${file} at offset ${bad.offset}: ${bad.reason}`;
      if (!last) throw new StorageCorruptError(where, file, bad.offset);
      const after = findValidRecord(buf, bad.offset + 1);
      if (after >= 0) {
        throw new StorageCorruptError(
          `${where}; a valid record follows at offset ${after}`,
          file,
          bad.offset,
        );
      }
      // A torn tail: nothing valid after the damage. Cut it only if nothing durable goes with it.
      const floor = Math.max(hs.commit, replay.commit);
      const kept = Math.max(replay.lastIndex(), snapIndex);
      if (floor > kept || (bad.entryIndex > snapIndex && bad.entryIndex <= floor)) {
        throw new StorageCorruptError(
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
    }

    if (snapshot) replay.snapshot(snapIndex, snapshot.meta.term);
    const entries = replay.log;
    if (entries.length > 0 && entries[0].index !== snapIndex + 1) {
      const what = snapshot ? `the snapshot ${this.snapFile} ends at ${snapIndex}` : 'no snapshot';
      throw new StorageCorruptError(
        `WAL in ${this.walDir} resumes at index ${entries[0].index} but there is ${what}: ` +
          'entries are missing',
        this.walDir,
      );
    }
    const lastIndex = entries.length > 0 ? entries[entries.length - 1].index : snapIndex;
    const commit = Math.min(Math.max(hs.commit, replay.commit, snapIndex), lastIndex);

    for (const e of entries) this.runs.append(e.index, e.term);
    this.hs = { term: hs.term, vote: hs.vote, commit };
    this.hsQueued = { term: hs.term, vote: hs.vote };
    this.commitQueued = commit;
    this.commitDurable = commit;

    const active = this.segments[this.segments.length - 1];
    if (active === undefined) {
      const file = join(this.walDir, segmentName(1, lastIndex + 1));
      this.fd = await this.fs.open(file, 'wx');
      this.segments.push({
        seq: 1,
        firstIndex: lastIndex + 1,
        file,
        bytes: 0,
        fileBytes: 0,
        maxIndex: 0,
      });
      this.head = encodeSegmentHead(commit);
      this.walDirDirty = true;
    } else {
      this.fd = await this.fs.open(active.file, 'r+');
      if (active.bytes === 0) this.head = encodeSegmentHead(commit);
    }

    const sizes = this.sizes();
    const info: LoadInfo = { segments: sizes.segments, walBytes: sizes.walBytes };
    if (repairedTail) info.repairedTail = repairedTail;
    return { hardState: { ...this.hs }, snapshot, entries, info };
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
   * hardstate file first, then the WAL batch. New appends meanwhile go to the other buffer.
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
    this.counters.syncs++;
    try {
      if (this.fsyncDelayMs > 0) await sleep(this.fsyncDelayMs);
      if (hs) await this.writeDurably(this.hardStateFile, [encodeHardState(hs)], this.dir);
      if (batch.length > 0) await this.writeBatch(batch);
      if (commit > this.commitDurable) this.commitDurable = commit;
    } catch (err) {
      throw this.fail(err);
    } finally {
      batch.reset();
    }
  }

  private async writeBatch(batch: RecordBuffer): Promise<void> {
    let seg = this.segments[this.segments.length - 1];
    if (this.head === undefined && seg.bytes >= this.segmentBytes) seg = await this.rotate(batch);
    const body = batch.bytes();
    const bufs = this.head ? [this.head, body] : [body];
    const total = (this.head?.length ?? 0) + body.length;
    const end = seg.bytes + total;
    if (end > seg.fileBytes) {
      const step = Math.min(EXTEND_BYTES, this.segmentBytes);
      const fileBytes = (Math.floor(end / step) + 1) * step;
      await this.fs.ftruncate(this.fd, fileBytes);
      seg.fileBytes = fileBytes;
    }
    await this.writeAll(this.fd, bufs, seg.bytes);
    seg.bytes += total;
    if (batch.maxIndex > seg.maxIndex) seg.maxIndex = batch.maxIndex;
    this.head = undefined;
    await this.fs.fdatasync(this.fd);
    this.counters.fdatasyncs++;
    if (this.walDirDirty) {
      await this.syncDir(this.walDir);
      this.walDirDirty = false;
    }
  }

  /** rotate starts a new segment; its header and a commit record go in front of the next batch. */
  private async rotate(batch: RecordBuffer): Promise<Segment> {
    const prev = this.segments[this.segments.length - 1];
    const seq = prev.seq + 1;
    const firstIndex = batch.firstIndex > 0 ? batch.firstIndex : this.lastIndex() + 1;
    const file = join(this.walDir, segmentName(seq, firstIndex));
    const fd = await this.fs.open(file, 'wx');
    const old = this.fd;
    this.fd = fd;
    const seg: Segment = { seq, firstIndex, file, bytes: 0, fileBytes: 0, maxIndex: 0 };
    this.segments.push(seg);
    this.head = encodeSegmentHead(this.commitDurable);
    this.walDirDirty = true;
    this.counters.rotations++;
    await this.fs.close(old);
    return seg;
  }

  private async writeAll(fd: number, bufs: Uint8Array[], position: number): Promise<void> {
    let pos = position;
    let rest = bufs;
    if (bufs.length > 1) {
      const total = bufs.reduce((n, b) => n + b.length, 0);
      const n = await this.fs.writev(fd, bufs, pos);
      this.counters.writes++;
      this.counters.bytesWritten += n;
      if (n === total) return;
      pos += n;
      rest = [Buffer.concat(bufs).subarray(n)];
    }
    for (let b of rest) {
      while (b.length > 0) {
        const n = await this.fs.write(fd, b, pos);
        this.counters.writes++;
        this.counters.bytesWritten += n;
        pos += n;
        b = b.subarray(n);
      }
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
   * <= `index`; the active segment always stays, and the WAL stays a suffix of what was written.
   */
  private async removeSegmentsThrough(index: number): Promise<void> {
    const doomed: Segment[] = [];
    while (this.segments.length > 1 && this.segments[0].maxIndex <= index) {
      doomed.push(this.segments.shift() as Segment);
    }
    for (const s of doomed) await this.fs.unlink(s.file);
    if (doomed.length > 0) await this.syncDir(this.walDir);
  }
}
