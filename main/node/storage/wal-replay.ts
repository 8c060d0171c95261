import type { Entry } from '../../raft/types';
import { crc32c } from './crc32c';
import { StorageCorruptError } from './storage';
import {
  BATCH_END_PAYLOAD,
  COMMIT_PAYLOAD,
  ENTRY_PAYLOAD_HEADER,
  HEADER_PAYLOAD,
  HEADER_PAYLOAD_V1,
  KIND_BATCH_END,
  KIND_COMMIT,
  KIND_ENTRY,
  KIND_HEADER,
  KIND_SNAPSHOT,
  MAX_PAYLOAD,
  RECORD_HEADER_BYTES,
  SNAPSHOT_PAYLOAD,
  WAL_MAGIC,
  WAL_VERSION,
  WAL_VERSION_1,
  allZero,
  hex32,
  readU32,
  readU64,
} from './wal-format';

/**
 * WalEntry is an entry replayed from a WAL segment. Its data stay where they are in the segment's
 * buffer and a view of them is made each time they are asked for: a restart with a long log then
 * holds one small object per entry instead of two (a view is twice the size of the entry), which
 * is most of what replaying and applying a million entries spends on garbage collection.
 */
class WalEntry implements Entry {
  constructor(
    readonly index: number,
    readonly term: number,
    readonly type: Entry['type'],
    private readonly seg: Buffer,
    private readonly at: number,
    private readonly len: number,
  ) {}

  get data(): Uint8Array {
    return new Uint8Array(this.seg.buffer, this.seg.byteOffset + this.at, this.len);
  }
}

/** BadRecord is the first record of a segment that failed its checksum or was cut short. */
export interface BadRecord {
  offset: number;
  reason: string;
  /** complete: the whole payload is present (a crc mismatch) rather than cut short. */
  complete: boolean;
  /** end: the offset just past the damaged record when it is complete, else `offset`. */
  end: number;
  /** entryIndex: the index the damaged record claims if it looks like an entry, else -1. */
  entryIndex: number;
}

/** SegmentScan is what replaying one segment found. */
export interface SegmentScan {
  /** validEnd: the offset just past the last good record. */
  validEnd: number;
  /** maxIndex: the largest entry or snapshot index recorded in the segment (0 if none). */
  maxIndex: number;
  bad: BadRecord | undefined;
  /** version: the segment's format version from its header (0 if it has no intact header). */
  version: number;
  /** seq and prevEnd: what a version-2 header records (0 otherwise). */
  seq: number;
  prevEnd: number;
  /** batchStart: the offset just past the last intact batch end (0 if none). */
  batchStart: number;
}

/**
 * WalReplay rebuilds the log from WAL records in write order:
 *  - an entry at last + 1 is appended; an entry at or below the last index truncates the log from
 *    its index on and is appended (an overwrite); an entry beyond last + 1 is corruption; with the
 *    log empty, an entry above the latest snapshot record's index starts it (the caller checks
 *    that the log follows the snapshot it ends up with);
 *  - a commit record raises `commit`;
 *  - a snapshot record (index, term) applies the Raft snapshot rule: if the log holds an entry at
 *    index with that term the entries after it are kept, otherwise the whole log is discarded;
 *    later entries resume above index.
 */
export class WalReplay {
  log: Entry[] = [];
  /** base: the index of the latest snapshot record; the log, once emptied, resumes above it. */
  base = 0;
  commit = 0;

  lastIndex(): number {
    const n = this.log.length;
    return n > 0 ? this.log[n - 1].index : this.base;
  }

  /** entry applies one entry record; it returns why the entry cannot be applied, if it cannot. */
  entry(e: Entry): string | undefined {
    const log = this.log;
    const n = log.length;
    if (n === 0) {
      // Past the latest snapshot record the log may resume beyond its index + 1: a node's own
      // snapshot is taken at an index its log has passed, so its record can follow entries that
      // were in a segment deleted since (a later snapshot covered it). Whether entries are
      // missing is told at the end, against the snapshot file (FileStorage.open).
      if (e.index > this.base) log.push(e);
      return undefined;
    }
    const first = log[0].index;
    const last = first + n - 1;
    if (e.index === last + 1) {
      log.push(e);
    } else if (e.index > last + 1) {
      return `entry ${e.index} leaves a gap after entry ${last}`;
    } else if (e.index >= first) {
      log.length = e.index - first;
      log.push(e);
    } else if (e.index > this.base) {
      this.log = [e];
    }
    return undefined;
  }

  /** snapshot applies the Raft snapshot rule for a snapshot at (index, term). */
  snapshot(index: number, term: number): void {
    const log = this.log;
    const n = log.length;
    if (n > 0) {
      const first = log[0].index;
      const last = first + n - 1;
      if (index >= first) {
        this.log =
          index <= last && log[index - first].term === term ? log.slice(index - first + 1) : [];
      }
    }
    if (index > this.base) this.base = index;
  }

