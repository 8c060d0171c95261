import { outFrameBytes, type OutFrame } from './framing';

/**
 * OutboundQueue holds encoded frames waiting for one peer's connection, bounded by count and by
 * bytes. When a new frame does not fit, the oldest frames are dropped until it does: the oldest
 * are the stalest (a newer heartbeat or AppendEntries supersedes them) and Raft retransmits
 * whatever is lost. A frame larger than the whole byte budget is dropped itself.
 */
export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
}

export const DEFAULT_QUEUE_LIMITS: Readonly<QueueLimits> = {
  maxMessages: 8192,
  maxBytes: 64 * 1024 * 1024,
};

export class OutboundQueue {
  private items: (OutFrame | undefined)[] = [];
  private head = 0;
  private size = 0;
  private byteSize = 0;

  constructor(readonly limits: Readonly<QueueLimits> = DEFAULT_QUEUE_LIMITS) {}

  get length(): number {
    return this.size;
  }

  get bytes(): number {
    return this.byteSize;
  }

  /** push appends a frame and returns how many frames were dropped to respect the limits. */
  push(frame: OutFrame): number {
    const size = outFrameBytes(frame);
    if (size > this.limits.maxBytes || this.limits.maxMessages <= 0) return 1;
    let dropped = 0;
    while (
      this.size > 0 &&
      (this.size + 1 > this.limits.maxMessages || this.byteSize + size > this.limits.maxBytes)
    ) {
      this.shift();
      dropped += 1;
    }
    this.items.push(frame);
    this.size += 1;
    this.byteSize += size;
    return dropped;
  }

  /**
   * takeBatch removes frames from the front: at least one, then more while under maxBytes. It
   * returns their buffers in order (a frame made of parts gives all of them).
   */
  takeBatch(maxBytes: number): { buffers: Uint8Array[]; frames: number } {
    const buffers: Uint8Array[] = [];
    let frames = 0;
    let bytes = 0;
    while (this.size > 0) {
      const next = this.items[this.head] as OutFrame;
      const size = outFrameBytes(next);
      if (frames > 0 && bytes + size > maxBytes) break;
      if (next instanceof Uint8Array) buffers.push(next);
      else for (let i = 0; i < next.length; i++) buffers.push(next[i]);
      frames += 1;
      bytes += size;
      this.shift();
    }
    return { buffers, frames };
  }

  /** clear empties the queue and returns how many frames it held. */
  clear(): number {
    const n = this.size;
    this.items = [];
    this.head = 0;
    this.size = 0;
    this.byteSize = 0;
    return n;
  }

  private shift(): void {
    const f = this.items[this.head] as OutFrame;
    this.items[this.head] = undefined;
    this.head += 1;
    this.size -= 1;
    this.byteSize -= outFrameBytes(f);
    if (this.size === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
