/**
 * sim-replay: opening one seed of `npm run sim` in the lab, paused where its first invariant
 * broke, and the `raftdeck lab` flags that name such a seed (printed by the simulator, read by the
 * lab command).
 */
import type { LabFailure } from '../contract/view';
import type { HostMode, Mutation, SimCluster } from './lab-cluster';
import { MUTATIONS } from './lab-cluster';
import { playSchedule } from './schedule-runner';
import type { ReuseIds, RunOptions } from './schedule-runner';

/**
 * SimSeedOptions: everything besides the seed that decides a run of `npm run sim`: the schedule's
 * length in virtual ms (`--duration`), the host model (`--host`), the mutation (`--mutation`),
 * whether the durability checks are made (not with `--end-to-end`) and when ids are reused
 * (`--reuse-ids`). SIM_SEED_DEFAULTS holds the simulator's defaults.
 */
export interface SimSeedOptions {
  durationMs: number;
  host: HostMode;
  mutation: Mutation | undefined;
  durabilityChecks: boolean;
  reuseIds: ReuseIds;
}

/** SIM_SEED_DEFAULTS: the options `npm run sim` runs a seed with unless told otherwise. */
export const SIM_SEED_DEFAULTS: Readonly<SimSeedOptions> = {
  durationMs: 6000,
  host: 'real',
  mutation: undefined,
  durabilityChecks: true,
  reuseIds: 'after-snapshot',
};

const HOSTS: readonly HostMode[] = ['real', 'sync'];
const REUSE_IDS: readonly ReuseIds[] = ['after-snapshot', 'any', 'never'];

/** SimSeedError: a seed or its options cannot be opened; the message names the flag or option. */
export class SimSeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimSeedError';
  }
}

/** simSeedOptions fills in the defaults and checks every option, throwing a SimSeedError. */
export function simSeedOptions(o: Partial<SimSeedOptions> = {}): SimSeedOptions {
  const r: SimSeedOptions = {
    durationMs: o.durationMs ?? SIM_SEED_DEFAULTS.durationMs,
    host: o.host ?? SIM_SEED_DEFAULTS.host,
    mutation: o.mutation,
    durabilityChecks: o.durabilityChecks ?? SIM_SEED_DEFAULTS.durabilityChecks,
    reuseIds: o.reuseIds ?? SIM_SEED_DEFAULTS.reuseIds,
  };
  if (!Number.isSafeInteger(r.durationMs) || r.durationMs < 0)
    throw new SimSeedError(`duration: ${r.durationMs} ms is not a non-negative integer`);
  if (!HOSTS.includes(r.host))
    throw new SimSeedError(`host: ${String(r.host)} is not one of ${HOSTS.join(', ')}`);
  if (r.mutation !== undefined && !MUTATIONS.includes(r.mutation))
    throw new SimSeedError(`mutation: ${r.mutation} is not one of ${MUTATIONS.join(', ')}`);
  if (!REUSE_IDS.includes(r.reuseIds))
    throw new SimSeedError(
      `reuse ids: ${String(r.reuseIds)} is not one of ${REUSE_IDS.join(', ')}`,
    );
  return r;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new SimSeedError(`simulator seed ${seed} is not a non-negative integer`);
}

function runOptions(o: SimSeedOptions): RunOptions {
  return {
    host: o.host,
    mutation: o.mutation,
    durabilityChecks: o.durabilityChecks,
    reuseIds: o.reuseIds,
  };
}

/**
 * describeSimSeed says in words which run a seed and its options name: "simulator seed 1234 with
 * mutation send-before-fsync", then any option that is not the default ("sync host", "end-to-end
 * checks only", "reuse ids any", "3000 ms").
 */
export function describeSimSeed(seed: number, options: Partial<SimSeedOptions> = {}): string {
  const o = simSeedOptions(options);
  const parts = [`simulator seed ${seed}${o.mutation ? ` with mutation ${o.mutation}` : ''}`];
  if (o.host !== SIM_SEED_DEFAULTS.host) parts.push(`${o.host} host`);
  if (!o.durabilityChecks) parts.push('end-to-end checks only');
  if (o.reuseIds !== SIM_SEED_DEFAULTS.reuseIds) parts.push(`reuse ids ${o.reuseIds}`);
  if (o.durationMs !== SIM_SEED_DEFAULTS.durationMs) parts.push(`${o.durationMs} ms`);
  return parts.join(', ');
}

