/**
 * npm run sim -- --runs N --seed S [--duration MS] [--workers W] [--verbose]
 * Runs N seeded random schedules (seeds S, S+1, ...) and prints runs, violations and the seconds
 * taken. A violating seed replays exactly: npm run sim -- --runs 1 --seed <seed> --verbose.
 */
import { availableParallelism } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSchedule } from './run';
import type { SimResult } from './run';

interface Args {
  runs: number;
  seed: number;
  duration: number;
  workers: number;
  verbose: boolean;
}

function usage(msg: string): never {
  console.error(`sim: ${msg}`);
  console.error(
    'usage: npm run sim -- [--runs N] [--seed S] [--duration MS] [--workers W] [--verbose]',
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
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--verbose') {
      a.verbose = true;
      continue;
    }
    if (k === '--help' || k === '-h') usage('help');
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

function runRange(seeds: number[], duration: number, report: (r: Summary) => void): void {
  for (const s of seeds) {
    let r: Summary;
    try {
      r = runSchedule(s, duration);
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
  const { seeds, duration } = JSON.parse(childArgs) as { seeds: number[]; duration: number };
  runRange(seeds, duration, (r) => process.send!(r));
  process.disconnect();
} else {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const seeds = Array.from({ length: args.runs }, (_, i) => args.seed + i);
  const results: Summary[] = [];
  let totals = { acked: 0, elections: 0, snapshots: 0, confChanges: 0, faults: 0, reads: 0 };
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
      };
    }
    if (args.verbose || r.violations.length) {
      console.log(
        `seed ${r.seed}: ${r.violations.length ? 'VIOLATION' : 'ok'} ${JSON.stringify(r.stats)}`,
      );
      for (const v of r.violations) console.log(`  ${v}`);
      if (args.verbose || r.violations.length)
        for (const t of r.trace.slice(-40)) console.log(`    ${t}`);
    }
  };
  const finish = (): void => {
    const bad = results.filter((r) => r.violations.length > 0);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `sim: ${results.length} runs (seeds ${args.seed}..${args.seed + args.runs - 1}), ${bad.length} violations, ${secs} s`,
    );
    console.log(
      `sim: ${totals.acked} acknowledged writes, ${totals.reads} linearizable reads, ${totals.elections} elections, ` +
        `${totals.snapshots} snapshot installs, ${totals.confChanges} membership changes, ${totals.faults} faults`,
    );
    if (results.length !== args.runs) {
      console.log(`sim: only ${results.length} of ${args.runs} runs reported`);
      process.exitCode = 1;
    }
    if (bad.length) {
      console.log(`sim: replay with: npm run sim -- --runs 1 --seed ${bad[0]!.seed} --verbose`);
      process.exitCode = 1;
    }
  };
  const w = Math.min(args.workers, Math.max(1, args.runs));
  if (w <= 1) {
    runRange(seeds, args.duration, onResult);
    finish();
  } else {
    let live = w;
    for (let k = 0; k < w; k++) {
      const mine = seeds.filter((_, i) => i % w === k);
      const child = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          RAFTDECK_SIM_CHILD: JSON.stringify({ seeds: mine, duration: args.duration }),
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
