/**
 * codec encodes Raft messages as msgpack in a compact positional form and decodes them with strict
 * shape validation. docs/protocol.md ("Node to node protocol") is the normative description.
 *
 * Every message is one msgpack array whose first item is a numeric type code, followed by the
 * common header (from, to, term) and the type's own fields, in this order:
 *
 * | code | type          | fields after [code, from, to, term]                              |
 * | ---- | ------------- | ---------------------------------------------------------------- |
 * | 1    | app           | prevIndex, prevTerm, commit, entries                             |
 * | 2    | app-resp      | index, reject, hintIndex, hintTerm                               |
 * | 3    | vote          | lastIndex, lastTerm, transfer                                    |
 * | 4    | pre-vote      | lastIndex, lastTerm, transfer                                    |
 * | 5    | vote-resp     | reject                                                           |
 * | 6    | pre-vote-resp | reject                                                           |
 * | 7    | heartbeat     | commit, readSeq                                                  |
 * | 8    | heartbeat-resp | readSeq                                                          |
 * | 9    | snap          | meta, offset, total, data, done                                  |
 * | 10   | snap-resp     | snapIndex, nextOffset, gap, done                                 |
 * | 11   | timeout-now   | (none)                                                           |
 * | 12   | read-index    | ctx                                                              |
 * | 13   | read-index-resp | ctx, index, reject                                               |
 *
 * `entries` is one flat array of 4 items per entry: index, term, entry type (0 normal, 1 conf),
 * data (msgpack bin). `meta` is [index, term, [voters, learners, addresses]] where addresses is a
 * map from a node id in decimal to an address string. Payloads are always msgpack bin, never str.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import {
  MAX_RAFT_NUMBER,
  type ConfState,
  type Entry,
  type EntryType,
  type Message,
  type MessageType,
  type SnapshotMeta,
} from '../../raft/types';
import { FRAME_HEADER_BYTES, DEFAULT_MAX_FRAME_BYTES, type OutFrame } from './framing';
import { checkMsgpackStructure } from './msgpack-guard';

/** MESSAGE_TYPE_CODES maps each message type to its wire code. Codes are never reused. */
export const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = {
  app: 1,
  'app-resp': 2,
  vote: 3,
  'pre-vote': 4,
  'vote-resp': 5,
  'pre-vote-resp': 6,
  heartbeat: 7,
  'heartbeat-resp': 8,
  snap: 9,
  'snap-resp': 10,
  'timeout-now': 11,
  'read-index': 12,
  'read-index-resp': 13,
};

/** CODE_TO_TYPE is the inverse of MESSAGE_TYPE_CODES (index = code). */
const CODE_TO_TYPE: (MessageType | undefined)[] = [];
for (const [type, code] of Object.entries(MESSAGE_TYPE_CODES)) {
  CODE_TO_TYPE[code] = type as MessageType;
}

/** messageTypeOfCode: the message type of a wire code, or undefined for a code not in use. */
export function messageTypeOfCode(code: number): MessageType | undefined {
  return CODE_TO_TYPE[code];
}

/** MAX_MESSAGE_TYPE_CODE: the largest wire code in use (tables indexed by code have one more slot). */
export const MAX_MESSAGE_TYPE_CODE = CODE_TO_TYPE.length - 1;

/** MESSAGE_ARITY: the number of items in each message's array, type code included. */
const MESSAGE_ARITY: Readonly<Record<MessageType, number>> = {
  app: 8,
  'app-resp': 8,
  vote: 7,
  'pre-vote': 7,
  'vote-resp': 5,
  'pre-vote-resp': 5,
  heartbeat: 6,
  'heartbeat-resp': 5,
  snap: 9,
  'snap-resp': 8,
  'timeout-now': 4,
  'read-index': 5,
  'read-index-resp': 7,
};

/** ENTRY_TYPE_CODES maps an entry type to its wire code. */
export const ENTRY_TYPE_CODES: Readonly<Record<EntryType, number>> = { normal: 0, conf: 1 };
const ENTRY_CODE_TO_TYPE: readonly EntryType[] = ['normal', 'conf'];

