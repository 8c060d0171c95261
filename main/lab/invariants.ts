import type { LabFailure } from '../contract/view';
import type { NodeId } from '../raft/types';

/**
 * INVARIANTS: every property the lab checks, by the name a broken one is reported under
 * (LabFailure.invariant), with what it means. The order is the order docs/raft.md lists them in.
 */
export const INVARIANTS = {
  'election safety': 'at most one leader is elected in a term',
  'log matching':
    'an index and term name one entry everywhere, and two logs holding it agree on every entry before it',
  'leader completeness': 'a newly elected leader holds every entry committed before its term',
  'state machine safety':
    'every node applies the same entry at each index, in order, reaching the same state, and an index is committed with one term only',
  'commit monotonicity': "a node's commit index never goes back while its process runs",
  durability:
    'nothing leaves a node before what it relies on is on its disk, a leader commits only what a quorum of voters holds durably, a crash never brings back a commit without its entries, and an acknowledged write survives and is applied on every member',
  'linearizable reads': 'a read index is never below an index committed before the read began',
  membership:
    'a leader has at most one uncommitted configuration change, and a node the committed configuration removed learns of it and exits',
  liveness: 'once every fault is healed, the cluster elects a leader',
  storage:
    "a node's store opens after any crash or power cut, its hard state never goes back, and it never fails on its own",
} as const satisfies Record<string, string>;

/** Invariant: the name of one of the INVARIANTS. */
export type Invariant = keyof typeof INVARIANTS;

/** invariantNames: the INVARIANTS' names, in their order. */
export const invariantNames = Object.keys(INVARIANTS) as Invariant[];

/** FAILURES_KEPT: how many failures (and violation lines) a cluster keeps, the first ones. */
export const FAILURES_KEPT = 50;

/**
 * failureOf builds the record of one broken invariant: the nodes named once each, in the order
 * given (zero ids, meaning "no node", left out).
 */
export function failureOf(
  invariant: Invariant,
  text: string,
  nodes: readonly NodeId[],
  step: number,
  at: number,
): LabFailure {
  const seen: NodeId[] = [];
  for (const n of nodes) if (n !== 0 && !seen.includes(n)) seen.push(n);
  return { invariant, nodes: seen, step, at, text };
}
