/**
 * The command line on a local etcd cluster: `raftdeck start --engine etcd` in the background,
 * then status, put/get/cas, a fault, a membership change and `load --check` on it with --data,
 * as on raftdeck's own nodes; a folder keeps its engine; a missing etcd binary is named with the
 * line that installs it. Every process is killed by pid afterwards, whatever happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEtcd } from '../etcd';
import { killAll, nodePids, runCli, startCluster, type RunningStart } from './run-cli';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StatusNode {
  id: number;
  reachable: boolean;
  role: string | null;
  pid: number | null;
  health: string;
}
interface Status {
  leader: number;
  term: number;
  engine: { kind: string; version: string };
  nodes: StatusNode[];
}

describe.skipIf(!haveEtcd)('the command line on a local etcd cluster', () => {
  let dir: string;
  let cluster: RunningStart;

  const status = async (): Promise<Status> => {
    const r = await runCli(['status', '--data', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Status;
    for (const n of s.nodes) if (n.pid) nodePids.add(n.pid);
    return s;
  };
  const until = async (what: string, fn: (s: Status) => boolean, ms = 20_000): Promise<Status> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await status();
      if (fn(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await sleep(300);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-cli-'));
    cluster = await startCluster([
      '--engine',
      'etcd',
      '--data',
      dir,
      '--heartbeat-ms',
      '50',
      '--election-ms',
      '500',
    ]);
  }, 60_000);

  afterAll(async () => {
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill('SIGINT');
      await Promise.race([cluster.exited, sleep(15_000)]);
    }
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('starts three etcd members and shows them in status, with a leader', async () => {
    expect(cluster.started.nodes).toHaveLength(3);
    const s = await until('a leader', (x) => x.leader !== 0);
    expect(s.engine.kind).toBe('etcd');
    expect(s.engine.version).toMatch(/^3\.[45]\./);
    expect(s.nodes.filter((n) => n.reachable)).toHaveLength(3);
    expect(s.nodes.find((n) => n.id === s.leader)!.role).toBe('leader');
  }, 30_000);

  it('puts, gets and compares-and-sets through etcd with --data', async () => {
    const put = await runCli(['put', 'greeting', 'hello', '--data', dir, '--json']);
    expect(put.code, put.stderr).toBe(0);
    const got = await runCli(['get', 'greeting', '--data', dir, '--json']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ ok: true, value: 'hello' });
    const bad = await runCli(['cas', 'greeting', 'nope', 'x', '--data', dir, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ swapped: false, current: 'hello' });
    const good = await runCli(['cas', 'greeting', 'hello', 'bye', '--data', dir, '--json']);
    expect(good.code, good.stderr).toBe(0);
    const again = await runCli(['get', 'greeting', '--data', dir, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ value: 'bye' });
  }, 60_000);

  it('kills the leader with `fault kill`; another member leads', async () => {
    const s = await until('a leader', (x) => x.leader !== 0);
    const old = s.leader;
    const r = await runCli(['fault', 'kill', String(old), '--data', dir]);
    expect(r.code, r.stderr).toBe(0);
    await until('a new leader', (x) => x.leader !== 0 && x.leader !== old);
    const back = await runCli(['fault', 'restart', String(old), '--data', dir]);
    expect(back.code, back.stderr).toBe(0);
    await until('every member answering', (x) => x.nodes.every((n) => n.reachable));
  }, 60_000);

  it('refuses what etcd cannot do, with the reason', async () => {
    const r = await runCli(['fault', 'slow-disk', '1', '--ms', '200', '--data', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/etcd has no hook to slow its fsync/);
  }, 30_000);

  it('adds a member through the learner workflow', async () => {
    const r = await runCli(['add-node', '--data', dir], 90_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/add as learner/);
    expect(r.stdout).toMatch(/promote to voter/);
    const s = await until('four members', (x) => x.nodes.length === 4);
    expect(s.nodes.every((n) => n.reachable)).toBe(true);
  }, 120_000);

  it('runs `load --check` on etcd and finds the history linearizable', async () => {
    const r = await runCli(
      ['load', '--seconds', '2', '--clients', '3', '--keys', '4', '--check', '--data', dir],
      60_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/linearizable/);
  }, 90_000);

  it("keeps the folder's engine: --engine raftdeck on it is refused, naming both", async () => {
    const r = await runCli(['start', '--engine', 'raftdeck', '--data', dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/etcd/);
  }, 30_000);
});

describe('etcd that is not there', () => {
  it('names the missing binary and the line that installs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-missing-'));
    try {
      const r = await runCli([
        'start',
        '--engine',
        'etcd',
        '--etcd-bin',
        join(dir, 'no-etcd-here'),
        '--data',
        dir,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/apt-get install etcd-server/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