/** ENTRY_WIRE_ITEMS: items per entry in the flat entries array. */
const ENTRY_WIRE_ITEMS = 4;

/** CodecLimits bounds what decodeMessage accepts. */
export interface CodecLimits {
  /** maxEntries: entries in one AppendEntries. */
  maxEntries: number;
  /** maxFrameBytes: also the largest binary (entry data, snapshot chunk) accepted. */
  maxFrameBytes: number;
  /** maxMembers: voters, learners and addresses in one ConfState. */
  maxMembers: number;
  /** maxAddressLength: bytes of one address string in ConfState.addresses. */
  maxAddressLength: number;
}

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = {
  maxEntries: 100_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxMembers: 1024,
  maxAddressLength: 256,
};

/** MAX_DEPTH: the deepest nesting any message has (snap -> meta -> conf -> voters) plus slack. */
const MAX_DEPTH = 6;

/** DIRECT_CHUNK_BYTES: snapshot chunks from this size on are written from the image (bin 32). */
const DIRECT_CHUNK_BYTES = 0x10000;
/** SNAP_DATA_FIELD: where a snap message's chunk is in its wire array (see toWire). */
const SNAP_DATA_FIELD = 7;
const EMPTY_BIN = new Uint8Array(0);

/** LARGE_PAYLOAD_BYTES: above this, a one-off Encoder is used so the shared one stays small. */
const LARGE_PAYLOAD_BYTES = 1024 * 1024;

const SHARED_ENCODER_BYTES = 64 * 1024;

/** MalformedMessageError: a body is not a valid message. `reason` says exactly why. */
export class MalformedMessageError extends Error {
  constructor(readonly reason: string) {
    super(`malformed message: ${reason}`);
    this.name = 'MalformedMessageError';
  }
}

/** UnknownMessageTypeError: a well-formed array whose type code this version does not know. */
export class UnknownMessageTypeError extends MalformedMessageError {
  constructor(readonly code: number) {
    super(`unknown message type code ${code}`);
    this.name = 'UnknownMessageTypeError';
  }
}

/**
 * MessageCodec encodes and decodes messages with one reused Encoder and Decoder. It is not
 * reentrant across the shared buffer: the result of encodeShared is valid until the next call.
 */
export class MessageCodec {
  readonly limits: Readonly<CodecLimits>;
  private readonly encoder = new Encoder({ initialBufferSize: SHARED_ENCODER_BYTES });
  private readonly decoder: Decoder;
  private readonly guardLimits;

  constructor(limits: Partial<CodecLimits> = {}) {
    this.limits = { ...DEFAULT_CODEC_LIMITS, ...limits };
    const maxArrayLength = Math.max(
      this.limits.maxEntries * ENTRY_WIRE_ITEMS,
      this.limits.maxMembers,
      16,
    );
    this.guardLimits = {
      maxDepth: MAX_DEPTH,
      maxArrayLength,
      maxMapLength: this.limits.maxMembers,
      maxStrLength: this.limits.maxAddressLength,
      maxBinLength: this.limits.maxFrameBytes,
    };
    this.decoder = new Decoder({
      maxStrLength: this.limits.maxAddressLength,
      maxBinLength: this.limits.maxFrameBytes,
      maxArrayLength,
      maxMapLength: this.limits.maxMembers,
      maxExtLength: 0,
      mapKeyConverter: stringKeyOnly,
    });
  }

  /** encode returns the body of `m` in a new buffer. */
  encode(m: Message): Uint8Array {
    return this.encodeShared(m).slice();
  }

  /**
   * encodeShared returns the body of `m`. The bytes may live in the codec's reused buffer: they
   * are valid only until the next encode call.
   */
  encodeShared(m: Message): Uint8Array {
    const wire = toWire(m);
    const payload = payloadBytes(m);
    if (payload > LARGE_PAYLOAD_BYTES) {
      return new Encoder({ initialBufferSize: payload + 4096 }).encodeSharedRef(wire);
    }
    return this.encoder.encodeSharedRef(wire);
  }

