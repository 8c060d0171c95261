// @vitest-environment happy-dom
// What the workload charts draw: the y scale's top, the window they show, the bands behind the
// lines, and the history the workload store keeps for them beyond the view's recent samples.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkloadSample, WorkloadView } from '../../main/contract/view';
import {
  formatValue,
  niceMax,
  periodsWhere,
  trackPeriods,
  visibleWindow,
} from '../../renderer/src/lib/chart';
import { startStores } from '../../renderer/src/stores';
import { HISTORY_LIMIT, useWorkloadStore } from '../../renderer/src/stores/workload';
import { fakeTransport, flush, node, view } from './helpers';
import type { FakeTransport } from './helpers';

describe('chart scales', () => {
  it('niceMax rounds up to four round steps with headroom', () => {
    expect(niceMax(0)).toBe(4);
    expect(niceMax(Number.NaN)).toBe(4);
    expect(niceMax(100)).toBe(200); // 110 / 4 = 27.5 → steps of 50
    expect(niceMax(9)).toBe(10); // 9.9 / 4 = 2.475 → steps of 2.5
    expect(niceMax(380)).toBe(800); // 418 / 4 = 104.5 → steps of 200
  });

  it('formatValue keeps axes short', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(0.25)).toBe('0.3');
    expect(formatValue(42)).toBe('42');
    expect(formatValue(1234)).toBe('1.2k');
    expect(formatValue(25_000)).toBe('25k');
  });

  it('visibleWindow follows the newest time over the span, or shows the zoom, or all', () => {
    const times = [1000, 2000, 3000, 100_000];
    expect(visibleWindow(times, 60_000, null, 0)).toEqual({ from: 40_000, to: 100_000 });
    expect(visibleWindow(times, null, null, 0)).toEqual({ from: 1000, to: 100_000 });
    expect(visibleWindow(times, 60_000, { from: 1500, to: 2500 }, 0)).toEqual({
      from: 1500,
      to: 2500,
    });
    expect(visibleWindow([], 60_000, null, 500_000)).toEqual({ from: 440_000, to: 500_000 });
  });
});

describe('bands', () => {
  const s = (time: number, bad: number) => ({ time, bad });

  it('periodsWhere joins consecutive samples; one bad sample is one interval wide', () => {
    const samples = [s(1000, 0), s(2000, 1), s(3000, 2), s(4000, 0), s(5000, 3), s(6000, 0)];
    expect(periodsWhere(samples, (x) => x.bad > 0)).toEqual([
      { from: 1000, to: 3000 },
      { from: 4000, to: 5000 },
    ]);
    expect(periodsWhere([s(1000, 1), s(2000, 1)], (x) => x.bad > 0)).toEqual([
      { from: 0, to: 2000 },
    ]);
    expect(periodsWhere([], () => true)).toEqual([]);
  });

  it('trackPeriods opens a range while the condition holds and closes it after', () => {
    let r = trackPeriods([], false, 100);
    expect(r).toEqual([]);
    r = trackPeriods(r, true, 200);
    r = trackPeriods(r, true, 300);
    expect(r).toEqual([{ from: 200, to: null }]);
    r = trackPeriods(r, false, 400);
    expect(r).toEqual([{ from: 200, to: 400 }]);
    const same = trackPeriods(r, false, 500);
    expect(same).toBe(r);
    r = trackPeriods(r, true, 600);
    expect(r).toEqual([
      { from: 200, to: 400 },
      { from: 600, to: null },
    ]);
    // Only the newest are kept.
    let many: { from: number; to: number | null }[] = [];
    for (let i = 0; i < 10; i++)
      many = trackPeriods(trackPeriods(many, true, i * 10, 3), false, i * 10 + 5, 3);
    expect(many).toEqual([
      { from: 70, to: 75 },
      { from: 80, to: 85 },
      { from: 90, to: 95 },
    ]);
  });
});

