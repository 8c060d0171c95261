import { describe, expect, it } from 'vitest';
import type { LinkRule, NodeView } from '../../main/contract/view';
import { commitQuorumOf, linksOf, timerOf } from '../../main/view/topology';
import { follower, node, raft } from './fixtures';

const ids = [1, 2, 3];
const three = (over: Partial<Record<number, Partial<NodeView>>> = {}): NodeView[] =>
  ids.map((id) => node(id, id === 1 ? 'leader' : 'follower', over[id] ?? {}));
const link = (links: ReturnType<typeof linksOf>, from: number, to: number) =>
  links.find((l) => l.from === from && l.to === to)!;

describe('the links of the Topology view', () => {
  it('lists every directed pair between members, up, with the traffic given', () => {
    const links = linksOf(three(), null, new Map([['1-2', { msgsPerSec: 10, bytesPerSec: 900 }]]));
    expect(links.map((l) => `${l.from}-${l.to}`)).toEqual([
      '1-2',
      '1-3',
      '2-1',
      '2-3',
      '3-1',
      '3-2',
    ]);
    expect(links.every((l) => l.state === 'up' && l.rule === null)).toBe(true);
    expect(link(links, 1, 2)).toMatchObject({ msgsPerSec: 10, bytesPerSec: 900 });
    expect(link(links, 2, 1)).toMatchObject({ msgsPerSec: 0, bytesPerSec: 0 });
  });

  it('draws a partition as cut links between the sides, in both directions', () => {
    const cutRules = (others: number[]): LinkRule[] =>
      others.flatMap((o) => [
        { to: o, drop: 1 },
        { from: o, drop: 1 },
      ]);
    const nodes = three({
      1: { faults: { isolated: false, rules: cutRules([3]), custom: [], fsyncDelayMs: 0 } },
      2: { faults: { isolated: false, rules: cutRules([3]), custom: [], fsyncDelayMs: 0 } },
      3: { faults: { isolated: false, rules: cutRules([1, 2]), custom: [], fsyncDelayMs: 0 } },
    });
    const links = linksOf(nodes, [[1, 2], [3]]);
    expect(link(links, 1, 2).state).toBe('up');
    for (const [a, b] of [
      [1, 3],
      [3, 1],
      [2, 3],
      [3, 2],
    ]) {
      expect(link(links, a!, b!)).toMatchObject({ state: 'cut', rule: 'partition', drop: 1 });
      expect(link(links, a!, b!).oneWay).toBe(false);
    }
  });

  it('shows a hand-set rule on one direction as a one-way faulty link, with the rule', () => {
    const slow: LinkRule = { to: 2, delayMs: 200, drop: 0.5 };
    const nodes = three({
      1: { faults: { isolated: false, rules: [slow], custom: [slow], fsyncDelayMs: 0 } },
    });
    const links = linksOf(nodes, null);
    expect(link(links, 1, 2)).toMatchObject({
      state: 'faulty',
      oneWay: true,
      delayMs: 200,
      drop: 0.5,
      rule: 'on 1: →2 drop 50% +200 ms',
    });
    expect(link(links, 2, 1).state).toBe('up');
  });

  it('marks links of a down or paused member as down, and leaves removed members out', () => {
    const base = three();
    const nodes = base.map((n) =>
      n.id === 3 ? { ...n, process: { ...n.process, state: 'crashed' as const } } : n,
    );
    nodes.push(node(4, null, { membership: 'removed' }));
    const links = linksOf(nodes, null);
    expect(link(links, 1, 3).state).toBe('down');
    expect(link(links, 3, 2).state).toBe('down');
    expect(links.some((l) => l.from === 4 || l.to === 4)).toBe(false);
  });
});

describe('the timer of a member', () => {
  const t = {
    electionElapsed: 30,
    electionTimeout: 120,
    electionTicks: 100,
    heartbeatElapsed: 4,
    heartbeatTicks: 10,
  };
  it('is the election timer of a follower in ms at its pace', () => {
    expect(timerOf('follower', t, 10, 5)).toEqual({
      kind: 'election',
      elapsedMs: 300,
      timeoutMs: 1200,
      fraction: 0.25,
      at: 5,
    });
    expect(timerOf('pre-candidate', t, 200, 5)).toMatchObject({
      elapsedMs: 6000,
      timeoutMs: 24000,
    });
  });
  it('is the heartbeat timer of a leader', () => {
    expect(timerOf('leader', t, 10, 0)).toMatchObject({
      kind: 'heartbeat',
      elapsedMs: 40,
      timeoutMs: 100,
      fraction: 0.4,
    });
  });
});

describe('the quorum behind the leader’s last entry', () => {
  it('names the voters that hold it and whether it committed', () => {
    const leader = node(1, 'leader', {
      raft: raft({
        role: 'leader',
        lastIndex: 120,
        commit: 118,
        progress: [follower(2, { match: 120 }), follower(3, { match: 110 })],
      }),
    });
    const q = commitQuorumOf(leader, [1, 2, 3])!;
    expect(q).toMatchObject({
      index: 120,
      commit: 118,
      acked: [1, 2],
      needed: 2,
      committed: false,
    });
    expect(q.text).toBe('2 of 3 acked entry 120 · commit needs 2');
    const done = commitQuorumOf(
      node(1, 'leader', {
        raft: raft({ role: 'leader', lastIndex: 120, commit: 120, progress: [] }),
      }),
      [1, 2, 3],
    )!;
    expect(done.text).toBe('1 of 3 acked entry 120 · committed');
    expect(commitQuorumOf(undefined, [1, 2, 3])).toBeNull();
  });
});
