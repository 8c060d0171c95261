/**
 * subscribers: what the socket and worker transports keep alike: the handlers of each push (in
 * the order they subscribed, each told every payload in the order it arrives) and the
 * connection status with its listeners (a new listener is told the status at once).
 */
import type { PushHandler, PushName } from '../../../main/contract/api';
import type { ConnectionStatus, Transport } from './transport';

export interface Subscribers {
  on: Transport['on'];
  onStatus: Transport['onStatus'];
  /** push hands `payload` to every handler of `name`. */
  push(name: PushName, payload: unknown): void;
  status(): ConnectionStatus;
  setStatus(s: ConnectionStatus): void;
}

/** createSubscribers: no handlers yet, and the status 'connecting'. */
export function createSubscribers(): Subscribers {
  let status: ConnectionStatus = { state: 'connecting', attempt: 0, retryAt: null, error: null };
  const handlers = new Map<PushName, Set<(payload: unknown) => void>>();
  const statusSubs = new Set<(s: ConnectionStatus) => void>();
  return {
    on<P extends PushName>(push: P, handler: PushHandler<P>) {
      let set = handlers.get(push);
      if (!set) handlers.set(push, (set = new Set()));
      const h = handler as (payload: unknown) => void;
      set.add(h);
      return () => set.delete(h);
    },
    onStatus(cb) {
      statusSubs.add(cb);
      cb(status);
      return () => statusSubs.delete(cb);
    },
    push(name, payload) {
      for (const h of handlers.get(name) ?? []) h(payload);
    },
    status: () => status,
    setStatus(s) {
      status = s;
      for (const cb of statusSubs) cb(s);
    },
  };
}
