import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { MessageBatch, MessageTrace } from '../../../main/contract/view';
import { useConnectionStore } from './connection';

/** MessageListener receives each batch of sampled messages as it arrives. */
export type MessageListener = (batch: MessageBatch) => void;

/** MESSAGE_RING: the live messages kept for the message inspector (the oldest go first). */
export const MESSAGE_RING = 5000;

/**
 * useMessagesStore passes the `messages` push (sampled messages the nodes sent) on to whoever
 * draws them, and keeps the latest MESSAGE_RING of them for the message inspector (`ring`,
 * oldest first, not reactive itself: `received` counts the messages taken, so a reader recomputes
 * when it changes). Batches go to listeners outside Vue: a view subscribes with `listen` while it
 * is shown and animates them itself. `batches` counts the batches received.
 *
 * While a recorded moment is shown (`showRecorded`) live batches are still kept but no longer
 * passed to listeners; the time-travel store passes the recorded ones instead (`replay`), in time
 * order as playback reaches them, and sets `recorded`: the recorded messages around the moment.
 */
export const useMessagesStore = defineStore('messages', () => {
  const conn = useConnectionStore();
  const listeners = new Set<MessageListener>();
  const batches = ref(0);
  const received = ref(0);
  let ring: MessageTrace[] = [];
  /** recorded: the recorded messages of the moment shown, oldest first; null while live. */
  const recorded = shallowRef<MessageTrace[] | null>(null);

  function keep(traces: readonly MessageTrace[]): void {
    if (traces.length === 0) return;
    ring = ring.concat(traces);
    if (ring.length > MESSAGE_RING) ring = ring.slice(ring.length - MESSAGE_RING);
    received.value += traces.length;
  }

  function receive(batch: MessageBatch): void {
    batches.value++;
    keep(batch.traces);
    if (recorded.value !== null) return;
    for (const l of listeners) l(batch);
  }

  /** replay passes recorded messages to the listeners (as the push does live). */
  function replay(batch: MessageBatch): void {
    for (const l of listeners) l(batch);
  }

  /** showRecorded shows recorded messages instead of live ones; null goes back to live. */
  function showRecorded(traces: MessageTrace[] | null): void {
    recorded.value = traces;
  }

  /** live: the live messages kept, oldest first (a copy). */
  function live(): MessageTrace[] {
    return ring.slice();
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

  return { batches, received, recorded, listen, start, receive, replay, showRecorded, live };
});