  /** encodeFrame returns `m` as a complete frame: 4-byte big-endian body length, then the body. */
  encodeFrame(m: Message): Buffer {
    const body = this.encodeShared(m);
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
    frame.writeUInt32BE(body.length, 0);
    frame.set(body, FRAME_HEADER_BYTES);
    return frame;
  }

  /**
   * encodeOutFrame is encodeFrame for the transport's queue: a snapshot chunk of at least
   * DIRECT_CHUNK_BYTES leaves as three parts (length, fields and bin header; the chunk itself, a
   * view of the image; the last field), byte for byte the frame encodeFrame makes, without the
   * two copies of the chunk that would take (into the encoder, then into the frame). The image
   * must not change until the frame is written; a snapshot image never changes once made.
   */
  encodeOutFrame(m: Message): OutFrame {
    if (m.type !== 'snap' || m.data.length < DIRECT_CHUNK_BYTES) return this.encodeFrame(m);
    const wire = toWire(m);
    wire[SNAP_DATA_FIELD] = EMPTY_BIN;
    const small = this.encoder.encodeSharedRef(wire);
    // The empty bin (c4 00) and `done` (c2 or c3), the field after it, end the encoding.
    const prefix = small.length - 3;
    if (small[prefix] !== 0xc4 || small[prefix + 1] !== 0 || (small[prefix + 2] & 0xfe) !== 0xc2) {
      return this.encodeFrame(m);
    }
    const n = m.data.length;
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + prefix + 5);
    head.writeUInt32BE(prefix + 5 + n + 1, 0);
    head.set(small.subarray(0, prefix), FRAME_HEADER_BYTES);
    head[FRAME_HEADER_BYTES + prefix] = 0xc6; // bin 32: the form any encoder uses past 64 KiB
    head.writeUInt32BE(n, FRAME_HEADER_BYTES + prefix + 1);
    return [head, m.data, Buffer.of(small[prefix + 2])];
  }

  /**
   * decode parses and validates one message body. Binary fields of the result (entry data,
   * snapshot chunk data) are views into `body`, which must therefore not be modified afterwards.
   * Throws MalformedMessageError (UnknownMessageTypeError for an unknown type code).
   */
  decode(body: Uint8Array): Message {
    const problem = checkMsgpackStructure(body, this.guardLimits);
    if (problem !== undefined) throw new MalformedMessageError(problem);
    let value: unknown;
    try {
      // A plain Uint8Array view, so decoded binaries are Uint8Array (not Buffer) views of `body`.
      const bytes =
        body.constructor === Uint8Array
          ? body
          : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      value = this.decoder.decode(bytes);
    } catch (e) {
      throw new MalformedMessageError(`msgpack: ${(e as Error).message}`);
    }
    return fromWire(value, this.limits);
  }
}

function stringKeyOnly(key: unknown): string {
  if (typeof key === 'string') return key;
  throw new MalformedMessageError(`map key must be a string, got ${describe(key)}`);
}

const defaultCodec = new MessageCodec();

/** encodeMessage returns the msgpack body of `m` (a new buffer) using the default limits. */
export function encodeMessage(m: Message): Uint8Array {
  return defaultCodec.encode(m);
}

/** decodeMessage parses and strictly validates one body using the default limits. */
export function decodeMessage(body: Uint8Array): Message {
  return defaultCodec.decode(body);
}

function payloadBytes(m: Message): number {
  if (m.type === 'snap') return m.data.length;
  if (m.type !== 'app') return 0;
  let n = 0;
  const es = m.entries;
  for (let i = 0; i < es.length; i++) n += es[i].data.length;
  return n;
}

function entryTypeCode(t: EntryType): number {
  if (t === 'normal') return 0;
  if (t === 'conf') return 1;
  throw new TypeError(`unknown entry type ${String(t)}`);
}

function confToWire(c: ConfState): unknown[] {
  return [c.voters, c.learners, c.addresses];
}

/** MAX_SNAPSHOT_BYTES: the largest snapshot image a follower will make room for (4 GiB - 1). */
export const MAX_SNAPSHOT_BYTES = 2 ** 32 - 1;

