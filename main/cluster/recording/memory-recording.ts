/**
 * memory-recording: a Recording kept in memory, bounded by count (the oldest views, events and
 * messages go first): for a cluster without a folder, and for tests.
 */
import type {
  ClusterEvent,
  ClusterView,
  MessageBatch,
  MessageTrace,
  RecordedMoment,
  RecordingInfo,
} from '../../contract/view';
import { lastAtOrBefore, spanOf } from './recording';
import type { Recording } from './recording';

export interface MemoryRecordingOptions {
  /** maxViews: views kept (default 36 000: an hour at 10 per second). */
  maxViews?: number;
  maxEvents?: number;
  maxMessages?: number;
}

export class MemoryRecording implements Recording {
  private views: ClusterView[] = [];
  private eventList: ClusterEvent[] = [];
  private traces: MessageTrace[] = [];
  private closed = false;
  private dropped = 0;
  private clusterId = '';
  private readonly maxViews: number;
  private readonly maxEvents: number;
  private readonly maxMessages: number;

  constructor(options: MemoryRecordingOptions = {}) {
    this.maxViews = options.maxViews ?? 36_000;
    this.maxEvents = options.maxEvents ?? 100_000;
    this.maxMessages = options.maxMessages ?? 200_000;
  }

  addView(view: ClusterView): void {
    if (this.closed) return;
    this.clusterId = view.clusterId;
    this.views.push(view);
    this.trim(this.views, this.maxViews);
  }

  addEvent(event: ClusterEvent): void {
    if (this.closed) return;
    this.eventList.push(event);
    this.trim(this.eventList, this.maxEvents);
  }

  addMessages(batch: MessageBatch, time: number): void {
    if (this.closed) return;
    // A batch's traces carry their senders' clocks; they are kept in the order pushed, each at
    // no later than the push (so a span query never misses one that was already shown).
    // Senders' clocks interleave, so each is put in time order from the end (a short walk).
    for (const t of batch.traces) {
      const trace = t.time <= time ? t : { ...t, time };
      let i = this.traces.length;
      while (i > 0 && this.traces[i - 1]!.time > trace.time) i--;
      this.traces.splice(i, 0, trace);
    }
    this.trim(this.traces, this.maxMessages);
  }

  private trim<T>(list: T[], max: number): void {
    if (list.length <= max) return;
    const n = list.length - max;
    list.splice(0, n);
    this.dropped += n;
  }

  async info(): Promise<RecordingInfo> {
    const first = this.views[0]?.now ?? this.eventList[0]?.time ?? null;
    const last = this.views.at(-1)?.now ?? null;
    const lastEvent = this.eventList.at(-1)?.time ?? null;
    const to = last === null ? lastEvent : lastEvent === null ? last : Math.max(last, lastEvent);
    return {
      source: 'live',
      path: '(memory)',
      clusterId: this.clusterId,
      formatVersion: 0,
      from: first,
      to,
      bytes: 0,
      limitBytes: 0,
      segments: 0,
      recording: !this.closed,
      notes:
        this.dropped > 0 ? [`kept in memory; the oldest ${this.dropped} records were dropped`] : [],
    };
  }

  async viewAt(time: number): Promise<RecordedMoment> {
    const i = lastAtOrBefore(this.views, time, (v) => v.now);
    const view = i < 0 ? null : this.views[i]!;
    return { time, view, viewTime: view?.now ?? null };
  }

  async events(from: number, to: number, limit: number): Promise<ClusterEvent[]> {
    return spanOf(this.eventList, from, to, limit, (e) => e.time);
  }

  async messages(from: number, to: number, limit: number): Promise<MessageTrace[]> {
    return spanOf(this.traces, from, to, limit, (t) => t.time);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
