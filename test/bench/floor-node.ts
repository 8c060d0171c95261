/**
 * floor-node is one process of the floor system (floor.ts): the least a replicated put must do on
 * this machine, with no consensus and no state machine. It runs under plain `node` from a bundle
 * (floor.ts builds it with esbuild) and depends on node:* only. Its one argument is a JSON
 * FloorNodeConfig; it prints `floor-ready <json>` on stdout once it serves.
 *
 * Roles:
 * - **follower**: listens for the leader on 127.0.0.1; appends each batch of records the leader
 *   sends to its log file, fdatasyncs, then acknowledges the highest index made durable.
 * - **leader**: connects to every follower, then listens for clients. Each put gets the next index;
 *   the records of the puts found in one read from a client socket form one batch, written to the
 *   followers at once and appended to the leader's own log. A put is answered once a
 *   majority of the members hold it durably, the leader's own fdatasync counting as one.
 * - **sink** / **source**: the loopback floor: the source sends `bytes` bytes to the sink over one
 *   TCP connection in 1 MiB writes; the sink answers one byte when it has them all, and the source
 *   prints the time from its connect to that answer.
 *
 * The log (leader and followers alike) is written as a good write-ahead log is: records appended
 * with a positional write from the event loop (a copy into the page cache), the file kept 1 MiB
 * longer than its records (ftruncate) so that an fdatasync flushes data and not the file's size,
 * and one fdatasync at a time: what arrives while one runs is written and synced together after
 * it (group commit). This is raftdeck's WAL discipline (main/node/storage/file-storage.ts) without
 * its checksums, batch ends and checkpoints.
 *
 * Frames (every integer big-endian): a u32 body length, then the body.
 * - client -> leader: u32 request id, u16 key length, key, u32 value length, value, then zero
 *   bytes up to PUT_FRAME_BYTES in all (raftdeck's put frame for the bench's 16-byte keys and
 *   128-byte values, with its session id and msgpack field names).
 * - leader -> client: u32 request id, u8 1 (done), zero bytes up to ANSWER_FRAME_BYTES in all
 *   (raftdeck's answer).
 * - leader -> follower: u48 last index, then records.
 * - follower -> leader: u48 durable index.
 * - record (in frames and in the log file): u32 length of the rest, u48 index, the client body.
 */
