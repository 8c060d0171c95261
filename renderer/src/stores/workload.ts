import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { WorkloadOptions } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';

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
 * the checker's verdict come live from the cluster view.
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

  const latest = computed(() => samples.value[samples.value.length - 1] ?? null);

  return {
    options,
    workload,
    running,
    samples,
    latest,
    checker,
    start: () => conn.run('startWorkload', { ...options.value }),
    stop: () => conn.run('stopWorkload'),
    check: () => conn.run('checkHistory'),
    reset: () => (options.value = { ...DEFAULT_WORKLOAD }),
  };
});
