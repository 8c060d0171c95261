/**
 * log-inspect: what the admin op `log-entries` reads from a node's log (docs/protocol.md, "Log
 * entries"): a bounded range (or a key's entries, or a list of indexes), each entry decoded for a
 * person, with when this node appended, committed and applied it where it still remembers
 * (EntryTimes, a ring of the latest ENTRY_TIMES_KEPT indexes).
 */
import { decodeConfEntry } from '../raft/conf';
import type { LogView } from '../raft/log';
import type { ConfEntry, Entry } from '../raft/types';
import { decodeCommand } from './kv/kv-state';

/** LOG_PREVIEW_CHARS: the longest key or value preview of a decoded entry, in characters. */
export const LOG_PREVIEW_CHARS = 120;

/** LOG_READ_MAX: the most indexes one `log-entries` request covers (range or list). */
export const LOG_READ_MAX = 1000;

/** LOG_READ_MAX_BYTES / DEFAULT: the bound on the payload bytes one request decodes. */
export const LOG_READ_MAX_BYTES = 4 * 1024 * 1024;
export const LOG_READ_DEFAULT_BYTES = 1024 * 1024;

/** LOG_SCAN_MAX: the most entries a key search looks at in one request. */
export const LOG_SCAN_MAX = 65_536;

/** ENTRY_TIMES_KEPT: how many of the latest indexes a node remembers the times of. */
export const ENTRY_TIMES_KEPT = 8192;

/**
 * EntryKind: what an entry is: the leader's no-op (an empty normal entry), a key-value command,
 * a configuration change, or a payload that does not decode.
 */
export type EntryKind = 'noop' | 'put' | 'del' | 'cas' | 'config' | 'unknown';

/**
 * EntryInfo: one entry decoded. `bytes`: its payload's size. put/del/cas: `key`, `value`,
 * `expected` as previews of at most LOG_PREVIEW_CHARS characters (UTF-8 text, or "0x" and hex
 * for bytes that are not), `valueBytes` the whole value's size, `client`/`seq` the session that
 * proposed it. config: `config` says what it changes. `summary`: the entry in one line. `error`:
 * why it did not decode. Times: ms since the epoch on this node's clock, null where not known.
 */
export interface EntryInfo {
  index: number;
  term: number;
  kind: EntryKind;
  bytes: number;
  summary: string;
  key?: string;
  value?: string | null;
  valueBytes?: number;
  expected?: string | null;
  client?: string;
  seq?: number;
  config?: string;
  error?: string;
  appendedAt: number | null;
  committedAt: number | null;
  appliedAt: number | null;
}

/**
 * LogRead: which entries to read: the range from..from+count-1, or with `key` the entries on that
 * key from `from` on (at most `count` of them, looking at most LOG_SCAN_MAX entries), or exactly
 * `indexes`. `maxBytes` bounds the payload bytes decoded into the answer (one entry always fits).
 */
export type LogRead =
  | { from: number; count: number; maxBytes: number; key?: string }
  | { indexes: number[]; maxBytes: number };

/**
 * LogReadResult: the node's log bounds (`firstIndex` is the lowest index it still holds, greater
 * than `lastIndex` when it holds none; entries below it are folded into the snapshot at
 * `snapshotIndex`, 0 if none), its commit and applied indexes and current term, the entries read
 * in index order, `scannedTo` the last index answered for (a range: its end unless a bound
 * stopped it; a key search: the last index looked at, from - 1 when none), and `stop` why it
 * ended before what was asked: 'bytes' (maxBytes), 'scan' (LOG_SCAN_MAX looked at), or null.
 */
export interface LogReadResult {
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  commit: number;
  applied: number;
  term: number;
  entries: EntryInfo[];
  scannedTo: number;
  stop: 'bytes' | 'scan' | null;
}

/** Slot fields of EntryTimes, side by side in one array. */
const F_INDEX = 0;
const F_TERM = 1;
const F_APPENDED = 2;
const F_COMMITTED = 3;
const F_APPLIED = 4;
const FIELDS = 5;

/**
 * EntryTimes remembers when the latest `size` indexes were appended, committed and applied on
 * this node: one slot per index modulo `size`, so memory never grows. A slot belongs to one
 * (index, term); an entry overwritten by another term starts a fresh slot. 0 means not seen.
 */
