import { Decoder, Encoder } from '@msgpack/msgpack';

/** KvOp is one state-machine command; every write carries the client's id and sequence number. */
export type KvOp =
  | { op: 'put'; key: string; value: Uint8Array }
  | { op: 'del'; key: string }
  /** cas sets value only if the key currently holds `expected` (null: the key must be absent). */
  | { op: 'cas'; key: string; expected: Uint8Array | null; value: Uint8Array };

export interface KvCommand {
  clientId: string;
  seq: number;
  cmd: KvOp;
}

/** KvResult is what applying a command produced; a duplicate (retried) command gets the first result again. */
export type KvResult =
  | { ok: true; prev: Uint8Array | null }
  | { ok: false; error: 'cas-mismatch'; current: Uint8Array | null }
  | { ok: false; error: 'stale-request'; detail: string };

interface Session {
  seq: number;
  result: KvResult;
  /** index: the log index of the client's last applied command (sessions are evicted oldest-first). */
  index: number;
}

const OP_PUT = 1;
const OP_DEL = 2;
const OP_CAS = 3;
const FORMAT = 1;

const encoder = new Encoder({ ignoreUndefined: true });
const MAX_STR = 1 << 20;
const MAX_BIN = 64 << 20;
const decoder = new Decoder({
  maxStrLength: MAX_STR,
  maxBinLength: MAX_BIN,
  maxArrayLength: 1 << 24,
  maxMapLength: 1 << 20,
});

/** encodeCommand writes a command as an entry payload: [format, clientId, seq, opcode, key, value, expected]. */
export function encodeCommand(c: KvCommand): Uint8Array {
  const k = c.cmd;
  switch (k.op) {
    case 'put':
      return encoder.encode([FORMAT, c.clientId, c.seq, OP_PUT, k.key, k.value]);
    case 'del':
      return encoder.encode([FORMAT, c.clientId, c.seq, OP_DEL, k.key]);
    case 'cas':
      return encoder.encode([FORMAT, c.clientId, c.seq, OP_CAS, k.key, k.value, k.expected]);
  }
}

/** decodeCommand parses an entry payload; it throws a descriptive error on anything malformed. */
export function decodeCommand(data: Uint8Array): KvCommand {
  return reader.read(data) ?? slowDecodeCommand(data);
}

/**
 * CommandReader parses the msgpack that encodeCommand writes, without the general decoder: it
 * runs once per entry applied (a million times on a restart with a long log). It answers
 * undefined for anything outside that exact shape, and decodeCommand then takes the general
 * decoder, which gives the same result or the descriptive error.
 */
class CommandReader {
  private d: Uint8Array = new Uint8Array(0);
  /**
   * buf: a Buffer over the whole of d's ArrayBuffer, for native UTF-8 decoding (base: d's offset
   * in it). Entries replayed from the WAL share their segment's buffer, so it is made once per
   * segment rather than once per entry.
   */
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  private p = 0;
  /** The last client id read: consecutive entries mostly share it, so its string is reused. */
  private lastId = '';
  private lastIdBytes = new Uint8Array(0);

  read(data: Uint8Array): KvCommand | undefined {
    this.d = data;
    if (this.buf.buffer !== data.buffer) this.buf = Buffer.from(data.buffer);
    this.base = data.byteOffset - this.buf.byteOffset;
    this.p = 0;
    const n = data.length > 0 ? data[0]! - 0x90 : -1;
    if (n < 5 || n > 7) return undefined;
    this.p = 1;
    if (this.uint() !== FORMAT) return undefined;
    const clientId = this.str(true);
    const seq = this.uint();
    const op = this.uint();
    const key = this.str(false);
    if (clientId === undefined || seq === undefined || key === undefined) return undefined;
    let cmd: KvOp;
    if (op === OP_DEL && n === 5) {
      cmd = { op: 'del', key };
    } else if (op === OP_PUT && n === 6) {
      const value = this.bin();
      if (value === undefined) return undefined;
      cmd = { op: 'put', key, value };
    } else if (op === OP_CAS && n === 7) {
      const value = this.bin();
      const expected = this.d[this.p] === 0xc0 ? (this.p++, null) : this.bin();
      if (value === undefined || expected === undefined) return undefined;
      cmd = { op: 'cas', key, value, expected };
    } else {
      return undefined;
    }
    return this.p === data.length ? { clientId, seq, cmd } : undefined;
  }

