/**
 * A learner joins a real etcd cluster through the peer proxies and is sent a snapshot: the
 * snapshot post (chunked, POST /raft/snapshot) goes through the receiver's proxy, is counted on
 * the leader → learner link, and the members' logs read as snapshot events.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEtcdLog, type EtcdLogEvent } from '../../../main/cluster/etcd/etcd-log';
import { addLearner, leaderOf, put, startEtcd, waitFor, type TestEtcd } from './proxy-harness';
import { haveEtcd } from '../../etcd';

let c: TestEtcd;
beforeAll(async () => {
  c = await startEtcd('etcd-snap', 3, { snapshotCount: 100 });
}, 60_000);
afterAll(async () => {
  await c?.teardown();
});

const names = (hex: string): number | null =>
  [...c.members.values()].find((m) => m.hex === hex)?.id ?? c.net.memberIdsSeen().get(hex) ?? null;

it.skipIf(!haveEtcd)(
  "a learner added through the proxies gets the leader's snapshot, and the logs say so",
  async () => {
    const leader = await waitFor('a leader', () => leaderOf(c, [1, 2, 3]));
    const events: { node: number; e: EtcdLogEvent }[] = [];
    for (const m of c.members.values()) {
      m.proc.onLine((r) => {
        const e = parseEtcdLog(r, names, m.id);
        if (e) events.push({ node: m.id, e });
      });
    }
    // etcd keeps 5000 entries behind its latest snapshot for slow followers: past that, a member
    // that joins needs the snapshot.
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; i < 330; i++, n++) await put(leader, `w${w}-${i}`, 'x'.repeat(100), 10_000);
      }),
    );
    expect(n).toBe(5280);

    const learner = await addLearner(c, 4, leader);
    const sent = await waitFor('the leader logs the snapshot it sent', async () =>
      events.find(
        (x) => x.e.kind === 'snapshot' && x.e.message.includes('finished sending snapshot'),
      ),
    );
    expect(sent.node).toBe(leader.id);
    expect(sent.e.message).toMatch(
      new RegExp(
        `^node ${leader.id} finished sending snapshot \\d+ \\(\\d+\\.\\d (KiB|MiB)\\) to node 4$`,
      ),
    );
    const bytes = (sent.e.data as { bytes: number }).bytes;
    expect(bytes).toBeGreaterThan(5000 * 100);

    const received = await waitFor('the learner logs the snapshot it received', async () => {
      const lines = readFileSync(learner.proc.spec.logFile, 'utf8').split('\n').filter(Boolean);
      return lines
        .map((l) => parseEtcdLog(JSON.parse(l) as Record<string, unknown>, names, 4))
        .find((e) => e?.kind === 'snapshot' && e.message.includes('received snapshot'));
    });
    expect(received!.message).toMatch(
      new RegExp(`^node 4 received snapshot \\d+ from node ${leader.id}: `),
    );

    const link = c.net.linkStats().find((x) => x.from === leader.id && x.to === 4)!;
    expect(link.bytes).toBeGreaterThanOrEqual(bytes);
  },
  120_000,
);
