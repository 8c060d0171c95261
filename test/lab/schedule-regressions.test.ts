// Lab sessions kept as regression tests: every schedule in test/lab/schedules/ (exported from a
// lab with "Export schedule") replays to its end with no invariant broken; and the simulator's
// command line replays a schedule file, exiting 1 when the run breaks an invariant and 2 when the
// file is not a schedule.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { replaySchedule } from '../../main/lab/lab-dashboard';
import { parseLabSchedule } from '../../main/lab/lab-schedule';

const root = fileURLToPath(new URL('../..', import.meta.url));
const folder = join(root, 'test', 'lab', 'schedules');
const files = readdirSync(folder).filter((f) => f.endsWith('.json'));
const tmp = mkdtempSync(join(tmpdir(), 'raftdeck-schedules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sim(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/raft/sim/cli.ts'), '--schedule', file],
      { cwd: root, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('lab schedules kept as regressions', () => {
  it('there is at least one', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays to its end with no invariant broken', (name) => {
    const schedule = parseLabSchedule(readFileSync(join(folder, name), 'utf8'), name);
    const r = replaySchedule(schedule);
    expect(r.violations).toEqual([]);
    expect(r.steps).toBe(schedule.steps);
  });
});

describe('npm run sim -- --schedule FILE', () => {
  it('says how the run went and exits 0 when nothing broke', async () => {
    const r = await sim(join(folder, files[0]!));
    expect(r.stdout).toMatch(/sim: schedule .*\(seed \d+, \d+ actions\): \d+ steps, 0 violations/);
    expect(r.code).toBe(0);
  });

  it('exits 1 and prints the violation when the run breaks an invariant', async () => {
    const broken = join(tmp, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({
        format: 'raftdeck-lab-schedule',
        version: 1,
        seed: 1,
        nodes: 3,
        options: { mutation: 'send-before-fsync' },
        actions: [],
        steps: 5000,
        now: 20_000,
      }),
    );
    const r = await sim(broken);
    expect(r.stdout).toMatch(/before its (term|vote) was durable/);
    expect(r.stdout).toMatch(/[1-9]\d* violations/);
    expect(r.code).toBe(1);
  });

  it('exits 2 naming a file that is not a schedule', async () => {
    const junk = join(tmp, 'junk.json');
    writeFileSync(junk, '{"format":"other"}');
    const r = await sim(junk);
    expect(r.stderr).toMatch(/junk\.json/);
    expect(r.code).toBe(2);
  });
});
