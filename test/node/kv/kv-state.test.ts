import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../main/raft/rng';
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

  it('writes a snapshot in steps while commands go on being applied, as of the index it started at', () => {
    for (const seed of [1, 2]) {
      const rnd = seededRng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      // Short, multi-byte and long keys; values across the bin 8/16/32 size classes.
      const keys = [
        ...Array.from({ length: 40 }, (_, i) => `k${i}`),
        'ключ-ü-🔑',
        'x'.repeat(90),
        'é'.repeat(200),
      ];
      const value = (): Uint8Array => {
        const n = rnd() < 0.03 ? 70_000 : pick([0, 3, 200, 300]);
        return new Uint8Array(n).fill(Math.floor(rnd() * 256));
      };
      const kv = new KvState();
      let index = 0;
      const step = (): void => {
        index++;
        const key = pick(keys);
        const r = rnd();
        const cmd: KvCommand['cmd'] =
          r < 0.55
            ? { op: 'put', key, value: value() }
            : r < 0.85
              ? { op: 'del', key }
              : { op: 'cas', key, expected: kv.get(key) ?? null, value: value() };
        kv.apply(index, { clientId: `c${index % 5}`, seq: index, cmd });
      };
      for (let i = 0; i < 300; i++) step();
      // The state at the start, read through the public API.
      const pairs: unknown[] = [];
      for (const k of kv.keys()) pairs.push(k, kv.get(k));
      const sessions = (decode(kv.snapshot()) as unknown[])[3];
      const job = kv.startSnapshot();
      expect(job.index).toBe(index);
      let image: Uint8Array | undefined;
      let steps = 0;
      while (!(image = job.step(3))) {
        steps++;
        for (let i = 0; i < 7; i++) step();
      }
      expect(steps).toBeGreaterThan(5);
      expect(index).toBeGreaterThan(job.index + 35);
      // Exactly the state at the start, whatever was put, deleted or re-added meanwhile.
      expect(decode(image), `seed ${seed}`).toEqual([1, job.index, pairs, sessions]);
      const copy = KvState.restore(image);
      expect(copy.appliedIndex).toBe(job.index);
      // The live state kept every change, and a new job sees them.
      const now: unknown[] = [];
      for (const k of kv.keys()) now.push(k, kv.get(k));
      expect((decode(kv.snapshot()) as unknown[]).slice(0, 3)).toEqual([1, index, now]);
    }
  });

  it('a restored state answers, changes and snapshots as the state it was taken from', () => {
    for (const seed of [3, 4, 5]) {
      const rnd = seededRng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const keys = [
        ...Array.from({ length: 60 }, (_, i) => `k${i}`),
        'ключ-ü-🔑',
        'x'.repeat(90),
        'é'.repeat(200),
      ];
      const value = (): Uint8Array => {
        const n = rnd() < 0.005 ? 70_000 : pick([0, 3, 200, 300]);
        return new Uint8Array(n).fill(Math.floor(rnd() * 256));
      };
      let index = 0;
      const command = (kv: KvState): KvCommand => {
        index++;
        const key = pick(keys);
        const r = rnd();
        const cmd: KvCommand['cmd'] =
          r < 0.55
            ? { op: 'put', key, value: value() }
            : r < 0.85
              ? { op: 'del', key }
              : {
                  op: 'cas',
                  key,
                  expected: rnd() < 0.7 ? (kv.get(key) ?? null) : b('?'),
                  value: value(),
                };
        return { clientId: `c${index % 5}`, seq: index, cmd };
      };
      const kv = new KvState();
      for (let i = 0; i < 400; i++) kv.apply(index + 1, command(kv));
      const copy = KvState.restore(kv.snapshot());
      const same = (): void => {
        expect(copy.size, `seed ${seed}`).toBe(kv.size);
        expect(copy.bytes).toBe(kv.bytes);
        expect([...copy.keys()].sort()).toEqual([...kv.keys()].sort());
        for (const k of keys) expect(copy.get(k)).toEqual(kv.get(k));
      };
      same();
      const asMap = (image: Uint8Array): Map<string, Uint8Array> => {
        const v = decode(image) as unknown[];
        const pairs = v[2] as unknown[];
        const m = new Map<string, Uint8Array>();
        for (let i = 0; i < pairs.length; i += 2)
          m.set(pairs[i] as string, pairs[i + 1] as Uint8Array);
        return m;
      };
      for (let round = 0; round < 4; round++) {
        // A snapshot of the copy in steps, with commands applied to both between the steps.
        const want = asMap(kv.snapshot());
        const job = copy.startSnapshot();
        let image: Uint8Array | undefined;
        while (!(image = job.step(5))) {
          for (let i = 0; i < 3; i++) {
            const c = command(kv);
            expect(copy.apply(index, c)).toEqual(kv.apply(index, c));
          }
        }
        expect(asMap(image)).toEqual(want);
        expect((decode(image) as unknown[])[1]).toBe(job.index);
        same();
        // And the image restores to the state as of its index.
        const again = KvState.restore(image);
        expect(again.size).toBe(want.size);
        for (const [k, v] of want) expect(again.get(k)).toEqual(v);
      }
      // Deleting every key empties it, whichever part of the state held it.
      for (const k of keys) {
        const c: KvCommand = { clientId: 'z', seq: ++index, cmd: { op: 'del', key: k } };
        expect(copy.apply(index, c)).toEqual(kv.apply(index, c));
      }
      expect(copy.size).toBe(0);
      expect(copy.bytes).toBe(0);
      expect([...copy.keys()]).toEqual([]);
    }
  });

  it('decodes every command shape it encodes, and rejects truncated or padded payloads', () => {
    const rnd = seededRng(9);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const bytes = (n: number): Uint8Array => new Uint8Array(n).map(() => Math.floor(rnd() * 256));
    const strs = [
      '',
      'k',
      'ключ',
      '🔑x',
      'a'.repeat(31),
      'b'.repeat(32),
      'é'.repeat(200),
      'c'.repeat(70_000),
    ];
    const seqs = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    for (let i = 0; i < 150; i++) {
      const key = pick(strs);
      const r = rnd();
      const cmd: KvCommand['cmd'] =
        r < 0.4
          ? { op: 'put', key, value: bytes(pick([0, 5, 255, 256, 300])) }
          : r < 0.6
            ? { op: 'del', key }
            : {
                op: 'cas',
                key,
                value: bytes(pick([0, 9])),
                expected: rnd() < 0.5 ? null : bytes(pick([0, 3, 300, 70_000])),
              };
      const c: KvCommand = {
        clientId: pick(['c1', 'client-2', 'ü', 'd'.repeat(40)]),
        seq: pick(seqs),
        cmd,
      };
      const data = encodeCommand(c);
      expect(decodeCommand(data)).toEqual(c);
      if (i % 20 === 0) {
        for (let cut = 0; cut < data.length; cut += Math.max(1, Math.floor(data.length / 7)))
          expect(() => decodeCommand(data.subarray(0, cut))).toThrow();
        const padded = new Uint8Array(data.length + 1);
        padded.set(data);
        expect(() => decodeCommand(padded)).toThrow();
      }
    }
  });

  it('decodes commands that are views into one shared buffer, as replayed from a WAL segment', () => {
    const cmds: KvCommand[] = ['alpha', 'ключ', 'z'.repeat(40)].map((key, i) => ({
      clientId: i === 1 ? 'other' : 'c1',
      seq: 2 ** 40 + i,
      cmd: { op: 'put', key, value: new Uint8Array([i, i + 1, i + 2]) },
    }));
    const parts = cmds.map(encodeCommand);
    const segment = new Uint8Array(7 + parts.reduce((n, p) => n + p.length + 3, 0));
    const views: Uint8Array[] = [];
    let at = 7;
    for (const p of parts) {
      segment.set(p, at);
      views.push(segment.subarray(at, at + p.length));
      at += p.length + 3;
    }
    // Interleave another buffer so the reader switches between backing buffers.
    const alone = encodeCommand({ clientId: 'c1', seq: 5, cmd: { op: 'del', key: 'solo' } });
    for (const [i, v] of views.entries()) {
      expect(decodeCommand(v)).toEqual(cmds[i]);
      expect(decodeCommand(alone)).toEqual({
        clientId: 'c1',
        seq: 5,
        cmd: { op: 'del', key: 'solo' },
      });
    }
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

  it('keeps the session order when one client applies several commands in a row', () => {
    const kv = new KvState(2);
    kv.apply(1, put('a', 1, 'k', '1'));
    kv.apply(2, put('b', 1, 'k', '2'));
    kv.apply(3, put('b', 2, 'k', '3')); // b again, already the newest
    kv.apply(4, put('a', 2, 'k', '4')); // a becomes the newest
    kv.apply(5, put('a', 3, 'k', '5'));
    kv.apply(6, put('c', 1, 'k', '6')); // evicts b, the least recently active
    expect(kv.apply(7, put('a', 3, 'k', 'no'))).toEqual({ ok: true, prev: b('4') });
    expect(kv.apply(8, put('b', 2, 'k', 'yes')).ok).toBe(true);
    expect(kv.get('k')).toEqual(b('yes'));
    // The retry of b/2 was applied anew: its session had been evicted.
    const copy = KvState.restore(kv.snapshot());
    expect(copy.apply(9, put('b', 2, 'k', 'z'))).toEqual({ ok: true, prev: b('6') });
  });

  it('refuses malformed command payloads', () => {
    expect(() => decodeCommand(new Uint8Array([0xc1]))).toThrow();
    expect(() => decodeCommand(encodeCommand(put('c', 1, 'k', 'v')).subarray(0, 5))).toThrow();
    expect(() => KvState.restore(new Uint8Array([1, 2, 3]))).toThrow(
      /malformed|decode|Insufficient|extra/i,
    );
  });
});
