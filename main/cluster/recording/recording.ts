/**
 * recording: what the dashboard's time travel reads and the supervisor writes. A Recording keeps
 * the cluster's views, events and sampled messages in time order and answers for any instant
 * (the view then, the events and messages of a span). The in-memory one (memory-recording.ts)
 * serves a cluster that has no folder; the file one keeps bounded, versioned segments in the
 * cluster's folder, survives restarts and opens without a cluster. Both pass the same contract
 * tests.
 */
import type { PushSource } from '../../contract/api';
import type {
  ClusterEvent,
  ClusterView,
  MessageBatch,
  MessageTrace,
  RecordedMoment,
  RecordingInfo,
} from '../../contract/view';

/**
 * Recording: appends arrive in time order (a view's time is its `now`, an event's its `time`, a
 * batch's the time it was pushed); queries see every append made before them.
 */
export interface Recording {
  addView(view: ClusterView): void;
  addEvent(event: ClusterEvent): void;
  addMessages(batch: MessageBatch, time: number): void;
  info(): Promise<RecordingInfo>;
  viewAt(time: number): Promise<RecordedMoment>;
  events(from: number, to: number, limit: number): Promise<ClusterEvent[]>;
  messages(from: number, to: number, limit: number): Promise<MessageTrace[]>;
  /** close writes what is pending and releases the recording; appends after it are ignored. */
  close(): Promise<void>;
}

/** VIEW_INTERVAL_MS: views closer together than this are recorded as the later one only. */
export const VIEW_INTERVAL_MS = 100;

/**
 * recordPushes records what `source` pushes into `rec`: every event and message batch, and its
 * views at most one per VIEW_INTERVAL_MS (the latest of a burst is written when the interval
 * ends, so the last view before a pause is never lost). Returns the function that stops it (and
 * writes a pending view).
 */
export function recordPushes(
  source: PushSource,
  rec: Recording,
  now: () => number = Date.now,
): () => void {
  let lastAt = -Infinity;
  let pending: ClusterView | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    timer = null;
    if (!pending) return;
    rec.addView(pending);
    lastAt = now();
    pending = null;
  };
  const offView = source.onView((v) => {
    pending = v;
    const wait = lastAt + VIEW_INTERVAL_MS - now();
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  });
  const offEvent = source.onEvent((e) => rec.addEvent(e));
  const offMessages = source.onMessages((b) => rec.addMessages(b, now()));
  return () => {
    offView();
    offEvent();
    offMessages();
    if (timer) clearTimeout(timer);
    flush();
  };
}

/**
 * lastAtOrBefore: the position of the last item whose time is <= t in `items` (sorted by time),
 * or -1. Binary search.
 */
export function lastAtOrBefore<T>(
  items: readonly T[],
  t: number,
  timeOf: (x: T) => number,
): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (timeOf(items[mid]!) <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * firstAtOrAfter: the position of the first item whose time is >= t in `items` (sorted by
 * time), or items.length. Binary search.
 */
export function firstAtOrAfter<T>(
  items: readonly T[],
  t: number,
  timeOf: (x: T) => number,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeOf(items[mid]!) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** spanOf: the items with from <= time <= to, the latest `limit` of them, oldest first. */
export function spanOf<T>(
  items: readonly T[],
  from: number,
  to: number,
  limit: number,
  timeOf: (x: T) => number,
): T[] {
  const end = lastAtOrBefore(items, to, timeOf);
  const start = firstAtOrAfter(items, from, timeOf);
  if (end < start) return [];
  return items.slice(Math.max(start, end + 1 - limit), end + 1);
}
