import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../main/contract/view';
import { check } from '../../main/cluster/checker/porcupine';
import { findLostWrites, runChaos, withFinalReads } from '../../main/cluster/chaos';
import { startCluster, type TestCluster } from './cluster-harness';
import { seededRng } from '../../main/raft/rng';

// RAFTDECK_CHAOS_SECONDS sets the length of the chaos run (60 s by default, as in CI).
const SECONDS = Number(process.env.RAFTDECK_CHAOS_SECONDS ?? 60);
// RAFTDECK_CHAOS_SEED picks the fault schedule; CI runs a fixed one so a failure replays exactly.
const DEFAULT_SEED = 2;
// RAFTDECK_CHAOS_PACE_SECONDS sets the length of the run at 5× pace (10 s by default, as in CI):
// Raft's safety must not depend on the pace, so a short run slowed down 5 times checks it.
const PACE_SECONDS = Number(process.env.RAFTDECK_CHAOS_PACE_SECONDS ?? 10);
const PACE = 5;

let nextId = 0;
function op(o: Partial<HistoryOp> & Pick<HistoryOp, 'op' | 'invoke'>): HistoryOp {
  return { id: nextId++, client: 'c', key: 'k', outcome: 'ok', ...o };
}

describe('findLostWrites', () => {
  const put = (value: string, invoke: number, complete?: number): HistoryOp =>
    op({
      op: 'put',
      value,
      invoke,
      ...(complete === undefined ? { outcome: 'unknown' } : { complete }),
    });

  it('accepts the last acknowledged write, or any of several concurrent ones', () => {
    const h = [put('a', 0, 1), put('b', 2, 5), put('c', 3, 6)];
    expect(findLostWrites(h, new Map([['k', 'c']]))).toEqual([]);
    expect(findLostWrites(h, new Map([['k', 'b']]))).toEqual([]);
  });

  it('reports a value older than an acknowledged write that followed it', () => {
    const h = [put('a', 0, 1), put('b', 2, 3)];
    const lost = findLostWrites(h, new Map([['k', 'a']]));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/acknowledged put op \d+ of "b" .* is lost/);
  });

  it('reports an absent key after an acknowledged write, and a value never written', () => {
    const h = [put('a', 0, 1)];
    expect(findLostWrites(h, new Map([['k', null]]))).toHaveLength(1);
    expect(findLostWrites(h, new Map([['k', 'zz']]))[0]).toMatch(/never written/);
    expect(findLostWrites([], new Map([['k', null]]))).toEqual([]);
  });

  it('lets a write of unknown outcome explain the final value, at any later time', () => {
    const h = [put('a', 0), put('b', 2, 3)];
    expect(findLostWrites(h, new Map([['k', 'a']]))).toEqual([]);
  });

  it('counts a cas only when it swapped, and ignores failed writes', () => {
    const h = [
      put('a', 0, 1),
      op({
        op: 'cas',
        expected: 'x',
        value: 'c',
        invoke: 2,
        complete: 3,
        output: { casOk: false },
      }),
      op({ op: 'put', value: 'd', invoke: 2, complete: 3, outcome: 'fail' }),
    ];
    expect(findLostWrites(h, new Map([['k', 'a']]))).toEqual([]);
    expect(findLostWrites(h, new Map([['k', 'c']]))).toHaveLength(1);
    expect(findLostWrites(h, new Map([['k', 'd']]))).toHaveLength(1);
    const swapped = [
      put('a', 0, 1),
      op({ op: 'cas', expected: 'a', value: 'c', invoke: 2, complete: 3, output: { casOk: true } }),
    ];
    expect(findLostWrites(swapped, new Map([['k', 'a']]))).toHaveLength(1);
  });
});

