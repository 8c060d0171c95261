/** etcdStatLines / fsyncBuckets: what the node page shows of an etcd member's own figures. */
import { describe, expect, it } from 'vitest';
import {
  etcdStatLines,
  fsyncBuckets,
  type EtcdMemberStats,
} from '../../../main/cluster/etcd/etcd-status';

const stats = (o: Partial<EtcdMemberStats> = {}): EtcdMemberStats => ({
  id: 1,
  version: '3.4.23',
  dbSize: 20480,
  dbSizeInUse: 16384,
  errors: [],
  alarms: [],
  leaderChanges: 2,
  hasLeader: true,
  keys: 7,
  proposals: { pending: 0, failed: 0, committed: 40, applied: 40 },
  fsync: {
    buckets: [
      { le: 0.001, count: 100 },
      { le: 0.002, count: 130 },
      { le: 0.004, count: 131 },
      { le: 0.008, count: 131 },
      { le: Infinity, count: 131 },
    ],
    sum: 0.1,
    count: 131,
    p50Ms: 0.5,
    p99Ms: 2.4,
  },
  peers: [
    { id: 2, active: true, sentBytes: 1, receivedBytes: 1, sentPerSec: 2048, receivedPerSec: null },
  ],
  snapshots: [],
  metricsError: null,
  ...o,
});

describe('etcd member figures', () => {
  it('counts each fsync bucket on its own, up to the slowest one used', () => {
    expect(fsyncBuckets(stats().fsync!.buckets)).toBe('≤1 ms 100 · ≤2 ms 30 · ≤4 ms 1');
    expect(fsyncBuckets([{ le: 0.001, count: 0 }])).toBe('no fsync yet');
  });

  it('names DB size, fsync latency, proposals, alarms and peers, and marks what is wrong', () => {
    const lines = etcdStatLines(stats());
    const by = (n: string) => lines.find((l) => l.name === n);
    expect(by('DB size')?.value).toBe('20.0 KiB (in use 16.0 KiB)');
    expect(by('WAL fsync')?.value).toBe('p50 0.50 ms · p99 2.40 ms · 131 in all');
    expect(by('alarms')).toEqual({ name: 'alarms', value: 'none', warn: false });
    expect(by('peer node 2')?.value).toBe('connected · sent 2.0 KiB/s · received —');
    const bad = etcdStatLines(
      stats({
        alarms: [{ member: 3, alarm: 'NOSPACE' }],
        proposals: { pending: 1, failed: 4, committed: 40, applied: 39 },
        fsync: null,
        metricsError: 'no answer within 1000 ms',
      }),
    );
    const b = (n: string) => bad.find((l) => l.name === n);
    expect(b('alarms')).toMatchObject({ value: 'NOSPACE (node 3)', warn: true });
    expect(b('proposals')).toMatchObject({ warn: true });
    expect(b('WAL fsync')).toBeUndefined();
    expect(b('metrics')).toMatchObject({ value: 'no answer within 1000 ms', warn: true });
  });
});
