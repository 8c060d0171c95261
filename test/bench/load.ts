/**
 * load is the closed-loop put generator shared by every system: `concurrency` writers, each
 * waiting for its put to finish before sending the next, for a fixed time. Latencies of the
 * first second (or fifth of the run, if shorter) are left out as warm-up.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ClientSpec } from './clients';
import type { WorkerJob, WorkerMessage } from './load-worker';

/** Putter is one client of a system under test: one connection (or pool) to the cluster. */
export interface Putter {
  put(key: string, value: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

export interface LevelResult {
  system: string;
  concurrency: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** threads, clients: load threads and client instances the writers were spread over. */
  threads: number;
  clients: number;
  /** clientCpu, serverCpu: CPU time used during the level, in % of one core. */
  clientCpu: number;
  serverCpu: number;
  /** puts: puts completed in the measured window (after the warm-up). */
  puts: number;
  /** serverCpuCoreSeconds: CPU seconds of all member processes together in the measured window. */
  serverCpuCoreSeconds: number;
  /** opsPerCoreSecond: puts ÷ serverCpuCoreSeconds (the servers' efficiency). */
  opsPerCoreSecond: number;
  /** members: the cluster's size. */
  members: number;
  /** trialsOpsPerSec: the ops/s of each trial, when the figures are medians of several. */
  trialsOpsPerSec?: number[];
}

/** CLOCK_TICKS: clock ticks per second of /proc/<pid>/stat's utime and stime on Linux. */
export const CLOCK_TICKS = 100;

/** perCoreSecond: puts per server core-second (0 when no CPU time was counted). */
export function perCoreSecond(puts: number, coreSeconds: number): number {
  return coreSeconds > 0 ? Math.round(puts / coreSeconds) : 0;
}

/** median of numbers (the lower middle one of an even count); NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

/**
 * combineTrials folds the trials of one system at one concurrency into one result: ops/s, p50 and
 * p99 are the medians of the trials' figures (each taken on its own); errors, puts and server CPU
 * seconds are summed, so opsPerCoreSecond is over every measured window together; the CPU %
 * columns are the trials' means.
 */
export function combineTrials(trials: LevelResult[]): LevelResult {
  const first = trials[0];
  if (!first) throw new Error('combineTrials: no trials');
  if (trials.length === 1) return first;
  const sum = (f: (r: LevelResult) => number): number => trials.reduce((a, r) => a + f(r), 0);
  const mean = (f: (r: LevelResult) => number): number => Math.round(sum(f) / trials.length);
  const puts = sum((r) => r.puts);
  const core = round3(sum((r) => r.serverCpuCoreSeconds));
  return {
    system: first.system,
    concurrency: first.concurrency,
    opsPerSec: median(trials.map((r) => r.opsPerSec)),
    p50Ms: median(trials.map((r) => r.p50Ms)),
    p99Ms: median(trials.map((r) => r.p99Ms)),
    errors: sum((r) => r.errors),
    threads: first.threads,
    clients: first.clients,
    clientCpu: mean((r) => r.clientCpu),
    serverCpu: mean((r) => r.serverCpu),
    puts,
    serverCpuCoreSeconds: core,
    opsPerCoreSecond: perCoreSecond(puts, core),
    members: first.members,
    trialsOpsPerSec: trials.map((r) => r.opsPerSec),
  };
}

export const KEY_BYTES = 16;
export const VALUE_BYTES = 128;

/**
 * threadsFor: load threads for `concurrency` writers: one for a single writer; otherwise one per 4
 * CPUs (at most 4), so that most CPUs are left to the servers. `override` (--threads) wins.
 */
export function threadsFor(concurrency: number, override?: number): number {
  const auto = Math.min(4, Math.max(1, Math.floor(availableParallelism() / 4)));
  return Math.max(1, Math.min(concurrency, override ?? auto));
}

/** clientsFor: client instances for `writers` writers of one thread (one per 64 writers). */
export function clientsFor(writers: number, perClient = 64): number {
  return Math.max(1, Math.ceil(writers / perClient));
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** benchKey is a 16-byte key unique per writer and sequence number. */
export function benchKey(prefix: string, writer: number, seq: number): string {
  return `${prefix}${writer.toString(36)}-${seq.toString(36)}`
    .slice(0, KEY_BYTES)
    .padEnd(KEY_BYTES, '0');
}

/** cpuTicks sums utime + stime (in clock ticks, 100 per second on Linux) of the given pids. */
export function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(rest[11]) + Number(rest[12]);
    } catch {
      // the process is gone
    }
  }
  return total;
}

const round2 = (n: number): number => Number(n.toFixed(2));
const round3 = (n: number): number => Number(n.toFixed(3));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** DriveResult: one thread's measured latencies (ms) and counts. */
export interface DriveResult {
  lat: Float64Array;
  errors: number;
  /** endAt: wall-clock ms when its last writer finished. */
  endAt: number;
}

/**
 * drive runs `writers` closed-loop writers from wall-clock time startAt for `seconds`; puts that
 * start in the first warmMs are not measured. Writer w sends through put(key, value, w).
 */
