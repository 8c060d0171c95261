import { spawn } from 'node:child_process';
import {
  existsSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCheckpoint, slotOffset } from '../../../main/node/storage/checkpoint-file';
import { crc32c } from '../../../main/node/storage/crc32c';
import { FileStorage, type FileStorageOptions } from '../../../main/node/storage/file-storage';
import { nodeFs, type StorageFs } from '../../../main/node/storage/fs-ops';
import { StorageCorruptError } from '../../../main/node/storage/storage';
import type { Snapshot } from '../../../main/raft/types';
import { LogModel, entries, entry, payload, plain } from './fixtures/entries';
import { writeLegacyDir } from './fixtures/legacy-dir';

interface RecordInfo {
  offset: number;
  /** size: framing + payload. */
  size: number;
  kind: number;
}

/** records walks a segment file's framing (without checking crcs) up to the zeros at its end. */
function records(file: string): RecordInfo[] {
  const buf = readFileSync(file);
  const out: RecordInfo[] = [];
  for (let off = 0; off + 8 <= buf.length;) {
    const len = buf.readUInt32BE(off);
    if (len === 0) break;
    out.push({ offset: off, size: 8 + len, kind: buf[off + 8] });
    off += 8 + len;
  }
  return out;
}

/** recordsEnd is the offset just past a segment file's last record. */
function recordsEnd(file: string): number {
  const last = records(file).at(-1);
  return last === undefined ? 0 : last.offset + last.size;
}

function flipByte(file: string, offset: number): void {
  const buf = readFileSync(file);
  buf[offset] ^= 0x40;
  writeFileSync(file, buf);
}

/** zeroFrom writes zeros over a file from `offset` to its end, keeping its length. */
function zeroFrom(file: string, offset: number, end?: number): void {
  const buf = readFileSync(file);
  buf.fill(0, offset, end);
  writeFileSync(file, buf);
}

/** entryRecords are a segment's entry records (kind 1). */
function entryRecords(file: string): RecordInfo[] {
  return records(file).filter((r) => r.kind === 1);
}

function snapshot(index: number, term: number): Snapshot {
  return {
    meta: { index, term, conf: { voters: [1], learners: [], addresses: { '1': 'a:1' } } },
    data: payload(index, term, 500),
  };
}

