import { encode } from '@msgpack/msgpack';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES } from '../../../main/node/transport/framing';
import {
  MAX_HELLO_BYTES,
  PROTOCOL_VERSION,
  checkHello,
  decodeChallengeReply,
  decodeProof,
  encodeChallenge,
  encodeErrorFrame,
  encodeHello,
  encodeProof,
} from '../../../main/node/transport/hello';
import {
  ACCEPTOR_LABEL,
  DIALER_LABEL,
  acceptorProof,
  dialerProof,
  newNonce,
  proofMatches,
  transcriptBytes,
  type Transcript,
} from '../../../main/node/transport/peer-auth';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const body = (frame: Buffer): Buffer => frame.subarray(FRAME_HEADER_BYTES);

/** The example of docs/protocol.md ("Handshake", "Example"). */
const SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const DIALER_NONCE = Buffer.alloc(32, 0xaa);
const ACCEPTOR_NONCE = Buffer.alloc(32, 0xbb);
const T: Transcript = {
  magic: 'RAFTDECK',
  version: 2,
  clusterId: 'c1',
  from: 1,
  to: 2,
  dialerNonce: DIALER_NONCE,
  acceptorNonce: ACCEPTOR_NONCE,
};

/** documented builds the transcript exactly as docs/protocol.md lays it out, byte by byte. */
function documented(label: string, t: Transcript): Buffer {
  const u64 = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  const cluster = Buffer.from(t.clusterId, 'utf8');
  const version = Buffer.alloc(4);
  version.writeUInt32BE(t.version);
  return Buffer.concat([
    Buffer.from(`${label}\0`, 'ascii'),
    Buffer.from(t.magic, 'ascii'),
    version,
    Buffer.of(cluster.length),
    cluster,
    u64(t.from),
    u64(t.to),
    t.dialerNonce,
    t.acceptorNonce,
  ]);
}

describe('handshake proofs', () => {
  it('cover the documented transcript, byte for byte, with HMAC-SHA256', () => {
    expect(transcriptBytes(ACCEPTOR_LABEL, T)).toEqual(documented('raftdeck peer v2 acceptor', T));
    expect(transcriptBytes(DIALER_LABEL, T)).toEqual(documented('raftdeck peer v2 dialer', T));
    const hmac = (label: string): string =>
      createHmac('sha256', SECRET).update(documented(label, T)).digest('hex');
    expect(hex(acceptorProof(SECRET, T))).toBe(hmac('raftdeck peer v2 acceptor'));
    expect(hex(dialerProof(SECRET, T))).toBe(hmac('raftdeck peer v2 dialer'));
    // The values printed in docs/protocol.md.
    expect(hex(acceptorProof(SECRET, T))).toBe(
      '2c3fba239e9883142ac92bba201ce773dde1c40c988b33019535119615e15f9d',
    );
    expect(hex(dialerProof(SECRET, T))).toBe(
      'af9a3d21c46eb90f593bf16fcb07745781ddfd514b10d7044a14043bab7fc30b',
    );
  });

  it('are domain-separated: a proof for one direction is never valid for the other', () => {
    expect(proofMatches(acceptorProof(SECRET, T), dialerProof(SECRET, T))).toBe(false);
    // The dialer cannot answer with the acceptor's own proof, even with the nonces swapped.
    const swapped = { ...T, dialerNonce: T.acceptorNonce, acceptorNonce: T.dialerNonce };
    expect(proofMatches(acceptorProof(SECRET, swapped), dialerProof(SECRET, T))).toBe(false);
  });

  it('change when any covered field, nonce or the secret changes', () => {
    const base = hex(dialerProof(SECRET, T));
    const variants: Transcript[] = [
      { ...T, magic: 'RAFTDECX' },
      { ...T, version: 3 },
      { ...T, clusterId: 'c2' },
      { ...T, from: 3 },
      { ...T, to: 3 },
      { ...T, dialerNonce: Buffer.alloc(32, 0xab) },
      { ...T, acceptorNonce: Buffer.alloc(32, 0xbc) },
    ];
    const seen = new Set([base]);
    for (const v of variants) seen.add(hex(dialerProof(SECRET, v)));
    const otherSecret = Buffer.from(SECRET);
    otherSecret[31] ^= 1;
    seen.add(hex(dialerProof(otherSecret, T)));
    expect(seen.size).toBe(variants.length + 2);
    // Field boundaries are unambiguous: moving a byte between cluster id and `from` changes it.
    expect(hex(transcriptBytes(DIALER_LABEL, { ...T, clusterId: 'c1\u0000' }))).not.toBe(
      hex(transcriptBytes(DIALER_LABEL, T)),
    );
  });

  it('proofMatches compares exactly and never throws on a wrong length', () => {
    const p = dialerProof(SECRET, T);
    expect(proofMatches(Buffer.from(p), p)).toBe(true);
    const flipped = Buffer.from(p);
    flipped[17] ^= 0x40;
    expect(proofMatches(flipped, p)).toBe(false);
    expect(proofMatches(p.subarray(0, 31), p)).toBe(false);
    expect(proofMatches(new Uint8Array(0), p)).toBe(false);
  });

  it('nonces are fresh: no two of 1000 are equal', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(hex(newNonce()));
    expect(seen.size).toBe(1000);
  });
});

