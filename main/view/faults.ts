/**
 * faults: the fault model as the dashboard sees it, as pure functions. linkRulesFor turns the
 * model (partitions, isolated nodes, hand-set rules) into the rules one node's filter must hold;
 * activeFaults lists every fault in force for the view; describeRule and formatGroups word them.
 * No I/O, no timers: the supervisor and every other implementation of the dashboard API use it.
 */
import type { ActiveFault, ClusterView, LinkRule, NodeId } from '../contract/view';

/** NodeFaults: the faults set on one node by hand (partitions are cluster-wide). */
export interface NodeFaults {
  isolated: boolean;
  /** customRules: link rules set by hand; partition and isolation rules are derived. */
  customRules: LinkRule[];
  fsyncDelayMs: number;
}

/** NO_FAULTS: a node nobody has touched. */
export const NO_FAULTS: Readonly<NodeFaults> = Object.freeze({
  isolated: false,
  customRules: [],
  fsyncDelayMs: 0,
});

/**
 * linkRulesFor combines isolation, the partition and the hand-set rules of node `id` into the
 * rules its fault filter must hold, in that order. Isolation wins over the partition; a node the
 * partition does not list stands alone. `all` is every node id the cluster knows.
 */
export function linkRulesFor(
  id: NodeId,
  faults: Readonly<NodeFaults>,
  partitions: readonly (readonly NodeId[])[] | null,
  all: Iterable<NodeId>,
): LinkRule[] {
  const rules: LinkRule[] = [];
  if (faults.isolated) {
    rules.push({ to: '*', drop: 1 }, { from: '*', drop: 1 });
  } else if (partitions) {
    const mine = partitions.find((g) => g.includes(id)) ?? [id];
    for (const other of all) {
      if (!mine.includes(other)) rules.push({ to: other, drop: 1 }, { from: other, drop: 1 });
    }
  }
  return [...rules, ...faults.customRules];
}

/** activeFaults lists every fault in force, cluster-wide first, then per node in id order. */
export function activeFaults(view: Pick<ClusterView, 'nodes' | 'partitions'>): ActiveFault[] {
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
    // The partition and isolation are listed once above; only hand-set rules are faults of
    // their own (the derived rules stay one click away, on the node).
    if (n.faults.custom.length > 0) {
      out.push({
        key: `rules-${n.id}`,
        kind: 'link-rules',
        node: n.id,
        label: `node ${n.id}: ${n.faults.custom.map(describeRule).join('; ')}`,
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

/** formatGroups: [[1,2],[3]] → "{1,2} | {3}". */
export function formatGroups(groups: readonly (readonly number[])[]): string {
  return groups.map((g) => `{${g.join(',')}}`).join(' | ');
}

/**
 * describeCleared: what clearing all faults did, in one sentence: the steps taken (or that none
 * was in force), then what could not be done.
 */
export function describeCleared(did: readonly string[], failed: readonly string[]): string {
  return `${[did.length ? did.join(', ') : 'no fault was in force', ...failed].join('; ')}.`;
}
