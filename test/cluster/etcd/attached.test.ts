import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvent, ClusterView } from '../../../main/contract/view';
import { EngineUnavailable } from '../../../main/cluster/engine';
import { AttachedEtcd } from '../../../main/cluster/etcd/attached';
import { hostOf } from '../../../main/cluster/etcd/etcd-client';
import { startEtcdCluster, type TestEtcdCluster } from './etcd-harness';

let cluster: TestEtcdCluster;
const engines: AttachedEtcd[] = [];

function attach(
  options: Partial<ConstructorParameters<typeof AttachedEtcd>[0]> = {},
): AttachedEtcd {
  const e = new AttachedEtcd({ endpoints: [cluster.endpoints[1]!], tls: cluster.tls!, ...options });
  engines.push(e);
  return e;
}

/** until: the first view that satisfies ok (views are pushed after every poll). */
function until(
  e: AttachedEtcd,
  ok: (v: ClusterView) => boolean,
  ms = 15_000,
): Promise<ClusterView> {
  return new Promise((resolve, reject) => {
    if (ok(e.view())) {
      resolve(e.view());
      return;
    }
    const t = setTimeout(() => {
      off();
      reject(new Error(`view not reached within ${ms} ms: ${JSON.stringify(summary(e.view()))}`));
    }, ms);
    const off = e.onView((v) => {
      if (!ok(v)) return;
      clearTimeout(t);
      off();
      resolve(v);
    });
  });
}

const summary = (v: ClusterView): unknown => ({
  leader: v.leader,
  term: v.term,
  nodes: v.nodes.map((n) => [n.id, n.membership, n.health, n.role, n.process.lastLines[0]]),
});

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3, tls: true, name: 'attach' });
}, 90_000);

afterAll(async () => {
  for (const e of engines) await e.stop();
  await cluster?.stop();
});

