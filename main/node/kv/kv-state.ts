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
  private readonly map = new Map<string, Uint8Array>();
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
    return this.map.size;
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
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
    const prev = this.map.get(k.key) ?? null;
    switch (k.op) {
      case 'put':
        this.set(k.key, prev, k.value);
        return { ok: true, prev };
      case 'del':
        if (prev !== null) {
          this.touch(k.key, prev);
          this.map.delete(k.key);
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
    this.map.set(key, value);
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
    return new KvSnapshotJob(this, this.map, this.cow, this.sessions, this.bytes);
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

  /** restore replaces the whole state with a snapshot image. */
  static restore(data: Uint8Array, maxSessions = 10_000): KvState {
    const st = new KvState(maxSessions);
    const v = new Decoder({ maxBinLength: 1 << 30, maxArrayLength: 1 << 28 }).decode(
      data,
    ) as unknown[];
    if (!Array.isArray(v) || v[0] !== FORMAT || !Array.isArray(v[2]) || !Array.isArray(v[3])) {
      throw new Error('kv: malformed snapshot image');
    }
    st.appliedIndex = v[1] as number;
    const kv = v[2] as unknown[];
    for (let i = 0; i < kv.length; i += 2) st.set(kv[i] as string, null, kv[i + 1] as Uint8Array);
    const ss = v[3] as unknown[];
    for (let i = 0; i < ss.length; i += 4) {
      st.sessions.set(ss[i] as string, {
        seq: ss[i + 1] as number,
        index: ss[i + 2] as number,
        result: decodeResult(ss[i + 3] as unknown[]),
      });
    }
    return st;
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

  constructor(
    private readonly state: KvState,
    private readonly map: Map<string, Uint8Array>,
    private readonly cow: Map<string, Uint8Array | null>,
    sessions: Map<string, Session>,
    bytes: number,
  ) {
    this.index = state.appliedIndex;
    this.keys = Array.from(map.keys());
    const ss: unknown[] = [];
    for (const [id, s] of sessions) ss.push(id, s.seq, s.index, encodeResult(s.result));
    this.sessions = encoder.encode(ss);
    // Room for every key and value with their headers; utf-8 keys may need more (then it grows).
    this.buf = Buffer.allocUnsafe(bytes + this.keys.length * 10 + this.sessions.length + 64);
    this.buf[this.pos++] = 0x94; // fixarray of 4
    this.raw(encoder.encode(FORMAT));
    this.raw(encoder.encode(this.index));
    this.arrayHeader(this.keys.length * 2);
  }

  /** step writes up to `budget` more keys; once all are written it returns the image. */
  step(budget: number): Uint8Array | undefined {
    if (this.finished) throw new Error('kv: snapshot job already finished');
    if (!(budget >= 1)) throw new RangeError(`kv: snapshot step of ${budget} keys`);
    const end = Math.min(this.keys.length, this.next + budget);
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
