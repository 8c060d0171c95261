/**
 * load-worker is one thread of the put generator: it opens its clients, warms their connections,
 * says 'ready', and on 'go' drives its writers until the common end time, then reports its
 * latencies. Run through loadThread() in load.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openPutter, type ClientSpec } from './clients';
import { drive, type DriveResult } from './load';

export interface WorkerJob {
  spec: ClientSpec;
  writers: number;
  clients: number;
  seconds: number;
  warmMs: number;
  prefix: string;
}

export type WorkerMessage =
  { type: 'ready' } | { type: 'done'; result: DriveResult } | { type: 'failed'; message: string };

const job = workerData as WorkerJob;
const port = parentPort!;
const putters = Array.from({ length: job.clients }, () => openPutter(job.spec));

async function run(startAt: number): Promise<DriveResult> {
  return drive(job.writers, startAt, job.seconds, job.warmMs, job.prefix, (k, v, w) =>
    putters[w % putters.length]!.put(k, v),
  );
}

port.on('message', (m: { type: 'go'; startAt: number }) => {
  if (m.type !== 'go') return;
  run(m.startAt)
    .then(
      (result) =>
        port.postMessage({ type: 'done', result } satisfies WorkerMessage, [
          result.lat.buffer as ArrayBuffer,
        ]),
      (e: Error) =>
        port.postMessage({ type: 'failed', message: e.message } satisfies WorkerMessage),
    )
    .finally(() => void Promise.all(putters.map((p) => p.close())).then(() => port.close()));
});

Promise.all(putters.map((p, i) => p.put(`warmup-${job.prefix}-${i}`, new Uint8Array(8)))).then(
  () => port.postMessage({ type: 'ready' } satisfies WorkerMessage),
  (e: Error) =>
    port.postMessage({ type: 'failed', message: `warm-up: ${e.message}` } satisfies WorkerMessage),
);
