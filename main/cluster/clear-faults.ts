/**
 * clear-faults: "clear all faults" the same way on every engine that runs its own processes:
 * resume paused members, restore slowed disks, heal the network (partition, isolation, link
 * rules), then start every member that is down, except one that must be replaced (its data
 * folder is gone). The summary says what was done, in the order done, and what failed.
 */
import type { NodeId } from '../contract/view';
import { describeCleared } from '../view/faults';
import type { FaultModel } from './fault-model';

/** ClearableMember: one member as clearAllFaults sees it. */
export interface ClearableMember {
  id: NodeId;
  /** member: in the configuration (a removed member is left alone). */
  member: boolean;
  paused: boolean;
  running: boolean;
  /** refused: why it must not be started again (its data folder is gone), or null. */
  refused: string | null;
}

export interface ClearTarget {
  faults: FaultModel;
  members(): ClearableMember[];
  resume(id: NodeId): void;
  /** restoreDisk takes a disk delay away (engines with slow disks only). */
  restoreDisk?(id: NodeId): Promise<void>;
  heal(): Promise<void>;
  start(id: NodeId): Promise<void>;
}

/** clearAllFaults clears every fault of `t` (see the file comment); `summary` says what it did. */
export async function clearAllFaults(
  t: ClearTarget,
): Promise<{ summary: string; failed: string[] }> {
  const did: string[] = [];
  const all = t.members();
  const ids = all.map((m) => m.id);
  const partitioned = t.faults.partitions !== null;
  const isolated = ids.filter((id) => t.faults.of(id).isolated);
  const ruled = ids.filter((id) => t.faults.of(id).customRules.length > 0);
  for (const m of all) {
    if (m.paused) {
      t.resume(m.id);
      did.push(`resumed node ${m.id}`);
    }
    if (t.restoreDisk) {
      if (t.faults.of(m.id).fsyncDelayMs > 0) did.push(`restored the disk of node ${m.id}`);
      await t.restoreDisk(m.id);
    }
  }
  await t.heal();
  if (partitioned) did.push('healed the partition');
  for (const id of isolated) did.push(`reconnected node ${id}`);
  for (const id of ruled) did.push(`cleared the link rules of node ${id}`);
  const failed: string[] = [];
  for (const m of t.members()) {
    if (!m.member || m.running) continue;
    if (m.refused !== null) {
      failed.push(`node ${m.id} was not started: its data folder is gone (replace it)`);
      continue;
    }
    try {
      await t.start(m.id);
      did.push(`started node ${m.id} again`);
    } catch (e) {
      failed.push(`node ${m.id} did not start: ${(e as Error).message}`);
    }
  }
  return { summary: describeCleared(did, failed), failed };
}
