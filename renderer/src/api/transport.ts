/**
 * transport: how the renderer reaches main. Two implementations with one interface: the Electron
 * bridge (window.raftdeck, from preload) and a WebSocket to the page's own origin (browser mode).
 * Only stores use it.
 */
import type { CallName, DashboardApi, PushHandler, PushName } from '../../../main/contract/api';

/** ConnectionState: the bridge is always 'connected'; the socket moves between all three. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export interface ConnectionStatus {
  state: ConnectionState;
  /** attempt: reconnect attempts since the connection was lost (0 while connected). */
  attempt: number;
  /** retryAt: when the next attempt starts (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** error: why the last connection ended, when known. */
  error: string | null;
}

export type CallResult<K extends CallName> = Awaited<ReturnType<DashboardApi[K]>>;

export interface Transport {
  readonly kind: 'desktop' | 'browser';
  call<K extends CallName>(name: K, ...args: Parameters<DashboardApi[K]>): Promise<CallResult<K>>;
  on<P extends PushName>(push: P, handler: PushHandler<P>): () => void;
  /** onStatus calls cb now and on every change of the connection; returns the unsubscribe. */
  onStatus(cb: (status: ConnectionStatus) => void): () => void;
  close(): void;
}
