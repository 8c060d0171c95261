// The bench's command line (test/bench/options.ts): the stages and options of the floor,
// interleaving and scale stages, and the errors for bad values.
import { describe, expect, it } from 'vitest';
import { DEFAULT_STAGES, parseOptions, UsageError, type BenchOptions } from './options';

const parse = (...argv: string[]): BenchOptions => {
  const o = parseOptions(argv);
  if (o === 'help') throw new Error('help');
  return o;
};

describe('parseOptions', () => {
  it('runs the scale stage by default, after throughput, and with --only scale alone', () => {
    const o = parse();
    expect(o.stages).toEqual(DEFAULT_STAGES);
    expect(o.stages.slice(0, 2)).toEqual(['throughput', 'scale']);
    expect(o.stages).not.toContain('attack');
    expect(parse('--only', 'scale').stages).toEqual(['scale']);
    expect(parse('--only', 'scale,throughput').stages).toEqual(['throughput', 'scale']);
  });

  it('runs the state stage by default and the soak stage only when named, for --soak-minutes', () => {
    expect(parse().stages).toContain('state');
    expect(parse().stages).not.toContain('soak');
    expect(parse().soakMinutes).toBe(10);
    const o = parse('--only', 'soak', '--soak-minutes', '3');
    expect(o.stages).toEqual(['soak']);
    expect(o.soakMinutes).toBe(3);
    expect(() => parse('--soak-minutes', '0')).toThrow(
      /--soak-minutes needs a positive integer, got '0'/,
    );
  });

  it('has the defaults of the floor and scale stages', () => {
    const o = parse();
    expect(o.members).toEqual([3, 5, 7]);
    expect(o.scaleConcurrency).toBe(64);
    expect(o.trialsPerLevel).toBe(3);
    expect(o.seconds).toBe(10);
    expect(parse('--quick').seconds).toBe(3);
  });

  it('reads --timeline with or without a count', () => {
    expect(parse().timeline).toBeUndefined();
    expect(parse('--timeline').timeline).toBe(2000);
    expect(parse('--timeline', '500', '--no-etcd').timeline).toBe(500);
    expect(parse('--timeline', '--no-etcd').timeline).toBe(2000);
    expect(() => parse('--timeline', '0')).toThrow("--timeline needs a positive integer, got '0'");
  });

  it('reads --members, --scale-concurrency and --trials-per-level', () => {
    const o = parse('--members', '3, 9', '--scale-concurrency', '16', '--trials-per-level', '5');
    expect(o.members).toEqual([3, 9]);
    expect(o.scaleConcurrency).toBe(16);
    expect(o.trialsPerLevel).toBe(5);
  });

  it.each([
    [['--members', '3,x'], "--members needs a positive integer, got 'x'"],
    [['--members', '3,,5'], "--members needs a positive integer, got ''"],
    [['--members', '0'], "--members needs a positive integer, got '0'"],
    [['--members', '3,16'], '--members: 16 is over the limit of 15 members'],
    [['--members', '3,5,3'], '--members: 3 is listed twice'],
    [['--members'], '--members needs a value'],
    [['--levels', '1,1'], '--levels: 1 is listed twice'],
    [['--scale-concurrency', '-4'], "--scale-concurrency needs a positive integer, got '-4'"],
    [['--trials-per-level', '1.5'], "--trials-per-level needs a positive integer, got '1.5'"],
    [['--trials-per-level', '--quick'], '--trials-per-level needs a value'],
    [
      ['--quick', '--trials-per-level', '4'],
      '--trials-per-level 4 makes trials of 0.75 s out of 3 s per level; each needs at least 1 s',
    ],
    [['--only', 'scales'], "--only: unknown stage 'scales'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('takes trials of exactly 1 s', () => {
    expect(parse('--seconds', '3', '--trials-per-level', '3').trialsPerLevel).toBe(3);
  });
});
