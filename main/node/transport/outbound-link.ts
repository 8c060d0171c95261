/**
 * OutboundLink carries this node's messages to one peer over one TCP connection that this node
 * dials. It runs the dialer's side of the handshake (docs/protocol.md, "Handshake"): a hello with
 * a fresh nonce, then the acceptor's challenge, whose proof must show the peer secret before this
 * side sends its own proof. Only then are queued frames written, in corked batches: a process
 * that took a dead peer's port gets a hello and nothing else. The link reconnects with jittered
 * exponential backoff when the connection fails. After the handshake the peer never sends Raft
 * messages on this connection; the only thing it may still send is an error frame.
 *
 * Queue and reconnects: frames wait in the queue while the link connects and authenticates. When
 * an open connection is lost, the queue is cleared and counted as dropped, and frames sent until
 * the next attempt are dropped too (see enqueue): Raft retransmits what matters from its own
 * state, and a backlog of stale messages replayed on the new connection would only delay the
 * fresh ones behind it.
 *
 * Pace: at a pace above 1 every frame is held MESSAGE_FLIGHT_MS × pace before it joins the queue
 * (transport/pace.ts), in order; held frames are dropped with the queue when the connection is
 * lost.
 */
import { connect, type Socket } from 'node:net';
import type { NodeId } from '../../raft/types';
import {
  FrameDecoder,
  FrameTooLargeError,
  outFrameBytes,
  writeBatch,
  type OutFrame,
} from './framing';
import {
  MAX_HELLO_BYTES,
  decodeChallengeReply,
  decodeErrorFrame,
  encodeHello,
  encodeProof,
  isErrorFrame,
  type Challenge,
  type ErrorFrame,
  HELLO_MAGIC,
  PROTOCOL_VERSION,
} from './hello';
import type { LinkContext } from './link-context';
import { OutboundQueue, type QueueLimits } from './outbound-queue';
import { acceptorProof, dialerProof, newNonce, proofMatches, type Transcript } from './peer-auth';

/** PeerAddress is where a peer listens. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** HeldFrame: a frame the pace holds until `due` (ms since the epoch). */
interface HeldFrame {
  due: number;
  frame: OutFrame;
}

/** BATCH_BYTES: frames taken from the queue per corked write. */
const BATCH_BYTES = 256 * 1024;

/**
 * LinkState: idle (no connection; a retry may be pending), connecting (TCP connect under way),
 * handshaking (hello sent, waiting for the acceptor's challenge), open (authenticated; frames
 * flow), closed (for good).
 */
type LinkState = 'idle' | 'connecting' | 'handshaking' | 'open' | 'closed';

export class OutboundLink {
  readonly queue: OutboundQueue;
  private state: LinkState = 'idle';
  private socket: Socket | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private flushScheduled = false;
  private waitingDrain = false;
  private refused = false;
  private dialerNonce: Buffer | undefined;
  /** held: frames the pace holds, oldest first from heldHead, each with when it is due. */
  private held: HeldFrame[] = [];
  /** heldBytes: the bytes of the frames the pace holds now. */
  private heldBytes = 0;
  private heldHead = 0;
  private heldTimer: ReturnType<typeof setTimeout> | undefined;
  private lastDue = 0;

  constructor(
    readonly peer: NodeId,
    private address: PeerAddress,
    readonly addressText: string,
    private readonly ctx: LinkContext,
    queueLimits: QueueLimits,
  ) {
    this.queue = new OutboundQueue(queueLimits);
  }

  /** connected: the connection is open and the peer proved the secret. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** start dials the peer if the link is idle and no retry is pending. */
  start(): void {
    if (this.state === 'idle' && this.retryTimer === undefined) this.dial();
  }

  /**
   * enqueue queues one frame and arranges for it to be written in this tick's batch. While the
   * peer is known to be unreachable (between a failed connection and the next attempt) frames are
   * dropped and counted: Raft resends what matters, and replaying a backlog of stale messages to a
   * peer that comes back only delays it (and would hold memory for a peer that is down for good).
   * At a pace above 1 the frame is first held (see hold). Returns -1 if the frame was dropped,
   * else how long it is held (ms; 0 when not).
   */
  enqueue(frame: OutFrame): number {
    if (this.unreachable()) {
      this.ctx.counters.count('dropped', this.peer);
      return -1;
    }
    const hold = this.ctx.paceHoldMs;
    if (hold > 0 || this.held.length > this.heldHead) return this.hold(frame, hold);
    this.queueFrame(frame);
    return 0;
  }

  /** unreachable: the link is closed, or the peer failed and the next attempt is pending. */
  private unreachable(): boolean {
    return this.state === 'closed' || (this.state === 'idle' && this.retryTimer !== undefined);
  }

  private queueFrame(frame: OutFrame): void {
    const dropped = this.queue.push(frame);
    if (dropped > 0) this.ctx.counters.count('dropped', this.peer, dropped);
    if (this.state === 'open') this.scheduleFlush();
  }

