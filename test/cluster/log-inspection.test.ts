/**
 * Laying the members' logs side by side: the reference is the leader (else the longest log), and
 * every node at every index holds the reference's entry, conflicts with its own, misses it, had
 * it compacted into its snapshot, or did not answer; a note says why fewer rows came than asked.
 */
import { describe, expect, it } from 'vitest';
import { mergeLog, pickReference, type NodeAnswer } from '../../main/cluster/log-inspection';
import type { EntryInfo, LogReadResult } from '../../main/node/log-inspect';

function entry(index: number, term: number, key = `k${index}`): EntryInfo {
  return {
    index,
    term,
    kind: 'put',
    bytes: 20,
    summary: `put ${key} = v${index}`,
    key,
    value: `v${index}@${term}`,
    valueBytes: 2,
    client: 'c',
    seq: index,
    appendedAt: 1000 + index,
    committedAt: 2000 + index,
    appliedAt: 3000 + index,
  };
}

function read(first: number, last: number, term: (i: number) => number, extra = {}): LogReadResult {
  const entries: EntryInfo[] = [];
  for (let i = first; i <= last; i++) entries.push(entry(i, term(i)));
  return {
    firstIndex: first,
    lastIndex: last,
    snapshotIndex: first > 1 ? first + 1 : 0,
    commit: Math.min(last, 8),
    applied: Math.min(last, 8),
    term: 3,
    entries,
    scannedTo: last,
    stop: null,
    ...extra,
  };
}

const ok = (id: number, r: LogReadResult): NodeAnswer => ({ id, read: r, error: null });

describe('pickReference', () => {
  it('takes the leader if it answered, else the longest log, else 0', () => {
    const a = [
      ok(
        1,
        read(1, 5, () => 1),
      ),
      ok(
        2,
        read(1, 9, () => 1),
      ),
      ok(
        3,
        read(1, 9, () => 1),
      ),
    ];
    expect(pickReference(a, 1)).toBe(1);
    expect(pickReference(a, 0)).toBe(2);
    expect(pickReference([{ id: 1, read: null, error: 'down' }, a[0]!], 1)).toBe(1);
    expect(pickReference([{ id: 1, read: null, error: 'down' }], 1)).toBe(0);
  });
});

