// The lab's key-value state machine: the real node's outcomes, at-most-once sessions, its
// snapshot image, and leaving the simulator's own payloads alone.
import { describe, expect, it } from 'vitest';
import {
  decodeLabCommand,
  encodeLabCommand,
  LabKv,
  type LabKvCommand,
} from '../../main/lab/lab-kv';
import { decodeSnapshot, encodeSnapshot, snapshotKv } from '../../main/lab/lab-cluster';
import type { Entry } from '../../main/raft/types';

let index = 0;
const entry = (c: LabKvCommand): Entry => ({
  index: ++index,
  term: 1,
  type: 'normal',
  data: encodeLabCommand(c),
});

describe('LabKv', () => {
  it('answers put, del and cas as the real store does', () => {
    const kv = new LabKv();
    expect(
      kv.apply(entry({ client: 'a', seq: 1, cmd: { op: 'put', key: 'k', value: '1' } })),
    ).toEqual({ ok: true, prev: null });
    expect(
      kv.apply(entry({ client: 'a', seq: 2, cmd: { op: 'put', key: 'k', value: '2' } })),
    ).toEqual({ ok: true, prev: '1' });
    expect(
      kv.apply(
        entry({ client: 'a', seq: 3, cmd: { op: 'cas', key: 'k', expected: '1', value: '3' } }),
      ),
    ).toEqual({ ok: false, error: 'cas-mismatch', current: '2' });
    expect(kv.get('k')).toBe('2');
    expect(
      kv.apply(
        entry({ client: 'a', seq: 4, cmd: { op: 'cas', key: 'n', expected: null, value: 'x' } }),
      ),
    ).toEqual({ ok: true, prev: null });
    expect(kv.apply(entry({ client: 'a', seq: 5, cmd: { op: 'del', key: 'k' } }))).toEqual({
      ok: true,
      prev: '2',
    });
    expect(kv.get('k')).toBeNull();
    expect([...kv.map]).toEqual([['n', 'x']]);
  });

  it('applies a retried command once and answers it with its first result', () => {
    const kv = new LabKv();
    const put = { client: 'c', seq: 7, cmd: { op: 'put' as const, key: 'k', value: 'v' } };
    expect(kv.apply(entry(put))).toEqual({ ok: true, prev: null });
    kv.apply(entry({ client: 'd', seq: 1, cmd: { op: 'put', key: 'k', value: 'w' } }));
    expect(kv.apply(entry(put))).toEqual({ ok: true, prev: null });
    expect(kv.get('k')).toBe('w');
  });

  it('leaves the simulator’s text payloads and no-ops alone', () => {
    const kv = new LabKv();
    const text = new TextEncoder().encode('put k v');
    expect(kv.apply({ index: 1, term: 1, type: 'normal', data: text })).toBeUndefined();
    expect(
      kv.apply({ index: 2, term: 1, type: 'normal', data: new Uint8Array(0) }),
    ).toBeUndefined();
    expect(decodeLabCommand(text)).toBeUndefined();
    expect(kv.map.size).toBe(0);
    expect(kv.image()).toEqual(new Uint8Array(0));
  });

  it('travels in a snapshot image, after the hash and filler, which stay as they were', () => {
    const kv = new LabKv();
    kv.apply(entry({ client: 'a', seq: 1, cmd: { op: 'put', key: 'k', value: 'é' } }));
    const sm = { index: 9, hash: 1234 };
    const plain = encodeSnapshot(sm, 5);
    const withKv = encodeSnapshot(sm, 5, kv.image());
    expect(withKv.subarray(0, plain.length)).toEqual(plain);
    expect(decodeSnapshot(withKv)).toEqual(sm);
    const back = snapshotKv(withKv);
    expect([...back.map]).toEqual([['k', 'é']]);
    // The sessions travel too: the retried command is not applied again after a restore.
    expect(
      back.apply(entry({ client: 'a', seq: 1, cmd: { op: 'put', key: 'k', value: 'é' } })),
    ).toEqual({
      ok: true,
      prev: null,
    });
    expect(snapshotKv(plain).map.size).toBe(0);
  });
});
