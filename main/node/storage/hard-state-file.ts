import type { HardState } from '../../raft/types';
import { crc32c } from './crc32c';
import { StorageCorruptError } from './storage';
import { hex32, readU32, readU64, writeU64 } from './wal-format';

/** HARD_STATE_BYTES: [u32 crc32c of the next 24 bytes][u64 term][u64 vote][u64 commit], big-endian. */
export const HARD_STATE_BYTES = 28;

export function encodeHardState(hs: HardState): Buffer {
  const buf = Buffer.allocUnsafe(HARD_STATE_BYTES);
  writeU64(buf, 4, hs.term);
  writeU64(buf, 12, hs.vote);
  writeU64(buf, 20, hs.commit);
  buf.writeUInt32BE(crc32c(buf, 4, HARD_STATE_BYTES), 0);
  return buf;
}

/** decodeHardState verifies and parses the hardstate file; throws StorageCorruptError naming `file`. */
export function decodeHardState(file: string, buf: Uint8Array): HardState {
  const corrupt = (why: string): StorageCorruptError =>
    new StorageCorruptError(`corrupt hard state file ${file}: ${why}`, file);
  if (buf.length !== HARD_STATE_BYTES) {
    throw corrupt(`size ${buf.length} bytes, expected ${HARD_STATE_BYTES}`);
  }
  const stored = readU32(buf, 0);
  const computed = crc32c(buf, 4, HARD_STATE_BYTES);
  if (stored !== computed) {
    throw corrupt(`crc mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`);
  }
  const term = readU64(buf, 4);
  const vote = readU64(buf, 12);
  const commit = readU64(buf, 20);
  if (term < 0 || vote < 0 || commit < 0) throw corrupt('a value exceeds 2^52');
  return { term, vote, commit };
}
