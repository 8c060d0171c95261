/** format: plain-text tables and the status rows the command line prints. */
import type { ClusterEvent, ClusterView } from '../contract/view';

/** Align: how a table column is aligned. */
export type Align = 'left' | 'right';

/** table renders rows under a header, columns padded to their widest cell. */
export function table(header: string[], rows: (string | number)[][], align: Align[] = []): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => {
        const pad = widths[i]! - [...c].length;
        return align[i] === 'right' ? ' '.repeat(pad) + c : c + ' '.repeat(pad);
      })
      .join('  ')
      .trimEnd();
  return cells.map(line).join('\n');
}

/** NodeRow is one node in a status table or a JSON view line. */
export interface NodeRow {
  id: number;
  pid: number | null;
  process: string;
  role: string;
  term: number | null;
  leader: boolean;
  commit: number | null;
  applied: number | null;
  lag: number | null;
  health: string;
  membership: string;
}

/** nodeRows summarises a cluster view, one row per node. */
export function nodeRows(v: ClusterView): NodeRow[] {
  return v.nodes.map((n) => ({
    id: n.id,
    pid: n.process.pid,
    process: n.process.state,
    role: n.raft?.role ?? '-',
    term: n.raft?.term ?? null,
    leader: v.leader === n.id,
    commit: n.raft?.commit ?? null,
    applied: n.raft?.applied ?? null,
    lag: n.lagBehindLeader,
    health: n.health,
    membership: n.membership,
  }));
}

const dash = (v: number | null): string | number => (v === null ? '-' : v);

/** rowsTable renders node rows as the status table of `raftdeck start`. */
export function rowsTable(rows: NodeRow[]): string {
  return table(
    ['NODE', 'PID', 'PROCESS', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'HEALTH'],
    rows.map((r) => [
      r.id,
      dash(r.pid),
      r.process,
      r.membership === 'learner' ? `${r.role} (learner)` : r.role,
      dash(r.term),
      r.leader ? '*' : '',
      dash(r.commit),
      dash(r.applied),
      dash(r.lag),
      r.health,
    ]),
    ['right', 'right', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'left'],
  );
}

/** clock formats a time as HH:MM:SS.mmm (local time). */
export function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** eventLine formats one cluster event. */
export function eventLine(e: ClusterEvent): string {
  return `${clock(e.time)}  ${e.kind.padEnd(8)}  ${e.message}`;
}

/** fit cuts a line to `width` characters (for redrawn screens). */
export function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