  private uint(): number | undefined {
    const d = this.d;
    const p = this.p;
    const t = d[p];
    if (t === undefined) return undefined;
    if (t < 0x80) {
      this.p = p + 1;
      return t;
    }
    const left = d.length - p;
    if (t === 0xcc && left >= 2) {
      this.p = p + 2;
      return d[p + 1];
    }
    if (t === 0xcd && left >= 3) {
      this.p = p + 3;
      return (d[p + 1]! << 8) | d[p + 2]!;
    }
    if (t === 0xce && left >= 5) {
      this.p = p + 5;
      return ((d[p + 1]! << 24) | (d[p + 2]! << 16) | (d[p + 3]! << 8) | d[p + 4]!) >>> 0;
    }
    if (t === 0xcf && left >= 9) {
      // Client sequence numbers start from a clock reading: past 32 bits, within 53.
      const hi = ((d[p + 1]! << 24) | (d[p + 2]! << 16) | (d[p + 3]! << 8) | d[p + 4]!) >>> 0;
      const lo = ((d[p + 5]! << 24) | (d[p + 6]! << 16) | (d[p + 7]! << 8) | d[p + 8]!) >>> 0;
      if (hi > 0x1fffff) return undefined;
      this.p = p + 9;
      return hi * 0x100000000 + lo;
    }
    return undefined;
  }

  /** len reads the length after a str/bin header of `size` bytes at p + 1. */
  private len(size: number): number | undefined {
    const d = this.d;
    const p = this.p;
    if (d.length - p < 1 + size) return undefined;
    this.p = p + 1 + size;
    if (size === 1) return d[p + 1];
    if (size === 2) return (d[p + 1]! << 8) | d[p + 2]!;
    return ((d[p + 1]! << 24) | (d[p + 2]! << 16) | (d[p + 3]! << 8) | d[p + 4]!) >>> 0;
  }

  private str(isClientId: boolean): string | undefined {
    const t = this.d[this.p];
    let n: number | undefined;
    if (t === undefined) return undefined;
    if (t >= 0xa0 && t <= 0xbf) {
      n = t - 0xa0;
      this.p++;
    } else if (t === 0xd9) n = this.len(1);
    else if (t === 0xda) n = this.len(2);
    else if (t === 0xdb) n = this.len(4);
    if (n === undefined || n > MAX_STR || this.d.length - this.p < n) return undefined;
    const at = this.p;
    this.p += n;
    const d = this.d;
    if (isClientId) {
      const last = this.lastIdBytes;
      if (last.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (last[i] !== d[at + i]) {
            same = false;
            break;
          }
        }
        if (same) return this.lastId;
      }
    }
    const s = this.buf.toString('utf8', this.base + at, this.base + at + n);
    if (isClientId) {
      this.lastId = s;
      this.lastIdBytes = d.slice(at, at + n);
    }
    return s;
  }

  private bin(): Uint8Array | undefined {
    const t = this.d[this.p];
    let n: number | undefined;
    if (t === 0xc4) n = this.len(1);
    else if (t === 0xc5) n = this.len(2);
    else if (t === 0xc6) n = this.len(4);
    if (n === undefined || n > MAX_BIN || this.d.length - this.p < n) return undefined;
    const at = this.p;
    this.p += n;
    return this.d.subarray(at, at + n);
  }
}

const reader = new CommandReader();

