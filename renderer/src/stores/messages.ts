import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MessageBatch } from '../../../main/contract/view';
import { useConnectionStore } from './connection';

/** MessageListener receives each batch of sampled messages as it arrives. */
export type MessageListener = (batch: MessageBatch) => void;

/**
 * useMessagesStore passes the `messages` push (sampled messages the nodes sent) on to whoever
 * draws them. Batches are not kept and not reactive: a view subscribes with `listen` while it is
 * shown and animates them itself, so no per-message work goes through Vue. `batches` counts the
 * batches received (reactive, for showing that messages flow at all).
 */
export const useMessagesStore = defineStore('messages', () => {
  const conn = useConnectionStore();
  const listeners = new Set<MessageListener>();
  const batches = ref(0);

  function receive(batch: MessageBatch): void {
    batches.value++;
    for (const l of listeners) l(batch);
  }

  /** listen calls `l` with every batch from now on; returns the unsubscribe. */
  function listen(l: MessageListener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  }

  let started = false;
  function start(): void {
    if (started) return;
    started = true;
    conn.on('messages', receive);
  }

  return { batches, listen, start, receive };
});
