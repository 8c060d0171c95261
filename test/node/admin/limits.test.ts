/**
 * The admin port's bounds, over real sockets: silent connections cannot keep an authenticated
 * client (the supervisor's link, `raftdeck status`) out, authenticated sessions have a cap of
 * their own, and a session with nothing in flight and no subscription is closed when idle while a
 * subscriber is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../../main/node/admin-client';
import { AdminServer, type AdminServerOptions } from '../../../main/node/admin-server';
import type { NodeStatus } from '../../../main/node/node-api';
import { FakeNode } from '../fake-node';
import { RawConn, sleep, waitFor } from '../raw-conn';

const TOKEN = 'a-token-of-some-length';

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(node: FakeNode, options: Partial<AdminServerOptions>) {
  const server = new AdminServer({ node, token: TOKEN, ...options });
  closers.push(() => server.close());
  const { port } = await server.listen();
  return { server, port, address: `127.0.0.1:${port}` };
}

async function admin(address: string): Promise<AdminClient> {
  const c = await AdminClient.connect(address, TOKEN, { connectTimeoutMs: 2000 });
  closers.push(() => c.close());
  return c;
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

describe('admin port bounds', () => {
  it('lets an authenticated client in however many silent connections are open', async () => {
    const node = new FakeNode(7);
    const { server, port, address } = await serve(node, { maxPending: 4, maxSessions: 4 });
    const silent = await raws(port, 64);
    await waitFor(() => server.stats().pending <= 4 && silent.filter((c) => !c.closed).length <= 4);

    const c = await admin(address);
    expect((await c.status()).id).toBe(7);
    const s = server.stats();
    expect(s.sessions).toBe(1);
    expect(s.pending).toBeLessThanOrEqual(4);
    expect(s.evictedPending).toBeGreaterThanOrEqual(61);
    expect(s.limits).toMatchObject({ maxPending: 4, maxSessions: 4 });
  });

  it('closes a connection that sends no token within the auth timeout', async () => {
    const { server, port } = await serve(new FakeNode(), { authTimeoutMs: 150 });
    const [c] = await raws(port, 1);
    await c!.waitClosed();
    expect(c!.frames).toEqual([{ error: 'unauthorized', detail: 'no token within 150 ms' }]);
    expect(server.stats().unauthorized).toBe(1);
  });

  it('refuses a session beyond maxSessions with a reason, and takes one again once one leaves', async () => {
    const { server, address } = await serve(new FakeNode(), { maxSessions: 2 });
    const a = await admin(address);
    await admin(address);
    const e = await AdminClient.connect(address, TOKEN).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AdminError);
    expect((e as AdminError).code).toBe('unavailable');
    expect((e as AdminError).message).toBe(`admin ${address}: too many admin sessions (limit 2)`);
    expect(server.stats().refusedSessions).toBe(1);
    await a.close();
    await waitFor(() => server.stats().sessions === 1);
    await admin(address);
  });

  it('closes an idle session, but not a subscriber receiving pushes', async () => {
    const node = new FakeNode();
    const { server, address } = await serve(node, { idleTimeoutMs: 200 });
    const idle = await admin(address);
    // Subscribed to nothing: nothing is pushed, so it is idle all the same.
    const empty = await admin(address);
    await empty.subscribe({}, {});
    const sub = await admin(address);
    const got: NodeStatus[] = [];
    await sub.subscribe({ status: true, hz: 20 }, { status: (s) => got.push(s) });
    await sleep(700);
    expect(idle.closed).toBe(true);
    const e = await idle.status().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((e as AdminError).message).toBe(
      `admin ${address}: status: closing the connection: idle for 200 ms`,
    );
    expect(empty.closed).toBe(true);
    expect(sub.closed).toBe(false);
    expect(got.length).toBeGreaterThan(0);
    expect(server.stats().idleClosed).toBe(2);
  });
});
