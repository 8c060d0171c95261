/**
 * socket: the dashboard API over one WebSocket (browser mode). Every message is one JSON text
 * frame. The client sends calls; the server answers each call once, by id, and pushes views and
 * events without being asked. Answers may arrive in any order; pushes arrive in the order they
 * were produced.
 */
import type { CallName, CallReply, DashboardPushes, PushName } from './api';

/** SOCKET_PATH is where the WebSocket is served; the session token goes in `?token=`. */
export const SOCKET_PATH = '/ws';

/** SocketCall: client → server, one call. `id` is chosen by the client and echoed in the reply. */
export interface SocketCall {
  type: 'call';
  id: number;
  name: CallName;
  args: unknown[];
}

/** SocketReply: server → client, the answer to the call with the same id. */
export type SocketReply = { type: 'reply'; id: number } & CallReply;

/** SocketPush: server → client, a push. */
export type SocketPush = {
  [P in PushName]: { type: 'push'; push: P; payload: DashboardPushes[P] };
}[PushName];

export type SocketServerMessage = SocketReply | SocketPush;
