/**
 * openClusterRecording: a started cluster records into its folder within the limit cluster.json
 * names; with the limit 0, or a folder where no recording can be made, it keeps the run in memory
 * and a 'storage' event says which and why; the recording's own notes become 'storage' events.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openClusterRecording } from '../../../main/cluster/recording/cluster-recording';
import { DEFAULT_LIMIT_MIB, FileRecording } from '../../../main/cluster/recording/file-recording';
import { MemoryRecording } from '../../../main/cluster/recording/memory-recording';
import type { ClusterEngine } from '../../../main/cluster/engine';
import type { EventKind } from '../../../main/contract/view';
import { T0, view } from './recording-fixtures';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** standIn: the parts of a started cluster engine that openClusterRecording uses. */
function standIn(recordLimitMiB?: number): { sup: ClusterEngine; events: [EventKind, string][] } {
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-clrec-'));
  dirs.push(dir);
  const events: [EventKind, string][] = [];
  const sup = {
    dir,
    clusterId: 'raftdeck-c1',
    recordLimitMiB: recordLimitMiB ?? DEFAULT_LIMIT_MIB,
    event: (_node: null, kind: EventKind, message: string) => events.push([kind, message]),
  } as unknown as ClusterEngine;
  return { sup, events };
}

describe('openClusterRecording', () => {
  it('records into the folder within the limit of cluster.json (256 MiB when it names none)', async () => {
    const a = standIn();
    const rec = openClusterRecording(a.sup);
    expect(rec).toBeInstanceOf(FileRecording);
    expect((await rec.info()).limitBytes).toBe(256 << 20);
    await rec.close();
    const b = standIn(8);
    const rec8 = openClusterRecording(b.sup) as FileRecording;
    expect(rec8.limitBytes).toBe(8 << 20);
    expect(rec8.segmentBytes).toBe(1 << 20);
    expect(rec8.dir).toBe(join(b.sup.dir, 'recording'));
    await rec8.close();
    expect(a.events).toEqual([]);
  });

  it("turns the recording's notes into storage events: the oldest segment dropped", async () => {
    const { sup, events } = standIn(4);
    const rec = openClusterRecording(sup);
    for (let i = 0; i < 520; i++)
      rec.addView(view(T0 + i * 100, 1, { pad: `${i % 10}`.repeat(10_000) }));
    await Promise.resolve();
    await rec.close();
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]).toEqual([
      'storage',
      expect.stringMatching(
        /^recording: dropped the oldest segment \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d\) to stay within 4\.0 MiB$/,
      ),
    ]);
    expect((await rec.info()).bytes).toBeLessThanOrEqual(4 << 20);
  });

  it('keeps the run in memory with the limit 0, and says so', () => {
    const { sup, events } = standIn(0);
    expect(openClusterRecording(sup)).toBeInstanceOf(MemoryRecording);
    expect(events).toEqual([
      [
        'storage',
        'recording: the record limit is 0, so nothing is recorded on disk; this run’s history is kept in memory only',
      ],
    ]);
  });

  it('keeps the run in memory when the folder cannot hold a recording, and says why', () => {
    const { sup, events } = standIn();
    writeFileSync(join(sup.dir, 'recording'), 'a file where the folder should be');
    expect(openClusterRecording(sup)).toBeInstanceOf(MemoryRecording);
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toBe('storage');
    expect(events[0]![1]).toMatch(
      new RegExp(
        `^recording: could not open the recording in ${sup.dir}: .*EEXIST.*; this run’s history is kept in memory only$`,
      ),
    );
  });
});
