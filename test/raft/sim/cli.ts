/**
 * npm run sim -- --runs N --seed S [--duration MS] [--workers W] [--host real|sync]
 *   [--mutation NAME] [--end-to-end] [--reuse-ids after-snapshot|any|never] [--verbose]
 * Runs N seeded random schedules (seeds S, S+1, ...) and prints runs, violations and the seconds
 * taken. A violating seed replays exactly with the command printed after it, and opens in the lab,
 * paused where its first invariant broke, with the `raftdeck lab --sim-seed` command printed
 * after that.
 * --host sync runs the original host model (every Ready durable at once); --mutation injects a
 * deliberate bug (see Mutation in main/lab/lab-cluster.ts); --end-to-end leaves out the durability checks made
 * as messages leave, keeping the end-to-end properties only; --reuse-ids says when a learner may
 * join under the id of a node that is gone, with an empty data dir (see RunOptions.reuseIds).
 *
 * npm run sim -- --schedule FILE
 * Replays a lab schedule (exportLabSchedule; main/lab/lab-schedule.ts) in the lab cluster,
 * prints the invariants it broke, and exits 1 if it broke any (2 if the file is not a schedule).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MUTATIONS } from '../../../main/lab/lab-cluster';
import type { HostMode, Mutation } from '../../../main/lab/lab-cluster';
import { runSchedule } from '../../../main/lab/schedule-runner';
import type { ReuseIds, RunOptions, SimResult } from '../../../main/lab/schedule-runner';
import { labCommand } from '../../../main/lab/sim-replay';
import { replaySchedule } from '../../../main/lab/lab-dashboard';
import { parseLabSchedule } from '../../../main/lab/lab-schedule';

/** replayScheduleFile: `--schedule FILE`: replays a lab schedule; the exit code says if it broke an invariant. */
function replayScheduleFile(argv: string[]): never {
  const file = argv[argv.indexOf('--schedule') + 1];
  if (file === undefined || file.startsWith('--')) usage('--schedule needs a file');
  let schedule;
  try {
    schedule = parseLabSchedule(readFileSync(file, 'utf8'), file);
  } catch (e) {
    console.error(`sim: ${(e as Error).message}`);
    process.exit(2);
  }
  const started = performance.now();
  const r = replaySchedule(schedule);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  for (const v of r.violations) console.log(`  ${v}`);
  console.log(
    `sim: schedule ${file} (seed ${schedule.seed}, ${schedule.actions.length} actions): ` +
      `${r.steps} steps, ${r.violations.length} violations, ${secs} s`,
  );
  process.exit(r.violations.length > 0 ? 1 : 0);
}

interface Args {
  runs: number;
  seed: number;
  duration: number;
  workers: number;
  verbose: boolean;
  host: HostMode;
  mutation: Mutation | undefined;
  endToEnd: boolean;
  reuseIds: ReuseIds;
}

function usage(msg: string): never {
  console.error(`sim: ${msg}`);
  console.error(
    'usage: npm run sim -- [--runs N] [--seed S] [--duration MS] [--workers W] [--host real|sync]\n' +
      `         [--mutation ${MUTATIONS.join('|')}] [--end-to-end] [--reuse-ids after-snapshot|any|never]\n` +
      '         [--verbose]',
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    runs: 100,
    seed: 1,
    duration: 6000,
    workers: Math.min(availableParallelism(), 4),
    verbose: false,
    host: 'real',
    mutation: undefined,
    endToEnd: false,
    reuseIds: 'after-snapshot',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--verbose') {
      a.verbose = true;
      continue;
    }
    if (k === '--end-to-end') {
      a.endToEnd = true;
      continue;
    }
    if (k === '--reuse-ids') {
      const v = argv[++i];
      if (v !== 'after-snapshot' && v !== 'any' && v !== 'never')
        usage(`--reuse-ids needs after-snapshot, any or never, got ${v}`);
      a.reuseIds = v;
      continue;
    }
    if (k === '--help' || k === '-h') usage('help');
    if (k === '--host') {
      const v = argv[++i];
      if (v !== 'real' && v !== 'sync') usage(`--host needs real or sync, got ${v}`);
      a.host = v;
      continue;
    }
    if (k === '--mutation') {
      const v = argv[++i] as Mutation;
      if (!MUTATIONS.includes(v))
        usage(`--mutation needs one of ${MUTATIONS.join(', ')}, got ${v}`);
      a.mutation = v;
      continue;
    }
    const v = argv[++i];
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0)
      usage(`${k} needs a non-negative integer`);
    if (k === '--runs') a.runs = n;
    else if (k === '--seed') a.seed = n;
    else if (k === '--duration') a.duration = n;
    else if (k === '--workers') a.workers = Math.max(1, n);
    else usage(`unknown option ${k}`);
  }
  return a;
}

