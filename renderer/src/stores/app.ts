import { defineStore } from 'pinia';
import { computed } from 'vue';

/**
 * useAppStore holds what the dashboard knows about its host. Only stores talk to the bridge;
 * components read from stores.
 */
export const useAppStore = defineStore('app', () => {
  const bridge = typeof window !== 'undefined' ? window.raftdeck : undefined;
  const version = computed(() => bridge?.version ?? null);
  const host = computed(() => (bridge ? 'desktop' : 'browser'));
  return { version, host };
});
