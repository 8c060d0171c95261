/**
 * Peer authentication of real node processes: a local process that knows the cluster id (it is
 * in cluster.json, in `ps` and, before, in error frames) but not the peer secret cannot forge Raft
 * messages, replay a captured handshake, or learn the cluster id from a refusal; a node refuses
 * to start without a private secret; the peer port's bounds keep real peers in under a flood.
 */
import { chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../../../main/node/admin-client';
import { KvClient } from '../../../main/node/client';
import type { NodeStatus } from '../../../main/node/node-api';
import { peerSecretPath, writePeerSecret } from '../../../main/node/peer-secret';
import { FrameDecoder } from '../../../main/node/transport/framing';
import { newNonce } from '../../../main/node/transport/peer-auth';
import type { Message } from '../../../main/raft/types';
import { RawPeer, forgeEveryWay, forgedTermHeartbeat, forgedWipe } from '../raw-peer';
import { TestCluster, waitFor } from './harness';

const text = (v: Uint8Array | null): string | null => (v ? new TextDecoder().decode(v) : null);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

let cluster: TestCluster | undefined;
const clients: KvClient[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cluster?.destroy();
  cluster = undefined;
});

async function three(extra: string[] = []): Promise<TestCluster> {
  cluster = new TestCluster(['--heartbeat-ms', '50', '--election-ms', '500', ...extra]);
  await cluster.define([1, 2, 3]);
  await Promise.all([1, 2, 3].map((id) => cluster!.start(id, { peers: [1, 2, 3] })));
  return cluster;
}

function client(c: TestCluster, ids = [1, 2, 3]): KvClient {
  const k = new KvClient({
    endpoints: ids.map((id) => c.specs.get(id)!.client),
    timeoutMs: 10_000,
  });
  clients.push(k);
  return k;
}

async function status(c: TestCluster, id: number): Promise<NodeStatus> {
  const a = await AdminClient.connect(c.specs.get(id)!.admin, c.token, { connectTimeoutMs: 2000 });
  try {
    return await a.status();
  } finally {
    await a.close();
  }
}

async function openPeer(port: number): Promise<RawPeer> {
  const p = await RawPeer.open(port);
  cleanups.push(() => p.close());
  return p;
}

/** forge: forgeEveryWay, with every connection closed when the test ends. */
async function forge(port: number, clusterId: string, from: number, to: number, msgs: Message[]) {
  const forged = await forgeEveryWay(port, clusterId, from, to, msgs);
  for (const p of Object.values(forged)) cleanups.push(() => p.close());
  return forged;
}

