/**
 * RawConn is a bare framed msgpack connection for tests that need to send what a well-behaved
 * client never would (wrong types, garbage, huge length prefixes) and see exactly what comes back.
 */
import { decode, encode } from '@msgpack/msgpack';
import { connect, createServer, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../../main/node/transport/framing';

export class RawConn {
  readonly frames: unknown[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const body of this.decoder.push(chunk)) this.frames.push(decode(body));
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
    });
  }

  send(value: unknown): void {
    this.socket.write(encodeFrame(encode(value, { ignoreUndefined: true })));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** frame waits for the n-th frame (0-based) received on this connection. */
  async frame(n: number, timeoutMs = 2000): Promise<Record<string, unknown>> {
    await this.until(() => this.frames.length > n, timeoutMs, `frame ${n}`);
    return this.frames[n] as Record<string, unknown>;
  }

  /** response waits for the frame answering request `id`. */
  async response(id: number, timeoutMs = 2000): Promise<Record<string, unknown>> {
    const find = (): Record<string, unknown> | undefined =>
      this.frames.find((f) => (f as Record<string, unknown>).id === id) as
        Record<string, unknown> | undefined;
    await this.until(() => find() !== undefined, timeoutMs, `response ${id}`);
    return find()!;
  }

  async waitClosed(timeoutMs = 2000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'close');
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private async until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (this.closed && !ok()) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/** freePort returns a loopback port that nothing listens on (at the moment of the call). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** waitFor polls `ok` until it holds. */
export async function waitFor(ok: () => boolean, timeoutMs = 2000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
