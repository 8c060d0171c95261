/**
 * RecordingDashboard: the dashboard API over a recording with no cluster: it answers from the
 * recording (the last view, the recorded events, any instant, a link's recorded messages) and
 * refuses, naming the recording, every call that would change a cluster, and those that need
 * live nodes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLS, changesCluster } from '../../../main/contract/api';
import type { ClusterView } from '../../../main/contract/view';
import { FileRecording } from '../../../main/cluster/recording/file-recording';
import { RecordingDashboard } from '../../../main/cluster/recording/recording-dashboard';
import { exportRecording } from '../../../main/cluster/recording/recording-reader';
import { openRecordingBackend } from '../../../main/web/backends';
import { event, T0, trace, view } from './recording-fixtures';

const links = [
  {
    from: 1,
    to: 2,
    state: 'ok',
    rule: null,
    drop: 0,
    delayMs: 0,
    oneWay: false,
    msgsPerSec: 10,
    bytesPerSec: 400,
    connected: true,
  },
  {
    from: 2,
    to: 1,
    state: 'ok',
    rule: null,
    drop: 0,
    delayMs: 0,
    oneWay: false,
    msgsPerSec: 10,
    bytesPerSec: 400,
    connected: true,
  },
];

let dir: string;
let file: string;
let views: ClusterView[];
let dash: RecordingDashboard;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-recdash-'));
  const rec = new FileRecording(dir, { clusterId: 'raftdeck-test' });
  views = Array.from({ length: 20 }, (_, i) => view(T0 + i * 100, i < 10 ? 1 : 2, { links }));
  for (const [i, v] of views.entries()) {
    rec.addView(v);
    rec.addEvent(event(i + 1, v.now + 1));
    rec.addMessages(
      { traces: [trace(i, v.now, 1, 2), trace(i, v.now, 2, 1)], skipped: {} },
      v.now + 5,
    );
  }
  await rec.close();
  file = join(dir, 'export.rdrec');
  exportRecording(dir, file);
  dash = RecordingDashboard.open(file);
});
afterAll(async () => {
  await dash.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RecordingDashboard', () => {
  it('answers from the recording: the last view, the events, any instant, the info', async () => {
    expect(await dash.getView()).toEqual(views[19]);
    const events = await dash.getEvents(0);
    expect(events.map((e) => e.seq)).toEqual([...Array(20).keys()].map((i) => i + 1));
    expect((await dash.getEvents(18)).map((e) => e.seq)).toEqual([19, 20]);
    expect((await dash.viewAt(T0 + 950)).view).toEqual(views[9]);
    expect(await dash.recordedEvents(T0 + 1001, T0 + 1101, 10)).toEqual([
      event(11, T0 + 1001),
      event(12, T0 + 1101),
    ]);
    expect(await dash.recordedMessages(T0 + 500, T0 + 500, 10)).toHaveLength(2);
    expect(await dash.recordingInfo()).toMatchObject({
      source: 'file',
      path: file,
      recording: false,
      from: T0,
      to: T0 + 1905,
    });
    expect(JSON.parse((await dash.exportEvents()).json)).toHaveLength(20);
    expect(await dash.listScenarios()).toEqual([]);
  });

  it("answers a link's detail from the last view and its recorded messages", async () => {
    const d = await dash.linkDetail(1, 2);
    expect(d.link).toEqual(links[0]);
    expect(d.recent).toHaveLength(20);
    expect(d.recent.every((t) => t.from === 1 && t.to === 2)).toBe(true);
    await expect(dash.linkDetail(1, 3)).rejects.toThrow(
      "the recording's last view has no link 1 → 3 (links: 1→2, 2→1)",
    );
  });

  it('refuses every call that changes a cluster, naming the recording', async () => {
    const changing = CALLS.filter(changesCluster);
    expect(changing).toContain('killNode');
    expect(changing).toContain('startWorkload');
    for (const name of changing) {
      const fn = dash[name] as (...a: unknown[]) => Promise<unknown>;
      await expect(fn.call(dash, 1, 2), name).rejects.toThrow(
        `${file} is a recording: nothing can be changed`,
      );
    }
  });

  it('refuses what needs live nodes or a client history', async () => {
    await expect(dash.logEntries({ from: 1, count: 5 })).rejects.toThrow(
      'a recording holds no log entries',
    );
    await expect(dash.nodeLogs(2, 10)).rejects.toThrow(
      `${file} is a recording: it holds no logs of node 2`,
    );
    await expect(dash.exportHistory()).rejects.toThrow(/holds no client history/);
  });

  it('is the backend the app binds its window to for "Open recording…"', async () => {
    const backend = openRecordingBackend(file);
    expect(await backend.api.getView()).toEqual(views[19]);
    expect((await backend.api.recordingInfo()).source).toBe('file');
    await backend.dispose();
    expect(() => openRecordingBackend(join(dir, 'nope'))).toThrow(/nope: no such file or folder/);
  });

  it('pushes nothing', () => {
    const off = [dash.onView(), dash.onEvent(), dash.onMessages()];
    for (const f of off) expect(f()).toBeUndefined();
  });
});
