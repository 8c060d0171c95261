/**
 * followersSeenBy: the progress of an etcd leader's followers, from what each reports of itself
 * (etcd keeps the leader's match indexes to itself).
 */
import { describe, expect, it } from 'vitest';
import { followersSeenBy } from '../../../main/cluster/etcd/etcd-status';
import type { MemberInput, MemberReport } from '../../../main/view/projection';

/** report: a member's report as the etcd engine makes it (no progress of its own). */
const report = (id: number, o: Partial<MemberReport>): MemberReport =>
  ({
    id,
    role: 'follower',
    term: 1,
    vote: 0,
    leader: 0,
    commit: 0,
    applied: 0,
    firstIndex: 0,
    lastIndex: 0,
    persistedIndex: 0,
    snapshotIndex: 0,
    snapshotTerm: 0,
    voters: [1, 2, 3],
    learners: [],
    addresses: {},
    pendingConfIndex: 0,
    transferee: 0,
    progress: [],
    termRuns: [],
    storage: { walBytes: 0, segments: 0, snapshotBytes: 0, fsyncDelayMs: 0 },
    kv: { keys: 0, bytes: 0 },
    transport: { malformed: 0, dropped: 0 },
    ...o,
  }) as MemberReport;

const memberInput = (id: number, r: MemberReport): MemberInput => ({
  id,
  founding: true,
  removed: false,
  running: true,
  process: {
    state: 'running',
    pid: 100 + id,
    exitCode: null,
    signal: null,
    restarts: 0,
    startedAt: 0,
    autoRestart: false,
    lastLines: [],
    commandLine: [],
  },
  addresses: { peer: '', client: '', admin: '' },
  dataDir: '',
  startRefused: null,
  report: r,
  reportAt: 0,
});

describe('followersSeenBy', () => {
  const three = (): MemberInput[] => [
    memberInput(1, report(1, { role: 'leader', leader: 1, term: 4, commit: 100, lastIndex: 100 })),
    memberInput(2, report(2, { role: 'follower', leader: 1, term: 4, commit: 97, lastIndex: 97 })),
    memberInput(
      3,
      report(3, { role: 'follower', leader: 1, term: 4, commit: 100, lastIndex: 100 }),
    ),
  ];

  it("gives the leader each follower's own commit as its match, and the lag behind the leader", () => {
    const ms = three();
    followersSeenBy(ms, null);
    const p = ms[0]!.report!.progress;
    expect(p.map((x) => [x.id, x.match, x.lag, x.state, x.active])).toEqual([
      [2, 97, 3, 'replicate', true],
      [3, 100, 0, 'replicate', true],
    ]);
    // the followers' own reports are left alone
    expect(ms[1]!.report!.progress).toEqual([]);
  });

  it('a follower across a partition, paused or silent is not active and is probed', () => {
    const ms = three();
    ms[2] = { ...ms[2]!, process: { ...ms[2]!.process, state: 'paused' } };
    followersSeenBy(ms, [[1, 3], [2]]);
    const p = ms[0]!.report!.progress;
    expect(p.find((x) => x.id === 2)).toMatchObject({ active: false, state: 'probe' });
    expect(p.find((x) => x.id === 3)).toMatchObject({ active: false, state: 'probe' });
    const silent = three();
    silent[1] = { ...silent[1]!, report: null };
    followersSeenBy(silent, null);
    expect(silent[0]!.report!.progress.find((x) => x.id === 2)).toMatchObject({
      match: 0,
      active: false,
      lag: 100,
    });
  });

  it('changes nothing without a running leader', () => {
    const ms = three();
    ms[0] = { ...ms[0]!, process: { ...ms[0]!.process, state: 'crashed' } };
    followersSeenBy(ms, null);
    expect(ms[0]!.report!.progress).toEqual([]);
  });
});
