/**
 * topology-motion: what moves on the Topology view, as pure functions of time: a node's timer
 * advanced from its last report, the messages in flight (when each dot leaves, where it is, when
 * it is gone, and which are not drawn when too many fly at once), and a snapshot transfer's rate
 * from successive views. Times are the caller's clock in ms (performance.now() in the page);
 * nothing here reads a clock.
 */
import type { MessageTrace, NodeId, TimerView } from '../../../main/contract/view';
import { pointAt } from './topology-layout';
import type { Segment } from './topology-layout';

/**
 * timerFraction: how full a node's timer is `sinceArrival` ms after its view arrived. The report
 * is `viewNow - timer.at` ms old when the view was made; from then on the timer advances 1 ms per
 * ms (its ms are real ms at the cluster's pace). An election timer stops at full (the node then
 * campaigns and a later view says so); a heartbeat timer starts over (the leader sends a round
 * and resets it). When `advancing` is false (the node is paused, down or its report is stale)
 * the reported fraction is kept.
 */
export function timerFraction(
  timer: TimerView,
  viewNow: number,
  sinceArrival: number,
  advancing: boolean,
): number {
  if (!advancing) return timer.fraction;
  const elapsed = timer.elapsedMs + Math.max(0, viewNow - timer.at) + Math.max(0, sinceArrival);
  const span = Math.max(1, timer.timeoutMs);
  if (timer.kind === 'heartbeat') return (elapsed % span) / span;
  return Math.min(1, elapsed / span);
}

/**
 * STEADY_HEARTBEAT_MS: a leader whose heartbeat comes round faster than this shows a steady ring
 * instead of its heartbeat timer (a ring refilling ten times a second only flickers).
 */
export const STEADY_HEARTBEAT_MS = 500;

/** showsTimer: whether a node's timer is drawn as a filling arc (else a steady ring, or none). */
export function showsTimer(timer: TimerView | null): boolean {
  if (!timer) return false;
  return timer.kind === 'election' || timer.timeoutMs >= STEADY_HEARTBEAT_MS;
}

/** MessageFamily: message types drawn in one colour (a request and its response). */
export type MessageFamily =
  'append' | 'heartbeat' | 'pre-vote' | 'vote' | 'snapshot' | 'timeout-now' | 'read-index';

/** FAMILIES: the families in the legend's order, with the words the legend uses. */
export const FAMILIES: { family: MessageFamily; label: string }[] = [
  { family: 'append', label: 'append entries' },
  { family: 'heartbeat', label: 'heartbeat' },
  { family: 'pre-vote', label: 'pre-vote' },
  { family: 'vote', label: 'vote' },
  { family: 'snapshot', label: 'snapshot chunk' },
  { family: 'timeout-now', label: 'timeout now' },
  { family: 'read-index', label: 'read index' },
];

const FAMILY_OF: Record<string, { family: MessageFamily; request: boolean }> = {
  app: { family: 'append', request: true },
  'app-resp': { family: 'append', request: false },
  heartbeat: { family: 'heartbeat', request: true },
  'heartbeat-resp': { family: 'heartbeat', request: false },
  'pre-vote': { family: 'pre-vote', request: true },
  'pre-vote-resp': { family: 'pre-vote', request: false },
  vote: { family: 'vote', request: true },
  'vote-resp': { family: 'vote', request: false },
  snap: { family: 'snapshot', request: true },
  'snap-resp': { family: 'snapshot', request: false },
  'timeout-now': { family: 'timeout-now', request: true },
  'read-index': { family: 'read-index', request: true },
  'read-index-resp': { family: 'read-index', request: false },
};

/** kindOf: a message type's family, and whether it is a request (drawn filled) or a response. */
export function kindOf(type: string): { family: MessageFamily; request: boolean } {
  return FAMILY_OF[type] ?? { family: 'append', request: true };
}

/** MIN_FLIGHT_MS: the shortest a dot takes to cross its link, so that a person sees it. */
export const MIN_FLIGHT_MS = 400;
/** DROP_HOLD_MS: how long a dropped message's dot stays at the middle of its link with a ×. */
export const DROP_HOLD_MS = 450;
/** MAX_SPREAD_MS: a batch's dots leave over at most this long (their recorded spacing, capped). */
export const MAX_SPREAD_MS = 1000;
/** MAX_DOTS: the most dots in the air at once; older ones give way to newer ones. */
export const MAX_DOTS = 64;
/** NOT_DRAWN_WINDOW_MS: the "+N not drawn" count covers this last stretch of time. */
export const NOT_DRAWN_WINDOW_MS = 2000;

