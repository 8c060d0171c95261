/**
 * traffic: per-link message and byte rates from the monotonic counters each node reports. A pure
 * meter: it is fed (sender, the time of its report, what it has sent to each peer since it
 * started) and answers what each directed link carried over about the last second. No I/O, no
 * clock of its own; the caller passes every time.
 */
import type { NodeId } from '../contract/view';
import { linkKey, type LinkRate } from './topology';

/** SentCounts: what one sender has sent to one peer since it started (monotonic). */
export interface SentCounts {
  msgs: number;
  bytes: number;
}

interface Sample {
  at: number;
  msgs: number;
  bytes: number;
}

/** TrafficOptions: the window rates are taken over, and when a silent sender's rates expire. */
export interface TrafficOptions {
  /** windowMs: rates cover the samples of the last windowMs (default 1000). */
  windowMs?: number;
  /** staleMs: a link whose sender has not reported for this long has no rate (default 2000). */
  staleMs?: number;
}

/**
 * TrafficMeter keeps, per directed link, the samples of its sender's counters over a little more
 * than the window. A counter that goes down (the sender restarted) starts the link's history
 * over; a sample not newer than the link's last one is ignored. Memory: a few samples per link.
 */
export class TrafficMeter {
  private readonly links = new Map<string, Sample[]>();
  private readonly windowMs: number;
  private readonly staleMs: number;

  constructor(options: TrafficOptions = {}) {
    this.windowMs = options.windowMs ?? 1000;
    this.staleMs = options.staleMs ?? 2000;
  }

  /** feed records what `from` reported at `at` (ms) of its traffic to each peer. */
  feed(from: NodeId, at: number, sent: ReadonlyMap<NodeId, SentCounts>): void {
    for (const [to, c] of sent) {
      const key = linkKey(from, to);
      let s = this.links.get(key);
      if (!s) this.links.set(key, (s = []));
      const last = s[s.length - 1];
      if (last && at <= last.at) continue;
      if (last && (c.msgs < last.msgs || c.bytes < last.bytes)) s.length = 0;
      s.push({ at, msgs: c.msgs, bytes: c.bytes });
      // Keep one sample at or before the window's start, so a rate always spans the window.
      while (s.length > 2 && s[1]!.at <= at - this.windowMs) s.shift();
    }
  }

  /** forget drops every link from or to `id` (a node that stopped or was removed). */
  forget(id: NodeId): void {
    for (const key of [...this.links.keys()]) {
      const [a, b] = key.split('-').map(Number);
      if (a === id || b === id) this.links.delete(key);
    }
  }

  /**
   * rates: msgs/s and bytes/s per link at `now`, from the first sample in the window (or the
   * last one before it) to the latest; a link with one sample, or whose latest sample is older
   * than staleMs, is left out (no figures).
   */
  rates(now: number): Map<string, LinkRate> {
    const out = new Map<string, LinkRate>();
    for (const [key, s] of this.links) {
      const last = s[s.length - 1];
      if (!last || s.length < 2 || now - last.at > this.staleMs) continue;
      let first = s[0]!;
      for (const x of s) {
        if (x.at <= last.at - this.windowMs) first = x;
        else break;
      }
      const dt = (last.at - first.at) / 1000;
      if (dt <= 0) continue;
      out.set(key, {
        msgsPerSec: Math.round(((last.msgs - first.msgs) / dt) * 10) / 10,
        bytesPerSec: Math.round((last.bytes - first.bytes) / dt),
      });
    }
    return out;
  }
}

/** TypeCounters: one message type's counters on one peer, as a node reports them. */
export interface TypeCounters {
  sent?: number;
  sentBytes?: number;
}

/**
 * sentToPeers: a node's per-peer traffic summed over every message type, from its transport's
 * `peers[id].types` counters (a node that does not report types gives none).
 */
export function sentToPeers(
  peers: Readonly<Record<string, { types?: Readonly<Record<string, TypeCounters | undefined>> }>>,
): Map<NodeId, SentCounts> {
  const out = new Map<NodeId, SentCounts>();
  for (const [id, p] of Object.entries(peers)) {
    const types = p.types;
    if (!types) continue;
    let msgs = 0;
    let bytes = 0;
    for (const t of Object.values(types)) {
      msgs += t?.sent ?? 0;
      bytes += t?.sentBytes ?? 0;
    }
    out.set(Number(id), { msgs, bytes });
  }
  return out;
}
