import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, KvState } from '../../../main/node/kv/kv-state';
import type { KvCommand } from '../../../main/node/kv/kv-state';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (clientId: string, seq: number, key: string, v: string): KvCommand => ({
  clientId,
  seq,
  cmd: { op: 'put', key, value: b(v) },
});

describe('KvState', () => {
  it('puts, gets, deletes and compare-and-sets', () => {
    const kv = new KvState();
    expect(kv.apply(1, put('c', 1, 'k', 'a'))).toEqual({ ok: true, prev: null });
    expect(kv.get('k')).toEqual(b('a'));
    expect(
      kv.apply(2, {
        clientId: 'c',
        seq: 2,
        cmd: { op: 'cas', key: 'k', expected: b('x'), value: b('z') },
      }),
    ).toEqual({
      ok: false,
      error: 'cas-mismatch',
      current: b('a'),
    });
    expect(
      kv.apply(3, {
        clientId: 'c',
        seq: 3,
        cmd: { op: 'cas', key: 'k', expected: b('a'), value: b('b') },
      }),
    ).toEqual({
      ok: true,
      prev: b('a'),
    });
    expect(
      kv.apply(4, {
        clientId: 'c',
        seq: 4,
        cmd: { op: 'cas', key: 'n', expected: null, value: b('1') },
      }).ok,
    ).toBe(true);
    expect(kv.apply(5, { clientId: 'c', seq: 5, cmd: { op: 'del', key: 'k' } })).toEqual({
      ok: true,
      prev: b('b'),
    });
    expect(kv.get('k')).toBeUndefined();
    expect(kv.size).toBe(1);
    expect(kv.bytes).toBe(2);
  });

  it('applies a retried write once and answers it with the first result', () => {
    const kv = new KvState();
    kv.apply(1, put('c', 1, 'k', 'a'));
    kv.apply(2, put('other', 1, 'k', 'b'));
    // The retry of c/1 arrives later: it must not overwrite b.
    expect(kv.apply(3, put('c', 1, 'k', 'a'))).toEqual({ ok: true, prev: null });
    expect(kv.get('k')).toEqual(b('b'));
    expect(kv.apply(4, put('c', 0, 'k', 'z'))).toMatchObject({ ok: false, error: 'stale-request' });
  });

  it('round-trips commands and snapshots, including the session table', () => {
    const kv = new KvState();
    for (let i = 1; i <= 50; i++) {
      const c = put(`c${i % 7}`, i, `key${i % 13}`, `v${i}`);
      expect(decodeCommand(encodeCommand(c))).toEqual(c);
      kv.apply(i, c);
    }
    const copy = KvState.restore(kv.snapshot());
    expect(copy.appliedIndex).toBe(50);
    expect([...copy.keys()].sort()).toEqual([...kv.keys()].sort());
    for (const k of kv.keys()) expect(copy.get(k)).toEqual(kv.get(k));
    expect(copy.bytes).toBe(kv.bytes);
    // A retry after restore is still recognised.
    expect(copy.apply(51, put('c1', 50, 'x', 'y'))).toEqual(kv.apply(51, put('c1', 50, 'x', 'y')));
    expect(copy.get('x')).toBeUndefined();
  });

  it('evicts the least recently active session deterministically', () => {
    const kv = new KvState(2);
    kv.apply(1, put('a', 1, 'k', '1'));
    kv.apply(2, put('b', 1, 'k', '2'));
    kv.apply(3, put('a', 2, 'k', '3'));
    kv.apply(4, put('c', 1, 'k', '4')); // evicts b, the least recently active
    expect(kv.apply(5, put('a', 2, 'k', 'no'))).toEqual({ ok: true, prev: b('2') });
    expect(kv.get('k')).toEqual(b('4'));
    expect(kv.apply(6, put('b', 1, 'k', 'again')).ok).toBe(true);
    expect(kv.get('k')).toEqual(b('again'));
  });

  it('refuses malformed command payloads', () => {
    expect(() => decodeCommand(new Uint8Array([0xc1]))).toThrow();
    expect(() => decodeCommand(encodeCommand(put('c', 1, 'k', 'v')).subarray(0, 5))).toThrow();
    expect(() => KvState.restore(new Uint8Array([1, 2, 3]))).toThrow(
      /malformed|decode|Insufficient|extra/i,
    );
  });
});