/** Dot: one message on its way. */
export interface Dot {
  from: NodeId;
  to: NodeId;
  type: string;
  family: MessageFamily;
  request: boolean;
  dropped: boolean;
  /** start: when it leaves its sender; dur: how long it takes to arrive (or reach mid-way). */
  start: number;
  dur: number;
}

/** flightMs: how long a message's dot crosses its link: the time it was held, at least MIN_FLIGHT_MS. */
export const flightMs = (t: Pick<MessageTrace, 'delayMs'>): number =>
  Math.max(MIN_FLIGHT_MS, t.delayMs > 0 ? t.delayMs : 0);

/**
 * dotsOf: the dots of one batch arriving at `arrival`: each leaves at arrival plus its offset
 * from the batch's earliest message (as the senders recorded them, at most MAX_SPREAD_MS), so
 * the batch plays out in its own order and rhythm. Only messages a node sent ('out') are drawn;
 * the order is by departure.
 */
export function dotsOf(traces: readonly MessageTrace[], arrival: number): Dot[] {
  const out = traces.filter((t) => t.dir === 'out');
  if (!out.length) return [];
  let first = Infinity;
  let last = -Infinity;
  for (const t of out) {
    first = Math.min(first, t.time);
    last = Math.max(last, t.time);
  }
  const scale = last - first > MAX_SPREAD_MS ? MAX_SPREAD_MS / (last - first) : 1;
  return out
    .map((t): Dot => {
      const k = kindOf(t.type);
      return {
        from: t.from,
        to: t.to,
        type: t.type,
        family: k.family,
        request: k.request,
        dropped: t.fate === 'dropped',
        start: arrival + (t.time - first) * scale,
        dur: flightMs(t),
      };
    })
    .sort((a, b) => a.start - b.start);
}

/** DotPhase: where a dot is: not left yet, on its way, stopped mid-way (dropped), or gone. */
export type DotPhase = 'waiting' | 'flying' | 'stopped' | 'gone';

/**
 * dotAt: a dot's phase and how far along its link it is at `now` (t in [0, 1]); a dropped dot
 * travels half way in half its time, stops there for DROP_HOLD_MS, then is gone.
 */
export function dotAt(d: Dot, now: number): { phase: DotPhase; t: number } {
  const e = now - d.start;
  if (e < 0) return { phase: 'waiting', t: 0 };
  if (d.dropped) {
    const half = d.dur / 2;
    if (e < half) return { phase: 'flying', t: (e / half) * 0.5 };
    if (e < half + DROP_HOLD_MS) return { phase: 'stopped', t: 0.5 };
    return { phase: 'gone', t: 0.5 };
  }
  if (e < d.dur) return { phase: 'flying', t: e / d.dur };
  return { phase: 'gone', t: 1 };
}

/**
 * DotQueue: the dots waiting or in the air, at most `max` at once. Adding beyond that lets the
 * oldest (earliest to leave) go undrawn and counts them; `notDrawn(now)` is how many went so in
 * the last NOT_DRAWN_WINDOW_MS. Plain data: the view drives it from requestAnimationFrame.
 */
export class DotQueue {
  readonly dots: Dot[] = [];
  private readonly skipped: { at: number; n: number }[] = [];

  constructor(readonly max: number = MAX_DOTS) {}

  /** add takes a batch's dots (in departure order) at `now`. */
  add(dots: readonly Dot[], now: number): void {
    for (const d of dots) this.dots.push(d);
    if (this.dots.length > 1 && dots.length) this.dots.sort((a, b) => a.start - b.start);
    const over = this.dots.length - this.max;
    if (over > 0) {
      this.dots.splice(0, over);
      this.skipped.push({ at: now, n: over });
    }
  }

  /** prune removes the dots that are gone at `now`; returns how many remain. */
  prune(now: number): number {
    let w = 0;
    for (let i = 0; i < this.dots.length; i++) {
      const d = this.dots[i]!;
      if (dotAt(d, now).phase !== 'gone') this.dots[w++] = d;
    }
    this.dots.length = w;
    return w;
  }

  notDrawn(now: number): number {
    while (this.skipped.length && this.skipped[0]!.at < now - NOT_DRAWN_WINDOW_MS) {
      this.skipped.shift();
    }
    let n = 0;
    for (const s of this.skipped) n += s.n;
    return n;
  }

  clear(): void {
    this.dots.length = 0;
    this.skipped.length = 0;
  }
}

/** TransferSample: a snapshot transfer as one view showed it (view time `at`, bytes `sent`). */
export interface TransferSample {
  index: number;
  at: number;
  sent: number;
}