/** toWire builds the positional array of `m`; entry data is passed through, never copied. */
function toWire(m: Message): unknown[] {
  switch (m.type) {
    case 'app': {
      const es = m.entries;
      const flat = new Array<unknown>(es.length * ENTRY_WIRE_ITEMS);
      for (let i = 0, j = 0; i < es.length; i++, j += ENTRY_WIRE_ITEMS) {
        const e = es[i];
        flat[j] = e.index;
        flat[j + 1] = e.term;
        flat[j + 2] = entryTypeCode(e.type);
        flat[j + 3] = e.data;
      }
      return [1, m.from, m.to, m.term, m.prevIndex, m.prevTerm, m.commit, flat];
    }
    case 'app-resp':
      return [2, m.from, m.to, m.term, m.index, m.reject, m.hintIndex, m.hintTerm];
    case 'vote':
    case 'pre-vote':
      return [
        MESSAGE_TYPE_CODES[m.type],
        m.from,
        m.to,
        m.term,
        m.lastIndex,
        m.lastTerm,
        m.transfer,
      ];
    case 'vote-resp':
    case 'pre-vote-resp':
      return [MESSAGE_TYPE_CODES[m.type], m.from, m.to, m.term, m.reject];
    case 'heartbeat':
      return [7, m.from, m.to, m.term, m.commit, m.readSeq];
    case 'heartbeat-resp':
      return [8, m.from, m.to, m.term, m.readSeq];
    case 'snap':
      return [
        9,
        m.from,
        m.to,
        m.term,
        [m.meta.index, m.meta.term, confToWire(m.meta.conf)],
        m.offset,
        m.total,
        m.data,
        m.done,
      ];
    case 'snap-resp':
      return [10, m.from, m.to, m.term, m.snapIndex, m.nextOffset, m.gap, m.done];
    case 'timeout-now':
      return [11, m.from, m.to, m.term];
    case 'read-index':
      return [12, m.from, m.to, m.term, m.ctx];
    case 'read-index-resp':
      return [13, m.from, m.to, m.term, m.ctx, m.index, m.reject];
    default:
      throw new TypeError(`unknown message type ${String((m as { type: unknown }).type)}`);
  }
}

/** describe renders a decoded value briefly for an error reason. */
function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') {
    return `string ${JSON.stringify(v.length > 32 ? `${v.slice(0, 32)}...` : v)}`;
  }
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (v instanceof Uint8Array) return `binary of ${v.length} bytes`;
  if (Array.isArray(v)) return `array of ${v.length} items`;
  if (typeof v === 'object') return 'map';
  return typeof v;
}

function fail(field: string, expected: string, v: unknown): never {
  throw new MalformedMessageError(`${field} must be ${expected}, got ${describe(v)}`);
}

const UINT = 'a non-negative safe integer';

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** uint checks a non-negative safe integer (id, offset, size, counter). */
function uint(v: unknown, field: string): number {
  if (isUint(v)) return v;
  return fail(field, UINT, v);
}

const RAFT_NUMBER = `an integer in 0..2^52 (MAX_RAFT_NUMBER)`;

function isRaftNumber(v: unknown): v is number {
  return isUint(v) && v <= MAX_RAFT_NUMBER;
}

/**
 * raftNumber checks a term, an index (commit, hint, snapshot index) or a read tag: at most
 * MAX_RAFT_NUMBER, so that it can always be incremented without leaving the safe integers.
 */
function raftNumber(v: unknown, field: string): number {
  if (isRaftNumber(v)) return v;
  return fail(field, RAFT_NUMBER, v);
}

function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  return fail(field, 'a boolean', v);
}

function bin(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return fail(field, 'binary', v);
}

function arr(v: unknown, field: string): unknown[] {
  if (Array.isArray(v)) return v;
  return fail(field, 'an array', v);
}

function ids(v: unknown, field: string, limits: CodecLimits): number[] {
  const a = arr(v, field);
  if (a.length > limits.maxMembers) {
    throw new MalformedMessageError(
      `${field} has ${a.length} ids, more than the limit of ${limits.maxMembers}`,
    );
  }
  for (let i = 0; i < a.length; i++) uint(a[i], `${field}[${i}]`);
  return a as number[];
}

const DECIMAL_ID = /^(0|[1-9][0-9]{0,15})$/;

