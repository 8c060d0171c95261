import { describe, expect, it } from 'vitest';
import { check, describeOp, showTime } from '../../../main/cluster/checker/porcupine';
import { cas, del, get, history, put } from './helpers';

const ids = (ops: { id: number }[]): number[] => ops.map((op) => op.id).sort((a, b) => a - b);

describe('check: linearizable histories', () => {
  it('accepts an empty history', () => {
    expect(check([])).toMatchObject({ result: 'ok', perKey: [] });
  });

  it('accepts a sequential history', () => {
    const h = history(
      get('a', 'x', null, [0, 1]),
      put('a', 'x', '1', [2, 3]),
      get('b', 'x', '1', [4, 5]),
      del('b', 'x', [6, 7]),
      get('a', 'x', null, [8, 9]),
    );
    const r = check(h);
    expect(r.result).toBe('ok');
    expect(r.perKey).toMatchObject([{ key: 'x', result: 'ok', operations: 5, dropped: 0 }]);
    expect(r.failure).toBeUndefined();
  });

  it('accepts a get overlapping a put that sees the new value', () => {
    const h = history(put('a', 'x', '1', [0, 10]), get('b', 'x', '1', [5, 6]));
    expect(check(h).result).toBe('ok');
  });

  it('accepts a get overlapping a put that sees the old value', () => {
    const h = history(put('a', 'x', '1', [0, 10]), get('b', 'x', null, [5, 6]));
    expect(check(h).result).toBe('ok');
  });

  it('accepts overlapping puts read in either order', () => {
    const h = history(
      put('a', 'x', '1', [0, 10]),
      put('b', 'x', '2', [1, 9]),
      get('c', 'x', '1', [11, 12]),
    );
    expect(check(h).result).toBe('ok');
    const h2 = history(
      put('a', 'x', '1', [0, 10]),
      put('b', 'x', '2', [1, 9]),
      get('c', 'x', '2', [11, 12]),
    );
    expect(check(h2).result).toBe('ok');
  });

  it('accepts operations of zero duration', () => {
    const h = history(put('a', 'x', '1', [5, 5]), get('b', 'x', '1', [6, 6]));
    expect(check(h).result).toBe('ok');
  });
});

describe('check: real-time order at equal timestamps', () => {
  it('treats operations that touch (complete === invoke) as concurrent', () => {
    // The get may have started before the put finished inside the same millisecond.
    const h = history(put('a', 'x', '1', [0, 10]), get('b', 'x', null, [10, 20]));
    expect(check(h).result).toBe('ok');
  });

  it('orders operations separated by a tick', () => {
    const h = history(put('a', 'x', '1', [0, 10]), get('b', 'x', null, [11, 20]));
    expect(check(h).result).toBe('not-linearizable');
  });
});

