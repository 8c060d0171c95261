import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../../main/node/storage/file-storage';
import { MemoryDisk, MemoryStorage } from '../../../main/node/storage/memory-storage';
import { StorageCorruptError, type Storage } from '../../../main/node/storage/storage';
import type { ConfState, Snapshot } from '../../../main/raft/types';
import { LogModel, entries, entry, payload, plain } from './fixtures/entries';

/**
 * Impl opens a fresh store on a "disk" that survives between opens (a dir, or a MemoryDisk);
 * `requireState` says the disk is known to have held state.
 */
interface Impl {
  name: string;
  disk: (dir: string) => (requireState?: string) => Storage;
}

const IMPLS: Impl[] = [
  {
    name: 'MemoryStorage',
    disk: () => {
      const disk = new MemoryDisk();
      return (requireState) => new MemoryStorage(disk, { requireState });
    },
  },
  {
    name: 'FileStorage',
    disk: (dir) => (requireState) => new FileStorage({ dir, segmentBytes: 4096, requireState }),
  },
];

const CONF: ConfState = { voters: [1, 2, 3], learners: [4], addresses: { '1': '127.0.0.1:7001' } };

function snapshot(index: number, term: number, size = 300): Snapshot {
  return { meta: { index, term, conf: CONF }, data: payload(index, term, size) };
}

