// A span of recorded items by time: both ends included, at real epoch times (where subtracting
// a tiny amount from `from` rounds back to it).
import { describe, expect, it } from 'vitest';
import { spanOf } from '../../../main/cluster/recording/recording';

const T0 = 1_700_000_000_000;
const items = [T0, T0 + 1, T0 + 1, T0 + 5, T0 + 9].map((time, i) => ({ time, i }));
const span = (from: number, to: number, limit = 100) =>
  spanOf(items, from, to, limit, (x) => x.time).map((x) => x.i);

describe('spanOf', () => {
  it('includes items at both ends', () => {
    expect(span(T0, T0 + 5)).toEqual([0, 1, 2, 3]);
    expect(span(T0 + 1, T0 + 1)).toEqual([1, 2]);
    expect(span(T0 + 9, T0 + 20)).toEqual([4]);
  });
  it('is empty outside the items and keeps the latest `limit`', () => {
    expect(span(T0 - 10, T0 - 1)).toEqual([]);
    expect(span(T0 + 2, T0 + 4)).toEqual([]);
    expect(span(T0, T0 + 9, 2)).toEqual([3, 4]);
  });
});
