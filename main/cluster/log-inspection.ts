/**
 * log-inspection: the members' logs side by side for the dashboard's log inspector. The
 * supervisor asks every member for the same entries (admin op `log-entries`); this module picks
 * the node the rows follow and says, for every index and node, whether it holds the reference's
 * entry, a conflicting one, none yet, or had it compacted into its snapshot. Pure: the asking is
 * ClusterDashboard.logEntries.
 */
import type {
  EntryHolder,
  LogEntryView,
  LogInspection,
  LogQuery,
  LogRow,
  NodeId,
} from '../contract/view';
import type { EntryInfo, LogReadResult } from '../node/log-inspect';

/** NodeAnswer: what one member answered to `log-entries` (read), or why it did not (error). */
export type NodeAnswer =
  { id: NodeId; read: LogReadResult; error: null } | { id: NodeId; read: null; error: string };

/**
 * pickReference: the node whose log the rows follow: the leader if it answered, else the node
 * that answered with the longest log (the lowest id among equals); 0 if none answered.
 */
export function pickReference(answers: readonly NodeAnswer[], leader: NodeId): NodeId {
  let best: { id: NodeId; last: number } | null = null;
  for (const a of answers) {
    if (a.read === null) continue;
    if (a.id === leader) return a.id;
    const last = a.read.lastIndex;
    if (best === null || last > best.last || (last === best.last && a.id < best.id)) {
      best = { id: a.id, last };
    }
  }
  return best?.id ?? 0;
}

/** entryView: a node's entry as the contract shows it (without that node's times). */
export function entryView(e: EntryInfo): LogEntryView {
  const { appendedAt: _a, committedAt: _c, appliedAt: _p, ...view } = e;
  return view;
}

/**
 * holderAt: how node `a`'s log stands at `index` against the reference's entry there (`ref`,
 * null where the reference has none: beyond its end or compacted, `refCompacted`).
 */
export function holderAt(
  a: NodeAnswer,
  index: number,
  ref: EntryInfo | null,
  refCompacted: boolean,
): EntryHolder {
  const none = { term: null, entry: null, appendedAt: null, committedAt: null, appliedAt: null };
  if (a.read === null) {
    return { node: a.id, state: 'unreachable', ...none, snapshotIndex: null, error: a.error };
  }
  const r = a.read;
  if (index < r.firstIndex) {
    return { node: a.id, state: 'compacted', ...none, snapshotIndex: r.snapshotIndex, error: null };
  }
  const own = index <= r.lastIndex ? r.entries.find((e) => e.index === index) : undefined;
  if (own === undefined) {
    return { node: a.id, state: 'missing', ...none, snapshotIndex: null, error: null };
  }
  // Where the reference compacted the index, an entry this node has committed is the same entry
  // (committed entries never differ); an uncommitted one cannot be compared, so it is shown apart.
  const same = ref !== null ? ref.term === own.term : refCompacted && index <= r.commit;
  return {
    node: a.id,
    state: same ? 'holds' : 'conflict',
    term: own.term,
    entry: same ? null : entryView(own),
    appendedAt: own.appendedAt,
    committedAt: own.committedAt,
    appliedAt: own.appliedAt,
    snapshotIndex: null,
    error: null,
  };
}

/**
 * mergeLog builds the answer to `query` from every member's answer. A range: rows from
 * query.from to the end of the longest log answered (at most query.count; fewer where a node's
 * byte bound stopped it). A key search: the rows are the entries the reference found; the others
 * answered for exactly those indexes. `note` says why fewer rows came than asked.
 */
export function mergeLog(
  query: LogQuery,
  leader: NodeId,
  answers: readonly NodeAnswer[],
  reference = pickReference(answers, leader),
): LogInspection {
  const sorted = [...answers].sort((x, y) => x.id - y.id);
  const nodes = sorted.map((a) =>
    a.read === null
      ? {
          id: a.id,
          firstIndex: null,
          lastIndex: null,
          snapshotIndex: null,
          commit: null,
          applied: null,
          error: a.error,
        }
      : {
          id: a.id,
          firstIndex: a.read.firstIndex,
          lastIndex: a.read.lastIndex,
          snapshotIndex: a.read.snapshotIndex,
          commit: a.read.commit,
          applied: a.read.applied,
          error: null,
        },
  );
  const ref = sorted.find((a) => a.id === reference)?.read ?? null;
  if (ref === null) {
    return {
      reference: 0,
      nodes,
      rows: [],
      scannedTo: query.from - 1,
      note: answers.length === 0 ? 'no member to ask' : 'no member answered',
    };
  }
  const reads = sorted.flatMap((a) => (a.read === null ? [] : [a.read]));
  const row = (index: number): LogRow => {
    const own = ref.entries.find((e) => e.index === index) ?? null;
    const compacted = index < ref.firstIndex;
    return {
      index,
      entry: own === null ? null : entryView(own),
      holders: sorted.map((a) => holderAt(a, index, own, compacted)),
    };
  };

  if (query.key !== undefined) {
    const rows = ref.entries.map((e) => row(e.index));
    let note: string | null = null;
    if (rows.length < query.count) {
      const key = JSON.stringify(query.key);
      const n = rows.length;
      const found = `${n === 0 ? 'no' : n} ${n === 1 ? 'entry' : 'entries'} on key ${key}`;
      const start = Math.max(query.from, ref.firstIndex);
      note =
        ref.stop === 'scan'
          ? `${found} in ${start}..${ref.scannedTo}; the search stops after that many entries: search again from ${ref.scannedTo + 1}`
          : ref.stop === 'bytes'
            ? `${found} before the byte bound stopped the search at ${ref.scannedTo}`
            : `${found} in ${start}..${ref.lastIndex} (node ${reference}'s log ends at ${ref.lastIndex}${query.from < ref.firstIndex ? `; below ${ref.firstIndex} it is compacted into its snapshot at ${ref.snapshotIndex}` : ''})`;
    }
    return { reference, nodes, rows, scannedTo: ref.scannedTo, note };
  }

  const asked = query.from + query.count - 1;
  const longest = Math.max(...reads.map((r) => r.lastIndex));
  // A node's byte bound ends the rows where it stopped, so no holder is called missing for an
  // entry it has but did not send.
  const cut = Math.min(...reads.map((r) => (r.stop === 'bytes' ? r.scannedTo : Infinity)));
  const end = Math.min(asked, longest, cut);
  const rows: LogRow[] = [];
  for (let i = query.from; i <= end; i++) rows.push(row(i));
  const notes: string[] = [];
  if (end < asked) {
    if (cut <= longest && cut < asked) {
      notes.push(`the byte bound stopped at ${cut}: ask again from ${cut + 1}`);
    } else {
      notes.push(
        query.from > longest
          ? `${query.from} is beyond the end of every log (the longest ends at ${longest})`
          : `the longest log ends at ${longest}`,
      );
    }
  }
  if (query.from < ref.firstIndex) {
    notes.push(
      `node ${reference} compacted the entries below ${ref.firstIndex} into its snapshot at ${ref.snapshotIndex}`,
    );
  }
  return {
    reference,
    nodes,
    rows,
    scannedTo: end >= query.from ? end : query.from - 1,
    note: notes.length > 0 ? notes.join('; ') : null,
  };
}
