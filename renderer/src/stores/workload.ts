import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { WorkloadOptions, WorkloadSample } from '../../../main/contract/view';
import { trackPeriods } from '../lib/chart';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';

/** HISTORY_LIMIT: samples of one run kept for the charts (an hour at one sample a second). */
export const HISTORY_LIMIT = 3600;

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  clients: 8,
  rate: 400,
  keys: 32,
  readRatio: 0.5,
  casRatio: 0.1,
  valueBytes: 32,
  seconds: 0,
};

/**
 * useWorkloadStore: the workload form, start/stop, and the linearizability check. Figures and
 * the checker's verdict come live from the cluster view. For the charts it keeps the run's
 * samples beyond the view's recent ones (`history`, newest last, up to HISTORY_LIMIT; a new run
 * starts it again) and the periods during which a fault was in force (`faultPeriods`, as seen in
 * the views since the dashboard opened; to = null while one still is). While a recorded moment
 * is shown, the charts show that moment's view: its recent samples, and the fault periods seen
 * up to it.
 */
export const useWorkloadStore = defineStore('workload', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const options = ref<WorkloadOptions>({ ...DEFAULT_WORKLOAD });

  const workload = computed(() => cluster.view?.workload ?? null);
  const running = computed(() => workload.value?.running ?? false);
  const samples = computed(() => workload.value?.samples ?? []);
  const checker = computed(() => cluster.view?.checker ?? null);
  // The form shows the options of the workload that is running, whoever started it.
  watch(
    () => (workload.value?.running ? workload.value.startedAt : null),
    (startedAt) => {
      if (startedAt !== null && workload.value) options.value = { ...workload.value.options };
    },
    { immediate: true },
  );

  const liveHistory = shallowRef<WorkloadSample[]>([]);
  let historyRun: number | null = null;
  watch(
    () => cluster.liveView?.workload?.samples ?? [],
    (list) => {
      const run = cluster.liveView?.workload?.startedAt ?? null;
      if (run !== historyRun) {
        historyRun = run;
        liveHistory.value = [];
      }
      const kept = liveHistory.value;
      const after = kept[kept.length - 1]?.time ?? -Infinity;
      const fresh = list.filter((s) => s.time > after);
      if (fresh.length === 0) return;
      const next = kept.concat(fresh);
      liveHistory.value = next.length > HISTORY_LIMIT ? next.slice(-HISTORY_LIMIT) : next;
    },
    { immediate: true },
  );
  const history = computed<WorkloadSample[]>(() =>
    cluster.replaying ? samples.value : liveHistory.value,
  );

  const liveFaultPeriods = shallowRef<{ from: number; to: number | null }[]>([]);
  watch(
    () => cluster.liveView,
    (v) => {
      if (v)
        liveFaultPeriods.value = trackPeriods(liveFaultPeriods.value, v.faults.length > 0, v.now);
    },
    { immediate: true },
  );
  /** faultPeriods: while replaying, those begun by the moment shown (one in force then is open). */
  const faultPeriods = computed(() => {
    const v = cluster.view;
    if (!cluster.replaying || !v) return liveFaultPeriods.value;
    const now = v.now;
    return liveFaultPeriods.value
      .filter((p) => p.from <= now)
      .map((p) => (p.to === null || p.to > now ? { from: p.from, to: null } : p));
  });

  const latest = computed(() => samples.value[samples.value.length - 1] ?? null);

  /**
   * summary: a finished run in a few figures (null while it runs, or before any run): how long it
   * ran, its average ok/s over that time, the median of its per-second p50 and its worst p99.
   */
  const summary = computed(() => {
    const w = workload.value;
    if (!w || w.running || w.stoppedAt === null) return null;
    const seconds = Math.max(0.001, (w.stoppedAt - w.startedAt) / 1000);
    const loaded = history.value.filter((s) => s.opsPerSec > 0);
    const p50s = loaded.map((s) => s.p50Ms).sort((a, b) => a - b);
    return {
      seconds,
      stoppedAt: w.stoppedAt,
      opsPerSec: Math.round(w.totals.ok / seconds),
      p50Ms: p50s.length ? p50s[Math.floor(p50s.length / 2)]! : null,
      p99Ms: loaded.length ? Math.max(...loaded.map((s) => s.p99Ms)) : null,
    };
  });

  return {
    options,
    workload,
    running,
    samples,
    history,
    faultPeriods,
    latest,
    summary,
    checker,
    start: () => conn.run('startWorkload', { ...options.value }),
    stop: () => conn.run('stopWorkload'),
    check: () => conn.run('checkHistory'),
    reset: () => (options.value = { ...DEFAULT_WORKLOAD }),
  };
});
