import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { MessageTrace, NodeId } from '../../../main/contract/view';
import { downloadText } from '../lib/download';
import { significanceOf, toJsonLines } from '../lib/message-rows';
import type { Significance } from '../lib/message-rows';
import { useConnectionStore } from './connection';
import { useMessagesStore } from './messages';
import { useTimeTravelStore } from './time-travel';

/** MAX_SHOWN: rows the table renders (the newest); the filters and the export see them all. */
export const MAX_SHOWN = 300;
/** REFRESH_MS: the live table takes new messages at most this often. */
export const REFRESH_MS = 250;
/** FOLLOW_POLL_MS: how often a followed link's last messages are asked for (live). */
export const FOLLOW_POLL_MS = 1000;

export interface MessageRow {
  /** key: unique among the rows shown. */
  key: string;
  m: MessageTrace;
  sig: Significance | null;
}

/**
 * useMessageInspectorStore: the message inspector's table. Its messages are the live ones the
 * messages store keeps (the sampled `messages` push, up to MESSAGE_RING) or, while a recorded
 * moment is shown, the recorded ones of the span before it. Filters: sender, receiver, types,
 * term. `paused` freezes the live table while traffic goes on. `follow` narrows it to one
 * directed link: live, the exact last messages its sender recorded (linkDetail, polled every
 * FOLLOW_POLL_MS while the page is open); replaying, the recorded ones on it. Rows are newest
 * first, each with its significance (see message-rows.ts), judged over the whole list before the
 * filters, so filtering never makes a message look like the first of its term.
 */
export const useMessageInspectorStore = defineStore('message-inspector', () => {
  const conn = useConnectionStore();
  const messages = useMessagesStore();
  const tt = useTimeTravelStore();

  const from = ref<NodeId | null>(null);
  const to = ref<NodeId | null>(null);
  const types = ref<string[]>([]);
  const term = ref<number | null>(null);
  const paused = ref(false);
  const follow = ref<{ from: NodeId; to: NodeId } | null>(null);
  const followed = shallowRef<MessageTrace[]>([]);
  const followError = ref<string | null>(null);

  /** watchers: how many Messages pages are open. */
  let watchers = 0;
  // The live list, taken from the ring at most every REFRESH_MS (and frozen while paused).
  const live = shallowRef<MessageTrace[]>([]);
  let refresh: ReturnType<typeof setTimeout> | undefined;
  function take(): void {
    refresh = undefined;
    if (!paused.value) live.value = messages.live();
  }
  watch(
    () => messages.received,
    () => {
      // Only while the page is open: the ring keeps everything meanwhile.
      if (watchers > 0 && refresh === undefined && !paused.value)
        refresh = setTimeout(take, REFRESH_MS);
    },
  );

  /** source: the messages before filters and follow, oldest first. */
  const source = computed<MessageTrace[]>(() =>
    tt.replaying ? (messages.recorded ?? []) : live.value,
  );

  /** base: what the table is over: the source, or the followed link's messages. */
  const base = computed<MessageTrace[]>(() => {
    const f = follow.value;
    if (!f) return source.value;
    if (tt.replaying) return source.value.filter((m) => m.from === f.from && m.to === f.to);
    return followed.value;
  });

  const sigs = computed(() => significanceOf(base.value));

  /** rows: every message of `base` through the filters, newest first. */
  const rows = computed<MessageRow[]>(() => {
    const list = base.value;
    const s = sigs.value;
    const ty = new Set(types.value);
    const out: MessageRow[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i]!;
      if (from.value !== null && m.from !== from.value) continue;
      if (to.value !== null && m.to !== to.value) continue;
      if (ty.size && !ty.has(m.type)) continue;
      if (term.value !== null && m.term !== term.value) continue;
      out.push({ key: `${m.from}-${m.to}-${m.seq}-${m.time}-${i}`, m, sig: s[i]! });
    }
    return out;
  });
  const shown = computed(() => rows.value.slice(0, MAX_SHOWN));
  const terms = computed(() => [...new Set(base.value.map((m) => m.term))].sort((a, b) => a - b));

  function setPaused(on: boolean): void {
    paused.value = on;
    if (!on) take();
  }

  // Following a link live: poll its sender's last messages while the page is open.
  let poll: ReturnType<typeof setInterval> | undefined;
  async function loadFollowed(): Promise<void> {
    const f = follow.value;
    if (!f || tt.replaying || paused.value) return;
    try {
      const d = await conn.call('linkDetail', f.from, f.to);
      if (follow.value === f) {
        followed.value = d.recent;
        followError.value = null;
      }
    } catch (err) {
      followError.value = err instanceof Error ? err.message : String(err);
    }
  }
  function startPolling(): void {
    if (poll !== undefined) return;
    void loadFollowed();
    poll = setInterval(() => void loadFollowed(), FOLLOW_POLL_MS);
  }
  function stopPolling(): void {
    if (poll !== undefined) clearInterval(poll);
    poll = undefined;
  }
  watch(follow, (f) => {
    followed.value = [];
    followError.value = null;
    stopPolling();
    if (f && watchers > 0) startPolling();
  });

  /** open: the page is shown (polling a followed link runs while it is); returns the close. */
  function open(): () => void {
    watchers++;
    take();
    if (follow.value) startPolling();
    return () => {
      watchers--;
      if (watchers === 0) stopPolling();
    };
  }

  function followLink(a: NodeId, b: NodeId): void {
    follow.value = { from: a, to: b };
  }

  function unfollow(): void {
    follow.value = null;
  }

  function toggleType(t: string): void {
    types.value = types.value.includes(t)
      ? types.value.filter((x) => x !== t)
      : [...types.value, t];
  }

  function clearFilters(): void {
    from.value = null;
    to.value = null;
    types.value = [];
    term.value = null;
  }

  /** exportJsonLines downloads the rows through the filters, oldest first, one JSON per line. */
  function exportJsonLines(): void {
    const list = rows.value.map((r) => r.m).reverse();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    downloadText(`raftdeck-messages-${stamp}.jsonl`, toJsonLines(list), 'application/x-ndjson');
  }

  return {
    from,
    to,
    types,
    term,
    paused,
    follow,
    followed,
    followError,
    source,
    rows,
    shown,
    terms,
    setPaused,
    open,
    followLink,
    unfollow,
    toggleType,
    clearFilters,
    exportJsonLines,
    loadFollowed,
  };
});
