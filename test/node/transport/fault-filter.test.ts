import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FaultFilter,
  InvalidFaultRuleError,
  type FaultRule,
} from '../../../main/node/transport/fault-filter';
import type { Message } from '../../../main/raft/types';
import { heartbeat, snapChunk, vote } from './helpers';
import { seededRng } from '../../../main/raft/rng';

let filter: FaultFilter;
let delivered: Message[];
const deliver = (m: Message): void => {
  delivered.push(m);
};

beforeEach(() => {
  vi.useFakeTimers();
  filter = new FaultFilter({ rng: seededRng(7) });
  delivered = [];
});

afterEach(() => {
  filter.dispose();
  vi.useRealTimers();
});

describe('FaultFilter', () => {
  it('passes everything without rules', () => {
    expect(filter.apply('send', heartbeat(1, 2, 1), deliver)).toBe('pass');
    expect(delivered).toHaveLength(1);
  });

  it('drops everything on a partitioned link (drop: 1), only there, until cleared', () => {
    filter.setRules([{ to: 3, drop: 1 }]);
    expect(filter.apply('send', heartbeat(1, 3, 1), deliver)).toBe('drop');
    expect(filter.apply('send', vote(1, 3), deliver)).toBe('drop');
    expect(filter.apply('send', heartbeat(1, 2, 2), deliver)).toBe('pass');
    // A send rule does not touch what this node receives from 3.
    expect(filter.apply('receive', heartbeat(3, 1, 3), deliver)).toBe('pass');
    expect(delivered.map((m) => m.to)).toEqual([2, 1]);
    expect(filter.list()).toEqual([
      { to: 3, drop: 1, matched: 2, dropped: 2, delayed: 0, spent: false },
    ]);
    filter.clear();
    expect(filter.apply('send', heartbeat(1, 3, 4), deliver)).toBe('pass');
    expect(filter.list()).toEqual([]);
  });

  it("drops all links with to: '*' and receive links with from", () => {
    filter.setRules([
      { to: '*', drop: 1 },
      { from: 2, drop: 1 },
    ]);
    expect(filter.apply('send', heartbeat(1, 2, 1), deliver)).toBe('drop');
    expect(filter.apply('send', heartbeat(1, 5, 1), deliver)).toBe('drop');
    expect(filter.apply('receive', heartbeat(2, 1, 1), deliver)).toBe('drop');
    expect(filter.apply('receive', heartbeat(3, 1, 1), deliver)).toBe('pass');
  });

  it("drops by type: only 'vote' to node 3", () => {
    filter.setRules([{ to: 3, drop: 1, types: ['vote'] }]);
    expect(filter.apply('send', vote(1, 3, 'vote'), deliver)).toBe('drop');
    expect(filter.apply('send', vote(1, 3, 'pre-vote'), deliver)).toBe('pass');
    expect(filter.apply('send', vote(1, 2, 'vote'), deliver)).toBe('pass');
    expect(filter.apply('send', heartbeat(1, 3, 1), deliver)).toBe('pass');
    expect(delivered.map((m) => `${m.type}->${m.to}`)).toEqual([
      'pre-vote->3',
      'vote->2',
      'heartbeat->3',
    ]);
  });

  it('drops with probability p (seeded, statistically)', () => {
    const n = 20_000;
    for (const p of [0.1, 0.3, 0.75]) {
      const f = new FaultFilter({ rng: seededRng(Math.round(p * 1000)) });
      f.setRules([{ to: 2, drop: p }]);
      let dropped = 0;
      for (let i = 0; i < n; i++)
        if (f.apply('send', heartbeat(1, 2, i), () => {}) === 'drop') dropped++;
      // 5 standard deviations of a binomial(n, p): a seeded run is far inside.
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(dropped - n * p)).toBeLessThan(5 * sd);
      expect(f.list()[0].dropped).toBe(dropped);
    }
    // The same seed gives the same losses.
    const run = (): number[] => {
      const f = new FaultFilter({ rng: seededRng(99) });
      f.setRules([{ to: 2, drop: 0.5 }]);
      const lost: number[] = [];
      for (let i = 0; i < 50; i++)
        if (f.apply('send', heartbeat(1, 2, i), () => {}) === 'drop') lost.push(i);
      return lost;
    };
    expect(run()).toEqual(run());
  });

  it('delays by delayMs and keeps order on the link', () => {
    filter.setRules([{ to: 2, delayMs: 100 }]);
    for (let i = 0; i < 5; i++)
      expect(filter.apply('send', heartbeat(1, 2, i), deliver)).toBe('delay');
    expect(filter.apply('send', heartbeat(1, 3, 9), deliver)).toBe('pass');
    expect(delivered.map((m) => m.to)).toEqual([3]);
    vi.advanceTimersByTime(99);
    expect(delivered).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(delivered.slice(1).map((m) => (m.type === 'heartbeat' ? m.readSeq : -1))).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(filter.held).toBe(0);
  });

  it('never releases a message before one delayed earlier on the same link', () => {
    filter.setRules([{ to: 2, delayMs: 500 }]);
    filter.apply('send', heartbeat(1, 2, 1), deliver);
    vi.advanceTimersByTime(100);
    filter.setRules([{ to: 2, delayMs: 10 }]);
    filter.apply('send', heartbeat(1, 2, 2), deliver);
    vi.advanceTimersByTime(50);
    expect(delivered).toHaveLength(0);
    vi.advanceTimersByTime(350);
    expect(delivered.map((m) => (m.type === 'heartbeat' ? m.readSeq : -1))).toEqual([1, 2]);
  });

  it('jitters delays within delayMs ± jitterMs', () => {
    filter.setRules([{ to: 2, delayMs: 100, jitterMs: 50 }]);
    for (let i = 0; i < 200; i++) filter.apply('send', heartbeat(1, 2, i), deliver);
    vi.advanceTimersByTime(49);
    expect(delivered).toHaveLength(0);
    vi.advanceTimersByTime(101);
    expect(delivered).toHaveLength(200);
    const order = delivered.map((m) => (m.type === 'heartbeat' ? m.readSeq : -1));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });

  it('loses the snapshot chunk at offset N once', () => {
    filter.setRules([{ to: 2, snapshotOffset: 200 }]);
    const verdicts = [0, 100, 200, 300, 200, 300].map((o) =>
      filter.apply('send', snapChunk(1, 2, o), deliver),
    );
    expect(verdicts).toEqual(['pass', 'pass', 'drop', 'pass', 'pass', 'pass']);
    expect(delivered.map((m) => (m.type === 'snap' ? m.offset : -1))).toEqual([
      0, 100, 300, 200, 300,
    ]);
    expect(filter.list()[0]).toMatchObject({ snapshotOffset: 200, dropped: 1, spent: true });
    // Chunks to other peers are not affected.
    filter.setRules([{ to: 3, snapshotOffset: 0 }]);
    expect(filter.apply('send', snapChunk(1, 2, 0), deliver)).toBe('pass');
  });

  it('combines rules: any drop wins, the largest delay applies', () => {
    filter.setRules([
      { to: '*', delayMs: 10 },
      { to: 2, delayMs: 30, types: ['heartbeat'] },
      { to: 2, drop: 1, types: ['vote'] },
    ]);
    expect(filter.apply('send', vote(1, 2), deliver)).toBe('drop');
    filter.apply('send', heartbeat(1, 2, 1), deliver);
    vi.advanceTimersByTime(29);
    expect(delivered).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(delivered).toHaveLength(1);
  });

  it('validates rules', () => {
    const bad: unknown[] = [
      {},
      { to: 1, from: 2 },
      { to: 0 },
      { to: 'all' },
      { to: 1, drop: 1.5 },
      { to: 1, delayMs: -1 },
      { to: 1, jitterMs: Number.NaN },
      { to: 1, types: ['bogus'] },
      { to: 1, snapshotOffset: 1.5 },
    ];
    for (const r of bad) {
      expect(() => filter.setRules([r as FaultRule])).toThrow(InvalidFaultRuleError);
    }
  });

  it('dispose cancels delayed messages', () => {
    filter.setRules([
      { to: 2, delayMs: 10 },
      { to: 3, delayMs: 10, jitterMs: 5 },
    ]);
    filter.apply('send', heartbeat(1, 2, 1), deliver);
    filter.apply('send', heartbeat(1, 3, 1), deliver);
    expect(filter.held).toBe(2);
    filter.dispose();
    vi.advanceTimersByTime(100);
    expect(delivered).toHaveLength(0);
    expect(filter.apply('send', heartbeat(1, 2, 2), deliver)).toBe('drop');
  });
});