function confFromWire(v: unknown, field: string, limits: CodecLimits): ConfState {
  const a = arr(v, field);
  if (a.length !== 3) {
    throw new MalformedMessageError(`${field} must have 3 items, got ${a.length}`);
  }
  const voters = ids(a[0], `${field}.voters`, limits);
  const learners = ids(a[1], `${field}.learners`, limits);
  const raw = a[2];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) {
    fail(`${field}.addresses`, 'a map', raw);
  }
  const addresses: Record<string, string> = {};
  let n = 0;
  for (const [key, value] of Object.entries(raw)) {
    if (++n > limits.maxMembers) {
      throw new MalformedMessageError(
        `${field}.addresses has more than the limit of ${limits.maxMembers} entries`,
      );
    }
    if (!DECIMAL_ID.test(key) || !Number.isSafeInteger(Number(key))) {
      fail(`${field}.addresses key`, 'a node id in decimal', key);
    }
    // The msgpack guard already bounds every string by maxAddressLength bytes.
    if (typeof value !== 'string') fail(`${field}.addresses[${key}]`, 'a string', value);
    addresses[key] = value;
  }
  return { voters, learners, addresses };
}

function metaFromWire(v: unknown, limits: CodecLimits): SnapshotMeta {
  const a = arr(v, 'snap.meta');
  if (a.length !== 3) {
    throw new MalformedMessageError(`snap.meta must have 3 items, got ${a.length}`);
  }
  return {
    index: raftNumber(a[0], 'snap.meta.index'),
    term: raftNumber(a[1], 'snap.meta.term'),
    conf: confFromWire(a[2], 'snap.meta.conf', limits),
  };
}

function entriesFromWire(
  v: unknown,
  prevIndex: number,
  prevTerm: number,
  term: number,
  limits: CodecLimits,
): Entry[] {
  const flat = arr(v, 'app.entries');
  if (flat.length % ENTRY_WIRE_ITEMS !== 0) {
    throw new MalformedMessageError(
      `app.entries must hold 4 items per entry, got ${flat.length} items`,
    );
  }
  const n = flat.length / ENTRY_WIRE_ITEMS;
  if (n > limits.maxEntries) {
    throw new MalformedMessageError(
      `app.entries has ${n} entries, more than the limit of ${limits.maxEntries}`,
    );
  }
  const entries = new Array<Entry>(n);
  let lastTerm = prevTerm;
  for (let i = 0, j = 0; i < n; i++, j += ENTRY_WIRE_ITEMS) {
    // Field names are built only on failure: this loop is on the hot path.
    const index = flat[j];
    const t = flat[j + 1];
    const code = flat[j + 2];
    const data = flat[j + 3];
    if (!isRaftNumber(index)) fail(`app.entries[${i}].index`, RAFT_NUMBER, index);
    if (!isRaftNumber(t)) fail(`app.entries[${i}].term`, RAFT_NUMBER, t);
    if (code !== 0 && code !== 1) fail(`app.entries[${i}].type`, '0 (normal) or 1 (conf)', code);
    if (!(data instanceof Uint8Array)) fail(`app.entries[${i}].data`, 'binary', data);
    if (index !== prevIndex + 1 + i) {
      throw new MalformedMessageError(
        `app.entries[${i}].index is ${index}, expected ${prevIndex + 1 + i} (entries follow prevIndex without gaps)`,
      );
    }
    if (t < lastTerm || t > term) {
      throw new MalformedMessageError(
        `app.entries[${i}].term is ${t}, expected between ${lastTerm} and the message term ${term}`,
      );
    }
    lastTerm = t;
    entries[i] = { index, term: t, type: ENTRY_CODE_TO_TYPE[code], data };
  }
  return entries;
}

