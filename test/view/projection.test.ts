// The view projection on inputs recorded from a real 3-node cluster (test/view/record-inputs.ts)
// in the states people look at: healthy, leader killed, partition, quorum loss, paused leader,
// a learner joining, a node being removed. Plus the thresholds, and purity: the same input gives
// the same view and is left untouched.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeId, NodeView } from '../../main/contract/view';
import type { NodeFaults } from '../../main/view/faults';
import type { LinkRate } from '../../main/view/topology';
import {
  completeView,
  electedLeader,
  projectView,
  type MemberInput,
  type ProjectionInput,
} from '../../main/view/projection';

interface Recorded {
  how: string;
  input: Omit<ProjectionInput, 'faults' | 'traffic'> & {
    faults: { partitions: NodeId[][] | null; nodes: [NodeId, NodeFaults][] };
    traffic?: [string, LinkRate][];
  };
}

/** recorded: a fixture as the projection takes it. */
function recorded(name: string): ProjectionInput & { how: string } {
  const r = JSON.parse(
    readFileSync(new URL(`../fixtures/projection/${name}.json`, import.meta.url), 'utf8'),
  ) as Recorded;
  return {
    ...r.input,
    how: r.how,
    faults: { partitions: r.input.faults.partitions, nodes: new Map(r.input.faults.nodes) },
    traffic: r.input.traffic ? new Map(r.input.traffic) : undefined,
  };
}