type Summary = Pick<SimResult, 'seed' | 'violations' | 'trace' | 'stats'>;

function runOptions(a: Args): RunOptions {
  return {
    host: a.host,
    mutation: a.mutation,
    durabilityChecks: !a.endToEnd,
    reuseIds: a.reuseIds,
  };
}

/** replayCommand is the command that replays one seed of this invocation exactly. */
function replayCommand(a: Args, seed: number): string {
  const extra = [
    a.duration !== 6000 ? `--duration ${a.duration}` : '',
    a.host !== 'real' ? `--host ${a.host}` : '',
    a.mutation ? `--mutation ${a.mutation}` : '',
    a.endToEnd ? '--end-to-end' : '',
    a.reuseIds !== 'after-snapshot' ? `--reuse-ids ${a.reuseIds}` : '',
  ].filter((x) => x !== '');
  return ['npm run sim -- --runs 1 --seed', String(seed), ...extra, '--verbose'].join(' ');
}

/** labCommandOf is the command that opens one seed of this invocation in the lab. */
function labCommandOf(a: Args, seed: number): string {
  return labCommand(seed, { ...runOptions(a), durationMs: a.duration });
}

function runRange(
  seeds: number[],
  duration: number,
  o: RunOptions,
  report: (r: Summary) => void,
): void {
  for (const s of seeds) {
    let r: Summary;
    try {
      r = runSchedule(s, duration, o);
    } catch (e) {
      r = {
        seed: s,
        violations: [`exception: ${(e as Error).stack ?? String(e)}`],
        trace: [],
        stats: {} as SimResult['stats'],
      };
    }
    report(r);
  }
}

