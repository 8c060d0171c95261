/**
 * peer-http reads the requests one etcd member sends to another's peer port, as far as the peer
 * proxies need: each request's head (method, path, headers), then its body length, so that every
 * request on a kept-alive connection is seen. Pure: bytes in, request heads out; no sockets.
 *
 * What etcd's rafthttp sends (checked against etcd 3.4): stream requests (GET
 * /raft/stream/message/ID and /raft/stream/msgappv2/ID) and pipeline and snapshot posts (POST
 * /raft, POST /raft/snapshot) carry X-Server-From (the sender's member id in hex) and X-PeerURLs
 * (the sender's advertised peer URLs, comma-separated); probes (GET /raft/probing), version and
 * member queries (GET /version, /members) and lease forwarding (POST /leases...) carry neither.
 */
import type { NodeId } from '../../contract/view';

/** MAX_HEAD_BYTES: a request head (request line and headers) longer than this is refused. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** RequestHead: one request's first line and headers (names lower-cased). */
export interface RequestHead {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** PeerHttpError: bytes that are not a request etcd would send; the connection is closed. */
export class PeerHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerHttpError';
  }
}

const METHOD = /^[A-Z]{1,16}$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** parseHead parses a request head (without its final blank line). Throws PeerHttpError. */
export function parseHead(text: string): RequestHead {
  const lines = text.split('\r\n');
  const first = lines[0] ?? '';
  const parts = first.split(' ');
  if (parts.length !== 3 || !METHOD.test(parts[0]!) || !/^HTTP\/1\.[01]$/.test(parts[2]!)) {
    throw new PeerHttpError(`not an HTTP/1.x request line: ${JSON.stringify(first.slice(0, 80))}`);
  }
  if (!parts[1]!.startsWith('/')) {
    throw new PeerHttpError(
      `request path must start with '/': ${JSON.stringify(parts[1]!.slice(0, 80))}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name))
      throw new PeerHttpError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  }
  return { method: parts[0]!, path: parts[1]!, headers };
}

type BodyState =
  | { kind: 'head' }
  | { kind: 'length'; left: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; left: number }
  | { kind: 'chunk-end' }
  | { kind: 'trailers' }
  /** rest: everything after this request belongs to it (an upgrade, or a body to the end). */
  | { kind: 'rest' };

/**
 * RequestReader follows the requests on one connection, client to server. push() takes the
 * bytes in the order they arrive and returns the heads completed by them; it throws
 * PeerHttpError on a head over MAX_HEAD_BYTES, a malformed head or chunk, or a body it cannot
 * frame. Bodies are skipped by Content-Length or chunked encoding.
 */
export class RequestReader {
  private state: BodyState = { kind: 'head' };
  private pending = '';
  /** requests: how many heads have been read. */
  requests = 0;

  push(chunk: Buffer): RequestHead[] {
    const heads: RequestHead[] = [];
    let i = 0;
    while (i < chunk.length) {
      const s = this.state;
      if (s.kind === 'rest') return heads;
      if (s.kind === 'length' || s.kind === 'chunk-data') {
        const n = Math.min(s.left, chunk.length - i);
        s.left -= n;
        i += n;
        if (s.left === 0)
          this.state = s.kind === 'length' ? { kind: 'head' } : { kind: 'chunk-end' };
        continue;
      }
      // A line-oriented state: collect up to the next CRLF (or the blank line ending a head).
      const end = chunk.indexOf(0x0a, i);
      const take = end < 0 ? chunk.length : end + 1;
      this.pending += chunk.toString('latin1', i, take);
      i = take;
      const limit = s.kind === 'head' || s.kind === 'trailers' ? MAX_HEAD_BYTES : 1024;
      if (this.pending.length > limit) {
        throw new PeerHttpError(
          s.kind === 'head'
            ? `request head longer than ${MAX_HEAD_BYTES} bytes`
            : `chunk line longer than ${limit} bytes`,
        );
      }
      if (s.kind === 'chunk-end' && !'\r\n'.startsWith(this.pending)) {
        throw new PeerHttpError('chunk data not followed by CRLF');
      }
      if (end < 0) continue;
      if (s.kind === 'head') {
        if (this.pending === '\r\n' && this.requests > 0) {
          this.pending = ''; // a stray CRLF between requests is allowed
          continue;
        }
        if (!this.pending.endsWith('\r\n\r\n')) continue;
        const head = parseHead(this.pending.slice(0, -4));
        this.pending = '';
        this.requests += 1;
        heads.push(head);
        this.state = bodyOf(head);
      } else if (s.kind === 'chunk-size') {
        const line = this.pending.trimEnd();
        this.pending = '';
        const m = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line);
        if (!m)
          throw new PeerHttpError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
        const size = parseInt(m[1]!, 16);
        this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', left: size };
      } else if (s.kind === 'chunk-end') {
        if (this.pending !== '\r\n') throw new PeerHttpError('chunk data not followed by CRLF');
        this.pending = '';
        this.state = { kind: 'chunk-size' };
      } else if (s.kind === 'trailers') {
        if (this.pending.endsWith('\r\n\r\n') || this.pending === '\r\n') {
          this.pending = '';
          this.state = { kind: 'head' };
        }
      }
    }
    return heads;
  }
}

function bodyOf(head: RequestHead): BodyState {
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase().trim() !== 'chunked') {
      throw new PeerHttpError(`unsupported Transfer-Encoding ${JSON.stringify(te.slice(0, 40))}`);
    }
    return { kind: 'chunk-size' };
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl))
      throw new PeerHttpError(`malformed Content-Length ${JSON.stringify(cl.slice(0, 40))}`);
    const n = Number(cl);
    return n === 0 ? { kind: 'head' } : { kind: 'length', left: n };
  }
  if (head.headers.upgrade !== undefined) return { kind: 'rest' };
  return { kind: 'head' };
}

/**
 * Flow: which way a request carries Raft messages, seen from the proxy of the member it is
 * addressed to (the target): 'to-target' (the body carries them: pipeline and snapshot posts),
 * 'from-target' (the response carries them: a stream, which the reader dials to the member whose
 * messages it reads), 'none' (probes, version and member queries, lease forwarding).
 */
export type Flow = 'to-target' | 'from-target' | 'none';

/** flowOf: the direction of the Raft messages a request carries. */
export function flowOf(head: Pick<RequestHead, 'method' | 'path'>): Flow {
  const path = head.path.split('?')[0]!;
  if (head.method === 'GET' && path.startsWith('/raft/stream/')) return 'from-target';
  if (head.method === 'POST' && (path === '/raft' || path.startsWith('/raft/snapshot'))) {
    return 'to-target';
  }
  return 'none';
}

/**
 * senderOf: the member that sent a request, from its X-PeerURLs (the URLs it advertises: its
 * proxy's) or, failing that, its X-Server-From member id; null when the request names none that
 * is known. `byAddress` maps a proxy's 'host:port' to its member, `byMemberId` a hex member id.
 */
export function senderOf(
  head: RequestHead,
  byAddress: (hostPort: string) => NodeId | undefined,
  byMemberId: (hex: string) => NodeId | undefined,
): NodeId | null {
  const urls = head.headers['x-peerurls'];
  if (urls) {
    for (const u of urls.split(',')) {
      const m = /^\s*https?:\/\/([^/\s]+)/.exec(u);
      const id = m ? byAddress(m[1]!) : undefined;
      if (id !== undefined) return id;
    }
  }
  const from = head.headers['x-server-from'];
  if (from && /^[0-9a-f]{1,16}$/i.test(from)) {
    const id = byMemberId(from.toLowerCase());
    if (id !== undefined) return id;
  }
  return null;
}