/** RATE_WINDOW_MS: a transfer's rate is measured over the samples of this last stretch. */
export const RATE_WINDOW_MS = 2000;

/**
 * addSample: the samples of one transfer with `s` added: a different snapshot index starts
 * over, a sample not newer than the last is ignored, and samples older than RATE_WINDOW_MS
 * before `s` are dropped (the newest older one is kept as the window's start).
 */
export function addSample(samples: readonly TransferSample[], s: TransferSample): TransferSample[] {
  const last = samples[samples.length - 1];
  if (last && last.index !== s.index) return [s];
  if (last && s.at <= last.at) return [...samples];
  const next = [...samples, s];
  while (next.length > 2 && next[1]!.at <= s.at - RATE_WINDOW_MS) next.shift();
  return next;
}

/**
 * transferRate: bytes per second over the samples (first to last), or null with fewer than two
 * samples or no time between them. Bytes going back (a retry from an earlier offset) count as 0.
 */
export function transferRate(samples: readonly TransferSample[]): number | null {
  if (samples.length < 2) return null;
  const a = samples[0]!;
  const b = samples[samples.length - 1]!;
  const ms = b.at - a.at;
  if (ms <= 0) return null;
  return (Math.max(0, b.sent - a.sent) * 1000) / ms;
}

const MIB = 1024 * 1024;

const KIB = 1024;

/**
 * formatTransfer: "1.2 of 4.0 MiB · 3.1 MiB/s" (the rate left out when not known yet); a
 * snapshot under a tenth of a MiB is counted in KiB ("0.5 of 1.9 KiB"), which "0.0 of 0.0 MiB"
 * would hide.
 */
export function formatTransfer(sent: number, total: number, rate: number | null): string {
  const [unit, name] = total < 0.1 * MIB ? [KIB, 'KiB'] : [MIB, 'MiB'];
  const digits = total >= 100 * MIB ? 0 : 1;
  const head = `${(sent / unit).toFixed(digits)} of ${(total / unit).toFixed(digits)} ${name}`;
  if (rate === null) return head;
  const perSec =
    rate < 0.1 * MIB ? `${(rate / KIB).toFixed(1)} KiB/s` : `${(rate / MIB).toFixed(1)} MiB/s`;
  return `${head} · ${perSec}`;
}

/** DOT_R: a dot's radius; the × of a dropped message spans the same. */
export const DOT_R = 7;

/** DotFrame: every dot in the air at one instant, as SVG path data by style. */
export interface DotFrame {
  /** paths: by "family req|resp" (e.g. "vote req"), one circle per dot. */
  paths: Map<string, string>;
  /** crosses: a × on every dot stopped where its message was dropped. */
  crosses: string;
  /** shown: how many dots are drawn. */
  shown: number;
}

/** STYLE_KEYS: every "family req|resp" a DotFrame may hold, for the paths that draw them. */
export const STYLE_KEYS: string[] = FAMILIES.flatMap((f) => [
  `${f.family} req`,
  `${f.family} resp`,
]);

/**
 * dotFrame: where every dot is at `now`, as path data: one path per style holding a circle per
 * dot, so that a frame updates a few elements however many dots fly. `laneOf` gives the lane a
 * dot travels (none: not drawn); points are rounded to 0.1 unit.
 */
export function dotFrame(
  dots: readonly Dot[],
  now: number,
  laneOf: (from: NodeId, to: NodeId) => Segment | undefined,
): DotFrame {
  const parts = new Map<string, string[]>();
  const crosses: string[] = [];
  let shown = 0;
  const r = DOT_R;
  for (const d of dots) {
    const seg = laneOf(d.from, d.to);
    if (!seg) continue;
    const at = dotAt(d, now);
    if (at.phase === 'waiting' || at.phase === 'gone') continue;
    const p = pointAt(seg, at.t);
    const x = Math.round(p.x * 10) / 10;
    const y = Math.round(p.y * 10) / 10;
    const key = `${d.family} ${d.request ? 'req' : 'resp'}`;
    let list = parts.get(key);
    if (!list) parts.set(key, (list = []));
    list.push(`M${x - r} ${y}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`);
    if (at.phase === 'stopped') {
      crosses.push(`M${x - r} ${y - r}l${2 * r} ${2 * r}m0 ${-2 * r}l${-2 * r} ${2 * r}`);
    }
    shown++;
  }
  const paths = new Map<string, string>();
  for (const [k, v] of parts) paths.set(k, v.join(''));
  return { paths, crosses: crosses.join(''), shown };
}