describe('FileStorage', () => {
  let dir: string;
  let open: FileStorage[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-storage-'));
    open = [];
  });

  afterEach(async () => {
    for (const s of open) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  function store(options: Partial<FileStorageOptions> = {}): FileStorage {
    const s = new FileStorage({ dir, ...options });
    open.push(s);
    return s;
  }

  function walFiles(): string[] {
    return readdirSync(join(dir, 'wal'))
      .sort()
      .map((n) => join(dir, 'wal', n));
  }

  function lastSegment(): string {
    return walFiles().at(-1) as string;
  }

  const checkpointFile = (): string => join(dir, 'checkpoint');

  /**
   * durableCheckpoint: file system hooks that keep a copy of the checkpoint file each time an
   * fdatasync of it makes it durable (`copy()`); `before` runs ahead of each such fdatasync (a
   * test holds it there).
   */
  function durableCheckpoint(before: () => Promise<void> = async () => undefined): {
    copy(): Buffer | undefined;
    fs: Partial<StorageFs>;
  } {
    const fds = new Set<number>();
    let copy: Buffer | undefined;
    return {
      copy: () => copy,
      fs: {
        open: async (path, flags) => {
          const fd = await nodeFs.open(path, flags);
          if (path.endsWith('checkpoint')) fds.add(fd);
          return fd;
        },
        fdatasync: async (fd) => {
          if (fds.has(fd)) await before();
          await nodeFs.fdatasync(fd);
          if (fds.has(fd)) copy = readFileSync(checkpointFile());
        },
      },
    };
  }

  /**
   * neverAcknowledged makes `write` the sync a crash interrupted: its batch reaches the segment
   * but the checkpoint is put back as it was before, which is what a crash between the write and
   * the end of the sync leaves on disk. The store is closed.
   */
  async function neverAcknowledged(s: FileStorage, write: () => void): Promise<void> {
    const before = existsSync(checkpointFile()) ? readFileSync(checkpointFile()) : undefined;
    write();
    await s.sync();
    await s.close();
    if (before) writeFileSync(checkpointFile(), before);
  }

  async function loadError(options: Partial<FileStorageOptions> = {}): Promise<Error> {
    const err = await store(options)
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    return err as Error;
  }

  it('returns exactly what was synced after many syncs and restarts', async () => {
    const model = new LogModel();
    let s = store({ segmentBytes: 8192 });
    await s.load();
    let term = 1;
    let commit = 0;
    for (let round = 1; round <= 120; round++) {
      let from = model.last + 1;
      if (round % 10 === 0) {
        term++;
        from = Math.max(1, model.last - 3);
      }
      const list = entries(from, from + (round % 7), term);
      s.append(list);
      model.append(list);
      commit = Math.max(commit, model.last - 5);
      s.setHardState({ term, vote: 1, commit });
      await s.sync();
      if (round % 40 === 0) {
        await s.close();
        s = store({ segmentBytes: 8192 });
        await s.load();
      }
    }
    await s.close();
    const state = await store().load();
    expect(plain(state.entries)).toEqual(plain(model.log));
    expect(state.hardState).toEqual({ term, vote: 1, commit });
    expect(state.info.repairedTail).toBeUndefined();
    expect(state.info.segments).toBeGreaterThan(1);
    // What opening took is reported, split into the snapshot file and the WAL (whole ms).
    for (const ms of [state.info.snapshotMs, state.info.walMs]) {
      expect(Number.isSafeInteger(ms) && ms! >= 0, `${ms}`).toBe(true);
    }
  });

  it('names files as documented', async () => {
    const s = store({ segmentBytes: 512 });
    await s.load();
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    for (let i = 1; i <= 40; i += 5) {
      s.append(entries(i, i + 4, 1, 40));
      await s.sync();
    }
    await s.saveSnapshot(snapshot(12, 1));
    for (const f of readdirSync(join(dir, 'wal'))) {
      expect(f).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/);
    }
    expect(readdirSync(join(dir, 'snap'))).toEqual(['000000000000000c-0000000000000001.snap']);
    expect(readdirSync(dir).sort()).toEqual([
      'LOCK.0000000000000001',
      'checkpoint',
      'hardstate',
      'snap',
      'wal',
    ]);
  });

  it('group commit: many appends and one sync make one write and one fdatasync', async () => {
    const s = store();
    await s.load();
    s.append(entries(1, 1, 1));
    s.setHardState({ term: 1, vote: 0, commit: 0 });
    await s.sync();
    const before = s.stats();
    for (let i = 2; i <= 101; i++) {
      s.append([entry(i, 1)]);
      s.setHardState({ term: 1, vote: 0, commit: i - 1 });
    }
    await s.sync();
    const after = s.stats();
    expect(after.fdatasyncs - before.fdatasyncs).toBe(1);
    expect(after.writes - before.writes).toBe(1);
    expect(after.fsyncs - before.fsyncs).toBe(0);

    // A term change adds the hardstate file (fsync of file + dir), still one fdatasync of the WAL.
    s.append(entries(102, 110, 2));
    s.setHardState({ term: 2, vote: 3, commit: 101 });
    await s.sync();
    const third = s.stats();
    expect(third.fdatasyncs - after.fdatasyncs).toBe(1);
    expect(third.fsyncs - after.fsyncs).toBe(2);
  });

  it('coalesces concurrent syncs', async () => {
    const s = store({ fsyncDelayMs: 20 });
    await s.load();
    const before = s.stats();
    const waits: Promise<void>[] = [];
    for (let i = 1; i <= 40; i++) {
      s.append([entry(i, 1)]);
      waits.push(s.sync());
    }
    await Promise.all(waits);
    // The first sync takes entry 1; every later call joins the one queued behind it.
    expect(s.stats().fdatasyncs - before.fdatasyncs).toBe(2);
  });

  it('rotates segments and deletes the ones a snapshot covers', async () => {
    const s = store({ segmentBytes: 1024 });
    await s.load();
    for (let i = 1; i <= 200; i += 10) {
      s.append(entries(i, i + 9, 1, 100));
      s.setHardState({ term: 1, vote: 1, commit: i + 9 });
      await s.sync();
    }
    const before = walFiles();
    expect(before.length).toBeGreaterThan(10);
    expect(s.sizes().segments).toBe(before.length);
    expect(s.sizes().walBytes).toBe(before.reduce((n, f) => n + recordsEnd(f), 0));
    await s.saveSnapshot(snapshot(150, 1));
    const after = walFiles();
    expect(after.length).toBeLessThan(before.length);
    expect(after.every((f) => before.includes(f) || f === after.at(-1))).toBe(true);
    expect(s.sizes().segments).toBe(after.length);
    await s.close();
    const state = await store({ segmentBytes: 1024 }).load();
    expect(state.snapshot?.meta.index).toBe(150);
    expect(plain(state.entries)).toEqual(plain(entries(151, 200, 1, 100)));
    expect(state.hardState.commit).toBe(200);
    expect(state.info.segments).toBe(after.length);
  });

  /**
   * writeTen syncs entries 1..10 one per sync, commit trailing at `commit`, and closes; with
   * `lastInFlight` the tenth sync is one a crash interrupted (see neverAcknowledged).
   */
  async function writeTen(commit: number, lastInFlight = false): Promise<void> {
    const s = store();
    await s.load();
    for (let i = 1; i <= 10; i++) {
      const write = (): void => {
        s.append([entry(i, 1, 40)]);
        s.setHardState({ term: 1, vote: 1, commit: Math.min(i, commit) });
      };
      if (i === 10 && lastInFlight) return neverAcknowledged(s, write);
      write();
      await s.sync();
    }
    await s.close();
  }

  it('repairs a torn tail (a record cut short) and reports it', async () => {
    await writeTen(5, true);
    const file = lastSegment();
    const last = entryRecords(file).at(-1) as RecordInfo;
    truncateSync(file, last.offset + last.size - 7);
    const s = store();
    const state = await s.load();
    expect(state.info.repairedTail).toEqual({ file, offset: last.offset, bytes: last.size - 7 });
    expect(statSync(file).size).toBe(last.offset);
    expect(plain(state.entries)).toEqual(plain(entries(1, 9, 1, 40)));
    expect(state.hardState.commit).toBe(5);
    s.append(entries(10, 12, 2));
    await s.sync();
    await s.close();
    const again = await store().load();
    expect(again.info.repairedTail).toBeUndefined();
    expect(plain(again.entries)).toEqual(plain([...entries(1, 9, 1, 40), ...entries(10, 12, 2)]));
  });

  it('refuses the same cut in a sync that completed, naming the record and the checkpoint', async () => {
    await writeTen(5);
    const file = lastSegment();
    const last = entryRecords(file).at(-1) as RecordInfo;
    truncateSync(file, last.offset + last.size - 7);
    const message = (await loadError()).message;
    expect(message).toContain(`corrupt WAL record in ${file} at offset ${last.offset}:`);
    expect(message).toContain(`${checkpointFile()} records that the segment was written up to`);
    expect(message).toContain('so this record was acknowledged');
    expect(statSync(file).size).toBe(last.offset + last.size - 7);
  });

  it('makes durable on open what a killed process may have left in the page cache only', async () => {
    // A process killed after a write and before its fsync leaves the data in the page cache,
    // which outlives it but not a power cut: the next process reads it and must not act on it
    // (acknowledge entries, keep a vote, record a snapshot in the checkpoint) before it is durable.
    const s = store();
    await s.load();
    s.append(entries(1, 3, 1));
    s.setHardState({ term: 1, vote: 1, commit: 1 });
    await s.sync();
    await s.saveSnapshot(snapshot(2, 1));
    await s.close();
    const paths = new Map<number, string>();
    const calls: string[] = [];
    const name = (fd: number): string => (paths.get(fd) ?? '?').slice(dir.length + 1) || '.';
    const t = store({
      fs: {
        open: async (path, flags) => {
          const fd = await nodeFs.open(path, flags);
          paths.set(fd, path);
          return fd;
        },
        fsync: async (fd) => {
          calls.push(`fsync ${name(fd)}`);
          await nodeFs.fsync(fd);
        },
        fdatasync: async (fd) => {
          calls.push(`fdatasync ${name(fd)}`);
          await nodeFs.fdatasync(fd);
        },
        write: (fd, buf, pos) => {
          calls.push(`write ${name(fd)}`);
          return nodeFs.write(fd, buf, pos);
        },
      },
    });
    await t.load();
    const segment = lastSegment().slice(dir.length + 1);
    expect(calls).toEqual(
      expect.arrayContaining([
        'fsync .',
        'fsync wal',
        'fsync snap',
        'fdatasync checkpoint',
        `fdatasync ${segment}`,
      ]),
    );
    expect(calls.some((c) => c.startsWith('write'))).toBe(false);
  });

  describe('a batch a crash left without its end', () => {
    /**
     * tornBatch syncs entries 1-2, then writes 3-5 in one batch that never completes: the
     * checkpoint is put back as before it, and `tear` damages the segment inside that batch.
     */
    async function tornBatch(tear: (file: string, e5: RecordInfo) => void): Promise<string> {
      const s = store();
      await s.load();
      s.append(entries(1, 2, 1, 40));
      s.setHardState({ term: 1, vote: 1, commit: 2 });
      await s.sync();
      await neverAcknowledged(s, () => s.append(entries(3, 5, 1, 40)));
      const file = lastSegment();
      tear(file, entryRecords(file).at(-1) as RecordInfo);
      return file;
    }

    /** reopenTwice loads what the tear left, writes 6-7 after it, and loads again. */
    async function reopenTwice(): Promise<number[][]> {
      const s = store();
      const first = (await s.load()).entries.map((e) => e.index);
      s.append(entries(first.at(-1)! + 1, 7, 2, 40));
      await s.sync();
      await s.close();
      const t = store();
      const second = (await t.load()).entries.map((e) => e.index);
      await t.close();
      return [first, second];
    }

    it('torn in its last entry: the entries before the tear are kept, and later opens read on', async () => {
      const file = await tornBatch((f, e5) => truncateSync(f, e5.offset + 10));
      expect(await reopenTwice()).toEqual([
        [1, 2, 3, 4],
        [1, 2, 3, 4, 5, 6, 7],
      ]);
      expect(records(file).filter((r) => r.kind === 5).length).toBeGreaterThan(0);
    });

    it('cut at a record boundary inside it (zeros from there on): the same', async () => {
      await tornBatch((f, e5) => zeroFrom(f, e5.offset));
      expect(await reopenTwice()).toEqual([
        [1, 2, 3, 4],
        [1, 2, 3, 4, 5, 6, 7],
      ]);
    });
  });

  it('repairs a torn record header of a few bytes', async () => {
    await writeTen(5);
    const file = lastSegment();
    // A segment that ends at its last record, then three bytes of a header.
    const size = recordsEnd(file);
    truncateSync(file, size);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0, 0, 1])]));
    const state = await store().load();
    expect(state.info.repairedTail).toEqual({ file, offset: size, bytes: 3 });
    expect(state.entries.length).toBe(10);
  });

  it('extends the active segment ahead of its records and reads its zeros as room', async () => {
    await writeTen(5);
    const file = lastSegment();
    const end = recordsEnd(file);
    const size = statSync(file).size;
    // Ten syncs grew the records, not the file: it was extended once, to the next MiB.
    expect(size).toBe(1 << 20);
    expect(
      readFileSync(file)
        .subarray(end)
        .every((b) => b === 0),
    ).toBe(true);

    const s = store();
    const state = await s.load();
    expect(state.info.repairedTail).toBeUndefined();
    expect(state.info.walBytes).toBe(end);
    expect(plain(state.entries)).toEqual(plain(entries(1, 10, 1, 40)));
    // The next write goes right after the last record, not after the zeros.
    s.append(entries(11, 12, 2));
    await s.sync();
    await s.close();
    expect(statSync(file).size).toBe(size);
    const kinds = records(file).map((r) => r.kind);
    expect(kinds.filter((k) => k === 1).length).toBe(12);
    const again = await store().load();
    expect(again.info.repairedTail).toBeUndefined();
    expect(plain(again.entries)).toEqual(plain([...entries(1, 10, 1, 40), ...entries(11, 12, 2)]));
  });

  it('grows a segment past its extension in whole steps', async () => {
    const s = store({ segmentBytes: 8 << 20 });
    await s.load();
    s.append(entries(1, 3, 1, 700_000));
    await s.sync();
    const file = lastSegment();
    const end = recordsEnd(file);
    expect(end).toBeGreaterThan(2 << 20);
    expect(statSync(file).size).toBe((Math.floor(end / (1 << 20)) + 1) << 20);
    await s.close();
    expect(plain((await store().load()).entries)).toEqual(plain(entries(1, 3, 1, 700_000)));
  });

  it('tells zeros that end a segment from zeros in front of more data', async () => {
    await writeTen(5);
    const file = lastSegment();
    const end = recordsEnd(file);
    const buf = readFileSync(file);
    // A stray byte after the zeros: the zeros are a damaged record, and nothing valid follows.
    buf[buf.length - 1] = 7;
    writeFileSync(file, buf);
    const state = await store().load();
    expect(state.info.repairedTail).toEqual({ file, offset: end, bytes: buf.length - end });
    expect(plain(state.entries)).toEqual(plain(entries(1, 10, 1, 40)));
    await rm(dir, { recursive: true, force: true });

    await writeTen(10);
    const copy = readFileSync(file);
    const last = records(file).at(-1) as RecordInfo;
    const at = recordsEnd(file) + 100;
    // A whole record after a gap of zeros, the end of an earlier batch: it does not close a batch
    // that was being written when the zeros begin, so that is damage.
    copy.set(copy.subarray(last.offset, last.offset + last.size), at);
    writeFileSync(file, copy);
    const message = (await loadError()).message;
    expect(message).toContain(`the record at offset ${at} is not part of the batch`);
  });

  it('makes a new segment durable with its header first, and removes an unfinished one', async () => {
    const s = store({ segmentBytes: 600 });
    await s.load();
    for (let i = 1; i <= 30; i += 3) {
      s.append(entries(i, i + 2, 1, 50));
      s.setHardState({ term: 1, vote: 1, commit: i });
      await s.sync();
    }
    await s.close();
    const files = walFiles();
    expect(files.length).toBeGreaterThan(2);
    // Every segment opens with a version-2 header holding its seq and the end of the one before.
    files.forEach((f, k) => {
      const buf = readFileSync(f);
      expect(records(f)[0].kind).toBe(3);
      expect(buf[8 + 6]).toBe(2);
      expect(Number(buf.readBigUInt64BE(8 + 7))).toBe(k + 1);
      expect(Number(buf.readBigUInt64BE(8 + 15))).toBe(k === 0 ? 0 : recordsEnd(files[k - 1]));
    });
    // What a crash while creating the next segment leaves: a .tmp, removed on open.
    const unfinished = `${files.at(-1)!.replace(/[0-9a-f]{16}-/, (m) => m.replace(/.$/, 'f'))}.tmp`;
    writeFileSync(unfinished, Buffer.alloc(100, 1));
    const state = await store({ segmentBytes: 600 }).load();
    expect(state.entries.at(-1)?.index).toBe(30);
    expect(existsSync(unfinished)).toBe(false);
  });

  it('refuses a last segment cut inside its header', async () => {
    const s = store({ segmentBytes: 600 });
    await s.load();
    for (let i = 1; i <= 30; i += 3) {
      s.append(entries(i, i + 2, 1, 50));
      await s.sync();
    }
    await s.close();
    const file = lastSegment();
    truncateSync(file, 5);
    const message = (await loadError({ segmentBytes: 600 })).message;
    expect(message).toContain(`corrupt WAL record in ${file} at offset 0`);
    expect(message).toContain('so this record was acknowledged');
  });

  it('refuses a complete record with a bad checksum in a sync that completed, naming it', async () => {
    await writeTen(5);
    const file = lastSegment();
    const last = entryRecords(file).at(-1) as RecordInfo;
    flipByte(file, last.offset + 8 + 20);
    const err = await loadError();
    expect(err.message).toContain(`corrupt WAL record in ${file} at offset ${last.offset}: crc`);
    expect(err.message).toContain('refusing to cut it');
    expect((err as StorageCorruptError).offset).toBe(last.offset);
  });

  it('repairs a complete record with a bad checksum in a sync that never completed', async () => {
    await writeTen(5, true);
    const file = lastSegment();
    const last = entryRecords(file).at(-1) as RecordInfo;
    const end = recordsEnd(file);
    flipByte(file, last.offset + 8 + 20);
    const state = await store().load();
    expect(state.info.repairedTail).toEqual({
      file,
      offset: last.offset,
      bytes: end - last.offset,
    });
    expect(plain(state.entries)).toEqual(plain(entries(1, 9, 1, 40)));
  });

  it('refuses a flipped byte in a middle record, naming the file and offset', async () => {
    await writeTen(5);
    const file = lastSegment();
    const victim = records(file).filter((r) => r.kind === 1)[3];
    flipByte(file, victim.offset + 8 + 25);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toContain(`at offset ${victim.offset}:`);
    expect(message).toContain('crc mismatch');
    expect((err as StorageCorruptError).offset).toBe(victim.offset);
    expect(statSync(file).size).toBe(readFileSync(file).length);
  });

  it('refuses a damaged length field in a middle record', async () => {
    await writeTen(5);
    const file = lastSegment();
    const victim = records(file).filter((r) => r.kind === 1)[2];
    flipByte(file, victim.offset);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`${file} at offset ${victim.offset}:`);
  });

  it('refuses any damage in a segment that is not the last one', async () => {
    const s = store({ segmentBytes: 600 });
    await s.load();
    for (let i = 1; i <= 60; i += 3) {
      s.append(entries(i, i + 2, 1, 50));
      await s.sync();
    }
    await s.close();
    const files = walFiles();
    expect(files.length).toBeGreaterThan(2);
    const file = files[0];
    const last = entryRecords(file).at(-1) as RecordInfo;
    flipByte(file, last.offset + 30);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`${file} at offset ${last.offset}:`);
  });

  it('refuses to cut a torn tail that holds entries at or below the durable commit', async () => {
    // A WAL written before checkpoints: only the commit floor tells what was acknowledged.
    const [file] = writeLegacyDir(dir, { term: 2, vote: 1, commit: 10 }, [
      { batches: [{ entries: entries(1, 10, 1, 40), commit: 10 }] },
    ]);
    const tenth = entryRecords(file).at(-1) as RecordInfo;
    truncateSync(file, tenth.offset + 5);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain('durable commit index 10');
    expect((err as Error).message).toContain(file);
    expect(statSync(file).size).toBe(tenth.offset + 5);
  });

  it('refuses a damaged hardstate file', async () => {
    const s = store();
    await s.load();
    s.setHardState({ term: 3, vote: 2, commit: 0 });
    await s.sync();
    await s.close();
    const file = join(dir, 'hardstate');
    flipByte(file, 9);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`corrupt hard state file ${file}: crc mismatch`);
  });

  /** savedSnapshotFile saves entries 1..10 and a snapshot at 8, closes, and names its file. */
  async function savedSnapshotFile(): Promise<string> {
    const s = store();
    await s.load();
    s.append(entries(1, 10, 1));
    await s.sync();
    await s.saveSnapshot(snapshot(8, 1));
    await s.close();
    return join(dir, 'snap', '0000000000000008-0000000000000001.snap');
  }

  it('refuses a damaged snapshot, naming the file', async () => {
    const file = await savedSnapshotFile();
    flipByte(file, statSync(file).size - 100);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`corrupt snapshot ${file}: crc mismatch`);
  });

  it("writes snapshot files of version 2 with zlib's CRC-32 and still reads version 1", async () => {
    const file = await savedSnapshotFile();
    const buf = readFileSync(file);
    const body = buf.subarray(0, buf.length - 4);
    expect(buf[6]).toBe(2);
    expect(buf.readUInt32BE(buf.length - 4)).toBe(crc32(body));

    // The same snapshot as an earlier release wrote it: version 1, with a CRC-32C.
    buf[6] = 1;
    buf.writeUInt32BE(crc32c(body), buf.length - 4);
    writeFileSync(file, buf);
    const reader = store();
    const state = await reader.load();
    expect(state.snapshot?.meta).toEqual(snapshot(8, 1).meta);
    expect(Buffer.from(state.snapshot!.data).equals(Buffer.from(snapshot(8, 1).data))).toBe(true);
    await reader.close();

    // A version-1 file whose CRC-32C does not match is damage, as it always was.
    flipByte(file, 40);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain(`corrupt snapshot ${file}: crc mismatch`);
  });

  it('refuses a snapshot file of a version it does not know', async () => {
    const file = await savedSnapshotFile();
    const buf = readFileSync(file);
    buf[6] = 3;
    writeFileSync(file, buf);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toBe(`corrupt snapshot ${file}: unsupported version 3`);
  });

  it('refuses a WAL that does not reach back to its snapshot', async () => {
    const s = store({ segmentBytes: 600 });
    await s.load();
    for (let i = 1; i <= 60; i += 3) {
      s.append(entries(i, i + 2, 1, 50));
      await s.sync();
    }
    await s.saveSnapshot(snapshot(40, 1));
    await s.close();
    await rm(join(dir, 'snap'), { recursive: true });
    await expect(store().load()).rejects.toThrow(/entries are missing/);
  });

  it('applies the snapshot rule on load when the snapshot record never reached the WAL', async () => {
    let failing = false;
    const s = store({
      fs: {
        fdatasync: (fd) =>
          failing ? Promise.reject(new Error('EIO: simulated')) : nodeFs.fdatasync(fd),
      },
    });
    await s.load();
    s.append(entries(1, 20, 1));
    await s.sync();
    failing = true;
    await expect(s.saveSnapshot(snapshot(15, 2))).rejects.toThrow('EIO: simulated');
    await s.close();
    const state = await store().load();
    expect(state.snapshot?.meta.index).toBe(15);
    expect(state.entries).toEqual([]);
  });

  describe('a snapshot file whose WAL record never reached the disk', () => {
    /**
     * walWritesFail: a store whose writes to WAL segments fail while `failing.on` is set (the
     * snapshot file and the checkpoint are written as usual), as when the process dies between
     * the snapshot file's rename and its WAL record's write.
     */
    function walWritesFail(failing: { on: boolean }): FileStorage {
      const walFds = new Set<number>();
      return store({
        fs: {
          open: async (path, flags) => {
            const fd = await nodeFs.open(path, flags);
            if (path.endsWith('.wal') || path.endsWith('.wal.tmp')) walFds.add(fd);
            else walFds.delete(fd);
            return fd;
          },
          write: (fd, buf, pos) =>
            failing.on && walFds.has(fd)
              ? Promise.reject(new Error('EIO: simulated WAL write'))
              : nodeFs.write(fd, buf, pos),
        },
      });
    }

    /** snapshotWithoutRecord: entries 1..5 synced, then a snapshot at 20 whose record is lost. */
    async function snapshotWithoutRecord(): Promise<void> {
      const failing = { on: false };
      const s = walWritesFail(failing);
      await s.load();
      s.append(entries(1, 5, 1));
      s.setHardState({ term: 1, vote: 1, commit: 5 });
      await s.sync();
      failing.on = true;
      await expect(s.saveSnapshot(snapshot(20, 2))).rejects.toThrow('EIO: simulated WAL write');
      await s.close();
      expect(readdirSync(join(dir, 'snap'))).toEqual([
        `${(20).toString(16).padStart(16, '0')}-${(2).toString(16).padStart(16, '0')}.snap`,
      ]);
      expect(records(lastSegment()).filter((r) => r.kind === 4)).toEqual([]);
    }

    it('is recorded on open, so the entries written after it follow it on every later open', async () => {
      await snapshotWithoutRecord();
      const s = store();
      const first = await s.load();
      // The snapshot file's rule: the log 1..5 does not hold (20, 2), so it is discarded.
      expect(first.snapshot?.meta.index).toBe(20);
      expect(first.entries).toEqual([]);
      s.append(entries(21, 22, 2));
      await s.sync();
      await s.close();
      const again = await store().load();
      expect(again.snapshot?.meta.index).toBe(20);
      expect(plain(again.entries)).toEqual(plain(entries(21, 22, 2)));
      expect(again.hardState).toEqual({ term: 1, vote: 1, commit: 20 });
    });

    it('a crash while it is being recorded on open, or a checkpoint that lags it, still opens', async () => {
      await snapshotWithoutRecord();
      // The write on open fails (the process dies there): the next open records it again.
      const failing = { on: true };
      await expect(walWritesFail(failing).load()).rejects.toThrow('EIO: simulated WAL write');
      const before = readFileSync(checkpointFile());
      const s = store();
      expect((await s.load()).entries).toEqual([]);
      await s.close();
      // A power cut before the checkpoint naming the record reached the disk: the record is an
      // intact batch past the checkpoint's offset, which is never damage.
      writeFileSync(checkpointFile(), before);
      const t = store();
      expect((await t.load()).snapshot?.meta.index).toBe(20);
      t.append(entries(21, 21, 2));
      await t.sync();
      await t.close();
      expect((await store().load()).entries.map((e) => e.index)).toEqual([21]);
    });
  });

  it('stays failed after an I/O error, rejecting with the first error', async () => {
    let fail = false;
    const s = store({
      fs: {
        write: (fd, buf, pos) =>
          fail
            ? Promise.reject(new Error('ENOSPC: no space left on device'))
            : nodeFs.write(fd, buf, pos),
      },
    });
    await s.load();
    s.append(entries(1, 3, 1));
    await s.sync();
    fail = true;
    s.append(entries(4, 5, 1));
    const first = await s.sync().catch((e: unknown) => e);
    expect((first as Error).message).toContain('ENOSPC');
    fail = false;
    expect(() => s.append(entries(6, 6, 1))).toThrow(first as Error);
    expect(() => s.setHardState({ term: 1, vote: 0, commit: 0 })).toThrow(first as Error);
    await expect(s.sync()).rejects.toBe(first);
    await expect(s.saveSnapshot(snapshot(2, 1))).rejects.toBe(first);
    await expect(s.compact(1)).rejects.toBe(first);
    await s.close();
    const state = await store().load();
    expect(plain(state.entries)).toEqual(plain(entries(1, 3, 1)));
  });

  describe('refuses to start with less than it acknowledged', () => {
    /** rotated writes 60 entries in 600-byte segments (so several), term 2 vote 3, and closes. */
    async function rotated(): Promise<string[]> {
      const s = store({ segmentBytes: 600 });
      await s.load();
      s.setHardState({ term: 2, vote: 3, commit: 0 });
      for (let i = 1; i <= 60; i += 3) {
        s.append(entries(i, i + 2, 2, 50));
        s.setHardState({ term: 2, vote: 3, commit: i });
        await s.sync();
      }
      await s.close();
      const files = walFiles();
      expect(files.length).toBeGreaterThan(3);
      return files;
    }

    it('a fresh, empty data dir starts as an empty node', async () => {
      const state = await store().load();
      expect(state.hardState).toEqual({ term: 0, vote: 0, commit: 0 });
      expect(state.entries).toEqual([]);
      expect(state.info.repairedTail).toBeUndefined();
    });

    it('the only segment truncated to 0 bytes', async () => {
      await writeTen(5);
      const [file] = walFiles();
      truncateSync(file, 0);
      const message = (await loadError()).message;
      expect(message).toContain(`WAL segment ${file} ends at offset 0 (end of file)`);
      expect(message).toContain('bytes of acknowledged records are missing');
      expect(message).toContain('index 10 and commit 5 were durable');
    });

    it('a middle segment truncated to 0 bytes or cut short', async () => {
      const files = await rotated();
      truncateSync(files[1], 0);
      const message = (await loadError({ segmentBytes: 600 })).message;
      expect(message).toContain(
        `WAL segment ${files[1]} holds 0 bytes of records, but ${files[2]}`,
      );
      expect(message).toContain('bytes of acknowledged records are missing');
    });

    it('the last segment deleted', async () => {
      const files = await rotated();
      rmSync(files.at(-1)!);
      const message = (await loadError({ segmentBytes: 600 })).message;
      expect(message).toContain(`WAL segments are missing from ${join(dir, 'wal')}`);
      expect(message).toContain(`records that segment ${files.length} was written up to offset`);
      expect(message).toContain('(index 60 durable)');
    });

    it('a middle segment deleted', async () => {
      const files = await rotated();
      rmSync(files[1]);
      const message = (await loadError({ segmentBytes: 600 })).message;
      expect(message).toContain(`WAL segment 2 is missing from ${join(dir, 'wal')}`);
    });

    it('every segment deleted', async () => {
      await rotated();
      for (const f of walFiles()) rmSync(f);
      expect((await loadError()).message).toContain('WAL segments are missing');
    });

    it('the end of the WAL zeroed from a record boundary', async () => {
      await writeTen(5);
      const file = lastSegment();
      // The last three syncs (entry, commit record, batch end) become zeros: it reads as a
      // segment that simply ends there.
      const from = entryRecords(file).at(-3)!.offset;
      zeroFrom(file, from);
      const message = (await loadError()).message;
      expect(message).toContain(`WAL segment ${file} ends at offset ${from} (zeros from there on)`);
      expect(message).toContain('index 10 and commit 5 were durable');
    });

    it('the end of a middle segment zeroed from a record boundary', async () => {
      const files = await rotated();
      const from = entryRecords(files[1]).at(-3)!.offset;
      zeroFrom(files[1], from);
      const message = (await loadError({ segmentBytes: 600 })).message;
      expect(message).toContain(`WAL segment ${files[1]} holds ${from} bytes of records`);
    });

    it('the hard state file deleted', async () => {
      await rotated();
      rmSync(join(dir, 'hardstate'));
      const message = (await loadError()).message;
      expect(message).toContain(`hard state file ${join(dir, 'hardstate')} is missing`);
      expect(message).toContain('records term 2, vote 3');
    });

    it('the hard state file replaced by an older one: a vote forgotten', async () => {
      const s = store();
      await s.load();
      s.setHardState({ term: 4, vote: 0, commit: 0 });
      await s.sync();
      const before = readFileSync(join(dir, 'hardstate'));
      s.setHardState({ term: 4, vote: 2, commit: 0 });
      await s.sync();
      await s.close();
      writeFileSync(join(dir, 'hardstate'), before);
      const message = (await loadError()).message;
      expect(message).toContain('holds term 4, vote 0, but');
      expect(message).toContain('records that term 4, vote 2 was durable');
    });

    it('the checkpoint deleted', async () => {
      await writeTen(5);
      rmSync(checkpointFile());
      const message = (await loadError()).message;
      expect(message).toContain(`${checkpointFile()} is missing, but ${walFiles()[0]} was written`);
    });

    it('a snapshot the checkpoint records deleted', async () => {
      const s = store();
      await s.load();
      s.setHardState({ term: 1, vote: 1, commit: 0 });
      s.append(entries(1, 20, 1));
      await s.sync();
      await s.saveSnapshot(snapshot(5, 1));
      await s.close();
      rmSync(join(dir, 'snap', '0000000000000005-0000000000000001.snap'));
      expect((await loadError()).message).toMatch(
        /checkpoint records a durable snapshot at index 5, the newest there is none|entries are missing/,
      );
    });

    it('an empty data dir that must hold state (its node has run)', async () => {
      const reason = 'node.json records that node 2 has run';
      const message = (await loadError({ requireState: reason })).message;
      expect(message).toBe(
        `data dir ${dir} holds no Raft state (no hardstate, WAL or snapshot), but ${reason}: ` +
          'it was emptied or replaced; refusing to start as an empty node',
      );
      await writeTen(5);
      const state = await store({ requireState: reason }).load();
      expect(state.entries.length).toBe(10);
    });

    /** batchOf writes entries 1..5 acknowledged, then one batch of 6..80 of 200 bytes each. */
    async function bigBatch(acknowledged: boolean): Promise<{ file: string; batch: RecordInfo[] }> {
      const s = store();
      await s.load();
      s.setHardState({ term: 1, vote: 1, commit: 0 });
      s.append(entries(1, 5, 1, 100));
      await s.sync();
      const write = (): void => s.append(entries(6, 80, 1, 200));
      if (acknowledged) {
        write();
        await s.sync();
        await s.close();
      } else {
        await neverAcknowledged(s, write);
      }
      const file = lastSegment();
      return { file, batch: entryRecords(file).slice(5) };
    }

    /** zeroPage writes zeros over one 4 KiB page in the middle of the batch, as a lost write. */
    function zeroPage(file: string, batch: RecordInfo[]): { page: number; first: RecordInfo } {
      const page = Math.floor((batch[0].offset + 6000) / 4096) * 4096;
      zeroFrom(file, page, page + 4096);
      const first = batch.find((r) => r.offset + r.size > page) as RecordInfo;
      return { page, first };
    }

    it('repairs a torn multi-page batch: zeros in front of a later page of the same batch', async () => {
      const { file, batch } = await bigBatch(false);
      const end = recordsEnd(file);
      const { page, first } = zeroPage(file, batch);
      expect(end).toBeGreaterThan(page + 4096 + 1000);
      const state = await store().load();
      expect(state.info.repairedTail).toEqual({
        file,
        offset: first.offset,
        bytes: end - first.offset,
      });
      const kept = 5 + batch.indexOf(first);
      expect(plain(state.entries)).toEqual(
        plain([...entries(1, 5, 1, 100), ...entries(6, kept, 1, 200)]),
      );
    });

    it('refuses the same lost page in a batch that was acknowledged', async () => {
      const { file, batch } = await bigBatch(true);
      const { first } = zeroPage(file, batch);
      const message = (await loadError()).message;
      expect(message).toContain(`corrupt WAL record in ${file} at offset ${first.offset}`);
      expect(message).toContain('so this record was acknowledged');
    });

    it('refuses damage past a stale checkpoint when a later batch follows it', async () => {
      // The checkpoint on disk can lag after a power cut; a later batch still shows that the
      // damaged one had been made durable.
      const s = store();
      await s.load();
      s.setHardState({ term: 1, vote: 1, commit: 0 });
      s.append(entries(1, 5, 1, 100));
      await s.sync();
      const stale = readFileSync(checkpointFile());
      s.append(entries(6, 8, 1, 100));
      await s.sync();
      s.append(entries(9, 12, 1, 100));
      await s.sync();
      await s.close();
      writeFileSync(checkpointFile(), stale);
      const file = lastSegment();
      const victim = entryRecords(file)[6];
      flipByte(file, victim.offset + 40);
      const message = (await loadError()).message;
      expect(message).toContain(`corrupt WAL record in ${file} at offset ${victim.offset}`);
      expect(message).toMatch(/the record at offset \d+ is not part of the batch/);
    });
  });

  it('keeps the segment the durable checkpoint names while a new one is being recorded', async () => {
    // The checkpoint naming a new segment is made durable right after the segment is created;
    // until then a power cut leaves the older checkpoint, naming the segment before, which a
    // compaction running meanwhile must not delete.
    let hold: (() => void) | undefined;
    let holding = false;
    const checkpoint = durableCheckpoint(async () => {
      if (holding) await new Promise<void>((resolve) => (hold = resolve));
    });
    const s = store({ segmentBytes: 600, checkpointSyncMs: 1e9, fs: checkpoint.fs });
    await s.load();
    // Six syncs of one entry and a snapshot record fill segment 1 just past 600 bytes.
    for (let i = 1; i <= 6; i++) {
      s.append([entry(i, 1, 40)]);
      await s.sync();
    }
    await s.saveSnapshot(snapshot(6, 1));
    expect(walFiles()).toHaveLength(1);
    // The next sync starts segment 2; the fdatasync of the checkpoint naming it is held.
    holding = true;
    s.append([entry(7, 1, 40)]);
    const syncing = s.sync();
    let stale: Buffer;
    try {
      for (let i = 0; i < 200 && hold === undefined; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(walFiles()).toHaveLength(2);
      stale = checkpoint.copy()!;
      expect(decodeCheckpoint(checkpointFile(), stale).seq).toBe(1);
      await s.compact(6);
      expect(walFiles()).toHaveLength(2);
    } finally {
      holding = false;
      hold?.();
      await syncing;
    }
    await s.close();
    // A power cut while the fdatasync was held: the checkpoint on disk names segment 1.
    writeFileSync(checkpointFile(), stale);
    const state = await store({ segmentBytes: 600 }).load();
    expect(state.entries.map((e) => e.index)).toEqual([7]);
  });

  it('keeps the segment either durable checkpoint slot names, as a torn slot leaves the other', async () => {
    // After a new segment is recorded (the checkpoint naming it made durable), the other slot
    // still names the segment before. A power cut that tears the newer slot while it is being
    // written again leaves that older checkpoint as the one read: its segment must be there.
    const checkpoint = durableCheckpoint();
    const s = store({ segmentBytes: 600, checkpointSyncMs: 1e9, fs: checkpoint.fs });
    await s.load();
    for (let i = 1; i <= 8; i++) {
      s.append([entry(i, 1, 40)]);
      await s.sync();
    }
    // Entry 8 started segment 2; the checkpoint naming it is durable, the other slot names 1.
    expect(walFiles()).toHaveLength(2);
    const cut = Buffer.from(checkpoint.copy()!);
    const newest = decodeCheckpoint(checkpointFile(), cut);
    expect(newest.seq).toBe(2);
    s.append([entry(9, 1, 40)]);
    await s.sync();
    await s.saveSnapshot(snapshot(9, 1));
    await s.close();
    // The power cut: the checkpoint as last made durable, its newer slot torn.
    cut[slotOffset(newest.counter) + 30] ^= 0xff;
    writeFileSync(checkpointFile(), cut);
    expect(decodeCheckpoint(checkpointFile(), cut).seq).toBe(1);
    const state = await store({ segmentBytes: 600 }).load();
    expect(state.snapshot?.meta.index).toBe(9);
    expect(state.entries).toEqual([]);
  });

  it('opens a WAL whose oldest segment starts with the record of a snapshot behind the log', async () => {
    // A node's own snapshot is taken at an index its log has passed already. Here its record is
    // the first thing in a new segment, after entries 6-7 in the segment before; a later snapshot
    // covers that segment, which is deleted, so the WAL starts with the record at 5, then 8.
    const s = store({ segmentBytes: 600, checkpointSyncMs: 1 });
    await s.load();
    for (let i = 1; i <= 7; i++) {
      s.append([entry(i, 1, 40)]);
      await s.sync();
    }
    await s.saveSnapshot(snapshot(5, 1));
    expect(walFiles()).toHaveLength(2);
    expect(records(lastSegment()).map((r) => r.kind)).toEqual([3, 2, 5, 4, 5]);
    for (let i = 8; i <= 12; i++) {
      s.append([entry(i, 1, 40)]);
      await s.sync();
      await new Promise((r) => setTimeout(r, 5));
    }
    await s.saveSnapshot(snapshot(10, 1));
    expect(walFiles()).toHaveLength(1);
    await s.close();
    const state = await store({ segmentBytes: 600 }).load();
    expect(state.snapshot?.meta.index).toBe(10);
    expect(state.entries.map((e) => e.index)).toEqual([11, 12]);
  });

  it('a new store records its first segment in both checkpoint slots', async () => {
    // Otherwise the other slot still says that nothing was written, and a power cut that tears
    // the newer slot, before the next checkpoint fdatasync, leaves that one to be read.
    const s = store({ checkpointSyncMs: 1e9 });
    await s.load();
    const cut = readFileSync(checkpointFile());
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    s.append(entries(1, 2, 1));
    await s.sync();
    s.append(entries(3, 4, 1));
    await s.sync();
    await s.close();
    const newest = decodeCheckpoint(checkpointFile(), cut);
    cut[slotOffset(newest.counter) + 30] ^= 0xff;
    writeFileSync(checkpointFile(), cut);
    const state = await store().load();
    expect(state.hardState.term).toBe(1);
    expect(state.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  describe('a data dir written before checkpoints and batch ends', () => {
    const legacy = (): string[] =>
      writeLegacyDir(dir, { term: 2, vote: 1, commit: 4 }, [
        { batches: [{ entries: entries(1, 6, 2, 50), commit: 4 }], extendTo: 1 << 20 },
        { batches: [{ entries: entries(7, 9, 2, 50), commit: 6 }], extendTo: 1 << 20 },
      ]);

    it('loads, writes on in a new segment, and loads again', async () => {
      const files = legacy();
      const s = store();
      const state = await s.load();
      expect(plain(state.entries)).toEqual(plain(entries(1, 9, 2, 50)));
      expect(state.hardState).toEqual({ term: 2, vote: 1, commit: 6 });
      expect(existsSync(checkpointFile())).toBe(true);
      expect(walFiles()).toHaveLength(3);
      s.append(entries(10, 12, 2, 50));
      s.setHardState({ term: 2, vote: 1, commit: 11 });
      await s.sync();
      await s.close();
      // The old segments are left as they were.
      expect(walFiles().slice(0, 2)).toEqual(files);
      expect(readFileSync(files[1])[8 + 6]).toBe(1);
      const again = await store().load();
      expect(plain(again.entries)).toEqual(plain(entries(1, 12, 2, 50)));
      expect(again.hardState.commit).toBe(11);
    });

    it('repairs a torn tail, and refuses a complete record that fails its checksum', async () => {
      let files = legacy();
      let last = entryRecords(files[1]).at(-1) as RecordInfo;
      truncateSync(files[1], last.offset + 20);
      const state = await store().load();
      expect(state.info.repairedTail?.offset).toBe(last.offset);
      expect(state.entries.at(-1)?.index).toBe(8);
      await rm(dir, { recursive: true, force: true });

      // A complete record holding a zero sector: a write that did not reach the disk.
      files = writeLegacyDir(dir, { term: 2, vote: 1, commit: 2 }, [
        { batches: [{ entries: [...entries(1, 3, 2, 50), entry(4, 2, 1200)] }] },
      ]);
      last = entryRecords(files[0]).at(-1) as RecordInfo;
      zeroFrom(files[0], last.offset + 600, last.offset + last.size);
      expect((await store().load()).entries.at(-1)?.index).toBe(3);
      await rm(dir, { recursive: true, force: true });

      // The same record with one flipped byte: it may hold an acknowledged entry.
      files = writeLegacyDir(dir, { term: 2, vote: 1, commit: 2 }, [
        { batches: [{ entries: [...entries(1, 3, 2, 50), entry(4, 2, 1200)] }] },
      ]);
      flipByte(files[0], last.offset + 700);
      const message = (await loadError()).message;
      expect(message).toContain(`corrupt WAL record in ${files[0]} at offset ${last.offset}: crc`);
      expect(message).toContain('nothing shows it was never synced');
    });

    it('refuses a deleted hard state file when the log holds entries of a term', async () => {
      legacy();
      rmSync(join(dir, 'hardstate'));
      expect((await loadError()).message).toContain('the log holds entries of term 2');
    });
  });

  describe('an incoming snapshot written while it arrives', () => {
    /** feed hands `snap` over in pieces of `piece` bytes, as Ready.snapshotParts would. */
    function feed(s: FileStorage, snap: Snapshot, piece: number, upTo = snap.data.length): void {
      for (let at = 0; at < upTo || (at === 0 && upTo === 0); at += piece) {
        const end = Math.min(upTo, at + piece);
        s.receiveSnapshot({
          kind: 'bytes',
          meta: snap.meta,
          total: snap.data.length,
          offset: at,
          data: snap.data.subarray(at, end),
        });
        if (end === upTo) break;
      }
    }
    const bigSnapshot = (index: number): Snapshot => ({
      meta: snapshot(index, 2).meta,
      data: new Uint8Array(40 << 20).map((_, i) => (i * 31 + index) & 0xff),
    });
    const snapFiles = (): string[] => readdirSync(join(dir, 'snap')).sort();

    it('saves the file it wrote ahead, byte for byte the one written at once', async () => {
      const snap = bigSnapshot(15); // past SPOOL_SYNC_BYTES, so syncs happen on the way
      const s = store();
      await s.load();
      s.append(entries(1, 10, 1));
      await s.sync();
      feed(s, snap, 1 << 20);
      await s.saveSnapshot(snap);
      expect(s.stats().snapshotsSpooled).toBe(1);
      expect(snapFiles()).toEqual(['000000000000000f-0000000000000002.snap']);
      const spooled = readFileSync(join(dir, 'snap', snapFiles()[0]!));
      await s.close();

      const other = join(dir, 'other');
      const t = new FileStorage({ dir: other });
      open.push(t);
      await t.load();
      await t.saveSnapshot(snap);
      expect(t.stats().snapshotsSpooled).toBe(0);
      const whole = readFileSync(join(other, 'snap', '000000000000000f-0000000000000002.snap'));
      expect(spooled.equals(whole)).toBe(true);

      const state = await store().load();
      expect(state.snapshot?.meta).toEqual(snap.meta);
      expect(Buffer.from(state.snapshot!.data).equals(Buffer.from(snap.data))).toBe(true);
    });

    it('writes the usual way after a gap, a drop or another image, leaving no partial file', async () => {
      const s = store();
      await s.load();
      const a = snapshot(20, 2);
      const b = snapshot(30, 2);
      // A gap: the spool is given up, the snapshot is still saved whole.
      feed(s, a, 100, 200);
      s.receiveSnapshot({
        kind: 'bytes',
        meta: a.meta,
        total: 500,
        offset: 300,
        data: a.data.subarray(300),
      });
      await s.saveSnapshot(a);
      expect(s.stats().snapshotsSpooled).toBe(0);
      // Given up by the core, then a different image begins, then that one is dropped too.
      feed(s, b, 100, 300);
      s.receiveSnapshot({ kind: 'dropped', meta: b.meta });
      feed(s, b, 100, 100);
      feed(s, snapshot(40, 2), 100, 100);
      s.receiveSnapshot({ kind: 'dropped', meta: snapshot(40, 2).meta });
      await s.saveSnapshot(b);
      expect(s.stats().snapshotsSpooled).toBe(0);
      expect(snapFiles()).toEqual(['000000000000001e-0000000000000002.snap']);
      // Ahead of time, then closed: nothing partial stays behind.
      feed(s, snapshot(50, 2), 100, 200);
      await s.close();
      expect(snapFiles()).toEqual(['000000000000001e-0000000000000002.snap']);
      const state = await store().load();
      expect(state.snapshot?.meta.index).toBe(30);
    });

    it('keeps an incoming image while the node saves a snapshot of its own', async () => {
      const s = store();
      await s.load();
      s.append(entries(1, 30, 2));
      await s.sync();
      const incoming = snapshot(100, 3);
      feed(s, incoming, 128, 256);
      await s.saveSnapshot(snapshot(25, 2)); // its own, older: removes older snapshots only
      feed(s, incoming, 128); // from the start again: begins anew, then completes
      await s.saveSnapshot(incoming);
      expect(s.stats().snapshotsSpooled).toBe(1);
      expect(snapFiles()).toEqual(['0000000000000064-0000000000000003.snap']);
      await s.close();
      const state = await store().load();
      expect(state.snapshot?.meta.index).toBe(100);
      expect(Array.from(state.snapshot!.data)).toEqual(Array.from(incoming.data));
    });

    it('removes a partial image left by a crash on the next open', async () => {
      const s = store();
      await s.load();
      s.append(entries(1, 5, 1));
      await s.sync();
      await s.saveSnapshot(snapshot(3, 1));
      await s.close();
      // What a crash in the middle of receiving snapshot 9 leaves behind.
      const partial = join(dir, 'snap', '0000000000000009-0000000000000002.snap.tmp');
      writeFileSync(partial, Buffer.alloc(300, 7));
      const state = await store().load();
      expect(state.snapshot?.meta.index).toBe(3);
      expect(plain(state.entries)).toEqual(plain(entries(4, 5, 1)));
      expect(existsSync(partial)).toBe(false);
      expect(snapFiles()).toEqual(['0000000000000003-0000000000000001.snap']);
    });

    it('falls back to writing the whole image when writing ahead failed', async () => {
      let failures = 0;
      const s = store({
        fs: {
          write: (fd, buf, pos) => {
            // The third piece handed over fails to be written, once.
            if (buf.length === 100 && buf[0] === 200 && failures++ === 0)
              return Promise.reject(new Error('EIO: simulated'));
            return nodeFs.write(fd, buf, pos);
          },
        },
      });
      await s.load();
      const snap = snapshot(20, 2);
      snap.data.fill(7);
      snap.data[200] = 200;
      feed(s, snap, 100);
      await s.saveSnapshot(snap);
      expect(failures).toBe(1);
      expect(s.stats().snapshotsSpooled).toBe(0);
      await s.close();
      const state = await store().load();
      expect(Array.from(state.snapshot!.data)).toEqual(Array.from(snap.data));
    });
  });

  describe('LOCK', () => {
    const lock = (gen: number): string => join(dir, `LOCK.${gen.toString(16).padStart(16, '0')}`);

    it('refuses a data dir another live process holds and frees it on close', async () => {
      const a = store();
      await a.load();
      expect(readFileSync(lock(1), 'utf8').trim()).toBe(String(process.pid));
      await expect(store().load()).rejects.toThrow(
        `data dir ${dir} is in use by pid ${process.pid}`,
      );
      await a.close();
      expect(readFileSync(lock(1), 'utf8')).toBe('');
      await store().load();
      expect(readFileSync(lock(2), 'utf8').trim()).toBe(String(process.pid));
    });

    it('takes over a stale lock left by a dead process', async () => {
      const child = spawn(process.execPath, ['-e', '']);
      const pid = child.pid as number;
      await new Promise((resolve) => child.on('exit', resolve));
      writeFileSync(join(dir, 'LOCK'), `${pid}\n`);
      await store().load();
      expect(readFileSync(lock(1), 'utf8').trim()).toBe(String(process.pid));
      expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    });

    it('releases the lock when load fails', async () => {
      writeFileSync(join(dir, 'hardstate'), 'garbage');
      await expect(store().load()).rejects.toThrow(StorageCorruptError);
      expect(readFileSync(lock(1), 'utf8')).toBe('');
    });
  });
});
