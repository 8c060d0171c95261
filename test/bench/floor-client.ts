/**
 * floor-client is the load generator's client of the floor system (floor-node.ts): one TCP
 * connection to the leader, pipelined (many puts in flight, answers matched by request id), as
 * raftdeck's KvClient keeps one pipelined connection per node. It does no retries: the floor
 * never refuses a put.
 */
import { connect, type Socket } from 'node:net';
import { FrameReader, PUT_FRAME_BYTES } from './floor-node';
import type { Putter } from './load';

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class FloorClient implements Putter {
  private readonly socket: Socket;
  private readonly connected: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Error | undefined;

  /** endpoint: "host:port" of the floor leader's client port. */
  constructor(
    readonly endpoint: string,
    private readonly timeoutMs = 10_000,
  ) {
    const i = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, i);
    const port = Number(endpoint.slice(i + 1));
    this.socket = connect({ host, port, noDelay: true });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.connected.catch(() => undefined);
    const reader = new FrameReader(`floor client of ${endpoint}`);
    this.socket.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = reader.push(chunk);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      for (const b of bodies) {
        const id = b.readUInt32BE(0);
        const p = this.pending.get(id);
        if (!p) continue;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve();
      }
    });
    this.socket.on('error', (e) => this.fail(new Error(`floor leader ${endpoint}: ${e.message}`)));
    this.socket.on('close', () => this.fail(new Error(`floor leader ${endpoint} closed`)));
  }

  private fail(e: Error): void {
    this.closed ??= e;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
    this.socket.destroy();
  }

  /** put sends one put and resolves when the leader answers it (committed on a majority). */
  async put(key: string, value: Uint8Array): Promise<void> {
    if (this.closed) throw this.closed;
    const k = Buffer.from(key, 'utf8');
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const body = Math.max(PUT_FRAME_BYTES - 4, 4 + 2 + k.length + 4 + value.length);
    const f = Buffer.alloc(4 + body);
    f.writeUInt32BE(body, 0);
    f.writeUInt32BE(id, 4);
    f.writeUInt16BE(k.length, 8);
    k.copy(f, 10);
    f.writeUInt32BE(value.length, 10 + k.length);
    f.set(value, 14 + k.length);
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`floor put ${key}: no answer from ${this.endpoint} in ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    this.socket.write(f);
    return done;
  }

  /** inFlight: puts sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    await this.connected.catch(() => undefined);
    this.fail(new Error('floor client closed'));
  }
}
