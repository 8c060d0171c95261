import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import type { ClusterEvent, EventKind, NodeId } from '../../../main/contract/view';
import { downloadJson } from '../lib/download';
import { useConnectionStore } from './connection';

/** EVENT_GROUPS: the timeline's filters, each a set of event kinds. */
export const EVENT_GROUPS: { id: string; label: string; kinds: EventKind[] }[] = [
  { id: 'elections', label: 'Elections', kinds: ['election', 'leader', 'role'] },
  { id: 'votes', label: 'Votes', kinds: ['vote'] },
  { id: 'config', label: 'Config', kinds: ['config', 'workflow'] },
  { id: 'snapshots', label: 'Snapshots', kinds: ['snapshot', 'storage'] },
  // Faults are what was injected; processes starting, exiting and restarting are their own group.
  { id: 'faults', label: 'Faults', kinds: ['fault'] },
  { id: 'processes', label: 'Processes', kinds: ['process'] },
  { id: 'client', label: 'Client', kinds: ['client', 'workload', 'checker'] },
  { id: 'scenario', label: 'Scenarios', kinds: ['scenario'] },
];

const MAX_EVENTS = 10_000;

/**
 * useEventsStore keeps the cluster's event stream in order (pushed one by one, gaps filled from
 * getEvents on every (re)connection), with the timeline's filters: kind groups, node and text
 * search. While a recorded moment is shown (`showRecorded`, from the time-travel store) the
 * timeline is the recorded events up to that moment instead (`list`); the live stream keeps
 * arriving underneath.
 */
export const useEventsStore = defineStore('events', () => {
  const conn = useConnectionStore();
  const events = shallowRef<ClusterEvent[]>([]);
  const groups = ref<string[]>(EVENT_GROUPS.map((g) => g.id));
  const node = ref<NodeId | null>(null);
  const search = ref('');
  /** recorded: the recorded events up to the moment shown, oldest first; null while live. */
  const recorded = shallowRef<ClusterEvent[] | null>(null);
  /** list: the events the timeline shows: the recorded ones while replaying, else the live ones. */
  // A copy: the live array is appended to in place, and a computed returning the same array
  // would not tell its readers it changed.
  const list = computed(() => recorded.value ?? events.value.slice());

  /** showRecorded shows recorded events instead of the live stream; null goes back to live. */
  function showRecorded(evs: ClusterEvent[] | null): void {
    recorded.value = evs;
  }

  const lastSeq = computed(() => events.value[events.value.length - 1]?.seq ?? 0);

  /**
   * nodeIds: every node the stream names, with `current` (the nodes in the view): a node removed
   * since keeps its place in the timeline's node filter.
   */
  function nodeIds(current: readonly NodeId[]): NodeId[] {
    const ids = new Set<NodeId>(current);
    for (const e of list.value) if (e.node !== null) ids.add(e.node);
    return [...ids].sort((a, b) => a - b);
  }

  function add(batch: ClusterEvent[]): void {
    const list = events.value;
    let changed = false;
    for (const e of batch) {
      const last = list[list.length - 1];
      if (last && e.seq <= last.seq) continue;
      list.push(e);
      changed = true;
    }
    if (!changed) return;
    if (list.length > MAX_EVENTS) list.splice(0, list.length - MAX_EVENTS);
    triggerRef(events);
  }

  async function catchUp(): Promise<void> {
    const missed = await conn.run('getEvents', lastSeq.value);
    if (missed) add(missed);
  }

  let started = false;
  function start(): void {
    if (started) return;
    started = true;
    conn.on('event', (e) => add([e]));
    conn.onConnected(() => void catchUp());
  }

  const kinds = computed(() => {
    const s = new Set<EventKind>();
    for (const g of EVENT_GROUPS) if (groups.value.includes(g.id)) g.kinds.forEach((k) => s.add(k));
    return s;
  });

  const filtered = computed(() => {
    const q = search.value.trim().toLowerCase();
    return list.value.filter(
      (e) =>
        kinds.value.has(e.kind) &&
        (node.value === null || e.node === node.value) &&
        (q === '' || e.message.toLowerCase().includes(q) || e.kind.includes(q)),
    );
  });

  function toggleGroup(id: string): void {
    groups.value = groups.value.includes(id)
      ? groups.value.filter((g) => g !== id)
      : [...groups.value, id];
  }

  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

  async function exportEvents(): Promise<void> {
    const r = await conn.run('exportEvents');
    if (r) downloadJson(`raftdeck-events-${stamp()}.json`, r.json);
  }

  async function exportHistory(): Promise<void> {
    const r = await conn.run('exportHistory');
    if (r) downloadJson(`raftdeck-history-${stamp()}.json`, r.json);
  }

  return {
    nodeIds,
    events,
    groups,
    node,
    search,
    recorded,
    list,
    showRecorded,
    lastSeq,
    filtered,
    add,
    catchUp,
    start,
    toggleGroup,
    exportEvents,
    exportHistory,
  };
});
