import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ScenarioInfo } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';

/** useScenariosStore: the scripted scenarios, and the one running (narrated from the view). */
export const useScenariosStore = defineStore('scenarios', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const list = ref<ScenarioInfo[]>([]);

  async function load(): Promise<void> {
    const r = await conn.run('listScenarios');
    if (r) list.value = r;
  }

  let started = false;
  function start(): void {
    if (started) return;
    started = true;
    conn.onConnected(() => void load());
  }

  const current = computed(() => cluster.view?.scenario ?? null);
  const currentInfo = computed(() => list.value.find((s) => s.name === current.value?.name));

  return {
    list,
    current,
    currentInfo,
    load,
    start,
    run: (name: string) => conn.run('runScenario', name),
    pause: () => conn.run('pauseScenario'),
    resume: () => conn.run('resumeScenario'),
    step: () => conn.run('stepScenario'),
  };
});
