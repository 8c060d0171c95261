import { quorum } from './conf';
import { Progress } from './progress';
import type { FollowerStatus, NodeId } from './types';

/**
 * Leaving is a node whose removal the leader committed and that it still tells about it: it keeps
 * replicating to the node until the node has acknowledged `until` (an index at or after its
 * removal, committed), or has been silent for an election timeout. Once told, the node is left
 * be (`toldAt`, in ticks) for an election timeout: answers still in flight are ignored, and only
 * a probe or campaign after that (it did not learn after all) starts telling it again.
 */
export interface Leaving {
  pr: Progress;
  until: number;
  toldAt: number | undefined;
}

/**
 * Tracker is the leader's view of the other nodes (as etcd's tracker package): the Progress of
 * every other member, and of removed nodes until their removal commits (`prs`), then of removed
 * nodes still being told that it did (`leaving`). It answers the quorum questions: the index a
 * quorum has matched, and whether a quorum was heard from lately. Iteration follows insertion
 * order, which is the order messages to followers are produced in.
 */
export class Tracker {
  /** prs: the leader's progress for every other member (and removed nodes until their removal commits). */
  readonly prs = new Map<NodeId, Progress>();
  /** leaving: removed nodes still being told that their removal committed. */
  readonly leaving = new Map<NodeId, Leaving>();

  /** clear forgets every follower (on any change of role or term). */
  clear(): void {
    this.prs.clear();
    this.leaving.clear();
  }

  /** all: the progress of every member, then of every leaving node not yet told. */
  *all(): Iterable<Progress> {
    yield* this.prs.values();
    for (const l of this.leaving.values()) if (l.toldAt === undefined) yield l.pr;
  }

  /** of: the progress of a member or of a leaving node not yet told. */
  of(id: NodeId): Progress | undefined {
    const pr = this.prs.get(id);
    if (pr) return pr;
    const l = this.leaving.get(id);
    return l && l.toldAt === undefined ? l.pr : undefined;
  }

  /** readAck: the highest ReadIndex round member `id` confirmed (0 if it is not tracked). */
  readAck(id: NodeId): number {
    return this.prs.get(id)?.readAck ?? 0;
  }

  /**
   * committed: the quorum-th largest match index among `voters`, counting `self` at `selfMatch`
   * (the leader's own durable index) — the highest index a quorum holds. 0 without voters.
   */
  committed(voters: readonly NodeId[], self: NodeId, selfMatch: number): number {
    if (voters.length === 0) return 0;
    const matches = voters.map((v) => (v === self ? selfMatch : (this.prs.get(v)?.match ?? 0)));
    matches.sort((a, b) => b - a);
    return matches[quorum(voters.length) - 1]!;
  }

  /** quorumActive: a quorum of `voters` (counting `self`) was heard from since the last reset. */
  quorumActive(voters: readonly NodeId[], self: NodeId): boolean {
    let active = 0;
    for (const v of voters) {
      if (v === self || this.prs.get(v)?.recentActive) active++;
    }
    return active >= quorum(voters.length);
  }

  /**
   * endActivityWindow closes an election timeout's window of activity, at tick `now`: every
   * member is inactive again until heard from, and removed nodes are let go once told `timeout`
   * ticks ago, or silent for the whole window.
   */
  endActivityWindow(now: number, timeout: number): void {
    for (const pr of this.prs.values()) pr.recentActive = false;
    for (const [id, l] of this.leaving) {
      // Told an election timeout ago, or silent for one: gone (it exits once it learns), or
      // unreachable. If it comes back without having learnt, its probe or campaign brings it
      // back here.
      if (l.toldAt !== undefined) {
        if (now - l.toldAt >= timeout) this.leaving.delete(id);
      } else if (!l.pr.recentActive) {
        this.leaving.delete(id);
      } else {
        l.pr.recentActive = false;
      }
    }
  }

  /** status: one row per member, by id, as the leader sees it at log index `lastIndex`. */
  status(lastIndex: number): FollowerStatus[] {
    const progress = [...this.prs.values()].map((pr) => pr.status(lastIndex));
    progress.sort((a, b) => a.id - b.id);
    return progress;
  }
}
