import { MAX_RAFT_NUMBER, type Entry } from '../../raft/types';
import { crc32c } from './crc32c';

/**
 * WAL record layout (all integers big-endian):
 *   [u32 payload length][u32 crc32c(payload)][payload]
 * The first payload byte is the record kind; see docs/storage.md for every kind's layout.
 */

/** RECORD_HEADER_BYTES is the framing in front of every payload: length + crc. */
export const RECORD_HEADER_BYTES = 8;

/** KIND_ENTRY: [u8 1][u64 index][u64 term][u8 type (0 normal, 1 conf)][data]. */
export const KIND_ENTRY = 1;
/** KIND_COMMIT: [u8 2][u64 commit]. */
export const KIND_COMMIT = 2;
/**
 * KIND_HEADER: the first record of every segment. Version 1: [u8 3]['RDWAL'][u8 1]. Version 2:
 * [u8 3]['RDWAL'][u8 2][u64 seq][u64 end of the previous segment's records (0 for seq 1)].
 */
export const KIND_HEADER = 3;
/** KIND_SNAPSHOT: [u8 4][u64 index][u64 term]; a snapshot at (index, term) was saved. */
export const KIND_SNAPSHOT = 4;
/**
 * KIND_BATCH_END: [u8 5][u64 offset of the batch's first record]; the last record of every sync
 * batch in a version-2 segment.
 */
export const KIND_BATCH_END = 5;

export const ENTRY_PAYLOAD_HEADER = 18;
export const COMMIT_PAYLOAD = 9;
/** HEADER_PAYLOAD_V1: the header record of a version-1 segment. */
export const HEADER_PAYLOAD_V1 = 7;
export const HEADER_PAYLOAD = 23;
export const SNAPSHOT_PAYLOAD = 17;
export const BATCH_END_PAYLOAD = 9;
/** BATCH_END_BYTES: what a batch-end record adds to every batch, framing included. */
export const BATCH_END_BYTES = RECORD_HEADER_BYTES + BATCH_END_PAYLOAD;

export const WAL_MAGIC = 'RDWAL';
/** WAL_VERSION is the version of the segments written; WAL_VERSION_1 segments are still read. */
export const WAL_VERSION = 2;
export const WAL_VERSION_1 = 1;

/** MAX_PAYLOAD bounds a record's payload length; a larger length field is damage, not data. */
export const MAX_PAYLOAD = 1 << 30;

const TWO_32 = 4294967296;
/** MAX_HI is the largest high word of a u64 that still fits in a safe integer (2^53 - 1). */
const MAX_HI = 0x1fffff;

/** SEGMENT_NAME matches `<seq:16 hex>-<firstIndex:16 hex>.wal`. */
export const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** segmentName is `<seq:16 hex>-<firstIndex:16 hex>.wal`. */
export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** writeU64 stores a safe non-negative integer as a big-endian u64. */
export function writeU64(buf: Buffer, offset: number, v: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO_32), offset);
  buf.writeUInt32BE(v >>> 0, offset + 4);
}

/**
 * readU64 reads a big-endian u64; it returns -1 when the value exceeds MAX_RAFT_NUMBER (2^52),
 * the bound of every term, index and length stored: a larger one is damage.
 */
export function readU64(buf: Uint8Array, offset: number): number {
  const hi =
    ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>>
    0;
  const lo =
    ((buf[offset + 4] << 24) |
      (buf[offset + 5] << 16) |
      (buf[offset + 6] << 8) |
      buf[offset + 7]) >>>
    0;
  const v = hi > MAX_HI ? -1 : hi * TWO_32 + lo;
  return v > MAX_RAFT_NUMBER ? -1 : v;
}

export function readU32(buf: Uint8Array, offset: number): number {
  return (
    ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0
  );
}

/**
 * RecordBuffer accumulates encoded WAL records for one sync batch in one growable Buffer, so a
 * batch is written with a single write call.
 */
export class RecordBuffer {
  buf: Buffer;
  length = 0;
  /** maxIndex is the largest entry or snapshot index encoded since the last reset (0 if none). */
  maxIndex = 0;
  /** firstIndex is the index of the first entry encoded since the last reset (0 if none). */
  firstIndex = 0;
  private readonly initial: number;

