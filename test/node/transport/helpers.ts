/**
 * helpers shared by the transport tests: the peer secret, sample messages of every type, polling.
 */
import { TcpTransport, type TcpTransportOptions } from '../../../main/node/transport/transport';
import type { Entry, Message, MessageType, SnapshotMeta } from '../../../main/raft/types';

/** TEST_SECRET: the peer secret of the transports in these tests (32 fixed bytes). */
export const TEST_SECRET: Uint8Array = Uint8Array.from(
  { length: 32 },
  (_, i) => (i * 37 + 11) & 0xff,
);

/** OTHER_SECRET: a secret that is not the cluster's. */
export const OTHER_SECRET: Uint8Array = Uint8Array.from(
  { length: 32 },
  (_, i) => (i * 53 + 7) & 0xff,
);

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

export const META: SnapshotMeta = {
  index: 120,
  term: 4,
  conf: {
    voters: [1, 2, 3],
    learners: [4],
    addresses: { '1': '127.0.0.1:7001', '2': '127.0.0.1:7002', '3': '127.0.0.1:7003', '4': 'h:1' },
  },
};

export function entries(prevIndex: number, n: number, term = 3, size = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = (i * 7 + k) & 0xff;
    out.push({ index: prevIndex + 1 + i, term, type: i === 0 ? 'conf' : 'normal', data });
  }
  return out;
}

/** sampleMessages returns one or more messages of every type, from 1 to 2. */
export function sampleMessages(): Message[] {
  const h = { from: 1, to: 2, term: 5 };
  return [
    { ...h, type: 'app', prevIndex: 10, prevTerm: 3, entries: entries(10, 3), commit: 9 },
    { ...h, type: 'app', prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
    {
      ...h,
      type: 'app',
      prevIndex: 2 ** 40,
      prevTerm: 5,
      entries: [{ index: 2 ** 40 + 1, term: 5, type: 'normal', data: new Uint8Array(0) }],
      commit: 2 ** 40,
    },
    { ...h, type: 'app-resp', index: 13, reject: false, hintIndex: 0, hintTerm: 0 },
    { ...h, type: 'app-resp', index: 10, reject: true, hintIndex: 7, hintTerm: 2 },
    { ...h, type: 'vote', lastIndex: 13, lastTerm: 3, transfer: false },
    { ...h, type: 'pre-vote', lastIndex: 13, lastTerm: 3, transfer: true },
    { ...h, type: 'vote-resp', reject: false },
    { ...h, type: 'pre-vote-resp', reject: true },
    { ...h, type: 'heartbeat', commit: 12, readSeq: 77 },
    { ...h, type: 'heartbeat-resp', readSeq: 77 },
    { ...h, type: 'snap', meta: META, offset: 0, total: 10, data: bytes(1, 2, 3, 4), done: false },
    {
      ...h,
      type: 'snap',
      meta: META,
      offset: 4,
      total: 10,
      data: bytes(5, 6, 7, 8, 9, 10),
      done: true,
    },
    { ...h, type: 'snap-resp', snapIndex: 120, nextOffset: 4, gap: true, done: false },
    { ...h, type: 'timeout-now' },
    { ...h, type: 'read-index', ctx: 42 },
    { ...h, type: 'read-index-resp', ctx: 42, index: 12, reject: false },
  ];
}

export function heartbeat(from: number, to: number, readSeq: number): Message {
  return { type: 'heartbeat', from, to, term: 1, commit: 0, readSeq };
}

export function vote(from: number, to: number, type: MessageType = 'vote'): Message {
  if (type !== 'vote' && type !== 'pre-vote') throw new Error('vote() makes votes only');
  return { type, from, to, term: 2, lastIndex: 0, lastTerm: 0, transfer: false };
}

export function snapChunk(from: number, to: number, offset: number, size = 100): Message {
  return {
    type: 'snap',
    from,
    to,
    term: 1,
    meta: META,
    offset,
    total: 1000,
    data: new Uint8Array(size),
    done: offset + size === 1000,
  };
}

/** waitFor polls until `cond` holds, failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** TestTransport is a listening TcpTransport with what it received and logged. */
export interface TestTransport {
  t: TcpTransport;
  received: Message[];
  logs: { level: string; msg: string }[];
  port: number;
  addr: string;
}

/**
 * startTransport starts a transport of node `id` in cluster 'test-cluster' (TEST_SECRET, quick
 * reconnects), listening on a free port; `closers` gets its close().
 */
export async function startTransport(
  id: number,
  closers: (() => unknown)[],
  options: Partial<TcpTransportOptions> = {},
): Promise<TestTransport> {
  const logs: { level: string; msg: string }[] = [];
  const received: Message[] = [];
  const t = new TcpTransport({
    id,
    clusterId: 'test-cluster',
    secret: TEST_SECRET,
    backoffMinMs: 10,
    backoffMaxMs: 100,
    log: (level, msg) => logs.push({ level, msg }),
    ...options,
  });
  closers.push(() => t.close());
  t.onMessage((m) => received.push(m));
  const { host, port } = await t.listen();
  return { t, received, logs, port, addr: `${host}:${port}` };
}

/** heartbeatSeqs lists the readSeq of every heartbeat `n` received (from `from`, if given). */
export function heartbeatSeqs(n: TestTransport, from?: number): number[] {
  return n.received.flatMap((m) =>
    m.type === 'heartbeat' && (from === undefined || m.from === from) ? [m.readSeq] : [],
  );
}
