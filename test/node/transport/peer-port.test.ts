/**
 * The peer port against peers that are not what they claim: strangers that know the cluster id
 * but not the secret, replayed handshakes, processes that took a dead peer's port, floods of
 * silent sockets and half-sent frames. Real transports over 127.0.0.1.
 */
import { decode, encode } from '@msgpack/msgpack';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageCodec } from '../../../main/node/transport/codec';
import { FrameBudget } from '../../../main/node/transport/frame-budget';
import { FrameDecoder, encodeFrame } from '../../../main/node/transport/framing';
import { encodeChallenge } from '../../../main/node/transport/hello';
import { newNonce } from '../../../main/node/transport/peer-auth';
import { TcpTransport, type TcpTransportOptions } from '../../../main/node/transport/transport';
import { RawPeer } from '../raw-peer';
import {
  OTHER_SECRET,
  TEST_SECRET,
  heartbeat,
  heartbeatSeqs,
  sleep,
  startTransport,
  waitFor,
  type TestTransport,
} from './helpers';

type Node = TestTransport;

const closers: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function start(id: number, options: Partial<TcpTransportOptions> = {}): Promise<Node> {
  return startTransport(id, closers, { handshakeTimeoutMs: 2000, ...options });
}

async function open(port: number): Promise<RawPeer> {
  const p = await RawPeer.open(port);
  closers.push(() => p.close());
  return p;
}

const seqs = heartbeatSeqs;

let nextSeq = 10_000;
/** delivers checks that a sends to b and b receives, within the time given. */
async function delivers(a: Node, b: Node, from: number, to: number, ms = 3000): Promise<void> {
  const s = nextSeq++;
  await waitFor(
    `heartbeat ${s} from ${from} to ${to}`,
    () => {
      a.t.send([heartbeat(from, to, s)]);
      return seqs(b, from).includes(s);
    },
    ms,
  );
}

/** Squatter listens on a port in a dead peer's place and records what each connection sent. */
interface Squatter {
  port: number;
  /** conns: the bytes each accepted connection sent, in order. */
  conns: Buffer[][];
  server: Server;
}

