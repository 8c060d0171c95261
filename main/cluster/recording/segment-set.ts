/**
 * segment-set: reading a recording's segments (recording-format.ts). Each segment is indexed once
 * (the time and offset of every view, event and message batch, and which views are keyframes);
 * a query then reads only the bytes it needs: viewAt from the nearest keyframe at or before the
 * instant, events and messages by their times. Damage is skipped with a note that names the file,
 * the offset and the span lost; the rest still answers.
 *
 * Times: every kind of record is kept in time order within a segment, and segments are in the
 * order they were written (their sequence numbers), so all records of one kind are in time order
 * across the recording (the writer never lets a kind's time go backwards; see file-recording.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ClusterEvent, ClusterView, MessageTrace, RecordedMoment } from '../../contract/view';
import { crc32c } from '../../node/storage/crc32c';
import { firstAtOrAfter, lastAtOrBefore } from './recording';
import {
  clockOf,
  decodePayload,
  FRAME_BYTES,
  KIND_DELTA,
  KIND_EVENT,
  KIND_KEYFRAME,
  KIND_MESSAGES,
  MAX_BLOCK_BYTES,
  MAX_HEADER_BYTES,
  MAX_RECORD_BYTES,
  parseFileHeader,
  peekRecord,
  PREAMBLE_BYTES,
  RecordingFormatError,
  SEGMENT_MAGIC,
  spanText,
  traceOf,
  type SegmentHeader,
} from './recording-format';
import { patch, type Delta } from './view-delta';

/** SegmentSource: where a segment's bytes are: a file, or a block of an export file. */
export interface SegmentSource {
  /** label names it in notes and errors (a path, or "FILE block 3"). */
  readonly label: string;
  /** size: its length in bytes now. */
  size(): number;
  /** read returns `len` bytes from `pos` (fewer at its end). */
  read(pos: number, len: number): Buffer;
}

/** fileSource: a segment file, opened for each read (a recording can hold many segments). */
export function fileSource(path: string, base = 0, length?: number): SegmentSource {
  const withFd = <T>(f: (fd: number) => T): T => {
    const fd = openSync(path, 'r');
    try {
      return f(fd);
    } finally {
      closeSync(fd);
    }
  };
  return {
    label: path,
    size: () => length ?? withFd((fd) => fstatSync(fd).size - base),
    read: (pos, len) =>
      withFd((fd) => {
        const end = length === undefined ? len : Math.min(len, length - pos);
        const buf = Buffer.allocUnsafe(Math.max(0, end));
        let got = 0;
        while (got < buf.length) {
          const n = readSync(fd, buf, got, buf.length - got, base + pos + got);
          if (n === 0) break;
          got += n;
        }
        return got === buf.length ? buf : buf.subarray(0, got);
      }),
  };
}

/** Column: times and byte ranges of one kind of record, in time order. */
export interface Column {
  t: number[];
  off: number[];
  len: number[];
}

const column = (): Column => ({ t: [], off: [], len: [] });

/**
 * SegmentIndex: one segment as indexed. `end`: the end of its last good record (where the writer
 * appends next). `damage`: where and why reading stopped early (null when it read to the end).
 */
export class SegmentIndex {
  readonly views = column();
  /** keys[i]: view i is a keyframe. */
  readonly keys: boolean[] = [];
  readonly events = column();
  readonly batches = column();
  /** batchMin[i]: the earliest trace time in batch i. */
  readonly batchMin: number[] = [];
  first: number | null = null;
  last: number | null = null;
  damage: { offset: number; reason: string } | null = null;
  torn: number | null = null;

  constructor(
    readonly src: SegmentSource,
    readonly header: SegmentHeader,
    public end: number,
  ) {}

  get seq(): number {
    return this.header.segment;
  }

  /** add indexes one record (the writer calls it for every record it appends). */
  add(kind: number, time: number, off: number, len: number, minTime = time): void {
    const col =
      kind === KIND_EVENT
        ? this.events
        : kind === KIND_MESSAGES
          ? this.batches
          : kind === KIND_KEYFRAME || kind === KIND_DELTA
            ? this.views
            : null;
    if (!col) return;
    col.t.push(time);
    col.off.push(off);
    col.len.push(len);
    if (col === this.views) this.keys.push(kind === KIND_KEYFRAME);
    if (col === this.batches) {
      this.batchMin.push(Math.min(minTime, time));
    }
    if (this.first === null || time < this.first) this.first = time;
    if (this.last === null || time > this.last) this.last = time;
  }
}

