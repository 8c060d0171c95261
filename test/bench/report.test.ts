// The bench's arithmetic and report (test/bench/load.ts, report.ts): trials folded into medians,
// puts per server core-second, the ratio to the floor on raftdeck's rows, the targets against the
// floor, etcd's efficiency and cluster size, and the markdown tables. Nothing here is timed.
import { describe, expect, it } from 'vitest';
import { combineTrials, median, perCoreSecond, type LevelResult } from './load';
import { benchRows, section, targets, type BenchResults } from './report';

function lr(
  system: string,
  concurrency: number,
  opsPerSec: number,
  more: Partial<LevelResult> = {},
): LevelResult {
  const puts = more.puts ?? opsPerSec * 2;
  const core = more.serverCpuCoreSeconds ?? 1;
  return {
    system,
    concurrency,
    opsPerSec,
    p50Ms: 1,
    p99Ms: 5,
    errors: 0,
    threads: 1,
    clients: 1,
    clientCpu: 10,
    serverCpu: 50,
    puts,
    serverCpuCoreSeconds: core,
    opsPerCoreSecond: perCoreSecond(puts, core),
    members: 3,
    ...more,
  };
}

function results(over: Partial<BenchResults>): BenchResults {
  return {
    date: '2026-12-07T01:00:00.000Z',
    quick: false,
    machine: { cpus: 2, model: 'test', memGB: 1, os: 'test', node: 'v20', loadAvg: 0 },
    commit: 'abcdef0123456789',
    dirty: false,
    etcdVersion: '3.4.23',
    raftdeckNodes: 'bundle',
    stages: ['throughput', 'scale'],
    settings: { seconds: 9, trialsPerLevel: 3, scaleConcurrency: 64 },
    throughput: [],
    scale: [],
    floors: null,
    failover: { raftdeck: null, etcd: null },
    snapshotMBps: null,
    snapshot: null,
    recoverySeconds: null,
    recovery: null,
    idleRssMB: null,
    state: null,
    soak: null,
    ...over,
  };
}

const target = (r: BenchResults, what: string): { figure: string; met: boolean | null } => {
  const t = targets(r).find((u) => u.what === what);
  if (!t) throw new Error(`no target '${what}'`);
  return t;
};

describe('combineTrials', () => {
  it('takes the medians of ops/s, p50 and p99 and pools puts and CPU for efficiency', () => {
    const r = combineTrials([
      lr('floor', 1, 900, { p50Ms: 0.6, p99Ms: 3, puts: 800, serverCpuCoreSeconds: 0.5 }),
      lr('floor', 1, 1200, { p50Ms: 0.4, p99Ms: 9, puts: 1100, serverCpuCoreSeconds: 0.6 }),
      lr('floor', 1, 1000, { p50Ms: 0.5, p99Ms: 2, puts: 900, serverCpuCoreSeconds: 0.4 }),
    ]);
    expect(r.opsPerSec).toBe(1000);
    expect(r.p50Ms).toBe(0.5);
    expect(r.p99Ms).toBe(3);
    expect(r.puts).toBe(2800);
    expect(r.serverCpuCoreSeconds).toBe(1.5);
    expect(r.opsPerCoreSecond).toBe(Math.round(2800 / 1.5));
    expect(r.trialsOpsPerSec).toEqual([900, 1200, 1000]);
  });

  it('keeps a single trial as it is', () => {
    const one = lr('etcd', 64, 4000);
    expect(combineTrials([one])).toBe(one);
    expect(() => combineTrials([])).toThrow('no trials');
  });

  it('reports no efficiency when no server CPU was counted', () => {
    expect(perCoreSecond(100, 0)).toBe(0);
    expect(median([3, 1, 2, 4])).toBe(2);
  });
});

