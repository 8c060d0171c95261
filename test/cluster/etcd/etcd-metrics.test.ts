import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decimalMemberId,
  etcdMetricsOf,
  hexMemberId,
  histogramQuantile,
  histogramSince,
  MetricsParseError,
  parseMetrics,
} from '../../../main/cluster/etcd/etcd-metrics';

// A leader's /metrics of a 3-member etcd 3.4.23 cluster after 50 puts (client over TLS).
const SAMPLE = readFileSync(
  join(__dirname, '../../fixtures/etcd-metrics/etcd-3.4.23-leader.txt'),
  'utf8',
);

describe('parseMetrics', () => {
  it('reads every sample of a real etcd 3.4 /metrics page', () => {
    const samples = parseMetrics(SAMPLE);
    const sampleLines = SAMPLE.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(samples).toHaveLength(sampleLines.length);
    expect(samples.find((s) => s.name === 'etcd_server_version')?.labels).toEqual({
      server_version: '3.4.23',
    });
    const inf = samples.find(
      (s) => s.name === 'etcd_disk_wal_fsync_duration_seconds_bucket' && s.labels.le === '+Inf',
    );
    expect(inf?.value).toBe(60);
  });

  it('reads escapes, exponents, special values and timestamps', () => {
    const s = parseMetrics(
      [
        '# HELP x a help line',
        'a{l="q\\"uo\\\\te\\n",m="",} 1.5e+3',
        'b +Inf',
        'c{x="1"} NaN 1700000000000',
        '  ',
        'd -2',
      ].join('\n'),
    );
    expect(s[0]).toEqual({ name: 'a', labels: { l: 'q"uo\\te\n', m: '' }, value: 1500 });
    expect(s[1]!.value).toBe(Infinity);
    expect(Number.isNaN(s[2]!.value)).toBe(true);
    expect(s[3]!.value).toBe(-2);
  });

  it('refuses malformed lines, naming the line', () => {
    const bad: [string, RegExp][] = [
      ['ok 1\nbroken{a="1" 2', /line 2: "," or "}" expected after label a/],
      ['x{a="1"}', /line 1: x: expected a value/],
      ['x 1 2 3', /line 1: x: expected a value/],
      ['x one', /line 1: x: "one" is not a number/],
      ['x{a="1} 2', /line 1: label a's value is not closed/],
      ['x{a="\\t"} 2', /unknown escape/],
      ['x{a="1",a="2"} 3', /label a given twice/],
      ['9x 1', /line 1: not a sample/],
      ['x 1 soon', /"soon" is not a timestamp/],
    ];
    for (const [text, re] of bad) {
      expect(() => parseMetrics(text), text).toThrow(MetricsParseError);
      expect(() => parseMetrics(text), text).toThrow(re);
    }
  });
});

describe('etcdMetricsOf', () => {
  it('picks peers, fsync, proposals and leadership out of the sample', () => {
    const m = etcdMetricsOf(parseMetrics(SAMPLE));
    expect(m.version).toBe('3.4.23');
    expect(m.peerSentBytes).toEqual({ '3831852cd81519f0': 7893, '8597aa5d75c42205': 8052 });
    expect(m.peerReceivedBytes).toEqual({ '3831852cd81519f0': 5410, '8597aa5d75c42205': 5474 });
    expect(m.activePeers.sort()).toEqual(['3831852cd81519f0', '8597aa5d75c42205']);
    expect(m.walFsync?.count).toBe(60);
    expect(m.walFsync?.sum).toBeCloseTo(0.048984843, 9);
    expect(m.walFsync?.buckets[0]).toEqual({ le: 0.001, count: 55 });
    expect(m.walFsync?.buckets.at(-1)).toEqual({ le: Infinity, count: 60 });
    expect(m.walFsync?.buckets.map((b) => b.le)).toEqual(
      [...m.walFsync!.buckets.map((b) => b.le)].sort((a, b) => a - b),
    );
    expect(m.proposals).toEqual({ pending: 0, failed: 0, committed: 59, applied: 59 });
    expect(m.leaderChanges).toBe(1);
    expect(m.hasLeader).toBe(true);
    expect(m.isLeader).toBe(true);
    expect(m.keys).toBe(50);
    // No snapshot was sent: etcd has not created those series yet.
    expect(m.snapshotSend).toEqual({ success: {}, failures: {}, inflight: {} });
  });

  it('reads snapshot transfers per member when etcd publishes them', () => {
    const m = etcdMetricsOf(
      parseMetrics(
        [
          'etcd_network_snapshot_send_success{To="a1"} 2',
          'etcd_network_snapshot_send_failures{To="a1"} 1',
          'etcd_network_snapshot_send_inflights_total{To="b2"} 1',
          'etcd_network_snapshot_receive_success{From="c3"} 4',
        ].join('\n'),
      ),
    );
    expect(m.snapshotSend).toEqual({
      success: { a1: 2 },
      failures: { a1: 1 },
      inflight: { b2: 1 },
    });
    expect(m.snapshotReceive.success).toEqual({ c3: 4 });
    expect(m.walFsync).toBeNull();
    expect(m.keys).toBeNull();
    expect(m.hasLeader).toBe(false);
  });
});

describe('member ids', () => {
  it('converts between the API (decimal) and metric labels (hex) without losing 64-bit ids', () => {
    expect(hexMemberId('10528920866531992057')).toBe('921e3dbe55d661f9');
    expect(decimalMemberId('921e3dbe55d661f9')).toBe('10528920866531992057');
    expect(decimalMemberId(hexMemberId('18446744073709551615'))).toBe('18446744073709551615');
  });
});

describe('histogramQuantile', () => {
  const h = {
    buckets: [
      { le: 0.001, count: 50 },
      { le: 0.002, count: 90 },
      { le: 0.004, count: 100 },
      { le: Infinity, count: 100 },
    ],
  };
  it('interpolates inside the bucket holding the rank, like Prometheus', () => {
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.001, 9);
    expect(histogramQuantile(0.25, h)).toBeCloseTo(0.0005, 9);
    expect(histogramQuantile(0.7, h)).toBeCloseTo(0.0015, 9);
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.0038, 9);
  });
  it('answers the highest finite bound in the +Inf bucket, and null with no observations', () => {
    expect(
      histogramQuantile(0.99, {
        buckets: [
          { le: 0.001, count: 1 },
          { le: Infinity, count: 10 },
        ],
      }),
    ).toBe(0.001);
    expect(histogramQuantile(0.5, { buckets: [{ le: Infinity, count: 0 }] })).toBeNull();
  });
  it('takes the observations since an earlier reading (all of them after a restart)', () => {
    const before = {
      buckets: [
        { le: 1, count: 2 },
        { le: Infinity, count: 3 },
      ],
      sum: 4,
      count: 3,
    };
    const now = {
      buckets: [
        { le: 1, count: 5 },
        { le: Infinity, count: 9 },
      ],
      sum: 10,
      count: 9,
    };
    expect(histogramSince(now, before)).toEqual({
      buckets: [
        { le: 1, count: 3 },
        { le: Infinity, count: 6 },
      ],
      sum: 6,
      count: 6,
    });
    const restarted = {
      buckets: [
        { le: 1, count: 1 },
        { le: Infinity, count: 1 },
      ],
      sum: 1,
      count: 1,
    };
    expect(histogramSince(restarted, now)).toBe(restarted);
  });
});

describe('keep-alive bytes', () => {
  it('are not counted as a member (etcd counts them under From="0")', () => {
    const m = etcdMetricsOf(
      parseMetrics(
        [
          'etcd_network_peer_received_bytes_total{From="0"} 99',
          'etcd_network_peer_received_bytes_total{From="a1"} 5',
        ].join('\n'),
      ),
    );
    expect(m.peerReceivedBytes).toEqual({ a1: 5 });
  });
});
