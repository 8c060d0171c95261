import { crc32 } from 'node:zlib';
import type { ConfState, Snapshot, SnapshotMeta } from '../../raft/types';
import { crc32cUpdate } from './crc32c';
import { StorageCorruptError } from './storage';
import { hex16, hex32, readU32, readU64, writeU64 } from './wal-format';

/**
 * Snapshot file layout (integers big-endian):
 *   ['RDSNAP' 6 bytes][u8 version][u32 meta length][meta: UTF-8 JSON of SnapshotMeta]
 *   [u64 data length][data][u32 checksum of every byte before the trailer]
 * The checksum is CRC-32 (zlib's) in version 2, the version written; version 1 files, which
 * carry a CRC-32C, are still read.
 */

export const SNAP_MAGIC = 'RDSNAP';
export const SNAP_VERSION = 2;

/**
 * snapCrcUpdate continues the checksum of a snapshot file (CRC-32, done natively by zlib: several
 * times faster than any checksum in JavaScript, which made it the largest cost of receiving an
 * image): `crc` is the checksum of the bytes before data[start, end), 0 for none.
 */
export function snapCrcUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  return crc32(start === 0 && end === data.length ? data : data.subarray(start, end), crc);
}

/** CHECKSUMS: the checksum of each snapshot file version that can be read. */
const CHECKSUMS: Record<number, typeof snapCrcUpdate> = { 1: crc32cUpdate, 2: snapCrcUpdate };

/** SNAP_NAME matches `<index:16 hex>-<term:16 hex>.snap`. */
export const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotName(index: number, term: number): string {
  return `${hex16(index)}-${hex16(term)}.snap`;
}

/**
 * snapshotFileParts yields the file in pieces of at most sliceBytes of data: header, data slices,
 * then the trailer. The checksum of a slice is computed when the slice is asked for, so a writer
 * that asks for the next piece while the last is being written overlaps the two, and the data is
 * never copied.
 */
export function* snapshotFileParts(snap: Snapshot, sliceBytes: number): Generator<Uint8Array> {
  const header = snapshotFileHeader(snap.meta, snap.data.length);
  let crc = snapCrcUpdate(0, header);
  yield header;
  const data = snap.data;
  for (let at = 0; at < data.length; at += sliceBytes) {
    const end = Math.min(data.length, at + sliceBytes);
    crc = snapCrcUpdate(crc, data, at, end);
    yield data.subarray(at, end);
  }
  yield snapshotFileTrailer(crc);
}

/** snapshotFileHeader is everything in front of the data of a `dataLength`-byte image. */
export function snapshotFileHeader(meta: SnapshotMeta, dataLength: number): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const header = Buffer.allocUnsafe(6 + 1 + 4 + json.length + 8);
  header.write(SNAP_MAGIC, 0, 'latin1');
  header[6] = SNAP_VERSION;
  header.writeUInt32BE(json.length, 7);
  json.copy(header, 11);
  writeU64(header, 11 + json.length, dataLength);
  return header;
}

/** snapshotFileTrailer holds `crc`, the checksum of the header and the data. */
export function snapshotFileTrailer(crc: number): Buffer {
  const trailer = Buffer.allocUnsafe(4);
  trailer.writeUInt32BE(crc, 0);
  return trailer;
}

/**
 * decodeSnapshot verifies and parses a snapshot file. `data` in the result is a view into `buf`.
 * Throws StorageCorruptError naming `file` on a checksum mismatch or a malformed file.
 */
export function decodeSnapshot(file: string, buf: Uint8Array): Snapshot {
  const corrupt = (why: string): StorageCorruptError =>
    new StorageCorruptError(`corrupt snapshot ${file}: ${why}`, file);
  if (buf.length < 6 + 1 + 4 + 8 + 4) throw corrupt(`file too short (${buf.length} bytes)`);
  if (Buffer.from(buf.buffer, buf.byteOffset, 6).toString('latin1') !== SNAP_MAGIC) {
    throw corrupt('bad magic');
  }
  const checksum = CHECKSUMS[buf[6]];
  if (checksum === undefined) throw corrupt(`unsupported version ${buf[6]}`);
  const stored = readU32(buf, buf.length - 4);
  const computed = checksum(0, buf, 0, buf.length - 4);
  if (stored !== computed) {
    throw corrupt(`crc mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`);
  }
  const metaLen = readU32(buf, 7);
  if (11 + metaLen + 8 + 4 > buf.length) throw corrupt(`meta length ${metaLen} exceeds the file`);
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 11, metaLen).toString('utf8'));
  } catch {
    throw corrupt('meta is not valid JSON');
  }
  if (!isSnapshotMeta(meta)) throw corrupt('meta is not a valid SnapshotMeta');
  const dataLen = readU64(buf, 11 + metaLen);
  const dataStart = 11 + metaLen + 8;
  if (dataLen < 0 || dataStart + dataLen + 4 !== buf.length) {
    throw corrupt(`data length ${dataLen} does not match the file size ${buf.length}`);
  }
  return {
    meta,
    data: new Uint8Array(buf.buffer, buf.byteOffset + dataStart, dataLen),
  };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isConfState(v: unknown): v is ConfState {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  if (!Array.isArray(c.voters) || !c.voters.every(isCount)) return false;
  if (!Array.isArray(c.learners) || !c.learners.every(isCount)) return false;
  const a = c.addresses;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
  return Object.values(a).every((s) => typeof s === 'string');
}

function isSnapshotMeta(v: unknown): v is SnapshotMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return isCount(m.index) && isCount(m.term) && isConfState(m.conf);
}