/**
 * indexSegment reads a segment whole (at most MAX_BLOCK_BYTES of it) and indexes its records.
 * A bad header throws RecordingFormatError (nothing of the segment can be read). A record that
 * runs past the end is a torn tail (`torn`: its offset); a record that fails its checksum or
 * does not decode is damage (`damage`): reading stops there, what came before is kept.
 */
export function indexSegment(src: SegmentSource): SegmentIndex {
  const size = src.size();
  const bytes = src.read(0, Math.min(size, MAX_BLOCK_BYTES));
  const { header, end: start } = parseFileHeader(
    bytes.subarray(0, PREAMBLE_BYTES + FRAME_BYTES + MAX_HEADER_BYTES),
    SEGMENT_MAGIC,
    src.label,
  );
  const seg = new SegmentIndex(src, header, start);
  let pos = start;
  while (pos < bytes.length) {
    if (bytes.length - pos < FRAME_BYTES) {
      seg.torn = pos;
      break;
    }
    const len = bytes.readUInt32BE(pos);
    const crc = bytes.readUInt32BE(pos + 4);
    if (len > MAX_RECORD_BYTES) {
      seg.damage = {
        offset: pos,
        reason: `a record claims ${len} bytes (at most ${MAX_RECORD_BYTES})`,
      };
      break;
    }
    if (pos + FRAME_BYTES + len > bytes.length) {
      if (bytes.length < size)
        seg.damage = { offset: pos, reason: `the segment is longer than ${MAX_BLOCK_BYTES} bytes` };
      else seg.torn = pos;
      break;
    }
    const payload = bytes.subarray(pos + FRAME_BYTES, pos + FRAME_BYTES + len);
    if (crc32c(payload) !== crc) {
      seg.damage = { offset: pos, reason: 'a record fails its checksum' };
      break;
    }
    // Only the start of each record is read to index it (its checksum covers the rest); a
    // record that does not start as the writer writes them is decoded whole.
    let head = peekRecord(payload);
    if (head === null) {
      let rec: unknown;
      try {
        rec = decodePayload(payload, `${src.label} at offset ${pos}`);
      } catch (e) {
        seg.damage = { offset: pos, reason: (e as Error).message };
        break;
      }
      if (Array.isArray(rec) && typeof rec[0] === 'number' && typeof rec[1] === 'number')
        head = {
          kind: rec[0],
          time: rec[1],
          min: rec[0] === KIND_MESSAGES && typeof rec[2] === 'number' ? rec[2] : rec[1],
        };
    }
    if (head === null || !Number.isFinite(head.time) || !Number.isFinite(head.min)) {
      seg.damage = { offset: pos, reason: 'a record is not [kind, time, ...]' };
      break;
    }
    seg.add(head.kind, head.time, pos, FRAME_BYTES + len, head.min);
    pos += FRAME_BYTES + len;
    seg.end = pos;
  }
  return seg;
}

/** Parsed: one record read back for a query. */
type Parsed = [number, number, ...unknown[]];

/** MAX_READ_BYTES: the most bytes one query reads from one segment at a time. */
const MAX_READ_BYTES = 8 << 20;

/**
 * SegmentSet: the segments of one recording, oldest first, and what a reader should know about
 * them (`notes`). Queries see the segments as they are when asked; a segment that has gone (the
 * writer dropped it to stay within its bound) is left out with a note.
 */
export class SegmentSet {
  segments: SegmentIndex[] = [];
  notes: string[] = [];
  /** cache: the last view viewAt built, to move forward from when scrubbing or playing. */
  private cache: { seg: SegmentIndex; i: number; view: ClusterView } | null = null;

