/**
 * lab-worker: a lab cluster in a Web Worker, for the static lab build (npm run build:lab). It
 * waits for the page's LabWorkerStart, starts the lab with this worker's clock and timers as its
 * host, then answers the page's calls through the same validation and dispatch as the servers
 * (dispatchCall), and posts the lab's pushes. Nothing here reaches a network or a disk.
 *
 * Layering: this room (lab-worker/) may import main/lab and what it stands on; the renderer may
 * load it only as a worker (`?worker&inline`), never import its modules (eslint-rules/layering.js).
 */
import { dispatchCall } from '../main/contract/dispatch';
import type { LabWorkerInbound, LabWorkerOutbound } from '../main/contract/lab-worker';
import { createLabDashboard, type LabDashboard, type LabHost } from '../main/lab/lab-dashboard';

/** WorkerScope: the parts of the worker's global scope used here. */
interface WorkerScope {
  postMessage(message: LabWorkerOutbound): void;
  addEventListener(type: 'message', fn: (e: { data: LabWorkerInbound }) => void): void;
}

// globalThis is the worker's global scope (typed here without the DOM's worker library).
const scope = globalThis as unknown as WorkerScope;

/** workerHost: the lab's real clock and repeating timer, from the worker's globals. */
const workerHost: LabHost = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};

let lab: LabDashboard | null = null;

scope.addEventListener('message', (e) => {
  const msg = e.data;
  if (msg.type === 'start') {
    if (lab) return;
    try {
      lab = createLabDashboard({ seed: msg.seed, nodes: msg.nodes, host: workerHost });
    } catch (err) {
      scope.postMessage({
        type: 'failed',
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    lab.onView((payload) => scope.postMessage({ type: 'push', push: 'view', payload }));
    lab.onEvent((payload) => scope.postMessage({ type: 'push', push: 'event', payload }));
    lab.onMessages((payload) => scope.postMessage({ type: 'push', push: 'messages', payload }));
    scope.postMessage({ type: 'ready' });
    return;
  }
  if (msg.type === 'call') {
    const api = lab;
    const id = msg.id;
    if (!api) {
      scope.postMessage({
        type: 'reply',
        id,
        ok: false,
        status: 500,
        error: `${String(msg.name)}: the lab has not started`,
      });
      return;
    }
    void dispatchCall(api, msg.name, msg.args).then((reply) =>
      scope.postMessage({ type: 'reply', id, ...reply }),
    );
  }
});
