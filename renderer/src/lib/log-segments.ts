/**
 * log-segments: how one node's log is drawn on an index axis. The dashboard knows index ranges
 * and where each run of equal terms begins in a node's own log (its status's termRuns), not the
 * entries: compacted prefix (before firstIndex), entries up to lastIndex split at the node's own
 * term runs (those before the first run it reports are of earlier, unnamed terms), the
 * uncommitted tail, the part that conflicts (or may conflict) with the leader's log, and the
 * snapshot, commit and applied marks.
 */
import type { RaftView, TermRun } from '../../../main/contract/view';

export interface Domain {
  lo: number;
  hi: number;
}

export type SegmentKind = 'compacted' | 'term' | 'earlier' | 'uncommitted' | 'divergent';

export interface Segment {
  kind: SegmentKind;
  /** from, to: entries from+1 … to (a half-open range on the axis). */
  from: number;
  to: number;
  term: number | null;
  left: number;
  width: number;
  title: string;
}

export interface Mark {
  kind: 'snapshot' | 'commit' | 'applied';
  index: number;
  left: number;
}

/** pos maps an index boundary to a percentage of the domain. */
export function pos(i: number, d: Domain): number {
  const span = Math.max(1, d.hi - d.lo);
  return Math.max(0, Math.min(100, ((i - d.lo) / span) * 100));
}

function seg(
  kind: SegmentKind,
  from: number,
  to: number,
  d: Domain,
  term: number | null,
  title: string,
): Segment | null {
  const a = Math.max(from, d.lo);
  const b = Math.min(to, d.hi);
  if (b <= a) return null;
  return { kind, from: a, to: b, term, left: pos(a, d), width: pos(b, d) - pos(a, d), title };
}

export interface LogLayoutInput {
  raft: RaftView;
  domain: Domain;
  /** confirmedUpTo: the index up to which the leader confirmed this log (match); null = all. */
  confirmedUpTo: number | null;
  /** leader: the leader's own report, to find where this log's terms part from its (null: none). */
  leader: RaftView | null;
}

/** runsOf: a report's term runs (none from a node that does not report them). */
export function runsOf(raft: RaftView): readonly TermRun[] {
  return (raft.termRuns as TermRun[] | undefined) ?? [];
}

/** termAt: the term of entry `index` in a log with these runs and last index (null: not known). */
export function termAt(runs: readonly TermRun[], last: number, index: number): number | null {
  if (index > last) return null;
  for (let k = runs.length - 1; k >= 0; k--) {
    if (runs[k]!.start <= index) return runs[k]!.term;
  }
  return null;
}

/**
 * conflictFrom: the first index where a log's terms differ from the leader's, over the indexes
 * both name a term for; null where they agree. Terms are constant between run starts, so only
 * the run starts of both logs (and the first index both name) need comparing.
 */
export function conflictFrom(raft: RaftView, leader: RaftView): number | null {
  const mine = runsOf(raft);
  const theirs = runsOf(leader);
  if (mine.length === 0 || theirs.length === 0) return null;
  const lo = Math.max(mine[0]!.start, theirs[0]!.start);
  const hi = Math.min(raft.lastIndex, leader.lastIndex);
  const points = [lo, ...mine.map((r) => r.start), ...theirs.map((r) => r.start)]
    .filter((i) => i >= lo && i <= hi)
    .sort((a, b) => a - b);
  for (const i of points) {
    if (termAt(mine, raft.lastIndex, i) !== termAt(theirs, leader.lastIndex, i)) return i;
  }
  return null;
}

export function layoutLog({ raft, domain, confirmedUpTo, leader }: LogLayoutInput): {
  segments: Segment[];
  marks: Mark[];
} {
  const out: (Segment | null)[] = [];
  const first = raft.firstIndex;
  const last = raft.lastIndex;
  out.push(
    seg('compacted', domain.lo, first - 1, domain, null, `compacted: entries up to ${first - 1}`),
  );

  // The node's own runs; entries before the first one it reports are of earlier terms.
  const runs = runsOf(raft);
  const firstKnown = runs[0]?.start ?? Infinity;
  out.push(
    seg(
      'earlier',
      first - 1,
      Math.min(last, firstKnown - 1),
      domain,
      null,
      `entries of earlier terms: ${first}…${Math.min(last, firstKnown - 1)}`,
    ),
  );
  runs.forEach((r, i) => {
    const to = Math.min(last, (runs[i + 1]?.start ?? Infinity) - 1);
    const from = Math.max(first - 1, r.start - 1);
    out.push(seg('term', from, to, domain, r.term, `term ${r.term}: entries ${from + 1}…${to}`));
  });

  out.push(
    seg(
      'uncommitted',
      raft.commit,
      last,
      domain,
      null,
      `not committed: ${raft.commit + 1}…${last}`,
    ),
  );
  const conflict = leader && leader !== raft ? conflictFrom(raft, leader) : null;
  if (conflict !== null && leader) {
    const mine = termAt(runs, last, conflict);
    const theirs = termAt(runsOf(leader), leader.lastIndex, conflict);
    out.push(
      seg(
        'divergent',
        conflict - 1,
        last,
        domain,
        null,
        `conflicts with the leader's log from ${conflict}: term ${mine ?? '?'} here, ${theirs ?? '?'} on the leader`,
      ),
    );
  } else if (confirmedUpTo !== null && confirmedUpTo < last) {
    out.push(
      seg(
        'divergent',
        Math.max(confirmedUpTo, raft.commit),
        last,
        domain,
        null,
        `may conflict with the leader: ${Math.max(confirmedUpTo, raft.commit) + 1}…${last}`,
      ),
    );
  }

  const marks: Mark[] = [];
  const mark = (kind: Mark['kind'], index: number) => {
    if (index >= domain.lo && index <= domain.hi && index > 0) {
      marks.push({ kind, index, left: pos(index, domain) });
    }
  };
  mark('snapshot', raft.snapshotIndex);
  mark('applied', raft.applied);
  mark('commit', raft.commit);
  return { segments: out.filter((s): s is Segment => s !== null), marks };
}

/** termColor: the CSS color of a term (a palette of 8, cycling). */
export function termColor(term: number): string {
  return `var(--term-${((term % 8) + 8) % 8})`;
}