  /**
   * open indexes `sources` (in the order written) and notes damage: an unreadable segment, one
   * of another format version, a damaged record (with the span lost: up to the next segment's
   * first record). A torn tail of the newest segment is noted as an unfinished write.
   */
  static open(sources: SegmentSource[], notes: string[] = []): SegmentSet {
    const set = new SegmentSet();
    set.notes.push(...notes);
    const bad: { label: string; reason: string; after: number | null; at: number }[] = [];
    for (const src of sources) {
      try {
        const seg = indexSegment(src);
        set.segments.push(seg);
      } catch (e) {
        const prev = set.segments.at(-1);
        bad.push({
          label: src.label,
          reason: (e as Error).message,
          after: prev?.last ?? null,
          at: set.segments.length,
        });
      }
    }
    set.segments.sort((a, b) => a.seq - b.seq);
    for (const [i, seg] of set.segments.entries()) {
      const next = set.segments[i + 1];
      if (seg.damage) {
        const lostTo = next ? (next.first ?? next.header.created) : null;
        const from = seg.last ?? seg.header.created;
        set.notes.push(
          `${seg.src.label}: damaged at offset ${seg.damage.offset} (${seg.damage.reason}); skipped the rest of that segment: ${lostTo === null ? `from ${clockOf(from)} to its end` : spanText(from, lostTo)} lost`,
        );
      } else if (seg.torn !== null && next) {
        set.notes.push(
          `${seg.src.label}: ends mid-record at offset ${seg.torn} (an unfinished write); ignored`,
        );
      } else if (seg.torn !== null) {
        set.notes.push(
          `${seg.src.label}: ends mid-record at offset ${seg.torn} (an unfinished write, the newest segment); ignored`,
        );
      }
    }
    for (const b of bad) {
      const next = set.segments[b.at];
      const span =
        b.after !== null && next?.first != null ? `; ${spanText(b.after, next.first)} lost` : '';
      set.notes.push(
        `${b.reason.startsWith(b.label) ? b.reason : `${b.label}: ${b.reason}`}; skipped${span}`,
      );
    }
    return set;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.end;
    return n;
  }

  get from(): number | null {
    for (const s of this.segments) if (s.first !== null) return s.first;
    return null;
  }