describe('benchRows', () => {
  it('gives raftdeck rows the ratio and p50 difference to the floor of the same stage, level and size', () => {
    const throughput = [
      lr('floor', 1, 1600, { p50Ms: 0.5 }),
      lr('raftdeck', 1, 1200, { p50Ms: 0.82 }),
      lr('etcd', 1, 700),
      lr('floor', 64, 20000),
      lr('raftdeck', 64, 15000),
    ];
    const scale = [
      lr('floor', 64, 10000, { members: 5 }),
      lr('raftdeck', 64, 4000, { members: 5 }),
      lr('raftdeck', 64, 9000, { members: 7 }),
    ];
    const rows = benchRows(throughput, scale);
    expect(rows).toHaveLength(8);
    const c1 = rows.find(
      (r) => r.stage === 'throughput' && r.system === 'raftdeck' && r.concurrency === 1,
    );
    expect(c1).toMatchObject({ floorRatio: 0.75, floorP50DiffMs: 0.32, members: 3 });
    expect(c1!.opsPerCoreSecond).toBe(2400);
    const c64 = rows.find(
      (r) => r.stage === 'throughput' && r.system === 'raftdeck' && r.concurrency === 64,
    );
    expect(c64!.floorRatio).toBe(0.75);
    const s5 = rows.find((r) => r.stage === 'scale' && r.members === 5 && r.system === 'raftdeck');
    expect(s5!.floorRatio).toBe(0.4);
    // No floor at 7 members: no ratio; and never one on the floor's or etcd's rows.
    const s7 = rows.find((r) => r.stage === 'scale' && r.members === 7);
    expect(s7!.floorRatio).toBeUndefined();
    for (const r of rows.filter((u) => u.system !== 'raftdeck'))
      expect(r.floorRatio).toBeUndefined();
  });
});

describe('targets', () => {
  it('holds raftdeck at concurrency 1 to 85 % of the floor and its p50 to 0.1 ms over it', () => {
    const at = (ops: number, p50: number): BenchResults =>
      results({
        throughput: [lr('floor', 1, 1000, { p50Ms: 0.5 }), lr('raftdeck', 1, ops, { p50Ms: p50 })],
      });
    expect(target(at(850, 0.6), 'throughput at concurrency 1 ≥ 85 % of the floor’s')).toEqual(
      expect.objectContaining({ met: true, figure: '85.0 % (850 vs 1000 ops/s)' }),
    );
    expect(target(at(849, 0.6), 'throughput at concurrency 1 ≥ 85 % of the floor’s').met).toBe(
      false,
    );
    expect(target(at(900, 0.6), 'p50 at concurrency 1 within 0.1 ms of the floor’s')).toEqual(
      expect.objectContaining({ met: true, figure: '+0.10 ms (0.60 vs 0.50 ms)' }),
    );
    expect(target(at(900, 0.61), 'p50 at concurrency 1 within 0.1 ms of the floor’s').met).toBe(
      false,
    );
    const none = results({ throughput: [lr('raftdeck', 1, 900)] });
    expect(target(none, 'throughput at concurrency 1 ≥ 85 % of the floor’s').met).toBeNull();
  });

  it('holds raftdeck’s puts per server core-second to 3× etcd’s at every concurrency from 16', () => {
    const r = (eff64: number): BenchResults =>
      results({
        throughput: [
          // concurrency 1 does not count, however it compares.
          lr('raftdeck', 1, 100, { puts: 100, serverCpuCoreSeconds: 1 }),
          lr('etcd', 1, 100, { puts: 100, serverCpuCoreSeconds: 1 }),
          lr('raftdeck', 16, 100, { puts: 3000, serverCpuCoreSeconds: 1 }),
          lr('etcd', 16, 100, { puts: 1000, serverCpuCoreSeconds: 1 }),
          lr('raftdeck', 64, 100, { puts: eff64, serverCpuCoreSeconds: 1 }),
          lr('etcd', 64, 100, { puts: 1000, serverCpuCoreSeconds: 1 }),
        ],
      });
    const what = 'puts per server core-second ≥ 3× etcd’s at concurrency ≥ 16';
    expect(target(r(4000), what)).toEqual({ what, met: true, figure: '16: 3.00×; 64: 4.00×' });
    expect(target(r(2900), what).met).toBe(false);
  });

  it('compares cluster sizes: 3× etcd at 5 members, 60 % of 3 members at 7', () => {
    const r = (rd5: number, rd7: number): BenchResults =>
      results({
        scale: [
          lr('raftdeck', 64, 10000, { members: 3 }),
          lr('raftdeck', 64, rd5, { members: 5 }),
          lr('etcd', 64, 2000, { members: 5 }),
          lr('raftdeck', 64, rd7, { members: 7 }),
        ],
      });
    expect(target(r(6000, 6000), 'throughput ≥ 3× etcd at 5 members').met).toBe(true);
    expect(target(r(5999, 6000), 'throughput ≥ 3× etcd at 5 members').met).toBe(false);
    expect(target(r(6000, 6000), 'throughput at 7 members ≥ 60 % of 3 members’')).toEqual(
      expect.objectContaining({ met: true, figure: '60.0 % (6000 vs 10000 ops/s)' }),
    );
    expect(target(r(6000, 5900), 'throughput at 7 members ≥ 60 % of 3 members’').met).toBe(false);
  });

  it('compares the snapshot install with the disk floor', () => {
    const what = 'snapshot install (100 MB state) ≥ 50 % of the disk floor';
    const r = (install: number): BenchResults =>
      results({ snapshotMBps: install, floors: { diskMBps: 400, loopbackMBps: 900 } });
    expect(target(r(200), what)).toEqual({ what, met: true, figure: '50.0 % (200 vs 400 MB/s)' });
    expect(target(r(199), what).met).toBe(false);
    expect(target(results({ snapshotMBps: 200 }), what).met).toBeNull();
  });
});