async function squatter(onHello: (s: Socket) => void): Promise<Squatter> {
  const conns: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    const got: Buffer[] = [];
    conns.push(got);
    const frames = new FrameDecoder(1 << 20);
    let answered = false;
    s.on('data', (d: Buffer) => {
      got.push(d);
      for (const _ of frames.push(d)) {
        if (!answered) {
          answered = true;
          onHello(s);
        }
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  const a = server.address();
  return { port: typeof a === 'object' && a ? a.port : 0, conns, server };
}

/** framesOf splits what one connection sent into frame bodies. */
function framesOf(bytes: Buffer[]): Uint8Array[] {
  const d = new FrameDecoder(1 << 20);
  const out: Uint8Array[] = [];
  for (const b of bytes) for (const f of d.push(b)) out.push(f);
  return out;
}

describe('the peer handshake', () => {
  it('refuses a stranger that knows the cluster id but not the secret, before decoding any message', async () => {
    const b = await start(2);
    const p = await open(b.port);
    p.sendHello({ clusterId: 'test-cluster', from: 9, to: 2 });
    const c = await p.challenge();
    expect(c.error).toBeUndefined();
    // The acceptor proved the secret; the stranger cannot tell more from it.
    expect(p.acceptorProved(TEST_SECRET)).toBe(true);
    expect(p.acceptorProved(OTHER_SECRET)).toBe(false);
    // A proof made with a guessed secret, and a forged heartbeat right behind it.
    p.sendProof(OTHER_SECRET);
    p.send({ type: 'heartbeat', from: 9, to: 2, term: 2 ** 53 - 1, commit: 0, readSeq: 1 });
    await p.waitClosed();
    expect(p.errors().map((e) => e.error)).toEqual(['auth-failed']);
    await sleep(50);
    expect(b.received).toEqual([]);
    expect(b.t.stats()).toMatchObject({
      authFailures: 1,
      handshakeFailures: 1,
      malformed: 0,
      received: 0,
    });
    expect(b.t.stats().peers['9']).toBeUndefined();
  });

  it('refuses a frame longer than MAX_HELLO_BYTES before the proof, unread', async () => {
    const b = await start(2);
    const p = await open(b.port);
    p.sendHello({ clusterId: 'test-cluster', from: 9, to: 2 });
    await p.challenge();
    p.write(encodeFrame(new Uint8Array(2000)));
    await p.waitClosed();
    expect(b.t.stats()).toMatchObject({ oversized: 1, received: 0 });
  });

  it('answers a version 1 hello with version-mismatch', async () => {
    const b = await start(2);
    const p = await open(b.port);
    p.sendHello({ clusterId: 'test-cluster', from: 9, to: 2, version: 1 });
    p.write(encodeFrame(encode([7, 9, 2, 5, 0, 1])));
    await p.waitClosed();
    expect(p.errors().map((e) => e.error)).toEqual(['version-mismatch']);
    expect(b.received).toEqual([]);
  });

  it('refuses a replayed handshake: the acceptor nonce is fresh on every connection', async () => {
    const b = await start(2);
    const a = await start(1);
    // A relay between a and b records what a sends.
    const recorded: Buffer[] = [];
    const answers: Buffer[] = [];
    const relay = createServer((inbound) => {
      const out = connect({ host: '127.0.0.1', port: b.port });
      inbound.on('data', (d: Buffer) => {
        recorded.push(d);
        out.write(d);
      });
      out.on('data', (d: Buffer) => {
        answers.push(d);
        inbound.write(d);
      });
      inbound.on('error', () => out.destroy());
      out.on('error', () => inbound.destroy());
      inbound.on('close', () => out.destroy());
      out.on('close', () => inbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => relay.close(() => r())));
    const ra = relay.address();
    a.t.setPeers({ '2': `127.0.0.1:${typeof ra === 'object' && ra ? ra.port : 0}` });
    await delivers(a, b, 1, 2);
    await sleep(50);
    const before = seqs(b, 1);
    // Replay every byte node 1 sent: hello, proof and heartbeats.
    const p = await open(b.port);
    p.write(Buffer.concat(recorded));
    await p.waitClosed();
    expect(p.errors().map((e) => e.error)).toEqual(['auth-failed']);
    // The challenge it got is not the one the recorded proof answered.
    const recordedChallenge = decode(framesOf(answers)[0]) as { nonce: Uint8Array };
    const replayChallenge = p.frames[0] as { nonce: Uint8Array };
    expect(Buffer.from(replayChallenge.nonce).equals(Buffer.from(recordedChallenge.nonce))).toBe(
      false,
    );
    await sleep(50);
    // None of the recorded heartbeats was delivered again.
    expect(seqs(b, 1)).toEqual(before);
    expect(b.t.stats().authFailures).toBe(1);
  });

  it('a dialer never sends a message to a port whose listener cannot prove the secret', async () => {
    // One squatter answers the hello with a challenge it cannot prove, the other says nothing.
    const bogus = await squatter((s) =>
      s.write(encodeChallenge({ nonce: newNonce(), proof: newNonce() })),
    );
    const silent = await squatter(() => undefined);
    const a = await start(1, { handshakeTimeoutMs: 200 });
    a.t.setPeers({ '2': `127.0.0.1:${bogus.port}`, '3': `127.0.0.1:${silent.port}` });
    for (let i = 0; i < 20; i++) {
      a.t.send([heartbeat(1, 2, i), heartbeat(1, 3, i)]);
      await sleep(25);
    }
    await waitFor(
      'a second attempt at both',
      () => bogus.conns.length >= 2 && silent.conns.length >= 2,
    );
    for (const conns of [bogus.conns, silent.conns]) {
      for (const got of conns) {
        const frames = framesOf(got);
        // A hello, and nothing else: no proof, no heartbeat.
        expect(frames.length).toBeLessThanOrEqual(1);
        if (frames.length === 1) expect(Buffer.from(frames[0]).includes('RAFTDECK')).toBe(true);
      }
    }
    const s = a.t.stats();
    expect(s.peers['2']).toMatchObject({ connected: false, sent: 0, connects: 0 });
    expect(s.peers['2'].authFailures).toBeGreaterThanOrEqual(1);
    expect(s.peers['3']).toMatchObject({ connected: false, sent: 0, connects: 0 });
    expect(a.logs.some((l) => l.msg.includes('did not prove this cluster'))).toBe(true);
  });

  it('two transports with different secrets never exchange a message', async () => {
    const b = await start(2);
    const c = await start(3, { secret: OTHER_SECRET });
    c.t.setPeers({ '2': b.addr });
    b.t.setPeers({ '3': c.addr });
    for (let i = 0; i < 10; i++) {
      c.t.send([heartbeat(3, 2, i)]);
      b.t.send([heartbeat(2, 3, i)]);
      await sleep(30);
    }
    expect(b.received).toEqual([]);
    expect(c.received).toEqual([]);
    expect(c.t.stats().authFailures).toBeGreaterThanOrEqual(1);
    expect(b.t.stats().authFailures).toBeGreaterThanOrEqual(1);
  });
});

describe('the bounds of the peer port', () => {
  it('silent sockets filling the pending pool do not keep a real peer out: the oldest is closed', async () => {
    const b = await start(2, { maxPendingHandshakes: 8, handshakeTimeoutMs: 10_000 });
    const silent: RawPeer[] = [];
    for (let i = 0; i < 8; i++) silent.push(await open(b.port));
    await waitFor('8 pending', () => b.t.stats().peerPort.pendingHandshakes === 8);
    const a = await start(1);
    a.t.setPeers({ '2': b.addr });
    await delivers(a, b, 1, 2);
    const s = b.t.stats();
    expect(s.handshakesEvicted).toBe(1);
    expect(s.peerPort).toMatchObject({ pendingHandshakes: 7, authenticated: 1, connections: 8 });
    // The oldest silent socket was the one closed.
    await silent[0].waitClosed();
    expect(silent.slice(1).every((p) => !p.closed)).toBe(true);
    // More silent sockets keep displacing each other (the first fills the free place), never the
    // authenticated peer.
    for (let i = 0; i < 20; i++) await open(b.port);
    await waitFor('evictions', () => b.t.stats().handshakesEvicted === 20, 2000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(b.t.stats())}`);
    });
    await delivers(a, b, 1, 2);
    expect(b.t.stats().peerPort).toMatchObject({ pendingHandshakes: 8, authenticated: 1 });
  });

  it('closes silent sockets before a handshake that has sent its hello', async () => {
    const b = await start(2, { maxPendingHandshakes: 4, handshakeTimeoutMs: 10_000 });
    const early = await open(b.port);
    const talker = await open(b.port);
    talker.sendHello({ clusterId: 'test-cluster', from: 7, to: 2 });
    await talker.challenge();
    // Silent sockets, newer than both: they displace the silent `early` and each other only.
    const silent: RawPeer[] = [];
    for (let i = 0; i < 10; i++) silent.push(await open(b.port));
    await early.waitClosed();
    await waitFor('8 evictions', () => b.t.stats().handshakesEvicted === 8);
    expect(talker.closed).toBe(false);
    talker.sendProof(TEST_SECRET);
    talker.send(heartbeat(7, 2, 7));
    await waitFor('the heartbeat', () => seqs(b, 7).includes(7));
    // When every pending handshake has sent its hello, the oldest of them goes.
    const hellos: RawPeer[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await open(b.port);
      p.sendHello({ clusterId: 'test-cluster', from: 10 + i, to: 2 });
      await p.challenge();
      hellos.push(p);
    }
    await hellos[0].waitClosed();
    expect(hellos.slice(1).every((p) => !p.closed)).toBe(true);
  });

  it('closes a new connection at once when authenticated peers fill the port', async () => {
    const b = await start(2, { maxInboundConnections: 3, maxPendingHandshakes: 2 });
    const peers: RawPeer[] = [];
    for (const id of [7, 8, 9]) {
      const p = await open(b.port);
      await p.handshake({ clusterId: 'test-cluster', from: id, to: 2 }, TEST_SECRET);
      peers.push(p);
    }
    await waitFor('3 authenticated', () => b.t.stats().peerPort.authenticated === 3);
    const extra = await open(b.port);
    await extra.waitClosed();
    expect(extra.frames).toEqual([]);
    expect(b.t.stats()).toMatchObject({ inboundRefused: 1 });
    expect(peers.every((p) => !p.closed)).toBe(true);
    // Once one leaves, there is room again.
    peers[0].close();
    await waitFor('2 authenticated', () => b.t.stats().peerPort.authenticated === 2);
    const next = await open(b.port);
    await next.handshake({ clusterId: 'test-cluster', from: 7, to: 2 }, TEST_SECRET);
    next.send(heartbeat(7, 2, 77));
    await waitFor('heartbeat from the new connection', () => seqs(b, 7).includes(77));
  });

  it('keeps one authenticated connection per peer: the newest replaces the older', async () => {
    const b = await start(2);
    const first = await open(b.port);
    await first.handshake({ clusterId: 'test-cluster', from: 7, to: 2 }, TEST_SECRET);
    await waitFor('authenticated', () => b.t.stats().peerPort.authenticated === 1);
    const second = await open(b.port);
    await second.handshake({ clusterId: 'test-cluster', from: 7, to: 2 }, TEST_SECRET);
    await first.waitClosed();
    second.send(heartbeat(7, 2, 5));
    await waitFor('heartbeat', () => seqs(b, 7).includes(5));
    expect(b.t.stats().peers['7']).toMatchObject({ replaced: 1, inbound: true });
    expect(b.t.stats().peerPort).toMatchObject({ authenticated: 1, connections: 1 });
  });

  it('closes the connection holding the most bytes of incomplete frames when the budget is exceeded', async () => {
    const b = await start(2, { frameBudget: new FrameBudget(64 * 1024), maxFrameBytes: 60 * 1024 });
    const codec = new MessageCodec();
    const big = (from: number): Buffer =>
      codec.encodeFrame({
        type: 'snap',
        from,
        to: 2,
        term: 1,
        meta: { index: 5, term: 1, conf: { voters: [1, 2], learners: [], addresses: {} } },
        offset: 0,
        total: 50_000,
        data: new Uint8Array(50_000).fill(from),
        done: true,
      });
    const seven = await open(b.port);
    await seven.handshake({ clusterId: 'test-cluster', from: 7, to: 2 }, TEST_SECRET);
    const eight = await open(b.port);
    await eight.handshake({ clusterId: 'test-cluster', from: 8, to: 2 }, TEST_SECRET);
    const f7 = big(7);
    const f8 = big(8);
    seven.write(f7.subarray(0, 40 * 1024));
    await waitFor('40 KiB held', () => b.t.stats().peerPort.partialFrameBytes >= 40 * 1024);
    eight.write(f8.subarray(0, 30 * 1024));
    // 70 KiB > 64 KiB: node 7's connection, the largest, is closed; node 8's stays.
    await seven.waitClosed();
    expect(b.t.stats()).toMatchObject({ budgetEvicted: 1 });
    expect(b.t.stats().peers['7'].budgetEvicted).toBe(1);
    await waitFor('30 KiB held', () => b.t.stats().peerPort.partialFrameBytes === 30 * 1024);
    // Node 8 completes its frame.
    eight.write(f8.subarray(30 * 1024));
    await waitFor('node 8 snapshot', () =>
      b.received.some((m) => m.type === 'snap' && m.from === 8),
    );
    expect(eight.closed).toBe(false);
    expect(b.t.stats().peerPort.partialFrameBytes).toBe(0);
    expect(b.logs.some((l) => l.msg.includes('over its budget of 65536 bytes'))).toBe(true);
  });

  it('shares the process budget with other ports, closing a stranger before an authenticated peer', async () => {
    const frameBudget = new FrameBudget(64 * 1024);
    const b = await start(2, { frameBudget, maxFrameBytes: 60 * 1024 });
    // A stranger on another port of the process (a client connection) holds 20 KiB.
    const strangerEvicted: string[] = [];
    const stranger = new FrameDecoder(60 * 1024, {
      budget: frameBudget,
      evicted: (e) => strangerEvicted.push(e.message),
    });
    const h = Buffer.alloc(4);
    h.writeUInt32BE(50_000);
    expect([...stranger.push(Buffer.concat([h, Buffer.alloc(20 * 1024)]))]).toEqual([]);
    const seven = await open(b.port);
    await seven.handshake({ clusterId: 'test-cluster', from: 7, to: 2 }, TEST_SECRET);
    // Bytes that arrive before the proof is checked are a stranger's; wait until it is.
    await waitFor('authenticated', () => b.t.stats().peerPort.authenticated === 1);
    const frame = new MessageCodec().encodeFrame({
      type: 'snap',
      from: 7,
      to: 2,
      term: 1,
      meta: { index: 5, term: 1, conf: { voters: [2, 7], learners: [], addresses: {} } },
      offset: 0,
      total: 50_000,
      data: new Uint8Array(50_000).fill(7),
      done: true,
    });
    // The peer's 46 KiB take the process over 64 KiB: the peer holds the most, the stranger goes.
    seven.write(frame.subarray(0, 46 * 1024));
    await waitFor('stranger evicted', () => strangerEvicted.length === 1);
    seven.write(frame.subarray(46 * 1024));
    await waitFor('snapshot chunk', () =>
      b.received.some((m) => m.type === 'snap' && m.from === 7),
    );
    expect(seven.closed).toBe(false);
    expect(b.t.stats().budgetEvicted).toBe(0);
    expect(frameBudget.stats()).toMatchObject({ heldBytes: 0, evictions: 1 });
  });

  it('closes a handshake that does not complete within the handshake timeout', async () => {
    const b = await start(2, { handshakeTimeoutMs: 150 });
    const p = await open(b.port);
    p.sendHello({ clusterId: 'test-cluster', from: 9, to: 2 });
    await p.challenge();
    const t0 = Date.now();
    await p.waitClosed();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(p.errors().map((e) => e.error)).toEqual(['handshake-timeout']);
    expect(b.t.stats().peerPort.limits).toMatchObject({ handshakeTimeoutMs: 150 });
  });

  it('refuses a budget that cannot hold one whole frame', () => {
    const o = { id: 2, clusterId: 'c', secret: TEST_SECRET, maxFrameBytes: 1000 };
    expect(() => new TcpTransport({ ...o, frameBudget: new FrameBudget(1003) })).toThrow(
      'the frame budget (1003 bytes) must hold at least one whole frame of maxFrameBytes (1000)',
    );
    expect(() => new TcpTransport({ ...o, frameBudget: new FrameBudget(1004) })).not.toThrow();
  });

  it('reports its limits in the stats', async () => {
    const b = await start(2, {
      maxInboundConnections: 40,
      maxPendingHandshakes: 10,
      frameBudget: new FrameBudget(1 << 20),
      maxFrameBytes: 1 << 19,
    });
    expect(b.t.stats().peerPort).toEqual({
      connections: 0,
      pendingHandshakes: 0,
      authenticated: 0,
      partialFrameBytes: 0,
      limits: {
        maxInboundConnections: 40,
        maxPendingHandshakes: 10,
        handshakeTimeoutMs: 2000,
        partialFrameBudgetBytes: 1 << 20,
        maxFrameBytes: 1 << 19,
      },
    });
  });
});

describe('the outbound queue across a reconnect', () => {
  it('holds messages while the link authenticates, and drops them when the connection is lost', async () => {
    // A listener that reads the hello and then closes: the handshake never completes.
    const s = await squatter((sock) => setTimeout(() => sock.destroy(), 100));
    const a = await start(1);
    a.t.setPeers({ '2': `127.0.0.1:${s.port}` });
    await waitFor('the hello', () => s.conns.length === 1 && s.conns[0].length > 0);
    a.t.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2), heartbeat(1, 2, 3)]);
    // (delivers() below uses sequence numbers from 10,000 on.)
    expect(a.t.stats().peers['2']).toMatchObject({ queuedMessages: 3, dropped: 0 });
    await waitFor('the connection lost', () => a.t.stats().peers['2'].queuedMessages === 0);
    expect(a.t.stats().peers['2'].dropped).toBe(3);
    // The real peer takes the port over: only what is sent after reconnecting arrives.
    const port = s.port;
    await new Promise<void>((r) => s.server.close(() => r()));
    const b = await start(2, { port });
    await delivers(a, b, 1, 2);
    expect(seqs(b, 1).filter((x) => x <= 3)).toEqual([]);
  });
});
