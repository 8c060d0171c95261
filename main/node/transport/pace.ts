/**
 * pace: a node's demo pace. At pace P the node's tick lasts tickMs × P (so heartbeats and election
 * timeouts last P times as long; the Raft core is unchanged) and, when P > 1, every message the
 * transport sends is held MESSAGE_FLIGHT_MS × P before it is written, so that messages are
 * visibly in flight. Pace 1 is normal speed. Raft's safety never depends on the pace.
 */

/**
 * MESSAGE_FLIGHT_MS: the hold of one message per unit of pace (a message at pace 20 is held
 * 200 ms). The dashboard's contract (main/contract/view.ts) uses the same figure to draw
 * messages in flight; the two must agree.
 */
export const MESSAGE_FLIGHT_MS = 10;

/** MIN_PACE, MAX_PACE: the paces a node accepts (integers). */
export const MIN_PACE = 1;
export const MAX_PACE = 100;

/** isPace: `p` is an integer pace in [MIN_PACE, MAX_PACE]. */
export function isPace(p: unknown): p is number {
  return typeof p === 'number' && Number.isSafeInteger(p) && p >= MIN_PACE && p <= MAX_PACE;
}

/** paceHoldMs: how long the transport holds each message it sends at pace `p`. */
export function paceHoldMs(p: number): number {
  return p > 1 ? MESSAGE_FLIGHT_MS * p : 0;
}