describe('check: violations', () => {
  it('rejects a stale read, with the read and the put in the window', () => {
    const h = history(
      put('a', 'x', '1', [0, 10]),
      put('a', 'x', '2', [20, 30]),
      get('b', 'x', '1', [40, 50]),
    );
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    const f = r.failure!;
    expect(f.key).toBe('x');
    expect(ids(f.window)).toEqual([0, 1, 2]);
    expect(ids(f.pending)).toEqual([2]);
    expect(f.state).toBe('2');
    expect(f.deadline).toBe(50);
    expect(f.linearizedCount).toBe(2);
    expect(f.explanation).toContain('#2 get read "1"');
    expect(f.explanation).toContain('the value was "2"');
    expect(f.explanation).toContain('#0 put "1"');
  });

  it('rejects a lost write: acknowledged, never read, no other writer', () => {
    const h = history(
      put('a', 'x', 'v', [0, 10]),
      get('b', 'x', null, [20, 30]),
      get('c', 'x', null, [40, 50]),
    );
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    expect(ids(r.failure!.window)).toEqual([0, 1]);
    expect(r.failure!.explanation).toContain('no operation invoked by then leaves nothing');
  });

  it('rejects a read of a failed write', () => {
    const h = history(put('a', 'x', 'v', [0, 10], 'fail'), get('b', 'x', 'v', [20, 30]));
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    expect(r.perKey[0]).toMatchObject({ operations: 1, dropped: 1 });
    expect(r.failure!.window.map((op) => op.id)).toEqual([1]);
  });

  it('rejects a value that appears, disappears and comes back with no writer', () => {
    const h = history(
      put('a', 'x', '1', [0, 1]),
      put('a', 'x', '2', [2, 3]),
      get('b', 'x', '1', [4, 5]),
    );
    expect(check(h).result).toBe('not-linearizable');
  });

  it('reports a violation on one key with that key, and the other key as ok', () => {
    const h = history(
      put('a', 'a', '1', [0, 10]),
      get('b', 'a', '1', [20, 30]),
      put('a', 'b', '1', [0, 10]),
      get('b', 'b', null, [20, 30]),
    );
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    expect(r.failure!.key).toBe('b');
    expect(r.failure!.window.every((op) => op.key === 'b')).toBe(true);
    expect(r.perKey.map((k) => [k.key, k.result])).toEqual([
      ['a', 'ok'],
      ['b', 'not-linearizable'],
    ]);
  });

  it('reports the failure with the earliest deadline when several keys fail', () => {
    const h = history(
      put('a', 'late', '1', [0, 10]),
      get('b', 'late', null, [100, 110]),
      put('a', 'early', '1', [0, 10]),
      get('b', 'early', null, [20, 30]),
    );
    const r = check(h);
    expect(r.perKey.every((k) => k.result === 'not-linearizable')).toBe(true);
    expect(r.failure!.key).toBe('early');
  });

  it('keeps the window within maxWindow, the blocking operation first among the pending', () => {
    const drafts = [put('w', 'x', 'v', [0, 1])];
    for (let i = 0; i < 30; i++) drafts.push(get(`r${i}`, 'x', 'v', [2, 100]));
    for (let i = 0; i < 30; i++) drafts.push(get(`s${i}`, 'x', `never${i}`, [3, 200]));
    drafts.push(get('t', 'x', 'never', [50, 60]));
    const r = check(history(...drafts), { maxWindow: 20 });
    expect(r.result).toBe('not-linearizable');
    const f = r.failure!;
    expect(f.window.length).toBe(20);
    expect(f.pending.length).toBe(12);
    expect(f.pending[0].id).toBe(61);
    expect(f.window.map((op) => op.id)).toContain(0);
    expect(f.explanation).toContain('(and 19 more)');
  });
});

describe('check: unknown outcomes', () => {
  it('accepts an unknown write that later reads see', () => {
    const h = history(put('a', 'x', 'v', [0, 10], 'unknown'), get('b', 'x', 'v', [20, 30]));
    expect(check(h).result).toBe('ok');
  });

  it('accepts an unknown write that later reads do not see', () => {
    const h = history(put('a', 'x', 'v', [0, 10], 'unknown'), get('b', 'x', null, [20, 30]));
    expect(check(h).result).toBe('ok');
  });

  it('accepts an unknown write that takes effect long after its client gave up', () => {
    const h = history(
      put('a', 'x', 'v', [0], 'unknown'),
      get('b', 'x', null, [20, 30]),
      get('b', 'x', 'v', [40, 50]),
    );
    expect(check(h).result).toBe('ok');
  });

  it('rejects an unknown write that is seen and then unseen with no other writer', () => {
    const h = history(
      put('a', 'x', 'v', [0, 10], 'unknown'),
      get('b', 'x', 'v', [20, 30]),
      get('b', 'x', null, [40, 50]),
    );
    expect(check(h).result).toBe('not-linearizable');
  });

  it('drops unknown gets: they neither constrain nor change anything', () => {
    const h = history(put('a', 'x', 'v', [0, 10]), get('b', 'x', null, [20], 'unknown'));
    const r = check(h);
    expect(r.result).toBe('ok');
    expect(r.perKey[0]).toMatchObject({ operations: 1, dropped: 1 });
  });

  it('accepts an unknown cas either way', () => {
    const base = [put('a', 'x', '1', [0, 1]), cas('b', 'x', '1', '2', true, [2, 3], 'unknown')];
    expect(check(history(...base, get('c', 'x', '2', [10, 11]))).result).toBe('ok');
    expect(check(history(...base, get('c', 'x', '1', [10, 11]))).result).toBe('ok');
  });
});

