import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutcomeUnknownError } from '../../main/node/node-api';
import { done, failed, Waiters } from '../../main/node/waiters';

/** outcomeOf turns a wait into what it ended with, so that a rejection is never left unhandled. */
function outcomeOf<T>(p: Promise<T>): { current: string } {
  const r = { current: 'waiting' };
  p.then(
    (v) => (r.current = `value ${String(v)}`),
    (e: Error) => (r.current = `${e.name}: ${e.message}`),
  );
  return r;
}

const settleTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Waiters', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const writes = (): Waiters<number, string, number> =>
    new Waiters<number, string, number>(
      (index, _term, ms) =>
        new OutcomeUnknownError(`the write at index ${index} was not seen applied within ${ms} ms`),
    );

  it('a settled waiter leaves no timer and no entry behind', async () => {
    const w = writes();
    const a = w.wait(7, 1000, 2);
    expect(vi.getTimerCount()).toBe(1);
    expect(w.size).toBe(1);
    expect(w.settle(7, done('ok'))).toBe(1);
    expect(await a).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    expect(w.size).toBe(0);
    expect(w.has(7)).toBe(false);
    // Its timer is gone: nothing fires later, and settling again finds nobody.
    vi.advanceTimersByTime(5000);
    expect(w.settle(7, done('again'))).toBe(0);
  });

  it('failAll rejects every waiter with the one error and leaves no timer and no entry', async () => {
    const w = writes();
    const order: string[] = [];
    const ps = [3, 1, 2, 1].map((k, i) =>
      w.wait(k, 1000, 5).catch((e: Error) => {
        order.push(`${i}@${k}`);
        return e;
      }),
    );
    const stopped = new OutcomeUnknownError('node shut down with the request in flight');
    expect(w.failAll(stopped)).toBe(4);
    const errors = await Promise.all(ps);
    expect(errors.every((e) => e === stopped)).toBe(true);
    // Keys in the order they were first waited on, each key's waiters in the order they came.
    expect(order).toEqual(['0@3', '1@1', '3@1', '2@2']);
    expect(vi.getTimerCount()).toBe(0);
    expect(w.size).toBe(0);
    expect(w.failAll(stopped)).toBe(0);
  });

  it('times a waiter out with the registry error naming key and ms; the others wait on', async () => {
    const w = writes();
    const early = outcomeOf(w.wait(4, 300, 2));
    const late = outcomeOf(w.wait(4, 900, 3));
    vi.advanceTimersByTime(300);
    await settleTurn();
    expect(early.current).toBe(
      'OutcomeUnknownError: the write at index 4 was not seen applied within 300 ms',
    );
    expect(late.current).toBe('waiting');
    expect(w.size).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    expect(w.settle(4, (_, term) => (term === 3 ? done('late') : undefined))).toBe(1);
    await settleTurn();
    expect(late.current).toBe('value late');
    expect(vi.getTimerCount()).toBe(0);
    expect(w.size).toBe(0);
  });

  it('settle answers the waiters of one key in the order they came, each by its own data', async () => {
    const w = writes();
    const order: string[] = [];
    const track = (p: Promise<string>, name: string): Promise<void> =>
      p.then(
        (v) => void order.push(`${name}=${v}`),
        (e: Error) => void order.push(`${name}!${e.message}`),
      );
    const all = Promise.all([
      track(w.wait(9, 1000, 1), 'a'),
      track(w.wait(8, 1000, 2), 'other key'),
      track(w.wait(9, 1000, 2), 'b'),
      track(w.wait(9, 1000, 1), 'c'),
    ]);
    const n = w.settle(9, (key, term) =>
      term === 2 ? done(`applied ${key}`) : failed(new Error('overwritten')),
    );
    expect(n).toBe(3);
    w.settle(8, done('eight'));
    await all;
    expect(order).toEqual(['a!overwritten', 'b=applied 9', 'c!overwritten', 'other key=eight']);
    expect(vi.getTimerCount()).toBe(0);
    expect(w.size).toBe(0);
  });

  it('settleWhere settles only what it decides for, in the order the keys were first waited on', async () => {
    const w = new Waiters<number, string, { key: string; index: number | undefined }>(
      (_, r, ms) => new Error(`read of '${r.key}' timed out after ${ms} ms`),
    );
    const got: string[] = [];
    const reads = [5, 2, 9].map((tag) =>
      w.wait(tag, 1000, { key: `k${tag}`, index: undefined }).then((v) => void got.push(v)),
    );
    w.data(5)!.index = 3;
    w.data(2)!.index = 1;
    w.data(9)!.index = 8;
    const applied = 4;
    const n = w.settleWhere((_, r) =>
      r.index !== undefined && r.index <= applied ? done(r.key) : undefined,
    );
    expect(n).toBe(2);
    await Promise.all(reads.slice(0, 2));
    expect(got).toEqual(['k5', 'k2']);
    expect(w.size).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    await expect(reads[2]).rejects.toThrow("read of 'k9' timed out after 1000 ms");
    expect(w.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a key whose waiters all left goes to the back when a new one comes', async () => {
    const w = writes();
    const order: number[] = [];
    const a = w.wait(1, 1000, 0).catch(() => void order.push(1));
    const b = w.wait(2, 1000, 0).catch(() => void order.push(2));
    w.settle(1, done('x'));
    await a;
    const c = w.wait(1, 1000, 0).catch(() => void order.push(1));
    w.failAll(new Error('stopped'));
    await Promise.all([b, c]);
    expect(order).toEqual([2, 1]);
  });

  it('a wait of Infinity ms has no timer and waits until settled or failed', async () => {
    const w = writes();
    const p = outcomeOf(w.wait(1, Infinity, 0));
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1e9);
    await settleTurn();
    expect(p.current).toBe('waiting');
    w.failAll(new Error('node is shutting down'));
    await settleTurn();
    expect(p.current).toBe('Error: node is shutting down');
    expect(w.size).toBe(0);
  });
});
