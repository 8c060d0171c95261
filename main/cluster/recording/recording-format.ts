/**
 * recording-format: the bytes of a recording (docs/recording.md is the specification). All
 * integers are big-endian.
 *
 * A segment file `<seq:8 digits>.rdrec`:
 *   ['RDRECSEG'][u32 format version][header record][record]...
 * An export file (one file holding a whole recording):
 *   ['RDRECEXP'][u32 format version][header record][block]...
 * A record: [u32 payload length][u32 crc32c(payload)][payload: msgpack]. A block:
 * [u32 length][u32 crc32c(bytes)][bytes of one segment file].
 *
 * Record payloads are msgpack arrays [kind, time, ...]: KIND_KEYFRAME [1, t, view],
 * KIND_DELTA [2, t, delta against the previous view of the segment], KIND_EVENT [3, t, event],
 * KIND_MESSAGES [4, t, earliest trace time, traces as tuples (TRACE_FIELDS), skipped].
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { MessageTrace } from '../../contract/view';
import { crc32c } from '../../node/storage/crc32c';

export const SEGMENT_MAGIC = 'RDRECSEG';
export const EXPORT_MAGIC = 'RDRECEXP';
/** FORMAT_VERSION: the version written, and the only one read. */
export const FORMAT_VERSION = 1;
/** PREAMBLE_BYTES: the magic and the version in front of a file's header record. */
export const PREAMBLE_BYTES = 12;
/** FRAME_BYTES: the length and checksum in front of every record and block. */
export const FRAME_BYTES = 8;
/** MAX_HEADER_BYTES bounds a header record's payload. */
export const MAX_HEADER_BYTES = 4096;
/** MAX_RECORD_BYTES bounds a record's payload; a longer length field is damage. */
export const MAX_RECORD_BYTES = 16 << 20;
/** MAX_BLOCK_BYTES bounds an export block (a segment and the record that ended it). */
export const MAX_BLOCK_BYTES = 64 << 20;

export const KIND_KEYFRAME = 1;
export const KIND_DELTA = 2;
export const KIND_EVENT = 3;
export const KIND_MESSAGES = 4;

/**
 * TRACE_FIELDS: the order of a trace's fields in its tuple (a message record holds each trace as
 * an array of these, nil where a field is absent, trailing nils left out): a quarter of the bytes
 * of the same trace as a map.
 */
export const TRACE_FIELDS = [
  'seq',
  'time',
  'from',
  'to',
  'type',
  'term',
  'dir',
  'fate',
  'delayMs',
  'bytes',
  'index',
  'logTerm',
  'entries',
  'entryBytes',
  'commit',
  'reject',
  'hint',
  'snapOffset',
  'snapTotal',
  'done',
] as const satisfies readonly (keyof MessageTrace)[];

type MissingTraceField = Exclude<keyof MessageTrace, (typeof TRACE_FIELDS)[number]>;
/** A compile error here names a MessageTrace field missing from TRACE_FIELDS. */
export const TRACE_FIELDS_COMPLETE: [MissingTraceField] extends [never] ? true : MissingTraceField =
  true;

/** traceTuple: a trace as its tuple. */
export function traceTuple(t: MessageTrace): unknown[] {
  const rec = t as unknown as Record<string, unknown>;
  const out = TRACE_FIELDS.map((f) => rec[f] ?? null);
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return out;
}

/** traceOf: the trace a tuple holds, or null for something that is not one. */
export function traceOf(tuple: unknown): MessageTrace | null {
  if (!Array.isArray(tuple) || typeof tuple[1] !== 'number') return null;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < TRACE_FIELDS.length && i < tuple.length; i++)
    if (tuple[i] !== null && tuple[i] !== undefined) out[TRACE_FIELDS[i]!] = tuple[i];
  return out as unknown as MessageTrace;
}

/** SEGMENT_NAME: `<seq:8 digits>.rdrec`. */
export const SEGMENT_NAME = /^(\d{8})\.rdrec$/;
export const segmentName = (seq: number): string => `${String(seq).padStart(8, '0')}.rdrec`;

/**
 * SegmentHeader: the header record of a segment (`format` 'raftdeck-recording') or of an export
 * (`format` 'raftdeck-recording-export', `segment` 0). `created`: ms since the epoch.
 */
export interface SegmentHeader {
  format: string;
  version: number;
  clusterId: string;
  segment: number;
  created: number;
}

/** RecordingFormatError: bytes that are not what the format says (the message names where). */
export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

const encoder = new Encoder({ ignoreUndefined: true });

/**
 * decoder: the limits of anything read back; a payload is at most MAX_RECORD_BYTES, so none of
 * them lets a hostile file make the reader allocate more than that many times a small factor.
 */
const decoder = new Decoder({
  maxStrLength: 1 << 20,
  maxBinLength: 1 << 20,
  maxArrayLength: 1 << 20,
  maxMapLength: 1 << 16,
  maxExtLength: 0,
});

export function encodePayload(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** decodePayload decodes a record's msgpack payload; bad msgpack throws RecordingFormatError. */
export function decodePayload(bytes: Uint8Array, where: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new RecordingFormatError(
      `${where}: the record does not decode (${(e as Error).message})`,
    );
  }
}

/**
 * peekRecord reads a record's kind, time and (for a message batch) its earliest trace time from
 * the start of its payload without decoding the rest: the msgpack array header, a positive
 * fixint, then numbers. It returns null when the payload does not start that way (the caller
 * then decodes it whole).
 */