describe('withFinalReads', () => {
  it('places the final reads after everything, so a stale one fails the check', () => {
    const h: HistoryOp[] = [
      {
        id: 0,
        client: 'a',
        op: 'put',
        key: 'x',
        value: '1',
        invoke: 0,
        complete: 2,
        outcome: 'ok',
      },
      {
        id: 1,
        client: 'b',
        op: 'put',
        key: 'x',
        value: '2',
        invoke: 3,
        complete: 5,
        outcome: 'ok',
      },
      { id: 2, client: 'c', op: 'put', key: 'y', value: '3', invoke: 1, outcome: 'unknown' },
    ];
    const good = withFinalReads(
      h,
      new Map([
        ['x', '2'],
        ['y', null],
      ]),
    );
    expect(good.slice(3)).toMatchObject([
      { id: 3, op: 'get', key: 'x', invoke: 6, complete: 7, output: { value: '2' } },
      { id: 4, op: 'get', key: 'y', invoke: 6, complete: 7, output: { value: null } },
    ]);
    expect(check(good).result).toBe('ok');
    expect(check(withFinalReads(h, new Map([['y', '3']]))).result).toBe('ok');
    expect(check(withFinalReads(h, new Map([['x', '1']]))).result).toBe('not-linearizable');
  });
});

describe('seededRng', () => {
  it('is reproducible from its seed', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe.sequential(`chaos: ${SECONDS} s of random faults under 8 clients`, () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startCluster('chaos');
  }, 60_000);

  afterAll(async () => {
    await c?.teardown();
  }, 60_000);

  it(
    'keeps the history linearizable and loses no acknowledged write',
    async () => {
      const lines: string[] = [];
      const report = await runChaos(c.sup, {
        seconds: SECONDS,
        clients: 8,
        seed: Number(process.env.RAFTDECK_CHAOS_SEED ?? DEFAULT_SEED),
        onLog: (line) => lines.push(line),
      });
      const summary = [
        `seed ${report.seed}: ${report.ops} ops, ${report.unknown} unknown, ${report.failed} failed`,
        `membership: ${report.membership}`,
        ...lines,
        ...report.lost,
        report.failure ?? '',
      ].join('\n');
      if (process.env.RAFTDECK_CHAOS_VERBOSE) console.log(summary);
      expect(report.verdict, summary).toBe('ok');
      expect(report.lostWrites, summary).toBe(0);
      expect(report.converged, summary).toBe(true);
      expect(report.finalReads, summary).toBe(20);
      expect(report.ok, summary).toBeGreaterThan(SECONDS * 20);
      expect(report.faults.length, summary).toBeGreaterThanOrEqual(Math.floor(SECONDS / 4));
    },
    SECONDS * 1000 + 300_000,
  );
});

describe.sequential(
  `chaos: ${PACE_SECONDS} s of random faults under 8 clients at ${PACE}× pace`,
  () => {
    let c: TestCluster;

    beforeAll(async () => {
      // Slowed down, without fast failover: every election waits out its stretched timeout.
      c = await startCluster('chaos-pace', { pace: { pace: PACE, fastFailover: false } });
    }, 60_000);

    afterAll(async () => {
      await c?.teardown();
    }, 60_000);

    it(
      `keeps the history linearizable and loses no acknowledged write at ${PACE}× pace`,
      async () => {
        const lines: string[] = [];
        const report = await runChaos(c.sup, {
          seconds: PACE_SECONDS,
          clients: 8,
          seed: Number(process.env.RAFTDECK_CHAOS_SEED ?? DEFAULT_SEED),
          // A membership change at 5× would take most of a short run.
          membership: false,
          onLog: (line) => lines.push(line),
        });
        const summary = [
          `seed ${report.seed} at ${PACE}×: ${report.ops} ops, ${report.unknown} unknown, ${report.failed} failed`,
          ...lines,
          ...report.lost,
          report.failure ?? '',
        ].join('\n');
        if (process.env.RAFTDECK_CHAOS_VERBOSE) console.log(summary);
        expect(c.sup.view().pace).toEqual({ pace: PACE, fastFailover: false });
        expect(report.verdict, summary).toBe('ok');
        expect(report.lostWrites, summary).toBe(0);
        expect(report.converged, summary).toBe(true);
        expect(report.finalReads, summary).toBe(20);
        expect(report.ok, summary).toBeGreaterThan(0);
        expect(report.faults.length, summary).toBeGreaterThanOrEqual(Math.floor(PACE_SECONDS / 4));
      },
      PACE_SECONDS * 1000 + 300_000,
    );
  },
);
