// The lines `raftdeck load` prints add up to its totals: the last, partial window, taken as the
// load stops and holding what the operations still in flight did, is printed too.
import { describe, expect, it } from 'vitest';
import { SampleLines } from '../../main/cli/commands/load';
import type { WorkloadSample } from '../../main/contract/view';

const sample = (time: number, errors: number, unknown: number): WorkloadSample => ({
  time,
  opsPerSec: 10,
  p50Ms: 1,
  p99Ms: 2,
  errors,
  unknown,
});

describe('SampleLines', () => {
  it('prints each second once, then the partial last window with its length', () => {
    const lines = new SampleLines();
    const t0 = 1_000_000;
    const first = lines.take([sample(t0 + 1000, 0, 0)], true);
    expect(first.map((l) => l.text.trim().split(/\s+/)[0])).toEqual(['1']);
    const samples = [sample(t0 + 1000, 0, 0), sample(t0 + 2000, 1, 0), sample(t0 + 2300, 3, 4)];
    const rest = lines.take(samples, false);
    expect(rest).toHaveLength(2);
    expect(rest[0]!.text).toMatch(/^\s+2 s\s+10 ops\/s .* errors 1 {2}unknown 0$/);
    expect(rest[1]!.text).toMatch(
      /^\s*\+0\.3 s\s+10 ops .* errors 3 {2}unknown 4 {2}\(last 0\.3 s\)$/,
    );
    expect(rest[1]!.event).toMatchObject({ partial: true, errors: 3, unknown: 4 });
    // Every window is printed, so the errors and unknowns add up to the run's totals.
    const printed = [...first, ...rest].map((l) => l.event as unknown as WorkloadSample);
    expect(printed.reduce((a, s) => a + s.errors, 0)).toBe(4);
    expect(printed.reduce((a, s) => a + s.unknown, 0)).toBe(4);
  });

  it('prints nothing twice', () => {
    const lines = new SampleLines();
    const s = [sample(2000, 0, 0)];
    expect(lines.take(s, true)).toHaveLength(1);
    expect(lines.take(s, true)).toHaveLength(0);
  });
});
