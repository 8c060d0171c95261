import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot } from '../../main/raft/types';
import { DiskFiles, InjectedIoError, SimStorage } from '../../main/lab/sim-storage';
import type { SimStorageStats, StorageEnv, StorageMutation } from '../../main/lab/sim-storage';

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

/**
 * Harness: a store on a real-timed disk whose timers the test fires by hand: `fire` runs the
 * next flush or snapshot write, `syncCheckpoints` the checkpoint's delayed fdatasyncs.
 */
function harness(mutation?: StorageMutation, segmentRecords?: number) {
  const disk = new DiskFiles(mutation);
  const timers: (() => void)[] = [];
  const checkpointTimers: (() => void)[] = [];
  const stats: SimStorageStats = {
    syncs: 0,
    entriesSynced: 0,
    groupedSyncs: 0,
    tornFlushes: 0,
    failures: 0,
    rotations: 0,
    segmentsDeleted: 0,
    openRepairs: 0,
  };
  const problems: string[] = [];
  const env: StorageEnv = {
    rng: () => 0.5,
    after: (ms, fn) => void (ms === 100 ? checkpointTimers : timers).push(fn),
    stats,
    problem: (p) => void problems.push(p),
    landed: () => undefined,
  };
  const open = (): SimStorage => {
    const l = disk.load();
    if ('error' in l) throw new Error(l.error);
    return new SimStorage(
      disk,
      l.state,
      env,
      { syncMs: [1, 1], snapshotMs: [1, 1] },
      { mutation, segmentRecords },
    );
  };
  return {
    disk,
    timers,
    stats,
    problems,
    open,
    fire: () => timers.shift()!(),
    /** kill crashes a store; its process's timers go with it. */
    kill: (st: SimStorage, landed?: number) => {
      st.crash(landed);
      timers.length = 0;
      checkpointTimers.length = 0;
    },
    syncCheckpoints: () => {
      for (const fn of checkpointTimers.splice(0)) fn();
    },
  };
}

/** draws returns the given numbers in turn, then 0.7 (see DiskFiles.powerLoss). */
function draws(...xs: number[]): () => number {
  return () => xs.shift() ?? 0.7;
}

