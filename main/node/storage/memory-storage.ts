import type { Entry, HardState, PersistedState, Snapshot, SnapshotPart } from '../../raft/types';
import {
  StorageCorruptError,
  checkEntries,
  checkHardState,
  entryBytes,
  type LoadInfo,
  type Storage,
  type StorageSizes,
} from './storage';

/**
 * MemoryDisk is what a MemoryStorage has made "durable". Keep it to open a new MemoryStorage on
 * the same state after a simulated restart: whatever was not synced is gone, as after a crash.
 */
export class MemoryDisk {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  /** entries: contiguous, all above the snapshot index. */
  entries: Entry[] = [];
  snapshot: Snapshot | undefined = undefined;
  /** inUse: a MemoryStorage has loaded this disk and not closed it. */
  inUse = false;
}

function copyEntry(e: Entry): Entry {
  return { index: e.index, term: e.term, type: e.type, data: e.data.slice() };
}

function copySnapshot(s: Snapshot): Snapshot {
  return { meta: structuredClone(s.meta), data: s.data.slice() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * MemoryStorage is Storage without I/O. It keeps copies of everything it is given; append() and
 * setHardState() buffer until sync() moves them to its MemoryDisk, in call order, exactly like the
 * file store. injectError() makes the next sync, saveSnapshot or compact fail for good.
 */
export class MemoryStorage implements Storage {
  readonly disk: MemoryDisk;
  private fsyncDelayMs: number;
  private readonly requireState: string | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';
  private failure: Error | undefined;
  private injected: Error | undefined;
  /** pending: batches appended since the last sync, in call order. */
  private pending: Entry[][] = [];
  private hs: HardState | undefined;
  /** last: the last index including pending entries. */
  private last = 0;
  private syncCount = 0;
  /** flushing settles when every sync started so far has finished; syncs run one at a time. */
  private flushing: Promise<void> = Promise.resolve();

  /**
   * options.requireState: the disk is known to have held state (the reason, for the message); a
   * disk with none is then refused, as FileStorage refuses an emptied data dir.
   */
  constructor(
    disk: MemoryDisk = new MemoryDisk(),
    options: { fsyncDelayMs?: number; requireState?: string } = {},
  ) {
    this.disk = disk;
    this.fsyncDelayMs = options.fsyncDelayMs ?? 0;
    this.requireState = options.requireState;
  }

  /** syncs counts the syncs that had something to make durable. */
  get syncs(): number {
    return this.syncCount;
  }

  /** injectError makes the next sync, saveSnapshot or compact reject with `err`; the store then stays failed. */
  injectError(err: Error): void {
    this.injected = err;
  }

  setFsyncDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`fsync delay ${ms} is not a duration`);
    this.fsyncDelayMs = ms;
  }

  load(): Promise<PersistedState & { info: LoadInfo }> {
    if (this.state !== 'new') {
      return Promise.reject(new Error('MemoryStorage.load() may be called only once'));
    }
    if (this.disk.inUse) return Promise.reject(new Error('memory disk is in use'));
    const d = this.disk;
    const hs = d.hardState;
    const blank = hs.term === 0 && hs.vote === 0 && hs.commit === 0;
    if (this.requireState !== undefined && blank && d.entries.length === 0 && !d.snapshot) {
      this.state = 'closed';
      return Promise.reject(
        new StorageCorruptError(
          `memory disk holds no Raft state, but ${this.requireState}: ` +
            'refusing to start as an empty node',
          'memory',
        ),
      );
    }
    this.disk.inUse = true;
    this.state = 'open';
    this.last = this.diskLast();
    const snapIndex = d.snapshot?.meta.index ?? 0;
    const commit = Math.min(Math.max(d.hardState.commit, snapIndex), this.last);
    const sizes = this.sizes();
    return Promise.resolve({
      hardState: { term: d.hardState.term, vote: d.hardState.vote, commit },
      snapshot: d.snapshot ? copySnapshot(d.snapshot) : undefined,
      entries: d.entries.map(copyEntry),
      info: { segments: sizes.segments, walBytes: sizes.walBytes },
    });
  }

  append(entries: Entry[]): void {
    this.check();
    if (entries.length === 0) return;
    const kept = checkEntries(entries, this.disk.snapshot?.meta.index ?? 0, this.last);
    if (kept.length === 0) return;
    this.pending.push(kept.map(copyEntry));
    this.last = kept[kept.length - 1].index;
  }

  setHardState(hs: HardState): void {
    this.check();
    checkHardState(hs);
    this.hs = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  sync(): Promise<void> {
    try {
      this.check();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.pending.length === 0 && this.hs === undefined) {
      return this.flushing.then(() => this.check());
    }
    const batches = this.pending;
    const hs = this.hs;
    this.pending = [];
    this.hs = undefined;
    const run = this.flushing.then(async () => {
      this.syncCount++;
      this.takeInjected();
      if (this.fsyncDelayMs > 0) await sleep(this.fsyncDelayMs);
      const d = this.disk;
      for (const batch of batches) {
        const first = batch[0].index;
        const base = d.entries.length > 0 ? d.entries[0].index : first;
        if (first < base) d.entries = [];
        else if (first - base < d.entries.length) d.entries.length = first - base;
        for (const e of batch) d.entries.push(e);
      }
      if (hs) d.hardState = hs;
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** receiveSnapshot: a memory store copies the whole image when it is saved. */
  receiveSnapshot(_part: SnapshotPart): void {}

  async saveSnapshot(snap: Snapshot): Promise<void> {
    this.check();
    const current = this.disk.snapshot?.meta;
    if (current && snap.meta.index < current.index) {
      throw new RangeError(
        `snapshot at index ${snap.meta.index} is older than the stored one at ${current.index}`,
      );
    }
    this.takeInjected();
    const copy = copySnapshot(snap);
    await this.sync();
    const d = this.disk;
    const { index, term } = copy.meta;
    const pos = d.entries.length > 0 ? index - d.entries[0].index : -1;
    const matches =
      (pos >= 0 && pos < d.entries.length && d.entries[pos].term === term) ||
      (current?.index === index && current.term === term);
    if (!matches) d.entries = [];
    else if (pos >= 0) d.entries = d.entries.slice(pos + 1);
    d.snapshot = copy;
    // A matching snapshot keeps the log, including what was appended while it was saved.
    this.last = matches ? Math.max(this.last, index) : this.diskLast();
  }

  compact(index: number): Promise<void> {
    try {
      this.check();
      this.takeInjected();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const d = this.disk;
    const through = Math.min(index, d.snapshot?.meta.index ?? 0);
    const keep = d.entries.findIndex((e) => e.index > through);
    d.entries = keep < 0 ? [] : d.entries.slice(keep);
    return Promise.resolve();
  }

  sizes(): StorageSizes {
    let walBytes = 0;
    for (const e of this.disk.entries) walBytes += entryBytes(e);
    return { walBytes, segments: 0, snapshotBytes: this.disk.snapshot?.data.length ?? 0 };
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    try {
      if (!this.failure) await this.sync();
    } finally {
      this.state = 'closed';
      this.disk.inUse = false;
    }
  }

  private diskLast(): number {
    const d = this.disk;
    const n = d.entries.length;
    return n > 0 ? d.entries[n - 1].index : (d.snapshot?.meta.index ?? 0);
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') {
      throw new Error(this.state === 'closed' ? 'storage is closed' : 'storage is not loaded');
    }
  }

  private takeInjected(): void {
    const err = this.injected;
    if (err === undefined) return;
    this.injected = undefined;
    this.failure = err;
    throw err;
  }
}
