import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  MESSAGE_TYPE_CODES,
  MalformedMessageError,
  MessageCodec,
  UnknownMessageTypeError,
  decodeMessage,
  encodeMessage,
} from '../../../main/node/transport/codec';
import { MAX_RAFT_NUMBER, MESSAGE_TYPES, type Message } from '../../../main/raft/types';
import { META, bytes, entries, sampleMessages } from './helpers';

/** reject decodes `body` and returns the reason it was refused. */
function reject(body: Uint8Array, codec = new MessageCodec()): string {
  try {
    codec.decode(body);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedMessageError);
    return (e as MalformedMessageError).reason;
  }
  throw new Error('the body was accepted');
}

const CONF = [[1, 2, 3], [4], { '1': 'a:1' }];

describe('codec round trip', () => {
  it('covers every message type in the type code table', () => {
    const covered = new Set(sampleMessages().map((m) => m.type));
    expect([...covered].sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(Object.keys(MESSAGE_TYPE_CODES).sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(new Set(Object.values(MESSAGE_TYPE_CODES)).size).toBe(MESSAGE_TYPES.length);
  });

  for (const m of sampleMessages()) {
    it(`round-trips ${m.type}${m.type === 'app' ? ` with ${m.entries.length} entries` : ''}`, () => {
      const body = encodeMessage(m);
      const back = decodeMessage(body);
      expect(back).toEqual(m);
      expect(Object.keys(back).sort()).toEqual(Object.keys(m).sort());
    });
  }

  it('encodes binary payloads as msgpack bin, never str, and decodes them as Uint8Array', () => {
    const m: Message = {
      type: 'app',
      from: 1,
      to: 2,
      term: 3,
      prevIndex: 0,
      prevTerm: 0,
      entries: [{ index: 1, term: 3, type: 'normal', data: new TextEncoder().encode('hi') }],
      commit: 0,
    };
    const body = encodeMessage(m);
    // fixarray(8) 1 1 2 3 0 0 0 fixarray(4) 1 3 0 bin8(2) 'h' 'i'
    expect([...body]).toEqual([0x98, 1, 1, 2, 3, 0, 0, 0, 0x94, 1, 3, 0, 0xc4, 2, 0x68, 0x69]);
    const back = decodeMessage(body) as Extract<Message, { type: 'app' }>;
    expect(back.entries[0].data.constructor).toBe(Uint8Array);
  });

  it('accepts Buffer views and subarrays as entry data', () => {
    const arena = Buffer.from('0123456789abcdef');
    const m: Message = {
      type: 'app',
      from: 1,
      to: 2,
      term: 1,
      prevIndex: 4,
      prevTerm: 1,
      entries: [
        { index: 5, term: 1, type: 'normal', data: arena.subarray(2, 6) },
        {
          index: 6,
          term: 1,
          type: 'normal',
          data: new Uint8Array(arena.buffer, arena.byteOffset + 10, 3),
        },
      ],
      commit: 4,
    };
    const back = decodeMessage(encodeMessage(m)) as Extract<Message, { type: 'app' }>;
    expect(Buffer.from(back.entries[0].data).toString()).toBe('2345');
    expect(Buffer.from(back.entries[1].data).toString()).toBe('abc');
  });

  it('keeps a snapshot chunk with its full metadata', () => {
    const m: Message = {
      type: 'snap',
      from: 3,
      to: 1,
      term: 9,
      meta: META,
      offset: 1 << 20,
      total: (1 << 20) + 3,
      data: bytes(0, 255, 128),
      done: true,
    };
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('encodes a large payload correctly without growing the shared buffer for good', () => {
    const codec = new MessageCodec();
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const m: Message = {
      type: 'snap',
      from: 1,
      to: 2,
      term: 1,
      meta: META,
      offset: 0,
      total: big.length,
      data: big,
      done: true,
    };
    const frame = codec.encodeFrame(m);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    const back = codec.decode(frame.subarray(4)) as Extract<Message, { type: 'snap' }>;
    expect(back.data.length).toBe(big.length);
    expect(back.data[big.length - 1]).toBe(7);
    // The next small message still encodes correctly.
    const hb = sampleMessages().find((x) => x.type === 'heartbeat') as Message;
    expect(codec.decode(codec.encode(hb))).toEqual(hb);
  });

  it('sends a large snapshot chunk as parts that are the same frame, without copying the chunk', () => {
    const codec = new MessageCodec();
    for (const [size, done] of [
      [0x10000, false],
      [1_045_000, true],
      [3 << 20, false],
    ] as const) {
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 997) data[i] = i & 0xff;
      const m: Message = {
        type: 'snap',
        from: 1,
        to: 2,
        term: 7,
        meta: META,
        offset: 5 << 20,
        total: done ? (5 << 20) + size : 9 << 20,
        data,
        done,
      };
      const parts = codec.encodeOutFrame(m);
      expect(Array.isArray(parts)).toBe(true);
      const list = parts as readonly Uint8Array[];
      // The chunk is written from where it is: the same memory, not a copy.
      expect(list[1]).toBe(data);
      expect(Buffer.concat(list).equals(codec.encodeFrame(m))).toBe(true);
      // The chunk's bytes compared as one buffer: an element-wise deep equality of megabytes
      // takes tens of seconds; every other field is compared by toEqual.
      const back = codec.decode(Buffer.concat(list).subarray(4));
      expect(back.type === 'snap' && Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
      expect({ ...back, data: null }).toEqual({ ...m, data: null });
    }
    // Smaller chunks and other messages are one buffer, as encodeFrame makes it.
    const small: Message = {
      type: 'snap',
      from: 1,
      to: 2,
      term: 7,
      meta: META,
      offset: 0,
      total: 10,
      data: new Uint8Array(10).fill(3),
      done: true,
    };
    expect(codec.encodeOutFrame(small)).toEqual(codec.encodeFrame(small));
    const hb = sampleMessages().find((x) => x.type === 'heartbeat') as Message;
    expect(codec.encodeOutFrame(hb)).toEqual(codec.encodeFrame(hb));
  });

  it('encodeShared results are overwritten by the next encode; encode results are not', () => {
    const codec = new MessageCodec();
    const [a, b] = sampleMessages().filter((x) => x.type === 'vote' || x.type === 'vote-resp');
    const kept = codec.encode(a);
    const copy = [...kept];
    codec.encodeShared(b);
    expect([...kept]).toEqual(copy);
  });
});

describe('codec validation', () => {
  it('rejects a negative index', () => {
    expect(reject(encode([1, 1, 2, 3, -1, 0, 0, []]))).toBe(
      'app.prevIndex must be an integer in 0..2^52 (MAX_RAFT_NUMBER), got number -1',
    );
    expect(reject(encode([2, 1, 2, 3, -5, false, 0, 0]))).toMatch(/^app-resp.index must be/);
  });

  it('rejects a non-integer term', () => {
    expect(reject(encode([7, 1, 2, 1.5, 0, 0]))).toBe(
      'float at byte 4: every number in the protocol is an integer',
    );
    // An integral value sent as a float is refused too: integers use msgpack int formats.
    expect(reject(encode([7, 1, 2, 3, 0, 0], { forceIntegerToFloat: true }))).toMatch(/^float at/);
  });

  it('rejects an integer beyond the safe range', () => {
    // uint64 0xffffffffffffffff
    const body = bytes(0x96, 7, 1, 2, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0);
    expect(reject(body)).toMatch(/^heartbeat.term must be an integer in 0..2\^52/);
  });

  it('rejects every term, index, commit, hint and read tag above MAX_RAFT_NUMBER', () => {
    const big = MAX_RAFT_NUMBER + 1;
    const conf = [[1], [], {}];
    const cases: [unknown[], string][] = [
      [[7, 1, 2, 2 ** 53 - 1, 0, 0], 'heartbeat.term'],
      [[7, 1, 2, big, 0, 0], 'heartbeat.term'],
      [[7, 1, 2, 3, big, 0], 'heartbeat.commit'],
      [[1, 1, 2, 3, big, 0, 0, []], 'app.prevIndex'],
      [[1, 1, 2, 3, 0, 0, big, []], 'app.commit'],
      [[1, 1, 2, big, 0, big, 0, []], 'app.term'],
      [[2, 1, 2, 3, big, false, 0, 0], 'app-resp.index'],
      [[2, 1, 2, 3, 5, true, big, 0], 'app-resp.hintIndex'],
      [[2, 1, 2, 3, 5, true, 0, big], 'app-resp.hintTerm'],
      [[3, 1, 2, 3, big, 0, false], 'vote.lastIndex'],
      [[4, 1, 2, 3, 0, big, false], 'pre-vote.lastTerm'],
      [[9, 1, 2, 3, [big, 1, conf], 0, 0, new Uint8Array(0), true], 'snap.meta.index'],
      [[9, 1, 2, 3, [5, big, conf], 0, 0, new Uint8Array(0), true], 'snap.meta.term'],
      [[10, 1, 2, 3, big, 0, false, false], 'snap-resp.snapIndex'],
      [[12, 1, 2, 3, big], 'read-index.ctx'],
      [[13, 1, 2, 3, big, 0, false], 'read-index-resp.ctx'],
      [[13, 1, 2, 3, 0, big, false], 'read-index-resp.index'],
    ];
    for (const [wire, field] of cases) {
      expect(reject(encode(wire)), field).toBe(
        `${field} must be an integer in 0..2^52 (MAX_RAFT_NUMBER), got number ${wire.includes(2 ** 53 - 1) ? 2 ** 53 - 1 : big}`,
      );
    }
    // An entry index or term beyond it, inside an otherwise consistent batch.
    const entry = (index: number, term: number) => [index, term, 0, new Uint8Array(0)];
    expect(reject(encode([1, 1, 2, 3, MAX_RAFT_NUMBER, 1, 0, entry(big, 1)]))).toMatch(
      /^app.entries\[0\].index must be an integer in 0..2\^52/,
    );
    // MAX_RAFT_NUMBER itself is accepted everywhere.
    const m = decodeMessage(encode([7, 1, 2, MAX_RAFT_NUMBER, MAX_RAFT_NUMBER, 0]));
    expect(m).toMatchObject({ term: MAX_RAFT_NUMBER, commit: MAX_RAFT_NUMBER });
  });

  it('rejects a string where a number is expected', () => {
    expect(reject(encode([3, 1, 2, '4', 0, 0, false]))).toBe(
      'vote.term must be an integer in 0..2^52 (MAX_RAFT_NUMBER), got string "4"',
    );
    expect(reject(encode([12, 1, 2, 3, 'ctx']))).toMatch(/^read-index.ctx must be/);
  });

  it('rejects an unknown type code with its own error', () => {
    try {
      decodeMessage(encode([99, 1, 2, 3]));
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownMessageTypeError);
      expect((e as UnknownMessageTypeError).code).toBe(99);
    }
    expect(reject(encode([0, 1, 2, 3]))).toBe('unknown message type code 0');
    expect(reject(encode(['app', 1, 2, 3]))).toMatch(/^message type code must be/);
  });

  it('rejects an oversized entries array', () => {
    const codec = new MessageCodec({ maxEntries: 2 });
    const m: Message = {
      type: 'app',
      from: 1,
      to: 2,
      term: 3,
      prevIndex: 0,
      prevTerm: 0,
      entries: entries(0, 3),
      commit: 0,
    };
    expect(reject(encodeMessage(m), codec)).toBe(
      'app.entries has 3 entries, more than the limit of 2',
    );
    // An array header announcing more items than the limit is refused before anything is built.
    const header = bytes(0x98, 1, 1, 2, 3, 0, 0, 0, 0xdd, 0x00, 0x10, 0x00, 0x00);
    expect(reject(header)).toBe('array of 1048576 items at byte 8 exceeds the limit of 400000');
  });

  it('rejects entry data that is not binary', () => {
    expect(reject(encode([1, 1, 2, 3, 0, 0, 0, [1, 3, 0, 'abc']]))).toBe(
      'app.entries[0].data must be binary, got string "abc"',
    );
    expect(reject(encode([9, 1, 2, 3, [1, 1, CONF], 0, 3, [1, 2, 3], true]))).toBe(
      'snap.data must be binary, got array of 3 items',
    );
  });

  it('rejects a snapshot chunk running past the total', () => {
    expect(reject(encode([9, 1, 2, 3, [1, 1, CONF], 10, 12, bytes(1, 2, 3, 4, 5), false]))).toBe(
      'snap chunk [10, 15) runs past the snapshot total of 12 bytes',
    );
    expect(reject(encode([9, 1, 2, 3, [1, 1, CONF], 0, 12, bytes(1), true]))).toMatch(
      /is marked done but the snapshot has 12 bytes/,
    );
    expect(reject(encode([9, 1, 2, 3, [1, 1, CONF], 0, 2 ** 40, bytes(1), false]))).toBe(
      'snap.total of 1099511627776 bytes exceeds the 4294967295-byte limit of a snapshot',
    );
  });

  it('rejects entries with a bad type, gaps, or terms out of order', () => {
    const e = (index: number, term: number, type: number): unknown[] => [
      index,
      term,
      type,
      bytes(1),
    ];
    expect(reject(encode([1, 1, 2, 3, 0, 0, 0, e(1, 3, 2)]))).toBe(
      'app.entries[0].type must be 0 (normal) or 1 (conf), got number 2',
    );
    expect(reject(encode([1, 1, 2, 3, 5, 1, 0, [...e(6, 1, 0), ...e(8, 1, 0)]]))).toMatch(
      /^app.entries\[1\].index is 8, expected 7/,
    );
    expect(reject(encode([1, 1, 2, 3, 5, 2, 0, e(6, 1, 0)]))).toMatch(
      /^app.entries\[0\].term is 1/,
    );
    expect(reject(encode([1, 1, 2, 3, 5, 2, 0, e(6, 4, 0)]))).toMatch(/message term 3$/);
    expect(reject(encode([1, 1, 2, 3, 0, 0, 0, [1, 3, 0]]))).toBe(
      'app.entries must hold 4 items per entry, got 3 items',
    );
  });

  it('rejects booleans sent as numbers and the wrong number of fields', () => {
    expect(reject(encode([5, 1, 2, 3, 0]))).toBe(
      'vote-resp.reject must be a boolean, got number 0',
    );
    expect(reject(encode([5, 1, 2, 3]))).toBe('vote-resp must have 5 items, got 4');
    expect(reject(encode([5, 1, 2, 3, true, 0]))).toBe('vote-resp must have 5 items, got 6');
    expect(reject(encode([]))).toBe('message array is empty');
    expect(reject(encode({ type: 1 }))).toBe('message must be an array, got map');
  });

  it('rejects malformed snapshot metadata', () => {
    const snap = (meta: unknown): Uint8Array => encode([9, 1, 2, 3, meta, 0, 1, bytes(1), true]);
    expect(reject(snap([1, 1]))).toBe('snap.meta must have 3 items, got 2');
    expect(reject(snap([1, 1, [[1, -2], [], {}]]))).toMatch(/^snap.meta.conf.voters\[1\] must be/);
    expect(reject(snap([1, 1, [[1], 'x', {}]]))).toMatch(
      /^snap.meta.conf.learners must be an array/,
    );
    expect(reject(snap([1, 1, [[1], [], []]]))).toMatch(/^snap.meta.conf.addresses must be a map/);
    expect(reject(snap([1, 1, [[1], [], { x1: 'a' }]]))).toMatch(
      /key must be a node id in decimal/,
    );
    expect(reject(snap([1, 1, [[1], [], { '01': 'a' }]]))).toMatch(/key must be a node id/);
    expect(reject(snap([1, 1, [[1], [], { '1': 7 }]]))).toBe(
      'snap.meta.conf.addresses[1] must be a string, got number 7',
    );
    expect(reject(snap([1, 1, [[1], [], { '1': 'x'.repeat(300) }]]))).toMatch(
      /^str of 300 bytes at byte \d+ exceeds the limit of 256$/,
    );
    const many = Array.from({ length: 1025 }, (_, i) => i + 1);
    expect(reject(snap([1, 1, [many, [], {}]]))).toBe(
      'snap.meta.conf.voters has 1025 ids, more than the limit of 1024',
    );
    // Integer map keys are not node ids in decimal strings.
    const intKey = bytes(
      0x99,
      9,
      1,
      2,
      3,
      0x93,
      1,
      1,
      0x93,
      0x90,
      0x90,
      0x81,
      1,
      0xa1,
      0x61,
      0,
      1,
      0xc4,
      1,
      0,
      0xc3,
    );
    expect(reject(intKey)).toMatch(/map key must be a string, got number 1/);
  });

  it('rejects msgpack that is truncated, has trailing bytes, nil, or extension types', () => {
    const good = encodeMessage(sampleMessages()[3]);
    expect(reject(good.subarray(0, good.length - 1))).toBe(
      'array at byte 0 announces 8 items but only 7 bytes remain',
    );
    const app = encodeMessage(sampleMessages()[0]);
    expect(reject(app.subarray(0, app.length - 3))).toMatch(
      /^truncated: token at byte \d+ runs past/,
    );
    expect(reject(Buffer.concat([good, bytes(0)]))).toMatch(/^1 trailing byte/);
    expect(reject(bytes())).toMatch(/^truncated/);
    expect(reject(encode([11, 1, 2, null]))).toBe('nil at byte 4: the protocol has no nil values');
    expect(reject(encode([11, 1, 2, new Date(0)]))).toMatch(/^extension type at byte 4/);
    expect(reject(bytes(0x94, 11, 1, 2, 0xc1))).toMatch(/0xc1/);
  });

  it('refuses allocation bombs: deep nesting and arrays announcing more items than bytes', () => {
    // 40 nested array-32 headers each announcing 100000 items: ~200 bytes that would make the
    // decoder allocate 4 million slots.
    const bomb = Buffer.alloc(40 * 5);
    for (let i = 0; i < 40; i++) {
      bomb[i * 5] = 0xdd;
      bomb.writeUInt32BE(100_000, i * 5 + 1);
    }
    expect(reject(bomb)).toBe('array at byte 0 announces 100000 items but only 195 bytes remain');
    const deep = Buffer.alloc(20, 0x91);
    expect(reject(Buffer.concat([deep, bytes(1)]))).toBe('nesting deeper than 6 at byte 6');
    const hugeMap = bytes(0xdf, 0xff, 0xff, 0xff, 0xff);
    expect(reject(hugeMap)).toMatch(/^map of 4294967295 items at byte 0 exceeds the limit/);
    const hugeBin = bytes(0x94, 11, 1, 2, 0xc6, 0xff, 0xff, 0xff, 0xff);
    expect(reject(hugeBin)).toMatch(/^bin of 4294967295 bytes at byte 4 exceeds the limit/);
  });

  it('returns entry data as views of the body (no copies)', () => {
    const body = encodeMessage(sampleMessages()[0]);
    const m = decodeMessage(body) as Extract<Message, { type: 'app' }>;
    expect(m.entries[1].data.buffer).toBe(body.buffer);
  });
});
