/**
 * derive: what the renderer needs beyond the view's own fields: the leader's node and how
 * figures are written. Everything derived from one view (health, lag, divergence, faults, each
 * node's term runs) comes with the view from the view projection (main/view/projection.ts);
 * nothing here computes it again.
 */
import type { ClusterView, NodeView } from '../../../main/contract/view';

export { formatBytes } from '../../../main/view/format';

/** leaderOf returns the node the cluster view names as leader, if it is in the view. */
export function leaderOf(view: ClusterView | null): NodeView | undefined {
  if (!view || view.leader === 0) return undefined;
  return view.nodes.find((n) => n.id === view.leader);
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
