/**
 * recording-reader: a recording opened without a cluster: a cluster folder, its `recording`
 * folder, or an export file (`raftdeck record export`), and the export itself. Export files are
 * one container: ['RDRECEXP'][u32 version][header record], then every segment as a block
 * [u32 length][u32 crc32c][the segment's bytes] (docs/recording.md). A block that fails its
 * checksum is said and read as far as its own records are intact; a block whose length cannot
 * be right ends the reading there; everything before still opens.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  statSync,
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
import { crc32c, crc32cUpdate } from '../../node/storage/crc32c';
import { PRIVATE_FILE_MODE } from '../../node/private-files';
import { listSegments, RECORDING_DIR } from './file-recording';
import type { Recording } from './recording';
import {
  EXPORT_MAGIC,
  fileHeader,
  FORMAT_VERSION,
  FRAME_BYTES,
  MAX_BLOCK_BYTES,
  MAX_HEADER_BYTES,
  mib,
  parseFileHeader,
  PREAMBLE_BYTES,
  RecordingFormatError,
  SEGMENT_MAGIC,
  spanText,
} from './recording-format';
import { fileSource, indexSegment, SegmentSet, type SegmentSource } from './segment-set';

/** RecordingOpenError: a path that holds no recording at all (the message says what it is). */
export class RecordingOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingOpenError';
  }
}

/** recordingFolderOf: the folder of segments `dir` stands for (a cluster folder or the folder itself). */
function recordingFolderOf(dir: string): string {
  const inner = join(dir, RECORDING_DIR);
  if (existsSync(inner) && lstatSync(inner).isDirectory()) return inner;
  return dir;
}

/** readAt reads up to `len` bytes of fd at `pos`. */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * exportSources: the segments of an export file as sources, and notes on its damage. A file
 * that is not an export (or of another version) throws RecordingFormatError.
 */
export function exportSources(file: string): {
  sources: SegmentSource[];
  notes: string[];
  clusterId: string;
} {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, PREAMBLE_BYTES + FRAME_BYTES + MAX_HEADER_BYTES);
    const { header, end } = parseFileHeader(head, EXPORT_MAGIC, file);
    const sources: SegmentSource[] = [];
    const notes: string[] = [];
    let pos = end;
    let n = 0;
    while (pos < size) {
      n++;
      const frameBytes = readAt(fd, pos, FRAME_BYTES);
      if (frameBytes.length < FRAME_BYTES) {
        notes.push(`${file}: ends mid-block at offset ${pos}; the rest is skipped`);
        break;
      }
      const len = frameBytes.readUInt32BE(0);
      if (len > MAX_BLOCK_BYTES || pos + FRAME_BYTES + len > size) {
        notes.push(
          `${file}: block ${n} at offset ${pos} claims ${len} bytes (${size - pos - FRAME_BYTES} remain, at most ${MAX_BLOCK_BYTES} allowed); it and the rest of the file are skipped`,
        );
        break;
      }
      let crc = 0;
      for (let at = 0; at < len; at += 1 << 20) {
        const piece = readAt(fd, pos + FRAME_BYTES + at, Math.min(1 << 20, len - at));
        crc = crc32cUpdate(crc, piece);
      }
      if (crc !== frameBytes.readUInt32BE(4))
        notes.push(
          `${file}: block ${n} at offset ${pos} fails its checksum; reading what of it is intact`,
        );
      const src = fileSource(file, pos + FRAME_BYTES, len);
      sources.push({ ...src, label: `${file} block ${n} (offset ${pos})` });
      pos += FRAME_BYTES + len;
    }
    return { sources, notes, clusterId: header.clusterId };
  } finally {
    closeSync(fd);
  }
}

/**
 * RecordingReader: a recording opened without a cluster, read-only (appends are ignored). It
 * reads what the path held when it was opened; reopen to see more.
 */
export class RecordingReader implements Recording {
  private constructor(
    readonly path: string,
    readonly set: SegmentSet,
    private readonly clusterIdOf: string,
  ) {}