function slowDecodeCommand(data: Uint8Array): KvCommand {
  const v = decoder.decode(data) as unknown[];
  if (!Array.isArray(v) || v[0] !== FORMAT) throw new Error('kv: unknown command format');
  const [, clientId, seq, op, key, value, expected] = v;
  if (typeof clientId !== 'string' || typeof key !== 'string')
    throw new Error('kv: malformed command');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw new Error('kv: bad sequence number');
  const bin = (x: unknown): Uint8Array => {
    if (!(x instanceof Uint8Array)) throw new Error('kv: value is not binary');
    return x;
  };
  switch (op) {
    case OP_PUT:
      return { clientId, seq, cmd: { op: 'put', key, value: bin(value) } };
    case OP_DEL:
      return { clientId, seq, cmd: { op: 'del', key } };
    case OP_CAS:
      return {
        clientId,
        seq,
        cmd: {
          op: 'cas',
          key,
          value: bin(value),
          expected: expected === null || expected === undefined ? null : bin(expected),
        },
      };
    default:
      throw new Error(`kv: unknown opcode ${String(op)}`);
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * KvState is the replicated key-value map. apply() must be called with committed entries in log
 * order on every replica; it is deterministic, including session eviction, so every replica
 * holds the same map and the same duplicate-detection table at every index.
 */
export class KvState {
  /**
   * map: the keys set since the state was restored (all of them, for a state never restored).
   * base: the pairs of the snapshot image the state was restored from, left in the image; a key
   * of the base that is set or deleted moves out of it (into the map, or nowhere). A key is in
   * one of the two at most.
   */
  private readonly map = new Map<string, Uint8Array>();
  private base: ImageBase | undefined;
  private readonly sessions = new Map<string, Session>();
  /**
   * cow: while a snapshot job runs, the value each key had at the job's index (null: absent), for
   * the keys changed since. The job reads the map through it, so applying goes on meanwhile.
   */
  private cow: Map<string, Uint8Array | null> | undefined;
  /** lastClient: the client whose session was applied last (the newest in the sessions' order). */
  private lastClient: string | undefined;
  /** bytes: total key + value bytes held. */
  bytes = 0;
  appliedIndex = 0;

  constructor(private readonly maxSessions = 10_000) {}

  get size(): number {
    return this.map.size + (this.base?.live ?? 0);
  }

  get(key: string): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v !== undefined || this.base === undefined) return v;
    return this.base.get(key);
  }

  keys(): IterableIterator<string> {
    const base = this.base;
    if (base === undefined) return this.map.keys();
    const map = this.map;
    return (function* () {
      yield* map.keys();
      yield* base.keys();
    })();
  }

  /** apply executes the command in the entry at `index` (a retried command is applied once). */
  apply(index: number, c: KvCommand): KvResult {
    this.appliedIndex = index;
    const s = this.sessions.get(c.clientId);
    if (s && c.seq <= s.seq) {
      if (c.seq === s.seq) return s.result;
      return {
        ok: false,
        error: 'stale-request',
        detail: `sequence ${c.seq} is older than ${s.seq}`,
      };
    }
    const result = this.execute(c.cmd);
    if (s && this.lastClient === c.clientId) {
      // Already the most recently applied session: update it where it stands in the order.
      s.seq = c.seq;
      s.result = result;
      s.index = index;
      return result;
    }
    if (s) this.sessions.delete(c.clientId); // re-insert so Map order is least-recently-applied first
    this.sessions.set(c.clientId, { seq: c.seq, result, index });
    this.lastClient = c.clientId;
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    return result;
  }

  /** skip records that the entry at index carried no command (a no-op or a config change). */
  skip(index: number): void {
    this.appliedIndex = index;
  }

  private execute(k: KvOp): KvResult {
    const prev = this.get(k.key) ?? null;
    switch (k.op) {
      case 'put':
        this.set(k.key, prev, k.value);
        return { ok: true, prev };
      case 'del':
        if (prev !== null) {
          this.touch(k.key, prev);
          if (!this.map.delete(k.key)) this.takeFromBase(k.key);
          this.bytes -= k.key.length + prev.length;
        }
        return { ok: true, prev };
      case 'cas':
        if (!sameBytes(prev, k.expected))
          return { ok: false, error: 'cas-mismatch', current: prev };
        this.set(k.key, prev, k.value);
        return { ok: true, prev };
    }
  }

  private set(key: string, prev: Uint8Array | null, value: Uint8Array): void {
    this.touch(key, prev);
    this.bytes += value.length - (prev ? prev.length : -key.length);
    if (this.base !== undefined && !this.map.has(key)) this.takeFromBase(key);
    this.map.set(key, value);
  }

  /** takeFromBase moves a key out of the base (if it is there); an empty base is let go. */
  private takeFromBase(key: string): void {
    const base = this.base;
    if (base === undefined) return;
    base.take(key);
    if (base.live === 0) this.base = undefined;
  }

  /**
   * touch keeps a key's value as of the running snapshot job's index before it first changes. A
   * key absent then is not in the job's list and is never looked up, so it needs no entry.
   */
  private touch(key: string, prev: Uint8Array | null): void {
    const cow = this.cow;
    if (cow !== undefined && prev !== null && !cow.has(key)) cow.set(key, prev);
  }

  /**
   * startSnapshot begins encoding the state as of now (appliedIndex) in steps, so that a large
   * state does not stop the node while it is written: apply() may run between steps. At most one
   * job runs at a time; a new one aborts the old. The image is
   * [format, appliedIndex, [key, value, ...], [clientId, seq, index, result, ...]] in msgpack.
   */
  startSnapshot(): KvSnapshotJob {
    this.cow = new Map();
    return new KvSnapshotJob(this, this.map, this.cow, this.sessions, this.bytes, this.base);
  }

  /** endSnapshot stops copy-on-write bookkeeping for `cow` (a finished or abandoned job). */
  endSnapshot(cow: Map<string, Uint8Array | null>): void {
    if (this.cow === cow) this.cow = undefined;
  }

  /** snapshot encodes the whole state at once (see startSnapshot for the image). */
  snapshot(): Uint8Array {
    const job = this.startSnapshot();
    for (;;) {
      const image = job.step(Infinity);
      if (image) return image;
    }
  }

  /**
   * restore replaces the whole state with a snapshot image. An image as KvSnapshotJob writes it
   * is not unpacked: its pairs stay where they are and are found through an index of their
   * keys (ImageBase), so that a large state is restored in a fraction of the time building a map
   * of it takes, and holds no object per key. Any other encoding goes through the general
   * decoder, which also gives the error for a malformed image.
   */
  static restore(data: Uint8Array, maxSessions = 10_000): KvState {
    const st = new KvState(maxSessions);
    const image = readImage(data);
    if (image !== undefined) {
      st.appliedIndex = image.index;
      st.bytes = image.base.bytes;
      if (image.base.live > 0) st.base = image.base;
      st.restoreSessions(image.sessions);
      return st;
    }
    const v = new Decoder({ maxBinLength: 1 << 30, maxArrayLength: 1 << 28 }).decode(
      data,
    ) as unknown[];
    if (!Array.isArray(v) || v[0] !== FORMAT || !Array.isArray(v[2]) || !Array.isArray(v[3])) {
      throw new Error('kv: malformed snapshot image');
    }
    st.appliedIndex = v[1] as number;
    const kv = v[2] as unknown[];
    for (let i = 0; i < kv.length; i += 2) st.set(kv[i] as string, null, kv[i + 1] as Uint8Array);
    st.restoreSessions(v[3] as unknown[]);
    return st;
  }

  /** restoreSessions adds an image's sessions: [clientId, seq, index, result, ...]. */
  private restoreSessions(ss: unknown[]): void {
    for (let i = 0; i < ss.length; i += 4) {
      this.sessions.set(ss[i] as string, {
        seq: ss[i + 1] as number,
        index: ss[i + 2] as number,
        result: decodeResult(ss[i + 3] as unknown[]),
      });
    }
  }
}

