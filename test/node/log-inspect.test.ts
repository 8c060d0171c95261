/**
 * Reading a node's log for a person: entries decoded by kind (no-op, put/del/cas with previews
 * and the client session, configuration changes, unreadable payloads), ranges bounded by count
 * and bytes, key searches bounded by the scan, exact indexes, and the times ring that forgets
 * what falls out of it and never mixes up two terms at one index.
 */
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../main/node/kv/kv-state';
import {
  ENTRY_TIMES_KEPT,
  EntryTimes,
  LOG_PREVIEW_CHARS,
  LOG_SCAN_MAX,
  describeEntry,
  preview,
  readLog,
  type LogSource,
} from '../../main/node/log-inspect';
import { encodeConfEntry } from '../../main/raft/conf';
import { RaftLog } from '../../main/raft/log';
import type { Entry } from '../../main/raft/types';
import { PREVIEW_CHARS } from '../../main/contract/view';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function put(index: number, term: number, key: string, value: string | Uint8Array): Entry {
  return {
    index,
    term,
    type: 'normal',
    data: encodeCommand({
      clientId: 'c7',
      seq: index * 10,
      cmd: { op: 'put', key, value: typeof value === 'string' ? b(value) : value },
    }),
  };
}

function source(entries: Entry[], compactTo = 0, snapshotIndex = 0): LogSource {
  const log = new RaftLog();
  log.append(entries);
  log.commit = entries.length;
  log.applied = entries.length;
  if (compactTo > 0) log.compactTo(compactTo);
  return { log, snapshotIndex, term: 4, times: new EntryTimes(8) };
}

describe('describeEntry', () => {
  it('decodes no-ops, puts, deletes, compare-and-sets and configuration changes', () => {
    expect(describeEntry({ index: 1, term: 2, type: 'normal', data: new Uint8Array(0) })).toEqual({
      index: 1,
      term: 2,
      bytes: 0,
      kind: 'noop',
      summary: 'no-op of term 2',
    });
    const p = put(2, 2, 'k1', 'v1');
    expect(describeEntry(p)).toEqual({
      index: 2,
      term: 2,
      bytes: p.data.length,
      kind: 'put',
      key: 'k1',
      value: 'v1',
      valueBytes: 2,
      client: 'c7',
      seq: 20,
      summary: 'put k1 = v1',
    });
    const del = encodeCommand({ clientId: 'c', seq: 5, cmd: { op: 'del', key: 'gone' } });
    expect(describeEntry({ index: 3, term: 2, type: 'normal', data: del })).toMatchObject({
      kind: 'del',
      key: 'gone',
      seq: 5,
      summary: 'del gone',
    });
    const cas = encodeCommand({
      clientId: 'c',
      seq: 6,
      cmd: { op: 'cas', key: 'x', expected: null, value: b('1') },
    });
    expect(describeEntry({ index: 4, term: 2, type: 'normal', data: cas })).toMatchObject({
      kind: 'cas',
      key: 'x',
      expected: null,
      value: '1',
      summary: 'cas x: (absent) → 1',
    });
    const conf = encodeConfEntry({
      change: { type: 'add-learner', node: 4, address: 'a|b' },
      conf: { voters: [1, 2, 3], learners: [4], addresses: {} },
    });
    expect(describeEntry({ index: 5, term: 3, type: 'conf', data: conf })).toMatchObject({
      kind: 'config',
      config: 'add learner 4: voters [1, 2, 3], learners [4]',
    });
  });

  it('says why an entry does not decode', () => {
    const bad = describeEntry({ index: 9, term: 1, type: 'normal', data: b('not msgpack') });
    expect(bad.kind).toBe('unknown');
    expect(bad.summary).toBe('unreadable command entry (11 bytes)');
    expect(bad.error).toMatch(/./);
    const conf = describeEntry({ index: 9, term: 1, type: 'conf', data: b('{}') });
    expect(conf).toMatchObject({ kind: 'unknown', error: 'malformed conf entry' });
  });

  it('cuts long values to the preview and shows bytes that are not text as hex', () => {
    expect(LOG_PREVIEW_CHARS).toBe(PREVIEW_CHARS);
    const long = 'é'.repeat(500);
    const e = describeEntry(put(1, 1, 'k', long));
    expect(e.value).toBe(`${'é'.repeat(LOG_PREVIEW_CHARS)}…`);
    expect(e.valueBytes).toBe(1000);
    expect(preview(new Uint8Array([0xff, 0x00, 0x10]))).toBe('0xff0010');
    expect(preview(new Uint8Array(400).fill(0xfe))).toMatch(/^0x(fe){59}…$/);
    // A character cut at the end of the bytes looked at is not taken for binary.
    expect(preview(b('a'.repeat(479) + 'é'))).toBe(`${'a'.repeat(LOG_PREVIEW_CHARS)}…`);
  });
});

