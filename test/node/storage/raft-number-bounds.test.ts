/**
 * Stored terms and indexes are bounded by MAX_RAFT_NUMBER (2^52), like those on the wire: a
 * larger value in a checksummed record or in the hard state is damage, never a term to adopt.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../main/node/storage/crc32c';
import { FileStorage } from '../../../main/node/storage/file-storage';
import { encodeHardState } from '../../../main/node/storage/hard-state-file';
import { StorageCorruptError } from '../../../main/node/storage/storage';
import { KIND_ENTRY, readU64 } from '../../../main/node/storage/wal-format';
import { MAX_RAFT_NUMBER } from '../../../main/raft/types';
import { entries } from './fixtures/entries';

describe('stored terms and indexes above MAX_RAFT_NUMBER', () => {
  let dir: string;
  const open: FileStorage[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-bounds-'));
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  function store(): FileStorage {
    const s = new FileStorage({ dir });
    open.push(s);
    return s;
  }

  it('readU64 reads up to 2^52 and reports anything larger as -1', () => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(MAX_RAFT_NUMBER));
    expect(readU64(b, 0)).toBe(MAX_RAFT_NUMBER);
    b.writeBigUInt64BE(BigInt(MAX_RAFT_NUMBER) + 1n);
    expect(readU64(b, 0)).toBe(-1);
    b.writeBigUInt64BE(2n ** 53n - 1n);
    expect(readU64(b, 0)).toBe(-1);
  });

  it('a hard state with a term above 2^52 is corruption, naming the file', async () => {
    const s = store();
    await s.load();
    await s.close();
    const file = join(dir, 'hardstate');
    writeFileSync(file, encodeHardState({ term: 2 ** 53 - 1, vote: 2, commit: 0 }));
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toBe(`corrupt hard state file ${file}: a value exceeds 2^52`);
  });

  it('a WAL entry whose term is above 2^52, with a valid checksum, is corruption', async () => {
    const s = store();
    await s.load();
    s.append(entries(1, 3, 1));
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    await s.sync();
    await s.close();
    // Rewrite the term of the last entry record to 2^52 + 1 and fix its checksum.
    const seg = join(dir, 'wal', readdirSync(join(dir, 'wal')).sort().at(-1) as string);
    const buf = readFileSync(seg);
    let last = -1;
    for (let off = 0; off + 8 <= buf.length;) {
      const len = buf.readUInt32BE(off);
      if (len === 0) break;
      if (buf[off + 8] === KIND_ENTRY) last = off;
      off += 8 + len;
    }
    expect(last).toBeGreaterThan(0);
    const len = buf.readUInt32BE(last);
    buf.writeBigUInt64BE(BigInt(MAX_RAFT_NUMBER) + 1n, last + 8 + 9);
    buf.writeUInt32BE(crc32c(buf, last + 8, last + 8 + len), last + 4);
    writeFileSync(seg, buf);
    const err = await store()
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toContain(seg);
    expect((err as Error).message).toContain('entry index or term out of range');
  });
});
