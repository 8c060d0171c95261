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
  private items: (Uint8Array | undefined)[] = [];
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
  push(frame: Uint8Array): number {
    if (frame.length > this.limits.maxBytes || this.limits.maxMessages <= 0) return 1;
    let dropped = 0;
    while (
      this.size > 0 &&
      (this.size + 1 > this.limits.maxMessages ||
        this.byteSize + frame.length > this.limits.maxBytes)
    ) {
      this.shift();
      dropped += 1;
    }
    this.items.push(frame);
    this.size += 1;
    this.byteSize += frame.length;
    return dropped;
  }

  /** takeBatch removes frames from the front: at least one, then more while under maxBytes. */
  takeBatch(maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bytes = 0;
    while (this.size > 0) {
      const next = this.items[this.head] as Uint8Array;
      if (out.length > 0 && bytes + next.length > maxBytes) break;
      out.push(next);
      bytes += next.length;
      this.shift();
    }
    return out;
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
    const f = this.items[this.head] as Uint8Array;
    this.items[this.head] = undefined;
    this.head += 1;
    this.size -= 1;
    this.byteSize -= f.length;
    if (this.size === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
