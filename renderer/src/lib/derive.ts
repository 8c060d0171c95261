/**
 * derive: pure functions from a ClusterView to what the dashboard highlights: the leader, how far
 * each node diverges from it, per-follower lag, and the list of active faults.
 */
import type { ClusterView, LinkRule, NodeId, NodeView } from '../../../main/contract/view';

/** leaderOf returns the node the cluster view names as leader, if it is in the view. */
export function leaderOf(view: ClusterView | null): NodeView | undefined {
  if (!view || view.leader === 0) return undefined;
  return view.nodes.find((n) => n.id === view.leader);
}

/**
 * divergence lists how a node's state departs from the leader's: a deposed leader, an older term,
 * another (or no) leader, a log longer than the leader's (those entries will be overwritten), or
 * a commit index far behind. Empty for the leader, for agreeing nodes, and for down nodes.
 */
export function divergence(node: NodeView, leader: NodeView | undefined): string[] {
  const r = node.raft;
  const l = leader?.raft;
  if (!r || !leader || !l || node.id === leader.id) return [];
  if (node.membership === 'removed') return [];
  const out: string[] = [];
  if (r.role === 'leader') out.push(`also claims leadership (term ${r.term})`);
  if (r.term < l.term) out.push(`term ${r.term} behind the leader's ${l.term}`);
  if (r.role !== 'leader' && r.leader !== leader.id) {
    out.push(r.leader === 0 ? 'knows no leader' : `follows node ${r.leader}`);
  }
  if (r.lastIndex > l.lastIndex) {
    out.push(`${r.lastIndex - l.lastIndex} entries beyond the leader's log`);
  }
  return out;
}

/** lagOf: entries this node is behind the leader (from the leader's progress when known). */
export function lagOf(node: NodeView, leader: NodeView | undefined): number | null {
  if (!leader?.raft) return node.lagBehindLeader;
  if (node.id === leader.id) return 0;
  const p = leader.raft.progress.find((f) => f.id === node.id);
  if (p) return p.lag;
  return node.lagBehindLeader;
}

export type FaultKind = 'partition' | 'isolated' | 'link-rules' | 'slow-disk' | 'paused' | 'down';

export interface ActiveFault {
  key: string;
  kind: FaultKind;
  node: NodeId | null;
  label: string;
}

/** activeFaults lists every fault in force, cluster-wide first, then per node in id order. */
export function activeFaults(view: ClusterView | null): ActiveFault[] {
  if (!view) return [];
  const out: ActiveFault[] = [];
  if (view.partitions && view.partitions.length > 1) {
    out.push({
      key: 'partition',
      kind: 'partition',
      node: null,
      label: `partition ${view.partitions.map((g) => `{${g.join(', ')}}`).join(' | ')}`,
    });
  }
  for (const n of [...view.nodes].sort((a, b) => a.id - b.id)) {
    if (n.membership === 'removed') continue;
    const s = n.process.state;
    if (s === 'crashed' || s === 'stopped') {
      out.push({
        key: `down-${n.id}`,
        kind: 'down',
        node: n.id,
        label: `node ${n.id} ${s === 'crashed' ? `killed${n.process.signal ? ` (${n.process.signal})` : ''}` : 'stopped'}`,
      });
    }
    if (s === 'paused') {
      out.push({ key: `paused-${n.id}`, kind: 'paused', node: n.id, label: `node ${n.id} paused` });
    }
    if (n.faults.isolated) {
      out.push({
        key: `iso-${n.id}`,
        kind: 'isolated',
        node: n.id,
        label: `node ${n.id} isolated`,
      });
    }
    if (n.faults.rules.length > 0) {
      out.push({
        key: `rules-${n.id}`,
        kind: 'link-rules',
        node: n.id,
        label: `node ${n.id}: ${n.faults.rules.map(describeRule).join('; ')}`,
      });
    }
    if (n.faults.fsyncDelayMs > 0) {
      out.push({
        key: `disk-${n.id}`,
        kind: 'slow-disk',
        node: n.id,
        label: `node ${n.id} slow disk +${n.faults.fsyncDelayMs} ms`,
      });
    }
  }
  return out;
}

/** describeRule: one link rule in a few words ("→3 drop 50% vote"). */
export function describeRule(r: LinkRule): string {
  const peer = r.to !== undefined ? `→${r.to}` : `←${r.from ?? '*'}`;
  const parts = [peer];
  if (r.drop !== undefined)
    parts.push(r.drop >= 1 ? 'drop all' : `drop ${Math.round(r.drop * 100)}%`);
  if (r.delayMs !== undefined) parts.push(`+${r.delayMs}${r.jitterMs ? `±${r.jitterMs}` : ''} ms`);
  if (r.snapshotOffset !== undefined) parts.push(`lose chunk @${r.snapshotOffset}`);
  if (r.types?.length) parts.push(r.types.join(','));
  return parts.join(' ');
}

/** TermStart: the first index the dashboard saw for a term (the new leader's no-op). */
export interface TermStart {
  term: number;
  index: number;
}

/**
 * trackTermStarts records where each term's entries begin, as observed from successive views: a
 * term is first seen on its leader, whose last index then is (about) its no-op. Starts are kept
 * increasing; the list is bounded.
 */
export function trackTermStarts(starts: TermStart[], view: ClusterView): TermStart[] {
  const l = leaderOf(view)?.raft;
  if (!l || l.role !== 'leader') return starts;
  const last = starts[starts.length - 1];
  if (last && last.term >= l.term) return starts;
  const index = Math.max(last?.index ?? 0, Math.min(l.lastIndex, l.commit + 1));
  return [...starts, { term: l.term, index }].slice(-64);
}

/** formatBytes: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** formatAgo: how long ago `t` was, relative to `now` ("3.2 s", "4 min"). */
export function formatAgo(t: number, now: number): string {
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** formatTime: wall-clock time with milliseconds. */
export function formatTime(t: number): string {
  const d = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** formatGroups: [[1,2],[3]] → "{1,2} | {3}". */
export function formatGroups(groups: number[][]): string {
  return groups.map((g) => `{${g.join(',')}}`).join(' | ');
}
