/**
 * file-recording: the Recording kept in the cluster's folder, `<clusterDir>/recording/`
 * (docs/recording.md). Append-only segments (folder 0700, files 0600) of framed, checksummed
 * msgpack records: views (a keyframe at the start of every segment and every KEYFRAME_EVERY
 * views, deltas against the previous view in between), events and message batches. Writes are
 * buffered and written at least every FLUSH_MS and before every query, so a query sees every
 * append made before it. The total is bounded: beyond the limit the oldest segment is deleted,
 * and that is said (a note in info() and `onNote`, which the dashboard turns into a cluster
 * event). A new FileRecording over the same folder (a restart) starts a new segment and reads
 * the old ones, so time travel covers earlier runs.
 *
 * Ordering: each kind's time never goes backwards in the file: a view, event or batch stamped
 * earlier than the previous one of its kind (a clock stepped back, or the supervisor's clock
 * after a restart) is recorded at the previous one's time. Events are ordered by time, never
 * by `seq`, which starts again at 1 when the supervisor restarts.
 */
import {
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type {
  ClusterEvent,
  ClusterView,
  MessageBatch,
  MessageTrace,
  RecordedMoment,
  RecordingInfo,
} from '../../contract/view';
import { makePrivateDir, PRIVATE_FILE_MODE, tightenMode } from '../../node/private-files';
import type { Recording } from './recording';
import {
  encodePayload,
  fileHeader,
  FORMAT_VERSION,
  frame,
  KIND_DELTA,
  KIND_EVENT,
  KIND_KEYFRAME,
  KIND_MESSAGES,
  mib,
  SEGMENT_MAGIC,
  SEGMENT_NAME,
  segmentName,
  spanText,
  traceTuple,
  type SegmentHeader,
} from './recording-format';
import { fileSource, SegmentIndex, SegmentSet, type SegmentSource } from './segment-set';
import { diff } from './view-delta';

/** RECORDING_DIR: the recording's folder inside the cluster folder. */
export const RECORDING_DIR = 'recording';
/** DEFAULT_LIMIT_MIB: the recording's default bound. */
export const DEFAULT_LIMIT_MIB = 256;
/** MIN_LIMIT_MIB / MAX_LIMIT_MIB: the bounds a limit may be set to (0 turns recording off). */
export const MIN_LIMIT_MIB = 4;
export const MAX_LIMIT_MIB = 1 << 20;
/** KEYFRAME_EVERY: views between keyframes (10 s at 10 views per second). */
export const KEYFRAME_EVERY = 100;
/** FLUSH_MS: the longest an append waits in memory before it is written. */
export const FLUSH_MS = 250;

/** segmentBytesFor: a segment's size for a limit: limit / 16, within 1–16 MiB. */
export function segmentBytesFor(limitBytes: number): number {
  return Math.min(16 << 20, Math.max(1 << 20, Math.floor(limitBytes / 16)));
}

/**
 * checkRecordLimit: a record limit in MiB as given by a person: 0 (do not record on disk) or
 * MIN_LIMIT_MIB..MAX_LIMIT_MIB. Anything else throws, naming the value and the range.
 */
export function checkRecordLimit(mibValue: unknown, what = '--record-limit'): number {
  if (
    typeof mibValue !== 'number' ||
    !Number.isSafeInteger(mibValue) ||
    (mibValue !== 0 && (mibValue < MIN_LIMIT_MIB || mibValue > MAX_LIMIT_MIB))
  )
    throw new RangeError(
      `${what} ${String(mibValue)} is not a recording limit: give MiB in ${MIN_LIMIT_MIB}..${MAX_LIMIT_MIB}, or 0 to keep no recording on disk`,
    );
  return mibValue;
}

export interface FileRecordingOptions {
  clusterId: string;
  /** limitBytes: the bound on the segments' total size (default DEFAULT_LIMIT_MIB MiB). */
  limitBytes?: number;
  /** segmentBytes: when to start a new segment (default segmentBytesFor(limitBytes)). */
  segmentBytes?: number;
  keyframeEvery?: number;
  /**
   * onNote is told, after the append that caused it, what a person should hear about the
   * recording (the oldest segment dropped; recording stopped after a write error).
   */
  onNote?: (message: string) => void;
}

/** listSegments: the segment files of a recording folder, oldest first (symbolic links left out). */
export function listSegments(dir: string): { path: string; seq: number }[] {
  const out: { path: string; seq: number }[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const st = lstatSync(path);
    if (!st.isFile()) continue;
    out.push({ path, seq: Number(m[1]) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

export class FileRecording implements Recording {
  readonly dir: string;
  readonly limitBytes: number;
  readonly segmentBytes: number;
  private readonly keyframeEvery: number;
  private readonly set: SegmentSet;
  private seg!: SegmentIndex;
  private fd = -1;
  private pending: Buffer[] = [];
  private prevView: ClusterView | null = null;
  private sinceKey = 0;
  private lastViewT = -Infinity;
  private lastEventT = -Infinity;
  private lastBatchT = -Infinity;
  private closed = false;
  private failed: string | null = null;
  private dropped = 0;
  private dropNote: string | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * constructor opens (creating it 0700 if needed) the recording folder of `clusterDir`, indexes
   * the segments already there (cutting off a torn tail of the newest: its writer stopped
   * mid-record) and starts a new segment after them.
   */
  constructor(
    clusterDir: string,
    private readonly options: FileRecordingOptions,
  ) {
    this.dir = join(clusterDir, RECORDING_DIR);
    this.limitBytes = options.limitBytes ?? DEFAULT_LIMIT_MIB << 20;
    this.segmentBytes = options.segmentBytes ?? segmentBytesFor(this.limitBytes);
    this.keyframeEvery = options.keyframeEvery ?? KEYFRAME_EVERY;
    makePrivateDir(this.dir);
    const files = listSegments(this.dir);
    for (const f of files) tightenMode(f.path);
    const newest = files.at(-1);
    if (newest) {
      // A torn tail is cut off before the segment stops being the newest, so a later reader
      // never takes it for damage.
      try {
        const seg = SegmentSet.open([fileSource(newest.path)]).segments[0];
        if (seg?.torn != null) truncateSync(newest.path, seg.torn);
      } catch {
        // unreadable: noted when the set is opened below
      }
    }
    this.set = SegmentSet.open(files.map((f) => fileSource(f.path)));
    this.startSegment((newest?.seq ?? 0) + 1);
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  private startSegment(seq: number): void {
    const path = join(this.dir, segmentName(seq));
    const header: SegmentHeader = {
      format: 'raftdeck-recording',
      version: FORMAT_VERSION,
      clusterId: this.options.clusterId,
      segment: seq,
      created: Date.now(),
    };
    const head = fileHeader(SEGMENT_MAGIC, header);
    // 'wx': a new file, never one that exists (nor a symbolic link someone placed there).
    this.fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
    this.writeAll(head);
    const src: SegmentSource = fileSource(path);
    this.seg = new SegmentIndex(src, header, head.length);
    this.set.segments.push(this.seg);
    this.prevView = null;
    this.sinceKey = 0;
  }

  private writeAll(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  private get writing(): boolean {
    return !this.closed && this.failed === null;
  }

  addView(view: ClusterView): void {
    if (!this.writing) return;
    const t = Math.max(view.now, this.lastViewT);
    this.lastViewT = t;
    // A copy: the next view is compared with this one, and the pusher may reuse its parts.
    const copy = structuredClone(view);
    if (this.prevView === null || this.sinceKey >= this.keyframeEvery) {
      this.append(KIND_KEYFRAME, t, [KIND_KEYFRAME, t, copy]);
      this.sinceKey = 0;
    } else {
      this.append(KIND_DELTA, t, [KIND_DELTA, t, diff(this.prevView, copy)]);
      this.sinceKey++;
    }
    this.prevView = copy;
    this.afterAppend();
  }

  addEvent(event: ClusterEvent): void {
    if (!this.writing) return;
    const t = Math.max(event.time, this.lastEventT);
    this.lastEventT = t;
    this.append(KIND_EVENT, t, [KIND_EVENT, t, event]);
    this.afterAppend();
  }

  addMessages(batch: MessageBatch, time: number): void {
    if (!this.writing) return;
    if (batch.traces.length === 0 && Object.keys(batch.skipped).length === 0) return;
    const t = Math.max(time, this.lastBatchT);
    this.lastBatchT = t;
    // Each trace at no later than the push (as MemoryRecording keeps them).
    const traces: MessageTrace[] = batch.traces.map((tr) =>
      tr.time <= t ? tr : { ...tr, time: t },
    );
    let min = t;
    for (const tr of traces) if (tr.time < min) min = tr.time;
    this.append(
      KIND_MESSAGES,
      t,
      [KIND_MESSAGES, t, min, traces.map(traceTuple), batch.skipped],
      min,
    );
    this.afterAppend();
  }

  private append(kind: number, t: number, record: unknown[], minTime = t): void {
    const bytes = frame(encodePayload(record));
    this.seg.add(kind, t, this.seg.end, bytes.length, minTime);
    this.seg.end += bytes.length;
    this.pending.push(bytes);
  }

  private afterAppend(): void {
    if (this.seg.end >= this.segmentBytes) {
      this.flush();
      if (!this.writing) return;
      try {
        closeSync(this.fd);
        this.startSegment(this.seg.seq + 1);
      } catch (e) {
        this.fail(`could not start a new segment in ${this.dir}: ${(e as Error).message}`);
        return;
      }
    }
    this.keepWithinLimit();
  }

  /** keepWithinLimit deletes the oldest segments while the total is over the limit. */
  private keepWithinLimit(): void {
    while (this.set.bytes > this.limitBytes && this.set.segments.length > 1) {
      const oldest = this.set.segments[0]!;
      try {
        unlinkSync(oldest.src.label);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.fail(`could not delete ${oldest.src.label}: ${(e as Error).message}`);
          return;
        }
      }
      this.set.drop(oldest, '');
      this.dropped++;
      const message = `recording: dropped the oldest segment (${spanText(oldest.first, oldest.last)}) to stay within ${mib(this.limitBytes)}`;
      this.dropNote = `${message}${this.dropped > 1 ? ` (${this.dropped} segments dropped so far)` : ''}`;
      this.tell(message);
    }
  }

  private tell(message: string): void {
    const cb = this.options.onNote;
    if (cb) queueMicrotask(() => cb(message));
  }

  private fail(why: string): void {
    if (this.failed !== null) return;
    this.failed = `recording stopped: ${why}`;
    this.pending = [];
    this.tell(this.failed);
  }

  /** flush writes what is pending (it runs every FLUSH_MS, before every query and on close). */
  flush(): void {
    if (this.pending.length === 0 || this.fd < 0 || this.failed !== null) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    try {
      this.writeAll(buf);
    } catch (e) {
      this.fail(`writing ${this.seg.src.label} failed: ${(e as Error).message}`);
    }
  }

  async info(): Promise<RecordingInfo> {
    this.flush();
    const notes = [...this.set.notes];
    if (this.dropNote) notes.push(this.dropNote);
    if (this.failed) notes.push(this.failed);
    return {
      source: 'live',
      path: this.dir,
      clusterId: this.options.clusterId,
      formatVersion: FORMAT_VERSION,
      from: this.set.from,
      to: this.set.to,
      bytes: this.set.bytes,
      limitBytes: this.limitBytes,
      segments: this.set.segments.length,
      recording: this.writing,
      notes,
    };
  }

  async viewAt(time: number): Promise<RecordedMoment> {
    this.flush();
    return this.set.viewAt(time);
  }

  async events(from: number, to: number, limit: number): Promise<ClusterEvent[]> {
    this.flush();
    return this.set.events(from, to, limit);
  }

  async messages(from: number, to: number, limit: number): Promise<MessageTrace[]> {
    this.flush();
    return this.set.messages(from, to, limit);
  }

  /** close writes what is pending and closes the segment; queries still answer afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = -1;
    }
  }
}