describe('a process that knows the cluster id but not the peer secret', () => {
  it('cannot deliver a heartbeat at term 2^53 - 1 or an empty InstallSnapshot to any node', async () => {
    const c = await three();
    const kv = client(c);
    for (let i = 0; i < 20; i++) await kv.put(`k${i}`, `v${i}`);
    const before = await Promise.all([1, 2, 3].map((id) => status(c, id)));
    const term = Math.max(...before.map((s) => s.term));
    for (const to of [1, 2, 3]) {
      const from = to === 1 ? 2 : 1;
      const port = portOf(c.specs.get(to)!.peer);
      const snap = forgedWipe(from, to, term + 1);
      const r = await forge(port, c.clusterId, from, to, [snap]);
      expect(r.v1.errors().map((e) => e.error)).toEqual(['version-mismatch']);
      expect(r.pipelined.errors().map((e) => e.error)).toEqual(['auth-failed']);
      expect(r.patient.errors().map((e) => e.error)).toEqual(['auth-failed']);
      expect(r.reflect.errors().map((e) => e.error)).toEqual(['auth-failed']);
    }
    for (const to of [1, 2, 3]) {
      const from = to === 1 ? 2 : 1;
      const port = portOf(c.specs.get(to)!.peer);
      await forge(port, c.clusterId, from, to, [forgedTermHeartbeat(from, to)]);
    }
    await sleep(1000);
    const after = await Promise.all([1, 2, 3].map((id) => status(c, id)));
    for (const s of after) {
      expect(s.term, `node ${s.id} term`).toBeLessThan(term + 10);
      expect(s.voters.slice().sort(), `node ${s.id} voters`).toEqual([1, 2, 3]);
      expect(s.snapshotIndex, `node ${s.id} snapshot`).toBeLessThan(1_000_000);
      expect(s.transport.authFailures, `node ${s.id} auth failures`).toBeGreaterThanOrEqual(6);
    }
    for (let i = 0; i < 20; i++) expect(text(await kv.get(`k${i}`))).toBe(`v${i}`);
    // The cluster still works.
    await kv.put('after', 'yes');
    expect(text(await kv.get('after'))).toBe('yes');
  }, 90_000);

  it('learns nothing from a refusal: wrong cluster id, wrong secret', async () => {
    const c = await three();
    const port = portOf(c.specs.get(1)!.peer);
    // A hello of either version with a guessed cluster id: the refusal does not name the real one.
    const received: Buffer[] = [];
    const errors: string[] = [];
    for (const version of [1, 2]) {
      const wrongId = await openPeer(port);
      wrongId.sendHello({ clusterId: 'guessing', from: 2, to: 1, version });
      await wrongId.waitClosed();
      expect(wrongId.errors()).toHaveLength(1);
      errors.push(wrongId.errors()[0].error);
      received.push(...wrongId.received);
    }
    const bytes = Buffer.concat(received).toString('latin1');
    expect(bytes).not.toContain(c.clusterId);
    expect(bytes).not.toContain(c.clusterId.slice(5));
    expect(errors).toEqual(['version-mismatch', 'cluster-id-mismatch']);
    // The right cluster id and a made-up secret: auth-failed.
    const wrongSecret = await openPeer(port);
    wrongSecret.sendHello({ clusterId: c.clusterId, from: 2, to: 1 });
    await wrongSecret.challenge();
    expect(wrongSecret.acceptorProved(newNonce())).toBe(false);
    expect(wrongSecret.acceptorProved(c.secret)).toBe(true);
    wrongSecret.sendProof(newNonce());
    await wrongSecret.waitClosed();
    expect(wrongSecret.errors().map((e) => e.error)).toEqual(['auth-failed']);
    const s = await status(c, 1);
    expect(s.transport.authFailures).toBe(1);
  }, 60_000);

  it('cannot replay a handshake it captured between two nodes', async () => {
    cluster = new TestCluster(['--heartbeat-ms', '50', '--election-ms', '500']);
    const c = cluster;
    await c.define([1, 2, 3]);
    // Node 1 listens on its own port; the others reach it through a relay that records.
    const real = c.specs.get(1)!.peer;
    const captured: { toNode: Buffer[]; fromNode: Buffer[] }[] = [];
    const sockets = new Set<Socket>();
    const relay: Server = createServer((inbound) => {
      const rec = { toNode: [] as Buffer[], fromNode: [] as Buffer[] };
      captured.push(rec);
      const out = connect({ host: '127.0.0.1', port: portOf(real) });
      for (const s of [inbound, out]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          sockets.delete(s);
          inbound.destroy();
          out.destroy();
        });
      }
      inbound.on('data', (d: Buffer) => {
        rec.toNode.push(d);
        out.write(d);
      });
      out.on('data', (d: Buffer) => {
        rec.fromNode.push(d);
        inbound.write(d);
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          relay.close(() => r());
        }),
    );
    const ra = relay.address();
    c.specs.get(1)!.peer = `127.0.0.1:${typeof ra === 'object' && ra ? ra.port : 0}`;
    await Promise.all([
      c.start(1, { peers: [1, 2, 3], args: ['--peer-addr', real] }),
      c.start(2, { peers: [1, 2, 3] }),
      c.start(3, { peers: [1, 2, 3] }),
    ]);
    const kv = client(c);
    await kv.put('through', 'the relay');
    await waitFor('a captured handshake with messages', () =>
      captured.some((r) => r.toNode.reduce((n, b) => n + b.length, 0) > 200),
    );
    const rec = captured.find((r) => r.toNode.reduce((n, b) => n + b.length, 0) > 200)!;
    const before = (await status(c, 1)).transport;
    const replay = await openPeer(portOf(real));
    replay.write(Buffer.concat(rec.toNode));
    await replay.waitClosed(5000);
    expect(replay.errors().map((e) => e.error)).toEqual(['auth-failed']);
    // The node's challenge to the replay was fresh, not the captured one.
    const captureChallenge = firstFrame(rec.fromNode);
    expect(Buffer.from(replay.received[0]).includes(captureChallenge.subarray(0, 40))).toBe(false);
    const after = (await status(c, 1)).transport;
    expect(after.authFailures - before.authFailures).toBe(1);
  }, 60_000);
});

function firstFrame(chunks: Buffer[]): Buffer {
  const d = new FrameDecoder(4096);
  for (const c of chunks) for (const f of d.push(c)) return Buffer.from(f);
  throw new Error('no frame captured');
}

describe('a node and its peer secret', () => {
  it('refuses to start without a secret, with a malformed one, or one that group or others can read', async () => {
    cluster = new TestCluster();
    const c = cluster;
    await c.define([1]);
    const dir = c.specs.get(1)!.dataDir;
    const file = peerSecretPath(dir);
    const startFails = async (): Promise<string> => {
      const e = (await c.start(1, { peers: [1] }).then(
        () => {
          throw new Error('the node started');
        },
        (err: unknown) => err,
      )) as { code: number; stderr: string };
      expect(e.code).toBe(2);
      expect(e.stderr).toContain(file);
      return e.stderr;
    };
    chmodSync(file, 0o640);
    expect(await startFails()).toContain('mode 0640 lets group or others access it');
    chmodSync(file, 0o604);
    expect(await startFails()).toContain('mode 0604');
    chmodSync(file, 0o600);
    writeFileSync(file, 'not hex at all\n');
    expect(await startFails()).toContain('malformed');
    rmSync(file);
    expect(await startFails()).toContain('missing');
    // Nothing was created in the data dir by the refused starts.
    expect(readdirSync(dir)).toEqual([]);
    // With the secret back, it starts.
    writePeerSecret(file, c.secret);
    await c.start(1, { peers: [1] });
  }, 60_000);

  it('is never passed in arguments or the environment', async () => {
    const c = await three();
    const hex = c.secret.toString('hex');
    for (const rn of c.running.values()) {
      const cmdline = readFileSync(`/proc/${rn.pid}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${rn.pid}/environ`, 'latin1');
      expect(cmdline).not.toContain(hex);
      expect(environ).not.toContain(hex);
    }
  }, 60_000);
});

