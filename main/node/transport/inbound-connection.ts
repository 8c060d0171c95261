/**
 * InboundConnection reads one accepted connection. First the handshake (docs/protocol.md,
 * "Handshake"): a hello, answered with a challenge, then the dialer's proof of the peer secret,
 * all within the handshake timeout and each frame at most MAX_HELLO_BYTES. No Raft message is
 * decoded before the proof is checked; after it, frames are Raft messages from the peer the hello
 * named. It never throws out of a socket handler: bad frames are counted and dropped, a peer that
 * sends too many within the window is disconnected, and an oversized frame (after which the
 * stream cannot be resynchronised) closes the connection. Bytes held in incomplete frames count
 * against the process's FrameBudget, shared with its other ports; once the proof is checked the
 * connection's account is trusted (evicted only after every stranger's).
 */
import type { Socket } from 'node:net';
import type { NodeId } from '../../raft/types';
import { MalformedMessageError, UnknownMessageTypeError } from './codec';
import type { FrameBudget, FrameBudgetError } from './frame-budget';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError } from './framing';
import {
  MAX_HELLO_BYTES,
  checkHello,
  decodeProof,
  encodeChallenge,
  encodeErrorFrame,
  isErrorFrame,
  type ErrorFrame,
  type Hello,
} from './hello';
import type { LinkContext } from './link-context';
import { acceptorProof, dialerProof, newNonce, proofMatches, type Transcript } from './peer-auth';

/** CLOSE_GRACE_MS: how long a refused connection may take to flush its error frame. */
const CLOSE_GRACE_MS = 1000;

export interface InboundHooks {
  /** challenged: the hello was accepted and the challenge sent; the proof is awaited. */
  challenged(conn: InboundConnection): void;
  /** authenticated: the dialer proved the secret; the connection now speaks for `peer`. */
  authenticated(conn: InboundConnection): void;
  /** refused: the handshake failed; an error frame is being flushed before the close. */
  refused(conn: InboundConnection): void;
  closed(conn: InboundConnection): void;
}

/** InboundStage: waiting for the hello, waiting for the dialer's proof, or authenticated. */
export type InboundStage = 'hello' | 'proof' | 'open';

export class InboundConnection {
  /** peer: the node id from the hello, once the dialer proved the secret; undefined until then. */
  peer: NodeId | undefined;
  stage: InboundStage = 'hello';
  /** acceptedAt: when the connection was accepted (ms, Date.now()). */
  readonly acceptedAt = Date.now();
  private readonly frames: FrameDecoder;
  private closing = false;
  private transcript: Transcript | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly strikes: number[] = [];

