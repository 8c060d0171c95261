/**
 * The log inspector on real node processes when logs disagree: a leader cut off from the others
 * takes a write it can never commit while the others elect a new leader, whose no-op lands at the
 * same index. logEntries shows the cut-off node's entry there as a conflict, side by side with the
 * new leader's; once the network heals, the new leader's entry replaces it and every node holds it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import type { LogReadResult } from '../../main/node/log-inspect';
import { KvClient } from '../../main/node/client';
import { startCluster, type TestCluster } from './cluster-harness';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined) {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('logEntries on a real cluster', () => {
  it("shows a cut-off leader's unreplicated write as a conflict, then replaced after healing", async () => {
    const c: TestCluster = await startCluster('log-conflict');
    cleanups.push(() => c.teardown());
    const api = new ClusterDashboard(c.engine);
    cleanups.push(() => api.close());
    const old = await until('a leader', () => c.sup.view().leader || undefined);
    await api.kvPut('k-before', 'v-before');

    await c.sup.isolate(old);
    const client = new KvClient({
      endpoints: [c.sup.get(old).rec.client],
      timeoutMs: 400,
      maxRetries: 0,
    });
    cleanups.push(() => client.close());
    // Appended by the cut-off leader, never acknowledged by anyone else.
    await client.put('k-lost', 'v-lost').catch(() => undefined);
    const lost = await until("the write in the old leader's log", async () => {
      const r = await c.sup
        .admin(old)
        .call<LogReadResult>('log-entries', { from: 1, count: 100, key: 'k-lost' });
      return r.entries[0];
    });

    const fresh = await until('a new leader', () => {
      const l = c.sup.view().leader;
      return l !== 0 && l !== old ? l : undefined;
    });
    const split = await until('the new leader and a follower at the index', async () => {
      const r = await api.logEntries({ from: lost.index, count: 1 });
      const row = r.rows[0];
      const ok =
        r.reference === fresh &&
        row?.entry !== null &&
        row?.holders.filter((h) => h.state === 'holds').length === 2;
      return ok ? r : undefined;
    });
    const row = split.rows[0]!;
    expect(row.entry!.term).toBeGreaterThan(lost.term);
    const cut = row.holders.find((h) => h.node === old)!;
    expect(cut).toMatchObject({ state: 'conflict', term: lost.term });
    expect(cut.entry).toMatchObject({ kind: 'put', key: 'k-lost', value: 'v-lost' });
    expect(cut.appendedAt).not.toBeNull();
    expect(cut.committedAt).toBeNull();

    await c.sup.heal();
    const healed = await until('every node holding the new entry', async () => {
      const r = await api.logEntries({ from: lost.index, count: 1 });
      const h = r.rows[0]?.holders;
      return h?.length === 3 && h.every((x) => x.state === 'holds') ? r : undefined;
    });
    const after = healed.rows[0]!.holders.find((h) => h.node === old)!;
    expect(after.term).toBe(healed.rows[0]!.entry!.term);
    expect(after.committedAt).not.toBeNull();
  }, 60_000);
});
