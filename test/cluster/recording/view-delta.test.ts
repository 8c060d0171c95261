/**
 * view-delta: patch(prev, diff(prev, next)) deep-equals next for seeded random JSON values and
 * for random edits of one value (the way views change), including arrays that grow, shrink and
 * move along and null <-> object changes; equal values give no delta; a delta survives msgpack;
 * a delta that does not fit its value is refused.
 */
import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../main/raft/rng';
import {
  deepEqual,
  diff,
  DeltaError,
  patch,
  type Json,
} from '../../../main/cluster/recording/view-delta';

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

function randomJson(rng: Rng, depth: number): Json {
  const r = rng();
  if (depth <= 0 || r < 0.35) {
    return pick(rng, [
      null,
      true,
      false,
      Math.floor(rng() * 1000),
      rng() * 1e6 - 5e5,
      '',
      `s${Math.floor(rng() * 20)}`,
      -0.5,
    ]);
  }
  if (r < 0.65) {
    const n = Math.floor(rng() * 6);
    return Array.from({ length: n }, () => randomJson(rng, depth - 1));
  }
  const o: Record<string, Json> = {};
  const n = Math.floor(rng() * 6);
  for (let i = 0; i < n; i++)
    o[pick(rng, ['a', 'b', 'c', 'd', 'role', 'term', 'x y'])] = randomJson(rng, depth - 1);
  return o;
}

/** mutate changes a few places of `v` (a new value; `v` is left alone). */
function mutate(rng: Rng, v: Json, depth: number): Json {
  if (rng() < 0.15 || depth <= 0) return randomJson(rng, 2);
  if (Array.isArray(v)) {
    let out = v.map((x) => (rng() < 0.3 ? mutate(rng, x, depth - 1) : x));
    const r = rng();
    if (r < 0.2) out.push(randomJson(rng, 2));
    else if (r < 0.35) out = out.slice(0, Math.floor(rng() * out.length));
    else if (r < 0.5 && out.length > 1)
      out = [...out.slice(1 + Math.floor(rng() * 3)), randomJson(rng, 1)];
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = { ...v };
    for (const k of Object.keys(out)) {
      const r = rng();
      if (r < 0.15) delete out[k];
      else if (r < 0.5) out[k] = mutate(rng, out[k]!, depth - 1);
    }
    if (rng() < 0.3) out[pick(rng, ['e', 'f', 'a', 'leader'])] = randomJson(rng, 2);
    return out;
  }
  return randomJson(rng, 2);
}

const check = (prev: Json, next: Json): void => {
  const d = diff(prev, next);
  expect(patch(structuredClone(prev), d)).toStrictEqual(next);
  // as it is stored: through msgpack
  const stored = d === null ? null : (decode(encode(d)) as typeof d);
  expect(patch(structuredClone(prev), stored)).toStrictEqual(next);
};

describe('view-delta', () => {
  it('patch(prev, diff(prev, next)) equals next for 3000 seeded random pairs', () => {
    const rng = seededRng(16);
    for (let i = 0; i < 3000; i++) check(randomJson(rng, 4), randomJson(rng, 4));
  });

  it('equals next along 200 chains of 30 random edits each, never touching prev', () => {
    const rng = seededRng(7);
    for (let c = 0; c < 200; c++) {
      let v = randomJson(rng, 4);
      for (let i = 0; i < 30; i++) {
        const next = mutate(rng, v, 4);
        const before = structuredClone(v);
        const d = diff(v, next);
        expect(patch(v, d)).toStrictEqual(next);
        expect(v).toStrictEqual(before);
        v = next;
      }
    }
  });

  it('handles growing, shrinking and moving arrays, and null <-> object', () => {
    check([1, 2, 3], [1, 2, 3, 4, 5]);
    check([1, 2, 3, 4, 5], [1, 2]);
    check([1, 2, 3, 4, 5], []);
    check([], [{ a: 1 }]);
    check({ w: null }, { w: { running: true, samples: [1, 2] } });
    check({ w: { running: true } }, { w: null });
    check(null, { a: 1 });
    check({ a: 1 }, null);
    check([1, 2], { 0: 1, 1: 2 });
    check({ a: [1] }, { a: 'x' });
    check({ a: 1, b: 2 }, { b: 2 });
  });

  it('records a window of samples that moves along as the new items only', () => {
    const samples = Array.from({ length: 60 }, (_, i) => ({ t: i, ops: i * 3 }));
    const next = [...samples.slice(2), { t: 60, ops: 1 }, { t: 61, ops: 2 }];
    const d = diff({ samples }, { samples: next });
    expect(d).toEqual({
      o: {
        samples: {
          a: [
            [58, { s: next[58] }],
            [59, { s: next[59] }],
          ],
          n: 60,
          h: 2,
        },
      },
    });
    expect(patch({ samples }, d)).toStrictEqual({ samples: next });
  });

  it('gives no delta for equal values, counting undefined fields as absent', () => {
    expect(diff({ a: 1, b: [1, { c: null }] }, { a: 1, b: [1, { c: null }] })).toBeNull();
    expect(diff({ a: 1, u: undefined }, { a: 1 })).toBeNull();
    expect(deepEqual({ a: undefined }, {})).toBe(true);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    const d = diff({ a: 1 }, { a: 1, u: undefined, b: 2 });
    expect(d).toEqual({ o: { b: 2 } });
  });

  it('refuses a delta that does not fit its value', () => {
    expect(() => patch(5, { o: { a: { s: 1 } } })).toThrow(DeltaError);
    expect(() => patch({}, { a: [], n: 0 })).toThrow(/array delta applied to a non-array/);
    expect(() => patch([1], { a: [[5, { s: 1 }]], n: 1 })).toThrow(/outside the array/);
    expect(() => patch([1], { a: [], n: 1e9 })).toThrow(/grows to/);
    expect(() => patch([1], { a: [], n: 1, h: 3 })).toThrow(/moves along by 3/);
    expect(() => patch({}, { o: { ['__proto__']: { s: 1 } } })).toThrow(/__proto__/);
    expect(() => patch({}, {} as never)).toThrow(/s, o or a/);
  });
});
