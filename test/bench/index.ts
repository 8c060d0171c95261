/**
 * npm run bench: raftdeck against the floor (the least a replicated put costs on this machine,
 * floor.ts) and against etcd (docs/benchmarks.md says what each figure means). Stages:
 * throughput, scale, failover, snapshot, recovery, and on request attack (attack.ts); the
 * command line is options.ts. Writes bench-results.json and appends a dated section to
 * docs/benchmarks.md unless --no-write.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultNodeCommand } from '../../main/cluster/node-command';
import { DEFAULT_ATTACK_OPTIONS, runAttacks } from './attack';
import { etcdVersion } from './etcd-cluster';
import { failoverEtcd, failoverRaftdeck } from './failover';
import { buildFloorBundle, diskFloorMBps, loopbackFloorMBps } from './floor';
import { buildNodeBundle } from './node-bundle';
import type { LevelResult } from './load';
import { parseOptions, USAGE, UsageError, type BenchOptions, type Stage } from './options';
import { recovery } from './recovery';
import {
  benchRows,
  gitCommit,
  machine,
  targetLines,
  writeResults,
  type BenchResults,
} from './report';
import { snapshotTransfer } from './snapshot';
import { soak, writeSoakChart } from './soak';
import { stateStage } from './state';
import { installSignalHandlers, isInterrupted, onTeardown, teardownAll } from './teardown';
import { timelineStage } from './timeline';
import {
  LEVEL_HEADER,
  scale,
  throughputEtcd,
  throughputFloorRaftdeck,
  type StageContext,
} from './throughput';

/** SNAPSHOT_TRIALS: new members the snapshot stage installs the image on, one after another. */
const SNAPSHOT_TRIALS = 3;
/** STATE_BYTES: the state stage's state (--quick: QUICK_STATE_BYTES); its WAL after the snapshot. */
const STATE_BYTES = 1 << 30;
const QUICK_STATE_BYTES = 64 << 20;
const STATE_WAL_ENTRIES = 1_000_000;
const QUICK_STATE_WAL_ENTRIES = 100_000;

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function main(o: BenchOptions): Promise<void> {
  installSignalHandlers();
  const log = (line: string): void => console.log(line);
  let version: string | undefined;
  if (o.etcd) {
    version = etcdVersion();
    if (!version) log('etcd: skipped (no etcd on PATH; apt-get install etcd-server)');
  } else {
    log('etcd: skipped (--no-etcd)');
  }
  const withEtcd = version !== undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'raftdeck-bench-'));
  onTeardown('temp dir', () => rmSync(tmp, { recursive: true, force: true }));
  let nodeCommand = o.sourceNodes ? defaultNodeCommand() : await buildNodeBundle(tmp);
  if (o.cpuProf) {
    mkdirSync(o.cpuProf, { recursive: true });
    // Profiles are written when a node exits normally (the supervisor stops nodes with SIGTERM).
    nodeCommand = {
      ...nodeCommand,
      args: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, ...nodeCommand.args],
    };
    log(`cpu profiles of the raftdeck nodes go to ${o.cpuProf}`);
  }
  const floorCommand = await buildFloorBundle(tmp);
  const ctx: StageContext = {
    root: tmp,
    quick: o.quick,
    threads: o.threads,
    nodeCommand,
    floorCommand,
    log,
  };
  const m = machine();
  const git = gitCommit(root);
  log(
    `machine: ${m.cpus} × ${m.model}, ${m.memGB} GB, ${m.os}, Node ${m.node}; load average ${m.loadAvg}`,
  );
  log(`commit: ${git.commit.slice(0, 12)}${git.dirty ? ' (uncommitted changes)' : ''}`);
  log(
    `raftdeck nodes: ${o.sourceNodes ? 'from sources through tsx' : 'bundled from the current sources, plain node'}`,
  );
  if (m.loadAvg > 1)
    log(`note: the machine is busy (load average ${m.loadAvg}); figures will be lower and noisier`);
  if (o.timeline !== undefined) {
    log(
      `\n== timeline: ${o.timeline} puts at concurrency 1 on 3 floor members and on 3 raftdeck nodes, in alternating blocks`,
    );
    await timelineStage(ctx, o.timeline);
    return;
  }

  const results: BenchResults = {
    date: new Date().toISOString(),
    quick: o.quick,
    machine: m,
    commit: git.commit,
    dirty: git.dirty,
    etcdVersion: version ?? null,
    raftdeckNodes: o.sourceNodes ? 'tsx' : 'bundle',
    stages: o.stages,
    settings: {
      seconds: o.seconds,
      trialsPerLevel: o.trialsPerLevel,
      scaleConcurrency: o.scaleConcurrency,
    },
    throughput: [],
    scale: [],
    rows: [],
    floors: null,
    failover: { raftdeck: null, etcd: null },
    snapshotMBps: null,
    snapshot: null,
    recoverySeconds: null,
    recovery: null,
    idleRssMB: null,
    state: null,
    soak: null,
  };
  /** etcdStage runs an etcd stage; if etcd fails, it says so and the run goes on without it. */
  const etcdStage = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (e) {
      if (isInterrupted()) throw e;
      log(`etcd ${what}: failed (${(e as Error).message}); going on without it`);
      return undefined;
    }
  };
  const has = (s: Stage): boolean => o.stages.includes(s) && !isInterrupted();

  if (has('throughput')) {
    log(
      `\n== throughput: 16-byte keys, 128-byte values, ${o.seconds} s per level and system; floor and raftdeck interleaved in ${o.trialsPerLevel} trial${o.trialsPerLevel === 1 ? '' : 's'} each`,
    );
    log(LEVEL_HEADER);
    const rows: LevelResult[] = await throughputFloorRaftdeck(
      ctx,
      o.levels,
      o.seconds,
      o.trialsPerLevel,
    );
    if (withEtcd && !isInterrupted()) {
      const etcdRows = await etcdStage('throughput', () =>
        throughputEtcd(ctx, o.levels, o.seconds),
      );
      rows.push(...(etcdRows ?? []));
    }
    results.throughput = rows;
    for (const c of o.levels) {
      const f = rows.find((r) => r.system === 'floor' && r.concurrency === c);
      const a = rows.find((r) => r.system === 'raftdeck' && r.concurrency === c);
      const b = rows.find((r) => r.system === 'etcd' && r.concurrency === c);
      const parts: string[] = [];
      if (a && f && f.opsPerSec > 0)
        parts.push(
          `${((a.opsPerSec / f.opsPerSec) * 100).toFixed(1)} % of the floor's ops/s, p50 ${(a.p50Ms - f.p50Ms).toFixed(2)} ms over it`,
        );
      if (a && b && b.opsPerSec > 0)
        parts.push(
          `${(a.opsPerSec / b.opsPerSec).toFixed(2)}× etcd's ops/s, p99 ${a.p99Ms.toFixed(1)} vs ${b.p99Ms.toFixed(1)} ms`,
        );
      if (a && b && b.opsPerCoreSecond > 0)
        parts.push(
          `${(a.opsPerCoreSecond / b.opsPerCoreSecond).toFixed(2)}× etcd's puts per server core-second`,
        );
      if (parts.length > 0) log(`raftdeck at concurrency ${c}: ${parts.join('; ')}`);
    }
  }
  if (has('scale')) {
    log(
      `\n== scale: ${o.members.join(', ')} members at concurrency ${o.scaleConcurrency}, ${o.seconds} s per size and system`,
    );
    log(LEVEL_HEADER);
    results.scale = await scale(
      ctx,
      o.members,
      o.scaleConcurrency,
      o.seconds,
      o.trialsPerLevel,
      withEtcd ? (run) => etcdStage('scale', run) : undefined,
    );
  }
  results.rows = benchRows(results.throughput, results.scale);
  if (has('failover')) {
    log(
      `\n== failover: SIGKILL the leader, ${o.trials} trial${o.trials === 1 ? '' : 's'} per system`,
    );
    const fr = await failoverRaftdeck(ctx, o.trials);
    results.failover.raftdeck = fr;
    log(`raftdeck failover: median ${fr.medianMs} ms, max ${fr.maxMs} ms`);
    if (withEtcd && !isInterrupted()) {
      const fe = await etcdStage('failover', () => failoverEtcd(ctx, o.trials));
      results.failover.etcd = fe ?? null;
      if (fe) log(`etcd     failover: median ${fe.medianMs} ms, max ${fe.maxMs} ms`);
    }
  }
  if (has('snapshot')) {
    const values = o.quick ? 20_000 : 100_000;
    log(`\n== snapshot transfer (raftdeck): ${values.toLocaleString('en-US')} values of 1 KiB`);
    const s = await snapshotTransfer(ctx, values, SNAPSHOT_TRIALS);
    results.snapshot = s;
    results.snapshotMBps = s.mbPerSec;
    log(
      `snapshot ${s.index}: ${(s.bytes / 1e6).toFixed(1)} MB, median of ${s.trialsMBps.length} installs ${s.mbPerSec} MB/s (trials: ${s.trialsMBps.join(', ')} MB/s)`,
    );
    if (!isInterrupted()) {
      const bytes = (o.quick ? 64 : 256) << 20;
      const diskMBps = await diskFloorMBps(join(tmp, 'disk-floor'), bytes);
      const loopbackMBps = await loopbackFloorMBps(floorCommand, bytes);
      results.floors = { diskMBps, loopbackMBps };
      log(
        `floors (${bytes >> 20} MiB each): disk ${diskMBps} MB/s (sequential write + fdatasync in ${tmp}), loopback ${loopbackMBps} MB/s; the install is ${((s.mbPerSec / diskMBps) * 100).toFixed(1)} % of the disk floor`,
      );
    }
  }
  if (has('recovery')) {
    const entries = o.quick ? 100_000 : 1_000_000;
    log(
      `\n== recovery (raftdeck): idle RSS, restart with ${entries.toLocaleString('en-US')} WAL entries`,
    );
    const r = await recovery(ctx, entries);
    results.recovery = r;
    results.recoverySeconds = r.caughtUpSeconds;
    results.idleRssMB = r.idleRssMB;
    log(
      `restart: ${r.caughtUpSeconds} s to applied >= commit (ready after ${r.readySeconds} s; empty WAL: ${r.emptyReadySeconds} s); idle RSS ${r.idleRssMB} MB`,
    );
  }
  if (has('state')) {
    const bytes = o.quick ? QUICK_STATE_BYTES : STATE_BYTES;
    const wal = o.quick ? QUICK_STATE_WAL_ENTRIES : STATE_WAL_ENTRIES;
    log(
      `\n== state size (raftdeck): ${bytes / 2 ** 20} MiB of 256-byte values, then ${wal.toLocaleString('en-US')} WAL entries after a snapshot`,
    );
    results.state = await stateStage(ctx, bytes, wal, o.quick ? 3 : 5);
  }
  if (has('soak')) {
    log(
      `\n== soak (raftdeck): ${o.soakMinutes} minutes at concurrency 64, a snapshot every 100,000 entries`,
    );
    results.soak = await soak(ctx, o.soakMinutes);
    for (const f of results.soak.flags) log(`  flagged: ${f}`);
  }
  if (has('attack')) {
    log('\n== attack: floods on every port of a served cluster (test/bench/attack.ts)');
    await runAttacks(DEFAULT_ATTACK_OPTIONS);
  }
  if (isInterrupted()) return;
  // The attack's figures are printed, not kept: an attack-only run writes no results.
  if (o.stages.every((s) => s === 'attack')) return;

  log('\n== targets');
  for (const l of targetLines(results)) log(l);
  if (o.write) {
    const files = await writeResults(root, results);
    if (results.soak) files.push(writeSoakChart(root, results.date, results.soak));
    log(`\nwrote ${files.map((f) => f.slice(root.length + 1)).join(' and ')}`);
  }
}

function entry(): void {
  let o: BenchOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (o === 'help') {
    console.log(USAGE);
    return;
  }
  main(o)
    .catch((e: Error) => {
      if (!isInterrupted()) console.error(`bench: ${e.message}`);
      process.exitCode = 1;
    })
    .then(() => teardownAll())
    .finally(() => process.exit(isInterrupted() ? 130 : (process.exitCode ?? 0)));
}

entry();
