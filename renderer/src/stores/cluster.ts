import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ClusterView, NodeId, NodeView } from '../../../main/contract/view';
import { activeFaults, divergence, lagOf, leaderOf, trackTermStarts } from '../lib/derive';
import type { TermStart } from '../lib/derive';
import { useConnectionStore } from './connection';

/**
 * useClusterStore holds the latest cluster view, as pushed by main (and fetched on every
 * (re)connection), and what the dashboard derives from it: the leader, per-node divergence and
 * lag, health counts, active faults, and where each term's entries begin.
 */
export const useClusterStore = defineStore('cluster', () => {
  const conn = useConnectionStore();
  const view = shallowRef<ClusterView | null>(null);
  const termStarts = ref<TermStart[]>([]);
  const receivedAt = ref<number | null>(null);

  /** apply takes a view unless it is older than the one shown (pushes may race a fetch). */
  function apply(next: ClusterView): void {
    const cur = view.value;
    if (cur && cur.clusterId === next.clusterId && next.version < cur.version) return;
    if (cur && cur.clusterId !== next.clusterId) termStarts.value = [];
    view.value = next;
    receivedAt.value = Date.now();
    termStarts.value = trackTermStarts(termStarts.value, next);
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
  const voters = computed<NodeId[]>(() => leader.value?.raft?.voters ?? []);
  const learners = computed<NodeId[]>(() => leader.value?.raft?.learners ?? []);
  const faults = computed(() => activeFaults(view.value));

  const divergenceById = computed(() => {
    const m = new Map<NodeId, string[]>();
    for (const n of nodes.value) m.set(n.id, divergence(n, leader.value));
    return m;
  });

  const lagById = computed(() => {
    const m = new Map<NodeId, number | null>();
    for (const n of nodes.value) m.set(n.id, lagOf(n, leader.value));
    return m;
  });

  const healthCounts = computed(() => {
    const c = { healthy: 0, lagging: 0, unreachable: 0, down: 0, paused: 0 };
    for (const n of nodes.value) c[n.health]++;
    return c;
  });

  /** maxIndex: the largest last index any node reports (the right edge of the log views). */
  const maxIndex = computed(() => Math.max(0, ...nodes.value.map((n) => n.raft?.lastIndex ?? 0)));

  function node(id: NodeId): NodeView | undefined {
    return nodes.value.find((n) => n.id === id);
  }

  return {
    view,
    receivedAt,
    termStarts,
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
    maxIndex,
    apply,
    refresh,
    start,
    node,
  };
});