describe('readLog', () => {
  const entries = [
    { index: 1, term: 1, type: 'normal' as const, data: new Uint8Array(0) },
    ...Array.from({ length: 19 }, (_, i) => put(i + 2, 2, `k${i % 3}`, `v${i + 2}`)),
  ];

  it('reads a range with the log bounds, and says the end when the range runs past it', () => {
    const r = readLog(source(entries), { from: 18, count: 10, maxBytes: 1 << 20 });
    expect(r.entries.map((e) => e.index)).toEqual([18, 19, 20]);
    expect(r).toMatchObject({
      firstIndex: 1,
      lastIndex: 20,
      commit: 20,
      term: 4,
      scannedTo: 27,
      stop: null,
    });
  });

  it('stops at the byte bound, always giving one entry', () => {
    const size = entries[5]!.data.length;
    const r = readLog(source(entries), { from: 5, count: 10, maxBytes: 2 * size + 1 });
    expect(r.entries.map((e) => e.index)).toEqual([5, 6]);
    expect(r).toMatchObject({ stop: 'bytes', scannedTo: 6 });
    const one = readLog(source(entries), { from: 5, count: 10, maxBytes: 1 });
    expect(one.entries.map((e) => e.index)).toEqual([5]);
  });

  it('reads nothing below the first index it holds and reports the snapshot', () => {
    const r = readLog(source(entries, 10, 12), { from: 8, count: 5, maxBytes: 1 << 20 });
    expect(r.firstIndex).toBe(11);
    expect(r.snapshotIndex).toBe(12);
    expect(r.entries.map((e) => e.index)).toEqual([11, 12]);
  });

  it('searches a key forward, at most count matches, and says how far it looked', () => {
    const r = readLog(source(entries), { from: 3, count: 3, maxBytes: 1 << 20, key: 'k1' });
    // put(i + 2, …, k(i % 3)): k1 at indexes 3, 6, 9, 12, …
    expect(r.entries.map((e) => [e.index, e.key])).toEqual([
      [3, 'k1'],
      [6, 'k1'],
      [9, 'k1'],
    ]);
    expect(r.scannedTo).toBe(9);
    const all = readLog(source(entries), { from: 1, count: 100, maxBytes: 1 << 20, key: 'k1' });
    expect(all.entries).toHaveLength(6);
    expect(all.scannedTo).toBe(20);
    const none = readLog(source(entries), { from: 1, count: 5, maxBytes: 1 << 20, key: 'nope' });
    expect(none.entries).toEqual([]);
    expect(none.scannedTo).toBe(20);
  });

  it('bounds a key search by LOG_SCAN_MAX entries looked at', () => {
    const many: Entry[] = [];
    for (let i = 1; i <= LOG_SCAN_MAX + 10; i++) many.push(put(i, 1, 'other', 'x'));
    many.push(put(LOG_SCAN_MAX + 11, 1, 'late', 'y'));
    const r = readLog(source(many), { from: 1, count: 5, maxBytes: 1 << 20, key: 'late' });
    expect(r).toMatchObject({ stop: 'scan', scannedTo: LOG_SCAN_MAX, entries: [] });
    const next = readLog(source(many), {
      from: r.scannedTo + 1,
      count: 5,
      maxBytes: 1 << 20,
      key: 'late',
    });
    expect(next.entries.map((e) => e.value)).toEqual(['y']);
  });

  it('reads exactly the indexes asked, skipping those it does not hold', () => {
    const r = readLog(source(entries, 4), { indexes: [12, 2, 7, 99, 7], maxBytes: 1 << 20 });
    expect(r.entries.map((e) => e.index)).toEqual([7, 12]);
    expect(r.scannedTo).toBe(99);
  });

  it('gives each entry the times the node remembers for its index and term', () => {
    const src = source(entries.slice(0, 3));
    src.times.appended(2, 2, 1000);
    src.times.committed(2, 2, 1100);
    src.times.applied(2, 2, 1200);
    src.times.appended(3, 1, 1000); // another term at 3: not this entry's
    const r = readLog(src, { from: 1, count: 3, maxBytes: 1 << 20 });
    expect(r.entries.map((e) => [e.appendedAt, e.committedAt, e.appliedAt])).toEqual([
      [null, null, null],
      [1000, 1100, 1200],
      [null, null, null],
    ]);
  });
});

describe('EntryTimes', () => {
  it('keeps the latest `size` indexes, one slot per index', () => {
    expect(ENTRY_TIMES_KEPT).toBe(8192);
    const t = new EntryTimes(4);
    for (let i = 1; i <= 6; i++) t.appended(i, 1, 100 * i);
    expect(t.of(2, 1).appendedAt).toBeNull(); // 6 took its slot
    expect(t.of(6, 1).appendedAt).toBe(600);
    expect(t.of(3, 1).appendedAt).toBe(300);
  });

  it('starts afresh when another term is appended at an index, and keeps the first commit time', () => {
    const t = new EntryTimes(4);
    t.appended(5, 1, 100);
    t.committed(5, 1, 150);
    t.committed(5, 1, 170);
    expect(t.of(5, 1)).toEqual({ appendedAt: 100, committedAt: 150, appliedAt: null });
    t.appended(5, 2, 200);
    expect(t.of(5, 1).appendedAt).toBeNull();
    expect(t.of(5, 2)).toEqual({ appendedAt: 200, committedAt: null, appliedAt: null });
    // Committed and applied without being seen appended (recovered from disk at start).
    t.committed(6, 3, 300);
    t.applied(6, 3, 310);
    expect(t.of(6, 3)).toEqual({ appendedAt: null, committedAt: 300, appliedAt: 310 });
    // Known committed in the batch that brings it, before its own write ended: both kept.
    t.committed(7, 3, 400);
    t.appended(7, 3, 420);
    expect(t.of(7, 3)).toEqual({ appendedAt: 420, committedAt: 400, appliedAt: null });
  });
});
