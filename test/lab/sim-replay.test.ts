import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../main/cli/args';
import type { SimCluster } from '../../main/lab/lab-cluster';
import { MUTATIONS } from '../../main/lab/lab-cluster';
import type { Mutation } from '../../main/lab/lab-cluster';
import { INVARIANTS, invariantNames } from '../../main/lab/invariants';
import { playSchedule, runSchedule } from '../../main/lab/schedule-runner';
import {
  formatSimSeedFlags,
  labCommand,
  openSimSeed,
  parseSimSeedFlags,
  SIM_SEED_FLAGS,
  simSeedOptions,
  SimSeedError,
} from '../../main/lab/sim-replay';
import type { SimSeedFlagValues, SimSeedOptions } from '../../main/lab/sim-replay';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dec = new TextDecoder();

/** firstSeed: the first seed from 1 on whose schedule (run as `npm run sim` runs it) `fails` says. */
function firstSeed(o: Partial<SimSeedOptions>, fails: boolean, durationMs = 6000): number {
  for (let s = 1; s <= 100; s++) {
    const { host, mutation, durabilityChecks, reuseIds } = simSeedOptions(o);
    const r = runSchedule(s, durationMs, { host, mutation, durabilityChecks, reuseIds });
    if (r.violations.length > 0 === fails) return s;
  }
  throw new Error(`no seed in 1..100 ${fails ? 'fails' : 'passes'} with ${JSON.stringify(o)}`);
}

/**
 * state: everything the lab could show of a cluster, and more: virtual time, the step count, each
 * node's process, core status, log, disk and state machine, the messages in flight, and what the
 * checker found.
 */
function state(c: SimCluster): string {
  return JSON.stringify({
    now: c.now,
    steps: c.steps,
    nodes: [...c.nodes.values()].map((n) => ({
      id: n.id,
      up: n.alive,
      exited: n.exited,
      status: n.alive ? n.raft.status() : null,
      log: n.alive
        ? Array.from({ length: n.raft.log.lastIndex() - n.raft.log.prevIndex }, (_, i) => {
            const e = n.raft.log.entry(n.raft.log.prevIndex + 1 + i)!;
            return [e.index, e.term, e.type, dec.decode(e.data)];
          })
        : null,
      disk: n.files.hardState,
      applied: n.sm,
    })),
    states: c.nodeStates(),
    inFlight: c.inFlight(),
    violations: c.violations,
    failures: c.failures,
  });
}

/**
 * watched runs a seed's schedule whole, as the simulator does, recording after every step how many
 * violations it had and, for the steps asked for, the cluster's state.
 */
function watched(seed: number, o: SimSeedOptions, keep: (step: number) => boolean) {
  const counts: number[] = [0];
  const states = new Map<number, string>();
  const run = playSchedule(
    seed,
    o.durationMs,
    {
      mutation: o.mutation,
      host: o.host,
      durabilityChecks: o.durabilityChecks,
      reuseIds: o.reuseIds,
    },
    {
      onStep: (c) => {
        counts[c.steps] = c.violations.length;
        if (keep(c.steps)) states.set(c.steps, state(c));
      },
    },
  );
  return { run, counts, states };
}

