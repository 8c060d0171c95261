import { describe, expect, it } from 'vitest';
import type { FollowerStatus, SnapMsg } from '../../main/raft/types';
import { SimCluster } from '../../main/lab/lab-cluster';
import { drain, internals, ofType, rawNode } from './helpers';

describe('snapshots and InstallSnapshot', () => {
  it('a follower behind the first log index gets the snapshot in chunks, resuming after a lost chunk', () => {
    const c = new SimCluster({
      ids: [1, 2, 3],
      seed: 13,
      compactEvery: 10,
      snapshotPad: 2000,
      snapshotChunkBytes: 256,
      snapshotWindow: 2,
    });
    c.rounds(40);
    const leader = c.leader();
    expect(leader).not.toBe(0);
    const lag = [1, 2, 3].find((id) => id !== leader)!;
    c.crash(lag);
    for (let i = 0; i < 60; i++) {
      c.propose(leader, `w${i}`);
      c.rounds(1);
    }
    const lr = c.node(leader).raft;
    expect(lr.log.firstIndex()).toBeGreaterThan(c.node(lag).disk.entries.at(-1)!.index + 1);

    let lost = 0;
    let midway: FollowerStatus | undefined;
    c.dropIf = (m) => {
      if (m.type !== 'snap') return false;
      const s = m as SnapMsg;
      if (s.offset === 512 && lost === 0) {
        lost++;
        return true;
      }
      if (s.offset >= 1024 && !midway) midway = lr.status().progress.find((p) => p.id === lag);
      return false;
    };
    c.restart(lag);
    c.rounds(30);

    const installed = c.node(lag).events.find((e) => e.type === 'snapshot-installed');
    expect(installed).toBeDefined();
    expect(lost).toBe(1);
    const retry = c.node(leader).events.find((e) => e.type === 'snapshot-retry');
    expect(retry).toMatchObject({ to: lag, offset: 512 });
    const sent = c.node(leader).events.find((e) => e.type === 'snapshot-sent');
    expect(sent).toMatchObject({ to: lag, total: 2016 });
    if (sent?.type !== 'snapshot-sent') throw new Error('unreachable');
    expect(sent.retries).toBeGreaterThanOrEqual(1);
    expect(sent.chunks).toBeGreaterThan(Math.ceil(2016 / 256)); // the lost chunk was sent again
    // Progress was visible mid-transfer: bytes confirmed of the total.
    expect(midway?.state).toBe('snapshot');
    expect(midway?.snapshot?.total).toBe(2016);
    expect(midway!.snapshot!.acked).toBeGreaterThan(0);
    expect(midway!.snapshot!.acked).toBeLessThan(2016);
    // The follower caught up completely and its state matches the others'.
    expect(c.node(lag).sm.index).toBe(c.node(leader).sm.index);
    expect(c.node(lag).sm.hash).toBe(c.node(leader).sm.hash);
    expect(c.violations).toEqual([]);
  });

  it('a slow follower finishes the snapshot it started while the leader keeps taking newer ones', () => {
    // A transfer takes about 16 round trips (4 KB in 256-byte chunks, two in flight); the leader
    // takes a new snapshot every 5 writes, one write per tick: several per transfer.
    const c = new SimCluster({
      ids: [1, 2, 3],
      seed: 14,
      compactEvery: 5,
      compactKeep: 40,
      snapshotPad: 4000,
      snapshotChunkBytes: 256,
      snapshotWindow: 2,
      delay: [4, 6],
    });
    c.rounds(40);
    const leader = c.leader();
    expect(leader).not.toBe(0);
    const lag = [1, 2, 3].find((id) => id !== leader)!;
    c.crash(lag);
    let n = 0;
    const write = (ticks: number): void => {
      for (let i = 0; i < ticks; i++) {
        c.propose(leader, `w${n++}`);
        c.runFor(10);
      }
    };
    write(100);
    const lr = c.node(leader).raft;
    expect(lr.log.firstIndex()).toBeGreaterThan(c.node(lag).sm.index + 1);
    const sends = (): number =>
      c.node(leader).events.filter((e) => e.type === 'snapshot-send' && e.to === lag).length;
    const before = sends();
    c.restart(lag);
    write(300);
    const installed = c.node(lag).events.filter((e) => e.type === 'snapshot-installed');
    expect(installed.length).toBeGreaterThan(0);
    // The leader took about 60 snapshots meanwhile; the follower got far fewer, each to the end.
    expect(sends() - before).toBeLessThan(10);
    expect(
      c
        .node(leader)
        .raft.status()
        .progress.find((p) => p.id === lag)?.state,
    ).not.toBe('snapshot');
    expect(c.node(lag).sm.index).toBeGreaterThan(c.node(leader).sm.index - 20);
    expect(c.violations).toEqual([]);
  });

  it('a transfer that has no byte confirmed yet starts over with a newer image', () => {
    const l = rawNode(1, [1, 2], { terms: [1, 1, 1, 1], term: 1, commit: 5 });
    internals(l).campaign('election');
    l.step({ type: 'vote-resp', from: 2, to: 1, term: 2, reject: false });
    drain(l);
    l.compact(3, new Uint8Array(10));
    // Follower 2 lost its log: it rejects the probe, and is sent snapshot 3.
    const reject = {
      type: 'app-resp' as const,
      from: 2,
      to: 1,
      term: 2,
      index: 5,
      reject: true,
      hintIndex: 0,
      hintTerm: 0,
    };
    l.step(reject);
    expect(ofType(drain(l), 'snap').map((m) => m.meta.index)).toEqual([3]);
    l.compact(5, new Uint8Array(10));
    // Nothing of image 3 is confirmed yet: the retry sends image 5 instead.
    for (let i = 0; i < 3; i++) l.tick();
    expect(ofType(drain(l), 'snap').map((m) => m.meta.index)).toEqual([5]);
  });

  it('a follower fills the announced image in place and refuses chunks beyond its size', () => {
    const f = rawNode(2, [1, 2], { terms: [1], term: 1 });
    const meta = { index: 10, term: 1, conf: { voters: [1, 2], learners: [], addresses: {} } };
    const chunk = (offset: number, data: number[], total: number, done: boolean): SnapMsg => ({
      type: 'snap',
      from: 1,
      to: 2,
      term: 1,
      meta,
      offset,
      total,
      data: new Uint8Array(data),
      done,
    });
    f.step(chunk(0, [1, 2, 3], 6, false));
    f.step(chunk(3, [4, 5, 6, 7], 6, false));
    const bad = ofType(f.ready().messages, 'snap-resp');
    f.advance();
    expect(bad.map((m) => [m.nextOffset, m.gap])).toEqual([
      [3, false],
      [0, true],
    ]);
    expect(f.status().snapshotReceiving).toBeUndefined();
    f.step(chunk(0, [1, 2, 3], 6, false));
    f.step(chunk(3, [4, 5, 6], 6, true));
    const rd = f.ready();
    expect(Array.from(rd.snapshot!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ofType(rd.messages, 'snap-resp').at(-1)).toMatchObject({ nextOffset: 6, done: true });
  });

  it('tells the host of every accepted piece of an incoming image, in order, and of giving it up', () => {
    const f = rawNode(2, [1, 2], { terms: [1], term: 1 });
    const conf = { voters: [1, 2], learners: [], addresses: {} };
    const chunk = (index: number, offset: number, data: number[], total: number): SnapMsg => ({
      type: 'snap',
      from: 1,
      to: 2,
      term: 1,
      meta: { index, term: 1, conf },
      offset,
      total,
      data: new Uint8Array(data),
      done: offset + data.length === total,
    });
    const parts = (): [string, number, number, number[]][] => {
      const rd = f.ready();
      f.advance();
      return rd.snapshotParts.map((p) =>
        p.kind === 'bytes'
          ? ['bytes', p.meta.index, p.offset, Array.from(p.data)]
          : ['dropped', p.meta.index, -1, []],
      );
    };
    f.step(chunk(10, 0, [1, 2], 6));
    f.step(chunk(10, 4, [5, 6], 6)); // a gap: refused, not reported
    f.step(chunk(10, 2, [3, 4], 6));
    expect(parts()).toEqual([
      ['bytes', 10, 0, [1, 2]],
      ['bytes', 10, 2, [3, 4]],
    ]);
    f.step(chunk(10, 2, [3, 4], 6)); // a duplicate: not reported again
    expect(parts()).toEqual([]);
    f.step(chunk(10, 4, [5, 6, 7], 6)); // more than announced: the image is given up
    expect(parts()).toEqual([['dropped', 10, -1, []]]);
    f.step(chunk(12, 0, [9], 2));
    f.step(chunk(12, 1, [8], 2));
    const rd = f.ready();
    f.advance();
    expect(rd.snapshot?.meta.index).toBe(12);
    expect(rd.snapshotParts.map((p) => (p.kind === 'bytes' ? p.offset : -1))).toEqual([0, 1]);
    // An image at or below the commit index replaces nothing: one in progress is given up.
    f.step(chunk(20, 0, [1], 3));
    expect(parts()).toEqual([['bytes', 20, 0, [1]]]);
    f.step(chunk(5, 0, [1], 1));
    expect(parts()).toEqual([['dropped', 20, -1, []]]);
  });

  it('compaction keeps entries after the snapshot and a restart comes back from snapshot + log', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 2, compactEvery: 7, compactKeep: 2 });
    c.rounds(40);
    const leader = c.leader();
    for (let i = 0; i < 30; i++) c.propose(leader, `k${i}`);
    c.rounds(10);
    const f = [1, 2, 3].find((id) => id !== leader)!;
    const before = { ...c.node(f).sm };
    expect(c.node(f).disk.snapshot).toBeDefined();
    c.crash(f);
    c.restart(f);
    c.rounds(5);
    expect(c.node(f).sm.index).toBeGreaterThanOrEqual(before.index);
    expect(c.node(f).raft.status().snapshotIndex).toBeGreaterThan(0);
    expect(c.violations).toEqual([]);
  });
});
