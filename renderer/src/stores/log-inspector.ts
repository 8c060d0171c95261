import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { LogInspection, LogRow } from '../../../main/contract/view';
import { LOG_QUERY_MAX, PREVIEW_CHARS } from '../../../main/contract/view';
import { featureReason } from '../lib/engine';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';
import { useUiStore } from './ui';

/** SEARCH_PAGES: how many pages a search for a value ("show in log") reads before it gives up. */
export const SEARCH_PAGES = 25;

/**
 * previewMatches: whether an entry's value preview is of `value` (a preview keeps the first
 * PREVIEW_CHARS characters of a longer value and adds "…").
 */
export function previewMatches(preview: string | null | undefined, value: string): boolean {
  if (preview === undefined || preview === null) return false;
  const chars = Array.from(value);
  if (chars.length <= PREVIEW_CHARS) return preview === value;
  return preview === `${chars.slice(0, PREVIEW_CHARS).join('')}…`;
}

/**
 * useLogInspectorStore: the log inspector's state: the entry shown (by index, with every node's
 * copy), or the entries of a key search and the one picked among them. `showIndex` reads one
 * index; `search` reads a key's entries from an index on; `showOp` (the checker's "show in log")
 * searches a key page after page until it finds the entry written with `value` (workload values
 * are unique per write) and highlights it. Answers that arrive after a newer request are dropped.
 * On an engine that cannot read its members' logs (logEntries) nothing is asked: the inspector
 * says why instead.
 */
export const useLogInspectorStore = defineStore('log-inspector', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  /** unavailable: the engine cannot read entries (the inspector shows the reason). */
  const unavailable = (): boolean => featureReason(cluster.view, 'logEntries') !== null;
  /** mode: what is shown: one index, or a key search's results. */
  const mode = ref<'index' | 'key' | null>(null);
  const index = ref<number | null>(null);
  const key = ref('');
  /** highlight: the value whose entry a search looks for (the checker's operation), or null. */
  const highlight = ref<string | null>(null);
  const inspection = shallowRef<LogInspection | null>(null);
  /** rows: a key search's rows (several pages when it continued). */
  const rows = shallowRef<LogRow[]>([]);
  const selected = ref<number | null>(null);
  const loading = ref(false);
  /** searched: the last index a key search looked at. */
  const searched = ref(0);
  /** revealPending: the inspector should scroll itself into view when it is next shown. */
  const revealPending = ref(false);
  let ticket = 0;

  /** row: the row shown in detail (the index's, or the search result picked). */
  const row = computed<LogRow | null>(() => {
    if (mode.value === 'index') return inspection.value?.rows[0] ?? null;
    return rows.value.find((r) => r.index === selected.value) ?? null;
  });
  const note = computed(() => inspection.value?.note ?? null);
  /** lastIndex: the reference node's last index (to know whether a search can go on). */
  const lastIndex = computed(() => {
    const i = inspection.value;
    return i?.nodes.find((n) => n.id === i.reference)?.lastIndex ?? null;
  });
  /** isHit: whether a row is the entry the search looks for. */
  const isHit = (r: LogRow): boolean =>
    highlight.value !== null && previewMatches(r.entry?.value, highlight.value);
  const canSearchMore = computed(
    () => mode.value === 'key' && lastIndex.value !== null && searched.value < lastIndex.value,
  );

  async function showIndex(i: number): Promise<void> {
    if (!Number.isSafeInteger(i) || i < 1 || unavailable()) return;
    const mine = ++ticket;
    mode.value = 'index';
    index.value = i;
    loading.value = true;
    try {
      const r = await conn.run('logEntries', { from: i, count: 1 });
      if (mine !== ticket) return;
      inspection.value = r ?? null;
    } finally {
      if (mine === ticket) loading.value = false;
    }
  }

  /**
   * search reads the entries on `k` from `from` on; with `value`, it keeps reading pages until
   * the entry with that value is among them (or the log ends, or SEARCH_PAGES were read).
   */
  async function search(k: string, value: string | null = null, from = 1): Promise<void> {
    if (unavailable()) return;
    const mine = ++ticket;
    mode.value = 'key';
    key.value = k;
    highlight.value = value;
    rows.value = [];
    selected.value = null;
    loading.value = true;
    try {
      await readPages(mine, from, value === null ? 1 : SEARCH_PAGES, value);
    } finally {
      if (mine === ticket) loading.value = false;
    }
  }

  async function readPages(
    mine: number,
    from: number,
    pages: number,
    value: string | null,
  ): Promise<void> {
    let at = from;
    for (let p = 0; p < pages; p++) {
      const r = await conn.run('logEntries', { from: at, count: LOG_QUERY_MAX, key: key.value });
      if (mine !== ticket || r === undefined) return;
      inspection.value = r;
      rows.value = [...rows.value, ...r.rows];
      searched.value = r.scannedTo;
      const hit =
        value === null ? undefined : r.rows.find((x) => previewMatches(x.entry?.value, value));
      if (hit) {
        selected.value = hit.index;
        return;
      }
      selected.value ??= rows.value[0]?.index ?? null;
      const last = r.nodes.find((n) => n.id === r.reference)?.lastIndex ?? 0;
      if (r.scannedTo >= last) return;
      at = r.scannedTo + 1;
    }
  }

  /** more continues a key search after the last index it looked at. */
  async function more(): Promise<void> {
    if (!canSearchMore.value) return;
    const mine = ++ticket;
    loading.value = true;
    try {
      await readPages(mine, searched.value + 1, 1, null);
    } finally {
      if (mine === ticket) loading.value = false;
    }
  }

  function select(i: number): void {
    selected.value = i;
  }

  /** showOp opens the Replication page's inspector on the entry a client operation wrote. */
  async function showOp(k: string, value: string | null): Promise<void> {
    await useUiStore().go('replication');
    revealPending.value = true;
    await search(k, value);
  }

  function clear(): void {
    ticket++;
    mode.value = null;
    inspection.value = null;
    rows.value = [];
    selected.value = null;
    highlight.value = null;
    loading.value = false;
  }

  return {
    mode,
    index,
    key,
    highlight,
    inspection,
    rows,
    selected,
    loading,
    searched,
    revealPending,
    row,
    note,
    lastIndex,
    canSearchMore,
    isHit,
    showIndex,
    search,
    more,
    select,
    showOp,
    clear,
  };
});
