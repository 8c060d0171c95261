import type { HistoryOp, WorkloadOptions, WorkloadSample, WorkloadView } from '../contract/view';
import { KvClient, UnknownOutcomeError } from '../node/client';
import type { KvSession } from './engine';

/** OpenSession opens one client of the cluster's key-value store for the workload. */
export type OpenSession = (clientId: string, timeoutMs: number) => KvSession;

/** raftdeckSessions: sessions over raftdeck nodes' client addresses, as `endpoints` lists them now. */
export const raftdeckSessions =
  (endpoints: () => string[]): OpenSession =>
  (clientId, timeoutMs) =>
    new KvClient({ endpoints: endpoints(), clientId, timeoutMs });

const dec = new TextDecoder();
const str = (v: Uint8Array | null): string | null => (v === null ? null : dec.decode(v));

/** DEFAULT_WORKLOAD: 8 closed-loop clients over 20 keys, half reads, a tenth compare-and-set. */
export const DEFAULT_WORKLOAD: WorkloadOptions = {
  clients: 8,
  rate: 0,
  keys: 20,
  readRatio: 0.5,
  casRatio: 0.1,
  valueBytes: 16,
  seconds: 0,
};

/** checkWorkloadOptions returns a message naming the first bad option, or undefined. */
export function checkWorkloadOptions(o: WorkloadOptions): string | undefined {
  const int = (v: number, lo: number, hi: number): boolean =>
    Number.isSafeInteger(v) && v >= lo && v <= hi;
  if (!int(o.clients, 1, 256)) return 'clients must be an integer from 1 to 256';
  if (!(Number.isFinite(o.rate) && o.rate >= 0 && o.rate <= 1_000_000))
    return 'rate must be 0 (closed loop) to 1000000 ops/s';
  if (!int(o.keys, 1, 1_000_000)) return 'keys must be an integer from 1 to 1000000';
  if (!(o.readRatio >= 0 && o.readRatio <= 1)) return 'readRatio must be between 0 and 1';
  if (!(o.casRatio >= 0 && o.casRatio <= 1) || o.readRatio + o.casRatio > 1) {
    return 'casRatio must be between 0 and 1, and readRatio + casRatio at most 1';
  }
  if (!int(o.valueBytes, 1, 1 << 20)) return 'valueBytes must be an integer from 1 to 1048576';
  if (!(Number.isFinite(o.seconds) && o.seconds >= 0 && o.seconds <= 86_400))
    return 'seconds must be 0 (until stopped) to 86400';
  return undefined;
}

/**
 * Workload runs N clients against the cluster, closed loop or at a target rate, with a
 * read/write/cas mix over a key space, and records every operation (client, invoke time,
 * complete time, result, or unknown) for the linearizability checker. Written values are unique
 * (client and counter), so a read tells which write it saw. Each client has at most one operation
 * in flight, like a Jepsen process.
 */
export class Workload {
  readonly history: HistoryOp[] = [];
  readonly options: WorkloadOptions;
  private running = false;
  private loops: Promise<void>[] = [];
  private clients: KvSession[] = [];
  private nextOpId = 0;
  private startedAt = 0;
  private stoppedAt: number | null = null;
  private readonly samples: WorkloadSample[] = [];
  private window: number[] = [];
  private windowErrors = 0;
  private windowUnknown = 0;
  private sampler: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  readonly totals = { ok: 0, failed: 0, unknown: 0, reads: 0, writes: 0 };
  /** t0 anchors history times: milliseconds since the workload started (monotonic). */
  private t0 = 0;
  /**
   * prefix makes this run's keys its own: the checker's model starts every key absent, so a run
   * must never meet values an earlier run (or anyone else) left in the cluster.
   */
  readonly prefix = `wl${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}/`;