  /**
   * open: `path` is an export file, a cluster folder, or a recording folder. A path that holds
   * no recording throws RecordingOpenError naming it.
   */
  static open(path: string): RecordingReader {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new RecordingOpenError(
        `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`,
      );
    }
    if (st.isDirectory()) {
      const dir = recordingFolderOf(path);
      const files = listSegments(dir);
      if (files.length === 0)
        throw new RecordingOpenError(`${path} holds no recording (no segments in ${dir})`);
      const set = SegmentSet.open(files.map((f) => fileSource(f.path)));
      return new RecordingReader(path, set, set.clusterId);
    }
    let found;
    try {
      found = exportSources(path);
    } catch (e) {
      throw new RecordingOpenError((e as Error).message);
    }
    const set = SegmentSet.open(found.sources, found.notes);
    return new RecordingReader(path, set, found.clusterId);
  }

  addView(_view: ClusterView): void {}
  addEvent(_event: ClusterEvent): void {}
  addMessages(_batch: MessageBatch, _time: number): void {}

  async info(): Promise<RecordingInfo> {
    return {
      source: 'file',
      path: this.path,
      clusterId: this.clusterIdOf,
      formatVersion: FORMAT_VERSION,
      from: this.set.from,
      to: this.set.to,
      bytes: this.set.bytes,
      limitBytes: 0,
      segments: this.set.segments.length,
      recording: false,
      notes: [...this.set.notes],
    };
  }

  async viewAt(time: number): Promise<RecordedMoment> {
    return this.set.viewAt(time);
  }

  async events(from: number, to: number, limit: number): Promise<ClusterEvent[]> {
    return this.set.events(from, to, limit);
  }

  async messages(from: number, to: number, limit: number): Promise<MessageTrace[]> {
    return this.set.messages(from, to, limit);
  }

  async close(): Promise<void> {}
}

/** ExportSummary: what `exportRecording` wrote. */
export interface ExportSummary {
  segments: number;
  bytes: number;
  from: number | null;
  to: number | null;
  notes: string[];
  /** line: the summary in one line ("wrote 3 segments, 12.4 MiB, 12:00:01–12:31:40 to FILE"). */
  line: string;
}

/**
 * exportRecording writes the recording of cluster folder `dir` into one export file `file`
 * (which must not exist). It works while the cluster runs: each segment is copied up to the end
 * of its last complete record, so the file holds a consistent snapshot of complete records. A
 * segment that cannot be read (damaged header, another format version) is left out with a note;
 * a damaged one is copied up to its damage.
 */
export function exportRecording(dir: string, file: string): ExportSummary {
  const folder = recordingFolderOf(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new RecordingOpenError(`${dir} is not a folder`);
  const files = listSegments(folder);
  if (files.length === 0)
    throw new RecordingOpenError(`${dir} holds no recording (no segments in ${folder})`);
  if (existsSync(file))
    throw new RecordingOpenError(
      `${file} exists already; give a new file name (nothing was written)`,
    );
  const notes: string[] = [];
  let clusterId = '';
  for (const f of [...files].reverse()) {
    try {
      const fd = openSync(f.path, 'r');
      try {
        const head = readAt(fd, 0, PREAMBLE_BYTES + FRAME_BYTES + MAX_HEADER_BYTES);
        clusterId = parseFileHeader(head, SEGMENT_MAGIC, f.path).header.clusterId;
      } finally {
        closeSync(fd);
      }
      break;
    } catch {
      // another segment may say it
    }
  }
  let from: number | null = null;
  let to: number | null = null;
  let segments = 0;
  let total = 0;
  const tmp = `${file}.tmp`;
  const out = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
  const write = (b: Buffer): void => {
    let off = 0;
    while (off < b.length) off += writeSync(out, b, off, b.length - off);
    total += b.length;
  };
  try {
    write(
      fileHeader(EXPORT_MAGIC, {
        format: 'raftdeck-recording-export',
        version: FORMAT_VERSION,
        clusterId,
        segment: 0,
        created: Date.now(),
      }),
    );
    // One segment in memory at a time (at most MAX_BLOCK_BYTES).
    for (const f of files) {
      let bytes: Buffer;
      try {
        const fd = openSync(f.path, 'r');
        try {
          bytes = readAt(fd, 0, Math.min(fstatSync(fd).size, MAX_BLOCK_BYTES));
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        // dropped by the running cluster while we read: its time is gone from the recording
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      let seg;
      try {
        seg = indexSegment({
          label: f.path,
          size: () => bytes.length,
          read: (p, l) => bytes.subarray(p, p + l),
        });
      } catch (e) {
        notes.push(`${(e as Error).message}; left out`);
        continue;
      }
      if (seg.damage)
        notes.push(
          `${f.path}: damaged at offset ${seg.damage.offset} (${seg.damage.reason}); copied up to there`,
        );
      const block = bytes.subarray(0, seg.end);
      const head = Buffer.alloc(FRAME_BYTES);
      head.writeUInt32BE(block.length, 0);
      head.writeUInt32BE(crc32c(block), 4);
      write(head);
      write(block);
      segments++;
      if (seg.first !== null) from = from === null ? seg.first : Math.min(from, seg.first);
      if (seg.last !== null) to = to === null ? seg.last : Math.max(to, seg.last);
    }
    fsyncSync(out);
  } catch (e) {
    closeSync(out);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(out);
  renameSync(tmp, file);
  return {
    segments,
    bytes: total,
    from,
    to,
    notes,
    line: `wrote ${segments} segment${segments === 1 ? '' : 's'}, ${mib(total)}, ${spanText(from, to)} to ${file}`,
  };
}

export { RecordingFormatError };
