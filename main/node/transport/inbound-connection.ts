/**
 * InboundConnection reads one accepted connection: a hello first (within the hello timeout, at
 * most MAX_HELLO_BYTES), then Raft messages from the peer the hello named. It never throws out of
 * a socket handler: bad frames are counted and dropped, a peer that sends too many within the
 * window is disconnected, and an oversized frame (after which the stream cannot be resynchronised)
 * closes the connection.
 */
import type { Socket } from 'node:net';
import type { NodeId } from '../../raft/types';
import { MalformedMessageError, UnknownMessageTypeError } from './codec';
import { FrameDecoder, FrameTooLargeError } from './framing';
import {
  MAX_HELLO_BYTES,
  checkHello,
  encodeErrorFrame,
  isErrorFrame,
  type ErrorFrame,
} from './hello';
import type { LinkContext } from './link-context';

/** CLOSE_GRACE_MS: how long a refused connection may take to flush its error frame. */
const CLOSE_GRACE_MS = 1000;

export interface InboundHooks {
  /** identified: the hello was accepted; the connection now speaks for `peer`. */
  identified(conn: InboundConnection): void;
  closed(conn: InboundConnection): void;
}

export class InboundConnection {
  /** peer: the node id from the accepted hello; undefined until then. */
  peer: NodeId | undefined;
  private readonly frames: FrameDecoder;
  private closing = false;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly strikes: number[] = [];

  constructor(
    readonly socket: Socket,
    private readonly ctx: LinkContext,
    private readonly hooks: InboundHooks,
  ) {
    this.frames = new FrameDecoder(MAX_HELLO_BYTES);
    socket.setNoDelay(true);
    this.helloTimer = setTimeout(
      () => this.guard(() => this.onHelloTimeout()),
      ctx.settings.helloTimeoutMs,
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

  /** destroy closes the connection at once. */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
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
    try {
      for (const body of this.frames.push(chunk)) {
        if (this.peer === undefined) this.onHello(body);
        else this.onMessage(this.peer, body);
        if (this.closing) return;
      }
    } catch (e) {
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
    if (isErrorFrame(res)) {
      this.refuse(res);
      return;
    }
    this.clearHelloTimer();
    this.peer = res.from;
    this.frames.maxFrameBytes = this.ctx.settings.maxFrameBytes;
    this.hooks.identified(this);
  }

  private onHelloTimeout(): void {
    this.helloTimer = undefined;
    if (this.peer !== undefined || this.closing) return;
    this.refuse({
      error: 'hello-timeout',
      detail: `no hello within ${this.ctx.settings.helloTimeoutMs} ms`,
    });
  }

  /** refuse counts a failed handshake, answers with an error frame and closes. */
  private refuse(err: ErrorFrame): void {
    this.clearHelloTimer();
    this.ctx.counters.count('handshakeFailures', undefined);
    this.ctx.log('warn', `refused connection from ${this.remote}: ${err.error}: ${err.detail}`, {
      error: err.error,
      detail: err.detail,
    });
    this.closing = true;
    this.socket.end(encodeErrorFrame(err));
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
  }

  private onMessage(peer: NodeId, body: Uint8Array): void {
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
    this.ctx.deliver(m);
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

  private clearHelloTimer(): void {
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  private onClose(): void {
    this.closing = true;
    this.clearHelloTimer();
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.hooks.closed(this);
  }
}