  get to(): number | null {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const l = this.segments[i]!.last;
      if (l !== null) return l;
    }
    return null;
  }

  get clusterId(): string {
    return this.segments.at(-1)?.header.clusterId ?? '';
  }

  /** drop forgets a segment (it was deleted) and says so. */
  drop(seg: SegmentIndex, why: string): void {
    this.segments = this.segments.filter((s) => s !== seg);
    if (this.cache?.seg === seg) this.cache = null;
    if (why) this.notes.push(why);
  }

  /** records reads the records in bytes [from, to) of `seg` (all checked when indexed). */
  private records(seg: SegmentIndex, from: number, to: number): Parsed[] {
    const out: Parsed[] = [];
    let buf: Buffer;
    try {
      buf = seg.src.read(from, to - from);
    } catch (e) {
      this.drop(seg, `${seg.src.label}: could not be read (${(e as Error).message}); left out`);
      return out;
    }
    let pos = 0;
    while (pos + FRAME_BYTES <= buf.length) {
      const len = buf.readUInt32BE(pos);
      if (pos + FRAME_BYTES + len > buf.length) break;
      const payload = buf.subarray(pos + FRAME_BYTES, pos + FRAME_BYTES + len);
      if (crc32c(payload) !== buf.readUInt32BE(pos + 4))
        throw new RecordingFormatError(
          `${seg.src.label}: the record at offset ${from + pos} changed since it was indexed`,
        );
      try {
        const rec = decodePayload(payload, `${seg.src.label} at offset ${from + pos}`);
        if (Array.isArray(rec)) out.push(rec as Parsed);
      } catch (e) {
        // checksummed but not msgpack: only a writer other than ours makes that; said once
        const note = `${(e as Error).message}; skipped`;
        if (!this.notes.includes(note)) this.notes.push(note);
      }
      pos += FRAME_BYTES + len;
    }
    return out;
  }

  /** viewAt: the latest view recorded at or before `time`. */
  viewAt(time: number): RecordedMoment {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s]!;
      const i = lastAtOrBefore(seg.views.t, time, (x) => x);
      if (i < 0) continue;
      const view = this.buildView(seg, i);
      if (view === null) continue;
      return { time, view, viewTime: seg.views.t[i]! };
    }
    return { time, view: null, viewTime: null };
  }

  /** buildView: view i of `seg`, from its keyframe (or from the cached view when that is nearer). */
  private buildView(seg: SegmentIndex, i: number): ClusterView | null {
    let k = i;
    while (k >= 0 && !seg.keys[k]) k--;
    if (k < 0) return null;
    let view: unknown = null;
    let start = k;
    const c = this.cache;
    if (c && c.seg === seg && c.i <= i && c.i >= k) {
      if (c.i === i) return c.view;
      view = c.view;
      start = c.i + 1;
    }
    const v = seg.views;
    let j = start;
    while (j <= i) {
      // read in pieces of at most MAX_READ_BYTES (a keyframe and its deltas are small)
      let to = v.off[j]! + v.len[j]!;
      let last = j;
      while (last < i && v.off[last + 1]! + v.len[last + 1]! - v.off[j]! <= MAX_READ_BYTES) {
        last++;
        to = v.off[last]! + v.len[last]!;
      }
      for (const rec of this.records(seg, v.off[j]!, to)) {
        if (rec[0] === KIND_KEYFRAME) view = rec[2];
        else if (rec[0] === KIND_DELTA) view = patch(view, rec[2] as Delta | null);
      }
      j = last + 1;
    }
    if (view === null || typeof view !== 'object') return null;
    this.cache = { seg, i, view: view as ClusterView };
    return view as ClusterView;
  }

  /** events: the events recorded with from <= time <= to, the latest `limit`, oldest first. */
  events(from: number, to: number, limit: number): ClusterEvent[] {
    const chunks: ClusterEvent[][] = [];
    let n = 0;
    for (let s = this.segments.length - 1; s >= 0 && n < limit; s--) {
      const seg = this.segments[s]!;
      const col = seg.events;
      const end = lastAtOrBefore(col.t, to, (x) => x);
      const start = Math.max(
        firstAtOrAfter(col.t, from, (x) => x),
        end + 1 - (limit - n),
      );
      if (end < start) continue;
      const got: ClusterEvent[] = [];
      for (const rec of this.records(seg, col.off[start]!, col.off[end]! + col.len[end]!))
        if (rec[0] === KIND_EVENT) got.push(rec[2] as ClusterEvent);
      chunks.unshift(got);
      n += got.length;
    }
    const all = chunks.flat();
    return all.slice(Math.max(0, all.length - limit));
  }

  /**
   * messages: the traces with from <= time <= to, the latest `limit`, oldest first. A batch's
   * traces are at or before its time and at or after its earliest trace, so only batches whose
   * range meets the span are read.
   */
  messages(from: number, to: number, limit: number): MessageTrace[] {
    const found: MessageTrace[] = [];
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s]!;
      const col = seg.batches;
      if (col.t.length === 0 || col.t.at(-1)! < from) continue;
      if (found.length >= limit) {
        found.sort((a, b) => a.time - b.time);
        if (col.t.at(-1)! < found[found.length - limit]!.time) break;
      }
      const first = firstAtOrAfter(col.t, from, (x) => x);
      const picked: number[] = [];
      for (let i = first; i < col.t.length; i++) if (seg.batchMin[i]! <= to) picked.push(i);
      // newest first, until `limit` traces are in hand and older batches cannot hold later ones
      for (let p = picked.length - 1; p >= 0; p--) {
        const i = picked[p]!;
        if (found.length >= limit) {
          found.sort((a, b) => a.time - b.time);
          if (col.t[i]! < found[found.length - limit]!.time) break;
        }
        for (const rec of this.records(seg, col.off[i]!, col.off[i]! + col.len[i]!)) {
          if (rec[0] !== KIND_MESSAGES || !Array.isArray(rec[3])) continue;
          for (const tuple of rec[3] as unknown[]) {
            const tr = traceOf(tuple);
            if (tr !== null && tr.time >= from && tr.time <= to) found.push(tr);
          }
        }
      }
    }
    found.sort((a, b) => a.time - b.time);
    return found.slice(Math.max(0, found.length - limit));
  }
}