/** fnv1a: the 32-bit FNV-1a hash of bytes d[from, to). */
function fnv1a(d: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return h;
}

/**
 * hashKey: fnv1a of the UTF-8 bytes of `key`. For a key that is not ASCII those bytes are left in
 * keyBytes (undefined after an ASCII key): lookups run once per command applied, so they
 * allocate nothing for the common case.
 */
let keyBytes: Buffer | undefined;
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      keyBytes = Buffer.from(key, 'utf8');
      return fnv1a(keyBytes, 0, keyBytes.length);
    }
    h = Math.imul(h ^ c, 0x01000193);
  }
  keyBytes = undefined;
  return h;
}

/**
 * strHead: the size of the header of the msgpack str at d[p] (1, 2, 3 or 5 bytes), for a str an
 * ImageBase has checked; strLen: its length.
 */
function strHead(t: number): number {
  return t <= 0xbf ? 1 : t === 0xd9 ? 2 : t === 0xda ? 3 : 5;
}
function strLen(d: Uint8Array, p: number): number {
  const t = d[p]!;
  if (t <= 0xbf) return t - 0xa0;
  if (t === 0xd9) return d[p + 1]!;
  if (t === 0xda) return (d[p + 1]! << 8) | d[p + 2]!;
  return readU32(d, p + 1);
}
/** binHead and binLen: the same for a bin (c4, c5, c6). */
function binHead(t: number): number {
  return t === 0xc4 ? 2 : t === 0xc5 ? 3 : 5;
}
function binLen(d: Uint8Array, p: number): number {
  const t = d[p]!;
  if (t === 0xc4) return d[p + 1]!;
  if (t === 0xc5) return (d[p + 1]! << 8) | d[p + 2]!;
  return readU32(d, p + 1);
}

