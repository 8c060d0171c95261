import { describe, expect, it } from 'vitest';
import {
  minuteFigures,
  niceMax,
  soakChartName,
  soakChartSvg,
  soakDrift,
  soakFlags,
  soakSection,
  type SoakMinute,
  type SoakResult,
} from './soak';
import { parseSmapsRollup, perMillionKeys } from './state';

const minute = (m: number, ops: number, p99: number, rss: number[]): SoakMinute => ({
  minute: m,
  opsPerSec: ops,
  p50Ms: p99 / 4,
  p99Ms: p99,
  errors: 0,
  rssMB: rss,
  snapshots: rss.map(() => 2),
});

const result = (rows: SoakMinute[]): SoakResult => {
  const drift = soakDrift(rows);
  return {
    minutes: rows.length,
    concurrency: 64,
    snapshotEntries: 100_000,
    keys: 100_000,
    members: [1, 2, 3],
    rows,
    drift,
    flags: soakFlags(drift, [1, 2, 3]),
  };
};

describe('soak figures', () => {
  it('minuteFigures counts the puts of the minute and takes their percentiles', () => {
    const lat = Array.from({ length: 600 }, (_, i) => (i % 100) + 1); // 1..100 ms, six times
    const f = minuteFigures(lat, 60);
    expect(f.opsPerSec).toBe(10);
    expect(f.p50Ms).toBe(51);
    expect(f.p99Ms).toBe(100);
    expect(minuteFigures([], 60)).toEqual({ opsPerSec: 0, p50Ms: 0, p99Ms: 0 });
  });

  it('soakDrift compares the last minute with the first', () => {
    const d = soakDrift([
      minute(1, 10_000, 20, [100, 90, 95]),
      minute(2, 9_000, 25, [120, 95, 95]),
      minute(3, 8_000, 40, [150, 91, 80]),
    ]);
    expect(d).toEqual({ opsPct: -20, p99Pct: 100, rssGrowthMB: [50, 1, -15] });
    expect(soakDrift([])).toEqual({ opsPct: 0, p99Pct: 0, rssGrowthMB: [] });
  });

  it('soakFlags names throughput lost, p99 grown and RSS grown beyond the thresholds', () => {
    expect(soakFlags({ opsPct: -20, p99Pct: 100, rssGrowthMB: [50, 1, -15] }, [4, 5, 6])).toEqual([
      'throughput fell 20 % from the first minute to the last',
      'p99 grew 100 % from the first minute to the last',
      'node 4: RSS grew 50 MB from the first minute to the last',
    ]);
    expect(soakFlags({ opsPct: -5, p99Pct: 30, rssGrowthMB: [10, 0, 2] }, [1, 2, 3])).toEqual([]);
  });

  it('parseSmapsRollup splits RSS into pages shared with other processes and its own', () => {
    const text = [
      '00400000-7ffc6f01f000 ---p 00000000 00:00 0                              [rollup]',
      'Rss:               63472 kB',
      'Pss:               25095 kB',
      'Shared_Clean:      42684 kB',
      'Shared_Dirty:        512 kB',
      'Private_Clean:       100 kB',
      'Private_Dirty:     20176 kB',
    ].join('\n');
    expect(parseSmapsRollup(text)).toEqual({ rssMB: 62, sharedMB: 42.2, privateMB: 19.8 });
  });

  it('perMillionKeys scales what the keys add over an empty node', () => {
    expect(perMillionKeys(560, 60, 4_000_000)).toBe(125);
    expect(perMillionKeys(60, 60, 0)).toBe(0);
  });
});

describe('soak chart', () => {
  it('niceMax rounds up to 1, 2 or 5 times a power of ten', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(16_631)).toBe(20_000);
    expect(niceMax(3.2)).toBe(5);
    expect(niceMax(200)).toBe(200);
  });

  it('draws one polyline per series with a point per minute, scaled to the axis', () => {
    const r = result([minute(1, 10_000, 20, [100, 90, 95]), minute(2, 20_000, 10, [120, 95, 95])]);
    const svg = soakChartSvg(r, 'soak <test>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('soak &lt;test&gt;');
    const lines = [...svg.matchAll(/<polyline data-series="([^"]+)"[^>]*points="([^"]+)"/g)];
    expect(lines.map((m) => m[1])).toEqual(['ops/s', 'p50', 'p99', 'node 1', 'node 2', 'node 3']);
    for (const m of lines) expect(m[2]!.split(' ')).toHaveLength(2);
    // ops/s: 20,000 is the axis' top (y = the panel's top, 36), 10,000 half way down (36 + 75).
    const ops = lines[0]![2]!.split(' ').map((p) => p.split(',').map(Number));
    expect(ops[0]).toEqual([60, 111]);
    expect(ops[1]).toEqual([590, 36]);
    expect(svg).toContain('>20000</text>');
    expect(svg.match(/<circle /g)).toHaveLength(12);
  });

  it('the section links the chart of the run date and tables every minute', () => {
    const r = result([minute(1, 10_000, 20, [100, 90, 95]), minute(2, 8_000, 45, [140, 90, 95])]);
    const md = soakSection(r, '2026-12-07T02:00:00.000Z');
    expect(soakChartName('2026-12-07T02:00:00.000Z')).toBe('bench/soak-2026-12-07.svg');
    expect(md).toContain('![soak chart](bench/soak-2026-12-07.svg)');
    expect(md).toContain('| 2 | 8000 | 11.25 | 45.00 | 140 / 90 / 95 | 2 / 2 / 2 |');
    expect(md).toContain('Flagged: throughput fell 20 %');
    expect(md).toContain('node 1: RSS grew 40 MB');
  });
});