import {
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

export type FloorNodeConfig =
  | { role: 'follower'; dir: string; timeline?: number }
  | { role: 'leader'; dir: string; followers: number[]; members: number; timeline?: number }
  | { role: 'sink'; bytes: number }
  | { role: 'source'; port: number; bytes: number };

/** PUT_FRAME_BYTES, ANSWER_FRAME_BYTES: the sizes of raftdeck's put and answer frames. */
export const PUT_FRAME_BYTES = 237;
export const ANSWER_FRAME_BYTES = 17;
/** FLOOR_LOG: the log file's name in a member's folder. */
export const FLOOR_LOG = 'floor.log';
/** MAX_FRAME_BYTES: a larger frame closes the connection (the floor carries small puts). */
export const MAX_FRAME_BYTES = 64 << 20;
const EXTEND_BYTES = 1 << 20;
const HOST = '127.0.0.1';

/** FLOOR_TIMELINE: the file a member with a timeline writes its stamps to on SIGUSR2. */
export const FLOOR_TIMELINE = 'timeline.json';

/**
 * FloorStamp: what one floor member saw of the put at `index` (µs of process.hrtime, the clock
 * every process of the machine shares, as raftdeck's put timeline; 0: not seen). On the leader:
 * `received` (the client's frame read), `appended` (about to be sent to the followers and
 * written to its log), `synced` (its own fdatasync done), `acked` (the follower acknowledgement that made the
 * majority arrived, from member `ackFrom`), `committed` (the answer decided). On a follower:
 * `appended` (the leader's frame read) and `synced` (its fdatasync done).
 */
export interface FloorStamp {
  index: number;
  received: number;
  appended: number;
  synced: number;
  acked: number;
  ackFrom: number;
  committed: number;
}

const STAMP_FIELDS = ['received', 'appended', 'synced', 'acked', 'ackFrom', 'committed'] as const;
type StampField = (typeof STAMP_FIELDS)[number];

function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * FloorTimeline keeps the stamps of the latest `size` indexes (a slot per index modulo size,
 * allocated up front), and writes them to dir/timeline.json when the process gets SIGUSR2.
 */
export class FloorTimeline {
  private readonly index: Float64Array;
  private readonly fields: Record<StampField, Float64Array>;

  constructor(
    readonly size: number,
    dir: string,
  ) {
    this.index = new Float64Array(size);
    this.fields = Object.fromEntries(
      STAMP_FIELDS.map((f) => [f, new Float64Array(size)]),
    ) as Record<StampField, Float64Array>;
    process.on('SIGUSR2', () => {
      const tmp = join(dir, `${FLOOR_TIMELINE}.tmp`);
      writeFileSync(tmp, JSON.stringify(this.stamps()));
      renameSync(tmp, join(dir, FLOOR_TIMELINE));
    });
  }

  /** stamp sets `field` of `index` once (a later stamp of the same field is ignored). */
  stamp(field: StampField, index: number, value: number): void {
    const i = index % this.size;
    if (this.index[i] !== index) {
      this.index[i] = index;
      for (const f of STAMP_FIELDS) this.fields[f][i] = 0;
    }
    if (this.fields[field][i] === 0) this.fields[field][i] = value;
  }

  /** stamps: every index kept, in index order. */
  stamps(): FloorStamp[] {
    const out: FloorStamp[] = [];
    for (let i = 0; i < this.size; i++) {
      if (this.index[i] === 0) continue;
      const s = { index: this.index[i]! } as FloorStamp;
      for (const f of STAMP_FIELDS) s[f] = this.fields[f][i]!;
      out.push(s);
    }
    return out.sort((a, b) => a.index - b.index);
  }
}

function timelineOf(size: number | undefined, dir: string): FloorTimeline | null {
  return size !== undefined && size > 0 ? new FloorTimeline(size, dir) : null;
}

/**
 * FrameReader cuts a byte stream into frame bodies. Bodies are views of the chunk they arrived in
 * when they fit in it; a frame split over chunks is copied once it is whole.
 */
export class FrameReader {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(private readonly what: string) {}

  /** push returns the bodies completed by `chunk`, in order. */
  push(chunk: Buffer): Buffer[] {
    let buf = chunk;
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      buf = Buffer.concat(this.held, this.heldBytes + chunk.length);
      this.held = [];
      this.heldBytes = 0;
    }
    const out: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (len > MAX_FRAME_BYTES)
        throw new Error(
          `${this.what}: frame of ${len} bytes at offset ${at} over ${MAX_FRAME_BYTES}`,
        );
      if (buf.length - at - 4 < len) break;
      out.push(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.held.push(rest);
      this.heldBytes = rest.length;
    }
    return out;
  }
}

/**
 * FloorLog appends batches of records to `dir`/floor.log with one fdatasync at a time; whatever is
 * appended while a sync runs is written and synced together after it. onDurable(index) is called
 * with the highest index of each synced batch, in order.
 */
export class FloorLog {
  private readonly fd: number;
  private pos = 0;
  private fileBytes = 0;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private queuedLast = 0;
  private syncing = false;

  constructor(
    dir: string,
    private readonly onDurable: (index: number) => void,
  ) {
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, FLOOR_LOG), 'w', 0o600);
  }

  append(records: Buffer, lastIndex: number): void {
    this.queued.push(records);
    this.queuedBytes += records.length;
    this.queuedLast = lastIndex;
    if (!this.syncing) this.flush();
  }

  private flush(): void {
    const data =
      this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued, this.queuedBytes);
    const last = this.queuedLast;
    this.queued = [];
    this.queuedBytes = 0;
    const end = this.pos + data.length;
    if (end > this.fileBytes) {
      this.fileBytes = (Math.floor(end / EXTEND_BYTES) + 1) * EXTEND_BYTES;
      ftruncateSync(this.fd, this.fileBytes);
    }
    for (let at = 0; at < data.length;)
      at += writeSync(this.fd, data, at, data.length - at, this.pos + at);
    this.pos = end;
    this.syncing = true;
    fdatasync(this.fd, (err) => {
      if (err) fail(`fdatasync of the floor log: ${err.message}`);
      this.syncing = false;
      this.onDurable(last);
      if (this.queuedBytes > 0) this.flush();
    });
  }
}

