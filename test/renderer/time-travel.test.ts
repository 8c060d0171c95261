// @vitest-environment happy-dom
// Time travel: the time-travel store over a recording (seek, playback at a rate, a recording
// opened from a file), and what the other stores show while it replays.
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory } from 'vue-router';
import type { Router } from 'vue-router';
import { createDeckRouter } from '../../renderer/src/router';
import { startStores } from '../../renderer/src/stores';
import { useClusterStore } from '../../renderer/src/stores/cluster';
import { useConnectionStore } from '../../renderer/src/stores/connection';
import { useEventsStore } from '../../renderer/src/stores/events';
import { useMessagesStore } from '../../renderer/src/stores/messages';
import { useNodeLogsStore } from '../../renderer/src/stores/node-logs';
import {
  FILE_REFUSAL,
  PLAY_TICK_MS,
  REPLAY_REFUSAL,
  SEEK_DEBOUNCE_MS,
  useTimeTravelStore,
} from '../../renderer/src/stores/time-travel';
import { useToastStore } from '../../renderer/src/stores/toasts';
import { useUiStore } from '../../renderer/src/stores/ui';
import { useWorkloadStore } from '../../renderer/src/stores/workload';
import type { ClusterView, WorkloadSample } from '../../main/contract/view';
import { flush } from './helpers';
import { leaderView, recordElection, replayTransport, T0, trace } from './replay';
import type { ReplayTransport } from './replay';

let pinia: Pinia;
let t: ReplayTransport;
let router: Router;

async function setup(source: 'live' | 'file' = 'live'): Promise<void> {
  pinia = createPinia();
  setActivePinia(pinia);
  t = replayTransport();
  t.source = source;
  recordElection(t);
  router = createDeckRouter(createMemoryHistory());
  useUiStore(pinia).attach(router);
  await router.push('/overview');
  startStores(pinia, t);
  useTimeTravelStore(pinia).start();
  await settle();
}

