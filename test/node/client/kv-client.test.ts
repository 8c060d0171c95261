/**
 * KvClient against fake nodes: round trips, pipelining, leader redirects, safe retries (a retried
 * write carries the same clientId and seq and is applied once), unknown outcomes, and errors that
 * say what was tried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  KvClient,
  KvError,
  UnknownOutcomeError,
  type KvClientOptions,
} from '../../../main/node/client';
import { ClientServer } from '../../../main/node/client-server';
import { FakeNode } from '../fake-node';
import { freePort, sleep } from '../raw-conn';

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(node: FakeNode, port = 0) {
  const server = new ClientServer({ node, port });
  closers.push(() => server.close());
  const a = await server.listen();
  return { server, address: `127.0.0.1:${a.port}` };
}

function client(options: KvClientOptions): KvClient {
  const c = new KvClient({ backoff: { initialMs: 5, maxMs: 40 }, ...options });
  closers.push(() => c.close());
  return c;
}

const text = (b: Uint8Array | null): string | null =>
  b === null ? null : Buffer.from(b).toString();

describe('KvClient', () => {
  it('round-trips put, get, del and cas', async () => {
    const { address } = await serve(new FakeNode());
    const kv = client({ endpoints: [address] });
    expect(await kv.put('k', 'v1')).toEqual({ prev: null });
    expect(text((await kv.put('k', new Uint8Array([0x76, 0x32]))).prev)).toBe('v1');
    expect(text(await kv.get('k'))).toBe('v2');
    expect(await kv.get('missing')).toBeNull();
    expect(await kv.cas('k', 'v2', 'v3')).toEqual({ ok: true });
    const miss = await kv.cas('k', 'nope', 'v4');
    expect(miss.ok).toBe(false);
    expect(text((miss as { current: Uint8Array | null }).current)).toBe('v3');
    expect(await kv.cas('fresh', null, 'x')).toEqual({ ok: true });
    expect(await kv.cas('fresh', null, 'y')).toEqual({
      ok: false,
      current: new TextEncoder().encode('x'),
    });
    expect(text((await kv.del('k')).prev)).toBe('v3');
    expect(await kv.del('k')).toEqual({ prev: null });
    expect(await kv.cas('k', 'v3', 'z')).toEqual({ ok: false, current: null });
    expect(kv.lastServedBy).toBe(address);
  });

  it('pipelines 1000 concurrent requests on one connection', async () => {
    const node = new FakeNode();
    let n = 0;
    node.delayMs = () => n++ % 7; // answers come back out of order
    const { server, address } = await serve(node);
    const kv = client({ endpoints: [address], timeoutMs: 10_000 });
    const ops = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0 ? kv.put(`k${i}`, `v${i}`) : kv.get(`k${i - 1}`),
    );
    const results = await Promise.all(ops);
    expect(results.filter((r) => r !== null && 'prev' in r)).toHaveLength(500);
    for (let i = 0; i < 1000; i += 2) expect(node.value(`k${i}`)).toBe(`v${i}`);
    expect(server.stats()).toMatchObject({ accepted: 1, requests: 1000, busy: 0 });
    // Every write got its own sequence number.
    expect(new Set(node.proposals.map((p) => p.seq)).size).toBe(500);
  });

  it('follows a follower to the leader it names', async () => {
    const leader = new FakeNode(1);
    const l = await serve(leader);
    const follower = new FakeNode(2);
    follower.follower = { leaderId: 1, leaderClientAddress: l.address };
    const f = await serve(follower);
    const kv = client({ endpoints: [f.address] });
    const r = await kv.execute({ op: 'put', key: 'k', value: 'v' });
    expect(r).toMatchObject({ servedBy: l.address, attempts: 2 });
    expect(kv.lastServedBy).toBe(l.address);
    expect(leader.value('k')).toBe('v');
    // The follower saw the write once, the leader once, with the same clientId and seq.
    expect(follower.proposals).toHaveLength(1);
    expect(leader.proposals).toEqual([follower.proposals[0]]);
    // Later operations go straight to the leader.
    await kv.get('k');
    expect(follower.proposals).toHaveLength(1);
  });

  it('tries the next endpoint when a follower knows no leader', async () => {
    const leader = new FakeNode(1);
    const l = await serve(leader);
    const lost = new FakeNode(2);
    lost.follower = { leaderId: 0, leaderClientAddress: '' };
    const f = await serve(lost);
    const kv = client({ endpoints: [f.address, l.address] });
    expect((await kv.execute({ op: 'put', key: 'k', value: 'v' })).servedBy).toBe(l.address);
  });

  it('retries a write on a restarted server with the same seq; it is applied once', async () => {
    const node = new FakeNode();
    const first = await serve(node);
    const laterPort = await freePort();
    const later = `127.0.0.1:${laterPort}`;
    const kv = client({ endpoints: [first.address, later], timeoutMs: 5000 });

    // The node takes the write, then its server goes away before answering, and comes back
    // on another port a little later.
    node.writeMode = 'drop';
    node.onDrop = () => {
      node.writeMode = 'normal';
      void first.server.close();
      setTimeout(() => void serve(node, laterPort), 150);
    };
    const r = await kv.execute({ op: 'cas', key: 'k', expected: null, value: 'once' });

    // Applied twice, the cas would have failed the second time (the key already held 'once').
    expect(r.result).toEqual({ ok: true });
    expect(r.servedBy).toBe(later);
    expect(node.value('k')).toBe('once');
    expect(node.proposals.length).toBeGreaterThanOrEqual(2);
    const ids = new Set(node.proposals.map((p) => `${p.clientId}/${p.seq}`));
    expect(ids.size).toBe(1);
    expect(node.kv.appliedIndex).toBe(node.proposals.length);
  });

  it('reports a write whose connection dropped after sending as UnknownOutcomeError', async () => {
    const node = new FakeNode();
    const { server, address } = await serve(node);
    node.writeMode = 'drop';
    node.onDrop = () => server.dropConnections();
    const kv = client({ endpoints: [address], timeoutMs: 400 });
    const err = await kv.put('k', 'maybe').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    const u = err as UnknownOutcomeError;
    expect(u.op).toBe('put');
    expect(u.key).toBe('k');
    expect(u.cause).toBeInstanceOf(KvError);
    expect(u.message).toMatch(/^put of "k": outcome unknown \(/);
    // It did take effect, once, however many times it was retried.
    expect(node.value('k')).toBe('maybe');
    expect(new Set(node.proposals.map((p) => p.seq)).size).toBe(1);
  });

  it('reports a write that never got an answer as unknown, a read as a timeout', async () => {
    const node = new FakeNode();
    node.writeMode = 'hang';
    node.readMode = 'hang';
    const { address } = await serve(node);
    const kv = client({ endpoints: [address], timeoutMs: 300, attemptTimeoutMs: 100 });
    await expect(kv.del('k')).rejects.toBeInstanceOf(UnknownOutcomeError);
    const readErr = await kv.get('k').catch((e: unknown) => e);
    expect(readErr).toBeInstanceOf(KvError);
    expect((readErr as KvError).code).toBe('timeout');
  });

  it('keeps retrying after unknown-outcome answers and settles on the first result', async () => {
    const node = new FakeNode();
    node.writeMode = 'unknown';
    const { address } = await serve(node);
    const kv = client({ endpoints: [address], timeoutMs: 3000 });
    const p = kv.put('k', 'v');
    await sleep(50);
    node.writeMode = 'normal';
    expect(await p).toEqual({ prev: null });
    expect(node.value('k')).toBe('v');
    expect(new Set(node.proposals.map((x) => x.seq)).size).toBe(1);
  });

  it('sends a write refused as stale again under a fresh seq when it cannot have applied', async () => {
    const node = new FakeNode();
    const { address } = await serve(node);
    const kv = client({ endpoints: [address], firstSeq: 100 });
    // The first write (seq 100) is refused once, definitely; the second (seq 101) is applied
    // meanwhile, so the first one's retry is older than the client's latest write.
    let refused = false;
    node.refuse = (cmd) => cmd.seq === 100 && !refused && (refused = true);
    const [x, y] = await Promise.all([kv.put('x', '1'), kv.put('y', '2')]);
    expect([x, y]).toEqual([{ prev: null }, { prev: null }]);
    expect(node.proposals.map((p) => p.seq)).toEqual([100, 101, 100, 102]);
    expect([node.value('x'), node.value('y')]).toEqual(['1', '2']);
  });

  it('says which addresses it tried when no node is reachable', async () => {
    const a = `127.0.0.1:${await freePort()}`;
    const b = `127.0.0.1:${await freePort()}`;
    const kv = client({ endpoints: [a, b], timeoutMs: 200 });
    const err = await kv.put('k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe('unreachable');
    expect((err as Error).message).toBe(`no node reachable (tried ${a}, ${b})`);
    // Never sent anywhere: a definite failure, not an unknown outcome.
    await expect(kv.get('k')).rejects.toThrow(`no node reachable (tried ${a}, ${b})`);
  });

  it('fails at once on a request the server refuses as bad', async () => {
    const { address } = await serve(new FakeNode());
    const kv = client({ endpoints: [address] });
    const err = await kv.put('k'.repeat(5000), 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe('bad-request');
    expect((err as Error).message).toBe(`${address}: key is 5000 bytes; the limit is 4096`);
  });

  it('refuses operations after close', async () => {
    const { address } = await serve(new FakeNode());
    const kv = client({ endpoints: [address] });
    await kv.put('k', 'v');
    await kv.close();
    await expect(kv.get('k')).rejects.toMatchObject({ code: 'closed' });
  });
});