function readU32(d: Uint8Array, p: number): number {
  return ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
}

/**
 * itemAt reads the header of a msgpack str (key) or bin (value) at p: [payload start, length],
 * or undefined if there is none that fits in d.
 */
function itemAt(d: Uint8Array, p: number, str: boolean): [number, number] | undefined {
  const t = d[p];
  const left = d.length - p;
  let head: number;
  let len: number;
  if (t === undefined) return undefined;
  if (str && t >= 0xa0 && t <= 0xbf) {
    head = 1;
    len = t - 0xa0;
  } else if (left >= 2 && t === (str ? 0xd9 : 0xc4)) {
    head = 2;
    len = d[p + 1]!;
  } else if (left >= 3 && t === (str ? 0xda : 0xc5)) {
    head = 3;
    len = (d[p + 1]! << 8) | d[p + 2]!;
  } else if (left >= 5 && t === (str ? 0xdb : 0xc6)) {
    head = 5;
    len = readU32(d, p + 1);
  } else {
    return undefined;
  }
  if (left < head + len || (str && len > MAX_STR)) return undefined;
  return [p + head, len];
}

/**
 * readImage reads an image exactly as KvSnapshotJob writes it: fixarray 4, format, index (a
 * msgpack uint), an array 32 of key (str) and value (bin) pairs, then the sessions (read by the
 * general decoder: they are few). Undefined for anything else, or an image of 2 GiB or more.
 */