const byId = (nodes: NodeView[], id: NodeId): NodeView => {
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in the view`);
  return n;
};

/** reporting: the member reporting itself in `role`. */
const reporting = (input: ProjectionInput, role: string): MemberInput[] =>
  input.members.filter((m) => m.report?.role === role);

describe('a healthy cluster', () => {
  const input = recorded('healthy');
  const v = projectView(input);
  const leader = reporting(input, 'leader')[0]!;

  it('names the leader, its term and its commit', () => {
    expect(v.leader).toBe(leader.id);
    expect(v.term).toBe(leader.report!.term);
    expect(v.commit).toBe(leader.report!.commit);
    expect(v.commit).toBeGreaterThan(0);
  });

  it('shows three healthy voters, none behind, none diverging, no faults', () => {
    expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    for (const n of v.nodes) {
      expect(n.membership).toBe('voter');
      expect(n.health).toBe('healthy');
      expect(n.lagBehindLeader).toBe(0);
      expect(n.divergence).toEqual([]);
      expect(n.statusStale).toBe(false);
      expect(n.raft?.term).toBe(v.term);
    }
    expect(v.faults).toEqual([]);
    expect(v.healthCounts).toEqual({
      healthy: 3,
      lagging: 0,
      'cut-off': 0,
      unreachable: 0,
      down: 0,
      paused: 0,
    });
  });

  it('carries each member’s own term runs into its Raft view', () => {
    const runs = [
      { start: 1, term: 1 },
      { start: 2, term: leader.report!.term },
    ];
    const withRuns: ProjectionInput = {
      ...input,
      members: input.members.map((m) =>
        m.report ? { ...m, report: { ...m.report, termRuns: m.id === leader.id ? runs : [] } } : m,
      ),
    };
    const nodes = projectView(withRuns).nodes;
    expect(byId(nodes, leader.id).raft?.termRuns).toEqual(runs);
    for (const m of input.members.filter((x) => x.id !== leader.id)) {
      expect(byId(nodes, m.id).raft?.termRuns).toEqual([]);
    }
  });

  it('carries the process, addresses and connected peers of each member', () => {
    for (const m of input.members) {
      const n = byId(v.nodes, m.id);
      expect(n.process.pid).toBe(m.process.pid);
      expect(n.addresses).toEqual(m.addresses);
      expect(n.transport?.connectedPeers.sort()).toEqual(
        input.members.map((x) => x.id).filter((id) => id !== m.id),
      );
    }
  });

  it('is pure: the same input gives the same view and is left as it was', () => {
    const before = JSON.stringify({ ...input, faults: [...input.faults.nodes] });
    const again = projectView(input);
    expect(again).toEqual(v);
    expect(JSON.stringify({ ...input, faults: [...input.faults.nodes] })).toBe(before);
  });
});

describe('the leader killed', () => {
  const input = recorded('leader-killed');
  const v = projectView(input);
  const dead = input.members.find((m) => !m.running)!;

  it('has no leader: a dead process leads nobody', () => {
    expect(dead).toBeDefined();
    expect(electedLeader(input.members)).toBe(0);
    expect(v.leader).toBe(0);
  });

  it('shows the killed node down with no status, and says so in the faults', () => {
    const n = byId(v.nodes, dead.id);
    expect(n.health).toBe('down');
    expect(n.raft).toBeNull();
    expect(n.lagBehindLeader).toBeNull();
    expect(v.faults).toEqual([
      {
        key: `down-${dead.id}`,
        kind: 'down',
        node: dead.id,
        label: `node ${dead.id} killed (SIGKILL)`,
      },
    ]);
    expect(v.healthCounts.down).toBe(1);
  });

  it('measures no lag and no divergence without a leader', () => {
    for (const n of v.nodes) {
      expect(n.lagBehindLeader).toBeNull();
      expect(n.divergence).toEqual([]);
    }
  });
});

describe('a partition {leader, follower} | {follower}', () => {
  const input = recorded('partition');
  const v = projectView(input);
  const [majority, minority] = input.faults.partitions! as [NodeId[], NodeId[]];
  const alone = minority[0]!;

  it('keeps the majority side’s leader', () => {
    expect(majority).toContain(v.leader);
    expect(byId(v.nodes, alone).raft?.leader).toBe(0);
  });

  it('says the cut-off node knows no leader', () => {
    expect(byId(v.nodes, alone).divergence).toContain('knows no leader');
    for (const id of majority) expect(byId(v.nodes, id).divergence).toEqual([]);
  });

  it('derives each node’s link rules from the partition', () => {
    const rules = byId(v.nodes, alone).faults.rules;
    for (const other of majority) {
      expect(rules).toContainEqual({ to: other, drop: 1 });
      expect(rules).toContainEqual({ from: other, drop: 1 });
    }
    expect(byId(v.nodes, majority[0]!).faults.rules).toEqual([
      { to: alone, drop: 1 },
      { from: alone, drop: 1 },
    ]);
  });

  it('draws the links across the partition as cut and those within a side as up', () => {
    for (const other of majority) {
      for (const [from, to] of [
        [other, alone],
        [alone, other],
      ] as const) {
        const l = v.links.find((x) => x.from === from && x.to === to)!;
        expect(l).toMatchObject({ state: 'cut', rule: 'partition', oneWay: false });
      }
    }
    const inside = v.links.find((x) => x.from === majority[0] && x.to === majority[1])!;
    expect(inside.state).toBe('up');
    expect(inside.connected).toBe(true);
  });

  it('lists the partition first among the faults', () => {
    expect(v.faults[0]).toEqual({
      key: 'partition',
      kind: 'partition',
      node: null,
      label: `partition {${majority.join(', ')}} | {${alone}}`,
    });
  });
});

describe('quorum lost: two of three killed', () => {
  const input = recorded('quorum-loss');
  const v = projectView(input);
  const survivor = input.members.find((m) => m.running)!;

  it('has no leader, two nodes down, and the survivor knows no leader', () => {
    expect(v.leader).toBe(0);
    expect(v.healthCounts.down).toBe(2);
    expect(v.faults.map((f) => f.kind)).toEqual(['down', 'down']);
    expect(byId(v.nodes, survivor.id).raft?.leader).toBe(0);
    expect(byId(v.nodes, survivor.id).raft?.role).not.toBe('leader');
  });

  it('still shows the highest term any node reached', () => {
    expect(v.term).toBe(survivor.report!.term);
  });
});

describe('the leader paused', () => {
  const input = recorded('paused-leader');
  const v = projectView(input);
  const paused = input.members.find((m) => m.process.state === 'paused')!;

  it('does not count a paused leader as the leader, while the others still follow it', () => {
    expect(paused.report?.role).toBe('leader');
    expect(v.leader).toBe(0);
    for (const n of v.nodes.filter((x) => x.id !== paused.id)) {
      expect(n.raft?.leader).toBe(paused.id);
    }
  });

  it('shows it paused, in health and in the faults', () => {
    expect(byId(v.nodes, paused.id).health).toBe('paused');
    expect(v.faults).toContainEqual({
      key: `paused-${paused.id}`,
      kind: 'paused',
      node: paused.id,
      label: `node ${paused.id} paused`,
    });
  });
});

describe('a node joining as a learner', () => {
  const input = recorded('learner');
  const v = projectView(input);
  const learner = input.members.find((m) => !m.founding)!;
  const leaderReport = reporting(input, 'leader')[0]!.report!;

  it('shows it as a learner from the leader’s configuration, in role too', () => {
    expect(leaderReport.learners).toContain(learner.id);
    expect(byId(v.nodes, learner.id).membership).toBe('learner');
    // It still calls itself follower: it has not received the configuration yet.
    expect(learner.report!.role).toBe('follower');
    expect(byId(v.nodes, learner.id).role).toBe('learner');
    expect(v.nodes.filter((n) => n.membership === 'voter').map((n) => n.id)).toEqual(
      leaderReport.voters,
    );
  });

  it('while the leader probes it, takes its lag from its own report, and says it is probing', () => {
    const pr = leaderReport.progress.find((p) => p.id === learner.id)!;
    expect(pr).toMatchObject({ learner: true, state: 'probe', match: 0 });
    const n = byId(v.nodes, learner.id);
    expect(n.probing).toBe(true);
    expect(n.lagBehindLeader).toBe(leaderReport.lastIndex - learner.report!.applied);
    for (const other of v.nodes.filter((x) => x.id !== learner.id))
      expect(other.probing).toBe(false);
  });

  it('shows it as a voter once the workflow has promoted it', () => {
    const after = projectView(recorded('added'));
    expect(byId(after.nodes, learner.id).membership).toBe('voter');
    expect(after.workflows.at(-1)).toMatchObject({
      kind: 'add-node',
      node: learner.id,
      state: 'done',
    });
  });
});

describe('a node being removed', () => {
  const input = recorded('removed');
  const v = projectView(input);
  const leaderReport = reporting(input, 'leader')[0]!.report!;
  const leaving = input.members.find((m) => !leaderReport.voters.includes(m.id))!;

  it('no longer shows the node as a voter once its removal committed', () => {
    expect(leaving).toBeDefined();
    expect(byId(v.nodes, leaving.id).membership).not.toBe('voter');
    expect(v.workflows.at(-1)).toMatchObject({ kind: 'remove-node', node: leaving.id });
  });

  it('drops the node from the view once it is forgotten', () => {
    const after = projectView(recorded('after-removal'));
    expect(after.nodes.map((n) => n.id)).not.toContain(leaving.id);
    expect(after.nodes.every((n) => n.membership === 'voter')).toBe(true);
  });
});

describe('thresholds', () => {
  it('a status older than staleStatusMs leaves the node unreachable and stale', () => {
    const input = recorded('healthy');
    const follower = reporting(input, 'follower')[0]!;
    const old = { ...input, now: follower.reportAt + 2500 };
    const n = byId(projectView(old).nodes, follower.id);
    expect(n.health).toBe('unreachable');
    expect(n.statusStale).toBe(true);
    const patient = byId(
      projectView({ ...old, thresholds: { staleStatusMs: 5000 } }).nodes,
      follower.id,
    );
    expect(patient.health).toBe('healthy');
    expect(patient.statusStale).toBe(false);
  });

  it('a follower more than lagEntries behind by the leader’s progress is lagging', () => {
    const input = recorded('healthy');
    const leader = reporting(input, 'leader')[0]!;
    const behind = reporting(input, 'follower')[0]!;
    const report = {
      ...leader.report!,
      progress: leader.report!.progress.map((p) => (p.id === behind.id ? { ...p, lag: 150 } : p)),
    };
    const members = input.members.map((m) => (m.id === leader.id ? { ...m, report } : m));
    const v = projectView({ ...input, members });
    expect(byId(v.nodes, behind.id).lagBehindLeader).toBe(150);
    expect(byId(v.nodes, behind.id).health).toBe('lagging');
    const lenient = projectView({ ...input, members, thresholds: { lagEntries: 200 } });
    expect(byId(lenient.nodes, behind.id).health).toBe('healthy');
  });
});

describe('completeView', () => {
  it('derives divergence, faults and counts from the rest of a view, replacing stale ones', () => {
    const v = projectView(recorded('partition'));
    const alone = v.partitions![1]![0]!;
    const base = {
      ...v,
      nodes: v.nodes.map((n) =>
        n.id === alone ? { ...n, health: 'down' as const, divergence: ['stale'] } : n,
      ),
      faults: [],
    };
    const edited = completeView(base);
    expect(byId(edited.nodes, alone).divergence).toEqual(['knows no leader']);
    expect(edited.faults).toEqual(v.faults);
    expect(edited.healthCounts.down).toBe(v.healthCounts.down + 1);
  });
});

describe('at the edges, the figures say what is true', () => {
  it('healthy: led, commit from the leader, the quorum named', () => {
    const v = projectView(recorded('healthy'));
    expect(v.leadership).toEqual({ state: 'led', leader: v.leader });
    expect(v.commitBy).toBe(v.leader);
    expect(v.config).toEqual({ voters: [1, 2, 3], learners: [], from: v.leader });
    expect(v.quorum).toEqual({
      voters: 3,
      needed: 2,
      tolerates: 1,
      reachable: 3,
      lost: false,
      text: '3 voters · quorum 2 · tolerates 1 failure · 3 reachable',
    });
  });

  it('leader killed: the others still follow it, so it is "silent", not "electing"; commit is kept', () => {
    const input = recorded('leader-killed');
    const v = projectView(input);
    const dead = input.members.find((m) => !m.running)!;
    expect(v.leadership).toMatchObject({ state: 'silent', leader: dead.id });
    const silent = v.leadership as { silentMs: number | null };
    expect(silent.silentMs).toBe(input.now - dead.reportAt);
    const best = Math.max(...input.members.map((m) => m.report?.commit ?? 0));
    expect(best).toBeGreaterThan(0);
    expect(v.commit).toBe(best);
    expect(input.members.find((m) => m.id === v.commitBy)?.report?.commit).toBe(best);
    // The killed node is still a voter of the configuration the others hold.
    expect(byId(v.nodes, dead.id).membership).toBe('voter');
    expect(v.config.voters).toEqual([1, 2, 3]);
    expect(v.quorum).toMatchObject({ voters: 3, reachable: 2, lost: false });
  });

  it('partition: the cut-off node is not healthy, and the partition is one fault', () => {
    const input = recorded('partition');
    const v = projectView(input);
    const alone = input.faults.partitions![1]![0]!;
    expect(byId(v.nodes, alone).health).toBe('cut-off');
    for (const n of v.nodes.filter((x) => x.id !== alone)) expect(n.health).toBe('healthy');
    expect(v.faults).toEqual([
      {
        key: 'partition',
        kind: 'partition',
        node: null,
        label: `partition {${input.faults.partitions![0]!.join(', ')}} | {${alone}}`,
      },
    ]);
    // The derived rules are still there, one click away, and no rule was set by hand.
    expect(byId(v.nodes, alone).faults.rules.length).toBeGreaterThan(0);
    expect(byId(v.nodes, alone).faults.custom).toEqual([]);
    expect(v.quorum).toMatchObject({ reachable: 2, lost: false });
    expect(v.healthCounts['cut-off']).toBe(1);
  });

  it('right after an election, a follower that voted for the leader and has not heard from it yet is not cut off', () => {
    const input = recorded('healthy');
    const leader = projectView(input).leader;
    const lt = input.members.find((m) => m.id === leader)!.report!.term;
    const voter = input.members.find((m) => m.id !== leader)!;
    const other = input.members.find((m) => m.id !== leader && m.id !== voter.id)!;
    const untold = (m: MemberInput, vote: NodeId): MemberInput => ({
      ...m,
      report: { ...m.report!, leader: 0, vote, term: lt, role: 'follower' },
    });
    // Both followers have not heard from the new leader: one voted for it, one for someone else.
    const members = input.members.map((m) =>
      m.id === voter.id ? untold(m, leader) : m.id === other.id ? untold(m, other.id) : m,
    );
    const v = projectView({ ...input, members });
    expect(byId(v.nodes, voter.id).health).toBe('healthy');
    expect(byId(v.nodes, other.id).health).toBe('cut-off');
    expect(v.quorum).toMatchObject({ reachable: 2, lost: false });
  });

  it('a hand-set link rule is a fault of its own', () => {
    const input = recorded('healthy');
    const nodes = new Map(input.faults.nodes);
    nodes.set(2, { isolated: false, customRules: [{ to: 3, drop: 0.5 }], fsyncDelayMs: 0 });
    const v = projectView({ ...input, faults: { partitions: null, nodes } });
    expect(v.faults).toEqual([
      { key: 'rules-2', kind: 'link-rules', node: 2, label: 'node 2: →3 drop 50%' },
    ]);
  });

  it('quorum lost: says so in words, keeps the commit, and the killed voters stay voters', () => {
    const input = recorded('quorum-loss');
    const v = projectView(input);
    const survivor = input.members.find((m) => m.running)!;
    expect(v.quorum.lost).toBe(true);
    expect(v.quorum.text).toBe('no quorum: 2 of 3 voters down or cut off — writes cannot commit');
    expect(v.commit).toBe(survivor.report!.commit);
    expect(v.commit).toBeGreaterThan(0);
    expect(v.commitBy).toBe(survivor.id);
    for (const n of v.nodes) expect(n.membership).toBe('voter');
    expect(byId(v.nodes, survivor.id).health).toBe('cut-off');
    if (survivor.report!.role === 'pre-candidate' || survivor.report!.role === 'candidate') {
      expect(v.leadership).toEqual({ state: 'electing', candidates: [survivor.id] });
    }
  });

  it('paused leader: "silent" for as long as it has not reported, the followers healthy', () => {
    const input = recorded('paused-leader');
    const v = projectView(input);
    const paused = input.members.find((m) => m.process.state === 'paused')!;
    expect(v.leadership).toEqual({
      state: 'silent',
      leader: paused.id,
      silentMs: input.now - paused.reportAt,
    });
    for (const n of v.nodes.filter((x) => x.id !== paused.id)) expect(n.health).toBe('healthy');
  });

  it('a new leader probing a follower one entry behind shows 1 behind, not its whole log', () => {
    const input = recorded('healthy');
    const leader = reporting(input, 'leader')[0]!;
    const f = reporting(input, 'follower')[0]!;
    const report = {
      ...leader.report!,
      lastIndex: 50_016,
      progress: leader.report!.progress.map((p) =>
        p.id === f.id ? { ...p, state: 'probe' as const, match: 0, lag: 50_016 } : p,
      ),
    };
    const members = input.members.map((m) =>
      m.id === leader.id
        ? { ...m, report }
        : m.id === f.id
          ? { ...m, report: { ...m.report!, applied: 50_015 } }
          : m,
    );
    const n = byId(projectView({ ...input, members }).nodes, f.id);
    expect(n.probing).toBe(true);
    expect(n.lagBehindLeader).toBe(1);
    expect(n.health).toBe('healthy');
  });
});