export class EntryTimes {
  private readonly slots: Float64Array;

  constructor(readonly size = ENTRY_TIMES_KEPT) {
    this.slots = new Float64Array(size * FIELDS);
  }

  private slot(index: number, term: number): number {
    const s = (index % this.size) * FIELDS;
    const d = this.slots;
    if (d[s + F_INDEX] !== index || d[s + F_TERM] !== term) {
      d[s + F_INDEX] = index;
      d[s + F_TERM] = term;
      d[s + F_APPENDED] = 0;
      d[s + F_COMMITTED] = 0;
      d[s + F_APPLIED] = 0;
    }
    return s;
  }

  /**
   * appended: (index, term) was made durable at `at`. A follower may learn that an entry is
   * committed in the same batch that brings it, before its own write ends: its commit time then
   * stays, earlier than its append.
   */
  appended(index: number, term: number, at: number): void {
    const s = this.slot(index, term);
    this.slots[s + F_APPENDED] = at;
  }

  committed(index: number, term: number, at: number): void {
    const s = this.slot(index, term);
    if (this.slots[s + F_COMMITTED] === 0) this.slots[s + F_COMMITTED] = at;
  }

  applied(index: number, term: number, at: number): void {
    const s = this.slot(index, term);
    if (this.slots[s + F_APPLIED] === 0) this.slots[s + F_APPLIED] = at;
  }

  /** of: the times of (index, term), null for each not known. */
  of(
    index: number,
    term: number,
  ): { appendedAt: number | null; committedAt: number | null; appliedAt: number | null } {
    const s = (index % this.size) * FIELDS;
    const d = this.slots;
    if (d[s + F_INDEX] !== index || d[s + F_TERM] !== term) {
      return { appendedAt: null, committedAt: null, appliedAt: null };
    }
    const t = (v: number): number | null => (v === 0 ? null : v);
    return {
      appendedAt: t(d[s + F_APPENDED]!),
      committedAt: t(d[s + F_COMMITTED]!),
      appliedAt: t(d[s + F_APPLIED]!),
    };
  }
}

/**
 * preview shows bytes as text: the first LOG_PREVIEW_CHARS characters of their UTF-8, with "…"
 * when there is more; bytes that are not UTF-8 as "0x" and the hex of the first ones.
 */
export function preview(b: Uint8Array): string {
  const head = b.subarray(0, LOG_PREVIEW_CHARS * 4);
  let text: string;
  try {
    // stream: a character cut at the end of `head` is not an error (a decoder per call, since
    // one left mid-character would carry it into the next).
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, {
      stream: head.length < b.length,
    });
  } catch {
    const n = Math.min(b.length, (LOG_PREVIEW_CHARS - 2) >> 1);
    const hex = Buffer.from(b.buffer, b.byteOffset, n).toString('hex');
    return `0x${hex}${n < b.length ? '…' : ''}`;
  }
  const chars = Array.from(text);
  if (chars.length > LOG_PREVIEW_CHARS) return `${chars.slice(0, LOG_PREVIEW_CHARS).join('')}…`;
  return head.length < b.length ? `${text}…` : text;
}

/** previewText cuts a string to LOG_PREVIEW_CHARS characters, with "…" when cut. */
export function previewText(s: string): string {
  if (s.length <= LOG_PREVIEW_CHARS) return s;
  const chars = Array.from(s);
  return chars.length > LOG_PREVIEW_CHARS ? `${chars.slice(0, LOG_PREVIEW_CHARS).join('')}…` : s;
}

/** describeConf says what a configuration entry changes, in words. */
export function describeConf(ce: ConfEntry): string {
  const c = ce.change;
  const members = `voters [${ce.conf.voters.join(', ')}]${ce.conf.learners.length ? `, learners [${ce.conf.learners.join(', ')}]` : ''}`;
  switch (c.type) {
    case 'bootstrap':
      return `bootstrap: ${members}`;
    case 'add-learner':
      return `add learner ${c.node}: ${members}`;
    case 'promote':
      return `promote ${c.node}: ${members}`;
    case 'remove':
      return `remove ${c.node}: ${members}`;
  }
}

