/**
 * topology: what the Topology view draws beside the members, as pure functions of the view:
 * each member's timer in milliseconds (timerOf), the directed links between members with their
 * state, rules and traffic (linksOf), and how the leader's last entry stands (commitQuorumOf).
 * No I/O, no timers; the projection calls them, the renderer only draws their results.
 */
import type {
  CommitQuorum,
  LinkRule,
  LinkState,
  LinkView,
  NodeId,
  NodeView,
  PaceView,
  TimerView,
} from '../contract/view';
import type { ElectionTimer, Role } from '../raft/types';
import { describeRule } from './faults';

/** quorumSize: how many of `voters` a commit needs, and how many failures that tolerates. */
export function quorumSize(voters: number): { needed: number; tolerates: number } {
  const needed = Math.floor(voters / 2) + 1;
  return { needed, tolerates: Math.max(0, voters - needed) };
}

/** REAL_TIME: the pace of a cluster nobody slowed down. */
export const REAL_TIME: Readonly<PaceView> = Object.freeze({ pace: 1, fastFailover: true });

/** LinkRate: what a sender sent on one link over the last second. */
export interface LinkRate {
  msgsPerSec: number;
  bytesPerSec: number;
}

/** linkKey: the key of the directed link from → to in traffic maps ("1-3"). */
export const linkKey = (from: NodeId, to: NodeId): string => `${from}-${to}`;

/**
 * timerOf: a member's timer in ms, from its report: the heartbeat timer on a leader, the election
 * timer otherwise. `tickMs` is the length of one tick at the member's pace; `at` when it reported.
 */
export function timerOf(role: Role, t: ElectionTimer, tickMs: number, at: number): TimerView {
  const leader = role === 'leader';
  const elapsedMs = (leader ? t.heartbeatElapsed : t.electionElapsed) * tickMs;
  const timeoutMs = Math.max(1, (leader ? t.heartbeatTicks : t.electionTimeout) * tickMs);
  return {
    kind: leader ? 'heartbeat' : 'election',
    elapsedMs,
    timeoutMs,
    fraction: Math.min(1, Math.max(0, elapsedMs / timeoutMs)),
    at,
  };
}

type LinkNode = Pick<NodeView, 'id' | 'process' | 'membership' | 'faults' | 'transport'>;

/** rulesOn: the rules of the sender and of the receiver that act on messages from → to. */
function rulesOn(from: LinkNode, to: LinkNode): { rule: LinkRule; on: NodeId }[] {
  const out: { rule: LinkRule; on: NodeId }[] = [];
  for (const r of from.faults.rules) {
    if (r.to !== undefined && (r.to === '*' || r.to === to.id)) out.push({ rule: r, on: from.id });
  }
  for (const r of to.faults.rules) {
    if (r.from !== undefined && (r.from === '*' || r.from === from.id)) {
      out.push({ rule: r, on: to.id });
    }
  }
  return out;
}

/** cutBy: the rule drops every message of every type. */
const cutBy = (r: LinkRule): boolean => (r.drop ?? 0) >= 1 && !r.types?.length;

/** wording: the rules on a link in a few words, naming a partition or isolation as such. */
function wording(
  from: LinkNode,
  to: LinkNode,
  rules: { rule: LinkRule; on: NodeId }[],
  partitioned: boolean,
): string | null {
  const words: string[] = [];
  if (from.faults.isolated) words.push(`node ${from.id} isolated`);
  if (to.faults.isolated) words.push(`node ${to.id} isolated`);
  if (partitioned && !from.faults.isolated && !to.faults.isolated) words.push('partition');
  for (const { rule, on } of rules) {
    const custom = (on === from.id ? from : to).faults.custom;
    if (custom.includes(rule)) words.push(`on ${on}: ${describeRule(rule)}`);
  }
  return words.length ? words.join('; ') : null;
}

/**
 * linksOf: every directed link between members that are not removed, by (from, to): 'down' when
 * either end's process does not run (or is paused), 'cut' when a rule drops everything on it,
 * 'faulty' for any other rule, else 'up'. `traffic` gives the rates (0 where absent).
 */
export function linksOf(
  nodes: readonly LinkNode[],
  partitions: readonly (readonly NodeId[])[] | null,
  traffic: ReadonlyMap<string, LinkRate> = new Map(),
): LinkView[] {
  const members = nodes.filter((n) => n.membership !== 'removed').sort((a, b) => a.id - b.id);
  const groupOf = (id: NodeId): readonly NodeId[] | undefined =>
    partitions?.find((g) => g.includes(id));
  const links: LinkView[] = [];
  for (const from of members) {
    for (const to of members) {
      if (from.id === to.id) continue;
      const rules = rulesOn(from, to);
      const up = (n: LinkNode): boolean => n.process.state === 'running';
      let state: LinkState = 'up';
      if (!up(from) || !up(to)) state = 'down';
      else if (rules.some((r) => cutBy(r.rule))) state = 'cut';
      else if (rules.length > 0) state = 'faulty';
      let keep = 1;
      let delayMs = 0;
      for (const { rule } of rules) {
        if (!rule.types?.length) keep *= 1 - Math.min(1, rule.drop ?? 0);
        delayMs += rule.delayMs ?? 0;
      }
      const g = groupOf(from.id);
      const partitioned = partitions !== null && partitions.length > 1 && !g?.includes(to.id);
      const rate = traffic.get(linkKey(from.id, to.id));
      links.push({
        from: from.id,
        to: to.id,
        state,
        rule: wording(from, to, rules, partitioned),
        drop: 1 - keep,
        delayMs,
        oneWay: false,
        msgsPerSec: rate?.msgsPerSec ?? 0,
        bytesPerSec: rate?.bytesPerSec ?? 0,
        connected: from.transport?.connectedPeers.includes(to.id) ?? false,
      });
    }
  }
  const byKey = new Map(links.map((l) => [linkKey(l.from, l.to), l]));
  for (const l of links) {
    const back = byKey.get(linkKey(l.to, l.from));
    l.oneWay = (l.state === 'cut' || l.state === 'faulty') && back?.state === 'up';
  }
  return links;
}

type QuorumNode = Pick<NodeView, 'id' | 'raft'>;

/**
 * commitQuorumOf: how the leader's last entry stands: which voters hold it (the leader, and each
 * follower whose match the leader knows to reach it), how many a commit needs, and whether the
 * leader's commit index has reached it. null without a leader report.
 */
export function commitQuorumOf(
  leader: QuorumNode | undefined,
  voters: readonly NodeId[],
): CommitQuorum | null {
  const r = leader?.raft;
  if (!leader || !r || voters.length === 0) return null;
  const index = r.lastIndex;
  const acked = voters
    .filter((v) => v === leader.id || (r.progress.find((p) => p.id === v)?.match ?? 0) >= index)
    .sort((a, b) => a - b);
  const { needed } = quorumSize(voters.length);
  const committed = r.commit >= index;
  const text =
    `${acked.length} of ${voters.length} acked entry ${index} · ` +
    (committed ? 'committed' : `commit needs ${needed}`);
  return { index, commit: r.commit, acked, needed, voters: voters.length, committed, text };
}
