/**
 * peer-auth holds the cryptography of the peer handshake (docs/protocol.md, "Handshake"): fresh
 * nonces, and the two HMAC-SHA256 proofs over one transcript that show a side knows the cluster's
 * peer secret. The acceptor's proof and the dialer's proof start with different labels, so a proof
 * made for one direction is never valid for the other.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../../raft/types';

/** PEER_SECRET_BYTES: the length of a cluster's peer secret. */
export const PEER_SECRET_BYTES = 32;

/** NONCE_BYTES: the length of each side's nonce. */
export const NONCE_BYTES = 32;

/** PROOF_BYTES: the length of a proof (an HMAC-SHA256 output). */
export const PROOF_BYTES = 32;

/**
 * ACCEPTOR_LABEL and DIALER_LABEL start the transcript of the acceptor's and the dialer's proof.
 * Each is written as its ASCII bytes followed by one 0x00 byte.
 */
export const ACCEPTOR_LABEL = 'raftdeck peer v2 acceptor';
export const DIALER_LABEL = 'raftdeck peer v2 dialer';

/** Transcript is what both proofs of one handshake cover, besides their label. */
export interface Transcript {
  magic: string;
  version: number;
  clusterId: string;
  from: NodeId;
  to: NodeId;
  /** dialerNonce: the nonce of the hello. */
  dialerNonce: Uint8Array;
  /** acceptorNonce: the nonce of the challenge. */
  acceptorNonce: Uint8Array;
}

/** newNonce returns NONCE_BYTES fresh random bytes. */
export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function u64(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a u64 node id`);
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}

/**
 * transcriptBytes lays out what a proof covers, in this order: the label's ASCII bytes and 0x00;
 * the magic's ASCII bytes; the version as a u32; the cluster id's UTF-8 byte length as a u8 and
 * its bytes; `from` and `to` as u64; the dialer's nonce; the acceptor's nonce. Integers are
 * big-endian.
 */
export function transcriptBytes(label: string, t: Transcript): Buffer {
  const cluster = Buffer.from(t.clusterId, 'utf8');
  if (cluster.length === 0 || cluster.length > 255) {
    throw new RangeError(`cluster id of ${cluster.length} bytes does not fit the transcript`);
  }
  if (t.dialerNonce.length !== NONCE_BYTES || t.acceptorNonce.length !== NONCE_BYTES) {
    throw new RangeError(`nonces must be ${NONCE_BYTES} bytes`);
  }
  const version = Buffer.alloc(4);
  version.writeUInt32BE(t.version, 0);
  return Buffer.concat([
    Buffer.from(label, 'ascii'),
    Buffer.of(0),
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

function mac(secret: Uint8Array, label: string, t: Transcript): Buffer {
  return createHmac('sha256', secret).update(transcriptBytes(label, t)).digest();
}

/** acceptorProof is the acceptor's proof: HMAC-SHA256(secret, ACCEPTOR_LABEL transcript). */
export function acceptorProof(secret: Uint8Array, t: Transcript): Buffer {
  return mac(secret, ACCEPTOR_LABEL, t);
}

/** dialerProof is the dialer's proof: HMAC-SHA256(secret, DIALER_LABEL transcript). */
export function dialerProof(secret: Uint8Array, t: Transcript): Buffer {
  return mac(secret, DIALER_LABEL, t);
}

/**
 * proofMatches compares a received proof with the expected one in constant time (the length is
 * public and checked first).
 */
export function proofMatches(received: Uint8Array, expected: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected);
}
