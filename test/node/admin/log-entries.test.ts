/**
 * The admin op `log-entries` against a fake node: a range, a key search and exact indexes come
 * back decoded with the node's bounds; bad arguments are refused with a precise detail and
 * nothing reaches the node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../../main/node/admin-client';
import { AdminServer } from '../../../main/node/admin-server';
import { encodeCommand } from '../../../main/node/kv/kv-state';
import { FakeNode } from '../fake-node';

const TOKEN = 'a-token-of-some-length';
const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function setup(node: FakeNode): Promise<AdminClient> {
  const server = new AdminServer({ node, token: TOKEN });
  closers.push(() => server.close());
  const { port } = await server.listen();
  const c = await AdminClient.connect(`127.0.0.1:${port}`, TOKEN, { connectTimeoutMs: 1000 });
  closers.push(() => c.close());
  return c;
}

function filled(): FakeNode {
  const node = new FakeNode(2);
  node.raftLog.append([
    { index: 1, term: 1, type: 'normal', data: new Uint8Array(0) },
    ...Array.from({ length: 9 }, (_, i) => ({
      index: i + 2,
      term: 1,
      type: 'normal' as const,
      data: encodeCommand({
        clientId: 'w1',
        seq: i + 1,
        cmd: { op: 'put', key: i % 2 ? 'odd' : 'even', value: new TextEncoder().encode(`v${i}`) },
      }),
    })),
  ]);
  node.raftLog.commit = 8;
  node.raftLog.applied = 7;
  node.entryTimes.appended(3, 1, 5000);
  return node;
}

describe('admin: log-entries', () => {
  it('reads a range decoded, with the log bounds and the times it remembers', async () => {
    const a = await setup(filled());
    const r = await a.logEntries({ from: 2, count: 2 });
    expect(r).toMatchObject({
      firstIndex: 1,
      lastIndex: 10,
      snapshotIndex: 0,
      commit: 8,
      applied: 7,
      scannedTo: 3,
      stop: null,
    });
    expect(r.entries).toEqual([
      expect.objectContaining({ index: 2, term: 1, kind: 'put', key: 'even', value: 'v0' }),
      expect.objectContaining({ index: 3, key: 'odd', client: 'w1', seq: 2, appendedAt: 5000 }),
    ]);
    expect(r.entries[0]!.appendedAt).toBeNull();
  });

  it('searches a key, and reads exact indexes', async () => {
    const a = await setup(filled());
    const found = await a.logEntries({ from: 1, count: 3, key: 'odd' });
    expect(found.entries.map((e) => e.index)).toEqual([3, 5, 7]);
    expect(found.scannedTo).toBe(7);
    const exact = await a.logEntries({ indexes: [9, 4] });
    expect(exact.entries.map((e) => [e.index, e.value])).toEqual([
      [4, 'v2'],
      [9, 'v7'],
    ]);
  });

  it.each([
    [{}, /exactly one of from and indexes/],
    [{ from: 1, indexes: [1] }, /exactly one of from and indexes/],
    [{ from: 0 }, /from must be a positive integer, got int 0/],
    [{ from: 1, count: 1001 }, /count must be an integer in 1\.\.1000, got int 1001/],
    [{ from: 1, maxBytes: 5 * 1024 * 1024 }, /maxBytes must be an integer in 1\.\.4194304/],
    [{ from: 1, key: '' }, /key must be a str of 1\.\.4096 bytes, got 0 bytes/],
    [{ from: 1, key: 7 }, /key must be a str of 1\.\.4096 bytes, got (int|uint|number)/],
    [{ indexes: [] }, /indexes must be an array of 1\.\.1000 indexes, got 0 items/],
    [{ indexes: [3, 0] }, /indexes\[1\] must be a positive integer, got int 0/],
    [{ indexes: [3], key: 'k' }, /with indexes takes no key or count/],
    [{ from: 1, term: 3 }, /unknown field "term" for log-entries/],
  ])('refuses %j', async (args, detail) => {
    const node = filled();
    const a = await setup(node);
    const e = await a.call('log-entries', args as never).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AdminError);
    expect((e as AdminError).code).toBe('bad-request');
    expect((e as AdminError).detail).toMatch(detail);
    expect(node.calls.filter((c) => c.op === 'logEntries')).toEqual([]);
  });
});
