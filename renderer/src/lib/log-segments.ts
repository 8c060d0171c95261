/**
 * log-segments: how one node's log is drawn on an index axis. The dashboard knows index ranges,
 * not entries: compacted prefix (before firstIndex), entries up to lastIndex split at the term
 * starts the dashboard observed, the uncommitted tail, a tail that may conflict with the
 * leader's log, and the snapshot, commit and applied marks.
 */
import type { RaftView } from '../../../main/contract/view';
import type { TermStart } from './derive';

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
  termStarts: TermStart[];
  /** confirmedUpTo: the index up to which the leader confirmed this log (match); null = all. */
  confirmedUpTo: number | null;
}

export function layoutLog({ raft, domain, termStarts, confirmedUpTo }: LogLayoutInput): {
  segments: Segment[];
  marks: Mark[];
} {
  const out: (Segment | null)[] = [];
  const first = raft.firstIndex;
  const last = raft.lastIndex;
  out.push(
    seg('compacted', domain.lo, first - 1, domain, null, `compacted: entries up to ${first - 1}`),
  );

  // Terms this node can hold: at most its own current term.
  const starts = termStarts.filter((t) => t.term <= raft.term);
  const firstKnown = starts[0]?.index ?? Infinity;
  out.push(
    seg(
      'earlier',
      first - 1,
      Math.min(last, firstKnown - 1),
      domain,
      null,
      'entries of earlier terms',
    ),
  );
  starts.forEach((t, i) => {
    const next = starts[i + 1]?.index ?? Infinity;
    out.push(
      seg(
        'term',
        Math.max(first - 1, t.index - 1),
        Math.min(last, next - 1),
        domain,
        t.term,
        `term ${t.term}`,
      ),
    );
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
  if (confirmedUpTo !== null && confirmedUpTo < last) {
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
