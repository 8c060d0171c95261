import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot } from '../../main/raft/types';
import { DiskFiles, InjectedIoError, SimStorage } from './sim/storage';
import type { SimStorageStats, StorageEnv } from './sim/storage';

const enc = new TextEncoder();

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: enc.encode(`e${index}@${term}`) };
}

function snap(index: number, term: number): Snapshot {
  return {
    meta: { index, term, conf: { voters: [1], learners: [], addresses: {} } },
    data: enc.encode('img'),
  };
}

/** Harness: a store on a real-timed disk whose timers the test fires by hand. */
function harness(disk = new DiskFiles()) {
  const timers: (() => void)[] = [];
  const stats: SimStorageStats = {
    syncs: 0,
    entriesSynced: 0,
    groupedSyncs: 0,
    tornFlushes: 0,
    failures: 0,
  };
  const problems: string[] = [];
  const env: StorageEnv = {
    rng: () => 0.5,
    after: (_ms, fn) => void timers.push(fn),
    stats,
    problem: (p) => void problems.push(p),
    landed: () => undefined,
  };
  const open = (): SimStorage => {
    const l = disk.load();
    if ('error' in l) throw new Error(l.error);
    return new SimStorage(disk, l.state, env, { syncMs: [1, 1], snapshotMs: [1, 1] });
  };
  return { disk, timers, stats, problems, open, fire: () => timers.shift()!() };
}

function loaded(disk: DiskFiles) {
  const l = disk.load();
  if ('error' in l) throw new Error(l.error);
  return {
    term: l.state.hardState.term,
    vote: l.state.hardState.vote,
    commit: l.state.hardState.commit,
    last: l.state.entries.at(-1)?.index ?? 0,
    snap: l.state.snapshot?.meta.index ?? 0,
  };
}

describe('the simulated store', () => {
  it('a crash during a flush keeps a prefix: the hard state file, then the entries, then the commit record', () => {
    const got = [];
    for (let landed = 0; landed <= 5; landed++) {
      const h = harness();
      const st = h.open();
      st.append([entry(1, 1)]);
      st.setHardState({ term: 1, vote: 0, commit: 1 });
      st.sync(() => undefined);
      h.fire();
      // One flush: a new term and vote, three entries, and the commit moving to 4.
      st.append([entry(2, 2), entry(3, 2), entry(4, 2)]);
      st.setHardState({ term: 2, vote: 1, commit: 4 });
      let done = false;
      st.sync(() => (done = true));
      st.crash(landed);
      expect(done).toBe(false);
      got.push(loaded(h.disk));
    }
    expect(got).toEqual([
      { term: 1, vote: 0, commit: 1, last: 1, snap: 0 },
      { term: 2, vote: 1, commit: 1, last: 1, snap: 0 },
      { term: 2, vote: 1, commit: 1, last: 2, snap: 0 },
      { term: 2, vote: 1, commit: 1, last: 3, snap: 0 },
      { term: 2, vote: 1, commit: 1, last: 4, snap: 0 },
      { term: 2, vote: 1, commit: 4, last: 4, snap: 0 },
    ]);
  });

  it('a sync while a flush runs joins the next flush, which takes everything buffered by then', () => {
    const h = harness();
    const st = h.open();
    const order: string[] = [];
    st.append([entry(1, 1)]);
    st.sync(() => order.push('a'));
    st.append([entry(2, 1)]);
    st.sync(() => order.push('b'));
    st.append([entry(3, 1)]);
    st.sync(() => order.push('c'));
    st.sync(() => order.push('d'));
    expect(h.timers.length).toBe(1);
    h.fire();
    expect(order).toEqual(['a']);
    expect(loaded(h.disk).last).toBe(1);
    expect(h.timers.length).toBe(1);
    h.fire();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(loaded(h.disk).last).toBe(3);
    expect(h.stats).toMatchObject({ syncs: 2, entriesSynced: 3, groupedSyncs: 3 });
  });

  it('does not make a commit-only change durable without a sync; a crash forgets it', () => {
    const h = harness();
    const st = h.open();
    st.append([entry(1, 1), entry(2, 1)]);
    st.setHardState({ term: 1, vote: 0, commit: 1 });
    st.sync(() => undefined);
    h.fire();
    st.setHardState({ term: 1, vote: 0, commit: 2 });
    st.crash();
    expect(loaded(h.disk).commit).toBe(1);
  });

  it('on load applies the snapshot rule with the snapshot file when its record did not land', () => {
    for (const [term, last] of [
      [2, 5],
      [3, 4],
    ] as const) {
      const h = harness();
      const st = h.open();
      st.append([entry(1, 1), entry(2, 2), entry(3, 2), entry(4, 2), entry(5, 2)]);
      st.sync(() => undefined);
      h.fire();
      // A snapshot at 4: its file lands, the crash comes before its WAL record is synced.
      st.saveSnapshot(snap(4, term), () => undefined);
      h.fire();
      st.crash(0);
      expect(h.disk.wal.some((r) => r.kind === 'snapshot')).toBe(false);
      // Term 2 at 4 matches the log: entry 5 stays. Term 3 does not: the log is discarded.
      expect(loaded(h.disk)).toMatchObject({ snap: 4, last: last === 5 ? 5 : 0 });
    }
  });

  it('an injected fsync error fails the store for good; an append with a gap is refused', () => {
    const h = harness();
    const st = h.open();
    expect(() => st.append([entry(2, 1)])).toThrow(/gap/);
    st.append([entry(1, 1)]);
    st.failNext = true;
    const errs: (Error | undefined)[] = [];
    st.sync((e) => errs.push(e));
    h.fire();
    expect(errs[0]).toBeInstanceOf(InjectedIoError);
    expect(() => st.append([entry(2, 1)])).toThrow(/injected/);
    st.sync((e) => errs.push(e));
    expect(errs[1]).toBe(errs[0]);
  });

  it('reports a hard state that goes back', () => {
    const h = harness();
    const st = h.open();
    st.setHardState({ term: 3, vote: 1, commit: 0 });
    st.sync(() => undefined);
    h.fire();
    const st2 = new SimStorage(
      h.disk,
      { hardState: { term: 2, vote: 0, commit: 0 }, entries: [] },
      {
        rng: () => 0,
        after: (_ms, fn) => fn(),
        stats: h.stats,
        problem: (p) => h.problems.push(p),
        landed: () => undefined,
      },
      { syncMs: [1, 1], snapshotMs: [1, 1] },
    );
    st2.setHardState({ term: 2, vote: 2, commit: 0 });
    st2.sync(() => undefined);
    expect(h.problems).toEqual(['hard state term went back from 3 to 2']);
  });
});
