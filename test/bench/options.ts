/**
 * options: the command line of `npm run bench` (index.ts): USAGE and parseOptions, which refuses
 * anything it does not know with a UsageError naming the option and the value.
 */
import { resolve } from 'node:path';

export const STAGES = [
  'throughput',
  'scale',
  'failover',
  'snapshot',
  'recovery',
  'state',
  'soak',
  'attack',
] as const;
export type Stage = (typeof STAGES)[number];
/** DEFAULT_STAGES: what runs without --only; the soak and attack stages run only when asked for. */
export const DEFAULT_STAGES: Stage[] = [
  'throughput',
  'scale',
  'failover',
  'snapshot',
  'recovery',
  'state',
];
/** MAX_MEMBERS: the largest cluster --members takes (every member is a process on this machine). */
export const MAX_MEMBERS = 15;

export const USAGE = `usage: npm run bench -- [options]

  --quick            3 s per throughput level, 3 failover trials, 20 MB snapshot, 100,000-entry WAL,
                     64 MiB state
  --only LIST        stages to run, comma-separated: ${STAGES.join(',')}
                     (default: all but soak and attack: soak runs --soak-minutes at concurrency 64;
                     attack floods every port of a served cluster and prints what still answers,
                     see test/bench/attack.ts)
  --soak-minutes N   minutes of the soak stage (default 10)
  --no-etcd          leave etcd out even if an etcd binary is on PATH
  --no-write         do not write bench-results.json or docs/benchmarks.md
  --levels LIST      throughput concurrencies (default 1,16,64,256)
  --seconds N        seconds per throughput level and system (default 10; 3 with --quick); the
                     floor and raftdeck split them into --trials-per-level interleaved trials
  --trials-per-level N
                     interleaved floor/raftdeck trials per level (default 3)
  --members LIST     cluster sizes of the scale stage (default 3,5,7; each 1..${MAX_MEMBERS})
  --scale-concurrency N
                     writers of the scale stage (default 64)
  --trials N         failover trials per system (default 10; 3 with --quick)
  --threads N        load threads per throughput level (default: 1 per 4 CPUs, at most 4)
  --source-nodes     run raftdeck nodes from sources through tsx instead of a fresh bundle
  --timeline [N]     only this: N puts (default 2000) at concurrency 1 on a fresh 3-node raftdeck
                     cluster with the write path's stamps on; prints where each put's time goes
  --cpu-prof DIR     run raftdeck nodes with node --cpu-prof, writing a .cpuprofile per node to DIR
  -h, --help         this text`;

export interface BenchOptions {
  quick: boolean;
  stages: Stage[];
  etcd: boolean;
  write: boolean;
  levels: number[];
  seconds: number;
  /** trialsPerLevel: interleaved floor/raftdeck trials per level, each seconds/trialsPerLevel. */
  trialsPerLevel: number;
  /** members: the cluster sizes of the scale stage. */
  members: number[];
  scaleConcurrency: number;
  trials: number;
  threads: number | undefined;
  sourceNodes: boolean;
  /** cpuProf: a folder for the nodes' CPU profiles (node --cpu-prof), or undefined. */
  cpuProf: string | undefined;
  /** timeline: puts of the per-put timeline run (--timeline), or undefined. */
  timeline: number | undefined;
  /** soakMinutes: the soak stage's length. */
  soakMinutes: number;
}

export class UsageError extends Error {}

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${flag} needs a positive integer, got '${v ?? ''}'`);
  return n;
}

/** intList reads a comma-separated list of positive integers, without repeats. */
function intList(flag: string, v: string): number[] {
  const list = v.split(',').map((s) => positiveInt(flag, s.trim()));
  const dup = list.find((n, i) => list.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`${flag}: ${dup} is listed twice`);
  return list;
}

/** parseOptions reads the command line; it throws UsageError on anything it does not know. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let quick = false;
  let stages: Stage[] = [...DEFAULT_STAGES];
  let etcd = true;
  let write = true;
  let levels = [1, 16, 64, 256];
  let seconds: number | undefined;
  let trialsPerLevel = 3;
  let members = [3, 5, 7];
  let scaleConcurrency = 64;
  let trials: number | undefined;
  let threads: number | undefined;
  let sourceNodes = false;
  let cpuProf: string | undefined;
  let timeline: number | undefined;
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
        levels = intList(a, value());
        break;
      case '--seconds':
        seconds = positiveInt(a, value());
        break;
      case '--trials-per-level':
        trialsPerLevel = positiveInt(a, value());
        break;
      case '--members': {
        members = intList(a, value());
        const bad = members.find((n) => n > MAX_MEMBERS);
        if (bad !== undefined)
          throw new UsageError(`--members: ${bad} is over the limit of ${MAX_MEMBERS} members`);
        break;
      }
      case '--scale-concurrency':
        scaleConcurrency = positiveInt(a, value());
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
      case '--cpu-prof':
        cpuProf = resolve(value());
        break;
      case '--soak-minutes':
        soakMinutes = positiveInt(a, value());
        break;
      case '--timeline': {
        const n = argv[i + 1];
        timeline = n !== undefined && /^\d+$/.test(n) ? positiveInt(a, argv[++i]) : 2000;
        break;
      }
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new UsageError(`unknown option '${a}'`);
    }
  }
  const secs = seconds ?? (quick ? 3 : 10);
  if (secs / trialsPerLevel < 1)
    throw new UsageError(
      `--trials-per-level ${trialsPerLevel} makes trials of ${(secs / trialsPerLevel).toFixed(2)} s out of ${secs} s per level; each needs at least 1 s`,
    );
  return {
    quick,
    stages,
    etcd,
    write,
    levels,
    seconds: secs,
    trialsPerLevel,
    members,
    scaleConcurrency,
    trials: trials ?? (quick ? 3 : 10),
    threads,
    sourceNodes,
    cpuProf,
    timeline,
    soakMinutes,
  };
}
