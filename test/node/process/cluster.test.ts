import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../../../main/node/admin-client';
import { KvClient } from '../../../main/node/client';
import type { NodeStatus } from '../../../main/node/node-api';
import { nodeStatus, TestCluster, waitFor } from './harness';

const text = (v: Uint8Array | null): string | null => (v ? new TextDecoder().decode(v) : null);

let cluster: TestCluster | undefined;
const admins: AdminClient[] = [];
const clients: KvClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(admins.splice(0).map((a) => a.close().catch(() => undefined)));
  await cluster?.destroy();
  cluster = undefined;
});

const status = nodeStatus;

async function leader(c: TestCluster, among: number[]): Promise<NodeStatus> {
  return waitFor('a leader', async () => {
    const ss = await Promise.all(among.map((id) => status(c, id)));
    return ss.find((s) => s?.role === 'leader');
  });
}

function client(c: TestCluster, ids: number[]): KvClient {
  const k = new KvClient({
    endpoints: ids.map((id) => c.specs.get(id)!.client),
    timeoutMs: 10_000,
  });
  clients.push(k);
  return k;
}

describe('three real node processes on 127.0.0.1', () => {
  it('elect, take 1,000 writes, survive kill -9 of the leader, and the old leader catches up', async () => {
    cluster = new TestCluster(['--heartbeat-ms', '50', '--election-ms', '500']);
    const c = cluster;
    await c.define([1, 2, 3]);
    await Promise.all([1, 2, 3].map((id) => c.start(id, { peers: [1, 2, 3] })));
    const l1 = await leader(c, [1, 2, 3]);
    const kv = client(c, [1, 2, 3]);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      writes.push(kv.put(`key-${i}`, `value-${i}`));
      if (writes.length >= 64) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    expect(text(await kv.get('key-999'))).toBe('value-999');

    await c.kill(l1.id);
    const others = [1, 2, 3].filter((id) => id !== l1.id);
    const l2 = await leader(c, others);
    expect(l2.id).not.toBe(l1.id);
    expect(l2.term).toBeGreaterThan(l1.term);
    for (let i = 1000; i < 1100; i++) await kv.put(`key-${i}`, `value-${i}`);

    await c.start(l1.id, { peers: [1, 2, 3] });
    const target = (await status(c, l2.id))!.commit;
    const back = await waitFor('the old leader to catch up', async () => {
      const s = await status(c, l1.id);
      return s && s.applied >= target ? s : undefined;
    });
    expect(back.role).toBe('follower');
    expect(back.leader).toBe(l2.id);
    expect(back.kv.keys).toBe(1100);
    const only = client(c, [l1.id]);
    expect(text(await only.get('key-1050'))).toBe('value-1050');
  }, 90_000);

  it('followers elect a new leader well inside the election timeout once the leader is killed', async () => {
    // A 3 s election timeout: without noticing that the leader's port now refuses connections,
    // no follower could campaign before 3 s had passed since the leader's last heartbeat.
    cluster = new TestCluster(['--heartbeat-ms', '100', '--election-ms', '3000']);
    const c = cluster;
    await c.define([1, 2, 3]);
    await Promise.all([1, 2, 3].map((id) => c.start(id, { peers: [1, 2, 3] })));
    const l1 = await leader(c, [1, 2, 3]);
    const others = [1, 2, 3].filter((id) => id !== l1.id);
    await waitFor('both followers to follow the leader', async () => {
      const ss = await Promise.all(others.map((id) => status(c, id)));
      return ss.every((s) => s?.leader === l1.id) ? true : undefined;
    });
    const t0 = performance.now();
    await c.kill(l1.id);
    const l2 = await leader(c, others);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(2000);
    expect(l2.term).toBeGreaterThan(l1.term);
    const kv = client(c, others);
    await kv.put('after', 'failover');
    expect(text(await kv.get('after'))).toBe('failover');
  }, 60_000);

  it('a node kept down past a snapshot catches up by InstallSnapshot in several chunks', async () => {
    cluster = new TestCluster([
      '--heartbeat-ms',
      '50',
      '--election-ms',
      '500',
      '--snapshot-entries',
      '200',
      '--snapshot-keep',
      '10',
      '--snapshot-chunk-bytes',
      '4096',
    ]);
    const c = cluster;
    await c.define([1, 2, 3]);
    await Promise.all([1, 2, 3].map((id) => c.start(id, { peers: [1, 2, 3] })));
    const l = await leader(c, [1, 2, 3]);
    const down = [1, 2, 3].find((id) => id !== l.id)!;
    await c.kill(down);
    const kv = client(c, [l.id]);
    const value = 'v'.repeat(100);
    for (let i = 0; i < 1500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => kv.put(`snap-${i + k}`, value)));
    }
    const ls = (await status(c, l.id))!;
    expect(ls.snapshotIndex).toBeGreaterThan(1000);
    expect(ls.firstIndex).toBeGreaterThan(100);

    const admin = await AdminClient.connect(c.specs.get(l.id)!.admin, c.token);
    admins.push(admin);
    const events: { type: string; chunks?: number; total?: number; to?: number }[] = [];
    await admin.subscribe({ events: true }, { event: (e) => events.push(e as never) });
    await c.start(down, { peers: [1, 2, 3] });
    const sent = await waitFor('the snapshot to be sent', () =>
      events.find((e) => e.type === 'snapshot-sent' && e.to === down),
    );
    expect(sent.total!).toBeGreaterThan(4096 * 3);
    expect(sent.chunks!).toBeGreaterThanOrEqual(Math.ceil(sent.total! / 4096));
    const caught = await waitFor('the restarted node to catch up', async () => {
      const s = await status(c, down);
      const lead = await status(c, l.id);
      return s && lead && s.applied >= lead.commit ? s : undefined;
    });
    expect(caught.snapshotIndex).toBeGreaterThan(1000);
    expect(caught.kv.keys).toBe(1500);
  }, 90_000);
});