const childArgs = process.env.RAFTDECK_SIM_CHILD;
if (childArgs) {
  // A child process runs its share of seeds and reports each result to the parent.
  const { seeds, duration, options } = JSON.parse(childArgs) as {
    seeds: number[];
    duration: number;
    options: RunOptions;
  };
  runRange(seeds, duration, options, (r) => process.send!(r));
  process.disconnect();
} else if (process.argv.includes('--schedule')) {
  replayScheduleFile(process.argv.slice(2));
} else {
  const args = parseArgs(process.argv.slice(2));
  const options = runOptions(args);
  const started = performance.now();
  const seeds = Array.from({ length: args.runs }, (_, i) => args.seed + i);
  const results: Summary[] = [];
  let totals = {
    acked: 0,
    elections: 0,
    snapshots: 0,
    confChanges: 0,
    faults: 0,
    reads: 0,
    crashes: 0,
    powerLosses: 0,
    midWriteCrashes: 0,
    tornFlushes: 0,
    fatalExits: 0,
    leaderGone: 0,
    reusedIds: 0,
    syncs: 0,
    entriesSynced: 0,
    rotations: 0,
    segmentsDeleted: 0,
    openRepairs: 0,
    forgottenRemovals: 0,
    strandedRemovals: 0,
  };
  const onResult = (r: Summary): void => {
    results.push(r);
    if (r.stats.acked !== undefined) {
      totals = {
        acked: totals.acked + r.stats.acked,
        elections: totals.elections + r.stats.elections,
        snapshots: totals.snapshots + r.stats.snapshotsInstalled,
        confChanges: totals.confChanges + r.stats.confChanges,
        faults: totals.faults + r.stats.faults,
        reads: totals.reads + r.stats.reads,
        crashes: totals.crashes + r.stats.crashes,
        powerLosses: totals.powerLosses + r.stats.powerLosses,
        midWriteCrashes: totals.midWriteCrashes + r.stats.midWriteCrashes,
        tornFlushes: totals.tornFlushes + r.stats.tornFlushes,
        fatalExits: totals.fatalExits + r.stats.fatalExits,
        leaderGone: totals.leaderGone + r.stats.leaderGone,
        reusedIds: totals.reusedIds + r.stats.reusedIds,
        syncs: totals.syncs + r.stats.syncs,
        entriesSynced: totals.entriesSynced + r.stats.entriesSynced,
        rotations: totals.rotations + r.stats.rotations,
        segmentsDeleted: totals.segmentsDeleted + r.stats.segmentsDeleted,
        openRepairs: totals.openRepairs + r.stats.openRepairs,
        forgottenRemovals: totals.forgottenRemovals + r.stats.forgottenRemovals,
        strandedRemovals: totals.strandedRemovals + r.stats.strandedRemovals,
      };
    }
    if (args.verbose || r.violations.length) {
      console.log(
        `seed ${r.seed}: ${r.violations.length ? 'VIOLATION' : 'ok'} ${JSON.stringify(r.stats)}`,
      );
      for (const v of r.violations) console.log(`  ${v}`);
      if (args.verbose || r.violations.length)
        for (const t of r.trace.slice(-40)) console.log(`    ${t}`);
      if (r.violations.length) {
        console.log(`  replay: ${replayCommand(args, r.seed)}`);
        console.log(`  in the lab: ${labCommandOf(args, r.seed)}`);
      }
    }
  };
  const finish = (): void => {
    const bad = results.filter((r) => r.violations.length > 0);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const model = `${args.host} host${args.mutation ? `, mutation ${args.mutation}` : ''}${args.endToEnd ? ', end-to-end checks only' : ''}${args.reuseIds !== 'after-snapshot' ? `, reuse ids: ${args.reuseIds}` : ''}`;
    console.log(
      `sim: ${results.length} runs (seeds ${args.seed}..${args.seed + args.runs - 1}; ${model}), ${bad.length} violations, ${secs} s`,
    );
    console.log(
      `sim: ${totals.acked} acknowledged writes, ${totals.reads} linearizable reads, ${totals.elections} elections, ` +
        `${totals.snapshots} snapshot installs, ${totals.confChanges} membership changes, ${totals.faults} faults`,
    );
    console.log(
      `sim: ${totals.crashes} crashes (${totals.midWriteCrashes} in the middle of a write, ${totals.tornFlushes} flushes torn, ` +
        `${totals.powerLosses} power losses), ${totals.fatalExits} exits on a failed write, ${totals.leaderGone} leaderGone calls, ` +
        `${totals.reusedIds} reused ids, ${totals.entriesSynced} entries written in ${totals.syncs} fsyncs`,
    );
    console.log(
      `sim: ${totals.rotations} WAL segments started, ${totals.segmentsDeleted} deleted under a snapshot, ` +
        `${totals.openRepairs} batches closed or snapshots recorded on open`,
    );
    if (totals.forgottenRemovals + totals.strandedRemovals > 0) {
      console.log(
        `sim: removed nodes that never learnt of it (known gaps, not violations: docs/raft.md, "Checking it"): ` +
          `${totals.forgottenRemovals} restarted from a snapshot taken after their removal, ` +
          `${totals.strandedRemovals} knowing none of the voters that lead`,
      );
    }
    if (results.length !== args.runs) {
      console.log(`sim: only ${results.length} of ${args.runs} runs reported`);
      process.exitCode = 1;
    }
    if (bad.length) {
      console.log(`sim: seeds with violations: ${bad.map((r) => r.seed).join(' ')}`);
      console.log(`sim: replay with: ${replayCommand(args, bad[0]!.seed)}`);
      console.log(`sim: open in the lab with: ${labCommandOf(args, bad[0]!.seed)}`);
      process.exitCode = 1;
    }
  };
  const w = Math.min(args.workers, Math.max(1, args.runs));
  if (w <= 1) {
    runRange(seeds, args.duration, options, onResult);
    finish();
  } else {
    let live = w;
    for (let k = 0; k < w; k++) {
      const mine = seeds.filter((_, i) => i % w === k);
      const child = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          RAFTDECK_SIM_CHILD: JSON.stringify({ seeds: mine, duration: args.duration, options }),
        },
      });
      child.on('message', (m) => onResult(m as Summary));
      child.on('exit', (code) => {
        if (code !== 0) {
          console.error(`sim: child process ${child.pid} exited with code ${code}`);
          process.exitCode = 1;
        }
        if (--live === 0) finish();
      });
    }
  }
}
