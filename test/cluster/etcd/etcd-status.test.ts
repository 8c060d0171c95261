import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import type { NodeId } from '../../../main/contract/view';
import { openEtcdClient } from '../../../main/cluster/etcd/etcd-client';
import {
  alarmsOfStatus,
  compareMemberIds,
  memberReport,
  memberStats,
  pollMember,
  type EtcdPoll,
} from '../../../main/cluster/etcd/etcd-status';
import { IDLE_CHECKER, projectView, type MemberInput } from '../../../main/view/projection';
import { startEtcdCluster, type TestEtcdCluster } from './etcd-harness';
import { haveEtcd } from '../../etcd';

let cluster: TestEtcdCluster;
const clients: Etcd3[] = [];
/** ids: NodeIds by member id, in member id order (as an engine numbers them). */
const ids = new Map<string, NodeId>();
const idOf = (memberId: string): NodeId => {
  const id = ids.get(memberId);
  if (id === undefined) throw new Error(`unknown member ${memberId}`);
  return id;
};

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3, name: 'status' });
  for (const e of cluster.endpoints)
    clients.push(openEtcdClient({ endpoints: [e], dialTimeoutMs: 2000 }));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

const pollAll = (): Promise<EtcdPoll[]> =>
  Promise.all(cluster.endpoints.map((e, i) => pollMember(clients[i]!, e, { timeoutMs: 2000 })));

function number(polls: EtcdPoll[]): void {
  const all = [...new Set(polls.flatMap((p) => p.members!.map((m) => m.id)))].sort(
    compareMemberIds,
  );
  for (const m of all) if (!ids.has(m)) ids.set(m, ids.size + 1);
}

function inputOf(p: EtcdPoll): MemberInput {
  const report = memberReport(p.status, p.members!, idOf, { metrics: p.metrics });
  return {
    id: report.id,
    founding: true,
    removed: false,
    running: true,
    process: { state: 'running' } as MemberInput['process'],
    addresses: { peer: '', client: p.endpoint, admin: '' },
    dataDir: '',
    startRefused: null,
    report,
    reportAt: p.at,
  };
}

