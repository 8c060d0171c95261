import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import { encodeConfEntry } from '../../main/raft/conf';
import { RawNode } from '../../main/raft/raw-node';
import { seededRng } from '../../main/raft/rng';
import type { Entry } from '../../main/raft/types';
import { drain, drainEvents, elect, internals, rawNode } from './helpers';

describe('membership changes, one server at a time (thesis §4.1)', () => {
  it('a learner catches up, is refused promotion while behind, then becomes a voter', () => {
    const c = new SimCluster({
      ids: [1, 2, 3],
      seed: 31,
      promoteGap: 3,
      compactEvery: 20,
      snapshotPad: 500,
    });
    const leader = elect(c);
    for (let i = 0; i < 50; i++) c.propose(leader, `v${i}`);
    c.rounds(5);
    c.addNode(4);
    expect(c.confChange(leader, { type: 'add-learner', node: 4, address: 'sim:4' }).ok).toBe(true);
    const early = c.confChange(leader, { type: 'promote', node: 4 });
    expect(early).toMatchObject({ ok: false, error: 'config-change-in-progress' });
    // Let the add commit but keep node 4 from catching up.
    c.isolate(4);
    c.rounds(3);
    const behind = c.confChange(leader, { type: 'promote', node: 4 });
    expect(behind).toMatchObject({ ok: false, error: 'learner-not-caught-up' });
    expect(c.node(4).raft.role).not.toBe('leader');
    c.heal();
    c.rounds(20);
    expect(c.node(4).raft.role).toBe('learner');
    const lr = c.node(leader).raft;
    const p4 = lr.status().progress.find((p) => p.id === 4)!;
    expect(p4.learner).toBe(true);
    expect(p4.match).toBe(lr.log.lastIndex());
    expect(c.confChange(leader, { type: 'promote', node: 4 }).ok).toBe(true);
    c.rounds(5);
    expect(c.node(4).raft.role).toBe('follower');
    expect(lr.status().voters).toEqual([1, 2, 3, 4]);
    expect(c.node(4).raft.status().voters).toEqual([1, 2, 3, 4]);
    expect(c.violations).toEqual([]);
  });

  it('a learner never campaigns and its vote does not count', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 32 });
    const leader = elect(c);
    c.addNode(4);
    c.confChange(leader, { type: 'add-learner', node: 4, address: 'sim:4' });
    c.rounds(5);
    const term = c.node(4).raft.term;
    c.isolate(4);
    c.rounds(200);
    expect(c.node(4).raft.role).toBe('learner');
    expect(c.node(4).raft.term).toBe(term);
  });

  it('removing the leader: it commits the change, steps down, and the rest elect a leader', () => {
    const c = new SimCluster({ ids: [1, 2, 3, 4], seed: 33 });
    const leader = elect(c);
    c.propose(leader, 'before');
    c.rounds(3);
    expect(c.confChange(leader, { type: 'remove', node: leader }).ok).toBe(true);
    c.rounds(30);
    const ev = c.node(leader).events.find((e) => e.type === 'step-down');
    expect(ev).toMatchObject({ reason: 'removed' });
    expect(c.node(leader).exited).toBe(true);
    const next = c.leader();
    expect(next).not.toBe(0);
    expect(next).not.toBe(leader);
    expect(c.node(next).raft.status().voters).not.toContain(leader);
    expect(c.propose(next, 'after').ok).toBe(true);
    c.rounds(3);
    expect(c.violations).toEqual([]);
  });

  it('a removed follower learns of its removal and stops campaigning', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 34 });
    const leader = elect(c);
    const victim = [1, 2, 3].find((id) => id !== leader)!;
    expect(c.confChange(leader, { type: 'remove', node: victim }).ok).toBe(true);
    c.rounds(10);
    const vr = c.node(victim).raft;
    expect(vr.status().voters).not.toContain(victim);
    expect(internals(vr).promotable()).toBe(false);
    expect(c.node(victim).exited).toBe(true);
    // Even if it kept running, ticking it would never start a campaign.
    const term = vr.term;
    for (let i = 0; i < 100; i++) vr.tick();
    expect(vr.term).toBe(term);
    expect(vr.role).not.toBe('pre-candidate');
    expect(vr.role).not.toBe('candidate');
  });

  it('a removed follower that misses the append carrying the commit of its removal still learns it', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 36 });
    const leader = elect(c);
    const victim = [1, 2, 3].find((id) => id !== leader)!;
    let removal = Infinity;
    let lost = 0;
    c.dropIf = (m) => {
      const carriesCommit =
        (m.type === 'app' || m.type === 'heartbeat') && m.commit >= removal && lost === 0;
      if (m.from === leader && m.to === victim && carriesCommit) lost++;
      return m.from === leader && m.to === victim && carriesCommit;
    };
    const r = c.confChange(leader, { type: 'remove', node: victim });
    expect(r.ok).toBe(true);
    if (r.ok) removal = r.index;
    c.rounds(30);
    expect(lost).toBe(1);
    expect(c.node(victim).exited).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('a removed follower that missed its removal entirely learns it when it next campaigns', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 37 });
    const leader = elect(c);
    const victim = [1, 2, 3].find((id) => id !== leader)!;
    // Nothing from the leader reaches the victim until long after the removal committed and the
    // leader stopped telling it.
    c.dropIf = (m) => m.from === leader && m.to === victim;
    expect(c.confChange(leader, { type: 'remove', node: victim }).ok).toBe(true);
    c.rounds(100);
    expect(c.node(leader).raft.status().pendingConfIndex).toBe(0);
    expect(c.node(victim).exited).toBe(false);
    expect(c.node(victim).raft.status().voters).toContain(victim);
    c.dropIf = undefined;
    c.rounds(60);
    expect(c.node(victim).exited).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('a removed learner that missed its removal learns it through its probe', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 38 });
    const leader = elect(c);
    c.addNode(4);
    expect(c.confChange(leader, { type: 'add-learner', node: 4, address: 'sim:4' }).ok).toBe(true);
    c.rounds(10);
    expect(c.node(4).raft.role).toBe('learner');
    c.dropIf = (m) => m.from === leader && m.to === 4;
    expect(c.confChange(leader, { type: 'remove', node: 4 }).ok).toBe(true);
    c.rounds(100);
    expect(c.node(leader).raft.status().learners).toEqual([]);
    expect(c.node(4).exited).toBe(false);
    // A learner cannot campaign: before it probed, it would have waited here forever.
    c.dropIf = undefined;
    c.rounds(60);
    expect(c.node(4).exited).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('the leader stops sending to a removed node once it is gone', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 39 });
    const leader = elect(c);
    const victim = [1, 2, 3].find((id) => id !== leader)!;
    expect(c.confChange(leader, { type: 'remove', node: victim }).ok).toBe(true);
    c.rounds(10);
    expect(c.node(victim).exited).toBe(true);
    let after = 0;
    c.dropIf = (m) => {
      if (m.to === victim) after++;
      return false;
    };
    c.rounds(30); // two election timeouts and more
    const settled = after;
    c.rounds(100);
    expect(after).toBe(settled);
  });

  it('a node reports its removal when a snapshot past it replaces its log, and a joining one does not', () => {
    const snap = (to: number, voters: number[], learners: number[]) => ({
      type: 'snap' as const,
      from: 1,
      to,
      term: 2,
      meta: { index: 10, term: 2, conf: { voters, learners, addresses: {} } },
      offset: 0,
      total: 1,
      data: new Uint8Array([7]),
      done: true,
    });
    const member = rawNode(3, [1, 2, 3], { terms: [1], term: 1 });
    member.step(snap(3, [1, 2], []));
    const evs: string[] = [];
    while (member.hasReady()) {
      for (const e of member.ready().events)
        if (e.type === 'removed') evs.push(`removed@${e.index}`);
      member.advance();
    }
    expect(evs).toEqual(['removed@10']);
    // A node still joining was never in a committed configuration: a snapshot from before its
    // addition leaves it out, and that is no removal.
    const joiner = new RawNode({ id: 4, electionTicks: 10, heartbeatTicks: 1, rng: seededRng(4) });
    joiner.step(snap(4, [1, 2, 3], []));
    const joinEvents = drainEvents(joiner);
    expect(joinEvents.some((e) => e.type === 'snapshot-installed')).toBe(true);
    expect(joinEvents.some((e) => e.type === 'removed')).toBe(false);
  });

  it('allows at most one uncommitted change, and none before the leader commits in its term', () => {
    const r = rawNode(1, [1, 2, 3], { term: 1 });
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    drain(r);
    expect(r.proposeConfChange({ type: 'add-learner', node: 4, address: 'x' })).toMatchObject({
      ok: false,
      error: 'leader-not-ready',
    });
    r.step({
      type: 'app-resp',
      from: 2,
      to: 1,
      term: 2,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    drain(r);
    expect(r.proposeConfChange({ type: 'add-learner', node: 4, address: 'x' }).ok).toBe(true);
    expect(r.proposeConfChange({ type: 'add-learner', node: 5, address: 'y' })).toMatchObject({
      ok: false,
      error: 'config-change-in-progress',
    });
    // The new configuration takes effect when appended, before it commits.
    expect(r.status().learners).toEqual([4]);
    expect(r.proposeConfChange({ type: 'remove', node: 9 }).ok).toBe(false);
  });

  it('a new leader that inherited an uncommitted change waits to be ready, then takes one', () => {
    // Node 1 follows leader 2 and has its change (add learner 4) at index 2, not yet known to be
    // committed; then 2 is gone and 1 is elected.
    const r = rawNode(1, [1, 2, 3], { term: 1 });
    const change: Entry = {
      index: 2,
      term: 1,
      type: 'conf',
      data: encodeConfEntry({
        change: { type: 'add-learner', node: 4, address: 'sim:4' },
        conf: { voters: [1, 2, 3], learners: [4], addresses: { '4': 'sim:4' } },
      }),
    };
    r.step({
      type: 'app',
      from: 2,
      to: 1,
      term: 1,
      prevIndex: 1,
      prevTerm: 1,
      commit: 1,
      entries: [change],
    });
    drain(r);
    internals(r).campaign('election');
    drain(r);
    r.step({ type: 'vote-resp', from: 3, to: 1, term: 2, reject: false });
    drain(r);
    expect(r.role).toBe('leader');
    // Not "a change is in progress": that one commits with the leader's first entry.
    expect(r.proposeConfChange({ type: 'remove', node: 3 })).toMatchObject({
      ok: false,
      error: 'leader-not-ready',
    });
    r.step({
      type: 'app-resp',
      from: 3,
      to: 1,
      term: 2,
      index: 3,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    drain(r);
    expect(r.status().commit).toBe(3);
    expect(r.proposeConfChange({ type: 'remove', node: 3 }).ok).toBe(true);
  });

  it('rejects invalid changes with a reason', () => {
    const c = new SimCluster({ ids: [1], seed: 35 });
    const leader = elect(c);
    expect(c.confChange(leader, { type: 'remove', node: 1 })).toMatchObject({
      ok: false,
      error: 'invalid-change',
    });
    expect(c.confChange(leader, { type: 'promote', node: 7 })).toMatchObject({
      ok: false,
      error: 'invalid-change',
    });
    expect(c.confChange(leader, { type: 'add-learner', node: 1, address: 'x' })).toMatchObject({
      ok: false,
    });
  });
});
