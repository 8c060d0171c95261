/**
 * pace: the rules of the demo pace that every implementation shares: the default of fast
 * failover for a pace, how long a message is held at a pace, and the pace in words.
 */
import { MAX_PACE, MESSAGE_FLIGHT_MS, type PaceView } from '../contract/view';

/**
 * defaultFastFailover: at real time a follower campaigns at once when its leader's port refuses
 * connections (on); slowed down, the audience should see a real election timeout (off).
 */
export const defaultFastFailover = (pace: number): boolean => pace <= 1;

/** messageDelayMs: how long every message is held on its way at `pace` (none at real time). */
export const messageDelayMs = (pace: number): number => (pace > 1 ? MESSAGE_FLIGHT_MS * pace : 0);

/** checkPace: `pace` if it is an integer in [1, MAX_PACE], else an error naming the bounds. */
export function checkPace(pace: number): number {
  if (!Number.isInteger(pace) || pace < 1 || pace > MAX_PACE) {
    throw new Error(`pace must be a whole number from 1 to ${MAX_PACE}, not ${pace}`);
  }
  return pace;
}

/** describePace: the pace in words, for the event stream and the CLI. */
export function describePace(p: PaceView): string {
  const failover = p.fastFailover
    ? "fast failover on (followers campaign at once when the leader's process is gone)"
    : 'fast failover off (followers wait for their election timeout)';
  if (p.pace === 1) return `pace 1× (real time); ${failover}`;
  return (
    `pace ${p.pace}×: ticks, heartbeats and election timeouts ${p.pace} times longer, every ` +
    `message held ${messageDelayMs(p.pace)} ms on its way; ${failover}`
  );
}

/** PaceTiming: what a node's status says of its pace (a node of an earlier version says nothing). */
export interface PaceTiming {
  pace?: number;
  fastFailover?: boolean;
}

/**
 * reportedPace: the pace the nodes report of themselves, from the first report that gives it
 * (every node of a cluster runs the same one), or null when none does.
 */
export function reportedPace(timings: readonly (PaceTiming | undefined)[]): PaceView | null {
  const t = timings.find((x) => typeof x?.pace === 'number');
  if (!t || t.pace === undefined) return null;
  return { pace: t.pace, fastFailover: t.fastFailover ?? defaultFastFailover(t.pace) };
}
