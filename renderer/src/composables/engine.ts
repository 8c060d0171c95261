/**
 * engine composables: what the cluster's engine can do, read from the cluster store's view (the
 * recorded one while replaying), for components that show a control or a whole panel only where
 * the engine carries it out. Controls use `v-changes="'feature'"` (or `v-feature`) for the
 * disabled state and title; a panel that is unavailable as a whole shows `reason` in place of
 * its content (UnavailableNote).
 */
import { computed } from 'vue';
import type { ComputedRef } from 'vue';
import type { EngineView } from '../../../main/contract/view';
import { engineBadge, engineOf, featureReason } from '../lib/engine';
import type { EngineBadge, Features } from '../lib/engine';
import { useClusterStore } from '../stores/cluster';

export interface FeatureState {
  available: ComputedRef<boolean>;
  /** reason: "Unavailable on etcd: <reason>", or null while the feature is available. */
  reason: ComputedRef<string | null>;
}

/** useFeature: whether the cluster's engine can do `features` (any of several), and if not why. */
export function useFeature(features: Features | (() => Features)): FeatureState {
  const cluster = useClusterStore();
  const reason = computed(() =>
    featureReason(cluster.view, typeof features === 'function' ? features() : features),
  );
  return { available: computed(() => reason.value === null), reason };
}

/** useEngine: the cluster's engine, its badge, and `reason(features)` for lists of controls. */
export function useEngine(): {
  engine: ComputedRef<EngineView>;
  badge: ComputedRef<EngineBadge | null>;
  reason: (features: Features) => string | null;
} {
  const cluster = useClusterStore();
  const engine = computed(() => engineOf(cluster.view));
  return {
    engine,
    badge: computed(() => engineBadge(engine.value)),
    reason: (features) => featureReason(cluster.view, features),
  };
}
