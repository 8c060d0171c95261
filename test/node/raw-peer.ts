/**
 * RawPeer is a hand-driven connection to a peer port, for tests that play a peer (honest, or one
 * that knows the cluster id but not the secret): it sends handshake frames and Raft messages one
 * by one and records every frame that comes back, and every byte, so a test can see exactly what
 * the acceptor did.
 */
import { decode, encode } from '@msgpack/msgpack';
import { connect, type Socket } from 'node:net';
import { encodeMessage } from '../../main/node/transport/codec';
import { FrameDecoder, encodeFrame } from '../../main/node/transport/framing';
import { HELLO_MAGIC, encodeHello, encodeProof } from '../../main/node/transport/hello';
import {
  NONCE_BYTES,
  acceptorProof,
  dialerProof,
  newNonce,
  proofMatches,
  type Transcript,
} from '../../main/node/transport/peer-auth';
import type { Message } from '../../main/raft/types';

export interface RawHello {
  clusterId: string;
  from: number;
  to: number;
  nonce?: Uint8Array;
  version?: number;
}

export class RawPeer {
  /** frames: every frame received, decoded (maps stay maps, bins are Uint8Array). */
  readonly frames: Record<string, unknown>[] = [];
  /** received: every byte received. */
  readonly received: Buffer[] = [];
  /** sent: every byte sent. */
  readonly sent: Buffer[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(1 << 20);
  private waiters: (() => void)[] = [];
  private hello: (RawHello & { nonce: Uint8Array }) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      for (const body of this.decoder.push(chunk)) {
        this.frames.push(decode(body) as Record<string, unknown>);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawPeer(s));
      });
    });
  }

  write(bytes: Buffer): void {
    this.sent.push(bytes);
    this.socket.write(bytes);
  }

  /** sendHello sends a version 2 hello (or, with `version`, a hello map of that version). */
  sendHello(h: RawHello): void {
    const nonce = h.nonce ?? newNonce();
    this.hello = { ...h, nonce };
    if (h.version === undefined) {
      this.write(encodeHello({ clusterId: h.clusterId, from: h.from, to: h.to, nonce }));
    } else {
      const body: Record<string, unknown> = {
        magic: HELLO_MAGIC,
        version: h.version,
        clusterId: h.clusterId,
        from: h.from,
        to: h.to,
      };
      if (h.version >= 2) body.nonce = nonce;
      this.write(encodeFrame(encode(body)));
    }
  }

  /** challenge waits for the acceptor's first frame (a challenge or an error frame). */
  async challenge(timeoutMs = 3000): Promise<Record<string, unknown>> {
    await this.until(() => this.frames.length > 0, timeoutMs, 'the answer to the hello');
    return this.frames[0];
  }

  /** transcript: what the proofs of this handshake cover, once the challenge arrived. */
  transcript(): Transcript {
    const h = this.hello;
    const c = this.frames[0];
    if (h === undefined || c === undefined || !(c.nonce instanceof Uint8Array)) {
      throw new Error('no hello sent or no challenge received');
    }
    return {
      magic: HELLO_MAGIC,
      version: 2,
      clusterId: h.clusterId,
      from: h.from,
      to: h.to,
      dialerNonce: h.nonce,
      acceptorNonce: c.nonce,
    };
  }

  /** acceptorProved tells whether the challenge's proof matches `secret`. */
  acceptorProved(secret: Uint8Array): boolean {
    const proof = this.frames[0]?.proof;
    return (
      proof instanceof Uint8Array && proofMatches(proof, acceptorProof(secret, this.transcript()))
    );
  }

  /** sendProof sends the dialer's proof computed with `secret` (the right one or not). */
  sendProof(secret: Uint8Array): void {
    this.write(encodeProof(dialerProof(secret, this.transcript())));
  }

  /** sendRandomProof sends a proof frame of the right shape made of random bytes. */
  sendRandomProof(): void {
    this.write(encodeProof(newNonce().subarray(0, NONCE_BYTES)));
  }

  /** handshake runs an honest dialer's handshake with `secret`. */
  async handshake(h: RawHello, secret: Uint8Array): Promise<void> {
    this.sendHello(h);
    const c = await this.challenge();
    if ('error' in c) throw new Error(`handshake refused: ${String(c.error)}: ${String(c.detail)}`);
    this.sendProof(secret);
  }

  send(m: Message): void {
    this.write(encodeFrame(encodeMessage(m)));
  }

  /** errors: the error frames received. */
  errors(): { error: string; detail: string }[] {
    return this.frames
      .filter((f) => typeof f.error === 'string')
      .map((f) => ({ error: f.error as string, detail: String(f.detail) }));
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
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
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
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

/** Forged: the four connections forgeEveryWay opened, each after the acceptor closed it. */
export interface Forged {
  v1: RawPeer;
  pipelined: RawPeer;
  patient: RawPeer;
  reflect: RawPeer;
}

/** FORGE_WAYS: what each way of forgeEveryWay is, in words (for reports). */
export const FORGE_WAYS: Readonly<Record<keyof Forged, string>> = {
  v1: 'v1 hello',
  pipelined: 'made-up proof at once',
  patient: 'made-up proof after the challenge',
  reflect: 'the acceptor’s own proof',
};

/**
 * forgeEveryWay tries every way a process that knows the cluster id (but not the secret) has of
 * getting `msgs` delivered to node `to` as node `from`: a version 1 hello; a version 2 hello with
 * a made-up proof right behind it; the same after the challenge; and the acceptor's own proof
 * sent back as the dialer's. The messages follow each attempt at once. It resolves once every
 * connection is closed (or 5 s passed); the caller reads their frames and closes them.
 */
export async function forgeEveryWay(
  port: number,
  clusterId: string,
  from: number,
  to: number,
  msgs: readonly Message[],
): Promise<Forged> {
  const frames = Buffer.concat(msgs.map((m) => encodeFrame(encodeMessage(m))));
  const v1 = await RawPeer.open(port);
  v1.sendHello({ clusterId, from, to, version: 1 });
  v1.write(frames);
  const pipelined = await RawPeer.open(port);
  pipelined.sendHello({ clusterId, from, to });
  pipelined.sendRandomProof();
  pipelined.write(frames);
  const patient = await RawPeer.open(port);
  patient.sendHello({ clusterId, from, to });
  await patient.challenge().catch(() => undefined);
  patient.sendRandomProof();
  patient.write(frames);
  const reflect = await RawPeer.open(port);
  reflect.sendHello({ clusterId, from, to });
  const c = await reflect.challenge().catch(() => undefined);
  if (c?.proof instanceof Uint8Array) reflect.write(encodeProof(c.proof));
  reflect.write(frames);
  const forged: Forged = { v1, pipelined, patient, reflect };
  await Promise.all(Object.values(forged).map((p) => p.waitClosed(5000).catch(() => undefined)));
  return forged;
}

/** forgedTermHeartbeat: a heartbeat at term 2^53 − 1, a term that cannot be incremented. */
export function forgedTermHeartbeat(from: number, to: number): Message {
  return { type: 'heartbeat', from, to, term: Number.MAX_SAFE_INTEGER, commit: 0, readSeq: 0 };
}

/**
 * forgedWipe: an InstallSnapshot with an empty image at index 1,000,000 that makes `from` the
 * only voter: the forgery that once wiped every acknowledged key.
 */
export function forgedWipe(from: number, to: number, term: number): Message {
  return {
    type: 'snap',
    from,
    to,
    term,
    meta: { index: 1_000_000, term, conf: { voters: [from], learners: [], addresses: {} } },
    offset: 0,
    total: 0,
    data: new Uint8Array(0),
    done: true,
  };
}