/** SimSeedRun: a simulator seed opened in the lab (see openSimSeed). */
export interface SimSeedRun {
  cluster: SimCluster;
  failure: LabFailure | null;
  source: string;
  steps: number;
}

function sameFailure(a: LabFailure, b: LabFailure): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * openSimSeed opens one seed of `npm run sim`, run with the options it was run with, in the lab.
 * It runs the seed's schedule once to find the first invariant broken (the cluster's first
 * failure) and the step it was found after, then runs it again from the start and stops right
 * after that step, its checks made: the cluster is returned paused there, between two events,
 * with the same state the first run had at that point, and `failure` is that first failure.
 * (A violation the schedule's own checks find between two spans of time is found after the last
 * step of the span; the second run ends as the first did, with no step after it.) A seed that
 * breaks nothing is returned after its whole run, failure null. `steps` is the cluster's step
 * count where it stopped; `source` says it in words ("simulator seed 1234 with mutation
 * send-before-fsync, stopped at step 5678"). Throws a SimSeedError for a bad seed or option, or
 * if the second run does not break the same invariant at the same step (it always does: a run is
 * decided by its seed and options alone).
 */
export function openSimSeed(seed: number, options: Partial<SimSeedOptions> = {}): SimSeedRun {
  checkSeed(seed);
  const o = simSeedOptions(options);
  const what = describeSimSeed(seed, o);
  const first = playSchedule(seed, o.durationMs, runOptions(o)).cluster;
  const failure = first.failures[0];
  if (!failure) {
    return {
      cluster: first,
      failure: null,
      source: `${what}, ran to its end at step ${first.steps} with no invariant broken`,
      steps: first.steps,
    };
  }
  const again = playSchedule(seed, o.durationMs, runOptions(o), {
    stopAfterStep: failure.step,
  }).cluster;
  const found = again.failures[0];
  if (!found || !sameFailure(found, failure) || again.steps !== failure.step) {
    throw new SimSeedError(
      `${what}: the replay did not break ${failure.invariant} at step ${failure.step} as the first run did (it ${found ? `broke ${found.invariant} at step ${found.step}` : 'broke nothing'}, stopped at step ${again.steps})`,
    );
  }
  return {
    cluster: again,
    failure: found,
    source: `${what}, stopped at step ${again.steps}`,
    steps: again.steps,
  };
}

/**
 * SimSeedFlag: one of the `raftdeck lab` flags that open a simulator seed, declared as the command
 * line's option specs are (name, type, placeholder, help), so the lab command can list them as
 * they are.
 */
export interface SimSeedFlag {
  name: 'sim-seed' | 'mutation' | 'host' | 'end-to-end' | 'reuse-ids' | 'duration';
  type: 'int' | 'string' | 'boolean';
  value?: string;
  help: string;
  min?: number;
}

/** SIM_SEED_FLAGS: the flags formatSimSeedFlags writes and parseSimSeedFlags reads. */
export const SIM_SEED_FLAGS: readonly SimSeedFlag[] = [
  {
    name: 'sim-seed',
    type: 'int',
    value: 'S',
    min: 0,
    help: 'open seed S of `npm run sim`, paused where its first invariant broke',
  },
  {
    name: 'mutation',
    type: 'string',
    value: 'NAME',
    help: `with --sim-seed: the deliberate bug the seed ran with (${MUTATIONS.join(', ')})`,
  },
  {
    name: 'host',
    type: 'string',
    value: 'real|sync',
    help: 'with --sim-seed: the host model the seed ran with (default real)',
  },
  {
    name: 'end-to-end',
    type: 'boolean',
    help: 'with --sim-seed: the seed ran without the durability checks',
  },
  {
    name: 'reuse-ids',
    type: 'string',
    value: 'after-snapshot|any|never',
    help: 'with --sim-seed: when the seed let a new node reuse an id (default after-snapshot)',
  },
  {
    name: 'duration',
    type: 'int',
    value: 'MS',
    min: 0,
    help: 'with --sim-seed: the length of the seed’s schedule in virtual ms (default 6000)',
  },
];

/**
 * SimSeedFlagValues: the lab command's flags by name (SIM_SEED_FLAGS), as its parser read them:
 * a number or its digits for the integer flags, a string, true for a boolean flag given;
 * undefined or false for a flag not given.
 */
export type SimSeedFlagValues = Readonly<
  Partial<Record<SimSeedFlag['name'], string | number | boolean | undefined>>
>;

/** SimSeedRequest: which simulator seed to open and how it ran. */
export interface SimSeedRequest {
  seed: number;
  options: SimSeedOptions;
}

function intFlag(name: string, v: string | number | boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SimSeedError(`--${name} needs a non-negative integer, not ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(
  name: string,
  v: string | number | boolean,
  allowed: readonly T[],
): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new SimSeedError(
      `--${name} needs one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`,
    );
  return v as T;
}

/**
 * parseSimSeedFlags reads the lab command's simulator-seed flags: null when none is given, the
 * seed and its options (defaults filled in) when --sim-seed is. It throws a SimSeedError naming
 * the flag for a bad value, or for an option of a seed given without --sim-seed. It is the
 * inverse of formatSimSeedFlags.
 */
export function parseSimSeedFlags(values: SimSeedFlagValues): SimSeedRequest | null {
  const given = SIM_SEED_FLAGS.filter((f) => {
    const v = values[f.name];
    return v !== undefined && v !== false;
  });
  if (given.length === 0) return null;
  const seedFlag = values['sim-seed'];
  if (seedFlag === undefined || seedFlag === false)
    throw new SimSeedError(
      `--${given[0]!.name} opens a simulator seed: it needs --sim-seed S to say which`,
    );
  const seed = intFlag('sim-seed', seedFlag);
  const o: Partial<SimSeedOptions> = {};
  const v = (name: SimSeedFlag['name']): string | number | boolean | undefined => {
    const x = values[name];
    return x === false ? undefined : x;
  };
  const mutation = v('mutation');
  if (mutation !== undefined) o.mutation = oneOf('mutation', mutation, MUTATIONS);
  const host = v('host');
  if (host !== undefined) o.host = oneOf('host', host, HOSTS);
  const e2e = v('end-to-end');
  if (e2e !== undefined) {
    if (e2e !== true)
      throw new SimSeedError(`--end-to-end takes no value, got ${JSON.stringify(e2e)}`);
    o.durabilityChecks = false;
  }
  const reuse = v('reuse-ids');
  if (reuse !== undefined) o.reuseIds = oneOf('reuse-ids', reuse, REUSE_IDS);
  const duration = v('duration');
  if (duration !== undefined) o.durationMs = intFlag('duration', duration);
  return { seed, options: simSeedOptions(o) };
}

/**
 * formatSimSeedFlags writes the lab command's flags that open this seed run with these options:
 * --sim-seed first, then every option that is not the simulator's default, in SIM_SEED_FLAGS'
 * order (so a default run reads `--sim-seed 7`).
 */
export function formatSimSeedFlags(seed: number, options: Partial<SimSeedOptions> = {}): string[] {
  checkSeed(seed);
  const o = simSeedOptions(options);
  const d = SIM_SEED_DEFAULTS;
  const flags = ['--sim-seed', String(seed)];
  if (o.mutation) flags.push('--mutation', o.mutation);
  if (o.host !== d.host) flags.push('--host', o.host);
  if (!o.durabilityChecks) flags.push('--end-to-end');
  if (o.reuseIds !== d.reuseIds) flags.push('--reuse-ids', o.reuseIds);
  if (o.durationMs !== d.durationMs) flags.push('--duration', String(o.durationMs));
  return flags;
}

/** labCommand: the command that opens this seed in the lab (`npx raftdeck lab --sim-seed …`). */
export function labCommand(seed: number, options: Partial<SimSeedOptions> = {}): string {
  return ['npx raftdeck lab', ...formatSimSeedFlags(seed, options)].join(' ');
}
