/**
 * `npm start` on a machine where the desktop window cannot open (no Electron binary, as here and
 * in CI, or no display) ends with a served dashboard: `raftdeck app` says why in one line, serves
 * the dashboard over the app's folder, answers at the URL it prints, and stops every node on
 * Ctrl-C. Needs `npm run build` (the served renderer); run with `npm run test:e2e`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../cli/run-cli';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-app-'));
let child: ChildProcess | undefined;
const nodePids: number[] = [];

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const pid of nodePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform !== 'linux')('npm start without a desktop window', () => {
  it('serves the dashboard over the app folder, prints its URL and stops on Ctrl-C', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, RAFTDECK_DATA: dir };
    // No display: whether or not Electron's binary is installed, the window cannot open.
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const c = spawn(process.execPath, [BIN, 'app', '--no-open', '--nodes', '1'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    let out = '';
    let err = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => c.on('close', (code) => resolve(code)));
    const end = Date.now() + 45_000;
    while (!/raftdeck dashboard: (\S+)/.test(out)) {
      if (c.exitCode !== null || Date.now() > end)
        throw new Error(`no dashboard URL; stdout: ${out}; stderr: ${err}`);
      await sleep(100);
    }
    const url = /raftdeck dashboard: (\S+)/.exec(out)![1]!;
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      /^raftdeck: the desktop window cannot open: .+; serving the same dashboard in browser mode instead$/,
    );
    expect(out).toContain(`in ${dir}`);
    const manifest = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as {
      nodes: unknown[];
    };
    expect(manifest.nodes).toHaveLength(1);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="app">');
    expect(c.exitCode).toBeNull();
    c.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  }, 60_000);
});