export async function drive(
  writers: number,
  startAt: number,
  seconds: number,
  warmMs: number,
  prefix: string,
  put: (key: string, value: Uint8Array, writer: number) => Promise<unknown>,
): Promise<DriveResult> {
  await sleep(startAt - Date.now());
  const start = performance.now() + (startAt - Date.now());
  const warmEnd = start + warmMs;
  const end = start + seconds * 1000;
  const value = Buffer.alloc(VALUE_BYTES, 120);
  const lat: number[] = [];
  let errors = 0;
  const writer = async (w: number): Promise<void> => {
    let seq = 0;
    while (performance.now() < end) {
      const key = benchKey(prefix, w, seq++);
      const t0 = performance.now();
      try {
        await put(key, value, w);
        if (t0 >= warmEnd) lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return { lat: Float64Array.from(lat), errors, endAt: Date.now() };
}

/** loadThread starts a load worker thread (load-worker.ts, through tsx's loader) for a job. */
function loadThread(job: WorkerJob): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('./load-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(target)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    workerData: job,
  });
}

/** next resolves with the worker's next message (rejects if it fails or exits first). */
function next(w: Worker): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      cleanup();
      if (m.type === 'failed') reject(new Error(m.message));
      else resolve(m);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`load thread exited with code ${code}`));
    };
    const cleanup = (): void => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}

/**
 * runLevel drives `concurrency` closed-loop writers for `seconds` against the system `spec`
 * names. The writers are split over threadsFor(concurrency) worker threads, each with its own
 * clients (one per 64 of its writers).
 * serverPids (read when measuring starts and ends) are the processes whose CPU is counted;
 * `members` (the cluster's size) is recorded in the result.
 */
export async function runLevel(
  spec: ClientSpec,
  concurrency: number,
  seconds: number,
  serverPids: () => number[],
  threadsOverride?: number,
  writersPerClient = 64,
  members = 3,
): Promise<LevelResult> {
  const threads = threadsFor(concurrency, threadsOverride);
  const warmMs = Math.min(1000, seconds * 200);
  const workers: Worker[] = [];
  let clients = 0;
  try {
    for (let t = 0; t < threads; t++) {
      const writers = Math.floor(concurrency / threads) + (t < concurrency % threads ? 1 : 0);
      const job: WorkerJob = {
        spec,
        writers,
        clients: clientsFor(writers, writersPerClient),
        seconds,
        warmMs,
        prefix: `c${concurrency.toString(36)}t${t}`,
      };
      clients += job.clients;
      workers.push(loadThread(job));
    }
    await Promise.all(workers.map((w) => next(w)));
    const startAt = Date.now() + 50;
    const results = workers.map((w) => next(w));
    for (const w of workers) w.postMessage({ type: 'go', startAt });
    await sleep(startAt + warmMs - Date.now());
    const cpu0 = process.cpuUsage();
    const ticks0 = cpuTicks(serverPids());
    const t0 = Date.now();
    const done = (await Promise.all(results)) as Extract<WorkerMessage, { type: 'done' }>[];
    const cpu = process.cpuUsage(cpu0);
    const ticks = cpuTicks(serverPids()) - ticks0;
    const cpuSeconds = Math.max(0.001, (Date.now() - t0) / 1000);
    const all = done.map((d) => d.result);
    const n = all.reduce((a, r) => a + r.lat.length, 0);
    const sorted = new Float64Array(n);
    let at = 0;
    for (const r of all) {
      sorted.set(r.lat, at);
      at += r.lat.length;
    }
    sorted.sort();
    const elapsed = Math.max(
      0.001,
      (Math.max(...all.map((r) => r.endAt)) - startAt - warmMs) / 1000,
    );
    const coreSeconds = round3(ticks / CLOCK_TICKS);
    return {
      system: spec.system,
      concurrency,
      opsPerSec: Math.round(n / elapsed),
      p50Ms: round2(percentile(sorted, 50)),
      p99Ms: round2(percentile(sorted, 99)),
      errors: all.reduce((a, r) => a + r.errors, 0),
      threads,
      clients,
      clientCpu: Math.round(((cpu.user + cpu.system) / 1e6 / cpuSeconds) * 100),
      serverCpu: Math.round((ticks / CLOCK_TICKS / cpuSeconds) * 100),
      puts: n,
      serverCpuCoreSeconds: coreSeconds,
      opsPerCoreSecond: perCoreSecond(n, coreSeconds),
      members,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * fill writes `count` puts of `valueBytes` through the putters with `concurrency` writers in all,
 * calling progress(done) now and then. A failed put is retried (fill must write every key).
 */
export async function fill(
  putters: Putter[],
  count: number,
  valueBytes: number,
  concurrency: number,
  progress: (done: number) => void,
  stop: () => boolean,
): Promise<void> {
  const value = Buffer.alloc(valueBytes, 97);
  let next = 0;
  let done = 0;
  let lastReport = performance.now();
  const writer = async (w: number): Promise<void> => {
    const p = putters[w % putters.length]!;
    for (;;) {
      if (stop()) throw new Error('interrupted');
      const i = next++;
      if (i >= count) return;
      const key = `f${i.toString().padStart(KEY_BYTES - 1, '0')}`;
      for (let attempt = 0; ; attempt++) {
        try {
          await p.put(key, value);
          break;
        } catch (e) {
          if (attempt >= 20 || stop()) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      done++;
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        progress(done);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
  progress(done);
}
