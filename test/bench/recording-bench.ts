/**
 * recording-bench: what recording a cluster costs (docs/recording.md). A real cluster of `--nodes`
 * node processes (fsync on) under a workload for `--seconds`; the dashboard records it into a
 * FileRecording in the cluster's folder, as serve and the app do. Printed figures (never a timed
 * test):
 *   - the recorder's time: every synchronous call into the recording (diff, msgpack, framing,
 *     checksums, the buffered writes), summed with a high-resolution clock, as a share of one
 *     core; beside it the supervisor process's whole CPU time (process.cpuUsage) for scale;
 *   - bytes per minute on disk, and how they split between view keyframes, view deltas, events
 *     and message batches (from the recording's own index, reopened after close).
 *
 * Run: npx tsx test/bench/recording-bench.ts [--nodes 3] [--seconds 60]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { RaftdeckEngine } from '../../main/cluster/raftdeck-engine';
import { FileRecording } from '../../main/cluster/recording/file-recording';
import type { Recording } from '../../main/cluster/recording/recording';
import { RecordingReader } from '../../main/cluster/recording/recording-reader';
import type { Column } from '../../main/cluster/recording/segment-set';
import { startRaftdeck } from './raftdeck-cluster';
import { installSignalHandlers, teardownAll } from './teardown';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, seconds: { type: 'string', default: '60' } },
});
const nodes = Number(values.nodes);
const seconds = Number(values.seconds);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  installSignalHandlers();
  const root = mkdtempSync(join(tmpdir(), 'raftdeck-recbench-'));
  const cluster = await startRaftdeck({ root }, `rec-${nodes}`, { nodes });
  const sup = cluster.sup;
  const file = new FileRecording(sup.dir, { clusterId: sup.manifest.clusterId });
  let spentNs = 0n;
  const timed =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      const t0 = process.hrtime.bigint();
      try {
        return f(...a);
      } finally {
        spentNs += process.hrtime.bigint() - t0;
      }
    };
  // the flush timer calls the instance's flush, so timing it here times every write
  file.flush = timed(file.flush.bind(file));
  const counts = { views: 0, events: 0, batches: 0, traces: 0 };
  const rec: Recording = {
    addView: timed((v) => (counts.views++, file.addView(v))),
    addEvent: timed((e) => (counts.events++, file.addEvent(e))),
    addMessages: timed((b, t) => {
      counts.batches++;
      counts.traces += b.traces.length;
      file.addMessages(b, t);
    }),
    info: () => file.info(),
    viewAt: (t) => file.viewAt(t),
    events: (f, t, l) => file.events(f, t, l),
    messages: (f, t, l) => file.messages(f, t, l),
    close: () => file.close(),
  };
  const api = new ClusterDashboard(new RaftdeckEngine(sup), rec);
  await api.startWorkload({
    clients: 4,
    rate: 200,
    keys: 100,
    readRatio: 0.5,
    casRatio: 0.1,
    valueBytes: 64,
    seconds: 0,
  });
  const cpu0 = process.cpuUsage();
  const wall0 = Date.now();
  spentNs = 0n;
  const bytes0 = (await file.info()).bytes;
  await sleep(seconds * 1000);
  const wallMs = Date.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const recorderMs = Number(spentNs) / 1e6;
  const bytes = (await file.info()).bytes - bytes0;
  await api.stopWorkload();
  await api.close();

  const reader = RecordingReader.open(sup.dir);
  const sum = (c: Column, pick?: (i: number) => boolean): number =>
    c.len.reduce((n, l, i) => (pick && !pick(i) ? n : n + l), 0);
  let key = 0;
  let delta = 0;
  let deltas = 0;
  let ev = 0;
  let msg = 0;
  for (const seg of reader.set.segments) {
    key += sum(seg.views, (i) => seg.keys[i]!);
    delta += sum(seg.views, (i) => !seg.keys[i]);
    deltas += seg.keys.filter((k) => !k).length;
    ev += sum(seg.events);
    msg += sum(seg.batches);
  }
  const total = key + delta + ev + msg;
  const perMin = (b: number): string => `${(b / (wallMs / 60_000) / 2 ** 20).toFixed(2)} MiB/min`;
  const pct = (b: number): string => `${((100 * b) / total).toFixed(0)}%`;
  const lines = [
    `recording, ${nodes} nodes, ${(wallMs / 1000).toFixed(0)} s, workload 4 clients at 200 ops/s (50% reads, 10% cas, 64-byte values)`,
    `  machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${process.version}, load ${loadavg()[0]!.toFixed(2)}`,
    `  appended: ${counts.views} views (${(counts.views / (wallMs / 1000)).toFixed(1)}/s), ${counts.events} events, ${counts.batches} message batches with ${counts.traces} traces`,
    `  recorder time: ${recorderMs.toFixed(0)} ms = ${((100 * recorderMs) / wallMs).toFixed(2)}% of one core (supervisor process, all of it: ${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(1)}%)`,
    `  on disk: ${(bytes / 2 ** 20).toFixed(2)} MiB in ${(wallMs / 1000).toFixed(0)} s = ${perMin(bytes)}; 256 MiB hold ${((256 * 2 ** 20) / (bytes / (wallMs / 60_000)) / 60).toFixed(1)} h`,
    `  split (whole run): keyframes ${pct(key)}, deltas ${pct(delta)} (${(delta / Math.max(1, deltas)).toFixed(0)} B each), events ${pct(ev)}, messages ${pct(msg)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`recording-bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => teardownAll());