/** settle lets the calls in flight answer (they chain a few promises deep). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

const callsOf = (name: string) => t.calls.filter((c) => c.name === name);

afterEach(() => {
  useTimeTravelStore(pinia).stop();
  vi.useRealTimers();
});

describe('seeking', () => {
  beforeEach(() => setup());

  it('knows the recording’s range and starts live', () => {
    const tt = useTimeTravelStore();
    expect(tt.range).toEqual({ from: T0, to: T0 + 20_000 });
    expect(tt.replaying).toBe(false);
    expect(useClusterStore().leaderId).toBe(1);
    expect(useClusterStore().term).toBe(2);
  });

  it('shows the recorded view, events and messages of the instant; the live view keeps arriving; back to live is instant', async () => {
    const tt = useTimeTravelStore();
    const cluster = useClusterStore();
    const events = useEventsStore();
    const messages = useMessagesStore();
    // The live cluster: node 3 leads term 9.
    t.push('view', leaderView(3, 9, T0 + 60_000, 200));
    expect(cluster.leaderId).toBe(3);

    tt.seek(T0 + 9_000);
    await settle();
    expect(tt.replaying).toBe(true);
    expect(cluster.leaderId).toBe(1);
    expect(cluster.term).toBe(2);
    expect(events.list.map((e) => e.seq)).toEqual([1]);
    expect(messages.recorded?.map((m) => m.type)).toEqual(['heartbeat']);

    tt.seek(T0 + 12_000);
    await settle();
    expect(cluster.leaderId).toBe(2);
    expect(cluster.term).toBe(3);
    expect(events.list.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(messages.recorded?.map((m) => m.type)).toEqual([
      'heartbeat',
      'vote',
      'vote-resp',
      'app',
    ]);

    // A live view while replaying changes nothing shown, but is kept.
    t.push('view', leaderView(3, 10, T0 + 61_000, 201));
    expect(cluster.leaderId).toBe(2);
    expect(cluster.liveView?.term).toBe(10);

    tt.backToLive();
    expect(tt.replaying).toBe(false);
    expect(cluster.leaderId).toBe(3);
    expect(cluster.term).toBe(10);
    expect(events.recorded).toBeNull();
    expect(messages.recorded).toBeNull();
  });

  it('clamps to the recording and keeps the instant in the URL once it rests', async () => {
    const tt = useTimeTravelStore();
    tt.seek(T0 - 5_000);
    await settle();
    expect(tt.instant).toBe(T0);
    expect(router.currentRoute.value.query.at).toBe(String(T0));
    tt.seek(T0 + 99_000);
    await settle();
    expect(tt.instant).toBe(T0 + 20_000);
    tt.backToLive();
    await settle();
    expect(router.currentRoute.value.query.at).toBeUndefined();
  });

  it('a URL with ?at= opens that moment, and one without it is live again', async () => {
    const tt = useTimeTravelStore();
    await router.push({ path: '/topology', query: { at: String(T0 + 12_000) } });
    await settle();
    expect(tt.instant).toBe(T0 + 12_000);
    expect(useClusterStore().leaderId).toBe(2);
    await router.push('/topology');
    await settle();
    expect(tt.replaying).toBe(false);
  });

  it('asks for a dragged slider’s moment once it rests', async () => {
    vi.useFakeTimers();
    const tt = useTimeTravelStore();
    const before = callsOf('viewAt').length;
    for (let i = 0; i < 10; i++) {
      tt.seek(T0 + 1000 + i * 500, { debounce: true });
      await vi.advanceTimersByTimeAsync(SEEK_DEBOUNCE_MS / 4);
    }
    expect(callsOf('viewAt').length).toBe(before);
    await vi.advanceTimersByTimeAsync(SEEK_DEBOUNCE_MS);
    expect(
      callsOf('viewAt')
        .slice(before)
        .map((c) => c.args[0]),
    ).toEqual([T0 + 5_500]);
  });

  it('steps from marked event to marked event', async () => {
    const tt = useTimeTravelStore();
    tt.seek(T0 + 10_200);
    await settle();
    tt.stepEvent(1);
    expect(tt.instant).toBe(T0 + 10_500);
    tt.stepEvent(1);
    expect(tt.instant).toBe(T0 + 11_000);
    tt.stepEvent(1); // no later mark: stays
    expect(tt.instant).toBe(T0 + 11_000);
    tt.stepEvent(-1);
    tt.stepEvent(-1);
    expect(tt.instant).toBe(T0 + 10_000);
    await settle();
    expect(useClusterStore().leaderId).toBe(1);
  });

  it('refuses every call that changes the cluster while replaying, with a toast, and none that only look', async () => {
    const tt = useTimeTravelStore();
    const conn = useConnectionStore();
    tt.seek(T0 + 5_000);
    await settle();
    expect(conn.refusal).toBe(REPLAY_REFUSAL);
    const before = t.calls.length;
    expect(await conn.run('killNode', 1)).toBeUndefined();
    expect(
      await conn.run('startWorkload', {
        clients: 1,
        rate: 1,
        keys: 1,
        readRatio: 0,
        casRatio: 0,
        valueBytes: 1,
        seconds: 0,
      }),
    ).toBeUndefined();
    await expect(conn.call('kvPut', 'k', 'v')).rejects.toThrow(/kvPut refused: Replaying/);
    expect(t.calls.length).toBe(before);
    expect(conn.refused).toEqual(['killNode', 'startWorkload', 'kvPut']);
    expect(useToastStore().toasts.map((x) => x.message)).toContain(
      `killNode refused: ${REPLAY_REFUSAL}`,
    );
    await conn.run('linkDetail', 1, 2);
    expect(t.calls.at(-1)?.name).toBe('linkDetail');
    tt.backToLive();
    await conn.run('killNode', 1);
    expect(t.calls.at(-1)).toEqual({ name: 'killNode', args: [1] });
  });

  it('node logs show the lines written up to the moment', async () => {
    const tt = useTimeTravelStore();
    const logs = useNodeLogsStore();
    t.answers.nodeLogs = () => [
      { t: T0 + 1000, level: 'info', msg: 'before' },
      { t: T0 + 9000, level: 'info', msg: 'after' },
    ];
    await logs.load(1);
    expect(logs.filtered.map((l) => l.msg)).toEqual(['before', 'after']);
    tt.seek(T0 + 5000);
    await settle();
    expect(logs.filtered.map((l) => l.msg)).toEqual(['before']);
    tt.backToLive();
    expect(logs.filtered.map((l) => l.msg)).toEqual(['before', 'after']);
  });

  it('workload charts show the moment’s samples while replaying', async () => {
    const tt = useTimeTravelStore();
    const workload = useWorkloadStore();
    const sample = (time: number, opsPerSec: number): WorkloadSample => ({
      time,
      opsPerSec,
      p50Ms: 1,
      p99Ms: 2,
      errors: 0,
      unknown: 0,
    });
    const withSamples = (v: ClusterView, samples: WorkloadSample[]): ClusterView => ({
      ...v,
      workload: {
        running: true,
        startedAt: T0,
        stoppedAt: null,
        options: {
          clients: 1,
          rate: 1,
          keys: 1,
          readRatio: 0,
          casRatio: 0,
          valueBytes: 1,
          seconds: 0,
        },
        totals: { ok: 1, failed: 0, unknown: 0, reads: 0, writes: 1 },
        samples,
      },
    });
    t.recording.addView(withSamples(leaderView(2, 3, T0 + 20_500, 999), [sample(T0 + 20_000, 42)]));
    t.push('view', withSamples(leaderView(1, 2, T0 + 60_000, 300), [sample(T0 + 59_000, 7)]));
    await flush();
    expect(workload.history.map((s) => s.opsPerSec)).toEqual([7]);
    await tt.refreshInfo();
    tt.seek(T0 + 20_500);
    await settle();
    expect(workload.history.map((s) => s.opsPerSec)).toEqual([42]);
    tt.backToLive();
    expect(workload.history.map((s) => s.opsPerSec)).toEqual([7]);
  });
});

describe('playback', () => {
  beforeEach(() => setup());

  it('moves the instant on at the rate, and ends at the end of the recording', async () => {
    vi.useFakeTimers();
    const tt = useTimeTravelStore();
    tt.seek(T0 + 9_000);
    await vi.advanceTimersByTimeAsync(0);
    tt.setRate(4);
    tt.play();
    expect(tt.playing).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(tt.instant).toBe(T0 + 13_000);
    expect(useClusterStore().leaderId).toBe(2);
    // Arcs move at the rate while playing, and stand still when paused.
    expect(tt.motionRate).toBe(4);
    tt.pause();
    expect(tt.motionRate).toBe(0);
    tt.setRate(8);
    tt.play();
    await vi.advanceTimersByTimeAsync(2000);
    expect(tt.instant).toBe(T0 + 20_000);
    expect(tt.playing).toBe(false);
    expect(() => tt.setRate(3)).toThrow(/rate 3/);
  });

  it('passes recorded messages to the drawing in order as playback reaches them', async () => {
    vi.useFakeTimers();
    const tt = useTimeTravelStore();
    const messages = useMessagesStore();
    const seen: string[] = [];
    messages.listen((b) => seen.push(...b.traces.map((m) => m.type)));
    tt.seek(T0 + 10_000);
    await vi.advanceTimersByTimeAsync(0);
    // Live messages are not drawn while replaying.
    t.push('messages', {
      traces: [trace(T0 + 60_000, { from: 3, to: 1, type: 'snap', term: 9 })],
      skipped: {},
    });
    expect(seen).toEqual([]);
    tt.play();
    await vi.advanceTimersByTimeAsync(1500);
    expect(seen).toEqual(['vote', 'vote-resp', 'app']);
    // A seek passes the last second's messages before the moment once.
    tt.pause();
    seen.length = 0;
    tt.seek(T0 + 12_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['app']);
    tt.seek(T0 + 10_610);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['app', 'vote', 'vote-resp']);
  });

  it('never has more than one moment in flight, and asks for the latest when it answers', async () => {
    vi.useFakeTimers();
    const tt = useTimeTravelStore();
    let inFlight = 0;
    let most = 0;
    const slow = t.answers.viewAt!;
    t.answers.viewAt = async (time) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 350)); // slower than a playback tick
      inFlight--;
      return slow(time);
    };
    tt.seek(T0);
    tt.play();
    await vi.advanceTimersByTimeAsync(2000);
    tt.pause();
    await vi.advanceTimersByTimeAsync(1000);
    expect(most).toBe(1);
    const asked = callsOf('viewAt').length;
    expect(asked).toBeGreaterThanOrEqual(4);
    expect(asked).toBeLessThan(2000 / PLAY_TICK_MS);
    // The last moment asked for is where playback stopped.
    expect(callsOf('viewAt').at(-1)?.args[0]).toBe(tt.instant);
    expect(tt.shownAt).toBe(tt.instant);
  });
});

describe('a recording opened from a file', () => {
  beforeEach(() => setup('file'));

  it('starts replaying at its first instant, refuses every change and has no way back to live', async () => {
    const tt = useTimeTravelStore();
    const conn = useConnectionStore();
    expect(tt.replaying).toBe(true);
    expect(tt.instant).toBe(T0);
    expect(useClusterStore().leaderId).toBe(1);
    expect(tt.canGoLive).toBe(false);
    expect(conn.refusal).toBe(FILE_REFUSAL);
    tt.backToLive();
    expect(tt.replaying).toBe(true);
    await conn.run('restartNode', 2);
    expect(callsOf('restartNode')).toEqual([]);
    await router.push('/faults');
    await settle();
    expect(tt.replaying).toBe(true);
  });
});
