// The runs of equal terms a node reports in its status: its own log's, from its first index to
// its last, bounded to the latest STATUS_TERM_RUNS runs.
import { describe, expect, it } from 'vitest';
import type { LogView } from '../../main/raft/log';
import { RawNode } from '../../main/raft/raw-node';
import { seededRng } from '../../main/raft/rng';
import { STATUS_TERM_RUNS, type NodeId, type TermRun } from '../../main/raft/types';
import { SimCluster } from '../../main/lab/lab-cluster';
import { drain, elect, rawNode } from './helpers';

/** walk: the runs of a log found by reading every entry's term, the slow obvious way. */
function walk(log: LogView): TermRun[] {
  const runs: TermRun[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) {
    const term = log.term(i)!;
    if (runs.at(-1)?.term !== term) runs.push({ start: i, term });
  }
  return runs;
}

describe('the term runs in a node status', () => {
  it('follows two elections with entries, and a deposed leader’s own suffix until it is overwritten', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 7 });
    const first = elect(c);
    expect(first).not.toBe(0);
    const t1 = c.node(first).raft.term;
    const noop1 = c.node(first).raft.log.lastIndex();
    for (let i = 0; i < 5; i++) c.propose(first, `a${i}`);
    c.rounds(5);
    const end1 = c.node(first).raft.log.lastIndex();
    expect(c.node(first).raft.log.commit).toBe(end1);

    // The leader is cut off and takes two writes nobody else sees; the others elect a new leader.
    c.isolate(first);
    c.propose(first, 'lost-1');
    c.propose(first, 'lost-2');
    c.rounds(2);
    const others = [1, 2, 3].filter((id) => id !== first);
    let second: NodeId = 0;
    for (let i = 0; i < 500 && !second; i++) {
      c.rounds(1);
      second = others.find((id) => c.node(id).raft.status().role === 'leader') ?? 0;
    }
    expect(second).not.toBe(0);
    c.rounds(3);
    const t2 = c.node(second).raft.term;
    expect(t2).toBeGreaterThan(t1);
    for (let i = 0; i < 4; i++) c.propose(second, `b${i}`);
    c.rounds(5);

    const deposed = c.node(first).raft.status();
    expect(deposed.termRuns).toEqual([
      { start: 1, term: 1 },
      { start: noop1, term: t1 },
    ]);
    expect(deposed.lastIndex).toBe(end1 + 2);
    const leading = c.node(second).raft.status();
    expect(leading.termRuns).toEqual([
      { start: 1, term: 1 },
      { start: noop1, term: t1 },
      { start: end1 + 1, term: t2 },
    ]);
    expect(leading.termRuns).toEqual(walk(c.node(second).raft.log));

    // Healed, the deposed leader's two entries of term t1 give way to the new leader's.
    c.heal();
    c.rounds(10);
    for (const id of [1, 2, 3]) {
      const s = c.node(id).raft.status();
      expect(s.lastIndex).toBe(leading.lastIndex);
      expect(s.termRuns).toEqual(leading.termRuns);
    }
    expect(c.violations).toEqual([]);
  });

  it('starts at the first index after the snapshot', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 2, compactEvery: 7, compactKeep: 2 });
    const leader = elect(c);
    for (let i = 0; i < 30; i++) c.propose(leader, `k${i}`);
    c.rounds(10);
    const log = c.node(leader).raft.log;
    expect(log.firstIndex()).toBeGreaterThan(1);
    const s = c.node(leader).raft.status();
    expect(s.termRuns[0]!.start).toBe(log.firstIndex());
    expect(s.termRuns).toEqual(walk(log));
  });

  it(`keeps only the latest ${STATUS_TERM_RUNS} runs of a log with more`, () => {
    // Index 1 is the bootstrap entry of term 1, then one entry per term 2 … 101 at indexes 2 … 101.
    const terms = Array.from({ length: 100 }, (_, i) => i + 2);
    const r = rawNode(1, [1, 2, 3], { terms, term: 101 });
    drain(r);
    const runs = r.status().termRuns;
    expect(runs.length).toBe(STATUS_TERM_RUNS);
    expect(runs.at(-1)).toEqual({ start: 101, term: 101 });
    expect(runs[0]).toEqual({ start: 102 - STATUS_TERM_RUNS, term: 102 - STATUS_TERM_RUNS });
    expect(runs).toEqual(walk(r.log).slice(-STATUS_TERM_RUNS));
  });

  it('is empty for a log with no entries', () => {
    const r = new RawNode({
      id: 4,
      electionTicks: 10,
      heartbeatTicks: 1,
      rng: seededRng(4),
      state: { hardState: { term: 0, vote: 0, commit: 0 }, entries: [] },
    });
    expect(r.status().termRuns).toEqual([]);
  });
});