describe.skipIf(!haveEtcd)('etcd status of a real 3-member cluster', () => {
  it('reports one leader, the same term and configuration everywhere, and feeds the projection', async () => {
    const c0 = clients[0]!;
    for (let i = 0; i < 20; i++) await c0.put(`k${i}`).value(`v${i}`);
    const polls = await pollAll();
    number(polls);
    expect(ids.size).toBe(3);
    const statuses = polls.map((p) => p.status);
    expect(new Set(statuses.map((s) => s.memberId)).size).toBe(3);
    expect(new Set(statuses.map((s) => s.leader)).size).toBe(1);
    expect(statuses[0]!.version).toMatch(/^3\.\d+\.\d+/);
    const reports = polls.map((p) =>
      memberReport(p.status, p.members!, idOf, { metrics: p.metrics }),
    );
    const leaders = reports.filter((r) => r.role === 'leader');
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    expect(leader.vote).toBe(leader.id);
    for (const [i, r] of reports.entries()) {
      const s = statuses[i]!;
      expect(r.id).toBe(idOf(s.memberId));
      expect(r.leader).toBe(leader.id);
      expect(r.term).toBe(s.raftTerm);
      expect(r.term).toBeGreaterThan(0);
      expect(r.commit).toBe(s.raftIndex);
      expect(r.lastIndex).toBe(s.raftIndex);
      expect(r.applied).toBe(s.raftAppliedIndex);
      // 20 puts went through: every member committed them.
      expect(r.commit).toBeGreaterThanOrEqual(20);
      expect(r.voters).toEqual([1, 2, 3]);
      expect(r.learners).toEqual([]);
      expect(r.progress).toEqual([]);
      expect(r.storage.snapshotBytes).toBe(s.dbSize);
      expect(r.storage.snapshotBytes).toBeGreaterThan(0);
      expect(r.kv.bytes).toBe(s.dbSizeInUse);
      expect(r.kv.keys).toBe(20);
      expect(Object.keys(r.addresses).sort()).toEqual(['1', '2', '3']);
      // Every member keeps an active stream with the other two.
      expect(Object.values(r.transport.peers ?? {}).filter((p) => p?.connected)).toHaveLength(2);
    }
    const own = reports[0]!.addresses[String(reports[0]!.id)]!;
    expect(own.split('|')[1]).toBe(cluster.endpoints[0]!.replace('http://', ''));
    expect(polls.every((p) => p.alarms?.length === 0)).toBe(true);

    const view = projectView({
      clusterId: 'etcd',
      dataDir: '',
      version: 1,
      now: Math.max(...polls.map((p) => p.at)),
      state: 'running',
      members: polls.map(inputOf),
      faults: { partitions: null, nodes: new Map() },
      parts: { workflows: [], workload: null, checker: IDLE_CHECKER, scenario: null },
    });
    expect(view.leader).toBe(leader.id);
    expect(view.leadership).toEqual({ state: 'led', leader: leader.id });
    expect(view.config.voters).toEqual([1, 2, 3]);
    expect(view.quorum.lost).toBe(false);
    expect(view.nodes.every((n) => n.membership === 'voter' && n.timer === null)).toBe(true);
    expect(view.nodes.every((n) => n.lagBehindLeader !== null && n.lagBehindLeader < 100)).toBe(
      true,
    );
  });

  it('measures peer bytes per second and fsync latency between two polls', async () => {
    const first = await pollAll();
    const c0 = clients[0]!;
    for (let i = 0; i < 20; i++) await c0.put(`r${i}`).value('x'.repeat(1000));
    await new Promise((r) => setTimeout(r, 300));
    const second = await pollAll();
    for (const [i, p] of second.entries()) {
      const st = memberStats(p, first[i]!, idOf);
      expect(st.id).toBe(idOf(p.status.memberId));
      expect(st.metricsError).toBeNull();
      expect(st.peers.map((x) => x.id)).toEqual([1, 2, 3].filter((x) => x !== st.id));
      const leader = idOf(p.status.leader);
      for (const peer of st.peers) {
        expect(peer.active).toBe(true);
        // Between the leader and each follower, appends and heartbeats and their answers flowed
        // both ways since the first poll (followers send nothing to each other).
        if (st.id === leader || peer.id === leader) {
          expect(peer.sentPerSec).toBeGreaterThan(0);
          expect(peer.receivedPerSec).toBeGreaterThan(0);
        }
      }
      expect(st.fsync!.count).toBeGreaterThanOrEqual(20);
      expect(st.fsync!.p50Ms).toBeGreaterThan(0);
      expect(st.fsync!.p99Ms).toBeGreaterThanOrEqual(st.fsync!.p50Ms!);
      expect(st.proposals.committed).toBeGreaterThanOrEqual(40);
      expect(st.proposals.applied).toBeGreaterThanOrEqual(40);
      expect(st.keys).toBe(40);
      expect(st.alarms).toEqual([]);
      expect(st.hasLeader).toBe(true);
      // No earlier poll: no rates.
      expect(memberStats(p, null, idOf).peers.every((x) => x.sentPerSec === null)).toBe(true);
    }
  });

  it('shows a learner from the member list, and a role given from the logs', async () => {
    // etcd refuses a change until every voter has been connected for 5 s ("unhealthy cluster").
    const end = Date.now() + 20_000;
    let added;
    for (;;) {
      try {
        added = await clients[0]!.cluster.memberAdd({
          peerURLs: ['http://127.0.0.1:9'],
          isLearner: true,
        });
        break;
      } catch (e) {
        if (!/unhealthy cluster/.test((e as Error).message) || Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      const polls = await pollAll();
      number(polls);
      const learnerId = idOf(added.member.ID);
      expect(learnerId).toBe(4);
      expect(
        polls.every((p) => p.members!.some((m) => m.id === added.member.ID && m.isLearner)),
      ).toBe(true);
      for (const p of polls) {
        const r = memberReport(p.status, p.members!, idOf);
        expect(r.learners).toEqual([learnerId]);
        expect(r.voters).toEqual([1, 2, 3]);
        expect(r.addresses[String(learnerId)]).toBe('127.0.0.1:9|');
        // Without metrics, no peer is known to be connected.
        expect(r.transport.peers).toEqual({});
      }
      const p = polls.find((x) => x.status.leader !== x.status.memberId)!;
      expect(memberReport(p.status, p.members!, idOf, { role: 'candidate' }).role).toBe(
        'candidate',
      );
      expect(memberReport({ ...p.status, isLearner: true }, p.members!, idOf).role).toBe('learner');
    } finally {
      await clients[0]!.cluster.memberRemove({ ID: added.member.ID });
    }
  });

  it('changes nothing: polls append no entry to the log, and an alarm shows from Status', async () => {
    const index = async (): Promise<number> =>
      Number((await clients[0]!.maintenance.status()).raftIndex);
    const before = await index();
    for (let i = 0; i < 3; i++) await pollAll();
    expect(await index()).toBe(before);

    const memberId = String((await clients[1]!.maintenance.status()).header.member_id);
    // AlarmType NOSPACE is 1; raising it by hand is what etcd does when the quota is exceeded.
    await clients[0]!.maintenance.alarm({
      action: 'Activate',
      memberID: memberId,
      alarm: 1 as never,
    });
    try {
      const polls = await pollAll();
      for (const p of polls) expect(p.alarms).toEqual([{ memberId, alarm: 'NOSPACE' }]);
    } finally {
      await clients[0]!.maintenance.alarm({
        action: 'Deactivate',
        memberID: memberId,
        alarm: 1 as never,
      });
    }
    expect((await pollAll()).every((p) => p.alarms?.length === 0)).toBe(true);
  });

  it('reads alarms from the errors of a Status answer, and nothing else', () => {
    expect(
      alarmsOfStatus([
        'memberID:13668033151171901709 alarm:NOSPACE ',
        'etcdserver: no leader',
        'memberID:2 alarm:CORRUPT',
        'memberID:3 ',
      ]),
    ).toEqual([
      { memberId: '13668033151171901709', alarm: 'NOSPACE' },
      { memberId: '2', alarm: 'CORRUPT' },
    ]);
  });

  it('rejects a poll of a member that is down, naming the connection', async () => {
    await cluster.kill(2);
    const fresh = openEtcdClient({ endpoints: [cluster.endpoints[2]!], dialTimeoutMs: 2000 });
    try {
      await expect(pollMember(fresh, cluster.endpoints[2]!, { timeoutMs: 2000 })).rejects.toThrow(
        /ECONNREFUSED 127\.0\.0\.1:\d+/,
      );
    } finally {
      fresh.close();
    }
  });
});