describe('mergeLog, a range', () => {
  it('says for each node whether it holds, conflicts, misses or compacted each index', () => {
    const answers: NodeAnswer[] = [
      ok(
        1,
        read(1, 10, (i) => (i <= 8 ? 1 : 3)),
      ), // leader
      ok(
        2,
        read(1, 9, (i) => (i <= 8 ? 1 : 2)),
      ), // an old term's entry at 9
      ok(
        3,
        read(7, 8, () => 1),
      ), // compacted below 7, behind
      { id: 4, read: null, error: 'node 4 is stopped' },
    ];
    const r = mergeLog({ from: 5, count: 10 }, 1, answers);
    expect(r.reference).toBe(1);
    expect(r.rows.map((x) => x.index)).toEqual([5, 6, 7, 8, 9, 10]);
    const states = (i: number): string[] =>
      r.rows.find((x) => x.index === i)!.holders.map((h) => h.state);
    expect(states(5)).toEqual(['holds', 'holds', 'compacted', 'unreachable']);
    expect(states(8)).toEqual(['holds', 'holds', 'holds', 'unreachable']);
    expect(states(9)).toEqual(['holds', 'conflict', 'missing', 'unreachable']);
    expect(states(10)).toEqual(['holds', 'missing', 'missing', 'unreachable']);
    const nine = r.rows.find((x) => x.index === 9)!;
    expect(nine.entry).toMatchObject({ term: 3, value: 'v9@3' });
    expect(nine.entry).not.toHaveProperty('appendedAt');
    expect(nine.holders[1]).toMatchObject({ term: 2, entry: { term: 2, value: 'v9@2' } });
    expect(nine.holders[0]).toMatchObject({
      term: 3,
      entry: null,
      appendedAt: 1009,
      committedAt: 2009,
      appliedAt: 3009,
    });
    expect(r.rows[0]!.holders[2]).toMatchObject({ state: 'compacted', snapshotIndex: 8 });
    expect(r.rows[0]!.holders[3]).toMatchObject({ error: 'node 4 is stopped' });
    expect(r.nodes.map((n) => [n.id, n.firstIndex, n.lastIndex])).toEqual([
      [1, 1, 10],
      [2, 1, 9],
      [3, 7, 8],
      [4, null, null],
    ]);
    expect(r.note).toBe('the longest log ends at 10');
    expect(r.scannedTo).toBe(10);
  });

  it('has no note when every row asked came', () => {
    const r = mergeLog({ from: 2, count: 3 }, 1, [
      ok(
        1,
        read(1, 10, () => 1),
      ),
    ]);
    expect(r.rows.map((x) => x.index)).toEqual([2, 3, 4]);
    expect(r.note).toBeNull();
  });

  it('ends the rows where a byte bound stopped a node, and says so', () => {
    const r = mergeLog({ from: 1, count: 10 }, 1, [
      ok(
        1,
        read(1, 10, () => 1),
      ),
      ok(2, { ...read(1, 4, () => 1), lastIndex: 10, stop: 'bytes', scannedTo: 4 }),
    ]);
    expect(r.rows.map((x) => x.index)).toEqual([1, 2, 3, 4]);
    expect(r.rows.every((x) => x.holders.every((h) => h.state === 'holds'))).toBe(true);
    expect(r.note).toBe('the byte bound stopped at 4: ask again from 5');
  });

  it('says where a range below the snapshot or beyond the end went', () => {
    const below = mergeLog({ from: 1, count: 3 }, 1, [
      ok(
        1,
        read(6, 10, () => 1),
      ),
    ]);
    expect(below.rows.map((x) => x.holders[0]!.state)).toEqual([
      'compacted',
      'compacted',
      'compacted',
    ]);
    expect(below.rows[0]!.entry).toBeNull();
    expect(below.note).toBe('node 1 compacted the entries below 6 into its snapshot at 7');
    const beyond = mergeLog({ from: 50, count: 3 }, 1, [
      ok(
        1,
        read(1, 10, () => 1),
      ),
    ]);
    expect(beyond.rows).toEqual([]);
    expect(beyond.note).toBe('50 is beyond the end of every log (the longest ends at 10)');
  });

  it('answers with no rows when nobody answered', () => {
    const r = mergeLog({ from: 1, count: 3 }, 1, [{ id: 1, read: null, error: 'x' }]);
    expect(r).toMatchObject({ reference: 0, rows: [], note: 'no member answered' });
  });
});

describe('mergeLog, a key search', () => {
  it("follows the reference's matches, and says how far it searched", () => {
    const ref: LogReadResult = {
      ...read(1, 20, () => 1),
      entries: [entry(4, 1, 'a'), entry(9, 1, 'a')],
      scannedTo: 20,
    };
    const other: LogReadResult = { ...read(1, 9, () => 1), entries: [entry(4, 1), entry(9, 2)] };
    const r = mergeLog({ from: 1, count: 5, key: 'a' }, 2, [ok(1, other), ok(2, ref)]);
    expect(r.reference).toBe(2);
    expect(r.rows.map((x) => [x.index, x.entry?.key, x.holders.map((h) => h.state)])).toEqual([
      [4, 'a', ['holds', 'holds']],
      [9, 'a', ['conflict', 'holds']],
    ]);
    expect(r.note).toBe('2 entries on key "a" in 1..20 (node 2\'s log ends at 20)');
    const scan = mergeLog({ from: 1, count: 5, key: 'a' }, 2, [
      ok(2, { ...ref, stop: 'scan', scannedTo: 15 }),
    ]);
    expect(scan.note).toMatch(/search again from 16$/);
  });
});
