import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import { changesCluster } from '../../../main/contract/api';
import type { CallName, DashboardApi, PushHandler, PushName } from '../../../main/contract/api';
import type { CallResult, ConnectionStatus, Transport } from '../api';
import { useToastStore } from './toasts';

/** busyKey names one call with its arguments, for "this button is working" states. */
export function busyKey(name: CallName, args: readonly unknown[] = []): string {
  return args.length ? `${name}:${JSON.stringify(args)}` : name;
}

/**
 * useConnectionStore owns the transport: the one place the renderer talks to main. Other stores
 * call through `run` (errors become toasts, the call is marked busy while in flight) or `call`
 * (errors are thrown to the caller). `onConnected` callbacks run on every (re)connection, so
 * stores can fetch what they missed. While `refusal` is set (the dashboard shows a recorded
 * moment, or a recording opened from a file) every call that changes the cluster
 * (changesCluster) is refused here, before it reaches the transport, with `refusal` as the
 * reason; `refused` counts those refusals.
 */
export const useConnectionStore = defineStore('connection', () => {
  const toasts = useToastStore();
  const transport = shallowRef<Transport | null>(null);
  const status = ref<ConnectionStatus>({
    state: 'connecting',
    attempt: 0,
    retryAt: null,
    error: null,
  });
  const busy = ref<Record<string, number>>({});
  /** refusal: why calls that change the cluster are refused now, or null when they are not. */
  const refusal = ref<string | null>(null);
  /** refused: the calls refused because of `refusal`, oldest first (the last 50). */
  const refused = ref<CallName[]>([]);
  const connectedHooks: (() => void)[] = [];
  const pushSubs: { push: PushName; handler: PushHandler<PushName> }[] = [];
  let unsubscribe: (() => void)[] = [];

  const kind = computed(() => transport.value?.kind ?? 'browser');
  const connected = computed(() => status.value.state === 'connected');

  function connect(t: Transport): void {
    for (const u of unsubscribe) u();
    unsubscribe = [];
    transport.value = markRaw(t);
    for (const s of pushSubs) unsubscribe.push(t.on(s.push, s.handler as never));
    unsubscribe.push(
      t.onStatus((s) => {
        const was = status.value.state;
        status.value = s;
        if (s.state === 'connected' && was !== 'connected') {
          for (const hook of connectedHooks) hook();
        }
      }),
    );
  }

  function onConnected(hook: () => void): void {
    connectedHooks.push(hook);
    if (connected.value) hook();
  }

  function on<P extends PushName>(push: P, handler: PushHandler<P>): void {
    pushSubs.push({ push, handler: handler as PushHandler<PushName> });
    if (transport.value) unsubscribe.push(transport.value.on(push, handler));
  }

  async function call<K extends CallName>(
    name: K,
    ...args: Parameters<DashboardApi[K]>
  ): Promise<CallResult<K>> {
    if (refusal.value !== null && changesCluster(name)) {
      refused.value = [...refused.value.slice(-49), name];
      throw new Error(`${name} refused: ${refusal.value}`);
    }
    const t = transport.value;
    if (!t) throw new Error(`${name}: not connected`);
    const key = busyKey(name, args);
    busy.value = { ...busy.value, [key]: (busy.value[key] ?? 0) + 1 };
    try {
      return await t.call(name, ...args);
    } finally {
      const { [key]: count = 1, ...rest } = busy.value;
      busy.value = count > 1 ? { ...rest, [key]: count - 1 } : rest;
    }
  }

  /** run is call with the error shown as a toast; resolves undefined when the call failed. */
  async function run<K extends CallName>(
    name: K,
    ...args: Parameters<DashboardApi[K]>
  ): Promise<CallResult<K> | undefined> {
    try {
      return await call(name, ...args);
    } catch (err) {
      toasts.error(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  function isBusy(name: CallName, ...args: unknown[]): boolean {
    const key = busyKey(name, args);
    return (busy.value[key] ?? 0) > 0;
  }

  const anyBusy = computed(() => Object.keys(busy.value).length > 0);

  /** refuseChanges sets (or with null lifts) the reason every changing call is refused. */
  function refuseChanges(reason: string | null): void {
    refusal.value = reason;
  }

  return {
    transport,
    status,
    kind,
    connected,
    busy,
    anyBusy,
    refusal,
    refused,
    refuseChanges,
    connect,
    onConnected,
    on,
    call,
    run,
    isBusy,
  };
});
