import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type {
  ClusterEvent,
  EventKind,
  MessageTrace,
  RecordingInfo,
} from '../../../main/contract/view';
import { RECORDED_LIMIT } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';
import { useEventsStore } from './events';
import { useMessagesStore } from './messages';
import { useToastStore } from './toasts';
import { useUiStore } from './ui';

/** RATES: the playback rates offered (1 = as fast as it happened). */
export const RATES: readonly number[] = [0.25, 0.5, 1, 2, 4, 8];
/** PLAY_TICK_MS: how often playback moves the instant on (and asks for the moment, at most once in flight). */
export const PLAY_TICK_MS = 100;
/** SEEK_DEBOUNCE_MS: while the slider is dragged, the moment is asked for once it rests this long. */
export const SEEK_DEBOUNCE_MS = 80;
/** INFO_POLL_MS: how often the recording's range is asked for. */
export const INFO_POLL_MS = 2000;
/** MESSAGE_WINDOW_MS: the recorded messages shown for a moment are those of the span before it. */
export const MESSAGE_WINDOW_MS = 5000;
/** EVENT_LIMIT: the recorded events shown for a moment (the latest up to it). */
export const EVENT_LIMIT = 2000;
/** MESSAGE_LIMIT: the recorded messages kept for a moment. */
export const MESSAGE_LIMIT = 5000;
/**
 * SEEK_ECHO_MS: after a seek, the messages of this span before the moment are passed to the
 * drawing once, so the Topology shows the traffic of the moment (they fly, then are gone).
 */
export const SEEK_ECHO_MS = 1000;
/** FORWARD_MAX_MS: playback asks only for what is new when it moved on less than this. */
const FORWARD_MAX_MS = 5000;

/** REPLAY_REFUSAL, FILE_REFUSAL: why changing calls are refused (shown as the controls' title). */
export const REPLAY_REFUSAL = 'Replaying a recorded moment: go back to live to change the cluster';
export const FILE_REFUSAL = 'A recording opened from a file: nothing can be changed';

/** MarkKind: the events the replay bar marks (and ←/→ step through), each in its own colour. */
export type MarkKind = 'election' | 'leader' | 'fault' | 'process' | 'config';
const MARK_OF: Partial<Record<EventKind, MarkKind>> = {
  election: 'election',
  leader: 'leader',
  fault: 'fault',
  process: 'process',
  config: 'config',
};
/** markOf: how the replay bar marks an event, or null when it does not. */
export const markOf = (e: ClusterEvent): MarkKind | null => MARK_OF[e.kind] ?? null;

/**
 * useTimeTravelStore: which moment the dashboard shows. 'live' follows the cluster; 'replaying'
 * shows the recorded moment `instant` (ms since the epoch) on every page: it puts the recorded
 * view into the cluster store, the recorded events up to the instant into the events store, and
 * the recorded messages of the MESSAGE_WINDOW_MS before it into the messages store (and those of
 * the last SEEK_ECHO_MS to the drawing, once), and makes the
 * connection store refuse every call that changes the cluster. Playback moves the instant on by
 * `rate` × the time that passes, PLAY_TICK_MS at a time. Moments are asked for one at a time:
 * while one is in flight, later instants wait, and only the latest is asked for next. The
 * instant is kept in the URL (`?at=`) whenever playback rests, so a link opens the same moment.
 * A recording opened from a file (recordingInfo().source 'file') starts replaying at its first
 * instant and never goes live.
 */
