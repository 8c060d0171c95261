/**
 * fault-model: the faults the supervisor wants in force: the partition, and each node's
 * isolation, hand-set link rules and disk delay. It only records them; the supervisor pushes the
 * resulting rules (linkRulesFor) to the nodes and the view projection shows them. Each change
 * returns the previous state of what it changed, so a change a node refused can be undone.
 */
import type { LinkRule, NodeId } from '../contract/view';
import { linkRulesFor, NO_FAULTS, type NodeFaults } from '../view/faults';
import type { FaultInput } from '../view/projection';

export class FaultModel {
  private groups: NodeId[][] | null = null;
  private readonly byNode = new Map<NodeId, NodeFaults>();

  /** partitions: the groups that cannot talk across, or null. */
  get partitions(): NodeId[][] | null {
    return this.groups;
  }

  /** of: node `id`'s own faults (a copy). */
  of(id: NodeId): NodeFaults {
    const f = this.byNode.get(id) ?? NO_FAULTS;
    return { ...f, customRules: [...f.customRules] };
  }

  private update(id: NodeId, change: Partial<NodeFaults>): void {
    this.byNode.set(id, { ...(this.byNode.get(id) ?? NO_FAULTS), ...change });
  }

  isolate(id: NodeId): void {
    this.update(id, { isolated: true });
  }

  /** partition sets the groups (sorted, empty ones left out); the caller checks the ids. */
  partition(groups: NodeId[][]): NodeId[][] {
    this.groups = groups.filter((g) => g.length > 0).map((g) => [...g].sort((a, b) => a - b));
    return this.groups;
  }

  /** heal removes the partition, isolation and hand-set link rules (disk delays stay). */
  heal(): void {
    this.groups = null;
    for (const [id, f] of this.byNode)
      this.byNode.set(id, { ...f, isolated: false, customRules: [] });
  }

  /** setLinkRules replaces node `id`'s hand-set rules; returns the previous ones. */
  setLinkRules(id: NodeId, rules: LinkRule[]): LinkRule[] {
    const prev = this.of(id).customRules;
    this.update(id, { customRules: [...rules] });
    return prev;
  }

  setFsyncDelay(id: NodeId, ms: number): void {
    this.update(id, { fsyncDelayMs: ms });
  }

  /** forget drops a node that left the cluster. */
  forget(id: NodeId): void {
    this.byNode.delete(id);
  }

  /** rulesFor: the rules node `id`'s filter must hold, given every node id in `all`. */
  rulesFor(id: NodeId, all: Iterable<NodeId>): LinkRule[] {
    return linkRulesFor(id, this.of(id), this.groups, all);
  }

  /** input: the model as the view projection takes it. */
  input(): FaultInput {
    return { partitions: this.groups, nodes: new Map(this.byNode) };
  }
}
