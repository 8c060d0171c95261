/**
 * partition-groups: the groups of a partition as the dashboard edits them: the groups in force
 * (members no group names form one more group, as in the partition editor), and the groups after
 * moving one node to another's side or to a side of its own. Pure.
 */
import type { NodeId } from '../../../main/contract/view';

const tidy = (groups: NodeId[][]): NodeId[][] =>
  groups
    .filter((g) => g.length > 0)
    .map((g) => [...g].sort((a, b) => a - b))
    .sort((a, b) => a[0]! - b[0]!);

/**
 * currentGroups: the groups of `members` under `partitions` (null: one group of all). Members the
 * partition does not name form one more group; ids it names that are not members are left out.
 */
export function currentGroups(
  members: readonly NodeId[],
  partitions: readonly (readonly NodeId[])[] | null,
): NodeId[][] {
  const set = new Set(members);
  const named = new Set<NodeId>();
  const groups: NodeId[][] = [];
  for (const g of partitions ?? []) {
    const inside = g.filter((id) => set.has(id) && !named.has(id));
    inside.forEach((id) => named.add(id));
    groups.push(inside);
  }
  groups.push(members.filter((id) => !named.has(id)));
  return tidy(groups);
}

/**
 * moveNode: the groups after moving `node` to the side of `target` (null: to a side of its own);
 * null when that changes nothing (the same side already, or alone already).
 */
export function moveNode(
  groups: readonly (readonly NodeId[])[],
  node: NodeId,
  target: NodeId | null,
): NodeId[][] | null {
  const from = groups.find((g) => g.includes(node));
  if (!from) return null;
  if (target !== null && from.includes(target)) return null;
  if (target === null && from.length === 1) return null;
  const to = target === null ? undefined : groups.find((g) => g.includes(target));
  if (target !== null && !to) return null;
  const next = groups.map((g) => g.filter((id) => id !== node));
  if (to) next[groups.indexOf(to)]!.push(node);
  else next.push([node]);
  return tidy(next);
}
