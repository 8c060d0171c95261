import { describe, expect, it } from 'vitest';
import { check } from '../../../main/cluster/checker/porcupine';
import { generateHistory } from './generate';
import { seededRng } from '../../../main/raft/rng';

const SEEDS = 300;

describe('check: generated histories', () => {
  it(`accepts ${SEEDS} random linearizable histories and rejects each with one read corrupted`, () => {
    let rejected = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rng = seededRng(seed);
      const ops = generateHistory(rng, {
        clients: 2 + Math.floor(rng() * 5),
        keys: 1 + Math.floor(rng() * 3),
        ops: 10 + Math.floor(rng() * 60),
        values: 2 + Math.floor(rng() * 3),
        unknownRate: rng() < 0.5 ? 0 : 0.1,
        failRate: 0.05,
        maxLatency: 1 + Math.floor(rng() * 12),
      });
      const ok = check(ops, { timeoutMs: 5_000 });
      if (ok.result !== 'ok') expect.fail(`seed ${seed}: ${ok.result}\n${ok.failure?.explanation}`);

      const reads = ops.filter((op) => op.op === 'get' && op.outcome === 'ok');
      if (reads.length === 0) continue;
      const victim = reads[Math.floor(rng() * reads.length)];
      victim.output = { value: 'never-written' };
      const bad = check(ops, { timeoutMs: 5_000 });
      if (bad.result !== 'not-linearizable')
        expect.fail(`seed ${seed}: corrupted read #${victim.id} gave ${bad.result}`);
      expect(bad.failure!.key).toBe(victim.key);
      expect(bad.failure!.window.map((op) => op.id)).toContain(victim.id);
      expect(bad.failure!.window.length).toBeLessThanOrEqual(20);
      rejected++;
    }
    expect(rejected).toBeGreaterThan(SEEDS * 0.9);
  });

  it('generates histories with real overlap', () => {
    const ops = generateHistory(seededRng(7), { clients: 5, keys: 1, ops: 200 });
    let overlapping = 0;
    for (const a of ops)
      for (const b of ops)
        if (a.id < b.id && a.invoke < b.complete! && b.invoke < a.complete!) overlapping++;
    expect(overlapping).toBeGreaterThan(100);
  });
});