  /**
   * hold keeps a frame for `ms` (the pace's hold) before it joins the queue, and returns how long
   * it will be held. Frames leave in the order they came: one is never released before a frame
   * held earlier, so when the pace drops, newer frames wait behind older ones. The held frames
   * have the queue's bounds (messages and bytes): a frame beyond them is dropped (-1), not held.
   */
  private hold(frame: OutFrame, ms: number): number {
    const size = outFrameBytes(frame);
    const { maxMessages, maxBytes } = this.queue.limits;
    if (this.heldFrames + 1 > maxMessages || this.heldBytes + size > maxBytes) {
      this.ctx.counters.count('dropped', this.peer);
      return -1;
    }
    this.heldBytes += size;
    const now = Date.now();
    const due = Math.max(now + ms, this.lastDue);
    this.lastDue = due;
    this.held.push({ due, frame });
    if (this.heldTimer === undefined) this.armHeld(now);
    return due - now;
  }

  private armHeld(now: number): void {
    const wait = Math.max(0, this.held[this.heldHead].due - now);
    this.heldTimer = setTimeout(() => this.guard(() => this.releaseHeld()), wait);
  }

  /** releaseHeld moves the frames that are due to the queue (dropping them if the peer is down). */
  private releaseHeld(): void {
    this.heldTimer = undefined;
    const now = Date.now();
    while (this.heldHead < this.held.length && this.held[this.heldHead].due <= now) {
      const { frame } = this.held[this.heldHead];
      this.held[this.heldHead] = undefined as unknown as HeldFrame;
      this.heldHead += 1;
      this.heldBytes -= outFrameBytes(frame);
      if (this.unreachable()) this.ctx.counters.count('dropped', this.peer);
      else this.queueFrame(frame);
    }
    if (this.heldHead >= this.held.length) {
      this.held = [];
      this.heldHead = 0;
      return;
    }
    if (this.heldHead >= 1024) {
      this.held = this.held.slice(this.heldHead);
      this.heldHead = 0;
    }
    this.armHeld(now);
  }

  /** dropHeld drops every held frame (the link closed or lost its connection). */
  private dropHeld(): void {
    if (this.heldTimer !== undefined) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    const n = this.held.length - this.heldHead;
    this.held = [];
    this.heldHead = 0;
    this.heldBytes = 0;
    if (n > 0) this.ctx.counters.count('dropped', this.peer, n);
  }

  /** heldFrames: frames the pace holds now. */
  get heldFrames(): number {
    return this.held.length - this.heldHead;
  }

  /** close ends the link for good; queued frames are dropped. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.dropHeld();
    const dropped = this.queue.clear();
    if (dropped > 0) this.ctx.counters.count('dropped', this.peer, dropped);
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  private clearTimers(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.retryTimer = undefined;
    this.handshakeTimer = undefined;
  }

  private dial(): void {
    this.retryTimer = undefined;
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.refused = false;
    const { settings } = this.ctx;
    const s = connect({ host: this.address.host, port: this.address.port });
    this.socket = s;
    s.setNoDelay(true);
    const replies = new FrameDecoder(MAX_HELLO_BYTES);
    // One timer covers the TCP connect and the handshake: a peer (or whatever holds its port)
    // that accepts and then says nothing does not hold the link.
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = undefined;
      s.destroy(
        new Error(
          `no authenticated connection within ${settings.handshakeTimeoutMs} ms (${this.state})`,
        ),
      );
    }, settings.handshakeTimeoutMs);
    s.once('connect', () => this.guard(() => this.onConnect(s)));
    s.on('data', (chunk: Buffer) => this.guard(() => this.onData(s, replies, chunk)));
    s.on('drain', () =>
      this.guard(() => {
        this.waitingDrain = false;
        this.flush();
      }),
    );
    s.on('error', (err) => {
      this.ctx.log('debug', `connection to node ${this.peer} failed: ${err.message}`, {
        peer: this.peer,
        address: this.addressText,
      });
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        this.guard(() => this.ctx.refused(this.peer));
      }
    });
    s.on('close', () => this.guard(() => this.onClose(s)));
  }

  /** guard keeps any exception inside the socket handler that raised it. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.ctx.log('error', `link to node ${this.peer}: ${(e as Error).message}`, {
        peer: this.peer,
      });
      this.socket?.destroy();
    }
  }

  private onConnect(s: Socket): void {
    if (s !== this.socket || this.state !== 'connecting') return;
    this.state = 'handshaking';
    this.dialerNonce = newNonce();
    s.write(
      encodeHello({
        clusterId: this.ctx.clusterId,
        from: this.ctx.self,
        to: this.peer,
        nonce: this.dialerNonce,
      }),
    );
  }

  private onData(s: Socket, replies: FrameDecoder, chunk: Buffer): void {
    if (s !== this.socket) return;
    try {
      for (const body of replies.push(chunk)) {
        if (this.state === 'handshaking') {
          const reply = decodeChallengeReply(body);
          if (typeof reply === 'string') {
            this.protocolViolation(s, `an unreadable answer to the hello (${reply})`);
            return;
          }
          if (isErrorFrame<Challenge>(reply)) this.onRefused(reply);
          else if (!this.onChallenge(s, reply)) return;
          continue;
        }
        const err = decodeErrorFrame(body);
        if (err === undefined) {
          this.protocolViolation(s, 'something other than an error frame after the handshake');
          return;
        }
        this.onRefused(err);
      }
    } catch (e) {
      if (e instanceof FrameTooLargeError) this.ctx.counters.count('oversized', this.peer);
      this.ctx.log('warn', `bad reply from node ${this.peer}: ${(e as Error).message}`, {
        peer: this.peer,
      });
      s.destroy();
    }
  }

  /**
   * onChallenge checks the acceptor's proof and, if it shows the secret, sends this side's proof
   * and opens the link. It returns false (and closes) if the acceptor could not prove it.
   */
  private onChallenge(s: Socket, c: Challenge): boolean {
    const t: Transcript = {
      magic: HELLO_MAGIC,
      version: PROTOCOL_VERSION,
      clusterId: this.ctx.clusterId,
      from: this.ctx.self,
      to: this.peer,
      dialerNonce: this.dialerNonce as Buffer,
      acceptorNonce: c.nonce,
    };
    if (!proofMatches(c.proof, acceptorProof(this.ctx.secret, t))) {
      this.refused = true;
      this.ctx.counters.count('authFailures', this.peer);
      this.ctx.counters.count('handshakeFailures', this.peer);
      this.ctx.log(
        'warn',
        `whatever listens at ${this.addressText} for node ${this.peer} did not prove this cluster's peer secret; closing without sending anything`,
        { peer: this.peer, address: this.addressText },
      );
      s.destroy();
      return false;
    }
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.dialerNonce = undefined;
    s.write(encodeProof(dialerProof(this.ctx.secret, t)));
    this.state = 'open';
    this.attempt = 0;
    this.waitingDrain = false;
    this.ctx.counters.count('connects', this.peer);
    this.ctx.log('debug', `connected to node ${this.peer}`, {
      peer: this.peer,
      address: this.addressText,
    });
    this.flush();
    return true;
  }

