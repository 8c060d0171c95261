import { encode } from '@msgpack/msgpack';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../../main/node/transport/framing';
import { decodeErrorFrame, encodeHello, type ErrorFrame } from '../../../main/node/transport/hello';
import { newNonce } from '../../../main/node/transport/peer-auth';
import {
  PortInUseError,
  TcpTransport,
  type TcpTransportOptions,
  type TransportStats,
} from '../../../main/node/transport/transport';
import type { Message } from '../../../main/raft/types';
import {
  TEST_SECRET,
  heartbeat,
  heartbeatSeqs,
  sampleMessages,
  sleep,
  startTransport,
  vote,
  waitFor,
  type TestTransport,
} from './helpers';
import { seededRng } from '../../../main/raft/rng';
import { RawPeer } from '../raw-peer';

type Node = TestTransport;

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function start(id: number, options: Partial<TcpTransportOptions> = {}): Promise<Node> {
  // Short, for the silent peer below, yet long enough for a handshake on a busy machine: the
  // dialer gives up (and drops what it queued) after this long too.
  return startTransport(id, closers, { handshakeTimeoutMs: 1000, ...options });
}

async function pair(): Promise<[Node, Node]> {
  const a = await start(1);
  const b = await start(2, { maxMalformed: 3 });
  a.t.setPeers({ '2': b.addr });
  b.t.setPeers(new Map([[1, a.addr]]));
  return [a, b];
}

const seqs = heartbeatSeqs;

let nextSeq = 1000;

/** assertDelivers checks that both good transports still deliver to each other. */
async function assertDelivers(a: Node, b: Node): Promise<void> {
  const s = nextSeq++;
  a.t.send([heartbeat(1, 2, s)]);
  b.t.send([heartbeat(2, 1, s)]);
  await waitFor(`heartbeat ${s} both ways`, () => seqs(b).includes(s) && seqs(a).includes(s));
}

/** Raw is a hand-driven TCP client for hostile inputs. */
interface Raw {
  socket: Socket;
  errors: ErrorFrame[];
  closed: Promise<void>;
  isClosed: () => boolean;
}

async function raw(port: number): Promise<Raw> {
  const socket = connect({ host: '127.0.0.1', port });
  closers.push(() => socket.destroy());
  const errors: ErrorFrame[] = [];
  const frames = new FrameDecoder(4096);
  let closedFlag = false;
  socket.on('data', (chunk) => {
    for (const body of frames.push(chunk)) {
      const e = decodeErrorFrame(body);
      if (e) errors.push(e);
    }
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closedFlag = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, errors, closed, isClosed: () => closedFlag };
}

function hello(from: number, to: number, clusterId = 'test-cluster'): Buffer {
  return encodeHello({ clusterId, from, to, nonce: newNonce() });
}

/** peer opens a connection that proved the secret, as node `from`, to the transport at `port`. */
async function peer(port: number, from: number, to: number): Promise<RawPeer> {
  const p = await RawPeer.open(port);
  closers.push(() => p.close());
  await p.handshake({ clusterId: 'test-cluster', from, to }, TEST_SECRET);
  return p;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    sleep(ms).then(() => {
      throw new Error(`timed out: ${what}`);
    }),
  ]);
}

function counters(s: TransportStats): Record<string, number> {
  const { peers: _peers, peerPort: _port, ...rest } = s;
  return rest;
}

