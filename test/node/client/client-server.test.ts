/**
 * The client server at the wire level: request validation, unreadable frames, bounds, and that a
 * misbehaving connection never stops the server from serving the next one.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KvClient } from '../../../main/node/client';
import {
  ClientServer,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  parseClientRequest,
  type ClientServerOptions,
} from '../../../main/node/client-server';
import { FakeNode } from '../fake-node';
import { RawConn } from '../raw-conn';

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(node: FakeNode, options: Partial<ClientServerOptions> = {}) {
  const server = new ClientServer({ node, ...options });
  closers.push(() => server.close());
  const { port } = await server.listen();
  return { server, port, address: `127.0.0.1:${port}` };
}

async function raw(port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  closers.push(() => c.close());
  return c;
}

function client(endpoints: string[]): KvClient {
  const c = new KvClient({ endpoints, timeoutMs: 1000 });
  closers.push(() => c.close());
  return c;
}

const bin = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: unknown): string => Buffer.from(b as Uint8Array).toString();

describe('client protocol', () => {
  it('answers put, get, del and cas by id', async () => {
    const { port } = await serve(new FakeNode());
    const c = await raw(port);
    const w = { clientId: 'c1' };
    c.send({ id: 1, op: 'put', key: 'k', value: bin('a'), ...w, seq: 1 });
    expect(await c.response(1)).toEqual({ id: 1, ok: true });
    c.send({ id: 2, op: 'get', key: 'k' });
    expect(text((await c.response(2)).value)).toBe('a');
    c.send({ id: 3, op: 'cas', key: 'k', expected: bin('x'), value: bin('b'), ...w, seq: 2 });
    const mismatch = await c.response(3);
    expect(mismatch).toMatchObject({ id: 3, ok: false, error: 'cas-mismatch' });
    expect(text(mismatch.current)).toBe('a');
    c.send({ id: 4, op: 'cas', key: 'k', expected: bin('a'), value: bin('b'), ...w, seq: 3 });
    expect(text((await c.response(4)).prev)).toBe('a');
    c.send({ id: 5, op: 'del', key: 'k', ...w, seq: 4 });
    expect(text((await c.response(5)).prev)).toBe('b');
    c.send({ id: 6, op: 'get', key: 'k' });
    expect(await c.response(6)).toEqual({ id: 6, ok: true });
    // cas without expected: the key must be absent.
    c.send({ id: 7, op: 'cas', key: 'k', value: bin('c'), ...w, seq: 5 });
    expect(await c.response(7)).toEqual({ id: 7, ok: true });
    // A sequence number older than the client's last one is refused.
    c.send({ id: 8, op: 'put', key: 'k', value: bin('d'), ...w, seq: 2 });
    expect(await c.response(8)).toMatchObject({ ok: false, error: 'stale-request' });
  });

  it('answers a follower with the leader id and client address', async () => {
    const node = new FakeNode(2);
    node.follower = { leaderId: 1, leaderClientAddress: '127.0.0.1:7101' };
    const { port } = await serve(node);
    const c = await raw(port);
    c.send({ id: 1, op: 'put', key: 'k', value: bin('a'), clientId: 'c', seq: 1 });
    expect(await c.response(1)).toMatchObject({
      ok: false,
      error: 'not-leader',
      leaderId: 1,
      leaderAddress: '127.0.0.1:7101',
    });
    node.follower = { leaderId: 0, leaderClientAddress: '' };
    c.send({ id: 2, op: 'get', key: 'k' });
    const r = await c.response(2);
    expect(r).toMatchObject({ ok: false, error: 'not-leader', detail: 'no leader is known' });
    expect(r).not.toHaveProperty('leaderId');
  });

  it('reports a write the node could not finish as unknown-outcome', async () => {
    const node = new FakeNode();
    node.writeMode = 'unknown';
    const { port } = await serve(node);
    const c = await raw(port);
    c.send({ id: 1, op: 'del', key: 'k', clientId: 'c', seq: 1 });
    expect(await c.response(1)).toMatchObject({ ok: false, error: 'unknown-outcome' });
  });

  it.each([
    [{ op: 'get', key: 'k' }, undefined, 'missing field id'],
    [{ id: -1, op: 'get', key: 'k' }, undefined, 'id must be an unsigned integer, got int -1'],
    [{ id: 'x', op: 'get', key: 'k' }, undefined, 'id must be an unsigned integer, got str'],
    [{ id: 1, key: 'k' }, 1, 'missing field op'],
    [{ id: 1, op: 'scan', key: 'k' }, 1, 'op must be one of put, get, del, cas; got "scan"'],
    [{ id: 1, op: 'get' }, 1, 'missing field key for get'],
    [{ id: 1, op: 'get', key: 5 }, 1, 'key must be a str, got int 5'],
    [{ id: 1, op: 'get', key: 'k', extra: true }, 1, 'unknown field "extra" for get'],
    [{ id: 1, op: 'put', key: 'k', value: bin('v'), seq: 1 }, 1, 'missing field clientId for put'],
    [{ id: 1, op: 'put', key: 'k', clientId: 'c', seq: 1 }, 1, 'missing field value for put'],
    [
      { id: 1, op: 'put', key: 'k', value: 'v', clientId: 'c', seq: 1 },
      1,
      'value must be a bin, got str',
    ],
    [
      { id: 1, op: 'put', key: 'k', value: bin('v'), clientId: 'c', seq: 1.5 },
      1,
      'seq must be an unsigned integer, got float 1.5',
    ],
    [
      { id: 1, op: 'put', key: 'k', value: bin('v'), clientId: '', seq: 1 },
      1,
      'clientId must be 1 to 128 bytes, got 0',
    ],
    [
      { id: 1, op: 'put', key: 'k', value: bin('v'), clientId: 'c'.repeat(129), seq: 1 },
      1,
      'clientId must be 1 to 128 bytes, got 129',
    ],
    [
      { id: 1, op: 'del', key: 'k', value: bin('v'), clientId: 'c', seq: 1 },
      1,
      'unknown field "value" for del',
    ],
    [
      { id: 1, op: 'cas', key: 'k', expected: 7, value: bin('v'), clientId: 'c', seq: 1 },
      1,
      'expected must be a bin, got int 7',
    ],
    [
      { id: 1, op: 'get', key: 'k'.repeat(MAX_KEY_BYTES + 1) },
      1,
      `key is ${MAX_KEY_BYTES + 1} bytes; the limit is ${MAX_KEY_BYTES}`,
    ],
    [[1, 2, 3], undefined, 'request must be a map, got array'],
  ])('parseClientRequest(%j) is refused', (req, id, detail) => {
    expect(parseClientRequest(req)).toEqual({ ok: false, id, detail });
  });

  it('answers bad requests with bad-request and keeps the connection', async () => {
    const node = new FakeNode();
    const { server, port } = await serve(node);
    const c = await raw(port);
    c.send({ id: 1, op: 'put', key: 5, value: bin('v'), clientId: 'c', seq: 1 });
    c.send({ id: 2, op: 'put', key: 'k', clientId: 'c', seq: 1 });
    c.send({ id: 3, op: 'get', key: 'é'.repeat(MAX_KEY_BYTES) });
    c.send({ op: 'get', key: 'k' });
    c.send('just a string');
    c.send({ id: 4, op: 'get', key: 'k' });
    expect(await c.response(1)).toEqual({
      id: 1,
      ok: false,
      error: 'bad-request',
      detail: 'key must be a str, got int 5',
    });
    expect((await c.response(2)).detail).toBe('missing field value for put');
    expect((await c.response(3)).detail).toBe(
      `key is ${2 * MAX_KEY_BYTES} bytes; the limit is ${MAX_KEY_BYTES}`,
    );
    expect(await c.response(4)).toEqual({ id: 4, ok: true });
    const idless = c.frames.filter((f) => (f as { id?: number }).id === undefined);
    expect(idless).toEqual([
      { ok: false, error: 'bad-request', detail: 'missing field id' },
      { ok: false, error: 'bad-request', detail: 'request must be a map, got str' },
    ]);
    expect(c.closed).toBe(false);
    expect(node.proposals).toEqual([]);
    expect(server.stats()).toMatchObject({ badRequests: 5, requests: 1 });
  });

  it('refuses a value over 16 MiB with a precise detail', async () => {
    const { port } = await serve(new FakeNode());
    const c = await raw(port);
    const value = new Uint8Array(MAX_VALUE_BYTES + 1);
    c.send({ id: 1, op: 'put', key: 'k', value, clientId: 'c', seq: 1 });
    expect(await c.response(1, 10_000)).toMatchObject({
      error: 'bad-request',
      detail: `value is ${MAX_VALUE_BYTES + 1} bytes; the limit is ${MAX_VALUE_BYTES}`,
    });
  });

  it('closes on garbage, nil and huge length prefixes, and still serves others', async () => {
    const node = new FakeNode();
    const { server, port, address } = await serve(node);

    const garbage = await raw(port);
    garbage.sendBytes(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    await garbage.waitClosed();
    expect(garbage.frames).toEqual([
      {
        ok: false,
        error: 'bad-request',
        detail: 'unreadable frame: invalid msgpack byte 0xc1 at byte 0',
      },
    ]);

    const withNil = await raw(port);
    withNil.send({ id: 1, op: 'cas', key: 'k', expected: null, value: bin('v') });
    await withNil.waitClosed();
    expect((withNil.frames[0] as { detail: string }).detail).toMatch(/nil at byte \d+/);

    const huge = await raw(port);
    huge.sendBytes(Buffer.from([0x80, 0, 0, 0, 1, 2, 3]));
    await huge.waitClosed();
    expect((huge.frames[0] as { detail: string }).detail).toBe(
      'unreadable frame: frame of 2147483648 bytes exceeds the limit of 33619968 bytes',
    );

    const http = await raw(port);
    http.sendBytes(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await http.waitClosed();

    const trailing = await raw(port);
    trailing.sendBytes(Buffer.from([0, 0, 0, 2, 0x80, 0x01]));
    await trailing.waitClosed();

    expect(server.stats()).toMatchObject({ malformedFrames: 3, oversizedFrames: 2 });
    const kv = client([address]);
    await kv.put('after', 'still serving');
    expect(await kv.get('after')).toEqual(bin('still serving'));
  });

  it('answers unavailable beyond the in-flight bound', async () => {
    const node = new FakeNode();
    node.readMode = 'hang';
    const { server, port } = await serve(node, { maxInFlight: 3 });
    const c = await raw(port);
    for (let id = 1; id <= 5; id++) c.send({ id, op: 'get', key: 'k' });
    expect(await c.response(4)).toMatchObject({
      ok: false,
      error: 'unavailable',
      detail: 'too many requests in flight on this connection (limit 3)',
    });
    expect((await c.response(5)).error).toBe('unavailable');
    expect(c.frames).toHaveLength(2);
    expect(server.stats().busy).toBe(2);
  });

  it('answers pipelined requests out of order, matched by id', async () => {
    const node = new FakeNode();
    let n = 0;
    node.delayMs = () => (n++ % 2 === 0 ? 30 : 0);
    const { port } = await serve(node);
    const c = await raw(port);
    for (let id = 1; id <= 20; id++) {
      // One client id per write: a delayed write must not become older than a later one.
      c.send({ id, op: 'put', key: `k${id}`, value: bin(String(id)), clientId: `c${id}`, seq: 1 });
    }
    for (let id = 1; id <= 20; id++) expect(await c.response(id)).toEqual({ id, ok: true });
    const order = c.frames.map((f) => (f as { id: number }).id);
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });
});

describe('answer timing', () => {
  it('writes the answer of an applied write before the event loop turns again', async () => {
    const node = new FakeNode();
    const { port } = await serve(node);
    const c = await raw(port);
    let writes = 0;
    const write = Socket.prototype.write;
    const spy = vi.spyOn(Socket.prototype, 'write').mockImplementation(function (
      this: Socket,
      ...args: unknown[]
    ) {
      writes += 1;
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    });
    closers.push(() => spy.mockRestore());
    let atNextTurn = -1;
    // Called as the write is proposed: what was written by the next turn of the loop.
    node.refuse = () => {
      const before = writes;
      setImmediate(() => (atNextTurn = writes - before));
      return false;
    };
    c.send({ id: 1, op: 'put', key: 'k', value: bin('a'), clientId: 'c1', seq: 1 });
    expect(await c.response(1)).toEqual({ id: 1, ok: true });
    expect(atNextTurn).toBe(1);
  });
});
