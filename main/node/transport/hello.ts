/**
 * hello is the connection handshake. The first frame a dialer sends is a hello map; the acceptor
 * checks it and either stays silent (accepted) or answers with one error frame and closes.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { NodeId } from '../../raft/types';
import { encodeFrame } from './framing';
import { checkMsgpackStructure } from './msgpack-guard';

/** HELLO_MAGIC identifies the protocol. */
export const HELLO_MAGIC = 'RAFTDECK';

/** PROTOCOL_VERSION of the node-to-node protocol described in docs/protocol.md. */
export const PROTOCOL_VERSION = 1;

/** MAX_HELLO_BYTES bounds the hello and error frame bodies. */
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
}

/** HandshakeErrorCode names why an acceptor refused a hello. */
export type HandshakeErrorCode =
  | 'bad-hello'
  | 'bad-magic'
  | 'version-mismatch'
  | 'cluster-id-mismatch'
  | 'wrong-node'
  | 'hello-timeout';

/** ErrorFrame is the acceptor's only message: why it is about to close the connection. */
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
  const body = encoder.encode({
    magic: HELLO_MAGIC,
    version: PROTOCOL_VERSION,
    clusterId: h.clusterId,
    from: h.from,
    to: h.to,
  });
  return encodeFrame(body);
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

/** HelloExpectation is what an acceptor requires of a hello. */
export interface HelloExpectation {
  clusterId: string;
  self: NodeId;
}

/**
 * checkHello decodes and checks a hello body. It returns the hello or the error frame to answer
 * with. Magic and version are checked first, so a peer speaking another version is told so even
 * if the rest of its hello differs.
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
      detail: `this node speaks protocol version ${PROTOCOL_VERSION}, the peer sent ${String(m.version)}`,
    };
  }
  const { clusterId, from, to } = m;
  if (
    typeof clusterId !== 'string' ||
    clusterId.length === 0 ||
    Buffer.byteLength(clusterId) > MAX_CLUSTER_ID_BYTES
  ) {
    return { error: 'bad-hello', detail: `clusterId must be a string of 1..128 bytes` };
  }
  if (!isNodeId(from) || !isNodeId(to)) {
    return { error: 'bad-hello', detail: 'from and to must be positive safe integers' };
  }
  if (clusterId !== expect.clusterId) {
    return {
      error: 'cluster-id-mismatch',
      detail: `this node belongs to cluster ${JSON.stringify(expect.clusterId)}, the peer to ${JSON.stringify(clusterId)}`,
    };
  }
  if (to !== expect.self) {
    return { error: 'wrong-node', detail: `this is node ${expect.self}, not node ${to}` };
  }
  if (from === expect.self) {
    return { error: 'bad-hello', detail: `the peer claims this node's own id ${from}` };
  }
  return { magic: HELLO_MAGIC, version: PROTOCOL_VERSION, clusterId, from, to };
}

/** isErrorFrame tells a checkHello result that refuses the hello from one that accepts it. */
export function isErrorFrame(v: Hello | ErrorFrame): v is ErrorFrame {
  return 'error' in v;
}

/** decodeErrorFrame parses an error frame body; undefined if it is not one. */
export function decodeErrorFrame(body: Uint8Array): ErrorFrame | undefined {
  const m = decodeMap(body);
  if (typeof m === 'string' || typeof m.error !== 'string') return undefined;
  return { error: m.error, detail: typeof m.detail === 'string' ? m.detail : '' };
}
