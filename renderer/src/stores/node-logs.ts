import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { NodeId } from '../../../main/contract/view';
import { useConnectionStore } from './connection';
import { useTimeTravelStore } from './time-travel';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogLine {
  time: number | null;
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * toLine reads one structured log record, whatever extra fields it has. The node writes its time
 * as `t` (epoch ms); `time` and `ts` are read too.
 */
export function toLine(r: Record<string, unknown>): LogLine {
  const { t: at, time, ts, level, msg, message, ...fields } = r;
  const t =
    typeof at === 'number'
      ? at
      : typeof time === 'number'
        ? time
        : typeof ts === 'number'
          ? ts
          : null;
  return {
    time: t,
    level: typeof level === 'string' ? level : 'info',
    msg: typeof msg === 'string' ? msg : typeof message === 'string' ? message : '',
    fields,
  };
}

/**
 * useNodeLogsStore: the recent structured log lines of one node (nodeLogs), refreshed while the
 * node detail is open, with a minimum level and a text search. While a recorded moment is shown,
 * only the lines written up to it (of those the node still keeps) are shown.
 */
export const useNodeLogsStore = defineStore('nodeLogs', () => {
  const conn = useConnectionStore();
  const tt = useTimeTravelStore();
  const node = ref<NodeId | null>(null);
  const lines = ref<LogLine[]>([]);
  const minLevel = ref<LogLevel>('info');
  const search = ref('');
  const loading = ref(false);

  async function load(id: NodeId, count = 500): Promise<void> {
    if (node.value !== id) lines.value = [];
    node.value = id;
    loading.value = true;
    try {
      const r = await conn.call('nodeLogs', id, count);
      if (node.value === id) lines.value = r.map(toLine);
    } catch {
      // A down node has no logs to give; the view says why.
    } finally {
      loading.value = false;
    }
  }

  const filtered = computed(() => {
    const min = LOG_LEVELS.indexOf(minLevel.value);
    const q = search.value.trim().toLowerCase();
    const until = tt.replaying ? tt.instant : null;
    return lines.value.filter((l) => {
      if (until !== null && l.time !== null && l.time > until) return false;
      const rank = LOG_LEVELS.indexOf(l.level as LogLevel);
      if (rank >= 0 && rank < min) return false;
      if (!q) return true;
      return l.msg.toLowerCase().includes(q) || JSON.stringify(l.fields).toLowerCase().includes(q);
    });
  });

  return { node, lines, minLevel, search, loading, filtered, load };
});