/** fromWire validates a decoded value and builds the message it describes. */
function fromWire(v: unknown, limits: CodecLimits): Message {
  if (!Array.isArray(v)) fail('message', 'an array', v);
  if (v.length === 0) throw new MalformedMessageError('message array is empty');
  const code = uint(v[0], 'message type code');
  const type = CODE_TO_TYPE[code];
  if (type === undefined) throw new UnknownMessageTypeError(code);
  if (v.length !== MESSAGE_ARITY[type]) {
    throw new MalformedMessageError(
      `${type} must have ${MESSAGE_ARITY[type]} items, got ${v.length}`,
    );
  }
  const from = v[1];
  const to = v[2];
  const term = v[3];
  if (!isUint(from)) fail(`${type}.from`, UINT, from);
  if (!isUint(to)) fail(`${type}.to`, UINT, to);
  if (!isRaftNumber(term)) fail(`${type}.term`, RAFT_NUMBER, term);
  switch (type) {
    case 'app': {
      const prevIndex = raftNumber(v[4], 'app.prevIndex');
      const prevTerm = raftNumber(v[5], 'app.prevTerm');
      const commit = raftNumber(v[6], 'app.commit');
      if (prevTerm > term) {
        throw new MalformedMessageError(
          `app.prevTerm ${prevTerm} is greater than the message term ${term}`,
        );
      }
      const entries = entriesFromWire(v[7], prevIndex, prevTerm, term, limits);
      return { type, from, to, term, prevIndex, prevTerm, entries, commit };
    }
    case 'app-resp':
      return {
        type,
        from,
        to,
        term,
        index: raftNumber(v[4], 'app-resp.index'),
        reject: bool(v[5], 'app-resp.reject'),
        hintIndex: raftNumber(v[6], 'app-resp.hintIndex'),
        hintTerm: raftNumber(v[7], 'app-resp.hintTerm'),
      };
    case 'vote':
    case 'pre-vote':
      return {
        type,
        from,
        to,
        term,
        lastIndex: raftNumber(v[4], `${type}.lastIndex`),
        lastTerm: raftNumber(v[5], `${type}.lastTerm`),
        transfer: bool(v[6], `${type}.transfer`),
      };
    case 'vote-resp':
    case 'pre-vote-resp':
      return { type, from, to, term, reject: bool(v[4], `${type}.reject`) };
    case 'heartbeat':
      return {
        type,
        from,
        to,
        term,
        commit: raftNumber(v[4], 'heartbeat.commit'),
        readSeq: uint(v[5], 'heartbeat.readSeq'),
      };
    case 'heartbeat-resp':
      return { type, from, to, term, readSeq: uint(v[4], 'heartbeat-resp.readSeq') };
    case 'snap': {
      const meta = metaFromWire(v[4], limits);
      const offset = uint(v[5], 'snap.offset');
      const total = uint(v[6], 'snap.total');
      const data = bin(v[7], 'snap.data');
      const done = bool(v[8], 'snap.done');
      if (total > MAX_SNAPSHOT_BYTES) {
        throw new MalformedMessageError(
          `snap.total of ${total} bytes exceeds the ${MAX_SNAPSHOT_BYTES}-byte limit of a snapshot`,
        );
      }
      if (offset + data.length > total) {
        throw new MalformedMessageError(
          `snap chunk [${offset}, ${offset + data.length}) runs past the snapshot total of ${total} bytes`,
        );
      }
      if (done && offset + data.length !== total) {
        throw new MalformedMessageError(
          `snap chunk [${offset}, ${offset + data.length}) is marked done but the snapshot has ${total} bytes`,
        );
      }
      return { type, from, to, term, meta, offset, total, data, done };
    }
    case 'snap-resp':
      return {
        type,
        from,
        to,
        term,
        snapIndex: raftNumber(v[4], 'snap-resp.snapIndex'),
        nextOffset: uint(v[5], 'snap-resp.nextOffset'),
        gap: bool(v[6], 'snap-resp.gap'),
        done: bool(v[7], 'snap-resp.done'),
      };
    case 'timeout-now':
      return { type, from, to, term };
    case 'read-index':
      return { type, from, to, term, ctx: raftNumber(v[4], 'read-index.ctx') };
    case 'read-index-resp':
      return {
        type,
        from,
        to,
        term,
        ctx: raftNumber(v[4], 'read-index-resp.ctx'),
        index: raftNumber(v[5], 'read-index-resp.index'),
        reject: bool(v[6], 'read-index-resp.reject'),
      };
  }
}