function readImage(
  d: Uint8Array,
): { index: number; base: ImageBase; sessions: unknown[] } | undefined {
  const n = d.length;
  if (n < 8 || n >= 2 ** 31 || d[0] !== 0x94 || d[1] !== FORMAT) return undefined;
  let p = 2;
  const t = d[p]!;
  let index: number;
  if (t < 0x80) {
    index = t;
    p += 1;
  } else if (t === 0xcc) {
    index = d[p + 1]!;
    p += 2;
  } else if (t === 0xcd) {
    index = (d[p + 1]! << 8) | d[p + 2]!;
    p += 3;
  } else if (t === 0xce) {
    index = readU32(d, p + 1);
    p += 5;
  } else if (t === 0xcf) {
    const hi = readU32(d, p + 1);
    if (hi > 0x1fffff) return undefined;
    index = hi * 0x100000000 + readU32(d, p + 5);
    p += 9;
  } else {
    return undefined;
  }
  if (n - p < 5 || d[p] !== 0xdd) return undefined;
  const count = readU32(d, p + 1);
  p += 5;
  if (count % 2 !== 0 || count / 2 > (n - p) / 2) return undefined;
  const base = ImageBase.build(d, p, count / 2);
  if (base === undefined) return undefined;
  let sessions: unknown;
  try {
    sessions = decoder.decode(d.subarray(base.end));
  } catch {
    return undefined;
  }
  if (!Array.isArray(sessions)) return undefined;
  return { index, base, sessions };
}

/**
 * ImageBase holds the key-value pairs of a snapshot image where they are in the image. Pair i's
 * key begins at offs[i]; an open-addressing table (linear probing) of the keys' FNV-1a hashes
 * finds a key's pair. The pairs never change: a key that is set or deleted afterwards is taken
 * out (moved[i] = 1) and lives on in the state's map, or nowhere.
 */
class ImageBase {
  /** live: pairs not taken out; bytes: key + value bytes of every pair (keys in UTF-16 units). */
  live: number;
  readonly bytes: number;
  readonly moved: Uint8Array;

  private constructor(
    readonly image: Uint8Array,
    readonly offs: Int32Array,
    private readonly hashes: Int32Array,
    private readonly slots: Int32Array,
    /** end: just past the last pair. */
    readonly end: number,
    bytes: number,
  ) {
    this.live = offs.length;
    this.bytes = bytes;
    this.moved = new Uint8Array(offs.length);
  }