export function peekRecord(p: Uint8Array): { kind: number; time: number; min: number } | null {
  if (p.length < 3 || (p[0]! & 0xf0) !== 0x90 || (p[0]! & 0x0f) < 3 || p[1]! > 0x7f) return null;
  const kind = p[1]!;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const time = numberAt(view, 2);
  if (time === null) return null;
  if (kind !== KIND_MESSAGES) return { kind, time: time.value, min: time.value };
  const min = numberAt(view, 2 + time.size);
  if (min === null) return null;
  return { kind, time: time.value, min: min.value };
}

/** numberAt: the msgpack number at `at` and its encoded size, or null for anything else. */
function numberAt(v: DataView, at: number): { value: number; size: number } | null {
  if (at >= v.byteLength) return null;
  const b = v.getUint8(at);
  const room = v.byteLength - at;
  if (b <= 0x7f) return { value: b, size: 1 };
  if (b >= 0xe0) return { value: b - 0x100, size: 1 };
  const sized = (n: number, read: () => number): { value: number; size: number } | null =>
    room >= 1 + n ? { value: read(), size: 1 + n } : null;
  switch (b) {
    case 0xcb:
      return sized(8, () => v.getFloat64(at + 1));
    case 0xca:
      return sized(4, () => v.getFloat32(at + 1));
    case 0xcc:
      return sized(1, () => v.getUint8(at + 1));
    case 0xcd:
      return sized(2, () => v.getUint16(at + 1));
    case 0xce:
      return sized(4, () => v.getUint32(at + 1));
    case 0xcf:
      return sized(8, () => v.getUint32(at + 1) * 4294967296 + v.getUint32(at + 5));
    case 0xd0:
      return sized(1, () => v.getInt8(at + 1));
    case 0xd1:
      return sized(2, () => v.getInt16(at + 1));
    case 0xd2:
      return sized(4, () => v.getInt32(at + 1));
    case 0xd3:
      return sized(8, () => v.getInt32(at + 1) * 4294967296 + v.getUint32(at + 5));
    default:
      return null;
  }
}

/** frame: [u32 length][u32 crc32c][payload]. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32c(payload), 4);
  out.set(payload, FRAME_BYTES);
  return out;
}

/** preamble: the magic and the version. */
export function preamble(magic: string, version = FORMAT_VERSION): Buffer {
  const out = Buffer.alloc(PREAMBLE_BYTES);
  out.write(magic, 0, 'latin1');
  out.writeUInt32BE(version, 8);
  return out;
}

/** fileHeader: the preamble and the header record of a segment or an export. */
export function fileHeader(magic: string, header: SegmentHeader): Buffer {
  return Buffer.concat([preamble(magic, header.version), frame(encodePayload(header))]);
}

/**
 * parseFileHeader reads the preamble and header record at the start of `bytes` (at least the
 * first PREAMBLE_BYTES + FRAME_BYTES + MAX_HEADER_BYTES of the file, or all of it). It returns
 * the header and where the records begin; `where` names the file in errors. A file of another
 * format version says which version it is and which one this reader reads.
 */
export function parseFileHeader(
  bytes: Uint8Array,
  magic: string,
  where: string,
): { header: SegmentHeader; end: number } {
  if (bytes.length < PREAMBLE_BYTES + FRAME_BYTES)
    throw new RecordingFormatError(`${where}: too short to be a recording (${bytes.length} bytes)`);
  const got = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  if (got !== magic)
    throw new RecordingFormatError(
      `${where}: not a raftdeck recording ${magic === EXPORT_MAGIC ? 'export' : 'segment'} (it starts ${JSON.stringify(got)}, expected ${JSON.stringify(magic)})`,
    );
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.readUInt32BE(8);
  if (version !== FORMAT_VERSION)
    throw new RecordingFormatError(
      `${where} is recording format ${version}; this raftdeck reads format ${FORMAT_VERSION}`,
    );
  const len = view.readUInt32BE(PREAMBLE_BYTES);
  const crc = view.readUInt32BE(PREAMBLE_BYTES + 4);
  const start = PREAMBLE_BYTES + FRAME_BYTES;
  if (len > MAX_HEADER_BYTES || start + len > bytes.length)
    throw new RecordingFormatError(
      `${where}: the header record at offset ${PREAMBLE_BYTES} claims ${len} bytes (at most ${Math.min(MAX_HEADER_BYTES, bytes.length - start)})`,
    );
  const payload = bytes.subarray(start, start + len);
  if (crc32c(payload) !== crc)
    throw new RecordingFormatError(
      `${where}: the header record at offset ${PREAMBLE_BYTES} fails its checksum`,
    );
  const h = decodePayload(
    payload,
    `${where} at offset ${PREAMBLE_BYTES}`,
  ) as Partial<SegmentHeader>;
  if (
    typeof h !== 'object' ||
    h === null ||
    typeof h.format !== 'string' ||
    typeof h.clusterId !== 'string' ||
    !Number.isSafeInteger(h.segment) ||
    typeof h.created !== 'number'
  )
    throw new RecordingFormatError(`${where}: the header record is not a recording header`);
  return { header: { ...(h as SegmentHeader), version }, end: start + len };
}

/** clockOf: an instant as HH:MM:SS (local time), as the recording's notes name spans. */
export function clockOf(t: number): string {
  const d = new Date(t);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** spanText: "12:00:01–12:04:10", or "nothing recorded" for an empty span. */
export function spanText(from: number | null, to: number | null): string {
  if (from === null || to === null) return 'nothing recorded';
  return `${clockOf(from)}–${clockOf(to)}`;
}

/** mib: bytes in MiB for a person ("12.4 MiB"). */
export function mib(bytes: number): string {
  const v = bytes / (1 << 20);
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} MiB`;
}
