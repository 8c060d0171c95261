/**
 * hello holds the frames of the connection handshake (docs/protocol.md, "Handshake"), in the
 * order they are sent:
 *   1. hello      dialer -> acceptor: magic, version, cluster id, from, to, the dialer's nonce;
 *   2. challenge  acceptor -> dialer: the acceptor's nonce and its proof of the peer secret;
 *   3. proof      dialer -> acceptor: the dialer's proof of the peer secret.
 * Either side may instead send one error frame and close. Every handshake frame is a msgpack map
 * of at most MAX_HELLO_BYTES; Raft messages follow only once both proofs were checked.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { NodeId } from '../../raft/types';
import { encodeFrame } from './framing';
import { checkMsgpackStructure } from './msgpack-guard';
import { NONCE_BYTES, PROOF_BYTES } from './peer-auth';

/** HELLO_MAGIC identifies the protocol. */
export const HELLO_MAGIC = 'RAFTDECK';

/**
 * PROTOCOL_VERSION of the node-to-node protocol described in docs/protocol.md. Version 2 added
 * the challenge and proof frames; a version 1 hello is answered with `version-mismatch`.
 */
export const PROTOCOL_VERSION = 2;

/** MAX_HELLO_BYTES bounds the body of every handshake frame and of the error frame. */
export const MAX_HELLO_BYTES = 1024;

/** MAX_CLUSTER_ID_BYTES bounds the cluster id. */
export const MAX_CLUSTER_ID_BYTES = 128;

const MAX_DETAIL_CHARS = 200;

/** Hello is the first frame on every connection, sent by the dialer. */
export interface Hello {
  magic: string;
  version: number;
  clusterId: string;
  from: NodeId;
  to: NodeId;
  /** nonce: NONCE_BYTES fresh random bytes of the dialer. */
  nonce: Uint8Array;
}

/** Challenge is the acceptor's answer to a hello it accepts. */
export interface Challenge {
  /** nonce: NONCE_BYTES fresh random bytes of the acceptor. */
  nonce: Uint8Array;
  /** proof: the acceptor's proof of the peer secret (peer-auth acceptorProof). */
  proof: Uint8Array;
}

/** HandshakeErrorCode names why a side refused the handshake. */
export type HandshakeErrorCode =
  | 'bad-hello'
  | 'bad-magic'
  | 'version-mismatch'
  | 'cluster-id-mismatch'
  | 'wrong-node'
  | 'auth-failed'
  | 'handshake-timeout';

/** ErrorFrame is the last frame of a refused connection: why it is about to be closed. */
export interface ErrorFrame {
  error: string;
  detail: string;
}

const GUARD_LIMITS = {
  maxDepth: 2,
  maxArrayLength: 16,
  maxMapLength: 16,
  maxStrLength: 256,
  maxBinLength: 256,
};

const encoder = new Encoder();
const decoder = new Decoder({
  maxStrLength: GUARD_LIMITS.maxStrLength,
  maxBinLength: GUARD_LIMITS.maxBinLength,
  maxArrayLength: GUARD_LIMITS.maxArrayLength,
  maxMapLength: GUARD_LIMITS.maxMapLength,
  maxExtLength: 0,
});

/** encodeHello returns the hello frame (length prefix included). */
export function encodeHello(h: Omit<Hello, 'magic' | 'version'>): Buffer {
  return encodeFrame(
    encoder.encode({
      magic: HELLO_MAGIC,
      version: PROTOCOL_VERSION,
      clusterId: h.clusterId,
      from: h.from,
      to: h.to,
      nonce: h.nonce,
    }),
  );
}

/** encodeChallenge returns the challenge frame (length prefix included). */
export function encodeChallenge(c: Challenge): Buffer {
  return encodeFrame(encoder.encode({ nonce: c.nonce, proof: c.proof }));
}

/** encodeProof returns the dialer's proof frame (length prefix included). */
export function encodeProof(proof: Uint8Array): Buffer {
  return encodeFrame(encoder.encode({ proof }));
}

/** encodeErrorFrame returns an error frame (length prefix included). */
export function encodeErrorFrame(e: ErrorFrame): Buffer {
  return encodeFrame(
    encoder.encode({ error: e.error, detail: e.detail.slice(0, MAX_DETAIL_CHARS) }),
  );
}

function decodeMap(body: Uint8Array): Record<string, unknown> | string {
  const problem = checkMsgpackStructure(body, GUARD_LIMITS);
  if (problem !== undefined) return problem;
  let v: unknown;
  try {
    v = decoder.decode(body);
  } catch (e) {
    return `msgpack: ${(e as Error).message}`;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    return 'not a map';
  }
  return v as Record<string, unknown>;
}