function fail(message: string): never {
  process.stderr.write(`floor-node: ${message}\n`);
  process.exit(1);
}

function ready(info: object): void {
  process.stdout.write(`floor-ready ${JSON.stringify(info)}\n`);
}

function listen(onSocket: (s: Socket) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true }, onSocket);
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

function follower(dir: string, timelineSize?: number): void {
  const tl = timelineOf(timelineSize, dir);
  let durable = 0;
  void listen((s) => {
    const reader = new FrameReader(`follower ${dir}`);
    const log = new FloorLog(dir, (index) => {
      if (tl) {
        const t = nowMicros();
        for (let i = durable + 1; i <= index; i++) tl.stamp('synced', i, t);
      }
      durable = index;
      const ack = Buffer.allocUnsafe(10);
      ack.writeUInt32BE(6, 0);
      ack.writeUIntBE(index, 4, 6);
      s.write(ack);
    });
    s.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = reader.push(chunk);
      } catch (e) {
        fail((e as Error).message);
      }
      // One log write for every batch found in this read.
      const t = tl ? nowMicros() : 0;
      let last = 0;
      const parts: Buffer[] = [];
      for (const b of bodies) {
        last = b.readUIntBE(0, 6);
        parts.push(b.subarray(6));
        if (tl) {
          // records: u32 length of the rest, u48 index, body
          for (let at = 6; at + 10 <= b.length; at += 4 + b.readUInt32BE(at))
            tl.stamp('appended', b.readUIntBE(at + 4, 6), t);
        }
      }
      if (parts.length > 0) log.append(parts.length === 1 ? parts[0]! : Buffer.concat(parts), last);
    });
    s.on('error', () => undefined);
    s.on('close', () => process.exit(0));
  }).then((port) => ready({ port }));
}

interface Waiting {
  index: number;
  socket: Socket;
  id: number;
}