  constructor(
    readonly socket: Socket,
    private readonly ctx: LinkContext,
    budget: FrameBudget,
    private readonly hooks: InboundHooks,
  ) {
    this.frames = new FrameDecoder(MAX_HELLO_BYTES, {
      budget,
      evicted: (e) => this.guard(() => this.onEvicted(e)),
    });
    socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(
      () => this.guard(() => this.onHandshakeTimeout()),
      ctx.settings.handshakeTimeoutMs,
    );
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('error', (err) =>
      ctx.log('debug', `inbound connection error: ${err.message}`, { peer: this.peer }),
    );
    socket.on('close', () => this.guard(() => this.onClose()));
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** isClosing: the connection was refused or destroyed and is on its way out. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** heldBytes: bytes received on this connection and not yet handed over as frames. */
  get heldBytes(): number {
    return this.closing ? 0 : this.frames.bufferedBytes;
  }

  /** destroy closes the connection at once. */
  destroy(): void {
    this.closing = true;
    this.frames.release();
    this.socket.destroy();
  }

  /** onEvicted closes the connection: it held the most bytes when the budget ran out. */
  private onEvicted(e: FrameBudgetError): void {
    this.ctx.counters.count('budgetEvicted', this.peer);
    this.ctx.log(
      'warn',
      `closing connection from ${this.describePeer()}: it held ${e.held} bytes of incomplete frames, the most when the process went over its budget of ${e.limit} bytes`,
      { peer: this.peer, held: e.held, limit: e.limit },
    );
    this.destroy();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.ctx.log('error', `inbound connection from ${this.remote}: ${(e as Error).message}`, {
        peer: this.peer,
      });
      this.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    // One clock reading per chunk read: the frames it completes arrived together.
    const now = Date.now();
    try {
      for (const body of this.frames.push(chunk)) {
        if (this.stage === 'hello') this.onHello(body);
        else if (this.stage === 'proof') this.onProof(body);
        else this.onMessage(this.peer as NodeId, body, now);
        if (this.closing) return;
      }
    } catch (e) {
      // An eviction by the budget has already closed the connection (onEvicted).
      if (this.closing) return;
      if (!(e instanceof FrameTooLargeError)) throw e;
      this.ctx.counters.count('oversized', this.peer);
      this.ctx.log('warn', `closing connection from ${this.describePeer()}: ${e.message}`, {
        peer: this.peer,
        announced: e.announced,
      });
      this.destroy();
    }
  }

  private describePeer(): string {
    return this.peer === undefined ? this.remote : `node ${this.peer}`;
  }

  private onHello(body: Uint8Array): void {
    const res = checkHello(body, { clusterId: this.ctx.clusterId, self: this.ctx.self });
    if (isErrorFrame<Hello>(res)) {
      this.refuse(res);
      return;
    }
    const nonce = newNonce();
    this.transcript = {
      magic: res.magic,
      version: res.version,
      clusterId: res.clusterId,
      from: res.from,
      to: res.to,
      dialerNonce: res.nonce,
      acceptorNonce: nonce,
    };
    this.stage = 'proof';
    this.socket.write(
      encodeChallenge({ nonce, proof: acceptorProof(this.ctx.secret, this.transcript) }),
    );
    this.hooks.challenged(this);
  }

  private onProof(body: Uint8Array): void {
    const t = this.transcript as Transcript;
    const proof = decodeProof(body);
    if (typeof proof === 'string') {
      this.refuse({ error: 'bad-hello', detail: `proof frame: ${proof}` });
      return;
    }
    if (!proofMatches(proof, dialerProof(this.ctx.secret, t))) {
      this.ctx.counters.count('authFailures', undefined);
      this.refuse({
        error: 'auth-failed',
        detail: `the proof for node ${t.from} does not match this cluster's peer secret`,
      });
      return;
    }
    this.clearHandshakeTimer();
    this.transcript = undefined;
    this.stage = 'open';
    this.peer = t.from;
    this.frames.maxFrameBytes = this.ctx.settings.maxFrameBytes;
    this.frames.trust();
    this.hooks.authenticated(this);
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined;
    if (this.stage === 'open' || this.closing) return;
    this.refuse({
      error: 'handshake-timeout',
      detail: `the handshake did not complete within ${this.ctx.settings.handshakeTimeoutMs} ms`,
    });
  }

  /** refuse counts a failed handshake, answers with an error frame and closes. */
  private refuse(err: ErrorFrame): void {
    this.clearHandshakeTimer();
    this.ctx.counters.count('handshakeFailures', undefined);
    this.ctx.log('warn', `refused connection from ${this.remote}: ${err.error}: ${err.detail}`, {
      error: err.error,
      detail: err.detail,
    });
    this.closing = true;
    this.frames.release();
    this.socket.end(encodeErrorFrame(err));
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.hooks.refused(this);
  }

  private onMessage(peer: NodeId, body: Uint8Array, now: number): void {
    let m;
    try {
      m = this.ctx.codec.decode(body);
    } catch (e) {
      if (!(e instanceof MalformedMessageError)) throw e;
      this.strike(peer, e instanceof UnknownMessageTypeError ? 'unknownType' : 'malformed', e);
      return;
    }
    if (m.from !== peer || m.to !== this.ctx.self) {
      this.strike(
        peer,
        'malformed',
        new MalformedMessageError(
          `${m.type} from node ${m.from} to node ${m.to} arrived on the connection from node ${peer} to node ${this.ctx.self}`,
        ),
      );
      return;
    }
    this.ctx.counters.count('received', peer);
    this.ctx.deliver(m, FRAME_HEADER_BYTES + body.length, now);
  }

  /** strike counts a bad message and disconnects a peer with too many in the window. */
  private strike(peer: NodeId, kind: 'malformed' | 'unknownType', e: MalformedMessageError): void {
    this.ctx.counters.count(kind, peer);
    const { maxMalformed, malformedWindowMs } = this.ctx.settings;
    const now = Date.now();
    this.strikes.push(now);
    while (this.strikes.length > 0 && this.strikes[0] <= now - malformedWindowMs) {
      this.strikes.shift();
    }
    this.ctx.log('debug', `dropped a bad message from node ${peer}: ${e.reason}`, { peer });
    if (this.strikes.length > maxMalformed) {
      this.ctx.counters.count('kicked', peer);
      this.ctx.log(
        'warn',
        `disconnecting node ${peer}: more than ${maxMalformed} bad messages within ${malformedWindowMs} ms (last: ${e.reason})`,
        { peer },
      );
      this.destroy();
    }
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private onClose(): void {
    this.closing = true;
    this.frames.release();
    this.clearHandshakeTimer();
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.hooks.closed(this);
  }
}
