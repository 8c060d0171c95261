import { describe, expect, it } from 'vitest';
import {
  flowOf,
  MAX_HEAD_BYTES,
  parseHead,
  PeerHttpError,
  RequestReader,
  senderOf,
} from '../../../main/cluster/etcd/peer-http';
import {
  linkFault,
  UnsupportedLinkRule,
  validateLinkRules,
} from '../../../main/cluster/etcd/peer-proxy';
import type { LinkRule } from '../../../main/contract/view';

// Heads as etcd 3.4.23 sends them (logged through the proxies against a real cluster).
const STREAM =
  'GET /raft/stream/msgapp/aad61a6c95b3d015 HTTP/1.1\r\nHost: 127.0.0.1:34073\r\nUser-Agent: Go-http-client/1.1\r\n' +
  'X-Etcd-Cluster-Id: a8663a20c1fe3a25\r\nX-Min-Cluster-Version: 3.0.0\r\nX-Peerurls: http://127.0.0.1:41797\r\n' +
  'X-Raft-To: aad61a6c95b3d015\r\nX-Server-From: aa72c86518cec75c\r\nX-Server-Version: 3.4.23\r\nAccept-Encoding: gzip\r\n\r\n';
const post = (body: string, from = 'aad61a6c95b3d015', urls = 'http://127.0.0.1:34073'): string =>
  `POST /raft HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nContent-Length: ${body.length}\r\nContent-Type: application/protobuf\r\n` +
  `X-Peerurls: ${urls}\r\nX-Server-From: ${from}\r\n\r\n${body}`;
const PROBE =
  'GET /raft/probing HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nUser-Agent: Go-http-client/1.1\r\n\r\n';
const SNAPSHOT_HEAD =
  'POST /raft/snapshot HTTP/1.1\r\nHost: 127.0.0.1:36719\r\nTransfer-Encoding: chunked\r\n' +
  'X-Peerurls: http://127.0.0.1:45085\r\nX-Server-From: d0224fe070e673eb\r\n\r\n';

/** feed pushes `text` into a reader in pieces of `size` bytes and returns every head read. */
function feed(reader: RequestReader, text: string, size: number) {
  const buf = Buffer.from(text, 'latin1');
  const heads = [];
  for (let i = 0; i < buf.length; i += size) heads.push(...reader.push(buf.subarray(i, i + size)));
  return heads;
}

describe('parseHead', () => {
  it('reads the request line and lower-cased headers', () => {
    const h = parseHead(STREAM.slice(0, -4));
    expect(h.method).toBe('GET');
    expect(h.path).toBe('/raft/stream/msgapp/aad61a6c95b3d015');
    expect(h.headers['x-server-from']).toBe('aa72c86518cec75c');
    expect(h.headers['x-peerurls']).toBe('http://127.0.0.1:41797');
  });

  it('refuses what is not an HTTP/1 request', () => {
    expect(() => parseHead('\x16\x03\x01 hello')).toThrow(PeerHttpError);
    expect(() => parseHead('GET /x HTTP/2.0')).toThrow(/not an HTTP\/1.x request line/);
    expect(() => parseHead('GET x HTTP/1.1')).toThrow(/must start with '\/'/);
    expect(() => parseHead('GET /x HTTP/1.1\r\nno colon here')).toThrow(/malformed header line/);
  });
});