  constructor(
    private readonly open: OpenSession,
    options: Partial<WorkloadOptions> = {},
    private readonly onChange: () => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_WORKLOAD, ...options };
    const bad = checkWorkloadOptions(this.options);
    if (bad) throw new Error(`workload: ${bad}`);
  }

  /** key is the name of key i of this run's key space. */
  key(i: number): string {
    return `${this.prefix}k${i}`;
  }

  /** keyNames lists this run's whole key space. */
  keyNames(): string[] {
    return Array.from({ length: this.options.keys }, (_, i) => this.key(i));
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) throw new Error('workload is already running');
    this.running = true;
    this.startedAt = Date.now();
    this.t0 = performance.now();
    const o = this.options;
    for (let c = 0; c < o.clients; c++) {
      const client = this.open(`wl-${this.startedAt.toString(36)}-${c}`, 3000);
      this.clients.push(client);
      this.loops.push(this.loop(c, client));
    }
    this.sampler = setInterval(() => this.sample(), 1000);
    if (o.seconds > 0) this.stopTimer = setTimeout(() => void this.stop(), o.seconds * 1000);
    this.onChange();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.stopTimer) clearTimeout(this.stopTimer);
    await Promise.allSettled(this.loops);
    if (this.sampler) clearInterval(this.sampler);
    this.sample();
    await Promise.allSettled(this.clients.map((c) => c.close()));
    this.stoppedAt = Date.now();
    this.onChange();
  }

  /** done resolves when the workload has stopped (after `seconds`, or stop()). */
  async done(): Promise<void> {
    while (this.running) await new Promise((r) => setTimeout(r, 50));
    await Promise.allSettled(this.loops);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  private async loop(c: number, client: KvSession): Promise<void> {
    const o = this.options;
    const interval = o.rate > 0 ? (1000 * o.clients) / o.rate : 0;
    let next = performance.now() + (interval ? (c * interval) / o.clients : 0);
    let counter = 0;
    const seen = new Map<string, string | null>();
    const pad = 'x'.repeat(Math.max(0, o.valueBytes - 12));
    while (this.running) {
      if (interval) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval;
        if (!this.running) break;
      }
      const key = this.key(Math.floor(Math.random() * o.keys));
      const x = Math.random();
      const value = `${c}-${counter++}${pad}`.slice(
        0,
        Math.max(o.valueBytes, String(c).length + 8),
      );
      const op: HistoryOp =
        x < o.readRatio
          ? {
              id: this.nextOpId++,
              client: String(c),
              op: 'get',
              key,
              invoke: this.now(),
              outcome: 'unknown',
            }
          : x < o.readRatio + o.casRatio
            ? {
                id: this.nextOpId++,
                client: String(c),
                op: 'cas',
                key,
                expected: seen.get(key) ?? null,
                value,
                invoke: this.now(),
                outcome: 'unknown',
              }
            : {
                id: this.nextOpId++,
                client: String(c),
                op: 'put',
                key,
                value,
                invoke: this.now(),
                outcome: 'unknown',
              };
      this.history.push(op);
      const t0 = performance.now();
      try {
        if (op.op === 'get') {
          const v = str(await client.get(key));
          op.output = { value: v };
          seen.set(key, v);
          this.totals.reads++;
        } else if (op.op === 'cas') {
          const r = await client.cas(key, op.expected ?? null, value);
          op.output = { casOk: r.ok };
          seen.set(key, r.ok ? value : str(r.current));
          this.totals.writes++;
        } else {
          await client.put(key, value);
          seen.set(key, value);
          this.totals.writes++;
        }
        op.outcome = 'ok';
        op.complete = this.now();
        this.totals.ok++;
        this.window.push(performance.now() - t0);
      } catch (e) {
        if (e instanceof UnknownOutcomeError) {
          // It may take effect at any time from now on: no completion time, outcome unknown.
          op.outcome = 'unknown';
          this.totals.unknown++;
          this.windowUnknown++;
          seen.delete(key);
        } else {
          op.outcome = 'fail';
          op.complete = this.now();
          this.totals.failed++;
          this.windowErrors++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }

  private sample(): void {
    const w = this.window.sort((a, b) => a - b);
    const pct = (p: number): number =>
      w.length ? w[Math.min(w.length - 1, Math.floor((p / 100) * w.length))]! : 0;
    this.samples.push({
      time: Date.now(),
      opsPerSec: w.length,
      p50Ms: Number(pct(50).toFixed(2)),
      p99Ms: Number(pct(99).toFixed(2)),
      errors: this.windowErrors,
      unknown: this.windowUnknown,
    });
    if (this.samples.length > 600) this.samples.splice(0, this.samples.length - 600);
    this.window = [];
    this.windowErrors = 0;
    this.windowUnknown = 0;
    this.onChange();
  }

  view(): WorkloadView {
    return {
      running: this.running,
      options: this.options,
      startedAt: this.startedAt,
      stoppedAt: this.stoppedAt,
      totals: { ...this.totals },
      samples: this.samples.slice(-120),
    };
  }
}