  /** build indexes `pairs` pairs from d[p]; undefined if one is malformed or a key repeats. */
  static build(d: Uint8Array, p: number, pairs: number): ImageBase | undefined {
    const offs = new Int32Array(pairs);
    const hashes = new Int32Array(pairs);
    let size = 16;
    while (size < pairs * 2) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    let bytes = 0;
    for (let i = 0; i < pairs; i++) {
      const k = itemAt(d, p, true);
      if (k === undefined) return undefined;
      const [kFrom, kLen] = k;
      const v = itemAt(d, kFrom + kLen, false);
      if (v === undefined) return undefined;
      let h = 0x811c9dc5;
      let ascii = true;
      for (let j = kFrom; j < kFrom + kLen; j++) {
        const c = d[j]!;
        if (c >= 0x80) ascii = false;
        h = Math.imul(h ^ c, 0x01000193);
      }
      offs[i] = p;
      hashes[i] = h;
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const e = slots[s]! - 1;
        if (e < 0) {
          slots[s] = i + 1;
          break;
        }
        if (hashes[e] === h) {
          const o = itemAt(d, offs[e]!, true)!;
          if (o[1] === kLen && buf.compare(buf, kFrom, kFrom + kLen, o[0], o[0] + kLen) === 0) {
            return undefined;
          }
        }
      }
      bytes += (ascii ? kLen : buf.toString('utf8', kFrom, kFrom + kLen).length) + v[1];
      p = v[0] + v[1];
    }
    return new ImageBase(d, offs, hashes, slots, p, bytes);
  }

  /** lastKey, lastPair: the key find() looked up last and what it found (a put looks twice). */
  private lastKey: string | undefined;
  private lastPair = -1;

  /** find: the pair holding `key`, taken out or not, or -1. */
  private find(key: string): number {
    if (key === this.lastKey) return this.lastPair;
    const h = hashKey(key);
    const bytes = keyBytes;
    const d = this.image;
    const slots = this.slots;
    const hashes = this.hashes;
    const offs = this.offs;
    const mask = slots.length - 1;
    let found = -1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s]! - 1;
      if (e < 0) break;
      if (hashes[e] !== h) continue;
      const o = offs[e]!;
      const len = strLen(d, o);
      const from = o + strHead(d[o]!);
      if (bytes === undefined) {
        if (len !== key.length) continue;
        let j = 0;
        while (j < len && d[from + j] === key.charCodeAt(j)) j++;
        if (j === len) {
          found = e;
          break;
        }
      } else if (
        len === bytes.length &&
        Buffer.compare(d.subarray(from, from + len), bytes) === 0
      ) {
        found = e;
        break;
      }
    }
    this.lastKey = key;
    this.lastPair = found;
    return found;
  }

  /** get: the value of `key` if the base holds it (a view into the image). */
  get(key: string): Uint8Array | undefined {
    const e = this.find(key);
    if (e < 0 || this.moved[e] === 1) return undefined;
    const v = this.valueAt(e);
    return this.image.subarray(
      v + binHead(this.image[v]!),
      v + binHead(this.image[v]!) + binLen(this.image, v),
    );
  }

  /** take takes `key` out of the base, if it is there. */
  take(key: string): void {
    const e = this.find(key);
    if (e < 0 || this.moved[e] === 1) return;
    this.moved[e] = 1;
    this.live--;
  }

  /** valueAt: where pair e's value (its bin header) begins. */
  private valueAt(e: number): number {
    const o = this.offs[e]!;
    return o + strHead(this.image[o]!) + strLen(this.image, o);
  }

  /** pairEnd: just past pair e in the image. */
  pairEnd(e: number): number {
    const v = this.valueAt(e);
    return v + binHead(this.image[v]!) + binLen(this.image, v);
  }

  /** keys: the keys not taken out, in image order. */
  *keys(): IterableIterator<string> {
    const d = this.image;
    const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    for (let e = 0; e < this.offs.length; e++) {
      if (this.moved[e] === 1) continue;
      const [from, len] = itemAt(d, this.offs[e]!, true)!;
      yield buf.toString('utf8', from, from + len);
    }
  }
}

function encodeResult(r: KvResult): unknown[] {
  if (r.ok) return [0, r.prev];
  if (r.error === 'cas-mismatch') return [1, r.current];
  return [2, r.detail];
}

function decodeResult(a: unknown[]): KvResult {
  switch (a[0]) {
    case 0:
      return { ok: true, prev: (a[1] as Uint8Array | null) ?? null };
    case 1:
      return { ok: false, error: 'cas-mismatch', current: (a[1] as Uint8Array | null) ?? null };
    default:
      return { ok: false, error: 'stale-request', detail: String(a[1]) };
  }
}

/**
 * KvSnapshotJob writes one snapshot image of a KvState in steps. The keys are listed when the job
 * starts; each step writes the next ones with their values as of the job's index (the current
 * value, or the one copy-on-write kept for a key changed since). Sessions are small and are
 * encoded when the job starts.
 */
export class KvSnapshotJob {
  readonly index: number;
  private readonly keys: string[];
  private next = 0;
  private buf: Buffer;
  private pos = 0;
  private readonly sessions: Uint8Array;
  private finished = false;
  /**
   * inBase: the base's pairs not taken out when the job started (1), copied as they are: a pair
   * of the base never changes, so its bytes are the key's value as of the job's index.
   */
  private readonly inBase: Uint8Array | undefined;
  private nextBase = 0;