/** describeEntry decodes one entry for a person (times not filled in). */
export function describeEntry(
  e: Entry,
): Omit<EntryInfo, 'appendedAt' | 'committedAt' | 'appliedAt'> {
  const base = { index: e.index, term: e.term, bytes: e.data.length };
  const fail = (what: string, err: unknown) => ({
    ...base,
    kind: 'unknown' as const,
    summary: `unreadable ${what} entry (${e.data.length} bytes)`,
    error: err instanceof Error ? err.message : String(err),
  });
  if (e.type === 'conf') {
    let config: string;
    try {
      config = describeConf(decodeConfEntry(e.data));
    } catch (err) {
      return fail('configuration', err);
    }
    return { ...base, kind: 'config', summary: `config: ${config}`, config };
  }
  if (e.data.length === 0) return { ...base, kind: 'noop', summary: `no-op of term ${e.term}` };
  let cmd;
  try {
    cmd = decodeCommand(e.data);
  } catch (err) {
    return fail('command', err);
  }
  const k = cmd.cmd;
  const key = previewText(k.key);
  const session = { client: previewText(cmd.clientId), seq: cmd.seq };
  switch (k.op) {
    case 'put': {
      const value = preview(k.value);
      return {
        ...base,
        ...session,
        kind: 'put',
        key,
        value,
        valueBytes: k.value.length,
        summary: `put ${key} = ${value}`,
      };
    }
    case 'del':
      return { ...base, ...session, kind: 'del', key, summary: `del ${key}` };
    case 'cas': {
      const value = preview(k.value);
      const expected = k.expected === null ? null : preview(k.expected);
      return {
        ...base,
        ...session,
        kind: 'cas',
        key,
        value,
        valueBytes: k.value.length,
        expected,
        summary: `cas ${key}: ${expected ?? '(absent)'} → ${value}`,
      };
    }
  }
}

/** keyOf: the key a normal entry's command is on, or undefined (no-op, config, unreadable). */
function keyOf(e: Entry): string | undefined {
  if (e.type !== 'normal' || e.data.length === 0) return undefined;
  try {
    return decodeCommand(e.data).cmd.key;
  } catch {
    return undefined;
  }
}

/** LogSource: what readLog needs of a node. */
export interface LogSource {
  log: LogView;
  snapshotIndex: number;
  term: number;
  times: EntryTimes;
}

/** readLog answers one LogRead from a node's log (see LogRead and LogReadResult). */
export function readLog(src: LogSource, q: LogRead): LogReadResult {
  const log = src.log;
  const first = log.firstIndex();
  const last = log.lastIndex();
  const entries: EntryInfo[] = [];
  let bytes = 0;
  let stop: LogReadResult['stop'] = null;
  const take = (e: Entry): boolean => {
    if (entries.length > 0 && bytes + e.data.length > q.maxBytes) {
      stop = 'bytes';
      return false;
    }
    bytes += e.data.length;
    entries.push({ ...describeEntry(e), ...src.times.of(e.index, e.term) });
    return true;
  };
  let scannedTo: number;
  if ('indexes' in q) {
    const sorted = [...new Set(q.indexes)].sort((a, b) => a - b);
    scannedTo = 0;
    for (const i of sorted) {
      const e = log.entry(i);
      if (e !== undefined && !take(e)) break;
      scannedTo = i;
    }
  } else if (q.key === undefined) {
    const end = q.from + q.count - 1;
    scannedTo = end;
    for (let i = Math.max(q.from, first); i <= Math.min(end, last); i++) {
      if (!take(log.entry(i)!)) {
        scannedTo = i - 1;
        break;
      }
    }
  } else {
    const start = Math.max(q.from, first);
    scannedTo = start - 1;
    for (let i = start; i <= last; i++) {
      if (i - start >= LOG_SCAN_MAX) {
        stop = 'scan';
        break;
      }
      const e = log.entry(i)!;
      if (keyOf(e) === q.key && !take(e)) break;
      scannedTo = i;
      if (entries.length >= q.count) break;
    }
  }
  return {
    firstIndex: first,
    lastIndex: last,
    snapshotIndex: src.snapshotIndex,
    commit: log.commit,
    applied: log.applied,
    term: src.term,
    entries,
    scannedTo,
    stop,
  };
}