describe('check: compare-and-set', () => {
  it('accepts a successful cas on an absent key (expected null)', () => {
    const h = history(cas('a', 'x', null, '1', true, [0, 1]), get('b', 'x', '1', [2, 3]));
    expect(check(h).result).toBe('ok');
  });

  it('accepts a failed cas that leaves the value unchanged', () => {
    const h = history(
      put('a', 'x', '1', [0, 1]),
      cas('b', 'x', '9', '2', false, [2, 3]),
      get('c', 'x', '1', [4, 5]),
    );
    expect(check(h).result).toBe('ok');
  });

  it('rejects a cas that claims success when the value did not match', () => {
    const h = history(put('a', 'x', '1', [0, 1]), cas('b', 'x', '9', '2', true, [2, 3]));
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    expect(r.failure!.explanation).toContain('so it would not have swapped');
  });

  it('rejects a cas that claims failure when the value matched', () => {
    const h = history(put('a', 'x', '1', [0, 1]), cas('b', 'x', '1', '2', false, [2, 3]));
    const r = check(h);
    expect(r.result).toBe('not-linearizable');
    expect(r.failure!.explanation).toContain('so it would have swapped');
  });

  it('rejects two successful cas from the same value when only one can win', () => {
    const h = history(
      put('a', 'x', '0', [0, 1]),
      cas('b', 'x', '0', '1', true, [2, 10]),
      cas('c', 'x', '0', '2', true, [3, 9]),
    );
    expect(check(h).result).toBe('not-linearizable');
  });

  it('accepts concurrent cas that chain', () => {
    const h = history(
      put('a', 'x', '0', [0, 1]),
      cas('b', 'x', '1', '2', true, [2, 10]),
      cas('c', 'x', '0', '1', true, [3, 9]),
      get('d', 'x', '2', [11, 12]),
    );
    expect(check(h).result).toBe('ok');
  });
});

describe('check: time bound', () => {
  it('answers unknown when the bound runs out', () => {
    // 30 concurrent writes of unknown outcome and a read of a value nobody wrote: refuting it
    // means trying every subset of the writes.
    const drafts = [];
    for (let i = 0; i < 30; i++) drafts.push(put(`c${i}`, 'x', String(i), [0], 'unknown'));
    drafts.push(get('r', 'x', 'never', [10, 20]));
    const start = performance.now();
    const r = check(history(...drafts), { timeoutMs: 20 });
    expect(r.result).toBe('unknown');
    expect(r.failure).toBeUndefined();
    expect(r.perKey[0].result).toBe('unknown');
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('still reports a violation on one key when another key runs out of time', () => {
    const drafts = [put('a', 'bad', '1', [0, 1]), get('b', 'bad', null, [2, 3])];
    for (let i = 0; i < 30; i++) drafts.push(put(`c${i}`, 'slow', String(i), [0], 'unknown'));
    drafts.push(get('r', 'slow', 'never', [10, 20]));
    const r = check(history(...drafts), { timeoutMs: 50 });
    expect(r.result).toBe('not-linearizable');
    expect(r.failure!.key).toBe('bad');
    expect(r.perKey.find((k) => k.key === 'slow')!.result).toBe('unknown');
  });
});

describe('times in explanations', () => {
  it('are written with at most one decimal, never as a raw float', () => {
    expect(showTime(22.18144000000001)).toBe('22.2');
    expect(showTime(50)).toBe('50');
    expect(showTime(undefined)).toBe('…');
    const line = describeOp({
      id: 2,
      client: 'b',
      op: 'get',
      key: 'k',
      invoke: 40.04999999999,
      complete: 22.18144000000001 + 30,
      outcome: 'ok',
      output: { value: '1' },
    });
    expect(line).toBe('#2 get read "1" by client b [40, 52.2]');
  });
});
