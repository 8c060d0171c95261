import { spawn } from 'node:child_process';
import {
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../main/node/storage/crc32c';
import { FileStorage, type FileStorageOptions } from '../../../main/node/storage/file-storage';
import { nodeFs } from '../../../main/node/storage/fs-ops';
import { StorageCorruptError } from '../../../main/node/storage/storage';
import type { Snapshot } from '../../../main/raft/types';
import { LogModel, entries, entry, payload, plain } from './fixtures/entries';

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
    expect(readdirSync(dir).sort()).toEqual(['LOCK.0000000000000001', 'hardstate', 'snap', 'wal']);
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

  /** writeTen syncs entries 1..10 one per sync, commit trailing at `commit`, and closes. */
  async function writeTen(commit: number): Promise<void> {
    const s = store();
    await s.load();
    for (let i = 1; i <= 10; i++) {
      s.append([entry(i, 1, 40)]);
      s.setHardState({ term: 1, vote: 1, commit: Math.min(i, commit) });
      await s.sync();
    }
    await s.close();
  }

  it('repairs a torn tail (a record cut short) and reports it', async () => {
    await writeTen(5);
    const file = lastSegment();
    const last = records(file).at(-1) as RecordInfo;
    expect(last.kind).toBe(1);
    truncateSync(file, recordsEnd(file) - 7);
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

  it('repairs a torn record header of a few bytes', async () => {
    await writeTen(5);
    const file = lastSegment();
    // A segment that ends at its last record, as it does when written before segments were
    // extended ahead of their records, then three bytes of a header.
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
    // A whole record after a gap of zeros: the log goes on past the gap, so that is damage.
    copy.set(copy.subarray(last.offset, last.offset + last.size), at);
    writeFileSync(file, copy);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`a valid record follows at offset ${at}`);
  });

  it('repairs a new segment whose header was torn, then writes a fresh header', async () => {
    const s = store({ segmentBytes: 600 });
    await s.load();
    for (let i = 1; i <= 30; i += 3) {
      s.append(entries(i, i + 2, 1, 50));
      s.setHardState({ term: 1, vote: 1, commit: i });
      await s.sync();
    }
    await s.close();
    const file = lastSegment();
    expect(walFiles().length).toBeGreaterThan(1);
    const size = statSync(file).size;
    truncateSync(file, 5);
    const r = store({ segmentBytes: 600 });
    const state = await r.load();
    expect(state.info.repairedTail).toEqual({ file, offset: 0, bytes: 5 });
    expect(statSync(file).size).toBe(0);
    const last = state.entries.at(-1)?.index ?? 0;
    expect(last).toBeLessThan(30);
    expect(size).toBeGreaterThan(5);
    r.append(entries(last + 1, last + 2, 2));
    await r.sync();
    await r.close();
    expect(records(file)[0].kind).toBe(3);
    const again = await store().load();
    expect(again.info.repairedTail).toBeUndefined();
    expect(again.entries.at(-1)?.index).toBe(last + 2);
  });

  it('repairs a flipped byte in the last record above the commit floor', async () => {
    await writeTen(5);
    const file = lastSegment();
    const last = records(file).at(-1) as RecordInfo;
    flipByte(file, last.offset + 8 + 20);
    const state = await store().load();
    expect(state.info.repairedTail).toEqual({ file, offset: last.offset, bytes: last.size });
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
    const last = records(file).at(-1) as RecordInfo;
    flipByte(file, last.offset + 30);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(`${file} at offset ${last.offset}:`);
  });

  it('refuses to cut a torn tail that holds entries at or below the durable commit', async () => {
    const s = store();
    await s.load();
    s.append(entries(1, 10, 1, 40));
    s.setHardState({ term: 1, vote: 1, commit: 10 });
    await s.sync();
    s.setHardState({ term: 2, vote: 1, commit: 10 });
    await s.sync();
    await s.close();
    expect(readFileSync(join(dir, 'hardstate')).readUInt32BE(24)).toBe(10);
    const file = lastSegment();
    const recs = records(file);
    const tenth = recs.filter((r) => r.kind === 1).at(-1) as RecordInfo;
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
    let syncs = 0;
    const s = store({
      fs: {
        fdatasync: () => {
          syncs++;
          return syncs > 1 ? Promise.reject(new Error('EIO: simulated')) : Promise.resolve();
        },
      },
    });
    await s.load();
    s.append(entries(1, 20, 1));
    await s.sync();
    await expect(s.saveSnapshot(snapshot(15, 2))).rejects.toThrow('EIO: simulated');
    await s.close();
    const state = await store().load();
    expect(state.snapshot?.meta.index).toBe(15);
    expect(state.entries).toEqual([]);
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