  constructor(
    private readonly state: KvState,
    private readonly map: Map<string, Uint8Array>,
    private readonly cow: Map<string, Uint8Array | null>,
    sessions: Map<string, Session>,
    bytes: number,
    private readonly base: ImageBase | undefined,
  ) {
    this.index = state.appliedIndex;
    this.keys = Array.from(map.keys());
    let baseLive = 0;
    if (base !== undefined) {
      this.inBase = base.moved.map((m) => 1 - m);
      baseLive = base.live;
    }
    const ss: unknown[] = [];
    for (const [id, s] of sessions) ss.push(id, s.seq, s.index, encodeResult(s.result));
    this.sessions = encoder.encode(ss);
    // Room for every key and value with their headers; utf-8 keys may need more (then it grows).
    const pairs = this.keys.length + baseLive;
    this.buf = Buffer.allocUnsafe(bytes + pairs * 10 + this.sessions.length + 64);
    this.buf[this.pos++] = 0x94; // fixarray of 4
    this.raw(encoder.encode(FORMAT));
    this.raw(encoder.encode(this.index));
    this.arrayHeader(pairs * 2);
  }

  /** step writes up to `budget` more keys; once all are written it returns the image. */
  step(budget: number): Uint8Array | undefined {
    if (this.finished) throw new Error('kv: snapshot job already finished');
    if (!(budget >= 1)) throw new RangeError(`kv: snapshot step of ${budget} keys`);
    const start = this.next;
    const end = Math.min(this.keys.length, start + budget);
    const map = this.map;
    const cow = this.cow;
    for (let i = this.next; i < end; i++) {
      const key = this.keys[i]!;
      // A key listed at the start existed then: its value is the kept one, or else unchanged.
      const value = (cow.size > 0 && cow.has(key) ? cow.get(key) : map.get(key)) as Uint8Array;
      this.str(key);
      this.bin(value);
    }
    this.next = end;
    if (end < this.keys.length) return undefined;
    const base = this.base;
    const inBase = this.inBase;
    if (base !== undefined && inBase !== undefined && this.nextBase < inBase.length) {
      const left = budget - (end - start);
      if (left < 1) return undefined;
      let e = this.nextBase;
      const stop = Math.min(inBase.length, e + left);
      for (; e < stop; e++) {
        if (inBase[e] === 1) this.raw(base.image.subarray(base.offs[e]!, base.pairEnd(e)));
      }
      this.nextBase = e;
      if (e < inBase.length) return undefined;
    }
    this.raw(this.sessions);
    this.abort();
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }

  /** abort ends the job; the state stops keeping values for it. */
  abort(): void {
    this.finished = true;
    this.state.endSnapshot(this.cow);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private arrayHeader(n: number): void {
    this.room(5);
    this.buf[this.pos] = 0xdd; // array 32: the count is known before the items
    this.buf.writeUInt32BE(n, this.pos + 1);
    this.pos += 5;
  }

  private str(s: string): void {
    const max = s.length * 3;
    this.room(max + 5);
    const b = this.buf;
    const p = this.pos;
    if (max < 32) {
      const n = b.write(s, p + 1, 'utf8');
      b[p] = 0xa0 | n;
      this.pos = p + 1 + n;
    } else if (max < 256) {
      const n = b.write(s, p + 2, 'utf8');
      b[p] = 0xd9;
      b[p + 1] = n;
      this.pos = p + 2 + n;
    } else {
      const n = b.write(s, p + 5, 'utf8');
      b[p] = 0xdb;
      b.writeUInt32BE(n, p + 1);
      this.pos = p + 5 + n;
    }
  }

  private bin(v: Uint8Array): void {
    const n = v.length;
    this.room(n + 5);
    const b = this.buf;
    let p = this.pos;
    if (n < 256) {
      b[p++] = 0xc4;
      b[p++] = n;
    } else if (n < 65536) {
      b[p++] = 0xc5;
      b.writeUInt16BE(n, p);
      p += 2;
    } else {
      b[p++] = 0xc6;
      b.writeUInt32BE(n, p);
      p += 4;
    }
    b.set(v, p);
    this.pos = p + n;
  }
}
