/**
 * OutboundLink carries this node's messages to one peer over one TCP connection that this node
 * dials. It sends the hello first, then queued frames in corked batches, and reconnects with
 * jittered exponential backoff when the connection fails. The peer never sends Raft messages on
 * this connection; the only thing it may send is an error frame refusing the hello.
 */
import { connect, type Socket } from 'node:net';
import type { NodeId } from '../../raft/types';
import { FrameDecoder, FrameTooLargeError, writeBatch, type OutFrame } from './framing';
import { MAX_HELLO_BYTES, decodeErrorFrame, encodeHello } from './hello';
import type { LinkContext } from './link-context';
import { OutboundQueue, type QueueLimits } from './outbound-queue';

/** PeerAddress is where a peer listens. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** BATCH_BYTES: frames taken from the queue per corked write. */
const BATCH_BYTES = 256 * 1024;

type LinkState = 'idle' | 'connecting' | 'open' | 'closed';

export class OutboundLink {
  readonly queue: OutboundQueue;
  private state: LinkState = 'idle';
  private socket: Socket | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private flushScheduled = false;
  private waitingDrain = false;
  private refused = false;

  constructor(
    readonly peer: NodeId,
    private address: PeerAddress,
    readonly addressText: string,
    private readonly ctx: LinkContext,
    queueLimits: QueueLimits,
  ) {
    this.queue = new OutboundQueue(queueLimits);
  }

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
   */
  enqueue(frame: OutFrame): void {
    if (this.state === 'closed' || (this.state === 'idle' && this.retryTimer !== undefined)) {
      this.ctx.counters.count('dropped', this.peer);
      return;
    }
    const dropped = this.queue.push(frame);
    if (dropped > 0) this.ctx.counters.count('dropped', this.peer, dropped);
    if (this.state === 'open') this.scheduleFlush();
  }

  /** close ends the link for good; queued frames are dropped. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    const dropped = this.queue.clear();
    if (dropped > 0) this.ctx.counters.count('dropped', this.peer, dropped);
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  private clearTimers(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.retryTimer = undefined;
    this.connectTimer = undefined;
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
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      s.destroy(new Error(`connect timed out after ${settings.connectTimeoutMs} ms`));
    }, settings.connectTimeoutMs);
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
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.state = 'open';
    this.attempt = 0;
    this.waitingDrain = false;
    this.ctx.counters.count('connects', this.peer);
    this.ctx.log('debug', `connected to node ${this.peer}`, {
      peer: this.peer,
      address: this.addressText,
    });
    s.write(encodeHello({ clusterId: this.ctx.clusterId, from: this.ctx.self, to: this.peer }));
    this.flush();
  }

  private onData(s: Socket, replies: FrameDecoder, chunk: Buffer): void {
    if (s !== this.socket) return;
    try {
      for (const body of replies.push(chunk)) {
        const err = decodeErrorFrame(body);
        if (err === undefined) {
          this.ctx.log('warn', `node ${this.peer} sent something other than an error frame`, {
            peer: this.peer,
          });
          this.ctx.counters.count('malformed', this.peer);
          s.destroy();
          return;
        }
        this.refused = true;
        this.ctx.counters.count('handshakeFailures', this.peer);
        this.ctx.log(
          'warn',
          `node ${this.peer} refused the connection: ${err.error}: ${err.detail}`,
          {
            peer: this.peer,
            address: this.addressText,
            error: err.error,
            detail: err.detail,
          },
        );
      }
    } catch (e) {
      if (e instanceof FrameTooLargeError) this.ctx.counters.count('oversized', this.peer);
      this.ctx.log('warn', `bad reply from node ${this.peer}: ${(e as Error).message}`, {
        peer: this.peer,
      });
      s.destroy();
    }
  }

  private onClose(s: Socket): void {
    if (s !== this.socket) return;
    this.socket = undefined;
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (this.state === 'open') this.ctx.counters.count('disconnects', this.peer);
    if (this.state === 'closed') return;
    this.state = 'idle';
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
