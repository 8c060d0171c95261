import { describe, expect, it } from 'vitest';
import {
  PartialFrameBudget,
  type BudgetHolder,
} from '../../../main/node/transport/partial-frame-budget';

/** holder records its evictions. */
function holder(name: string, log: string[]): BudgetHolder {
  return { evictForBudget: (held, limit) => log.push(`${name} ${held}/${limit}`) };
}

describe('PartialFrameBudget', () => {
  it('evicts the largest holder once the total is over the limit, and forgets it', () => {
    const log: string[] = [];
    const b = new PartialFrameBudget(100);
    const [x, y, z] = ['x', 'y', 'z'].map((n) => holder(n, log));
    expect(b.hold(x, 40)).toBe(true);
    expect(b.hold(y, 30)).toBe(true);
    expect(b.hold(z, 30)).toBe(true);
    expect(b.totalBytes).toBe(100);
    expect(log).toEqual([]);
    // z grows to 35: the total is 105 and x (40) is the largest.
    expect(b.hold(z, 35)).toBe(true);
    expect(log).toEqual(['x 40/100']);
    expect(b.totalBytes).toBe(65);
    expect(b.evictions).toBe(1);
    // x is forgotten: releasing it again changes nothing.
    b.release(x);
    expect(b.totalBytes).toBe(65);
  });

  it('evicts as many as needed, and tells a holder that it evicted itself', () => {
    const log: string[] = [];
    const b = new PartialFrameBudget(50);
    const [x, y, z] = ['x', 'y', 'z'].map((n) => holder(n, log));
    b.hold(x, 20);
    b.hold(y, 20);
    // z reports 90: it is the largest, and after it goes the rest fit.
    expect(b.hold(z, 90)).toBe(false);
    expect(log).toEqual(['z 90/50']);
    expect(b.totalBytes).toBe(40);
    // One holder over the limit with others that must go too.
    b.hold(x, 45);
    expect(log).toEqual(['z 90/50', 'x 45/50']);
    expect(b.totalBytes).toBe(20);
  });

  it('a holder reporting 0 bytes holds nothing; release forgets it', () => {
    const log: string[] = [];
    const b = new PartialFrameBudget(10);
    const x = holder('x', log);
    b.hold(x, 8);
    b.hold(x, 0);
    expect(b.totalBytes).toBe(0);
    b.hold(x, 8);
    b.release(x);
    expect(b.totalBytes).toBe(0);
    expect(log).toEqual([]);
  });

  it('refuses a limit that is not a byte count', () => {
    expect(() => new PartialFrameBudget(-1)).toThrow('byte count');
    expect(() => new PartialFrameBudget(1.5)).toThrow('byte count');
  });
});
