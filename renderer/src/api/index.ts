/**
 * createTransport picks how the dashboard reaches main: the Electron bridge when preload exposed
 * `window.raftdeck`, else a WebSocket to the page's own origin carrying the session token from the
 * page URL (`/?token=...`).
 */
import { SOCKET_PATH } from '../../../main/contract/socket';
import { createBridgeTransport } from './bridge-transport';
import { createSocketTransport } from './socket-transport';
import type { Transport } from './transport';

export type { CallResult, ConnectionState, ConnectionStatus, Transport } from './transport';

/** socketUrl: the WebSocket address for a page at `location`. */
export function socketUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${SOCKET_PATH}?token=${encodeURIComponent(token)}`;
}

export function createTransport(): Transport {
  if (window.raftdeck) return createBridgeTransport(window.raftdeck);
  return createSocketTransport(socketUrl(window.location));
}