describe.each(IMPLS)('Storage contract: $name', ({ disk }) => {
  let dir: string;
  let open: (requireState?: string) => Storage;
  let current: Storage | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-storage-'));
    open = disk(dir);
    current = undefined;
  });

  afterEach(async () => {
    await current?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** restart closes the current store (if any), opens a new one on the same disk and loads it. */
  async function restart() {
    await current?.close();
    current = open();
    const state = await current.load();
    return { s: current, state };
  }

  it('loads an empty store as hard state {0,0,0}, no entries, no snapshot', async () => {
    const { state } = await restart();
    expect(state.hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    expect(state.entries).toEqual([]);
    expect(state.snapshot).toBeUndefined();
  });

  it('refuses an empty store that must hold state, and opens one that holds it', async () => {
    const reason = 'this node has run before';
    const empty = open(reason);
    const err = await empty.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toMatch(/holds no Raft state.*, but this node has run before/);
    const { s } = await restart();
    s.setHardState({ term: 1, vote: 0, commit: 0 });
    await s.sync();
    await current?.close();
    current = open(reason);
    expect((await current.load()).hardState.term).toBe(1);
  });

  it('round-trips appended entries and the hard state', async () => {
    const { s } = await restart();
    const list = [
      ...entries(1, 30, 1),
      { index: 31, term: 2, type: 'conf' as const, data: new Uint8Array(0) },
      entry(32, 2, 10_000),
    ];
    s.append(list.slice(0, 10));
    s.append(list.slice(10));
    s.setHardState({ term: 2, vote: 3, commit: 31 });
    await s.sync();
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain(list));
    expect(state.hardState).toEqual({ term: 2, vote: 3, commit: 31 });
  });

  it('overwrites an entry and everything after it within one batch', async () => {
    const { s } = await restart();
    s.append(entries(1, 10, 1));
    s.append(entries(6, 8, 2));
    await s.sync();
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain([...entries(1, 5, 1), ...entries(6, 8, 2)]));
  });

  it('overwrites synced entries across syncs and restarts', async () => {
    let { s } = await restart();
    s.append(entries(1, 10, 1));
    await s.sync();
    s.append(entries(4, 5, 3));
    await s.sync();
    ({ s } = await restart());
    s.append(entries(5, 12, 4));
    await s.sync();
    s.append(entries(2, 2, 5));
    s.append(entries(3, 4, 5));
    await s.sync();
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain([entry(1, 1), ...entries(2, 4, 5)]));
  });

  it('rejects an append that leaves a gap or is not consecutive, and stays usable', async () => {
    const { s } = await restart();
    s.append(entries(1, 3, 1));
    expect(() => s.append(entries(5, 6, 1))).toThrow(RangeError);
    expect(() => s.append([entry(4, 1), entry(6, 1)])).toThrow(RangeError);
    s.append(entries(4, 5, 1));
    await s.sync();
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain(entries(1, 5, 1)));
  });

  it('makes term, vote and commit-only changes durable', async () => {
    let { s } = await restart();
    s.append(entries(1, 10, 1));
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    await s.sync();
    s.setHardState({ term: 1, vote: 1, commit: 4 });
    await s.sync();
    s.setHardState({ term: 1, vote: 1, commit: 7 });
    await s.sync();
    let { state } = await restart();
    expect(state.hardState).toEqual({ term: 1, vote: 1, commit: 7 });
    ({ s } = await restart());
    s.setHardState({ term: 5, vote: 0, commit: 8 });
    await s.sync();
    ({ state } = await restart());
    expect(state.hardState).toEqual({ term: 5, vote: 0, commit: 8 });
  });

  it('clamps the commit index to the last index', async () => {
    const { s } = await restart();
    s.append(entries(1, 10, 1));
    s.setHardState({ term: 1, vote: 1, commit: 100 });
    await s.sync();
    const { state } = await restart();
    expect(state.hardState.commit).toBe(10);
  });

  it('returns a saved snapshot and only the entries after it', async () => {
    let { s } = await restart();
    s.append(entries(1, 20, 1));
    s.setHardState({ term: 1, vote: 1, commit: 20 });
    await s.sync();
    const snap = snapshot(12, 1);
    await s.saveSnapshot(snap);
    let { state } = await restart();
    expect(state.snapshot?.meta).toEqual(snap.meta);
    expect(Buffer.from(state.snapshot?.data ?? [])).toEqual(Buffer.from(snap.data));
    expect(plain(state.entries)).toEqual(plain(entries(13, 20, 1)));
    expect(state.hardState).toEqual({ term: 1, vote: 1, commit: 20 });
    ({ s } = await restart());
    s.append(entries(21, 25, 2));
    await s.sync();
    await s.saveSnapshot(snapshot(18, 1, 50));
    ({ state } = await restart());
    expect(state.snapshot?.meta.index).toBe(18);
    expect(state.snapshot?.data.length).toBe(50);
    expect(plain(state.entries)).toEqual(plain([...entries(19, 20, 1), ...entries(21, 25, 2)]));
    expect(current?.sizes().snapshotBytes).toBeGreaterThanOrEqual(50);
  });

  it('keeps entries appended and synced while a snapshot is being saved', async () => {
    const { s } = await restart();
    s.append(entries(1, 30, 1));
    s.setHardState({ term: 1, vote: 1, commit: 30 });
    await s.sync();
    // The host writes its own snapshots beside the log: appends and syncs go on meanwhile.
    const saving = s.saveSnapshot(snapshot(25, 1, 9 << 20));
    s.append(entries(31, 40, 1));
    const first = s.sync();
    s.append(entries(41, 45, 2));
    s.setHardState({ term: 2, vote: 1, commit: 40 });
    await Promise.all([saving, first, s.sync()]);
    s.append(entries(46, 46, 2));
    await s.sync();
    const { state } = await restart();
    expect(state.snapshot?.meta.index).toBe(25);
    expect(
      Buffer.from(state.snapshot!.data).equals(Buffer.from(snapshot(25, 1, 9 << 20).data)),
    ).toBe(true);
    expect(plain(state.entries)).toEqual(plain([...entries(26, 40, 1), ...entries(41, 46, 2)]));
    expect(state.hardState).toEqual({ term: 2, vote: 1, commit: 40 });
  });

  it('discards the whole log for a snapshot whose term does not match', async () => {
    const { s } = await restart();
    s.append(entries(1, 20, 1));
    await s.sync();
    await s.saveSnapshot(snapshot(15, 2));
    expect(() => s.append(entries(17, 18, 2))).toThrow(RangeError);
    s.append(entries(16, 17, 2));
    await s.sync();
    const { state } = await restart();
    expect(state.snapshot?.meta.index).toBe(15);
    expect(plain(state.entries)).toEqual(plain(entries(16, 17, 2)));
  });

  it('accepts a snapshot beyond the last index and appends after it', async () => {
    let { s } = await restart();
    s.append(entries(1, 5, 1));
    s.setHardState({ term: 3, vote: 2, commit: 5 });
    await s.sync();
    await s.saveSnapshot(snapshot(100, 3));
    let { state } = await restart();
    expect(state.entries).toEqual([]);
    expect(state.hardState.commit).toBe(100);
    ({ s } = await restart());
    s.append(entries(95, 102, 3));
    await s.sync();
    ({ state } = await restart());
    expect(plain(state.entries)).toEqual(plain(entries(101, 102, 3)));
  });

  it('raises the commit index to the snapshot index', async () => {
    const { s } = await restart();
    s.append(entries(1, 10, 1));
    await s.sync();
    await s.saveSnapshot(snapshot(6, 1));
    const { state } = await restart();
    expect(state.hardState.commit).toBe(6);
  });

  it('rejects a snapshot older than the stored one without failing', async () => {
    const { s } = await restart();
    s.append(entries(1, 10, 1));
    await s.saveSnapshot(snapshot(8, 1));
    await expect(s.saveSnapshot(snapshot(5, 1))).rejects.toThrow(RangeError);
    s.append(entries(11, 12, 1));
    await s.sync();
    const { state } = await restart();
    expect(state.snapshot?.meta.index).toBe(8);
    expect(plain(state.entries)).toEqual(plain(entries(9, 12, 1)));
  });

  it('compacts up to the snapshot index and never drops entries above it', async () => {
    let { s } = await restart();
    for (let i = 1; i <= 300; i += 10) {
      s.append(entries(i, i + 9, 1, 100));
      await s.sync();
    }
    await s.saveSnapshot(snapshot(250, 1));
    await s.compact(250);
    await s.compact(1000);
    s.append(entries(301, 310, 2, 100));
    await s.sync();
    let { state } = await restart();
    expect(plain(state.entries)).toEqual(
      plain([...entries(251, 300, 1, 100), ...entries(301, 310, 2, 100)]),
    );
    ({ s } = await restart());
    await s.compact(310);
    ({ state } = await restart());
    expect(state.entries.map((e) => e.index)).toEqual(entries(251, 310, 1).map((e) => e.index));
  });

  it('stores many entries with overwrites like the model log', async () => {
    let { s } = await restart();
    const model = new LogModel();
    let term = 1;
    for (let round = 0; round < 200; round++) {
      let from = model.last + 1;
      if (round % 9 === 8 && model.last > 20) {
        from = model.last - (round % 13);
        term++;
      }
      const list = entries(from, from + 99, term);
      s.append(list);
      model.append(list);
      if (round % 3 === 0) await s.sync();
      if (round % 50 === 49) {
        ({ s } = await restart());
      }
    }
    await s.sync();
    const { state } = await restart();
    expect(state.entries.length).toBe(model.log.length);
    expect(plain(state.entries)).toEqual(plain(model.log));
  });

  it('resolves concurrent syncs only after what each covers is durable', async () => {
    const { s } = await restart();
    const pending: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      s.append([entry(i, 1)]);
      s.setHardState({ term: 1, vote: 1, commit: i - 1 });
      pending.push(s.sync());
      if (i % 5 === 0) pending.push(s.sync());
    }
    await Promise.all(pending);
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain(entries(1, 50, 1)));
    expect(state.hardState.commit).toBe(49);
  });

  it('ignores entries at or below the snapshot index', async () => {
    const { s } = await restart();
    s.append(entries(1, 10, 1));
    await s.saveSnapshot(snapshot(10, 1));
    s.append(entries(8, 12, 1));
    await s.sync();
    const { state } = await restart();
    expect(plain(state.entries)).toEqual(plain(entries(11, 12, 1)));
  });

  it('delays syncs by the fsync delay', async () => {
    const { s } = await restart();
    s.setFsyncDelay(60);
    s.append(entries(1, 2, 1));
    const t0 = performance.now();
    await s.sync();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
    s.setFsyncDelay(0);
  });

  it('rejects calls after close and a second load', async () => {
    const { s } = await restart();
    await expect(s.load()).rejects.toThrow();
    await s.close();
    expect(() => s.append(entries(1, 1, 1))).toThrow();
    await expect(s.sync()).rejects.toThrow();
    current = undefined;
  });
});

describe('MemoryStorage only', () => {
  it('loses what was not synced and keeps what was', async () => {
    const disk = new MemoryDisk();
    const a = new MemoryStorage(disk);
    await a.load();
    a.append(entries(1, 3, 1));
    await a.sync();
    a.append(entries(4, 5, 1));
    disk.inUse = false; // the process died without closing
    const b = new MemoryStorage(disk);
    const state = await b.load();
    expect(plain(state.entries)).toEqual(plain(entries(1, 3, 1)));
  });

  it('stays failed after an injected error', async () => {
    const s = new MemoryStorage();
    await s.load();
    const boom = new Error('EIO: injected');
    s.injectError(boom);
    s.append(entries(1, 1, 1));
    await expect(s.sync()).rejects.toBe(boom);
    expect(() => s.append(entries(2, 2, 1))).toThrow(boom);
    await expect(s.sync()).rejects.toBe(boom);
    await expect(s.saveSnapshot(snapshot(1, 1))).rejects.toBe(boom);
    await s.close();
  });
});