async function leader(
  dir: string,
  followerPorts: number[],
  members: number,
  timelineSize?: number,
): Promise<void> {
  const tl = timelineOf(timelineSize, dir);
  const majority = Math.floor(members / 2) + 1;
  /** ackedBy: the highest index acknowledged by majority - 1 followers (timeline only). */
  let ackedBy = 0;
  let lastIndex = 0;
  let durable = 0;
  const match = followerPorts.map(() => 0);
  const waiting: Waiting[] = [];
  let head = 0;

  const commit = (): void => {
    const acked = [durable, ...match].sort((a, b) => b - a);
    const committed = acked[majority - 1]!;
    const out = new Map<Socket, Buffer[]>();
    const t = tl ? nowMicros() : 0;
    while (head < waiting.length && waiting[head]!.index <= committed) {
      const w = waiting[head++]!;
      tl?.stamp('committed', w.index, t);
      const r = Buffer.alloc(ANSWER_FRAME_BYTES);
      r.writeUInt32BE(ANSWER_FRAME_BYTES - 4, 0);
      r.writeUInt32BE(w.id, 4);
      r.writeUInt8(1, 8);
      const list = out.get(w.socket);
      if (list) list.push(r);
      else out.set(w.socket, [r]);
    }
    if (head > 4096 && head * 2 > waiting.length) {
      waiting.splice(0, head);
      head = 0;
    }
    for (const [s, list] of out) {
      if (!s.destroyed) s.write(list.length === 1 ? list[0]! : Buffer.concat(list));
    }
  };

  const log = new FloorLog(dir, (index) => {
    if (tl) {
      const t = nowMicros();
      for (let i = durable + 1; i <= index; i++) tl.stamp('synced', i, t);
    }
    durable = index;
    commit();
  });
  const peers = await Promise.all(
    followerPorts.map(
      (port, i) =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: HOST, port, noDelay: true }, () => resolve(s));
          s.once('error', reject);
          const reader = new FrameReader(`leader from follower ${port}`);
          s.on('data', (chunk: Buffer) => {
            let acks: Buffer[];
            try {
              acks = reader.push(chunk);
            } catch (e) {
              fail((e as Error).message);
            }
            const top = acks.length > 0 ? acks[acks.length - 1]!.readUIntBE(0, 6) : 0;
            if (top > match[i]!) {
              match[i] = top;
              if (tl && majority > 1) {
                const t = nowMicros();
                const by = [...match].sort((a, b) => b - a)[majority - 2]!;
                for (let x = ackedBy + 1; x <= by; x++) {
                  tl.stamp('acked', x, t);
                  tl.stamp('ackFrom', x, i + 2);
                }
                ackedBy = Math.max(ackedBy, by);
              }
              commit();
            }
          });
          s.on('close', () => fail(`follower on port ${port} closed the connection`));
        }),
    ),
  );
  const port = await listen((s) => {
    const reader = new FrameReader(`leader client ${s.remotePort ?? '?'}`);
    s.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = reader.push(chunk);
      } catch (e) {
        process.stderr.write(`floor-node: ${(e as Error).message}\n`);
        s.destroy();
        return;
      }
      if (bodies.length === 0) return;
      const t = tl ? nowMicros() : 0;
      let bytes = 0;
      for (const b of bodies) bytes += 10 + b.length;
      // The batch: every put of this read, as records (u32 length, u48 index, body).
      const batch = Buffer.allocUnsafe(10 + bytes);
      batch.writeUInt32BE(6 + bytes, 0);
      let at = 10;
      for (const b of bodies) {
        const index = ++lastIndex;
        batch.writeUInt32BE(6 + b.length, at);
        batch.writeUIntBE(index, at + 4, 6);
        b.copy(batch, at + 10);
        at += 10 + b.length;
        waiting.push({ index, socket: s, id: b.readUInt32BE(0) });
        tl?.stamp('received', index, t);
      }
      batch.writeUIntBE(lastIndex, 4, 6);
      if (tl) {
        // proposed: about to be sent to the followers and written to the leader's log
        const sent = nowMicros();
        for (let x = lastIndex - bodies.length + 1; x <= lastIndex; x++)
          tl.stamp('appended', x, sent);
      }
      for (const p of peers) p.write(batch);
      log.append(batch.subarray(10), lastIndex);
    });
    s.on('error', () => undefined);
  });
  ready({ port });
}

function sink(bytes: number): void {
  void listen((s) => {
    let got = 0;
    s.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= bytes) s.end(Buffer.of(1));
    });
    s.on('error', () => undefined);
  }).then((port) => ready({ port }));
}

function source(port: number, bytes: number): void {
  const chunk = Buffer.alloc(1 << 20, 97);
  const t0 = performance.now();
  const s = connect({ host: HOST, port, noDelay: true }, () => {
    let sent = 0;
    const more = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          s.once('drain', more);
          return;
        }
      }
    };
    more();
  });
  s.once('data', () => {
    ready({ ms: performance.now() - t0 });
    s.destroy();
    process.exit(0);
  });
  s.on('error', (e) => fail(`source to port ${port}: ${e.message}`));
}

function main(): void {
  const arg = process.argv[2];
  if (!arg) fail('usage: floor-node <json config>');
  let c: FloorNodeConfig;
  try {
    c = JSON.parse(arg) as FloorNodeConfig;
  } catch (e) {
    fail(`bad config '${arg}': ${(e as Error).message}`);
  }
  switch (c.role) {
    case 'follower':
      return follower(c.dir, c.timeline);
    case 'leader':
      return void leader(c.dir, c.followers, c.members, c.timeline).catch((e: Error) =>
        fail(`leader: ${e.message}`),
      );
    case 'sink':
      return sink(c.bytes);
    case 'source':
      return source(c.port, c.bytes);
    default:
      fail(`unknown role in '${arg}'`);
  }
}

if (process.argv[1] && /floor-node\.(m?js|ts)$/.test(process.argv[1])) main();
