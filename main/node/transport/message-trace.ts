/**
 * message-trace: what the transport remembers of the messages it sends and receives, without
 * their payloads: a bounded ring of recent message headers (TraceRing), and a sampler that picks
 * at most N of the messages sent per link and message type per second for a live stream
 * (TraceSampler). The ring keeps its fields in one preallocated Float64Array, a trace's fields
 * side by side, so recording a message allocates nothing; a MessageTrace object is built only
 * when a trace is read.
 */
import type { MessageFate, MessageHeader, MessageTrace } from '../../raft/message-header';
import type { Message, MessageType, NodeId } from '../../raft/types';
import { MAX_MESSAGE_TYPE_CODE, MESSAGE_TYPE_CODES, messageTypeOfCode } from './codec';

/** DEFAULT_TRACE_CAPACITY: traces the ring keeps (the oldest are overwritten). */
export const DEFAULT_TRACE_CAPACITY = 4096;

/** MAX_TRACE_READ: the most traces one read returns. */
export const MAX_TRACE_READ = 4096;

/** DEFAULT_TRACE_READ: traces a read returns when it does not say. */
export const DEFAULT_TRACE_READ = 1024;

/** TraceDir: the direction of a recorded message, as stored (0 out, 1 in). */
export const OUT = 0;
export const IN = 1;

const FATES: readonly MessageFate[] = ['sent', 'delayed', 'dropped', 'received'];
/** FATE_CODES: a fate as stored. */
export const FATE: Readonly<Record<MessageFate, number>> = {
  sent: 0,
  delayed: 1,
  dropped: 2,
  received: 3,
};

const REJECT = 1;
const DONE = 2;

/** The fields of a trace's slot in TraceRing.slots (STRIDE numbers per trace). */
const F_TIME = 0;
const F_FROM = 1;
const F_TO = 2;
const F_TERM = 3;
const F_INDEX = 4;
const F_LOG_TERM = 5;
const F_ENTRIES = 6;
const F_ENTRY_BYTES = 7;
const F_COMMIT = 8;
const F_HINT = 9;
const F_SNAP_OFFSET = 10;
const F_SNAP_TOTAL = 11;
const F_DELAY = 12;
const F_BYTES = 13;
/** F_PACKED: type code | dir << 5 | fate << 6 | flags << 8. */
const F_PACKED = 14;
const STRIDE = 16;

/** TraceQuery: which traces a read wants (see TraceRing.read). */
export interface TraceQuery {
  /** since: the first seq wanted (default: the oldest kept). */
  since?: number;
  /** peer: only messages from or to this node. */
  peer?: NodeId;
  /** limit: at most this many traces (default DEFAULT_TRACE_READ, at most MAX_TRACE_READ). */
  limit?: number;
}

/** TraceRead: traces oldest first, and the seq to ask from next to continue without a gap. */
export interface TraceRead {
  traces: MessageTrace[];
  nextSeq: number;
}

/** TraceListener is told the seq of every 'out' trace as it is recorded. */
export interface TraceListener {
  offer(ring: TraceRing, seq: number): void;
}

/**
 * TraceRing keeps the latest `capacity` traces. Seqs start at 1 and increase by one per trace;
 * trace `seq` lives in slot seq % capacity until seq + capacity overwrites it.
 */
export class TraceRing {
  readonly capacity: number;
  /** nextSeq: the seq the next trace gets. */
  nextSeq = 1;
  /**
   * slots: STRIDE numbers per trace, side by side (a record touches two cache lines, not one
   * per field). Fields a message type does not have keep a previous trace's values and are
   * never read for it.
   */
  private readonly slots: Float64Array;
  private listeners: TraceListener[] = [];

