import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { KvOutcome } from '../../../main/contract/api';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';

export type KvOp = 'put' | 'get' | 'del' | 'cas';

export interface KvRecord {
  id: number;
  op: KvOp;
  key: string;
  value: string | null;
  expected: string | null;
  at: number;
  outcome: KvOutcome | null;
  error: string | null;
  /** why: for a failed operation while the quorum is lost, the quorum in words (else null). */
  why: string | null;
}

/**
 * useKvStore: the client console. Each operation is one call; its outcome (or the call's error)
 * is kept, newest first, with the node that answered and the time it took.
 */
export const useKvStore = defineStore('kv', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const records = ref<KvRecord[]>([]);
  let nextId = 1;

  async function execute(
    op: KvOp,
    key: string,
    value: string | null = null,
    expected: string | null = null,
  ): Promise<KvRecord> {
    const record: KvRecord = {
      id: nextId++,
      op,
      key,
      value,
      expected,
      at: Date.now(),
      outcome: null,
      error: null,
      why: null,
    };
    try {
      if (op === 'put') record.outcome = await conn.call('kvPut', key, value ?? '');
      else if (op === 'get') record.outcome = await conn.call('kvGet', key);
      else if (op === 'del') record.outcome = await conn.call('kvDel', key);
      else record.outcome = await conn.call('kvCas', key, expected, value ?? '');
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
    // "no leader is known" after a timeout says little: when the quorum is lost, say that.
    const failed =
      record.error !== null || (record.outcome !== null && record.outcome.error !== null);
    const q = cluster.view?.quorum;
    if (failed && q?.lost) record.why = q.text;
    records.value = [record, ...records.value].slice(0, 200);
    return record;
  }

  return { records, execute, clear: () => (records.value = []) };
});
