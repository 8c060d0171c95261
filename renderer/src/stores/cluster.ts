import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type {
  ActiveFault,
  ClusterView,
  Health,
  NodeId,
  NodeView,
} from '../../../main/contract/view';
import { noHealthCounts } from '../../../main/view/projection';
import { leaderOf } from '../lib/derive';
import { useConnectionStore } from './connection';

/**
 * useClusterStore holds the latest cluster view, as pushed by main (and fetched on every
 * (re)connection), with its fields indexed for the pages: the leader, per-node divergence and
 * lag, health counts and active faults, all as the view projection (main/view/projection.ts)
 * computed them. While the dashboard replays a recorded moment (`showRecorded`), `view` and
 * everything derived from it are that moment's; the live view keeps arriving underneath
 * (`liveView`), so going back to live shows it at once.
 */
export const useClusterStore = defineStore('cluster', () => {
  const conn = useConnectionStore();
  const liveView = shallowRef<ClusterView | null>(null);
  /** recorded: the recorded moment's view while replaying (undefined while live). */
  const recorded = shallowRef<ClusterView | null | undefined>(undefined);
  const replaying = computed(() => recorded.value !== undefined);
  const view = computed<ClusterView | null>(() =>
    recorded.value !== undefined ? recorded.value : liveView.value,
  );
  const receivedAt = ref<number | null>(null);

  /** apply takes a view unless it is older than the one shown (pushes may race a fetch). */
  function apply(next: ClusterView): void {
    const cur = liveView.value;
    if (cur && cur.clusterId === next.clusterId && next.version < cur.version) return;
    liveView.value = next;
    receivedAt.value = Date.now();
  }

  /**
   * showRecorded shows a recorded view instead of the live one (null: the moment before the
   * first recorded view); undefined goes back to the live view.
   */
  function showRecorded(v: ClusterView | null | undefined): void {
    recorded.value = v;
  }

  async function refresh(): Promise<void> {
    const v = await conn.run('getView');
    if (v) apply(v);
  }

  let started = false;
  function start(): void {
    if (started) return;
    started = true;
    conn.on('view', apply);
    conn.onConnected(() => void refresh());
  }

  const nodes = computed<NodeView[]>(() =>
    [...(view.value?.nodes ?? [])].sort((a, b) => a.id - b.id),
  );
  const leader = computed(() => leaderOf(view.value));
  const leaderId = computed<NodeId>(() => view.value?.leader ?? 0);
  const term = computed(() => view.value?.term ?? 0);
  /** voters, learners: the latest configuration known (the leader's, else the longest log's). */
  const voters = computed<NodeId[]>(() => view.value?.config.voters ?? []);
  const learners = computed<NodeId[]>(() => view.value?.config.learners ?? []);
  const faults = computed<ActiveFault[]>(() => view.value?.faults ?? []);

  const divergenceById = computed(() => new Map(nodes.value.map((n) => [n.id, n.divergence])));

  const lagById = computed(() => new Map(nodes.value.map((n) => [n.id, n.lagBehindLeader])));

  const healthCounts = computed<Record<Health, number>>(
    () => view.value?.healthCounts ?? noHealthCounts(),
  );

  /**
   * leadershipText: who leads, in the projection's words, when nobody does (never "electing"
   * before a node campaigns): "leader 2 silent for 0.4 s", "electing (node 3)", "none".
   */
  const leadershipText = computed(() => {
    const l = view.value?.leadership;
    if (!l || l.state === 'led') return '';
    if (l.state === 'silent')
      return `leader ${l.leader} silent${l.silentMs !== null ? ` for ${(l.silentMs / 1000).toFixed(1)} s` : ''}`;
    if (l.state === 'electing')
      return `electing (${l.candidates.length === 1 ? 'node' : 'nodes'} ${l.candidates.join(', ')})`;
    return 'none';
  });

  /** lagEntries: entries behind the leader past which a node counts as lagging (from the view). */
  const lagEntries = computed(() => view.value?.thresholds.lagEntries ?? 100);

  /** maxIndex: the largest last index any node reports (the right edge of the log views). */
  const maxIndex = computed(() => Math.max(0, ...nodes.value.map((n) => n.raft?.lastIndex ?? 0)));

  function node(id: NodeId): NodeView | undefined {
    return nodes.value.find((n) => n.id === id);
  }

  return {
    view,
    liveView,
    replaying,
    showRecorded,
    receivedAt,
    nodes,
    leader,
    leaderId,
    term,
    voters,
    learners,
    faults,
    divergenceById,
    lagById,
    healthCounts,
    lagEntries,
    leadershipText,
    maxIndex,
    apply,
    refresh,
    start,
    node,
  };
});
