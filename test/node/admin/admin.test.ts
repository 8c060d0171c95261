/**
 * The admin server and client against a fake node: the token handshake (nothing is processed
 * before it), every op with its argument checks, error mapping, and subscriptions (replayed and
 * live events, status at about the asked rate only while it changes, logs, slow subscribers).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../../main/node/admin-client';
import { AdminServer, type AdminServerOptions } from '../../../main/node/admin-server';
import { OutcomeUnknownError, type NodeEvent, type NodeStatus } from '../../../main/node/node-api';
import { FakeNode } from '../fake-node';
import { RawConn, freePort, sleep, waitFor } from '../raw-conn';

const TOKEN = 'a-token-of-some-length';

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(node: FakeNode, options: Partial<AdminServerOptions> = {}) {
  const server = new AdminServer({ node, token: TOKEN, ...options });
  closers.push(() => server.close());
  const { port } = await server.listen();
  return { server, port, address: `127.0.0.1:${port}` };
}

async function admin(address: string, token = TOKEN): Promise<AdminClient> {
  const c = await AdminClient.connect(address, token, { connectTimeoutMs: 1000 });
  closers.push(() => c.close());
  return c;
}

async function raw(port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  closers.push(() => c.close());
  return c;
}

async function failure(p: Promise<unknown>): Promise<AdminError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AdminError);
  return e as AdminError;
}

describe('admin handshake', () => {
  it('refuses a wrong token and closes', async () => {
    const node = new FakeNode();
    const { server, port, address } = await serve(node);
    const c = await raw(port);
    c.send({ token: 'not-the-token' });
    await c.waitClosed();
    expect(c.frames).toEqual([{ error: 'unauthorized', detail: 'wrong token' }]);

    const e = await failure(AdminClient.connect(address, 'nope'));
    expect(e.code).toBe('unauthorized');
    expect(e.message).toBe(`admin ${address}: unauthorized (wrong token)`);
    expect(server.unauthorized).toBe(2);
  });

  it('processes nothing before the token, even frames sent along with it', async () => {
    const node = new FakeNode();
    const { port } = await serve(node);
    const first = await raw(port);
    first.send({ id: 1, op: 'shutdown', reason: 'sneaky' });
    await first.waitClosed();
    expect(first.frames).toEqual([
      { error: 'unauthorized', detail: 'the first frame must be a map {token: str}' },
    ]);

    const batched = await raw(port);
    batched.send({ token: 'wrong' });
    batched.send({ id: 2, op: 'set-fsync-delay', ms: 5 });
    await batched.waitClosed();
    expect(node.calls).toEqual([]);

    // With the right token, frames that arrive in the same write are served, in order.
    const good = await raw(port);
    good.send({ token: TOKEN });
    good.send({ id: 3, op: 'set-fsync-delay', ms: 5 });
    expect(await good.frame(0)).toEqual({ ok: true, node: 1 });
    expect(await good.response(3)).toEqual({ id: 3, ok: true, result: {} });
    expect(node.calls).toEqual([{ op: 'setFsyncDelay', args: [5] }]);
  });

  it('closes a connection that sends no token in time, or an unreadable one', async () => {
    const { port } = await serve(new FakeNode(), { authTimeoutMs: 100 });
    const silent = await raw(port);
    await silent.waitClosed();
    expect(silent.frames).toEqual([{ error: 'unauthorized', detail: 'no token within 100 ms' }]);

    const big = await raw(port);
    big.send({ token: 'x'.repeat(5000) });
    await big.waitClosed();
    expect(big.frames).toEqual([
      {
        error: 'unauthorized',
        detail: 'unreadable first frame: frame of 5010 bytes exceeds the limit of 1024 bytes',
      },
    ]);
  });

  it('says when nothing listens', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const e = await failure(AdminClient.connect(address, TOKEN));
    expect(e.code).toBe('unreachable');
    expect(e.message).toBe(`admin ${address}: connection refused`);
  });
});

describe('admin ops', () => {
  it('passes every op to the node with its arguments', async () => {
    const node = new FakeNode(7);
    const { address } = await serve(node);
    const a = await admin(address);
    expect(a.nodeId).toBe(7);

    const s = await a.status();
    expect(s).toMatchObject({ id: 7, role: 'leader', clusterId: 'fake', version: 1 });
    expect(s).not.toHaveProperty('snapshotReceiving');

    const peer = { peer: '127.0.0.1:7004', client: '127.0.0.1:7104' };
    expect(await a.addLearner(4, peer)).toEqual({ index: 1, term: 2 });
    expect(await a.promote(4)).toEqual({ index: 2, term: 2 });
    expect(await a.transferLeader(4)).toEqual({ index: 3, term: 2 });
    expect(await a.remove(4)).toEqual({ index: 4, term: 2 });
    expect(await a.snapshot()).toEqual({ index: 4, bytes: expect.any(Number) });
    const rules = [
      { to: 2, drop: 0.25 },
      { from: '*' as const, delayMs: 30, jitterMs: 5, types: ['app' as const] },
    ];
    await a.setFaults(rules);
    await a.clearFaults();
    await a.setFsyncDelay(250);
    await a.shutdown('bye');
    await waitFor(() => node.calls.some((c) => c.op === 'shutdown'));
    expect(node.calls).toEqual([
      { op: 'addLearner', args: [4, peer] },
      { op: 'promote', args: [4] },
      { op: 'transferLeader', args: [4] },
      { op: 'remove', args: [4] },
      { op: 'snapshotNow', args: [] },
      { op: 'setFaults', args: [rules] },
      { op: 'clearFaults', args: [] },
      { op: 'setFsyncDelay', args: [250] },
      { op: 'shutdown', args: ['bye'] },
    ]);
  });

  it('refuses bad arguments with a precise detail, without calling the node', async () => {
    const node = new FakeNode();
    const { address } = await serve(node);
    const a = await admin(address);
    const cases: [Promise<unknown>, string][] = [
      [a.promote(0), 'nodeId must be a positive integer, got int 0'],
      [a.call('remove', {} as { nodeId: number }), 'missing field nodeId for remove'],
      [a.transferLeader(1.5), 'nodeId must be a positive integer, got float 1.5'],
      [
        a.addLearner(4, { peer: 'nowhere', client: '127.0.0.1:1' }),
        'peerAddress: address must be "host:port", got "nowhere"',
      ],
      [a.setFsyncDelay(-1), 'ms must be a number in [0, 60000], got int -1'],
      [a.call('status', { verbose: true } as never), 'unknown field "verbose" for status'],
      [a.call('reboot' as never, {} as never), 'unknown op "reboot"'],
      [a.subscribe({ hz: 120 }, {}), 'hz must be a number in (0, 60], got int 120'],
      [a.subscribe({ events: 1 as never }, {}), 'events must be a bool, got int 1'],
      [a.setFaults('all' as never), 'rules must be an array, got str'],
      [a.setFaults([{ to: 2, drop: 'half' as never }]), 'rules[0].drop must be a number, got str'],
      [a.setFaults([{ to: 2, flaky: true } as never]), 'rules[0]: unknown field "flaky"'],
    ];
    for (const [p, detail] of cases) {
      const e = await failure(p);
      expect({ code: e.code, detail: e.detail }).toEqual({ code: 'bad-request', detail });
    }
    expect(node.calls).toEqual([]);
  });

  it('passes back why the fault filter refused a rule', async () => {
    const node = new FakeNode();
    const { address } = await serve(node);
    const a = await admin(address);
    const e = await failure(a.setFaults([{ to: 2, from: 3 }]));
    expect(e.code).toBe('bad-request');
    expect(e.detail).toBe('fault rule 0: set exactly one of to and from');
    expect(e.message).toBe(
      `admin ${address}: set-faults: bad-request: fault rule 0: set exactly one of to and from`,
    );
    const e2 = await failure(a.setFaults([{ to: 2 }, { from: 2, drop: 1.5 }]));
    expect(e2.detail).toBe('fault rule 1: drop must be a probability in [0, 1]');
    expect(node.faults.list()).toEqual([]);
  });

  it('maps not-leader, unknown outcomes and other failures', async () => {
    const node = new FakeNode(2);
    const { address } = await serve(node);
    const a = await admin(address);
    node.follower = { leaderId: 3, leaderClientAddress: '127.0.0.1:7103' };
    const nl = await failure(a.promote(4));
    expect(nl).toMatchObject({ code: 'not-leader', leaderId: 3, leaderAddress: '127.0.0.1:7103' });
    node.follower = undefined;
    node.changeError = new OutcomeUnknownError('not committed within 2000 ms');
    expect((await failure(a.remove(4))).code).toBe('unknown-outcome');
    node.changeError = new Error('learner-not-caught-up: match 10, leader 400');
    const f = await failure(a.promote(4));
    expect(f).toMatchObject({
      code: 'failed',
      detail: 'learner-not-caught-up: match 10, leader 400',
    });
  });

  it('rejects calls waiting when the connection closes', async () => {
    const node = new FakeNode();
    const { server, address } = await serve(node);
    const a = await admin(address);
    node.changeError = undefined;
    const never = new Promise<never>(() => undefined);
    node.transferLeader = () => never;
    const p = failure(a.transferLeader(2));
    await sleep(20);
    await server.close();
    const e = await p;
    expect(e.code).toBe('closed');
    expect(a.closed).toBe(true);
  });
});

describe('admin subscriptions', () => {
  it('replays recent events, then pushes live ones, in order', async () => {
    const node = new FakeNode();
    for (let i = 0; i < 3; i++) node.emit({ type: 'compacted', index: i });
    const { address } = await serve(node);
    const a = await admin(address);
    const events: NodeEvent[] = [];
    const opts = await a.subscribe({ events: true }, { event: (e) => events.push(e) });
    expect(opts).toEqual({
      events: true,
      status: false,
      logs: false,
      hz: 10,
      messages: false,
      messagesPerLinkHz: 10,
    });
    await waitFor(() => events.length === 3);
    node.emit({ type: 'leader', leader: 1, term: 3 });
    node.emit({ type: 'shutdown', reason: 'test' });
    await waitFor(() => events.length === 5);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events[3]).toMatchObject({ type: 'leader', leader: 1, term: 3, node: 1 });

    await a.unsubscribe();
    expect(node.subscribers).toBe(0);
    node.emit({ type: 'compacted', index: 9 });
    await sleep(30);
    expect(events).toHaveLength(5);
  });

  it('pushes status at about hz while it changes, and once a second otherwise', async () => {
    const node = new FakeNode();
    const { address } = await serve(node);
    const a = await admin(address);
    const got: NodeStatus[] = [];
    await a.subscribe({ status: true, hz: 20 }, { status: (s) => got.push(s) });
    const busy = setInterval(() => (node.version += 1), 2);
    await sleep(1000);
    clearInterval(busy);
    const whileChanging = got.length;
    expect(whileChanging).toBeGreaterThanOrEqual(10);
    expect(whileChanging).toBeLessThanOrEqual(23);
    await sleep(1300);
    const idle = got.length - whileChanging;
    // The last change may still be pushed, then only the once-a-second keep-alive.
    expect(idle).toBeGreaterThanOrEqual(1);
    expect(idle).toBeLessThanOrEqual(3);
    const versions = got.map((s) => s.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
  });

  it('pushes recent and new log lines', async () => {
    const node = new FakeNode();
    node.log('before', { n: 1 });
    const { address } = await serve(node);
    const a = await admin(address);
    const lines: Record<string, unknown>[] = [];
    await a.subscribe({ logs: true, hz: 50 }, { log: (l) => lines.push(l) });
    await waitFor(() => lines.length === 1);
    node.log('after', { n: 2 });
    node.log('after', { n: 3 });
    await waitFor(() => lines.length === 3);
    await sleep(60);
    expect(lines.map((l) => [l.msg, l.n])).toEqual([
      ['before', 1],
      ['after', 2],
      ['after', 3],
    ]);
  });

  it('drops events for a subscriber that does not read, and says how many', async () => {
    const node = new FakeNode();
    const { port } = await serve(node, { pushHighWaterBytes: 16 * 1024, maxQueuedPushes: 50 });
    const c = await raw(port);
    c.send({ token: TOKEN });
    c.send({ id: 1, op: 'subscribe', events: true });
    await c.response(1);
    c.socket.pause();
    const message = 'x'.repeat(2000);
    const total = 20_000;
    for (let i = 0; i < total; i++) node.emit({ type: 'storage-warning', message });
    c.socket.resume();
    await waitFor(
      () => c.frames.some((f) => (f as { push?: string }).push === 'overflow'),
      10_000,
      'overflow',
    );
    const events = c.frames.filter((f) => (f as { push?: string }).push === 'event');
    const overflow = c.frames.find((f) => (f as { push?: string }).push === 'overflow') as {
      dropped: number;
    };
    expect(overflow.dropped).toBeGreaterThan(0);
    expect(events.length + overflow.dropped).toBe(total);
    // What was delivered is in order, with a gap where the drop happened.
    const seqs = events.map((f) => (f as { event: NodeEvent }).event.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Later events flow again.
    node.emit({ type: 'compacted', index: 1 });
    await waitFor(() => {
      const last = c.frames[c.frames.length - 1] as { event?: NodeEvent };
      return last.event?.type === 'compacted';
    });
  });

  it('stops listening to the node when the subscriber goes away', async () => {
    const node = new FakeNode();
    const { address } = await serve(node);
    const a = await admin(address);
    await a.subscribe({ events: true, status: true, logs: true }, {});
    expect(node.subscribers).toBe(1);
    await a.close();
    await waitFor(() => node.subscribers === 0);
  });
});
