/**
 * The Recording contract, run over the in-memory recording and the file recording alike (as the
 * storage contract runs over both storages): views answer for any instant (before the first,
 * between two, after the last), events and messages by span and limit in time order, appends
 * are seen by the next query, and close ends appending without losing what came before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../../main/contract/view';
import { event, T0, trace, view } from './recording-fixtures';
import { FileRecording } from '../../../main/cluster/recording/file-recording';
import { MemoryRecording } from '../../../main/cluster/recording/memory-recording';
import type { Recording } from '../../../main/cluster/recording/recording';

const dirs: string[] = [];
const open: Recording[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const makers: [string, () => Recording][] = [
  ['memory', () => new MemoryRecording()],
  [
    'file',
    () => {
      const d = mkdtempSync(join(tmpdir(), 'raftdeck-rec-'));
      dirs.push(d);
      return new FileRecording(d, { clusterId: 'raftdeck-test', keyframeEvery: 4 });
    },
  ],
];

describe.each(makers)('Recording contract: %s', (_name, make) => {
  const rec = (): Recording => {
    const r = make();
    open.push(r);
    return r;
  };

  it('answers an empty recording with nothing', async () => {
    const r = rec();
    const info = await r.info();
    expect(info.from).toBeNull();
    expect(info.to).toBeNull();
    expect(info.recording).toBe(true);
    expect(await r.viewAt(T0)).toEqual({ time: T0, view: null, viewTime: null });
    expect(await r.events(0, T0 * 2, 10)).toEqual([]);
    expect(await r.messages(0, T0 * 2, 10)).toEqual([]);
  });

  it('gives the latest view at or before an instant: before the first, between, after the last', async () => {
    const r = rec();
    const views = Array.from({ length: 25 }, (_, i) =>
      view(T0 + i * 100, (i >> 3) + 1, i % 5 === 0 ? { workload: { samples: [i, i + 1] } } : {}),
    );
    for (const v of views) r.addView(v);
    expect((await r.viewAt(T0 - 1)).view).toBeNull();
    for (const [i, v] of views.entries()) {
      const at = await r.viewAt(T0 + i * 100);
      expect(at.view).toEqual(v);
      expect(at.viewTime).toBe(v.now);
      const between = await r.viewAt(T0 + i * 100 + 50);
      expect(between.view).toEqual(v);
      expect(between.time).toBe(T0 + i * 100 + 50);
    }
    // scrubbing backwards, then forwards again
    for (const i of [24, 3, 17, 16, 2, 0, 11])
      expect((await r.viewAt(T0 + i * 100)).view).toEqual(views[i]);
    const after = await r.viewAt(T0 + 1e6);
    expect(after.view).toEqual(views[24]);
    const info = await r.info();
    expect(info.from).toBe(T0);
    expect(info.to).toBe(T0 + 2400);
    expect(info.clusterId).toBe('raftdeck-test');
  });

  it('answers events by span and limit, oldest first, the latest when there are more', async () => {
    const r = rec();
    for (let i = 1; i <= 50; i++) r.addEvent(event(i, T0 + i * 10));
    const seqs = (es: ClusterEvent[]): number[] => es.map((e) => e.seq);
    expect(seqs(await r.events(T0 + 100, T0 + 150, 100))).toEqual([10, 11, 12, 13, 14, 15]);
    expect(seqs(await r.events(T0 + 100, T0 + 150, 2))).toEqual([14, 15]);
    expect(seqs(await r.events(0, T0 * 2, 3))).toEqual([48, 49, 50]);
    expect(await r.events(T0 + 501, T0 * 2, 10)).toEqual([]);
    expect(await r.events(0, T0, 10)).toEqual([]);
    expect((await r.events(T0 + 10, T0 + 10, 1))[0]).toEqual(event(1, T0 + 10));
  });

  it('answers messages by span and limit in time order, none later than their push', async () => {
    const r = rec();
    // two senders' clocks interleave across batches
    r.addMessages({ traces: [trace(1, T0 + 10), trace(1, T0 + 5, 2, 1)], skipped: {} }, T0 + 20);
    r.addMessages(
      { traces: [trace(2, T0 + 30), trace(2, T0 + 15, 2, 1)], skipped: { '1-2': 3 } },
      T0 + 40,
    );
    r.addMessages({ traces: [trace(3, T0 + 90)], skipped: {} }, T0 + 60);
    const all = await r.messages(0, T0 * 2, 100);
    expect(all.map((t) => t.time)).toEqual([T0 + 5, T0 + 10, T0 + 15, T0 + 30, T0 + 60]);
    expect(all.at(-1)).toEqual({ ...trace(3, T0 + 90), time: T0 + 60 });
    expect((await r.messages(T0 + 10, T0 + 30, 100)).map((t) => t.time)).toEqual([
      T0 + 10,
      T0 + 15,
      T0 + 30,
    ]);
    expect((await r.messages(0, T0 * 2, 2)).map((t) => t.time)).toEqual([T0 + 30, T0 + 60]);
    expect(await r.messages(T0 + 61, T0 * 2, 10)).toEqual([]);
  });

  it('sees every append in the next query, and ignores appends after close', async () => {
    const r = rec();
    r.addView(view(T0, 1));
    expect((await r.viewAt(T0)).view).toEqual(view(T0, 1));
    r.addEvent(event(1, T0 + 1));
    expect(await r.events(0, T0 * 2, 5)).toHaveLength(1);
    r.addView(view(T0 + 100, 2));
    await r.close();
    r.addView(view(T0 + 200, 3));
    r.addEvent(event(2, T0 + 201));
    expect((await r.viewAt(T0 + 1000)).view).toEqual(view(T0 + 100, 2));
    expect(await r.events(0, T0 * 2, 5)).toEqual([event(1, T0 + 1)]);
    const info = await r.info();
    expect(info.recording).toBe(false);
    expect(info.to).toBe(T0 + 100);
  });
});