describe('a failing simulator seed opens in the lab at the step its first invariant broke', () => {
  const cases: { mutation: Mutation; why: string }[] = [
    { mutation: 'send-before-fsync', why: 'a vote leaves before its term is durable' },
    {
      mutation: 'commit-before-entries',
      why: 'a commit record lands before the entries it covers',
    },
  ];

  it.each(cases)('$mutation: $why', ({ mutation }) => {
    const seed = firstSeed({ mutation }, true);
    const o = simSeedOptions({ mutation });
    const opened = openSimSeed(seed, { mutation });
    const f = opened.failure!;
    expect(f).not.toBeNull();
    expect(invariantNames).toContain(f.invariant);
    expect(f.invariant).toBe('durability');
    // The cluster is paused at the failing step, the failure the first it recorded.
    expect(opened.steps).toBe(f.step);
    expect(opened.cluster.steps).toBe(f.step);
    expect(opened.cluster.now).toBe(f.at);
    expect(opened.cluster.failures[0]).toEqual(f);
    expect(opened.cluster.violations[0]).toBe(`t=${f.at.toFixed(1)}ms ${f.text}`);
    expect(opened.source).toBe(
      `simulator seed ${seed} with mutation ${mutation}, stopped at step ${f.step}`,
    );
    // The nodes involved are the ones the checker's words name.
    const sent = /^node (\d+) sent \S+ \(term \d+\) to (\d+)/.exec(f.text);
    const crash = /^node (\d+): a crash now would come back/.exec(f.text);
    if (sent) expect(f.nodes).toEqual([Number(sent[1]), Number(sent[2])]);
    else if (crash) expect(f.nodes).toEqual([Number(crash[1])]);
    else throw new Error(`unexpected failure text: ${f.text}`);

    // Recomputed from a whole run, watched step by step: the step before has no violation, the
    // failing step has; the first violation is the one the simulator prints first; and the
    // opened cluster is exactly what the whole run was after that step.
    const w = watched(seed, o, (s) => s >= f.step - 1 && s <= f.step + 1);
    expect(w.run.result.violations).toEqual(runSchedule(seed, 6000, { mutation }).violations);
    expect(w.run.result.violations[0]).toBe(opened.cluster.violations[0]);
    expect(w.counts[f.step - 1]).toBe(0);
    expect(w.counts[f.step]).toBeGreaterThan(0);
    expect(w.counts.findIndex((n) => n > 0)).toBe(f.step);
    expect(state(opened.cluster)).toBe(w.states.get(f.step));
    expect(state(opened.cluster)).not.toBe(w.states.get(f.step - 1));
  });

  it('steps on from the failing step exactly as the whole run did', () => {
    const mutation = 'send-before-fsync';
    const seed = firstSeed({ mutation }, true);
    const opened = openSimSeed(seed, { mutation });
    const c = opened.cluster;
    const n = opened.steps;
    const w = watched(seed, simSeedOptions({ mutation }), (s) => s > n && s <= n + 100);
    // The schedule acts between spans of 25 ms of virtual time; up to the end of the span the
    // failure is in, the whole run only ran the agenda, as the lab's step does.
    const spanEnd = Math.ceil(c.now / 25) * 25;
    let compared = 0;
    for (let i = 0; i < 5; i++) {
      if (c.step('message', spanEnd - c.now).length === 0) break;
      expect(c.steps).toBeGreaterThan(n);
      expect(state(c)).toBe(w.states.get(c.steps));
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('a failure the schedule finds between two spans of time opens where the run ended', () => {
    // Seed 204 with --reuse-ids any: a learner under a reused id exits on its old removal and
    // stays down, and the checks after the final heal find its acknowledged writes missing.
    const o = simSeedOptions({ reuseIds: 'any' });
    const opened = openSimSeed(204, o);
    const f = opened.failure!;
    expect(f.invariant).toBe('durability');
    expect(f.text).toMatch(
      /^durability: acknowledged writes up to \d+ not applied on every member/,
    );
    // The nodes named are the members that lack the writes: the ones down or behind.
    const behind = [...f.text.matchAll(/(\d+)L?:(up|down)@(\d+)/g)]
      .filter((m) => m[2] === 'down' || Number(m[3]) < Number(/up to (\d+)/.exec(f.text)![1]))
      .map((m) => Number(m[1]));
    expect(behind.length).toBeGreaterThan(0);
    expect(f.nodes).toEqual(behind);
    // No step broke anything; the last one is where the whole run ended, and so did the replay.
    const w = watched(204, o, () => false);
    expect(w.counts.every((n) => n === 0)).toBe(true);
    expect(w.run.cluster.steps).toBe(f.step);
    expect(opened.steps).toBe(f.step);
    expect(state(opened.cluster)).toBe(state(w.run.cluster));
    expect(opened.source).toBe(`simulator seed 204, reuse ids any, stopped at step ${f.step}`);
  });

  it('a seed that breaks nothing runs to its end, failure null', () => {
    const seed = firstSeed({}, false, 2000);
    const opened = openSimSeed(seed, { durationMs: 2000 });
    expect(opened.failure).toBeNull();
    expect(opened.cluster.violations).toEqual([]);
    expect(opened.cluster.failures).toEqual([]);
    const whole = playSchedule(seed, 2000).cluster;
    expect(opened.steps).toBe(whole.steps);
    expect(state(opened.cluster)).toBe(state(whole));
    expect(opened.source).toBe(
      `simulator seed ${seed}, 2000 ms, ran to its end at step ${whole.steps} with no invariant broken`,
    );
  });

  it('refuses a bad seed or option, naming it', () => {
    expect(() => openSimSeed(-1)).toThrow(/seed -1/);
    expect(() => openSimSeed(1, { mutation: 'nope' as Mutation })).toThrow(/mutation: nope/);
    expect(() => openSimSeed(1, { durationMs: 1.5 })).toThrow(SimSeedError);
  });
});

/** labValues reads the lab command's flags with the command line's own parser, as `raftdeck lab` does. */
function labValues(argv: readonly string[]): SimSeedFlagValues {
  const args = parseArgs(
    {
      name: 'lab',
      summary: '',
      usage: [],
      description: '',
      positionals: [],
      options: [...SIM_SEED_FLAGS],
    },
    argv,
  );
  return Object.fromEntries(
    SIM_SEED_FLAGS.map((f) => [
      f.name,
      f.type === 'boolean'
        ? args.flag(f.name)
        : f.type === 'int'
          ? args.number(f.name)
          : args.string(f.name),
    ]),
  );
}

describe('the lab flags that name a simulator seed', () => {
  const runs: [number, Partial<SimSeedOptions>][] = [
    [1234, {}],
    [7, { durationMs: 3000 }],
    [0, { host: 'sync', durabilityChecks: false, reuseIds: 'any', durationMs: 250 }],
    [99, { reuseIds: 'never' }],
    ...MUTATIONS.map((m, i): [number, Partial<SimSeedOptions>] => [i + 1, { mutation: m }]),
  ];

  it.each(runs)('seed %i %j round-trips through the command line parser', (seed, o) => {
    const flags = formatSimSeedFlags(seed, o);
    expect(flags.slice(0, 2)).toEqual(['--sim-seed', String(seed)]);
    expect(parseSimSeedFlags(labValues(flags))).toEqual({ seed, options: simSeedOptions(o) });
    expect(labCommand(seed, o)).toBe(`npx raftdeck lab ${flags.join(' ')}`);
  });

  it('writes only what differs from the simulator defaults', () => {
    expect(labCommand(1234, { mutation: 'send-before-fsync' })).toBe(
      'npx raftdeck lab --sim-seed 1234 --mutation send-before-fsync',
    );
    expect(formatSimSeedFlags(5, simSeedOptions({}))).toEqual(['--sim-seed', '5']);
  });

  it('reads nothing when no seed flag is given, and refuses bad ones naming the flag', () => {
    expect(parseSimSeedFlags(labValues([]))).toBeNull();
    expect(() => parseSimSeedFlags({ mutation: 'send-before-fsync' })).toThrow(
      /--mutation .*needs --sim-seed/,
    );
    expect(() => parseSimSeedFlags({ 'sim-seed': 1, mutation: 'x' })).toThrow(
      /--mutation needs one of/,
    );
    expect(() => parseSimSeedFlags({ 'sim-seed': 1, host: 'fast' })).toThrow(
      /--host needs one of real, sync/,
    );
    expect(() => parseSimSeedFlags({ 'sim-seed': 'a' })).toThrow(
      /--sim-seed needs a non-negative integer/,
    );
    expect(() => parseSimSeedFlags({ 'sim-seed': 1, duration: -5 })).toThrow(/--duration/);
  });

  it('npm run sim prints, for a failing seed, the lab command that opens it with its options', () => {
    const options = { mutation: 'send-before-fsync', reuseIds: 'never', durationMs: 3000 } as const;
    const seed = firstSeed(options, true, 3000);
    const run = spawnSync(
      'npx',
      [
        'tsx',
        'test/raft/sim/cli.ts',
        ...['--runs', '1', '--seed', String(seed), '--workers', '1', '--duration', '3000'],
        ...['--mutation', 'send-before-fsync', '--reuse-ids', 'never'],
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(1);
    const line = /^ {2}in the lab: npx raftdeck lab (.*)$/m.exec(run.stdout);
    expect(line, run.stdout).not.toBeNull();
    const flags = line![1]!.split(' ');
    expect(parseSimSeedFlags(labValues(flags))).toEqual({
      seed,
      options: simSeedOptions(options),
    });
    expect(run.stdout).toContain(`sim: open in the lab with: npx raftdeck lab ${line![1]}`);
  });
});

describe('the invariants', () => {
  it('docs/raft.md lists every invariant with its meaning', () => {
    const doc = readFileSync(`${root}/docs/raft.md`, 'utf8').replace(/\s+/g, ' ');
    const missing = Object.entries(INVARIANTS)
      .map(([name, meaning]) => `**${name}**: ${meaning}`)
      .filter((line) => !doc.includes(line));
    expect(missing).toEqual([]);
  });
});
