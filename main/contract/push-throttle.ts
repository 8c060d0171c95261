/**
 * push-throttle: how views reach a renderer. The supervisor may produce views faster than a
 * renderer needs them; the throttle sends at most one view per `minIntervalMs` (default 50 ms,
 * so at most 20 Hz), always the newest, and never drops the last one: a view that arrives
 * inside the interval is sent when the interval ends. So while the source changes at >= 10 Hz
 * the renderer sees >= 10 Hz too. A view whose version equals the last one sent is skipped.
 * Used by main/web (per WebSocket) and main/app (per window).
 */
import type { ClusterView } from './view';

export interface ViewThrottle {
  push(view: ClusterView): void;
  dispose(): void;
}

export interface ViewThrottleOptions {
  minIntervalMs?: number;
  now?: () => number;
}

export function createViewThrottle(
  send: (view: ClusterView) => void,
  options: ViewThrottleOptions = {},
): ViewThrottle {
  const interval = options.minIntervalMs ?? 50;
  const now = options.now ?? Date.now;
  let lastSentAt = -Infinity;
  let lastVersion: number | null = null;
  let pending: ClusterView | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const flush = (): void => {
    timer = undefined;
    if (disposed || pending === null) return;
    const view = pending;
    pending = null;
    lastSentAt = now();
    lastVersion = view.version;
    send(view);
  };

  return {
    push(view) {
      if (disposed) return;
      if (view.version === lastVersion && pending === null) return;
      pending = view;
      if (timer !== undefined) return;
      const wait = lastSentAt + interval - now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    dispose() {
      disposed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = null;
    },
  };
}
