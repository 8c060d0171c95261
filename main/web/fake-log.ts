/**
 * fake-log: the log of the fake cluster, as far as it simulates one. Its nodes only count
 * indexes (first, last, commit, applied); FakeLog keeps what was written at the latest
 * FAKE_LOG_KEPT indexes — the leaders' no-ops, configuration changes, the console's writes and
 * the workload's writes it records in its history — as real entries, so `logEntries` decodes them
 * the way a node does. The workload's other writes carry no content in the fake and say so.
 */
import { encodeCommand, type KvOp } from '../node/kv/kv-state';
import {
  LOG_SCAN_MAX,
  describeEntry,
  type EntryInfo,
  type LogReadResult,
} from '../node/log-inspect';
import { encodeConfEntry } from '../raft/conf';
import type { ConfChange, Entry, NodeId, TermRun } from '../raft/types';

/** FAKE_LOG_KEPT: how many of the latest indexes the fake remembers the content of. */
export const FAKE_LOG_KEPT = 20_000;

/** FakeLogNode: what a fake node's log looks like (it holds firstIndex..lastIndex), as a node reports it. */
export type FakeLogNode = Pick<
  LogReadResult,
  'firstIndex' | 'lastIndex' | 'snapshotIndex' | 'commit' | 'applied' | 'term'
>;

/** FAKE_RUNS_KEPT: how many runs of equal terms the fake remembers at least. */
const FAKE_RUNS_KEPT = 256;

const enc = new TextEncoder();

export class FakeLog {
  private readonly entries = new Map<number, Entry>();
  /** terms: the term of each index written without content (see blank). */
  private readonly terms = new Map<number, number>();
  /** runs: where each term's entries begin in the log as last written, in index order (bounded). */
  private readonly runs: TermRun[] = [];
  private seq = 0;

  /** mark records that `index` now holds an entry of `term`: it overwrites any later run. */
  private mark(index: number, term: number): void {
    const runs = this.runs;
    while (runs.length > 0 && runs[runs.length - 1]!.start >= index) runs.pop();
    if (runs.length === 0 || runs[runs.length - 1]!.term !== term)
      runs.push({ start: index, term });
    if (runs.length > 2 * FAKE_RUNS_KEPT) runs.splice(0, runs.length - FAKE_RUNS_KEPT);
  }

  /**
   * termRuns: the runs of equal terms a node holding `first` … `last` reports (see
   * Status.termRuns), the latest `limit` of them. The fake's nodes share one log, so a node's runs
   * are the log's, cut to what it holds.
   */
  termRuns(first: number, last: number, limit: number): TermRun[] {
    const out: TermRun[] = [];
    if (last < first) return out;
    for (let k = this.runs.length - 1; k >= 0 && out.length < limit; k--) {
      const r = this.runs[k]!;
      if (r.start > last) continue;
      const next = this.runs[k + 1]?.start ?? Infinity;
      if (next <= first) break;
      out.push({ start: Math.max(r.start, first), term: r.term });
    }
    return out.reverse();
  }

  private put(e: Entry): void {
    this.mark(e.index, e.term);
    this.terms.delete(e.index);
    this.entries.set(e.index, e);
    this.entries.delete(e.index - FAKE_LOG_KEPT);
  }

  noop(index: number, term: number): void {
    this.put({ index, term, type: 'normal', data: new Uint8Array(0) });
  }

  /** blank: an entry written at `index` whose content the fake does not simulate. */
  blank(index: number, term: number): void {
    this.mark(index, term);
    this.entries.delete(index);
    this.terms.set(index, term);
    this.terms.delete(index - FAKE_LOG_KEPT);
  }

  /** isBlank: whether `index` was written without content (a workload write not in its history). */
  isBlank(index: number): boolean {
    return !this.entries.has(index) && this.terms.has(index);
  }

  command(index: number, term: number, clientId: string, op: KvOp): void {
    this.put({
      index,
      term,
      type: 'normal',
      data: encodeCommand({ clientId, seq: ++this.seq, cmd: op }),
    });
  }

  config(
    index: number,
    term: number,
    change: ConfChange,
    voters: NodeId[],
    learners: NodeId[],
  ): void {
    this.put({
      index,
      term,
      type: 'conf',
      data: encodeConfEntry({ change, conf: { voters, learners, addresses: {} } }),
    });
  }

  /** info: the entry at `index` decoded, or what the fake can say about it. */
  private info(index: number): EntryInfo {
    const times = { appendedAt: null, committedAt: null, appliedAt: null };
    const e = this.entries.get(index);
    if (e !== undefined) return { ...describeEntry(e), ...times };
    const term = this.terms.get(index) ?? 0;
    return {
      index,
      term,
      kind: 'unknown',
      bytes: 0,
      summary: 'a write the fake cluster does not simulate',
      error: this.terms.has(index)
        ? 'the fake cluster counts this workload write without simulating its content'
        : 'the fake cluster no longer remembers this entry',
      ...times,
    };
  }

  private keyOf(index: number): string | undefined {
    const e = this.entries.get(index);
    return e === undefined ? undefined : describeEntry(e).key;
  }

  /**
   * read answers a `log-entries` request from a fake node as a node would (see LogRead in
   * main/node/log-inspect.ts): a range, a key search or exact indexes, with the node's bounds.
   */
  read(
    n: FakeLogNode,
    q: { from: number; count: number; key?: string } | { indexes: number[] },
  ): LogReadResult {
    const first = n.firstIndex;
    const last = n.lastIndex;
    const holds = (i: number) => i >= first && i <= last;
    const out: EntryInfo[] = [];
    let scannedTo: number;
    let stop: LogReadResult['stop'] = null;
    if ('indexes' in q) {
      const sorted = [...new Set(q.indexes)].sort((a, b) => a - b);
      for (const i of sorted) if (holds(i)) out.push(this.info(i));
      scannedTo = sorted.at(-1) ?? 0;
    } else if (q.key === undefined) {
      scannedTo = q.from + q.count - 1;
      for (let i = Math.max(q.from, first); i <= Math.min(scannedTo, last); i++) {
        out.push(this.info(i));
      }
    } else {
      const start = Math.max(q.from, first);
      scannedTo = start - 1;
      for (let i = start; i <= last && out.length < q.count; i++) {
        if (i - start >= LOG_SCAN_MAX) {
          stop = 'scan';
          break;
        }
        if (this.keyOf(i) === q.key) out.push(this.info(i));
        scannedTo = i;
      }
    }
    return {
      firstIndex: first,
      lastIndex: last,
      snapshotIndex: n.snapshotIndex,
      commit: n.commit,
      applied: n.applied,
      term: n.term,
      entries: out,
      scannedTo,
      stop,
    };
  }
}

/** textOp: a console or workload write as a state-machine command. */
export function textOp(
  op: 'put' | 'del' | 'cas',
  key: string,
  value?: string,
  expected?: string | null,
): KvOp {
  if (op === 'del') return { op, key };
  if (op === 'put') return { op, key, value: enc.encode(value ?? '') };
  return {
    op,
    key,
    value: enc.encode(value ?? ''),
    expected: expected === null || expected === undefined ? null : enc.encode(expected),
  };
}
