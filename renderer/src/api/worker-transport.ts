/**
 * worker-transport: the Transport over a Web Worker that runs a lab cluster (the static lab
 * build, see main/contract/lab-worker.ts). It posts the lab to start, then calls; answers come
 * back by id, pushes in the order the worker produced them. It is 'connecting' until the worker
 * says it runs, 'connected' from then on; if the worker fails (it could not start, or threw), every
 * call in flight and every later call fails with the worker's reason, which the status carries.
 */
import type { CallName, DashboardApi } from '../../../main/contract/api';
import type {
  LabWorkerInbound,
  LabWorkerOutbound,
  LabWorkerStart,
} from '../../../main/contract/lab-worker';
import { createSubscribers } from './subscribers';
import type { CallResult, Transport } from './transport';

/** WorkerPort: what the transport needs of a Worker (tests pass a fake). */
export interface WorkerPort {
  postMessage(message: LabWorkerInbound): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
  addEventListener(type: 'error', fn: (e: { message?: string }) => void): void;
  terminate(): void;
}

interface Pending {
  name: CallName;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export function createWorkerTransport(worker: WorkerPort, start: LabWorkerStart): Transport {
  let nextId = 1;
  let failure: string | null = null;
  const subs = createSubscribers();
  const pending = new Map<number, Pending>();

  const fail = (why: string): void => {
    if (failure !== null) return;
    failure = why;
    for (const [id, p] of pending) {
      p.reject(new Error(`${p.name}: ${why}`));
      pending.delete(id);
    }
    subs.setStatus({ state: 'connecting', attempt: 0, retryAt: null, error: why });
  };

  worker.addEventListener('message', (e: { data: unknown }) => {
    const msg = e.data as LabWorkerOutbound;
    if (msg.type === 'ready') {
      if (failure === null)
        subs.setStatus({ state: 'connected', attempt: 0, retryAt: null, error: null });
    } else if (msg.type === 'failed') {
      fail(`the lab could not run: ${msg.error}`);
    } else if (msg.type === 'reply') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    } else if (msg.type === 'push') {
      subs.push(msg.push, msg.payload);
    }
  });
  worker.addEventListener('error', (e: { message?: string }) => {
    fail(`the lab stopped: ${e.message ?? 'its worker failed'}`);
  });
  worker.postMessage(start);

  return {
    kind: 'browser',
    call<K extends CallName>(name: K, ...args: Parameters<DashboardApi[K]>) {
      return new Promise<CallResult<K>>((resolve, reject) => {
        if (failure !== null) {
          reject(new Error(`${name}: ${failure}`));
          return;
        }
        const id = nextId++;
        pending.set(id, { name, resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ type: 'call', id, name, args });
      });
    },
    on: subs.on,
    onStatus: subs.onStatus,
    close() {
      fail('the transport was closed');
      worker.terminate();
    },
  };
}