describe('the bounds of the peer port, on a real node', () => {
  it('silent sockets holding every pending place do not keep a real peer out', async () => {
    const c = await three();
    const kv = client(c);
    await kv.put('warm', 'up');
    // 100 silent sockets on node 1's peer port (the pending limit is 64), each reopened as soon
    // as the node closes it: a crowd that takes every place that frees up.
    const port = portOf(c.specs.get(1)!.peer);
    let flooding = true;
    let connected = 0;
    const flood = new Set<Socket>();
    const hold = (): void => {
      if (!flooding) return;
      const s = connect({ host: '127.0.0.1', port });
      flood.add(s);
      s.on('connect', () => (connected += 1));
      s.on('error', () => undefined);
      // Read (and drop) what comes, so that a close by the node is noticed and the place retaken.
      s.resume();
      s.on('close', () => {
        flood.delete(s);
        setTimeout(hold, 1);
      });
    };
    cleanups.push(() => {
      flooding = false;
      for (const s of flood) s.destroy();
    });
    for (let i = 0; i < 100; i++) hold();
    await waitFor('100 silent sockets', () => connected >= 100);
    await waitFor('the pending places taken', async () => {
      const s = await status(c, 1);
      return s.transport.peerPort.pendingHandshakes === 64;
    });
    // A peer that knows the secret gets in on its first attempt, every time.
    for (let i = 1; i <= 5; i++) {
      const p = await openPeer(port);
      await p.handshake({ clusterId: c.clusterId, from: 9, to: 1 }, c.secret);
      p.send({ type: 'heartbeat-resp', from: 9, to: 1, term: 0, readSeq: 0 });
      await waitFor(`message ${i} from node 9`, async () => {
        const s = await status(c, 1);
        return s.transport.peers['9']?.received === i;
      });
      p.close();
    }
    // Node 2 restarts: it dials node 1 again through the flood. With node 3 down, every write
    // needs the connection from node 2 to node 1.
    await c.kill(2);
    await c.start(2, { peers: [1, 2, 3] });
    await c.kill(3);
    const kv2 = client(c, [1, 2]);
    for (let i = 0; i < 5; i++) await kv2.put(`through-${i}`, String(i));
    expect(text(await kv2.get('through-4'))).toBe('4');
    const s1 = await status(c, 1);
    expect(s1.transport.peers['2']?.inbound).toBe(true);
    expect(s1.transport.handshakesEvicted).toBeGreaterThan(0);
    expect(s1.transport.peerPort.pendingHandshakes).toBeLessThanOrEqual(64);
  }, 90_000);

  it('closes the connection holding the most bytes of incomplete frames beyond the budget', async () => {
    const budget = 64 * 1024 * 1024 + 4;
    const c = await three(['--max-partial-frame-bytes', String(budget)]);
    const port = portOf(c.specs.get(1)!.peer);
    // Insiders (they know the secret) announce 60 MB frames and send part of them.
    const big = await openPeer(port);
    await big.handshake({ clusterId: c.clusterId, from: 7, to: 1 }, c.secret);
    const small = await openPeer(port);
    await small.handshake({ clusterId: c.clusterId, from: 8, to: 1 }, c.secret);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(60_000_000);
    big.write(Buffer.concat([header, Buffer.alloc(40 << 20, 0x91)]));
    await waitFor('40 MiB held', async () => {
      const s = await status(c, 1);
      return s.transport.peerPort.partialFrameBytes >= 40 << 20;
    });
    small.write(Buffer.concat([header, Buffer.alloc(30 << 20, 0x91)]));
    await big.waitClosed(10_000);
    await waitFor('30 MiB held', async () => {
      const s = await status(c, 1);
      return s.transport.peerPort.partialFrameBytes === (30 << 20) + 4;
    });
    expect(small.closed).toBe(false);
    const s = await status(c, 1);
    expect(s.transport.budgetEvicted).toBe(1);
    expect(s.transport.peers['7']?.budgetEvicted).toBe(1);
    expect(s.transport.peerPort.limits.partialFrameBudgetBytes).toBe(budget);
    // The node still serves.
    await client(c).put('still', 'here');
  }, 90_000);
});
