import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, killAll, startCluster, type RunningStart } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-cli-one-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('raftdeck start on one cluster folder', () => {
  it('two starts at once on a fresh folder: one runs the cluster, the other is refused', async () => {
    const args = ['--data', dir, '--nodes', '1', '--heartbeat-ms', '50', '--election-ms', '500'];
    const results = await Promise.allSettled([startCluster(args), startCluster(args)]);
    const ran = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(ran, JSON.stringify(refused)).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const reason = String((refused[0] as PromiseRejectedResult).reason);
    expect(reason).toMatch(/exited with 1 before starting/);
    expect(reason).toMatch(/cluster folder .* is in use by pid \d+|already running from/);
    const winner = (ran[0] as PromiseFulfilledResult<RunningStart>).value;
    // The refused one left the running cluster's files alone.
    await sleep(200);
    const control = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as { pid: number };
    expect(control.pid).toBe(winner.child.pid);
    const manifest = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as {
      clusterId: string;
    };
    expect(manifest.clusterId).toBe(winner.started.clusterId);
    const pids = winner.started.nodes.map((n) => n.pid);
    winner.child.kill('SIGINT');
    expect((await winner.exited).code).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 90_000);
});