  constructor(capacity = DEFAULT_TRACE_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`trace capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.slots = new Float64Array(capacity * STRIDE);
  }

  /** oldestSeq: the seq of the oldest trace still kept (nextSeq when there is none). */
  get oldestSeq(): number {
    return Math.max(1, this.nextSeq - this.capacity);
  }

  /**
   * record stores one message's header and returns its seq. `dir` is OUT or IN, `fate` one of
   * FATE; `time` is ms since the epoch. Listeners hear of 'out' traces after they are stored.
   */
  record(
    dir: number,
    fate: number,
    m: Message,
    delayMs: number,
    bytes: number,
    time: number,
  ): number {
    const seq = this.nextSeq++;
    const at = (seq % this.capacity) * STRIDE;
    const f = this.slots;
    f[at + F_TIME] = time;
    f[at + F_FROM] = m.from;
    f[at + F_TO] = m.to;
    f[at + F_TERM] = m.term;
    f[at + F_DELAY] = delayMs;
    f[at + F_BYTES] = bytes;
    let flags = 0;
    switch (m.type) {
      case 'app': {
        f[at + F_INDEX] = m.prevIndex;
        f[at + F_LOG_TERM] = m.prevTerm;
        const es = m.entries;
        f[at + F_ENTRIES] = es.length;
        let n = 0;
        for (let k = 0; k < es.length; k++) n += es[k].data.length;
        f[at + F_ENTRY_BYTES] = n;
        f[at + F_COMMIT] = m.commit;
        break;
      }
      case 'app-resp':
        f[at + F_INDEX] = m.index;
        if (m.reject) flags = REJECT;
        f[at + F_HINT] = m.hintIndex;
        break;
      case 'vote':
      case 'pre-vote':
        f[at + F_INDEX] = m.lastIndex;
        f[at + F_LOG_TERM] = m.lastTerm;
        break;
      case 'vote-resp':
      case 'pre-vote-resp':
        if (m.reject) flags = REJECT;
        break;
      case 'heartbeat':
        f[at + F_COMMIT] = m.commit;
        break;
      case 'snap':
        f[at + F_INDEX] = m.meta.index;
        f[at + F_LOG_TERM] = m.meta.term;
        f[at + F_SNAP_OFFSET] = m.offset;
        f[at + F_SNAP_TOTAL] = m.total;
        f[at + F_ENTRY_BYTES] = m.data.length;
        if (m.done) flags = DONE;
        break;
      case 'snap-resp':
        f[at + F_INDEX] = m.snapIndex;
        f[at + F_SNAP_OFFSET] = m.nextOffset;
        flags = (m.done ? DONE : 0) | (m.gap ? REJECT : 0);
        break;
      case 'read-index-resp':
        f[at + F_INDEX] = m.index;
        if (m.reject) flags = REJECT;
        break;
      case 'heartbeat-resp':
      case 'timeout-now':
      case 'read-index':
        break;
    }
    // type code (< 32), dir, fate and flags in one number.
    f[at + F_PACKED] = MESSAGE_TYPE_CODES[m.type] | (dir << 5) | (fate << 6) | (flags << 8);
    if (dir === OUT && this.listeners.length > 0) {
      for (const l of this.listeners) l.offer(this, seq);
    }
    return seq;
  }

  /** has: trace `seq` is still kept. */
  has(seq: number): boolean {
    return seq >= this.oldestSeq && seq < this.nextSeq;
  }

  /** toOf, fromOf, typeCodeOf: fields of a kept trace, without building it. */
  toOf(seq: number): NodeId {
    return this.slots[(seq % this.capacity) * STRIDE + F_TO];
  }

  fromOf(seq: number): NodeId {
    return this.slots[(seq % this.capacity) * STRIDE + F_FROM];
  }

  typeCodeOf(seq: number): number {
    return this.slots[(seq % this.capacity) * STRIDE + F_PACKED] & 31;
  }

  /**
   * trace builds trace `seq`, or undefined if it is not kept. Its header has the fields headerOf
   * gives the message (main/raft/message-header.ts).
   */
  trace(seq: number): MessageTrace | undefined {
    if (!this.has(seq)) return undefined;
    const at = (seq % this.capacity) * STRIDE;
    const f = this.slots;
    const packed = f[at + F_PACKED];
    const type = messageTypeOfCode(packed & 31) as MessageType;
    const flags = packed >> 8;
    const h: MessageHeader = { from: f[at + F_FROM], to: f[at + F_TO], type, term: f[at + F_TERM] };
    switch (type) {
      case 'app':
        h.index = f[at + F_INDEX];
        h.logTerm = f[at + F_LOG_TERM];
        h.entries = f[at + F_ENTRIES];
        h.entryBytes = f[at + F_ENTRY_BYTES];
        h.commit = f[at + F_COMMIT];
        break;
      case 'app-resp':
        h.index = f[at + F_INDEX];
        h.reject = (flags & REJECT) !== 0;
        if (h.reject) h.hint = f[at + F_HINT];
        break;
      case 'vote':
      case 'pre-vote':
        h.index = f[at + F_INDEX];
        h.logTerm = f[at + F_LOG_TERM];
        break;
      case 'vote-resp':
      case 'pre-vote-resp':
        h.reject = (flags & REJECT) !== 0;
        break;
      case 'heartbeat':
        h.commit = f[at + F_COMMIT];
        break;
      case 'snap':
        h.index = f[at + F_INDEX];
        h.logTerm = f[at + F_LOG_TERM];
        h.snapOffset = f[at + F_SNAP_OFFSET];
        h.snapTotal = f[at + F_SNAP_TOTAL];
        h.entryBytes = f[at + F_ENTRY_BYTES];
        h.done = (flags & DONE) !== 0;
        break;
      case 'snap-resp':
        h.index = f[at + F_INDEX];
        h.snapOffset = f[at + F_SNAP_OFFSET];
        h.done = (flags & DONE) !== 0;
        h.reject = (flags & REJECT) !== 0;
        break;
      case 'read-index-resp':
        h.index = f[at + F_INDEX];
        h.reject = (flags & REJECT) !== 0;
        break;
      case 'heartbeat-resp':
      case 'timeout-now':
      case 'read-index':
        break;
    }
    return {
      ...h,
      seq,
      time: f[at + F_TIME],
      dir: ((packed >> 5) & 1) === OUT ? 'out' : 'in',
      fate: FATES[(packed >> 6) & 3],
      delayMs: f[at + F_DELAY],
      bytes: f[at + F_BYTES],
    };
  }

  /**
   * read returns the kept traces from `since` on (oldest first), those from or to `peer` if
   * given, at most `limit`. nextSeq is the `since` of the next read: one past the last trace
   * looked at. A reader that asks for a seq older than the oldest kept gets the oldest kept
   * first, and sees the gap in the seqs.
   */
  read(q: TraceQuery = {}): TraceRead {
    const limit = Math.min(q.limit ?? DEFAULT_TRACE_READ, MAX_TRACE_READ);
    const traces: MessageTrace[] = [];
    let seq = Math.max(q.since ?? 0, this.oldestSeq);
    const end = this.nextSeq;
    const peer = q.peer;
    for (; seq < end && traces.length < limit; seq++) {
      if (peer !== undefined && this.fromOf(seq) !== peer && this.toOf(seq) !== peer) continue;
      traces.push(this.trace(seq) as MessageTrace);
    }
    return { traces, nextSeq: Math.max(seq, q.since ?? 0) };
  }

  /** listen adds a listener of 'out' traces; the returned function removes it. */
  listen(l: TraceListener): () => void {
    this.listeners = [...this.listeners, l];
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  /** listening: listeners registered now. */
  get listening(): number {
    return this.listeners.length;
  }
}

/** DEFAULT_MESSAGES_PER_LINK_HZ: a sampler's budget per link and message type per second. */
export const DEFAULT_MESSAGES_PER_LINK_HZ = 10;
/** MAX_MESSAGES_PER_LINK_HZ: the largest budget a subscriber may ask for. */
export const MAX_MESSAGES_PER_LINK_HZ = 1000;
/** MAX_SAMPLED_PENDING: sampled traces held for one subscriber between drains; more are skipped. */
export const MAX_SAMPLED_PENDING = 4096;

/** SampledTraces: what a sampler picked since the last drain, and per link how many it did not. */
export interface SampledTraces {
  traces: MessageTrace[];
  /** skipped: "from-to" → messages on that link left out since the last drain. */
  skipped: Record<string, number>;
}

const TYPE_SLOTS = MAX_MESSAGE_TYPE_CODE + 1;

/**
 * TraceSampler picks, from the 'out' traces a ring records, at most `perLinkHz` per link (from,
 * to) and message type in each one-second window (windows start at the first trace after the
 * previous one ended), and counts the rest per link. Vote, pre-vote, their responses,
 * timeout-now and snapshot messages are few, and with a budget per type they are never crowded
 * out by heartbeats and appends. Picked traces are built at once (at most perLinkHz per link and
 * type per second), so a ring that wraps before the next drain loses none of them.
 */
export class TraceSampler implements TraceListener {
  private windowStart = -Infinity;
  /** counts: per `to`, traces picked in this window, by type code (out traces are all from one node). */
  private readonly counts = new Map<number, Uint32Array>();
  private pending: MessageTrace[] = [];
  private skipped = new Map<NodeId, Map<NodeId, number>>();
  private skippedAny = false;

  constructor(
    readonly perLinkHz: number,
    private readonly now: () => number = Date.now,
    private readonly maxPending = MAX_SAMPLED_PENDING,
  ) {}

  offer(ring: TraceRing, seq: number): void {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      for (const c of this.counts.values()) c.fill(0);
    }
    const to = ring.toOf(seq);
    let c = this.counts.get(to);
    if (c === undefined) {
      c = new Uint32Array(TYPE_SLOTS);
      this.counts.set(to, c);
    }
    const code = ring.typeCodeOf(seq);
    if (c[code] < this.perLinkHz && this.pending.length < this.maxPending) {
      c[code] += 1;
      this.pending.push(ring.trace(seq) as MessageTrace);
      return;
    }
    const from = ring.fromOf(seq);
    let byTo = this.skipped.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.skipped.set(from, byTo);
    }
    byTo.set(to, (byTo.get(to) ?? 0) + 1);
    this.skippedAny = true;
  }

  /** empty: nothing picked or skipped since the last drain. */
  get empty(): boolean {
    return this.pending.length === 0 && !this.skippedAny;
  }

  /** drain returns what was picked (in seq order) and skipped since the last drain, and resets. */
  drain(): SampledTraces {
    const skipped: Record<string, number> = {};
    for (const [from, byTo] of this.skipped) {
      for (const [to, n] of byTo) skipped[`${from}-${to}`] = n;
    }
    const traces = this.pending;
    this.pending = [];
    this.skipped = new Map();
    this.skippedAny = false;
    return { traces, skipped };
  }
}