  constructor(initial = 64 * 1024) {
    this.initial = initial;
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** bytes returns a view of the encoded records. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** reset empties the buffer; a buffer grown past 16 MiB is given back. */
  reset(): void {
    this.length = 0;
    this.maxIndex = 0;
    this.firstIndex = 0;
    if (this.buf.length > 16 * 1024 * 1024) this.buf = Buffer.allocUnsafe(this.initial);
  }

  appendEntry(e: Entry): void {
    const data = e.data;
    const payload = ENTRY_PAYLOAD_HEADER + data.length;
    const p = this.begin(payload);
    const b = this.buf;
    b[p] = KIND_ENTRY;
    writeU64(b, p + 1, e.index);
    writeU64(b, p + 9, e.term);
    b[p + 17] = e.type === 'conf' ? 1 : 0;
    b.set(data, p + ENTRY_PAYLOAD_HEADER);
    this.finish(p, payload);
    if (e.index > this.maxIndex) this.maxIndex = e.index;
    if (this.firstIndex === 0) this.firstIndex = e.index;
  }

  appendCommit(commit: number): void {
    const p = this.begin(COMMIT_PAYLOAD);
    this.buf[p] = KIND_COMMIT;
    writeU64(this.buf, p + 1, commit);
    this.finish(p, COMMIT_PAYLOAD);
  }

  /** appendHeader encodes a version-2 header: the segment's seq and where the previous one ended. */
  appendHeader(seq: number, prevEnd: number): void {
    const p = this.begin(HEADER_PAYLOAD);
    this.buf[p] = KIND_HEADER;
    this.buf.write(WAL_MAGIC, p + 1, 'latin1');
    this.buf[p + 6] = WAL_VERSION;
    writeU64(this.buf, p + 7, seq);
    writeU64(this.buf, p + 15, prevEnd);
    this.finish(p, HEADER_PAYLOAD);
  }

  /** appendBatchEnd closes a sync batch whose first record is at `start` in its segment. */
  appendBatchEnd(start: number): void {
    const p = this.begin(BATCH_END_PAYLOAD);
    this.buf[p] = KIND_BATCH_END;
    writeU64(this.buf, p + 1, start);
    this.finish(p, BATCH_END_PAYLOAD);
  }

  appendSnapshot(index: number, term: number): void {
    const p = this.begin(SNAPSHOT_PAYLOAD);
    this.buf[p] = KIND_SNAPSHOT;
    writeU64(this.buf, p + 1, index);
    writeU64(this.buf, p + 9, term);
    this.finish(p, SNAPSHOT_PAYLOAD);
    if (index > this.maxIndex) this.maxIndex = index;
  }

  /** begin reserves room for one record and returns the payload offset. */
  private begin(payload: number): number {
    const need = this.length + RECORD_HEADER_BYTES + payload;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    return this.length + RECORD_HEADER_BYTES;
  }

  private finish(p: number, payload: number): void {
    this.buf.writeUInt32BE(payload, this.length);
    this.buf.writeUInt32BE(crc32c(this.buf, p, p + payload), this.length + 4);
    this.length = p + payload;
  }
}

/**
 * encodeSegmentHead returns the batch that opens a new segment: a header (seq, end of the previous
 * segment's records), a commit record, and the batch's end.
 */
export function encodeSegmentHead(seq: number, prevEnd: number, commit: number): Buffer {
  const rb = new RecordBuffer(128);
  rb.appendHeader(seq, prevEnd);
  rb.appendCommit(commit);
  rb.appendBatchEnd(0);
  return Buffer.from(rb.bytes());
}

/**
 * segmentHeader reads the header record at the start of a segment: its version, and for version
 * 2 its seq and the end of the previous segment's records; undefined if it is not intact.
 */
export function segmentHeader(
  buf: Uint8Array,
): { version: number; seq: number; prevEnd: number } | undefined {
  if (buf.length < RECORD_HEADER_BYTES + HEADER_PAYLOAD_V1) return undefined;
  const len = readU32(buf, 0);
  const p = RECORD_HEADER_BYTES;
  if ((len !== HEADER_PAYLOAD && len !== HEADER_PAYLOAD_V1) || buf.length < p + len) {
    return undefined;
  }
  if (buf[p] !== KIND_HEADER || crc32c(buf, p, p + len) !== readU32(buf, 4)) return undefined;
  const version = buf[p + 6];
  if (version === WAL_VERSION && len === HEADER_PAYLOAD) {
    return { version, seq: readU64(buf, p + 7), prevEnd: readU64(buf, p + 15) };
  }
  return { version, seq: 0, prevEnd: 0 };
}

/** payloadFits reports whether a payload length is the right size for its kind. */
export function payloadFits(kind: number, length: number): boolean {
  switch (kind) {
    case KIND_ENTRY:
      return length >= ENTRY_PAYLOAD_HEADER;
    case KIND_COMMIT:
      return length === COMMIT_PAYLOAD;
    case KIND_HEADER:
      return length === HEADER_PAYLOAD || length === HEADER_PAYLOAD_V1;
    case KIND_SNAPSHOT:
      return length === SNAPSHOT_PAYLOAD;
    case KIND_BATCH_END:
      return length === BATCH_END_PAYLOAD;
    default:
      return false;
  }
}

/** ZEROS is compared against a segment's tail a slice at a time (a native memcmp, not a JS loop). */
const ZEROS = new Uint8Array(1 << 16);

/** allZero tells whether buf[from, end) holds only zero bytes. */
export function allZero(buf: Uint8Array, from: number, end = buf.length): boolean {
  for (let at = from; at < end; at += ZEROS.length) {
    const stop = Math.min(end, at + ZEROS.length);
    if (Buffer.compare(buf.subarray(at, stop), ZEROS.subarray(0, stop - at)) !== 0) return false;
  }
  return true;
}

/** dataEnd is the offset just past the last non-zero byte of buf[from, end), or `from` if none. */
export function dataEnd(buf: Uint8Array, from: number, end = buf.length): number {
  let stop = end;
  while (stop > from) {
    const at = Math.max(from, stop - ZEROS.length);
    if (!allZero(buf, at, stop)) {
      while (buf[stop - 1] === 0) stop--;
      return stop;
    }
    stop = at;
  }
  return from;
}

/**
 * findValidRecord looks for any well-formed record (fitting length, known kind of the right size,
 * matching crc) starting at or after `from`; it returns its offset or -1. Used to tell a torn tail
 * (nothing valid after the damage) from corruption in the middle of a segment.
 */
export function findValidRecord(buf: Uint8Array, from: number): number {
  const n = buf.length;
  for (let off = from; off + RECORD_HEADER_BYTES < n; off++) {
    const len = readU32(buf, off);
    if (len === 0 || len > n - off - RECORD_HEADER_BYTES) continue;
    const p = off + RECORD_HEADER_BYTES;
    if (!payloadFits(buf[p], len)) continue;
    if (crc32c(buf, p, p + len) === readU32(buf, off + 4)) return off;
  }
  return -1;
}

/** SECTOR_BYTES: the unit a disk writes atomically, at the least. */
const SECTOR_BYTES = 512;

/**
 * holdsZeroSector tells whether the record at buf[off, end) has a piece between two sector
 * boundaries of the file (or the record's own ends) that is all zeros: what a write that did not
 * reach the disk leaves in a file extended ahead of its records. Such a record is torn; a
 * complete record with a checksum mismatch and no such piece is damage.
 */
export function holdsZeroSector(buf: Uint8Array, off: number, end: number): boolean {
  let from = off;
  while (from < end) {
    const to = Math.min(end, (Math.floor(from / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (allZero(buf, from, to)) return true;
    from = to;
  }
  return false;
}

/** BatchAfterDamage is what follows a damaged record in a version-2 segment. */
export interface BatchAfterDamage {
  /** next: the offset of the first well-formed record after the damage, or -1. */
  next: number;
  /**
   * foreign: the offset of a well-formed record after the damage that is not part of the batch
   * holding it, or -1: a batch end naming another start than that batch's, or any record past
   * the batch's own end. Batches are written one after the other, each only once the one before
   * is durable, so such a record shows the damaged batch was durable (or the damage is wider).
   */
  foreign: number;
}

/**
 * batchAfterDamage looks at the well-formed records after a damaged one at `damage`, in a batch
 * that began at `batchStart` (just past the last intact batch end before the damage).
 */
export function batchAfterDamage(
  buf: Uint8Array,
  damage: number,
  batchStart: number,
): BatchAfterDamage {
  let next = -1;
  let closed = false;
  for (let off = damage + 1; ;) {
    const at = findValidRecord(buf, off);
    if (at < 0) return { next, foreign: -1 };
    if (next < 0) next = at;
    if (closed) return { next, foreign: at };
    const len = readU32(buf, at);
    const p = at + RECORD_HEADER_BYTES;
    if (buf[p] === KIND_BATCH_END) {
      if (readU64(buf, p + 1) !== batchStart) return { next, foreign: at };
      closed = true;
    }
    off = p + len;
  }
}
