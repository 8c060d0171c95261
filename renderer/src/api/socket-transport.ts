/**
 * socket-transport: the Transport over one WebSocket (browser mode, see contract/socket.ts).
 * Calls made while disconnected fail at once with a clear message; calls in flight when the
 * connection drops fail too (their outcome is unknown). After a drop it reconnects with
 * exponential backoff (250 ms doubling to 5 s) and reports every state change, so the page can
 * show a banner and fetch what it missed.
 */
import type { CallName, DashboardApi } from '../../../main/contract/api';
import type { SocketCall, SocketServerMessage } from '../../../main/contract/socket';
import { createSubscribers } from './subscribers';
import type { CallResult, Transport } from './transport';

export interface SocketTransportOptions {
  /** WebSocketImpl: the constructor to use (tests pass a fake). */
  WebSocketImpl?: new (url: string) => WebSocket;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  callTimeoutMs?: number;
}

interface Pending {
  name: CallName;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function createSocketTransport(
  url: string,
  options: SocketTransportOptions = {},
): Transport {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const callTimeout = options.callTimeoutMs ?? 120_000;

  let ws: WebSocket | null = null;
  let nextId = 1;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const subs = createSubscribers();
  const pending = new Map<number, Pending>();

  const failPending = (why: string): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${p.name}: ${why}`));
      pending.delete(id);
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string') return;
    let msg: SocketServerMessage;
    try {
      msg = JSON.parse(data) as SocketServerMessage;
    } catch {
      return;
    }
    if (msg.type === 'reply') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    } else if (msg.type === 'push') {
      subs.push(msg.push, msg.payload);
    }
  };

  const connect = (): void => {
    if (closed) return;
    let socket: WebSocket;
    try {
      socket = new Impl(url);
    } catch (err) {
      scheduleReconnect(String(err));
      return;
    }
    ws = socket;
    socket.onopen = () => {
      subs.setStatus({ state: 'connected', attempt: 0, retryAt: null, error: null });
    };
    socket.onmessage = (e: MessageEvent) => onMessage(e.data);
    socket.onclose = (e: CloseEvent) => {
      if (ws !== socket) return;
      ws = null;
      failPending('the connection was lost; the outcome is unknown');
      scheduleReconnect(e.reason || `closed (${e.code})`);
    };
    socket.onerror = () => {
      // onclose follows and handles it.
    };
  };

  const scheduleReconnect = (error: string): void => {
    if (closed) return;
    const attempt = subs.status().state === 'connected' ? 1 : subs.status().attempt + 1;
    const delay = Math.min(maxBackoff, minBackoff * 2 ** (attempt - 1));
    subs.setStatus({ state: 'reconnecting', attempt, retryAt: Date.now() + delay, error });
    retryTimer = setTimeout(connect, delay);
  };

  connect();

  return {
    kind: 'browser',
    call<K extends CallName>(name: K, ...args: Parameters<DashboardApi[K]>) {
      return new Promise<CallResult<K>>((resolve, reject) => {
        if (!ws || subs.status().state !== 'connected' || ws.readyState !== 1) {
          reject(new Error(`${name}: disconnected from the dashboard server; reconnecting`));
          return;
        }
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: no answer within ${Math.round(callTimeout / 1000)} s`));
        }, callTimeout);
        pending.set(id, { name, resolve: resolve as (v: unknown) => void, reject, timer });
        const message: SocketCall = { type: 'call', id, name, args };
        ws.send(JSON.stringify(message));
      });
    },
    on: subs.on,
    onStatus: subs.onStatus,
    close() {
      closed = true;
      clearTimeout(retryTimer);
      failPending('the transport was closed');
      ws?.close();
      ws = null;
    },
  };
}