describe('handshake frames', () => {
  const expectation = { clusterId: 'c1', self: 2 };

  it('encode the documented example bytes', () => {
    expect(hex(encodeHello({ clusterId: 'c1', from: 1, to: 2, nonce: DIALER_NONCE }))).toBe(
      '00000058' +
        '86' +
        'a56d61676963a8524146544445434b' +
        'a776657273696f6e02' +
        'a9636c75737465724964a26331' +
        'a466726f6d01' +
        'a2746f02' +
        'a56e6f6e6365c420' +
        'aa'.repeat(32),
    );
    const challenge = encodeChallenge({
      nonce: ACCEPTOR_NONCE,
      proof: acceptorProof(SECRET, T),
    });
    expect(hex(challenge)).toBe(
      '00000051' +
        '82' +
        'a56e6f6e6365c420' +
        'bb'.repeat(32) +
        'a570726f6f66c420' +
        '2c3fba239e9883142ac92bba201ce773dde1c40c988b33019535119615e15f9d',
    );
    expect(hex(encodeProof(dialerProof(SECRET, T)))).toBe(
      '00000029' +
        '81' +
        'a570726f6f66c420' +
        'af9a3d21c46eb90f593bf16fcb07745781ddfd514b10d7044a14043bab7fc30b',
    );
  });

  it('checkHello accepts a version 2 hello and returns its nonce', () => {
    const h = checkHello(
      body(encodeHello({ clusterId: 'c1', from: 1, to: 2, nonce: DIALER_NONCE })),
      expectation,
    );
    expect(h).toEqual({
      magic: 'RAFTDECK',
      version: PROTOCOL_VERSION,
      clusterId: 'c1',
      from: 1,
      to: 2,
      nonce: DIALER_NONCE,
    });
  });

  it('checkHello answers a version 1 hello with version-mismatch', () => {
    const v1 = encode({ magic: 'RAFTDECK', version: 1, clusterId: 'c1', from: 1, to: 2 });
    const r = checkHello(v1, expectation);
    expect(r).toMatchObject({ error: 'version-mismatch' });
    expect((r as { detail: string }).detail).toContain('version 2, the peer sent 1');
  });

  it('checkHello refuses a missing or short nonce as bad-hello', () => {
    const h = { magic: 'RAFTDECK', version: 2, clusterId: 'c1', from: 1, to: 2 };
    expect(checkHello(encode(h), expectation)).toMatchObject({ error: 'bad-hello' });
    expect(checkHello(encode({ ...h, nonce: new Uint8Array(31) }), expectation)).toMatchObject({
      error: 'bad-hello',
    });
    expect(checkHello(encode({ ...h, nonce: 'x'.repeat(32) }), expectation)).toMatchObject({
      error: 'bad-hello',
    });
  });

  it('a cluster-id-mismatch never names the acceptor cluster id', () => {
    const secretName = 'raftdeck-0d15ea5e';
    const r = checkHello(
      body(encodeHello({ clusterId: 'guess', from: 1, to: 2, nonce: newNonce() })),
      { clusterId: secretName, self: 2 },
    );
    expect(r).toMatchObject({ error: 'cluster-id-mismatch' });
    expect(JSON.stringify(r)).not.toContain(secretName);
    expect(JSON.stringify(r)).not.toContain('0d15ea5e');
  });

  it('checks in the documented order: wrong node, own id', () => {
    const nonce = newNonce();
    expect(
      checkHello(body(encodeHello({ clusterId: 'c1', from: 1, to: 3, nonce })), expectation),
    ).toMatchObject({ error: 'wrong-node' });
    expect(
      checkHello(body(encodeHello({ clusterId: 'c1', from: 2, to: 2, nonce })), expectation),
    ).toMatchObject({ error: 'bad-hello' });
    // Magic before version, version before the other fields.
    expect(checkHello(encode({ magic: 'X', version: 9 }), expectation)).toMatchObject({
      error: 'bad-magic',
    });
    expect(checkHello(encode({ magic: 'RAFTDECK', version: 9 }), expectation)).toMatchObject({
      error: 'version-mismatch',
    });
  });

  it('decodeChallengeReply tells a challenge, an error frame and anything else apart', () => {
    const c = decodeChallengeReply(body(encodeChallenge({ nonce: ACCEPTOR_NONCE, proof: SECRET })));
    expect(c).toEqual({ nonce: ACCEPTOR_NONCE, proof: SECRET });
    expect(
      decodeChallengeReply(body(encodeErrorFrame({ error: 'auth-failed', detail: 'no' }))),
    ).toEqual({
      error: 'auth-failed',
      detail: 'no',
    });
    expect(typeof decodeChallengeReply(encode({ nonce: ACCEPTOR_NONCE }))).toBe('string');
    expect(typeof decodeChallengeReply(encode([1, 2, 3]))).toBe('string');
  });

  it('decodeProof wants exactly one 32-byte bin', () => {
    expect(hex(decodeProof(body(encodeProof(SECRET))) as Uint8Array)).toBe(hex(SECRET));
    expect(typeof decodeProof(encode({ proof: new Uint8Array(16) }))).toBe('string');
    expect(typeof decodeProof(encode({}))).toBe('string');
  });

  it('every handshake frame fits MAX_HELLO_BYTES', () => {
    const long = 'x'.repeat(128);
    const frames = [
      encodeHello({ clusterId: long, from: 2 ** 53 - 1, to: 2 ** 53 - 1, nonce: DIALER_NONCE }),
      encodeChallenge({ nonce: ACCEPTOR_NONCE, proof: SECRET }),
      encodeProof(SECRET),
      encodeErrorFrame({ error: 'cluster-id-mismatch', detail: 'd'.repeat(1000) }),
    ];
    for (const f of frames)
      expect(f.length - FRAME_HEADER_BYTES).toBeLessThanOrEqual(MAX_HELLO_BYTES);
  });
});
