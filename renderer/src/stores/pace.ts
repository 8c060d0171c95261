import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { PACES } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';

/**
 * usePaceStore: the cluster's demo pace (from the view) and the controls that change it. Fast
 * failover (a follower campaigns at once when its leader's process is gone) follows the pace —
 * on at 1×, off when slower, so an audience sees a real election timeout — until the person sets
 * it themselves; from then on a new pace keeps their choice.
 */
export const usePaceStore = defineStore('pace', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  /** chosenFailover: the person's own choice of fast failover, or null while it follows the pace. */
  const chosenFailover = ref<boolean | null>(null);

  const pace = computed(() => cluster.view?.pace.pace ?? 1);
  const fastFailover = computed(() => cluster.view?.pace.fastFailover ?? true);
  const slowed = computed(() => pace.value !== 1);

  /** disabledReason: why the controls cannot be used now, or '' when they can. */
  const disabledReason = computed(() => {
    if (!conn.connected) return 'Not connected to the dashboard server';
    if (!cluster.view) return 'Waiting for the cluster';
    if (cluster.view.state !== 'running') return `The cluster is ${cluster.view.state}`;
    return '';
  });

  /** failoverFor: the fast-failover setting to send with pace `p`. */
  function failoverFor(p: number): boolean {
    return chosenFailover.value ?? p === 1;
  }

  async function setPace(p: number): Promise<void> {
    await conn.run('setPace', p, failoverFor(p));
  }

  async function setFastFailover(on: boolean): Promise<void> {
    chosenFailover.value = on;
    await conn.run('setPace', pace.value, on);
  }

  return {
    paces: PACES,
    pace,
    fastFailover,
    slowed,
    chosenFailover,
    disabledReason,
    failoverFor,
    setPace,
    setFastFailover,
  };
});