/** KEEP_NOTHING: a power cut in which nothing that was not durable reached the disk. */
const KEEP_NOTHING = (): number => 0.7;

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
  it('a crash during a flush keeps a prefix in the page cache: the hard state file, then the entries, then the commit record', () => {
    const got = [];
    const onDisk = [];
    for (let landed = 0; landed <= 9; landed++) {
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
      // What a power cut right after the crash would leave, if nothing more reached the disk.
      h.disk.powerLoss(KEEP_NOTHING);
      onDisk.push(loaded(h.disk));
    }
    // The steps: hardstate renamed, its dir fsynced, three entries and the commit record
    // written, a batch end, the fdatasync, the checkpoint.
    const before = { term: 1, vote: 0, commit: 1, last: 1, snap: 0 };
    const renamed = { term: 2, vote: 1, commit: 1, last: 1, snap: 0 };
    expect(got).toEqual([
      before,
      renamed,
      renamed,
      { ...renamed, last: 2 },
      { ...renamed, last: 3 },
      { ...renamed, last: 4 },
      { ...renamed, last: 4, commit: 4 },
      { ...renamed, last: 4, commit: 4 },
      { ...renamed, last: 4, commit: 4 },
      { ...renamed, last: 4, commit: 4 },
    ]);
    expect(onDisk).toEqual([
      before,
      before,
      renamed,
      renamed,
      renamed,
      renamed,
      renamed,
      renamed,
      { ...renamed, last: 4, commit: 4 },
      { ...renamed, last: 4, commit: 4 },
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

  it('open makes durable what it reads; open-without-sync leaves it to a power cut', () => {
    const run = (mutation?: StorageMutation) => {
      const h = harness(mutation);
      const st = h.open();
      st.setHardState({ term: 1, vote: 1, commit: 0 });
      st.sync(() => undefined);
      // Killed after the hardstate file's rename, before the fsync of its dir.
      h.kill(st, 1);
      expect(loaded(h.disk)).toMatchObject({ term: 1, vote: 1 });
      const next = h.open();
      // The next process acts on what it read (the term, the vote: it records them as durable)...
      next.append([entry(1, 1)]);
      next.sync(() => undefined);
      h.fire();
      h.syncCheckpoints();
      // ...and the machine loses power before the page cache wrote anything more back.
      h.disk.powerLoss(KEEP_NOTHING);
      return h.disk.load();
    };
    const good = run();
    expect('state' in good && good.state.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    const bad = run('open-without-sync');
    // The checkpoint records term 1 (durable, it said), the hardstate file went back to term 0.
    expect('error' in bad && bad.error).toMatch(
      /hard state file holds term 0.*records that term 1/,
    );
  });

  it('open closes a batch a crash left without its batch end; open-batch-kept leaves it open', () => {
    for (const mutation of [undefined, 'open-batch-kept'] as const) {
      const h = harness(mutation);
      const st = h.open();
      st.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
      st.sync(() => undefined);
      h.kill(st, 2);
      const next = h.open();
      next.append([entry(3, 2)]);
      next.sync(() => undefined);
      h.fire();
      const l = h.disk.load();
      if (mutation) {
        expect('error' in l && l.error).toMatch(/a batch end after records of another batch/);
        expect(h.disk.corrupt).toMatch(/a batch end after records of another batch/);
      } else {
        expect('state' in l && l.state.entries.map((e) => `${e.index}@${e.term}`)).toEqual([
          '1@1',
          '2@1',
          '3@2',
        ]);
        expect(h.stats.openRepairs).toBe(1);
      }
    }
  });

  it('a power cut loses a torn batch, but a record of a later batch after a lost one is refused', () => {
    const h = harness('open-without-sync');
    const st = h.open();
    st.append([entry(1, 1), entry(2, 1)]);
    st.sync(() => undefined);
    h.kill(st, 3); // entries 1 and 2 and the batch end written, not durable
    const next = h.open();
    next.append([entry(3, 1)]);
    next.sync(() => undefined);
    h.kill(next, 2); // entry 3 and its batch end written, not durable
    // Entry 1 reached the disk, entry 2 did not, the later batch did: open refuses.
    h.disk.powerLoss(draws(0.1, 0.9, 0.1, 0.1, 0.1));
    expect(h.disk.load()).toMatchObject({ error: expect.stringMatching(/later batch/) });
    // With one batch not durable, what is lost of it is cut (here: entries 2 and 3 of 1-3).
    const g = harness();
    const a = g.open();
    a.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    a.sync(() => undefined);
    g.kill(a, 4);
    g.disk.powerLoss(draws(0.1, 0.9, 0.1, 0.1));
    expect(loaded(g.disk).last).toBe(1);
  });

  it('keeps the segment either checkpoint slot names: a torn newer slot leaves the older one', () => {
    const run = (mutation?: StorageMutation) => {
      const h = harness(mutation, 6);
      const st = h.open();
      for (let i = 1; i <= 3; i++) {
        st.append([entry(i, 1)]);
        st.sync(() => undefined);
        h.fire();
      }
      // Entry 3 started segment 2 (its checkpoint durable at once; the other slot names 1).
      expect(h.disk.segs.map((s) => s.seq)).toEqual([1, 2]);
      const newer = h.disk.newestSlot(true)!.counter % 2;
      st.saveSnapshot(snap(3, 1), () => undefined);
      h.fire();
      h.fire();
      // The power cut tears the newer slot being written again; the other is as it was.
      h.disk.powerLoss(newer === 0 ? draws(0.9, 0.5) : draws(0.5, 0.9));
      return { segs: h.disk.segs.map((s) => s.seq), load: h.disk.load() };
    };
    const good = run();
    expect(good.segs).toEqual([1, 2]);
    expect('state' in good.load && good.load.state.snapshot?.meta.index).toBe(3);
    const bad = run('checkpoint-one-slot');
    expect(bad.segs).toEqual([2]);
    expect(bad.load).toMatchObject({ error: expect.stringMatching(/WAL segments are missing/) });
  });

  it('a new store names its first segment in both checkpoint slots', () => {
    const run = (mutation?: StorageMutation) => {
      const h = harness(mutation);
      const st = h.open();
      st.setHardState({ term: 1, vote: 1, commit: 0 });
      st.sync(() => undefined);
      h.fire();
      st.append([entry(1, 1)]);
      st.sync(() => undefined);
      h.fire();
      // Slot 0 holds the newest durable checkpoint; both were written again since. A power cut
      // tears slot 0 and finds slot 1 as it was.
      h.disk.powerLoss(draws(0.9, 0.5));
      return h.disk.load();
    };
    expect(run()).toHaveProperty('state');
    expect(run('checkpoint-one-slot')).toMatchObject({
      error: expect.stringMatching(/nothing was written yet/),
    });
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
