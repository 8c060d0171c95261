/**
 * A real node process started with its bounds lowered by flags: floods of idle client connections
 * and silent admin connections do not keep a client's put or an authenticated admin client out,
 * the node's status reports its bounds and what they did, and a burst of refused tokens leaves
 * a few lines in node.log, not one per refusal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../../main/node/admin-client';
import { KvClient } from '../../../main/node/client';
import { RawConn } from '../raw-conn';
import { TestCluster, waitFor } from './harness';

let cluster: TestCluster | undefined;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await cluster?.destroy();
  cluster = undefined;
});

const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe('a node process under connection floods', () => {
  it('serves a put and an admin status through floods, and reports its bounds', async () => {
    cluster = new TestCluster([
      '--max-client-connections',
      '16',
      '--max-admin-pending',
      '4',
      '--log-repeat-limit',
      '5',
    ]);
    const c = cluster;
    await c.define([1]);
    await c.start(1, { peers: [1] });
    const spec = c.specs.get(1)!;
    const open = async (port: number, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const r = await RawConn.open(port);
        closers.push(() => r.close());
      }
    };
    await open(portOf(spec.client), 64);
    await open(portOf(spec.admin), 64);

    const kv = new KvClient({ endpoints: [spec.client], timeoutMs: 10_000 });
    closers.push(() => kv.close());
    await waitFor('a put', async () => (await kv.put('k', 'v'), true));

    const admin = await AdminClient.connect(spec.admin, c.token, { connectTimeoutMs: 2000 });
    closers.push(() => admin.close());
    const servers = (await admin.status()).servers!;
    expect(servers.client.limits.maxConnections).toBe(16);
    expect(servers.client.connections).toBeLessThanOrEqual(16);
    expect(servers.client.evicted).toBeGreaterThanOrEqual(48);
    expect(servers.admin.limits).toMatchObject({ maxPending: 4, maxSessions: 32 });
    expect(servers.admin.evictedPending).toBeGreaterThanOrEqual(60);
    expect(servers.frameBudget).toMatchObject({ limitBytes: 256 * 1024 * 1024, evictions: 0 });

    // 200 wrong tokens: five lines in node.log, the rest counted.
    for (let i = 0; i < 200; i++) {
      await AdminClient.connect(spec.admin, 'not-the-token').catch((e: AdminError) => e);
    }
    const after = (await admin.status()).servers!;
    expect(after.admin.unauthorized).toBeGreaterThanOrEqual(200);
    expect(after.log.suppressed).toBeGreaterThanOrEqual(195);
    await waitFor('node.log written', () =>
      readFileSync(join(spec.dataDir, 'node.log'), 'utf8').includes('wrong token'),
    );
    const refusals = readFileSync(join(spec.dataDir, 'node.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('refused: wrong token'));
    expect(refusals).toHaveLength(5);
  });
});
