/**
 * The peer proxies with real etcd: three members advertise their proxies, and partitions,
 * one-way cuts and delays set on the PeerNetwork change what the members do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaderOf, put, sleep, startEtcd, status, waitFor, type TestEtcd } from './proxy-harness';
import { haveEtcd } from '../../etcd';

let c: TestEtcd;
beforeAll(async () => {
  c = await startEtcd('etcd-net', 3);
}, 60_000);
afterAll(async () => {
  await c?.teardown();
});

const all = [1, 2, 3];
const agreed = (ids = all) =>
  waitFor(`members ${ids.join(',')} agree on a leader`, () => leaderOf(c, ids));

describe.skipIf(!haveEtcd)('PeerNetwork with etcd 3.4', () => {
  it('every member is reached through its proxy, and each directed link counts bytes', async () => {
    const leader = await agreed();
    await put(leader, 'a', '1');
    await sleep(300);
    const stats = c.net.linkStats();
    for (const from of all) {
      for (const to of all) {
        if (from === to) continue;
        const s = stats.find((x) => x.from === from && x.to === to);
        expect(s, `${from} → ${to}`).toBeDefined();
        expect(s!.bytes, `${from} → ${to}`).toBeGreaterThan(0);
        expect(s!.open, `${from} → ${to}`).toBeGreaterThan(0);
      }
    }
    // The member ids learnt from X-Server-From are the ones etcd reports.
    const seen = c.net.memberIdsSeen();
    for (const m of c.members.values()) expect(seen.get(m.hex)).toBe(m.id);
  });

  it('partition {1} | {2,3}: the majority elects and writes, member 1 is never leader; healing reunites', async () => {
    await agreed();
    c.net.setPartition([[1], [2, 3]]);
    const majority = await waitFor('the majority elects a leader', async () => {
      const l = await leaderOf(c, [2, 3]);
      return l && l.id !== 1 ? l : undefined;
    });
    await put(majority, 'p', 'majority');
    // Member 1 is alone: once its election timeout has passed (a leader steps down by
    // check-quorum), it never counts itself leader, and it cannot write.
    await sleep(700);
    for (let i = 0; i < 10; i++) {
      const s = await status(c.members.get(1)!);
      expect(s === undefined || s.leaderHex !== c.members.get(1)!.hex).toBe(true);
      await sleep(100);
    }
    await expect(put(c.members.get(1)!, 'p', 'minority', 1500)).rejects.toThrow();
    expect(c.net.linkStats().find((x) => x.from === 2 && x.to === 1)!.refused).toBeGreaterThan(0);

    c.net.setPartition(null);
    const healed = await agreed();
    await put(c.members.get(1)!, 'p', 'after', 5000);
    expect(healed.id).toBeGreaterThan(0);
  }, 60_000);

  it("a one-way cut of the leader's sends: the others elect another, whom the old leader hears and follows", async () => {
    const old = await agreed();
    c.net.setRules(old.id, [{ to: '*', drop: 1 }]);
    const others = all.filter((id) => id !== old.id);
    const next = await waitFor('a new leader among the others', async () => {
      const l = await leaderOf(c, others);
      return l && l.id !== old.id ? l : undefined;
    });
    // It still receives: it learns the new leader although nothing it sends gets out.
    await waitFor('the old leader follows the new one', async () => {
      const s = await status(old);
      return s?.leaderHex === next.hex;
    });
    await put(next, 'one-way', 'x');
    const before = c.net.linkStats().filter((x) => x.from === old.id);
    await sleep(300);
    const after = c.net.linkStats().filter((x) => x.from === old.id);
    expect(after.map((x) => x.bytes)).toEqual(before.map((x) => x.bytes));
    c.net.setRules(old.id, []);
    await agreed();
  }, 60_000);

  it("a delay on the leader's links to both followers holds every write at least that long", async () => {
    const leader = await agreed();
    await put(leader, 'warm', 'up');
    c.net.setRules(leader.id, [{ to: '*', delayMs: 250 }]);
    await sleep(300);
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await put(leader, `d${i}`, 'v', 5000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    }
    expect((await leaderOf(c, all))?.id).toBe(leader.id);
    c.net.setRules(leader.id, []);
  }, 60_000);
});
