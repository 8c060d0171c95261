/** bridge-transport: the Transport over Electron's preload bridge (window.raftdeck). */
import type { CallName, DashboardApi, DashboardBridge } from '../../../main/contract/api';
import type { CallResult, ConnectionStatus, Transport } from './transport';

export function createBridgeTransport(bridge: DashboardBridge): Transport {
  const connected: ConnectionStatus = {
    state: 'connected',
    attempt: 0,
    retryAt: null,
    error: null,
  };
  return {
    kind: 'desktop',
    call<K extends CallName>(name: K, ...args: Parameters<DashboardApi[K]>) {
      const fn = bridge[name] as (...a: unknown[]) => Promise<CallResult<K>>;
      return fn(...args);
    },
    on(push, handler) {
      return bridge.on(push, handler);
    },
    onStatus(cb) {
      cb(connected);
      return () => undefined;
    },
    close() {},
  };
}
