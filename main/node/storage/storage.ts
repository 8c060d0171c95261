import type { Entry, HardState, PersistedState, Snapshot, SnapshotPart } from '../../raft/types';

/** LoadInfo reports what load() found and repaired on disk. */
export interface LoadInfo {
  /**
   * repairedTail: a torn tail of the last WAL segment that load() cut off (file, byte offset,
   * bytes of damage; the zeros after it are not counted).
   */
  repairedTail?: { file: string; offset: number; bytes: number };
  /** segments: the number of WAL segment files after load. */
  segments: number;
  /** walBytes: the total size of the WAL segment files after load. */
  walBytes: number;
  /**
   * snapshotMs, walMs: how long load() took to read and check the snapshot file, and to read and
   * replay the WAL (for the node's start report; 0 for a store without files).
   */
  snapshotMs?: number;
  walMs?: number;
}

/** StorageSizes is the on-disk footprint of a store, for telemetry. */
export interface StorageSizes {
  walBytes: number;
  segments: number;
  snapshotBytes: number;
}

/**
 * StorageCorruptError means stored data failed a checksum or could not be parsed, and the store
 * refuses to open rather than guess. `file` names the damaged file; `offset` is the byte offset of
 * the damaged record when there is one.
 */
export class StorageCorruptError extends Error {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(message: string, file: string, offset?: number) {
    super(message);
    this.name = 'StorageCorruptError';
    this.file = file;
    this.offset = offset;
  }
}

/**
 * Storage is a node's durable state: the Raft log, the hard state and the latest snapshot.
 *
 * Ordering rules:
 *  - load() is called exactly once, before any other method.
 *  - append() and setHardState() only buffer; nothing is durable until a later sync() resolves.
 *    Records become durable in call order: a sync never makes a later call durable without the
 *    earlier ones.
 *  - When a Ready carries a snapshot and entries, await saveSnapshot() first, then append() the
 *    entries (they follow the snapshot).
 *  - append() and sync() may go on while a saveSnapshot() of an index at or below the commit is in
 *    flight (the host saves its own snapshots beside its Ready loop); those entries are kept.
 *  - An I/O error in sync(), saveSnapshot() or compact() leaves the store failed: every later call
 *    throws or rejects with that first error. The host treats this as fatal.
 */
export interface Storage {
  /**
   * load reads back everything persisted; called once before anything else. Entries are
   * contiguous and follow the snapshot (entries at or below the snapshot index are never
   * returned); hardState.commit is clamped to the last index. Throws StorageCorruptError on
   * corruption.
   */
  load(): Promise<PersistedState & { info: LoadInfo }>;
  /**
   * append buffers entries. They must be consecutive and entries[0].index must be at most the
   * last stored index + 1 (a RangeError otherwise). An entry whose index is <= the last stored
   * index overwrites it and everything after it (log truncation). Entries at or below the snapshot
   * index are ignored.
   */
  append(entries: Entry[]): void;
  /**
   * setHardState buffers a hard state; term/vote changes are durable after the next sync().
   * A commit-only change is also made durable by the next sync(), without an fsync of its own.
   */
  setHardState(hs: HardState): void;
  /**
   * sync makes everything buffered since the last sync durable with ONE fdatasync per touched file
   * (group commit) and resolves after durability. Concurrent calls coalesce: a call made while a
   * sync is in flight resolves when everything buffered before the call is durable.
   */
  sync(): Promise<void>;
  /**
   * saveSnapshot writes the image durably (tmp -> fsync -> rename -> fsync dir), then applies the
   * Raft rule to the log (if the log holds an entry at meta.index with meta.term, entries after it
   * are kept; otherwise the whole log is discarded), makes that durable together with everything
   * buffered before the call, and finally removes older snapshots and WAL segments wholly covered
   * by it. Rejects with a RangeError (store not failed) if the snapshot is older than the stored one.
   */
  saveSnapshot(snap: Snapshot): Promise<void>;
  /**
   * receiveSnapshot is told how an incoming snapshot arrives (Ready.snapshotParts, in order). A
   * store may write the image ahead, beside everything else, so that saveSnapshot() of that
   * snapshot only completes the file. It never throws and never fails the store; a store may
   * ignore it.
   */
  receiveSnapshot(part: SnapshotPart): void;
  /**
   * compact tells the store entries <= index are no longer needed: WAL segments wholly <= index
   * may be deleted. Entries above the stored snapshot index are the only copy of their data and are
   * never dropped: index is clamped to the snapshot index.
   */
  compact(index: number): Promise<void>;
  /** setFsyncDelay delays every later sync by `ms` milliseconds to simulate a slow disk (0 = off). */
  setFsyncDelay(ms: number): void;
  /** sizes reports the store's footprint (a memory store reports its encoded size). */
  sizes(): StorageSizes;
  /**
   * close syncs whatever is buffered (unless the store failed), then releases files and the data
   * dir lock. Every later call rejects.
   */
  close(): Promise<void>;
}

/** entryBytes is the size one entry takes as a WAL record: 8 bytes framing + 18 bytes header + data. */
export function entryBytes(e: Entry): number {
  return 26 + e.data.length;
}

/**
 * checkEntries validates a batch for append() (safe integers, consecutive indexes, Uint8Array data)
 * and returns the entries above `snapshotIndex`; the first of them must be at most lastIndex + 1.
 */
export function checkEntries(entries: Entry[], snapshotIndex: number, lastIndex: number): Entry[] {
  const first = entries[0].index;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    if (!Number.isSafeInteger(e.index) || e.index < 1) {
      throw new RangeError(`entry index ${e.index} is not a positive safe integer`);
    }
    if (!Number.isSafeInteger(e.term) || e.term < 0) {
      throw new RangeError(`entry ${e.index}: term ${e.term} is not a non-negative safe integer`);
    }
    if (e.index !== first + k) {
      throw new RangeError(`entries are not consecutive: ${e.index} follows ${first + k - 1}`);
    }
    if (e.type !== 'normal' && e.type !== 'conf') {
      throw new RangeError(`entry ${e.index}: unknown type ${String(e.type)}`);
    }
    if (!(e.data instanceof Uint8Array)) {
      throw new RangeError(`entry ${e.index}: data is not a Uint8Array`);
    }
  }
  const kept = first > snapshotIndex ? entries : entries.slice(snapshotIndex - first + 1);
  if (kept.length > 0 && kept[0].index > lastIndex + 1) {
    throw new RangeError(
      `append at index ${kept[0].index} leaves a gap after the last index ${lastIndex}`,
    );
  }
  return kept;
}

/** checkHardState validates a hard state: three non-negative safe integers. */
export function checkHardState(hs: HardState): void {
  for (const key of ['term', 'vote', 'commit'] as const) {
    const v = hs[key];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`hard state ${key} ${v} is not a non-negative safe integer`);
    }
  }
}
