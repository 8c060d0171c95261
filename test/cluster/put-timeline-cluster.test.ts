/**
 * The per-put timeline on real node processes: a 3-node cluster started with RAFTDECK_TIMELINE
 * takes puts from one client; every put's stamps, read over the admin link and joined with the
 * client's, are complete and in causal order on the shared monotonic clock. A node started
 * without it keeps none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultNodeCommand } from '../../main/cluster/node-command';
import { KvClient } from '../../main/node/client';
import { nowMicros, TIMELINE_ENV, type PutStamps } from '../../main/node/put-timeline';
import { joinTimeline, type ClientStamp } from '../bench/timeline';
import { startCluster } from './cluster-harness';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('put timeline on a real cluster', () => {
  it('gives every put a complete timeline with stamps in causal order', async () => {
    const base = defaultNodeCommand();
    const c = await startCluster('put-timeline', {
      command: { ...base, env: { ...base.env, [TIMELINE_ENV]: '256' } },
    });
    cleanups.push(() => c.teardown());
    const end = Date.now() + 20_000;
    while (c.sup.view().leader === 0) {
      if (Date.now() > end) throw new Error('no leader within 20 s');
      await sleep(50);
    }
    const endpoints = [...c.sup.nodes.values()].map((m) => m.rec.client);
    const kv = new KvClient({ endpoints, clientId: 'tl-test', firstSeq: 1, timeoutMs: 10_000 });
    cleanups.push(() => kv.close());
    const client: ClientStamp[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      const sent = nowMicros();
      await kv.put(`k${seq}`, `v${seq}`);
      client.push({ seq, sent, received: nowMicros() });
    }
    const nodes = [];
    for (const id of c.sup.nodes.keys()) {
      const r = await c.sup
        .admin(id)
        .call<{ size: number; stamps: PutStamps[] }>('timeline', { from: 0 });
      expect(r.size).toBe(256);
      nodes.push({ node: id, stamps: r.stamps });
    }
    const { puts, incomplete } = joinTimeline('tl-test', client, nodes);
    expect(incomplete).toBe(0);
    expect(puts).toHaveLength(40);
    for (const p of puts) {
      expect(p.leader).not.toBe(p.follower);
      // Every step goes forward in time (stamps are µs; equal is possible for close ones).
      for (const [step, us] of Object.entries(p.steps)) {
        expect(us, `${step} of put ${p.seq}`).toBeGreaterThanOrEqual(0);
      }
    }
    // Each leader record names the write and its follower's record the same term.
    const leader = nodes.find((n) => n.node === puts[0]!.leader)!;
    const seqs = leader.stamps.filter((s) => s.clientId === 'tl-test').map((s) => s.seq);
    expect(seqs).toEqual(client.map((x) => x.seq));
  });

  it('keeps no stamps on a node started without it', async () => {
    const c = await startCluster('put-timeline-off');
    cleanups.push(() => c.teardown());
    const end = Date.now() + 20_000;
    while (c.sup.view().leader === 0) {
      if (Date.now() > end) throw new Error('no leader within 20 s');
      await sleep(50);
    }
    const leader = c.sup.view().leader;
    const kv = new KvClient({ endpoints: [c.sup.get(leader).rec.client], timeoutMs: 10_000 });
    cleanups.push(() => kv.close());
    await kv.put('k', 'v');
    const r = await c.sup.admin(leader).call('timeline', {});
    expect(r).toEqual({ size: 0, stamps: [] });
  });
});