describe('TcpTransport', () => {
  it('binds to 127.0.0.1 by default and exchanges every message type both ways', async () => {
    const [a, b] = await pair();
    expect(a.addr.startsWith('127.0.0.1:')).toBe(true);
    const out = sampleMessages();
    a.t.send(out);
    const back = out.map((m) => ({ ...m, from: 2, to: 1 }) as Message);
    b.t.send(back);
    await waitFor(
      'all messages',
      () => b.received.length === out.length && a.received.length === out.length,
    );
    expect(b.received).toEqual(out);
    expect(a.received).toEqual(back);
    const s = a.t.stats();
    expect(s.sent).toBe(out.length);
    expect(s.received).toBe(out.length);
    expect(s.peers['2']).toMatchObject({
      connected: true,
      inbound: true,
      sent: out.length,
      connects: 1,
    });
    expect(counters(s)).toMatchObject({ dropped: 0, malformed: 0, handshakeFailures: 0 });
  });

  it('delivers a large batch sent in one tick, in order', async () => {
    const [a, b] = await pair();
    const msgs = Array.from({ length: 5000 }, (_, i) => heartbeat(1, 2, i));
    a.t.send(msgs.slice(0, 2500));
    a.t.send(msgs.slice(2500));
    await waitFor('5000 heartbeats', () => b.received.length === 5000);
    expect(seqs(b)).toEqual(msgs.map((_, i) => i));
  });

  it('writes queued messages at once on flush(), not only at the end of the tick', async () => {
    const [a, b] = await pair();
    await assertDelivers(a, b);
    const before = a.t.stats().sent;
    a.t.send([heartbeat(1, 2, 7), heartbeat(1, 2, 8)]);
    expect(a.t.stats().sent).toBe(before);
    a.t.flush();
    expect(a.t.stats().sent).toBe(before + 2);
    a.t.flush();
    expect(a.t.stats().sent).toBe(before + 2);
    await waitFor('both heartbeats', () => seqs(b).includes(7) && seqs(b).includes(8));
    expect(seqs(b).filter((x) => x === 7 || x === 8)).toEqual([7, 8]);
  });

  it('survives hostile peers and counts what they did', async () => {
    const [a, b] = await pair();
    await assertDelivers(a, b);
    const before = b.t.stats();
    expect(counters(before)).toMatchObject({ oversized: 0, handshakeFailures: 0 });

    // 1. Random garbage instead of a hello, twice: raw bytes, and a frame with a random body.
    const rng = seededRng(2024);
    const garbage = Buffer.from(Array.from({ length: 512 }, () => Math.floor(rng() * 256)));
    garbage[0] = 0x7f; // announces ~2 GB: refused at the header
    const g1 = await raw(b.port);
    g1.socket.write(garbage);
    await withTimeout(g1.closed, 2000, 'garbage connection closed');
    expect(b.t.stats().oversized).toBe(1);
    const g2 = await raw(b.port);
    g2.socket.write(encodeFrame(garbage.subarray(0, 100)));
    await withTimeout(g2.closed, 2000, 'garbage hello connection closed');
    expect(g2.errors.map((e) => e.error)).toEqual(['bad-hello']);
    expect(b.t.stats().handshakeFailures).toBe(1);
    await assertDelivers(a, b);

    // 2. A frame announcing 2 GB, after a complete handshake: refused before any body arrives.
    const big = await peer(b.port, 9, 2);
    big.write(Buffer.from([0x80, 0, 0, 0]));
    await big.waitClosed(2000);
    expect(b.t.stats().oversized).toBe(2);
    expect(b.t.stats().peers['9'].oversized).toBe(1);
    expect(b.logs.some((l) => l.msg.includes('frame of 2147483648 bytes exceeds the limit'))).toBe(
      true,
    );
    await assertDelivers(a, b);

    // 3. A hello with the wrong cluster id: an error frame, then the connection is closed.
    const wrong = await raw(b.port);
    wrong.socket.write(hello(9, 2, 'another-cluster'));
    await withTimeout(wrong.closed, 2000, 'wrong cluster closed');
    expect(wrong.errors).toHaveLength(1);
    expect(wrong.errors[0].error).toBe('cluster-id-mismatch');
    expect(wrong.errors[0].detail).toContain('another-cluster');
    // The refusal does not tell a stranger the real cluster id.
    expect(wrong.errors[0].detail).not.toContain('test-cluster');
    expect(b.t.stats().handshakeFailures).toBe(2);
    // ...and a hello for another node id.
    const misdialed = await raw(b.port);
    misdialed.socket.write(hello(9, 3));
    await withTimeout(misdialed.closed, 2000, 'wrong node closed');
    expect(misdialed.errors.map((e) => e.error)).toEqual(['wrong-node']);
    expect(b.t.stats().handshakeFailures).toBe(3);
    await assertDelivers(a, b);

    // 4. An unknown message type: counted and dropped, the connection stays up; a message claiming
    // another sender is malformed; past maxMalformed (3) in the window the peer is disconnected.
    const odd = await peer(b.port, 9, 2);
    odd.write(encodeFrame(encode([99, 9, 2, 1])));
    await waitFor('unknown type counted', () => b.t.stats().unknownType === 1);
    expect(odd.closed).toBe(false);
    expect(b.t.stats().peers['9']).toMatchObject({ unknownType: 1, inbound: true });
    odd.write(encodeFrame(encode([7, 5, 2, 1, 0, 0])));
    odd.write(encodeFrame(encode([7, 9, 2, -1, 0, 0])));
    await waitFor('malformed counted', () => b.t.stats().malformed === 2);
    expect(odd.closed).toBe(false);
    // A valid message from node 9 is delivered.
    odd.write(encodeFrame(encode([7, 9, 2, 1, 0, 4242])));
    await waitFor('node 9 heartbeat', () => seqs(b, 9).includes(4242));
    odd.write(encodeFrame(encode([100, 9, 2, 1])));
    await odd.waitClosed(2000);
    expect(counters(b.t.stats())).toMatchObject({ unknownType: 2, malformed: 2, kicked: 1 });
    expect(b.t.stats().peers['9']).toMatchObject({ kicked: 1, inbound: false, received: 1 });
    await assertDelivers(a, b);

    // 5. A peer that connects and says nothing is closed after the hello timeout.
    const silent = await raw(b.port);
    const t0 = Date.now();
    await withTimeout(silent.closed, 5000, 'silent peer closed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(silent.errors.map((e) => e.error)).toEqual(['handshake-timeout']);
    expect(b.t.stats().handshakeFailures).toBe(4);
    await assertDelivers(a, b);

    // The good link never noticed anything.
    expect(counters(a.t.stats())).toMatchObject({
      malformed: 0,
      oversized: 0,
      handshakeFailures: 0,
      dropped: 0,
    });
    expect(b.t.stats().peers['1']).toMatchObject({ malformed: 0, unknownType: 0, connects: 1 });
  });

  it('a dialer refused for a wrong cluster id logs why and backs off', async () => {
    const b = await start(2);
    const c = await start(3, { clusterId: 'other-cluster' });
    c.t.setPeers({ '2': b.addr });
    await waitFor('refusal logged', () => c.logs.some((l) => l.msg.includes('refused')));
    const line = c.logs.find((l) => l.msg.includes('refused'));
    expect(line?.level).toBe('warn');
    expect(line?.msg).toContain('node 2 refused the connection: cluster-id-mismatch');
    expect(b.t.stats().handshakeFailures).toBeGreaterThanOrEqual(1);
    expect(c.t.stats().peers['2'].handshakeFailures).toBeGreaterThanOrEqual(1);
    c.t.send([heartbeat(3, 2, 1)]);
    await sleep(50);
    expect(b.received).toHaveLength(0);
    // Refused dialers wait the maximum backoff (100 ms here) between attempts: over the time
    // that really passed (a loaded machine wakes the sleep late), one attempt per 100 ms at most,
    // give or take the ones under way at either end.
    const refusals = b.t.stats().handshakeFailures;
    const t0 = Date.now();
    await sleep(250);
    const elapsed = Date.now() - t0;
    expect(b.t.stats().handshakeFailures - refusals).toBeLessThanOrEqual(
      Math.floor(elapsed / 100) + 2,
    );
  });

  it('reconnects after the peer is closed and reopened, dropping what was sent while it was down', async () => {
    const [a, b] = await pair();
    await assertDelivers(a, b);
    await b.t.close();
    await waitFor('link down', () => a.t.stats().peers['2'].connected === false);
    await sleep(150);
    const droppedBefore = a.t.stats().peers['2'].dropped;
    a.t.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    // The peer is down: stale messages are not kept for it.
    expect(a.t.stats().peers['2'].queuedMessages).toBe(0);
    expect(a.t.stats().peers['2'].dropped - droppedBefore).toBe(2);
    const b2 = await start(2, { port: b.port });
    b2.t.setPeers({ '1': a.addr });
    await waitFor('delivery after reconnect', () => {
      a.t.send([heartbeat(1, 2, 3)]);
      return seqs(b2).length > 0;
    });
    expect(seqs(b2).every((x) => x === 3)).toBe(true);
    const p = a.t.stats().peers['2'];
    expect(p.connects).toBe(2);
    expect(p.disconnects).toBe(1);
    await assertDelivers(a, b2);
  });

  it('bounds the outbound queue and drops the oldest messages', async () => {
    const b = await start(2);
    const a = await start(1, { queue: { maxMessages: 10 } });
    // Everything sent before the connection opens waits in the bounded queue.
    a.t.setPeers({ '2': b.addr });
    a.t.send(Array.from({ length: 100 }, (_, i) => heartbeat(1, 2, i)));
    const p = a.t.stats().peers['2'];
    expect(p).toMatchObject({ dropped: 90, queuedMessages: 10, connected: false });
    expect(a.t.stats().dropped).toBe(90);
    await waitFor('queued messages delivered', () => b.received.length === 10);
    expect(seqs(b)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('tells when a peer is gone: its port refuses connections', async () => {
    const [a, b] = await pair();
    const gone: number[] = [];
    a.t.onPeerGone((peer) => gone.push(peer));
    await assertDelivers(a, b);
    expect(gone).toEqual([]);
    // The peer's process ends: its connections close and its port refuses new ones.
    await b.t.close();
    await waitFor('the refusal to be reported', () => gone.length > 0);
    expect(new Set(gone)).toEqual(new Set([2]));
  });

  it('reports a port in use clearly', async () => {
    const a = await start(1);
    const o = { clusterId: 'x', secret: TEST_SECRET, port: a.port, log: () => {} };
    const other = new TcpTransport({ id: 5, ...o });
    closers.push(() => other.close());
    await expect(other.listen()).rejects.toThrow(PortInUseError);
    await expect(new TcpTransport({ id: 6, ...o }).listen()).rejects.toThrow(
      `port 127.0.0.1:${a.port} is already in use`,
    );
  });

  it('applies fault rules on send and on receive', async () => {
    const [a, b] = await pair();
    await assertDelivers(a, b);
    b.received.length = 0;
    a.t.faults.setRules([{ to: 2, drop: 1, types: ['vote'] }]);
    a.t.send([vote(1, 2), heartbeat(1, 2, 1), vote(1, 2, 'pre-vote')]);
    await waitFor('non-vote messages', () => b.received.length === 2);
    expect(b.received.map((m) => m.type)).toEqual(['heartbeat', 'pre-vote']);
    expect(a.t.stats().peers['2'].faultDropped).toBe(1);

    a.t.faults.setRules([{ to: 2, delayMs: 100 }]);
    const t0 = Date.now();
    a.t.send([heartbeat(1, 2, 2), heartbeat(1, 2, 3)]);
    await waitFor('delayed heartbeats', () => seqs(b).includes(3));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(seqs(b)).toEqual([1, 2, 3]);
    expect(a.t.stats().faultDelayed).toBe(2);
    a.t.faults.clear();

    b.t.faults.setRules([{ from: 1, drop: 1 }]);
    a.t.send([heartbeat(1, 2, 4)]);
    await waitFor('dropped on receive', () => b.t.stats().faultDropped === 1);
    expect(b.t.stats().received).toBeGreaterThan(0);
    expect(seqs(b)).not.toContain(4);
    b.t.faults.clear();
    await assertDelivers(a, b);
  });

  it('keeps going when the handler throws, and handles peer changes', async () => {
    const [a, b] = await pair();
    let calls = 0;
    b.t.onMessage((m) => {
      calls += 1;
      if (m.type === 'heartbeat' && m.readSeq === 1) throw new Error('handler bug');
      b.received.push(m);
    });
    a.t.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    await waitFor('second heartbeat', () => seqs(b).includes(2));
    expect(calls).toBe(2);
    expect(b.logs.some((l) => l.level === 'error' && l.msg.includes('handler bug'))).toBe(true);

    // Removing a peer drops its link; messages to it are counted as dropped.
    a.t.setPeers({});
    a.t.send([heartbeat(1, 2, 3)]);
    expect(a.t.stats().peers['2'].dropped).toBe(1);
    // Messages to an unknown peer or to itself are dropped too.
    a.t.send([heartbeat(1, 7, 1), heartbeat(1, 1, 1)]);
    expect(a.t.stats().dropped).toBe(3);
    a.t.setPeers({ '1': a.addr, '2': b.addr });
    a.t.send([heartbeat(1, 2, 4)]);
    await waitFor('after re-adding the peer', () => seqs(b).includes(4));
    expect(() => a.t.setPeers({ '2': 'no-port' })).toThrow('address must be "host:port"');
  });

  it('closes cleanly: no sockets left, sends after close are dropped', async () => {
    const [a, b] = await pair();
    await assertDelivers(a, b);
    await Promise.all([a.t.close(), b.t.close()]);
    a.t.send([heartbeat(1, 2, 1)]);
    expect(a.t.stats().dropped).toBe(1);
    await expect(a.t.listen()).rejects.toThrow('closed');
  });
});