describe('section', () => {
  it('shows the floor, the efficiency and the cluster sizes', () => {
    const md = section(
      results({
        throughput: [
          lr('floor', 1, 1600, { p50Ms: 0.5 }),
          lr('raftdeck', 1, 1200, { p50Ms: 0.82 }),
          lr('etcd', 1, 600, { puts: 1200, serverCpuCoreSeconds: 2 }),
        ],
        scale: [lr('raftdeck', 64, 9000, { members: 5 }), lr('etcd', 64, 3000, { members: 5 })],
        floors: { diskMBps: 400, loopbackMBps: 900 },
      }),
    );
    expect(md).toContain(
      '### Throughput (9 s per level and system; floor and raftdeck interleaved in 3 trials of 3 s, medians)',
    );
    // concurrency | floor ops/s p50 p99 | raftdeck ops/s p50 p99 | /floor | p50 − floor | etcd …
    expect(md).toContain('| 1 | 1600 | 0.50 | 5.00 | 1200 | 0.82 | 5.00 | 75.0 % | +0.32 | 600 |');
    expect(md).toContain('### Efficiency');
    // raftdeck 2400 puts/core-s against etcd's 600: 4×.
    expect(md).toContain('| 1 | 3200 | 2400 | 600 | 4.00× | 1.00 / 1.00 / 2.00 |');
    expect(md).toContain('### Cluster size (concurrency 64)');
    expect(md).toContain('| 5 | – | – | – | 9000 |');
    expect(md).toContain('| disk floor | 400 MB/s');
    expect(md).toContain(
      '| throughput at concurrency 1 ≥ 85 % of the floor’s | 75.0 % (1200 vs 1600 ops/s) | not met |',
    );
  });

  it('has no targets table when the stages run measured none of them', () => {
    expect(section(results({ stages: ['soak'] }))).not.toContain('### Targets');
    const one = section(
      results({
        stages: ['throughput'],
        throughput: [lr('floor', 1, 1000), lr('raftdeck', 1, 900)],
      }),
    );
    expect(one).toContain('### Targets');
  });
});