export const useTimeTravelStore = defineStore('time-travel', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const events = useEventsStore();
  const messages = useMessagesStore();
  const toasts = useToastStore();
  const ui = useUiStore();

  const info = shallowRef<RecordingInfo | null>(null);
  const mode = ref<'live' | 'replaying'>('live');
  /** instant: the moment asked for while replaying (null while live). */
  const instant = ref<number | null>(null);
  /** shownAt: the instant whose recorded moment is shown (lags `instant` while one is fetched). */
  const shownAt = ref<number | null>(null);
  /** viewTime: when the view shown was recorded (at or before shownAt). */
  const viewTime = ref<number | null>(null);
  const playing = ref(false);
  const rate = ref(1);
  const loading = ref(false);
  /** timeline: recorded events over the whole recording, fetched for the replay bar's marks. */
  const timeline = shallowRef<ClusterEvent[]>([]);

  const replaying = computed(() => mode.value === 'replaying');
  const fromFile = computed(() => info.value?.source === 'file');
  const canGoLive = computed(() => !fromFile.value);
  const range = computed(() => {
    const i = info.value;
    if (!i || i.from === null || i.to === null) return null;
    return { from: i.from, to: Math.max(i.from, i.to) };
  });
  /** motionRate: how fast what moves on its own (timer arcs) advances: 0 while a moment rests. */
  const motionRate = computed(() => (!replaying.value ? 1 : playing.value ? rate.value : 0));

  /**
   * marks: the marked events (elections, leaders, faults, processes, configuration) in time
   * order: the recorded timeline, then the live events after it.
   */
  const marks = computed(() => {
    const out: ClusterEvent[] = [];
    for (const e of timeline.value) if (markOf(e)) out.push(e);
    const after = timeline.value.at(-1)?.time ?? -Infinity;
    for (const e of events.events) if (e.time > after && markOf(e)) out.push(e);
    return out;
  });

  function clamp(t: number): number {
    const r = range.value;
    const n = Math.round(t);
    return r ? Math.min(r.to, Math.max(r.from, n)) : Math.max(0, n);
  }

  async function refreshInfo(): Promise<void> {
    let i: RecordingInfo;
    try {
      i = await conn.call('recordingInfo');
    } catch {
      return; // an older server, or not connected: the replay bar says there is no recording
    }
    if (!i) return;
    info.value = i;
    if (i.source === 'file') {
      conn.refuseChanges(FILE_REFUSAL);
      if (mode.value === 'live' && i.from !== null) seek(ui.at ?? i.from);
    }
  }

  async function loadTimeline(): Promise<void> {
    const r = range.value;
    if (!r) return;
    try {
      timeline.value = await conn.call('recordedEvents', r.from, r.to, RECORDED_LIMIT);
    } catch {
      // The marks stay as they were; the moment itself still loads.
    }
  }

  let started = false;
  let poll: ReturnType<typeof setInterval> | undefined;
  function start(): void {
    if (started) return;
    started = true;
    conn.onConnected(() => void refreshInfo().then(loadTimeline));
    poll = setInterval(() => {
      if (conn.connected) void refreshInfo();
    }, INFO_POLL_MS);
  }

  /** stop ends playback and polling (for tests and teardown). */
  function stop(): void {
    pause();
    if (poll !== undefined) clearInterval(poll);
    poll = undefined;
    started = false;
  }

  function enter(): void {
    if (mode.value === 'replaying') return;
    mode.value = 'replaying';
    conn.refuseChanges(fromFile.value ? FILE_REFUSAL : REPLAY_REFUSAL);
    // Until the recorded moment arrives, the pages keep what they showed.
    cluster.showRecorded(cluster.liveView);
    events.showRecorded(events.events.slice());
    messages.showRecorded([]);
    void loadTimeline();
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;

  /**
   * seek shows the moment `t` (clamped to the recording), entering replay; with `debounce` (while
   * a slider is dragged) it is asked for once the instant rests SEEK_DEBOUNCE_MS.
   */
  function seek(t: number, opts: { debounce?: boolean } = {}): void {
    enter();
    instant.value = clamp(t);
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = undefined;
    if (opts.debounce) debounce = setTimeout(() => void load(), SEEK_DEBOUNCE_MS);
    else void load();
  }

  /** jumpTo shows the moment of an event. */
  function jumpTo(e: ClusterEvent): void {
    pause();
    seek(e.time);
  }

  /** stepEvent moves to the previous (-1) or next (+1) marked event; from live, back from the end. */
  function stepEvent(dir: -1 | 1): void {
    const list = marks.value;
    const at = instant.value ?? range.value?.to ?? Date.now();
    let target: ClusterEvent | undefined;
    if (dir < 0) {
      for (let i = list.length - 1; i >= 0; i--)
        if (list[i]!.time < at) {
          target = list[i];
          break;
        }
    } else target = list.find((e) => e.time > at);
    if (!target) return;
    if (dir > 0 && !replaying.value) return;
    pause();
    seek(target.time);
  }

  /** written: the last instant this store wrote into the URL (its echo is not a new request). */
  let written: number | null = null;
  function writeAt(t: number | null): void {
    written = t;
    void ui.setAt(t);
  }

  let generation = 0;
  let inflight = false;
  /** loaded: the instant whose moment was last applied (null: none since entering replay). */
  let loaded: number | null = null;

  async function load(): Promise<void> {
    if (inflight) return; // the running loop asks for the latest instant when it is done
    inflight = true;
    loading.value = true;
    try {
      while (mode.value === 'replaying' && instant.value !== null && instant.value !== loaded) {
        const t = instant.value;
        const g = generation;
        const prev = loaded;
        const forward = playing.value && prev !== null && t > prev && t - prev <= FORWARD_MAX_MS;
        const from = forward ? prev + 1 : Math.max(0, t - MESSAGE_WINDOW_MS);
        const [moment, evs, msgs] = await Promise.all([
          conn.call('viewAt', t),
          conn.call(
            'recordedEvents',
            forward ? prev + 1 : (range.value?.from ?? 0),
            t,
            EVENT_LIMIT,
          ),
          conn.call('recordedMessages', from, t, MESSAGE_LIMIT),
        ]);
        if (g !== generation || mode.value !== 'replaying') return;
        cluster.showRecorded(moment.view);
        viewTime.value = moment.viewTime;
        if (forward) {
          const kept = (events.recorded ?? []).concat(evs);
          events.showRecorded(kept.length > RECORDED_LIMIT ? kept.slice(-RECORDED_LIMIT) : kept);
          if (msgs.length) messages.replay({ traces: msgs, skipped: {} });
          const since = t - MESSAGE_WINDOW_MS;
          const list: MessageTrace[] = (messages.recorded ?? [])
            .filter((m) => m.time >= since)
            .concat(msgs);
          messages.showRecorded(list.length > MESSAGE_LIMIT ? list.slice(-MESSAGE_LIMIT) : list);
        } else {
          events.showRecorded(evs);
          messages.showRecorded(msgs);
          const echo = msgs.filter((m) => m.time > t - SEEK_ECHO_MS);
          if (echo.length) messages.replay({ traces: echo, skipped: {} });
        }
        loaded = t;
        shownAt.value = t;
      }
    } catch (err) {
      pause();
      toasts.error(`Replay: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      inflight = false;
      loading.value = false;
    }
    if (mode.value === 'replaying' && !playing.value && instant.value === loaded) writeAt(loaded);
  }

  let tick: ReturnType<typeof setInterval> | undefined;
  let lastTick = 0;

  function advance(): void {
    const now = Date.now();
    const dt = now - lastTick;
    lastTick = now;
    if (instant.value === null) return;
    const r = range.value;
    let t = instant.value + Math.round(dt * rate.value);
    if (r && t >= r.to) {
      t = r.to;
      pause();
    }
    instant.value = t;
    void load();
  }

  /** play moves the instant on at `rate` (from the start when it rests at the end). */
  function play(): void {
    const r = range.value;
    if (!replaying.value) {
      if (!r) return;
      seek(r.from);
    } else if (r && instant.value !== null && instant.value >= r.to) seek(r.from);
    if (playing.value) return;
    playing.value = true;
    lastTick = Date.now();
    tick = setInterval(advance, PLAY_TICK_MS);
  }

  function pause(): void {
    if (tick !== undefined) clearInterval(tick);
    tick = undefined;
    if (!playing.value) return;
    playing.value = false;
    if (instant.value !== null && instant.value === loaded) writeAt(instant.value);
  }

  function setRate(r: number): void {
    if (!RATES.includes(r)) throw new Error(`rate ${r} is not one of ${RATES.join(', ')}`);
    rate.value = r;
  }

  /** backToLive follows the cluster again (not for a recording opened from a file). */
  function backToLive(): void {
    if (fromFile.value) return;
    pause();
    generation++;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = undefined;
    mode.value = 'live';
    instant.value = null;
    shownAt.value = null;
    viewTime.value = null;
    loaded = null;
    conn.refuseChanges(null);
    cluster.showRecorded(undefined);
    events.showRecorded(null);
    messages.showRecorded(null);
    writeAt(null);
  }

  // The URL's instant: a link or history entry with ?at= opens that moment; one without it
  // (going back past the first replayed moment) is live again.
  watch(
    () => ui.at,
    (at) => {
      if (at === written) return;
      if (at === null) {
        if (replaying.value && !fromFile.value) backToLive();
      } else if (at !== instant.value) {
        pause();
        seek(at);
      }
    },
    { immediate: true },
  );

  return {
    info,
    mode,
    instant,
    shownAt,
    viewTime,
    playing,
    rate,
    loading,
    timeline,
    replaying,
    fromFile,
    canGoLive,
    range,
    motionRate,
    marks,
    start,
    stop,
    refreshInfo,
    seek,
    jumpTo,
    stepEvent,
    play,
    pause,
    setRate,
    backToLive,
  };
});
