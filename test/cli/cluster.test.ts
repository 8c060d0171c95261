import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LimitsReport } from '../../main/cli/commands/limits';
import { alive, killAll, nodePids, runCli, startCluster, type RunningStart } from './run-cli';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StatusNode {
  id: number;
  reachable: boolean;
  role: string | null;
  pid: number | null;
  term: number | null;
}
interface Status {
  clusterId: string;
  leader: number;
  term: number;
  nodes: StatusNode[];
}

let dir: string;
let cluster: RunningStart;

/** status runs `raftdeck status --json` on the test cluster. */
async function status(): Promise<Status> {
  const r = await runCli(['status', '--data', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as Status;
  for (const n of s.nodes) if (n.pid) nodePids.add(n.pid);
  return s;
}

/** until polls `raftdeck status` until `fn` accepts it. */
async function until(what: string, fn: (s: Status) => boolean, ms = 15_000): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status();
    if (fn(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(200);
  }
}

const kv = (...args: string[]): ReturnType<typeof runCli> =>
  runCli([...args, '--data', dir, '--json']);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-cli-'));
  cluster = await startCluster(['--data', dir, '--heartbeat-ms', '50', '--election-ms', '500']);
}, 60_000);

afterAll(async () => {
  // Stop it the way a user would; kill whatever is left by pid, whatever happened.
  if (cluster && cluster.child.exitCode === null) {
    cluster.child.kill('SIGINT');
    await Promise.race([cluster.exited, sleep(10_000)]);
  }
  killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('raftdeck start and the commands that act on it', () => {
  it('start --json prints the started line with 3 nodes and writes the run files', () => {
    const s = cluster.started;
    expect(s.clusterId).toMatch(/^raftdeck-/);
    expect(s.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    for (const n of s.nodes) {
      expect(n.pid).toBeGreaterThan(0);
      expect(alive(n.pid)).toBe(true);
      for (const a of [n.client, n.admin, n.peer]) expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(cluster.lines[0]!.event).toBe('started');
    // Started without --pace: real time, followers campaign at once when the leader is gone.
    expect(cluster.lines[0]!.pace).toEqual({ pace: 1, fastFailover: true });
    for (const f of ['admin-token', 'control.json', 'cluster.json', 'peer-secret']) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const n of s.nodes) expect(statSync(join(dir, `node-${n.id}`)).mode & 0o777).toBe(0o700);
  });

  it('put, get, cas and del through --data report the node that answered', async () => {
    const ids = cluster.started.nodes.map((n) => n.id);
    const put = await kv('put', 'greeting', 'hello');
    expect(put.code, put.stderr).toBe(0);
    const p = JSON.parse(put.stdout) as { ok: boolean; prev: null; node: number; servedBy: string };
    expect(p).toMatchObject({ ok: true, prev: null });
    expect(ids).toContain(p.node);
    expect(cluster.started.nodes.find((n) => n.id === p.node)!.client).toBe(p.servedBy);

    const get = await kv('get', 'greeting');
    expect(get.code, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ ok: true, value: 'hello' });

    const swapped = await kv('cas', 'greeting', 'hello', 'world');
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(JSON.parse(swapped.stdout)).toMatchObject({ ok: true, swapped: true });

    const refused = await kv('cas', 'greeting', 'hello', 'again');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ swapped: false, current: 'world' });

    const absent = await kv('cas', 'lock', '--absent', 'me');
    expect(JSON.parse(absent.stdout)).toMatchObject({ swapped: true });

    const text = await runCli(['get', 'greeting', '--data', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^get "greeting": "world" \[node \d at 127\.0\.0\.1:\d+, /);

    const del = await kv('del', 'greeting');
    expect(JSON.parse(del.stdout)).toMatchObject({ ok: true, prev: 'world' });
    const gone = await kv('get', 'greeting');
    expect(JSON.parse(gone.stdout)).toMatchObject({ ok: true, value: null });
  });

  it('status --json shows every node and one leader', async () => {
    const s = await until('a leader', (x) => x.leader > 0);
    expect(s.clusterId).toBe(cluster.started.clusterId);
    expect(s.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    expect(s.nodes.every((n) => n.reachable)).toBe(true);
    expect(s.nodes.filter((n) => n.role === 'leader')).toHaveLength(1);
    const text = await runCli(['status', '--data', dir]);
    expect(text.stdout).toMatch(/NODE\s+ADMIN\s+PID\s+ROLE\s+TERM\s+LEADER/);
  });

  it('limits shows the bounds of every node port and of the control port', async () => {
    const r = await runCli(['limits', '--data', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as LimitsReport;
    expect(report.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    for (const n of report.nodes) {
      expect(n.servers?.client.limits.maxConnections).toBe(1024);
      expect(n.servers?.admin.limits).toMatchObject({ maxPending: 64, maxSessions: 32 });
      // The supervisor's link, and this command's own connection.
      expect(n.servers?.admin.sessions).toBeGreaterThanOrEqual(2);
      expect(n.servers?.frameBudget.limitBytes).toBe(256 * 1024 * 1024);
      expect(n.peer?.peerPort.limits).toMatchObject({
        maxInboundConnections: 256,
        maxPendingHandshakes: 64,
      });
      // Each node holds one authenticated connection from each other member.
      expect(n.peer?.peerPort.authenticated).toBe(2);
    }
    expect(report.control?.limits).toEqual({ maxPending: 32, maxActive: 16, authTimeoutMs: 2000 });
    const text = await runCli(['limits', '--data', dir]);
    expect(text.stdout).toMatch(/PORT\s+BOUNDS\s+NOW\s+REFUSED OR CLOSED SINCE START/);
    expect(text.stdout).toMatch(/node 1 client\s+1024 connections, idle 60 s/);
    expect(text.stdout).toMatch(/node 1 peer\s+256 connections, 64 pending, handshake 2 s/);
  });

  it('fault kill of the leader: a new leader appears in status; restart brings it back', async () => {
    const before = await until('a leader', (x) => x.leader > 0);
    const old = before.leader;
    const r = await runCli(['fault', 'kill', String(old), '--data', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`killed node ${old}`));
    const after = await until('a new leader', (x) => x.leader > 0 && x.leader !== old);
    expect(after.nodes.find((n) => n.id === old)!.reachable).toBe(false);
    expect(after.term).toBeGreaterThan(before.term);
    const restart = await runCli(['fault', 'restart', String(old), '--data', dir]);
    expect(restart.code, restart.stderr).toBe(0);
    await until('every node back', (x) => x.nodes.every((n) => n.reachable));
  });

  it('add-node walks its steps to done', async () => {
    const r = await runCli(['add-node', '--data', dir], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const pid = /pid (\d+)/.exec(r.stdout);
    if (pid) nodePids.add(Number(pid[1]));
    expect(r.stdout).toMatch(/^add-node 4:/);
    for (const step of [
      'spawn empty node',
      'add as learner',
      'catch up',
      'promote to voter',
      'configuration committed',
    ])
      expect(r.stdout).toMatch(new RegExp(`✓ ${step}`));
    expect(r.stdout).toMatch(/add-node 4: done in/);
    const s = await until('node 4 as a voter', (x) =>
      x.nodes.some((n) => n.id === 4 && n.reachable),
    );
    expect(s.nodes).toHaveLength(4);
  });

  it('partition, link faults and heal', async () => {
    const part = await runCli(['fault', 'partition', '1,2', '3,4', '--data', dir]);
    expect(part.code, part.stderr).toBe(0);
    expect(part.stdout).toMatch(/partitioned into \{1,2\} \{3,4\}/);
    const delay = await runCli(['fault', 'delay', '1', '--to', '2', '--ms', '5', '--data', dir]);
    expect(delay.code, delay.stderr).toBe(0);
    const heal = await runCli(['heal', '--data', dir]);
    expect(heal.code, heal.stderr).toBe(0);
    expect(heal.stdout).toMatch(/healed/);
    await until('a leader after healing', (x) => x.leader > 0);
    const unknown = await runCli(['fault', 'kill', '9', '--data', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no node 9/);
  });

  it('load --seconds 3 --check is linearizable and writes the history', async () => {
    const history = join(dir, 'history.json');
    const r = await runCli(
      ['load', '--clients', '4', '--seconds', '3', '--check', '--history', history, '--data', dir],
      60_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/ops\/s\s+p50\s+[\d.]+ ms\s+p99/);
    expect(r.stdout).toMatch(/^total: \d+ operations/m);
    expect(r.stdout).toMatch(/^check: linearizable/m);
    expect(existsSync(history)).toBe(true);
    expect(statSync(history).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(history, 'utf8'))).toMatchObject({ format: 'raftdeck-history' });
    const again = await runCli(['check', history]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('a node whose folder is gone is not restarted; replace-node puts a fresh one in its place', async () => {
    const stop = await runCli(['fault', 'stop', '2', '--data', dir]);
    expect(stop.code, stop.stderr).toBe(0);
    rmSync(join(dir, 'node-2'), { recursive: true });
    const restart = await runCli(['fault', 'restart', '2', '--data', dir]);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toContain(`its data folder ${join(dir, 'node-2')} is gone`);
    expect(restart.stderr).toContain('raftdeck replace-node 2');
    expect(existsSync(join(dir, 'node-2'))).toBe(false);

    const r = await runCli(['replace-node', '2', '--data', dir], 90_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const pid = /node 5, pid (\d+)/.exec(r.stdout);
    if (pid) nodePids.add(Number(pid[1]));
    expect(r.stdout).toMatch(/^replace-node 2:/);
    for (const step of [
      'check quorum',
      'commit configuration without it',
      'node exited: was not running',
      'data removed',
      'spawn empty node: node 5, pid',
      'add as learner',
      'catch up',
      'promote to voter',
      'configuration committed: node 5 is a voter',
    ])
      expect(r.stdout).toContain(`✓ ${step}`);
    expect(r.stdout).toMatch(/replace-node 2: done in/);
    const s = await until('node 5 in place of node 2', (x) =>
      x.nodes.some((n) => n.id === 5 && n.reachable),
    );
    expect(s.nodes.map((n) => n.id)).toEqual([1, 3, 4, 5]);
    const unknown = await runCli(['replace-node', '9', '--data', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no node 9/);
  }, 120_000);

  it('add-node without quorum exits 3, "outcome unknown"; the learner commits once quorum returns', async () => {
    const s = await until(
      'a leader and every node up',
      (x) => x.leader > 0 && x.nodes.every((n) => n.reachable),
    );
    const followers = s.nodes.filter((n) => n.id !== s.leader).map((n) => n.id);
    // Every follower's disk stalls for 12 s: the leader takes the change but cannot commit it.
    for (const id of followers) {
      const r = await runCli(['fault', 'slow-disk', String(id), '--ms', '12000', '--data', dir]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await runCli(['add-node', '--data', dir], 60_000);
    const pid = /pid (\d+)/.exec(r.stdout);
    if (pid) nodePids.add(Number(pid[1]));
    expect(r.code, r.stderr + r.stdout).toBe(3);
    const id = Number(/^add-node (\d+):/.exec(r.stdout)?.[1]);
    expect(r.stdout).toMatch(/✓ spawn empty node/);
    expect(r.stdout).toMatch(/\? add as learner: outcome unknown: /);
    expect(r.stdout).not.toMatch(/✗/);
    expect(r.stderr).toMatch(new RegExp(`^raftdeck add-node: add-node ${id}: outcome unknown: `));
    expect(r.stderr).not.toMatch(/failed/);
    for (const f of followers) {
      const back = await runCli(['fault', 'slow-disk', String(f), '--ms', '0', '--data', dir]);
      expect(back.code, back.stderr).toBe(0);
    }
    await until(
      `node ${id} a learner`,
      (x) => x.nodes.some((n) => n.id === id && n.role === 'learner'),
      40_000,
    );
  }, 90_000);

  it('SIGINT stops every node and exits 0', async () => {
    const s = await status();
    const pids = [
      ...cluster.started.nodes.map((n) => n.pid),
      ...s.nodes.map((n) => n.pid ?? 0),
    ].filter((p) => p > 0);
    cluster.child.kill('SIGINT');
    const exit = await cluster.exited;
    expect(exit.code, cluster.stderr()).toBe(0);
    expect(cluster.lines.at(-1)!.event).toBe('stopped');
    for (const pid of pids) expect(alive(pid), `node pid ${pid}`).toBe(false);
    expect(existsSync(join(dir, 'control.json'))).toBe(false);
    expect(existsSync(join(dir, 'admin-token'))).toBe(false);
  });
});