  private onRefused(err: ErrorFrame): void {
    this.refused = true;
    this.ctx.counters.count('handshakeFailures', this.peer);
    if (err.error === 'auth-failed') this.ctx.counters.count('authFailures', this.peer);
    this.ctx.log('warn', `node ${this.peer} refused the connection: ${err.error}: ${err.detail}`, {
      peer: this.peer,
      address: this.addressText,
      error: err.error,
      detail: err.detail,
    });
  }

  private protocolViolation(s: Socket, what: string): void {
    this.ctx.log('warn', `node ${this.peer} sent ${what}`, { peer: this.peer });
    this.ctx.counters.count('malformed', this.peer);
    s.destroy();
  }

  private onClose(s: Socket): void {
    if (s !== this.socket) return;
    this.socket = undefined;
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.dialerNonce = undefined;
    if (this.state === 'open') this.ctx.counters.count('disconnects', this.peer);
    if (this.state === 'closed') return;
    this.state = 'idle';
    this.dropHeld();
    const dropped = this.queue.clear();
    if (dropped > 0) this.ctx.counters.count('dropped', this.peer, dropped);
    this.scheduleRetry();
  }
  /**
   * scheduleRetry waits a jittered exponential backoff: min * 2^attempt capped at max, then a
   * uniform amount in [half of that, all of it], never below min. A peer that refused the hello
   * gets the maximum: its configuration will not change in milliseconds.
   */
  private scheduleRetry(): void {
    const { backoffMinMs: min, backoffMaxMs: max } = this.ctx.settings;
    if (this.refused) this.attempt = Math.max(this.attempt, 64);
    const ceiling = Math.min(max, min * 2 ** Math.min(this.attempt, 30));
    const delay = Math.max(min, ceiling * (0.5 + 0.5 * this.ctx.rng()));
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.guard(() => this.dial()), delay);
  }

  /** flushNow writes a flush that is scheduled for the end of this tick at once. */
  flushNow(): void {
    if (this.flushScheduled) this.guard(() => this.flush());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.guard(() => this.flush()));
  }

  /** flush writes queued frames until the queue is empty or the socket buffer is full enough. */
  private flush(): void {
    this.flushScheduled = false;
    const s = this.socket;
    if (this.state !== 'open' || s === undefined || s.destroyed || this.waitingDrain) return;
    const limit = Math.max(this.ctx.settings.writeHighWaterBytes, s.writableHighWaterMark);
    while (this.queue.length > 0) {
      const batch = this.queue.takeBatch(BATCH_BYTES);
      writeBatch(s, batch.buffers);
      this.ctx.counters.count('sent', this.peer, batch.frames);
      if (s.writableLength >= limit) {
        // A write returned false (limit >= the socket's high-water mark), so 'drain' follows.
        this.waitingDrain = true;
        return;
      }
    }
  }
}
