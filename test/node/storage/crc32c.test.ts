import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate } from '../../../main/node/storage/crc32c';

/** reference is the bit-at-a-time definition of CRC-32C, to check the sliced tables against. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (n: number, f: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => f(i));

describe('crc32c', () => {
  it('matches the standard check value crc32c("123456789") = 0xE3069283', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });

  it.each([
    ['empty input', new Uint8Array(0), 0x00000000],
    ['"a"', ascii('a'), 0xc1d04330],
    ['32 zero bytes (RFC 3720)', bytes(32, () => 0), 0x8a9136aa],
    ['32 0xFF bytes (RFC 3720)', bytes(32, () => 0xff), 0x62a8ab43],
    ['32 ascending bytes (RFC 3720)', bytes(32, (i) => i), 0x46dd794e],
    ['32 descending bytes (RFC 3720)', bytes(32, (i) => 31 - i), 0x113fdb5c],
    ['the quick brown fox', ascii('The quick brown fox jumps over the lazy dog'), 0x22620404],
  ])('matches the known vector for %s', (_name, data, want) => {
    expect(crc32c(data)).toBe(want);
  });

  it('agrees with the bitwise definition for lengths up to 100 and around the DataView threshold, at every alignment', () => {
    const data = bytes(4200, (i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (const len of [...Array(101).keys(), 1023, 1024, 1025, 1031, 4096]) {
        const slice = data.subarray(start, start + len);
        expect(crc32c(data, start, start + len)).toBe(reference(slice));
      }
    }
  });

  it('continues across chunks with crc32cUpdate', () => {
    const data = bytes(10_000, (i) => (i * 7919) & 0xff);
    const whole = crc32c(data);
    let c = 0;
    for (let i = 0; i < data.length; i += 333)
      c = crc32cUpdate(c, data, i, Math.min(data.length, i + 333));
    expect(c).toBe(whole);
    expect(whole).toBe(reference(data));
  });
});