describe('the workload store keeps the run for the charts', () => {
  let t: FakeTransport;
  let version = 10;

  beforeEach(async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    t = fakeTransport();
    startStores(pinia, t);
    await flush();
  });

  const sample = (time: number, errors = 0): WorkloadSample => ({
    time,
    opsPerSec: 100,
    p50Ms: 2,
    p99Ms: 9,
    errors,
    unknown: 0,
  });
  /** wl: a running workload whose view carries the 120 samples up to `last` (one a second). */
  const wl = (startedAt: number, last: number): WorkloadView => ({
    running: true,
    options: {
      clients: 1,
      rate: 1,
      keys: 1,
      readRatio: 0,
      casRatio: 0,
      valueBytes: 1,
      seconds: 0,
    },
    startedAt,
    stoppedAt: null,
    totals: { ok: 0, failed: 0, unknown: 0, reads: 0, writes: 0 },
    samples: Array.from({ length: 120 }, (_, i) => sample(last - (119 - i) * 1000)).filter(
      (x) => x.time > startedAt,
    ),
  });
  const push = async (workload: WorkloadView | null, extra: Parameters<typeof view>[0] = {}) => {
    t.push('view', view({ version: ++version, workload, ...extra }));
    await flush();
  };

  it('history grows past the view’s recent samples, and a new run starts it again', async () => {
    const store = useWorkloadStore();
    await push(wl(0, 120_000));
    expect(store.history).toHaveLength(120);
    await push(wl(0, 300_000));
    // 120 s … 300 s: the view skipped 121 s … 180 s, which nobody saw; the rest is kept.
    expect(store.history).toHaveLength(240);
    expect(store.history[0]!.time).toBe(1000);
    expect(store.history[store.history.length - 1]!.time).toBe(300_000);
    expect(store.samples).toHaveLength(120);
    await push(wl(500_000, 510_000));
    expect(store.history.map((x) => x.time)).toEqual(
      Array.from({ length: 10 }, (_, i) => 501_000 + i * 1000),
    );
  });

  it('history is bounded', async () => {
    const store = useWorkloadStore();
    for (let last = 120_000; last <= (HISTORY_LIMIT + 240) * 1000; last += 120_000)
      await push(wl(0, last));
    expect(store.history).toHaveLength(HISTORY_LIMIT);
    expect(store.history[store.history.length - 1]!.time).toBe(
      Math.floor((HISTORY_LIMIT + 240) / 120) * 120_000,
    );
  });

  it('faultPeriods: from the view in which a fault appears to the one in which it is gone', async () => {
    const store = useWorkloadStore();
    const isolated = node(3, 'follower', {
      faults: { isolated: true, rules: [], custom: [], fsyncDelayMs: 0 },
    });
    await push(null, { now: 2_000_000 });
    await push(null, { now: 2_001_000, nodes: [...view().nodes.slice(0, 2), isolated] });
    await push(null, { now: 2_002_000, nodes: [...view().nodes.slice(0, 2), isolated] });
    expect(store.faultPeriods).toEqual([{ from: 2_001_000, to: null }]);
    await push(null, { now: 2_003_000 });
    expect(store.faultPeriods).toEqual([{ from: 2_001_000, to: 2_003_000 }]);
  });

  it('summary: a finished run says how long it ran, its average and its latency, not its last second', async () => {
    const store = useWorkloadStore();
    await push(wl(0, 10_000));
    expect(store.summary).toBeNull();
    const done: WorkloadView = {
      ...wl(0, 10_000),
      running: false,
      stoppedAt: 10_500,
      totals: { ok: 2100, failed: 0, unknown: 0, reads: 1000, writes: 1100 },
    };
    // The last, partial second is slow: the summary is the run's, not that second's.
    done.samples.push({ ...sample(10_500), opsPerSec: 3, p50Ms: 150, p99Ms: 166 });
    await push(done);
    expect(store.summary).toEqual({
      seconds: 10.5,
      stoppedAt: 10_500,
      opsPerSec: 200,
      p50Ms: 2,
      p99Ms: 166,
    });
  });
});
