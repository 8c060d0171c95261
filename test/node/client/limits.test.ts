/**
 * The client port's bounds, over real sockets: a flood of idle connections cannot keep a working
 * client out (the one idle the longest makes room), idle connections are closed after the idle
 * timeout, a connection with a request in flight is neither, a full port of busy connections
 * refuses a new one with a reason, and half-sent large frames beyond the process's budget close
 * the largest sender while the others go on.
 */
import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../../main/node/client';
import { ClientServer, type ClientServerOptions } from '../../../main/node/client-server';
import { FrameBudget } from '../../../main/node/transport/frame-budget';
import { encodeFrame } from '../../../main/node/transport/framing';
import { FakeNode } from '../fake-node';
import { RawConn, sleep, waitFor } from '../raw-conn';

const MiB = 1024 * 1024;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(node: FakeNode, options: Partial<ClientServerOptions>) {
  const server = new ClientServer({ node, ...options });
  closers.push(() => server.close());
  const { port } = await server.listen();
  return { server, port, address: `127.0.0.1:${port}` };
}

async function raws(port: number, n: number): Promise<RawConn[]> {
  const out: RawConn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawConn.open(port);
    closers.push(() => c.close());
    out.push(c);
  }
  return out;
}

function client(address: string): KvClient {
  const kv = new KvClient({ endpoints: [address], timeoutMs: 3000 });
  closers.push(() => kv.close());
  return kv;
}

describe('client port bounds', () => {
  it('serves a real client while idle connections fill the port, closing the oldest idle one', async () => {
    const node = new FakeNode();
    const { server, port, address } = await serve(node, { maxConnections: 8 });
    const idle = await raws(port, 8);
    await waitFor(() => server.stats().connections === 8);

    await client(address).put('k', 'v');
    expect(node.value('k')).toBe('v');
    // The first idle connection made room; the rest are untouched.
    await idle[0]!.waitClosed();
    expect(idle.slice(1).every((c) => !c.closed)).toBe(true);
    const s = server.stats();
    expect(s.evicted).toBe(1);
    expect(s.connections).toBe(8);
    expect(s.limits.maxConnections).toBe(8);

    // A flood far beyond the cap does not change that.
    await raws(port, 40);
    await client(address).put('k', 'w');
    expect(node.value('k')).toBe('w');
    expect(server.stats().connections).toBeLessThanOrEqual(8);
  });

  it('closes a connection idle for the idle timeout, saying why', async () => {
    const node = new FakeNode();
    const { server, port } = await serve(node, { idleTimeoutMs: 200 });
    const [c] = await raws(port, 1);
    c!.send({ id: 1, op: 'get', key: 'a' });
    await c!.response(1);
    const answeredAt = Date.now();
    await c!.waitClosed(3000);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(190);
    expect(c!.frames.at(-1)).toEqual({
      ok: false,
      error: 'unavailable',
      detail: 'closing the connection: idle for 200 ms',
    });
    expect(server.stats().idleClosed).toBe(1);
  });

  it('neither closes nor evicts a connection with a request in flight', async () => {
    const node = new FakeNode();
    node.readMode = 'hang';
    const { server, port } = await serve(node, { maxConnections: 2, idleTimeoutMs: 100 });
    const [busy] = await raws(port, 1);
    busy!.send({ id: 1, op: 'get', key: 'a' });
    await waitFor(() => server.stats().requests === 1);
    const [idle] = await raws(port, 1);
    await sleep(400);
    // The idle one timed out; the busy one is still open with its request unanswered.
    expect(idle!.closed).toBe(true);
    expect(busy!.closed).toBe(false);

    // Full of busy connections: the newcomer is told why and closed.
    const [busy2] = await raws(port, 1);
    busy2!.send({ id: 1, op: 'get', key: 'b' });
    await waitFor(() => server.stats().requests === 2);
    const [late] = await raws(port, 1);
    await late!.waitClosed();
    expect(late!.frames).toEqual([
      {
        ok: false,
        error: 'unavailable',
        detail: 'too many client connections (limit 2), all with requests in flight',
      },
    ]);
    expect(server.stats().refused).toBe(1);
    expect(busy!.closed || busy2!.closed).toBe(false);
    node.readMode = 'normal';
  });
});

describe('the frame budget on a client port', () => {
  it('closes the largest half-sent frame beyond the budget, lets the others finish, and releases it', async () => {
    const node = new FakeNode();
    const budget = new FrameBudget(4 * MiB);
    const server = new ClientServer({ node, frameBudget: budget });
    closers.push(() => server.close());
    const { port } = await server.listen();
    const put = (key: string): Buffer =>
      encodeFrame(
        encode({
          id: 1,
          op: 'put',
          key,
          value: Buffer.alloc(3 * MiB, 1),
          clientId: 'c',
          seq: key.charCodeAt(0),
        }),
      );
    const a = await RawConn.open(port);
    const b = await RawConn.open(port);
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const frameA = put('a');
    const frameB = put('b');
    a.sendBytes(frameA.subarray(0, 2.5 * MiB));
    await waitFor(() => budget.stats().heldBytes === 2.5 * MiB, 5000);
    b.sendBytes(frameB.subarray(0, 2 * MiB));
    await a.waitClosed(5000);
    expect(a.frames).toEqual([
      {
        ok: false,
        error: 'unavailable',
        detail:
          'closed to keep incomplete frames within the process budget of 4194304 bytes: ' +
          'this connection held 2621440 bytes of an incomplete frame, the most of any',
      },
    ]);
    b.sendBytes(frameB.subarray(2 * MiB));
    expect(await b.response(1, 5000)).toEqual({ id: 1, ok: true });
    expect(node.value('b')).toHaveLength(3 * MiB);
    expect(node.value('a')).toBeUndefined();
    expect(budget.stats()).toMatchObject({ heldBytes: 0, evictions: 1, evictedBytes: 2.5 * MiB });
    expect(server.stats().overBudget).toBe(1);
  });
});
