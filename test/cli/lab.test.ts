/**
 * `raftdeck lab`: which start its flags ask for (a seed, a schedule, a simulator seed) and the
 * clear errors for flags that contradict each other or a bad value; a lab served in browser mode
 * that answers over HTTP from its simulated cluster, carries out a lab control and refuses what a
 * lab opened on a simulator run cannot do; and the command line's own messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../main/cli/args';
import {
  labBanner,
  labCommand,
  labStartOf,
  serveLab,
  type LabServer,
} from '../../main/cli/commands/lab';
import type { ClusterView } from '../../main/contract/view';
import { runCli } from './run-cli';

let dir: string;
let staticDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-cli-lab-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>raftdeck</title>');
  staticDir = dir;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const startOf = (argv: string[]) => labStartOf(parseArgs(labCommand, argv));

describe('raftdeck lab: what it starts from', () => {
  it('a seed and a number of nodes, 1 and 3 by default', () => {
    expect(startOf([])).toEqual({ kind: 'seed', seed: 1, nodes: 3 });
    expect(startOf(['--seed', '42', '--nodes', '5'])).toEqual({ kind: 'seed', seed: 42, nodes: 5 });
  });

  it('a schedule file, or a simulator seed with the options it ran with', () => {
    expect(startOf(['--schedule', 'run.json'])).toEqual({ kind: 'schedule', path: 'run.json' });
    const s = startOf(['--sim-seed', '7', '--mutation', 'send-before-fsync']);
    expect(s.kind).toBe('sim-seed');
    if (s.kind !== 'sim-seed') return;
    expect(s.request.seed).toBe(7);
    expect(s.request.options.mutation).toBe('send-before-fsync');
  });

  it.each([
    [['--seed', '3', '--schedule', 'a.json'], /choose one start/],
    [['--sim-seed', '3', '--nodes', '5'], /choose one start/],
    [['--schedule', 'a.json', '--sim-seed', '1'], /choose one start/],
    [['--mutation', 'send-before-fsync'], /--mutation.*--sim-seed|--sim-seed/],
    [['--sim-seed', '1', '--mutation', 'bogus'], /bogus/],
  ])('refuses %j with a message saying why', (argv, message) => {
    expect(() => startOf(argv)).toThrow(message);
  });
});

describe('a lab served in browser mode', () => {
  let lab: LabServer;
  let token: string;
  const post = async (
    name: string,
    args: unknown[],
  ): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: string } }> => {
    const res = await fetch(`http://127.0.0.1:${lab.server.port}/api/call/${name}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
    });
    return {
      status: res.status,
      body: (await res.json()) as { ok: boolean; value?: unknown; error?: string },
    };
  };

  afterAll(async () => {
    await lab?.close();
  });

  it('serves a seeded lab on 127.0.0.1 that elects a leader and obeys its controls', async () => {
    lab = await serveLab({ start: { kind: 'seed', seed: 9, nodes: 3 }, port: 0, staticDir });
    token = new URL(lab.server.url).searchParams.get('token')!;
    expect(lab.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=.{16,}$/);
    expect(lab.source).toBe('seed 9');
    let v: ClusterView | undefined;
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      v = (await post('getView', [])).body.value as ClusterView;
      if (v.leader !== 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(v!.leader).toBeGreaterThan(0);
    expect(v!.lab?.seed).toBe(9);
    expect((await post('labControl', [{ kind: 'pause' }])).body.ok).toBe(true);
    const paused = (await post('getView', [])).body.value as ClusterView;
    expect(paused.lab?.playing).toBe(false);
    const bad = await post('labControl', [{ kind: 'drop', id: 999_999 }]);
    expect(bad.body.error).toMatch(/#999999/);
    await lab.close();
  });

  it('opens a simulator seed paused where its invariant broke, and will not export a schedule', async () => {
    const start = startOf(['--sim-seed', '1', '--mutation', 'send-before-fsync']);
    lab = await serveLab({ start, port: 0, staticDir });
    token = new URL(lab.server.url).searchParams.get('token')!;
    expect(lab.source).toMatch(
      /simulator seed 1 with mutation send-before-fsync, stopped at step \d+/,
    );
    // What the command prints: the URL, the source, and where and why the run stopped.
    const banner = await labBanner(lab);
    expect(banner).toContain(`raftdeck dashboard: ${lab.server.url}\n`);
    expect(banner).toMatch(
      /\npaused where durability broke \(step 46, nodes 3, 1\): node 3 sent vote/,
    );
    const v = (await post('getView', [])).body.value as ClusterView;
    expect(v.lab?.playing).toBe(false);
    expect(v.lab?.failure?.invariant).toBe('durability');
    expect(v.lab?.failure?.step).toBe(v.lab?.steps);
    const played = await post('labControl', [{ kind: 'play' }]);
    expect(played.body.ok).toBe(false);
    const exported = await post('exportLabSchedule', []);
    expect(exported.status).toBe(409);
    expect(exported.body.error).toMatch(/npm run sim -- --seed 1/);
  });

  it('refuses a schedule that cannot be read or is not one, naming the file', async () => {
    const missing = join(dir, 'nope.json');
    await expect(
      serveLab({ start: { kind: 'schedule', path: missing }, port: 0, staticDir }),
    ).rejects.toThrow(/cannot read the schedule .*nope\.json/);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"format":"something else"}');
    await expect(
      serveLab({ start: { kind: 'schedule', path: junk }, port: 0, staticDir }),
    ).rejects.toThrow(/junk\.json/);
  });
});

describe('raftdeck lab on the command line', () => {
  it('refuses contradicting flags with exit code 2', async () => {
    const r = await runCli(['lab', '--seed', '2', '--schedule', 'x.json'], 60_000);
    expect(r.stderr).toMatch(/choose one start/);
    expect(r.code).toBe(2);
  });
});
