/**
 * npm run bench: raftdeck against etcd on this machine (docs/benchmarks.md says what each figure
 * means). Stages: throughput, failover, snapshot, recovery, and on request attack (attack.ts).
 * Writes bench-results.json and appends a dated section to docs/benchmarks.md unless --no-write.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultNodeCommand } from '../../main/cluster/node-command';
import { DEFAULT_ATTACK_OPTIONS, runAttacks } from './attack';
import { etcdVersion } from './etcd-cluster';
import { failoverEtcd, failoverRaftdeck } from './failover';
import { buildNodeBundle } from './node-bundle';
import type { LevelResult } from './load';
import { recovery } from './recovery';
import { gitCommit, machine, targetLines, writeResults, type BenchResults } from './report';
import { snapshotTransfer } from './snapshot';
import { soak, writeSoakChart } from './soak';
import { stateStage } from './state';
import { installSignalHandlers, isInterrupted, onTeardown, teardownAll } from './teardown';
import { LEVEL_HEADER, throughputEtcd, throughputRaftdeck, type StageContext } from './throughput';

/** SNAPSHOT_TRIALS: new members the snapshot stage installs the image on, one after another. */
const SNAPSHOT_TRIALS = 3;
const STAGES = [
  'throughput',
  'failover',
  'snapshot',
  'recovery',
  'state',
  'soak',
  'attack',
] as const;
type Stage = (typeof STAGES)[number];
/** DEFAULT_STAGES: what runs without --only; the soak and attack stages run only when asked for. */
const DEFAULT_STAGES: Stage[] = ['throughput', 'failover', 'snapshot', 'recovery', 'state'];
/** STATE_BYTES: the state stage's state (--quick: QUICK_STATE_BYTES); its WAL after the snapshot. */
const STATE_BYTES = 1 << 30;
const QUICK_STATE_BYTES = 64 << 20;
const STATE_WAL_ENTRIES = 1_000_000;
const QUICK_STATE_WAL_ENTRIES = 100_000;

export const USAGE = `usage: npm run bench -- [options]

  --quick            3 s per throughput level, 3 failover trials, 20 MB snapshot, 100,000-entry WAL,
                     64 MiB state
  --only LIST        stages to run, comma-separated: ${STAGES.join(',')}
                     (default: all but attack, which floods every port of a served cluster and
                     prints what still answers; see test/bench/attack.ts, and soak)
  --soak-minutes N   minutes of the soak stage (default 10)
  --no-etcd          leave etcd out even if an etcd binary is on PATH
  --no-write         do not write bench-results.json or docs/benchmarks.md
  --levels LIST      throughput concurrencies (default 1,16,64,256)
  --seconds N        seconds per throughput level (default 10; 3 with --quick)
  --trials N         failover trials per system (default 10; 3 with --quick)
  --threads N        load threads per throughput level (default: 1 per 4 CPUs, at most 4)
  --source-nodes     run raftdeck nodes from sources through tsx instead of a fresh bundle
  --cpu-prof DIR     run raftdeck nodes with node --cpu-prof, writing a .cpuprofile per node to DIR
  -h, --help         this text`;

export interface BenchOptions {
  quick: boolean;
  stages: Stage[];
  etcd: boolean;
  write: boolean;
  levels: number[];
  seconds: number;
  trials: number;
  threads: number | undefined;
  sourceNodes: boolean;
  /** cpuProf: a folder for the nodes' CPU profiles (node --cpu-prof), or undefined. */
  cpuProf: string | undefined;
  /** soakMinutes: the soak stage's length. */
  soakMinutes: number;
}

export class UsageError extends Error {}

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${flag} needs a positive integer, got '${v ?? ''}'`);
  return n;
}

/** parseOptions reads the command line; it throws UsageError on anything it does not know. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let quick = false;
  let stages: Stage[] = [...DEFAULT_STAGES];
  let etcd = true;
  let write = true;
  let levels = [1, 16, 64, 256];
  let seconds: number | undefined;
  let trials: number | undefined;
  let threads: number | undefined;
  let sourceNodes = false;
  let cpuProf: string | undefined;
  let soakMinutes = 10;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick':
        quick = true;
        break;
      case '--only': {
        const list = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = list.find((s) => !(STAGES as readonly string[]).includes(s));
        if (bad !== undefined || list.length === 0)
          throw new UsageError(
            `--only: unknown stage '${bad ?? ''}' (stages: ${STAGES.join(', ')})`,
          );
        stages = STAGES.filter((s) => list.includes(s));
        break;
      }
      case '--no-etcd':
        etcd = false;
        break;
      case '--no-write':
        write = false;
        break;
      case '--levels':
        levels = value()
          .split(',')
          .map((s) => positiveInt('--levels', s.trim()));
        break;
      case '--seconds':
        seconds = positiveInt(a, value());
        break;
      case '--trials':
        trials = positiveInt(a, value());
        break;
      case '--threads':
        threads = positiveInt(a, value());
        break;
      case '--source-nodes':
        sourceNodes = true;
        break;
      case '--soak-minutes':
        soakMinutes = positiveInt(a, value());
        break;
      case '--cpu-prof':
        cpuProf = resolve(value());
        break;
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new UsageError(`unknown option '${a}'`);
    }
  }
  return {
    quick,
    stages,
    etcd,
    write,
    levels,
    seconds: seconds ?? (quick ? 3 : 10),
    trials: trials ?? (quick ? 3 : 10),
    threads,
    sourceNodes,
    cpuProf,
    soakMinutes,
  };
}

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
  const ctx: StageContext = { root: tmp, quick: o.quick, threads: o.threads, nodeCommand, log };
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

  const results: BenchResults = {
    date: new Date().toISOString(),
    quick: o.quick,
    machine: m,
    commit: git.commit,
    dirty: git.dirty,
    etcdVersion: version ?? null,
    raftdeckNodes: o.sourceNodes ? 'tsx' : 'bundle',
    stages: o.stages,
    throughput: [],
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
    log(`\n== throughput: 16-byte keys, 128-byte values, ${o.seconds} s per level`);
    log(LEVEL_HEADER);
    const rows: LevelResult[] = await throughputRaftdeck(ctx, o.levels, o.seconds);
    if (withEtcd && !isInterrupted()) {
      const etcdRows = await etcdStage('throughput', () =>
        throughputEtcd(ctx, o.levels, o.seconds),
      );
      rows.push(...(etcdRows ?? []));
    }
    results.throughput = rows;
    if (withEtcd) {
      for (const c of o.levels) {
        const a = rows.find((r) => r.system === 'raftdeck' && r.concurrency === c);
        const b = rows.find((r) => r.system === 'etcd' && r.concurrency === c);
        if (a && b && b.opsPerSec > 0)
          log(
            `raftdeck/etcd at concurrency ${c}: ${(a.opsPerSec / b.opsPerSec).toFixed(2)}× ops/s, p99 ${a.p99Ms.toFixed(1)} vs ${b.p99Ms.toFixed(1)} ms`,
          );
      }
    }
  }
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