describe('RequestReader', () => {
  it('sees every request on a kept-alive connection, whatever the chunking', () => {
    const stream =
      PROBE +
      post('abcdefghij') +
      post('') +
      SNAPSHOT_HEAD +
      '5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\n\r\n' +
      PROBE;
    for (const size of [1, 3, 7, 64, stream.length]) {
      const r = new RequestReader();
      const heads = feed(r, stream, size);
      expect(heads.map((h) => `${h.method} ${h.path}`)).toEqual([
        'GET /raft/probing',
        'POST /raft',
        'POST /raft',
        'POST /raft/snapshot',
        'GET /raft/probing',
      ]);
      expect(r.requests).toBe(5);
    }
  });

  it('does not mistake a body for a request head', () => {
    const r = new RequestReader();
    const body = 'GET /raft/stream/message/1 HTTP/1.1\r\n\r\n';
    expect(feed(r, post(body), 5).map((h) => h.path)).toEqual(['/raft']);
  });

  it(`refuses a head over ${MAX_HEAD_BYTES} bytes before its end arrives`, () => {
    const r = new RequestReader();
    const big = `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    expect(() => feed(r, big, 1024)).toThrow(/longer than 16384 bytes/);
  });

  it('refuses malformed chunk sizes, lengths and encodings', () => {
    const bad = [
      'POST /raft HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'POST /raft HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
      'POST /raft HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
      'POST /raft HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY',
    ];
    for (const b of bad) expect(() => feed(new RequestReader(), b, 4)).toThrow(PeerHttpError);
  });
});

describe('flowOf and senderOf', () => {
  it('streams carry messages back to the dialer; posts carry them to the target', () => {
    expect(flowOf({ method: 'GET', path: '/raft/stream/msgapp/aad61a6c95b3d015' })).toBe(
      'from-target',
    );
    expect(flowOf({ method: 'GET', path: '/raft/stream/message/aad61a6c95b3d015' })).toBe(
      'from-target',
    );
    expect(flowOf({ method: 'POST', path: '/raft' })).toBe('to-target');
    expect(flowOf({ method: 'POST', path: '/raft/snapshot' })).toBe('to-target');
    for (const p of ['/raft/probing', '/version', '/members', '/leases']) {
      expect(flowOf({ method: p === '/leases' ? 'POST' : 'GET', path: p })).toBe('none');
    }
  });

  it('names the sender by its advertised URL, else by a member id already learnt', () => {
    const byAddress = (a: string) => ({ '127.0.0.1:34073': 1, '127.0.0.1:41797': 2 })[a];
    const ids = new Map([['d0224fe070e673eb', 3]]);
    const byId = (h: string) => ids.get(h);
    expect(senderOf(parseHead(STREAM.slice(0, -4)), byAddress, byId)).toBe(2);
    expect(senderOf(parseHead(post('').slice(0, -4)), byAddress, byId)).toBe(1);
    // Its URL unknown (a member added later), its id learnt from an earlier request.
    expect(senderOf(parseHead(SNAPSHOT_HEAD.slice(0, -4)), byAddress, byId)).toBe(3);
    expect(senderOf(parseHead(PROBE.slice(0, -4)), byAddress, byId)).toBeNull();
    expect(
      senderOf(parseHead(post('', 'ffff', 'http://127.0.0.1:1').slice(0, -4)), byAddress, byId),
    ).toBeNull();
  });
});

describe('linkFault', () => {
  const rules = new Map<number, LinkRule[]>();
  const rulesOf = (id: number) => rules.get(id) ?? [];

  it('cuts across a partition in both directions, and nowhere else', () => {
    const p = [[1], [2, 3]];
    expect(linkFault(1, 2, rulesOf, p).drop).toBe(1);
    expect(linkFault(2, 1, rulesOf, p).drop).toBe(1);
    expect(linkFault(2, 3, rulesOf, p).drop).toBe(0);
    // A member no group lists stands alone.
    expect(linkFault(4, 2, rulesOf, p).drop).toBe(1);
  });

  it("applies the sender's `to` rules and the receiver's `from` rules, as raftdeck's own filters do", () => {
    rules.set(1, [
      { to: 2, delayMs: 100, jitterMs: 10 },
      { to: '*', drop: 0.5 },
    ]);
    rules.set(2, [
      { from: 1, delayMs: 30 },
      { from: '*', drop: 0.5 },
      { to: 1, drop: 1 },
    ]);
    expect(linkFault(1, 2, rulesOf, null)).toEqual({ drop: 0.75, delayMs: 130, jitterMs: 10 });
    expect(linkFault(2, 1, rulesOf, null).drop).toBe(1);
    expect(linkFault(1, 3, rulesOf, null)).toEqual({ drop: 0.5, delayMs: 0, jitterMs: 0 });
    expect(linkFault(3, 1, rulesOf, null)).toEqual({ drop: 0, delayMs: 0, jitterMs: 0 });
  });
});

describe('validateLinkRules', () => {
  it('refuses what etcd streams cannot be filtered by, saying why', () => {
    expect(() => validateLinkRules([{ to: 2, types: ['vote'] }])).toThrow(UnsupportedLinkRule);
    expect(() => validateLinkRules([{ to: 2, types: ['vote'] }])).toThrow(/message type \(vote\)/);
    expect(() =>
      validateLinkRules([
        { to: 2, drop: 1 },
        { from: 3, snapshotOffset: 0 },
      ]),
    ).toThrow(/link rule 1: losing one snapshot chunk/);
    expect(() => validateLinkRules([{ to: 2, from: 3 }])).toThrow(/exactly one of to and from/);
    expect(() => validateLinkRules([{ to: 2, drop: 2 }])).toThrow(/probability/);
    expect(() => validateLinkRules([{ to: 2, delayMs: -1 }])).toThrow(/delayMs/);
    expect(() =>
      validateLinkRules([
        { to: 2, drop: 1 },
        { from: '*', delayMs: 5, jitterMs: 1 },
      ]),
    ).not.toThrow();
  });
});