  /**
   * segment replays one segment file held whole in `buf`. Entry data are views into `buf`. It stops
   * at the first record that is cut short or fails its checksum and reports it as `bad`; a record
   * whose checksum matches but whose content is malformed throws StorageCorruptError.
   */
  segment(file: string, buf: Buffer): SegmentScan {
    const n = buf.length;
    let maxIndex = 0;
    let version = 0;
    let seq = 0;
    let prevEnd = 0;
    let batchStart = 0;
    const corrupt = (at: number, why: string): StorageCorruptError =>
      new StorageCorruptError(`corrupt WAL record in ${file} at offset ${at}: ${why}`, file, at);
    const bad = (
      offset: number,
      reason: string,
      complete: boolean,
      p: number,
      len: number,
    ): SegmentScan => ({
      validEnd: offset,
      maxIndex,
      version,
      seq,
      prevEnd,
      batchStart,
      bad: {
        offset,
        reason,
        complete,
        end: complete ? p + len : offset,
        entryIndex: p + 9 <= n && len >= 9 && buf[p] === KIND_ENTRY ? readU64(buf, p + 1) : -1,
      },
    });
    let off = 0;
    while (off < n) {
      const p = off + RECORD_HEADER_BYTES;
      if (n - off < RECORD_HEADER_BYTES) {
        return bad(off, `incomplete record header (${n - off} bytes)`, false, p, 0);
      }
      const len = readU32(buf, off);
      // The active segment is extended ahead of its writes (docs/storage.md): zeros from a
      // record boundary to the end of the file are room not yet written, not damage.
      if (len === 0 && allZero(buf, off)) {
        return { validEnd: off, maxIndex, bad: undefined, version, seq, prevEnd, batchStart };
      }
      if (len === 0 || len > MAX_PAYLOAD) {
        return bad(off, `invalid payload length ${len}`, false, p, 0);
      }
      if (len > n - p) {
        return bad(
          off,
          `incomplete record (payload ${len} bytes, ${n - p} present)`,
          false,
          p,
          len,
        );
      }
      const stored = readU32(buf, off + 4);
      const computed = crc32c(buf, p, p + len);
      if (stored !== computed) {
        const why = `crc mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`;
        return bad(off, why, true, p, len);
      }
      const kind = buf[p];
      if (off === 0 && kind !== KIND_HEADER) {
        throw corrupt(off, 'the segment does not start with a header record');
      }
      switch (kind) {
        case KIND_ENTRY: {
          if (len < ENTRY_PAYLOAD_HEADER) throw corrupt(off, `entry record of ${len} bytes`);
          const index = readU64(buf, p + 1);
          const term = readU64(buf, p + 9);
          const type = buf[p + 17];
          if (index < 1 || term < 0) throw corrupt(off, 'entry index or term out of range');
          if (type > 1) throw corrupt(off, `unknown entry type ${type}`);
          const why = this.entry(
            new WalEntry(
              index,
              term,
              type === 1 ? 'conf' : 'normal',
              buf,
              p + ENTRY_PAYLOAD_HEADER,
              len - ENTRY_PAYLOAD_HEADER,
            ),
          );
          if (why !== undefined) throw corrupt(off, why);
          if (index > maxIndex) maxIndex = index;
          break;
        }
        case KIND_COMMIT: {
          const commit = len === COMMIT_PAYLOAD ? readU64(buf, p + 1) : -1;
          if (commit < 0) throw corrupt(off, 'malformed commit record');
          if (commit > this.commit) this.commit = commit;
          break;
        }
        case KIND_HEADER: {
          if (off !== 0) throw corrupt(off, 'a header record in the middle of a segment');
          if (len < HEADER_PAYLOAD_V1 || buf.toString('latin1', p + 1, p + 6) !== WAL_MAGIC) {
            throw corrupt(off, 'bad segment header');
          }
          const v = buf[p + 6];
          if (v !== WAL_VERSION && v !== WAL_VERSION_1) {
            throw corrupt(off, `unsupported WAL version ${v}`);
          }
          if (len !== (v === WAL_VERSION_1 ? HEADER_PAYLOAD_V1 : HEADER_PAYLOAD)) {
            throw corrupt(off, `a version ${v} header of ${len} bytes`);
          }
          version = v;
          if (v === WAL_VERSION) {
            seq = readU64(buf, p + 7);
            prevEnd = readU64(buf, p + 15);
            if (seq < 1 || prevEnd < 0) throw corrupt(off, 'bad segment header');
          }
          break;
        }
        case KIND_BATCH_END: {
          if (version !== WAL_VERSION) {
            throw corrupt(off, `a batch end in a version ${version} segment`);
          }
          const start = len === BATCH_END_PAYLOAD ? readU64(buf, p + 1) : -1;
          if (start !== batchStart) {
            throw corrupt(off, `a batch end naming offset ${start}, not ${batchStart}`);
          }
          batchStart = p + len;
          break;
        }
        case KIND_SNAPSHOT: {
          const index = len === SNAPSHOT_PAYLOAD ? readU64(buf, p + 1) : -1;
          const term = len === SNAPSHOT_PAYLOAD ? readU64(buf, p + 9) : -1;
          if (index < 0 || term < 0) throw corrupt(off, 'malformed snapshot record');
          this.snapshot(index, term);
          if (index > maxIndex) maxIndex = index;
          break;
        }
        default:
          throw corrupt(off, `unknown record kind ${kind}`);
      }
      off = p + len;
    }
    return { validEnd: off, maxIndex, bad: undefined, version, seq, prevEnd, batchStart };
  }
}