function isNodeId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isBin(v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === length;
}

/** HelloExpectation is what an acceptor requires of a hello. */
export interface HelloExpectation {
  clusterId: string;
  self: NodeId;
}

/**
 * checkHello decodes and checks a hello body. It returns the hello or the error frame to answer
 * with. The checks run in the order of docs/protocol.md: the body, magic, version, the fields,
 * the cluster id, `to`, `from`. Magic and version come first, so that a peer speaking another
 * version is told so even if the rest of its hello differs. A refusal never names this node's
 * own cluster id.
 */
export function checkHello(body: Uint8Array, expect: HelloExpectation): Hello | ErrorFrame {
  const m = decodeMap(body);
  if (typeof m === 'string') return { error: 'bad-hello', detail: m };
  if (m.magic !== HELLO_MAGIC) {
    return { error: 'bad-magic', detail: `expected magic ${HELLO_MAGIC}` };
  }
  if (m.version !== PROTOCOL_VERSION) {
    return {
      error: 'version-mismatch',
      detail: `this node speaks protocol version ${PROTOCOL_VERSION}, the peer sent ${typeof m.version === 'number' ? m.version : typeof m.version}`,
    };
  }
  const { clusterId, from, to, nonce } = m;
  if (
    typeof clusterId !== 'string' ||
    clusterId.length === 0 ||
    Buffer.byteLength(clusterId) > MAX_CLUSTER_ID_BYTES
  ) {
    return {
      error: 'bad-hello',
      detail: `clusterId must be a string of 1..${MAX_CLUSTER_ID_BYTES} bytes`,
    };
  }
  if (!isNodeId(from) || !isNodeId(to)) {
    return { error: 'bad-hello', detail: 'from and to must be positive safe integers' };
  }
  if (!isBin(nonce, NONCE_BYTES)) {
    return { error: 'bad-hello', detail: `nonce must be a bin of ${NONCE_BYTES} bytes` };
  }
  if (clusterId !== expect.clusterId) {
    return {
      error: 'cluster-id-mismatch',
      detail: `this node does not belong to cluster ${JSON.stringify(clusterId)}`,
    };
  }
  if (to !== expect.self) {
    return { error: 'wrong-node', detail: `this is node ${expect.self}, not node ${to}` };
  }
  if (from === expect.self) {
    return { error: 'bad-hello', detail: `the peer claims this node's own id ${from}` };
  }
  // A copy: the body may be a view of a larger socket buffer that the nonce should not keep.
  return {
    magic: HELLO_MAGIC,
    version: PROTOCOL_VERSION,
    clusterId,
    from,
    to,
    nonce: Buffer.from(nonce),
  };
}

/** isErrorFrame tells a refusal from an accepted handshake frame. */
export function isErrorFrame<T extends object>(v: T | ErrorFrame): v is ErrorFrame {
  return 'error' in v;
}

/**
 * decodeChallengeReply reads what an acceptor answered to a hello: a challenge, or an error frame.
 * Anything else is described by a string.
 */
export function decodeChallengeReply(body: Uint8Array): Challenge | ErrorFrame | string {
  const m = decodeMap(body);
  if (typeof m === 'string') return m;
  const err = errorFrameOf(m);
  if (err !== undefined) return err;
  if (!isBin(m.nonce, NONCE_BYTES) || !isBin(m.proof, PROOF_BYTES)) {
    return `a challenge needs a ${NONCE_BYTES}-byte nonce and a ${PROOF_BYTES}-byte proof`;
  }
  return { nonce: Buffer.from(m.nonce), proof: Buffer.from(m.proof) };
}

/** decodeProof reads the dialer's proof frame; a string says what is wrong with it. */
export function decodeProof(body: Uint8Array): Uint8Array | string {
  const m = decodeMap(body);
  if (typeof m === 'string') return m;
  if (!isBin(m.proof, PROOF_BYTES)) return `proof must be a bin of ${PROOF_BYTES} bytes`;
  return m.proof;
}

function errorFrameOf(m: Record<string, unknown>): ErrorFrame | undefined {
  if (typeof m.error !== 'string') return undefined;
  return { error: m.error, detail: typeof m.detail === 'string' ? m.detail : '' };
}

/** decodeErrorFrame parses an error frame body; undefined if it is not one. */
export function decodeErrorFrame(body: Uint8Array): ErrorFrame | undefined {
  const m = decodeMap(body);
  if (typeof m === 'string') return undefined;
  return errorFrameOf(m);
}
