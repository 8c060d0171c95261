/**
 * cluster-bench: starts a 3-node raftdeck cluster on 127.0.0.1 (heartbeat 100 ms, election
 * 1000 ms, fsync on) and measures closed-loop put throughput and latency at several
 * concurrencies: 16-byte keys, 128-byte values.
 *
 *   npm run bench                 10 s per level
 *   npm run bench -- --quick      3 s per level
 *   npm run bench -- --levels 1,64 --seconds 5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAdmin } from '../../main/cluster/admin-link';
import { Supervisor } from '../../main/cluster/supervisor';
import { KvClient } from '../../main/node/client';

export interface LevelResult {
  system: string;
  concurrency: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** runLevel drives `concurrency` closed-loop writers for `seconds` through `put`. */
export async function runLevel(
  system: string,
  concurrency: number,
  seconds: number,
  put: (key: string, value: Uint8Array) => Promise<unknown>,
): Promise<LevelResult> {
  const value = new Uint8Array(128).fill(120);
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const end = performance.now() + seconds * 1000;
  const warmEnd = performance.now() + Math.min(1000, seconds * 200);
  let counted = 0;
  let countStart = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const key = `k${String(w).padStart(4, '0')}-${String(seq++ % 1e9).padStart(9, '0')}`
        .slice(0, 16)
        .padEnd(16, '0');
      const t0 = performance.now();
      try {
        await put(key, value);
        const t1 = performance.now();
        if (t0 >= warmEnd) {
          if (countStart === 0) countStart = t0;
          lat.push(t1 - t0);
          counted++;
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - (countStart || warmEnd)) / 1000;
  const sorted = Float64Array.from(lat).sort();
  return {
    system,
    concurrency,
    opsPerSec: Math.round(counted / Math.max(0.001, elapsed)),
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    errors,
  };
}

function parse(argv: string[]): { seconds: number; levels: number[] } {
  let seconds = 10;
  let levels = [1, 16, 64, 256];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') seconds = 3;
    else if (a === '--seconds') seconds = Number(argv[++i]);
    else if (a === '--levels') levels = String(argv[++i]).split(',').map(Number);
    else {
      console.error(
        `bench: unknown option ${a}\nusage: npm run bench -- [--quick] [--seconds N] [--levels 1,16,64,256]`,
      );
      process.exit(2);
    }
  }
  if (
    !Number.isFinite(seconds) ||
    seconds <= 0 ||
    levels.some((l) => !Number.isSafeInteger(l) || l <= 0)
  ) {
    console.error('bench: --seconds must be positive and --levels a list of positive integers');
    process.exit(2);
  }
  return { seconds, levels };
}

async function main(): Promise<void> {
  const { seconds, levels } = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-bench-'));
  const sup = new Supervisor({
    dir,
    nodes: 3,
    timing: { tickMs: 10, heartbeatMs: 100, electionMs: 1000 },
    connect: connectAdmin,
  });
  const stop = async (): Promise<void> => {
    await sup.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    await sup.start();
    const endpoints = sup.view().nodes.map((n) => n.addresses.client);
    const t0 = Date.now();
    while (!sup.leaderId()) {
      if (Date.now() - t0 > 10_000) throw new Error('no leader within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const kv = new KvClient({ endpoints, timeoutMs: 10_000 });
    await kv.put('warmup', 'x');
    console.log(`raftdeck 3 nodes, 16-byte keys, 128-byte values, ${seconds} s per level`);
    console.log('concurrency    ops/s     p50 ms    p99 ms   errors');
    const results: LevelResult[] = [];
    for (const c of levels) {
      const r = await runLevel('raftdeck', c, seconds, (k, v) => kv.put(k, v));
      results.push(r);
      console.log(
        `${String(c).padStart(11)} ${String(r.opsPerSec).padStart(8)} ${r.p50Ms.toFixed(2).padStart(10)} ${r.p99Ms.toFixed(2).padStart(9)} ${String(r.errors).padStart(8)}`,
      );
    }
    await kv.close();
    console.log(JSON.stringify({ date: new Date().toISOString(), results }));
  } finally {
    await stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
  });
}
