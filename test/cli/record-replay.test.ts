/**
 * `raftdeck record export` and `raftdeck replay`: their argument errors (a clear message, exit 2;
 * a path that holds no recording, exit 1), an export written by the command line, and a replay
 * server that answers getView over HTTP and the WebSocket from the recording alone and refuses
 * changes.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serveRecording, type ReplayServer } from '../../main/cli/commands/replay';
import { FileRecording } from '../../main/cluster/recording/file-recording';
import type { ClusterView } from '../../main/contract/view';
import { event, T0, view } from '../cluster/recording/recording-fixtures';
import { RecordingReader } from '../../main/cluster/recording/recording-reader';
import { killAll, nodePids, runCli, startCluster } from './run-cli';

let dir: string;
let views: ClusterView[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-cli-rec-'));
  const rec = new FileRecording(join(dir, 'cluster'), { clusterId: 'raftdeck-cli' });
  views = Array.from({ length: 12 }, (_, i) => view(T0 + i * 100, (i % 3) + 1));
  for (const v of views) rec.addView(v);
  rec.addEvent(event(1, T0 + 50));
  await rec.close();
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('raftdeck record export', () => {
  it('refuses bad arguments with a clear message', async () => {
    const cases: [string[], RegExp, number][] = [
      [['record'], /missing ACTION/, 2],
      [['record', 'import', 'a', 'b'], /unknown record action 'import' \(one of export\)/, 2],
      [['record', 'export'], /missing DIR \(usage: record export DIR FILE\)/, 2],
      [['record', 'export', dir], /missing FILE \(usage: record export DIR FILE\)/, 2],
      [['record', 'export', dir, 'a', 'b'], /unexpected argument 'b'/, 2],
      [['record', 'export', join(dir, 'nope'), join(dir, 'x')], /nope is not a folder/, 1],
      [['record', 'export', dir, join(dir, 'x')], /holds no recording \(no segments in/, 1],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, 60_000)));
    for (const [i, [args, message, code]] of cases.entries()) {
      expect(results[i]!.stderr, args.join(' ')).toMatch(message);
      expect(results[i]!.code, args.join(' ')).toBe(code);
    }
  });

  it('writes one file and says what it wrote; refuses to overwrite it', async () => {
    const file = join(dir, 'bug.rdrec');
    const r = await runCli(['record', 'export', join(dir, 'cluster'), file], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^wrote 1 segment, 0\\.0 MiB, \\d\\d:\\d\\d:\\d\\d–\\d\\d:\\d\\d:\\d\\d to ${file}\\n$`,
      ),
    );
    const again = await runCli(['record', 'export', join(dir, 'cluster'), file], 60_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `${file} exists already; give a new file name (nothing was written)`,
    );
  });
});

describe('raftdeck start records', () => {
  it('refuses a record limit out of range, naming it', async () => {
    const r = await runCli(['start', '--data', join(dir, 'never'), '--record-limit', '3'], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--record-limit 3 is not a recording limit: give MiB in 4..1048576, or 0 to keep no recording on disk',
    );
  });

  it('into DIR/recording within --record-limit (kept in cluster.json); export works while it runs', async () => {
    const data = join(dir, 'running');
    const c = await startCluster(['--data', data, '--nodes', '1', '--record-limit', '8'], 60_000);
    for (const n of c.started.nodes) nodePids.add(n.pid);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(JSON.parse(readFileSync(join(data, 'cluster.json'), 'utf8')).recordLimitMiB).toBe(8);
      expect(readdirSync(join(data, 'recording'))).toEqual(['00000001.rdrec']);
      const file = join(dir, 'running.rdrec');
      const r = await runCli(['record', 'export', data, file], 60_000);
      expect(r.code, r.stderr).toBe(0);
      const reader = RecordingReader.open(file);
      const info = await reader.info();
      expect(info.clusterId).toBe(c.started.clusterId);
      expect(info.notes).toEqual([]);
      const last = (await reader.viewAt(info.to!)).view!;
      expect(last.clusterId).toBe(c.started.clusterId);
      expect(last.nodes.map((n) => n.id)).toEqual([1]);
    } finally {
      c.child.kill('SIGINT');
      await c.exited;
    }
    // a second run starts a new segment after the first
    const again = await startCluster(['--data', data], 60_000);
    for (const n of again.started.nodes) nodePids.add(n.pid);
    again.child.kill('SIGINT');
    await again.exited;
    expect(readdirSync(join(data, 'recording'))).toEqual(['00000001.rdrec', '00000002.rdrec']);
  });
});

describe('raftdeck replay', () => {
  it('refuses bad arguments and paths that hold no recording', async () => {
    const notRec = join(dir, 'notes.txt');
    writeFileSync(notRec, 'not a recording, only some notes');
    const cases: [string[], RegExp, number][] = [
      [['replay'], /missing FILE/, 2],
      [['replay', 'a', 'b'], /unexpected argument 'b'/, 2],
      [['replay', 'a', '--port', '70000'], /--port/, 2],
      [['replay', 'a', '--nodes', '3'], /unknown option '--nodes'/, 2],
      [['replay', join(dir, 'nope')], /nope: no such file or folder/, 1],
      [['replay', notRec], /not a raftdeck recording export \(it starts "not a re"/, 1],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, 60_000)));
    for (const [i, [args, message, code]] of cases.entries()) {
      expect(results[i]!.stderr, args.join(' ')).toMatch(message);
      expect(results[i]!.code, args.join(' ')).toBe(code);
    }
  });

  describe('a replay server', () => {
    let replay: ReplayServer;
    let token: string;
    beforeAll(async () => {
      const staticDir = join(dir, 'static');
      mkdirSync(staticDir);
      writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>raftdeck</title>');
      replay = await serveRecording({ path: join(dir, 'cluster'), port: 0, staticDir });
      token = new URL(replay.server.url).searchParams.get('token')!;
    });
    afterAll(async () => {
      await replay.close();
    });

    const post = async (
      name: string,
      args: unknown[],
    ): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: string } }> => {
      const res = await fetch(`http://127.0.0.1:${replay.server.port}/api/call/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
      return {
        status: res.status,
        body: (await res.json()) as { ok: boolean; value?: unknown; error?: string },
      };
    };

    it('serves on 127.0.0.1 with a token in its URL', () => {
      expect(replay.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=.{16,}$/);
    });

    it('answers getView, viewAt and recordingInfo over HTTP from the recording', async () => {
      expect((await post('getView', [])).body).toEqual({ ok: true, value: views[11] });
      expect((await post('viewAt', [T0 + 550])).body.value).toMatchObject({
        view: views[5],
        viewTime: T0 + 500,
      });
      expect((await post('recordingInfo', [])).body.value).toMatchObject({
        source: 'file',
        clusterId: 'raftdeck-cli',
      });
      const refused = await post('killNode', [1]);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        ok: false,
        status: 409,
        error: `killNode: ${join(dir, 'cluster')} is a recording: nothing can be changed`,
      });
    });

    it('answers getView over the WebSocket', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${replay.server.port}/ws?token=${token}`, {
        origin: `http://127.0.0.1:${replay.server.port}`,
      });
      const reply = await new Promise<unknown>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('open', () =>
          ws.send(JSON.stringify({ type: 'call', id: 7, name: 'getView', args: [] })),
        );
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; id?: number };
          if (m.type === 'reply' && m.id === 7) resolve(m);
        });
      });
      ws.close();
      expect(reply).toEqual({ type: 'reply', id: 7, ok: true, value: views[11] });
    });
  });
});