describe('AttachedEtcd on a TLS cluster with client certificates', () => {
  it('finds all members from one endpoint and shows a leader and terms', async () => {
    const e = attach();
    expect(e.state).toBe('starting');
    await e.start();
    const v = await until(e, (x) => x.leader !== 0 && x.nodes.every((n) => n.health === 'healthy'));
    expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    // Every member's client URL came from the member list, not from the one endpoint given.
    expect(v.nodes.map((n) => n.addresses.client).sort()).toEqual(
      cluster.endpoints.map(hostOf).sort(),
    );
    expect(v.nodes.filter((n) => n.role === 'leader')).toHaveLength(1);
    expect(v.term).toBeGreaterThan(0);
    expect(v.nodes.every((n) => n.raft?.term === v.term && n.raft.leader === v.leader)).toBe(true);
    expect(v.config.voters).toEqual([1, 2, 3]);
    expect(v.engine).toMatchObject({
      kind: 'etcd',
      mode: 'attached',
      endpoints: [cluster.endpoints[1]],
    });
    expect(v.engine.version).toMatch(/^3\.\d+\.\d+$/);
    expect(v.engine.unavailable.kill).toBe("raftdeck did not start this cluster's processes");
    expect(v.engine.unavailable.removeNode).toMatch(/--allow-changes/);
    expect(v.engine.unavailable.kv).toMatch(/--allow-changes/);
    expect(e.pids()).toEqual([]);
    expect(e.clusterId).toMatch(/^[0-9a-f]+$/);
    const stats = e.memberStats();
    expect([...stats.keys()].sort()).toEqual([1, 2, 3]);
    expect(stats.get(1)!.metricsError).toBeNull();
    expect(e.allEvents().some((x) => x.kind === 'leader' && x.node === v.leader)).toBe(true);
  });

  it('refuses faults and changes without --allow-changes, with the reason', async () => {
    const e = attach();
    await e.start();
    await expect(e.kill(1)).rejects.toThrow(EngineUnavailable);
    await expect(e.kill(1)).rejects.toThrow("raftdeck did not start this cluster's processes");
    await expect(e.partition([[1], [2, 3]])).rejects.toThrow(/proxies/);
    expect(() => e.pause(1)).toThrow(EngineUnavailable);
    await expect(e.removeNode(2)).rejects.toThrow(EngineUnavailable);
    await expect(e.removeNode(2)).rejects.toThrow(/--allow-changes/);
    await expect(e.transferLeader(2)).rejects.toThrow(/--allow-changes/);
    await expect(e.addLearner('http://127.0.0.1:9')).rejects.toThrow(/--allow-changes/);
    expect(() => e.kvSession({ clientId: 'c', timeoutMs: 1000 })).toThrow(/--allow-changes/);
    await expect(e.addNode()).rejects.toThrow(/peer URL/);
    expect(e.view().workflows).toEqual([]);
  });

  it('names TLS when the CA does not match the members certificates', async () => {
    const wrong = attach({ tls: { ...cluster.tls!, ca: readFileSync(cluster.certs!.otherCa) } });
    await expect(wrong.start()).rejects.toThrow(
      /TLS connection to https:\/\/127\.0\.0\.1:\d+ failed: .*unable to verify the first certificate\.? \(check --cacert/,
    );
    const noClientCert = attach({ tls: { ca: cluster.tls!.ca! } });
    await expect(noClientCert.start()).rejects.toThrow(/cannot reach the etcd cluster/);
  });

  it('with --allow-changes moves the leader, shows a killed member unreachable and removes it', async () => {
    const e = attach({ allowChanges: true });
    const events: ClusterEvent[] = [];
    e.onEvent((x) => events.push(x));
    await e.start();
    let v = await until(e, (x) => x.leader !== 0 && x.nodes.every((n) => n.health === 'healthy'));
    const target = v.nodes.find((n) => n.id !== v.leader)!.id;
    const move = await e.transferLeader(target);
    expect(move.view.kind).toBe('transfer-leader');
    expect((await move.run).state).toBe('done');
    expect(e.view().leader).toBe(target);
    expect(events.some((x) => x.kind === 'leader' && x.node === target)).toBe(true);

    // Kill a follower (by pid, from outside the engine): it shows unreachable with the error.
    v = e.view();
    const victim = v.nodes.find((n) => n.id !== v.leader)!;
    const index = cluster.endpoints.findIndex((u) => hostOf(u) === victim.addresses.client);
    await cluster.kill(index);
    v = await until(e, (x) => x.nodes.find((n) => n.id === victim.id)!.health === 'unreachable');
    const dead = v.nodes.find((n) => n.id === victim.id)!;
    expect(dead.process.lastLines[0]).toMatch(
      /ECONNREFUSED|No connection established|Connection dropped/,
    );
    expect(dead.raft).toBeNull();
    expect(v.nodes.filter((n) => n.id !== victim.id).every((n) => n.health === 'healthy')).toBe(
      true,
    );
    expect(v.leader).not.toBe(0);
    expect(
      events.some(
        (x) => x.kind === 'process' && x.node === victim.id && /unreachable/.test(x.message),
      ),
    ).toBe(true);

    const rm = await e.removeNode(victim.id);
    const end = await rm.run;
    expect(end.error).toBeNull();
    expect(end.state).toBe('done');
    v = e.view();
    expect(v.config.voters).toEqual([1, 2, 3].filter((x) => x !== victim.id));
    expect(v.nodes.find((n) => n.id === victim.id)!.membership).toBe('removed');
    expect(
      events.some((x) => x.kind === 'config' && x.node === victim.id && /removed/.test(x.message)),
    ).toBe(true);
    expect(v.workflows.map((w) => [w.kind, w.state])).toEqual([
      ['transfer-leader', 'done'],
      ['remove-node', 'done'],
    ]);
    // The read-only session saw the removal too (it only watches).
    expect(engines[0]!.view().config.voters).toHaveLength(2);
  }, 60_000);

  it('with --allow-changes adds a learner by its peer URL and promotes it once it is in sync', async () => {
    const e = attach({ endpoints: cluster.endpoints, allowChanges: true });
    const events: ClusterEvent[] = [];
    e.onEvent((x) => events.push(x));
    await e.start();
    await until(e, (x) => x.leader !== 0);
    const m = await cluster.prepareMember();
    const known = e.view().nodes.map((n) => n.id);
    expect(known).toEqual([1, 2]);
    // etcd refuses a change until every voter has been connected for 5 s ("unhealthy cluster"),
    // which the removal above broke for a while.
    let added: { id: number; memberId: string } | undefined;
    for (let i = 0; added === undefined; i++) {
      try {
        added = await e.addLearner(m.peer);
      } catch (err) {
        expect((err as Error).message).toMatch(/: 14 UNAVAILABLE: etcdserver: unhealthy cluster$/);
        if (i > 40) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const { id, memberId } = added;
    expect(id).toBe(3);
    expect(memberId).toMatch(/^\d+$/);
    let v = await until(e, (x) => x.config.learners.includes(id));
    expect(v.nodes.find((n) => n.id === id)!.health).toBe('unreachable');
    expect(v.nodes.find((n) => n.id === id)!.process.lastLines[0]).toMatch(/has not started/);
    // The operator starts etcd on the learner's host: the names and peer URLs of the members.
    const polled = e.view().nodes.filter((n) => n.membership !== 'removed' && n.id !== id);
    const names = cluster.members.filter((x) =>
      polled.some((n) => n.addresses.peer === hostOf(x.peer)),
    );
    const initial = [...names, m].map((x) => `${x.name}=${x.peer}`).join(',');
    cluster.startJoining(m, initial);
    v = await until(
      e,
      (x) => {
        const n = x.nodes.find((y) => y.id === id)!;
        return n.health === 'healthy' && n.role === 'learner';
      },
      30_000,
    );
    expect(v.nodes.find((n) => n.id === id)!.membership).toBe('learner');
    expect(
      events.some(
        (x) => x.kind === 'config' && x.node === id && /added as a learner/.test(x.message),
      ),
    ).toBe(true);
    // etcd promotes a learner only once it is in sync with the leader; it may still refuse.
    let end: ClusterView['workflows'][number] | undefined;
    for (let i = 0; i < 10; i++) {
      end = await (await e.promote(id)).run;
      if (end.state === 'done') break;
      expect(end.error).toMatch(/in sync with leader/);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(end?.state).toBe('done');
    v = e.view();
    expect(v.config.voters).toContain(id);
    expect(v.config.learners).toEqual([]);
    expect(
      events.some((x) => x.kind === 'config' && x.node === id && /promoted/.test(x.message)),
    ).toBe(true);
    await expect(e.promote(id)).rejects.toThrow(`node ${id} is not a learner`);
    await expect(e.addLearner('127.0.0.1:9')).rejects.toThrow(/must be http/);

    // Writes through the members' client URLs (over TLS), one member pinned with via.
    const kv = e.kvSession({ clientId: 'attached', timeoutMs: 3000, via: id });
    try {
      const put = await kv.execute({ op: 'put', key: 'attached', value: 'yes' });
      expect(put.servedBy).toBe(v.nodes.find((n) => n.id === id)!.addresses.client);
      expect(Buffer.from((await kv.get('attached'))!).toString()).toBe('yes');
    } finally {
      await kv.close();
    }
  }, 90_000);

  it('polls each member at most once a second by default', async () => {
    // One member was killed and removed above: the first endpoint that answers is used.
    const e = attach({ endpoints: cluster.endpoints });
    let views = 0;
    e.onView(() => views++);
    await e.start();
    await new Promise((r) => setTimeout(r, 2500));
    // One view per poll cycle: the first at start, then one a second.
    expect(views).toBeLessThanOrEqual(4);
    expect(views).toBeGreaterThanOrEqual(2);
    expect(e.view().nodes.filter((n) => n.membership === 'voter')).toHaveLength(3);
  });
});
