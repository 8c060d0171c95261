import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEtcd } from '../../../main/cluster/etcd/etcd-binary';
import { EtcdProcess, etcdFlags, type EtcdExitInfo } from '../../../main/cluster/etcd/etcd-process';
import { freePort } from '../../../main/cluster/manifest';
import { put, startEtcd, status, waitFor, type TestEtcd } from './proxy-harness';
import { haveEtcd } from '../../etcd';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** procState: the state letter of /proc/PID/stat (R, S, T for stopped, ...). */
const procState = (pid: number): string =>
  readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]!;

describe.skipIf(!haveEtcd)('EtcdProcess', () => {
  let c: TestEtcd;
  beforeAll(async () => {
    c = await startEtcd('etcd-proc', 1, { maxLogBytes: 16 * 1024 });
  }, 60_000);
  afterAll(async () => {
    await c?.teardown();
  });

  it('runs etcd itself (setpriv execs it) on 127.0.0.1, with a 0700 data folder and JSON lines', async () => {
    const m = c.members.get(1)!;
    const pid = m.proc.pid!;
    expect(m.proc.state).toBe('running');
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('etcd');
    // The kernel will SIGKILL it when its parent dies (PR_SET_PDEATHSIG = 9).
    expect(statSync(m.proc.spec.dataDir).mode & 0o777).toBe(0o700);
    expect(m.proc.commandLine[0]).toBe(findEtcd().path);
    expect(m.proc.commandLine).toContain('--logger=zap');
    for (const f of m.proc.commandLine.filter((a) => a.startsWith('--listen-'))) {
      expect(f).toMatch(/=http:\/\/127\.0\.0\.1:\d+$/);
    }
    const log = readFileSync(m.proc.spec.logFile, 'utf8').split('\n').filter(Boolean);
    expect(log.length).toBeGreaterThan(5);
    expect(JSON.parse(log[0]!)).toHaveProperty('msg');
    expect(m.proc.lastLines.length).toBeLessThanOrEqual(20);
    expect(await status(m)).toBeDefined();
  });

  it('hands every JSON line to onLine, pauses and resumes, stops and starts again', async () => {
    const m = c.members.get(1)!;
    const lines: Record<string, unknown>[] = [];
    const off = m.proc.onLine((r) => lines.push(r));
    m.proc.pause();
    expect(m.proc.state).toBe('paused');
    // SIGSTOP is delivered asynchronously: wait for the kernel to show the process stopped.
    await waitFor('the process stopped', async () => procState(m.proc.pid!) === 'T', 2000);
    expect(await status(m, 300)).toBeUndefined();
    m.proc.resume();
    expect(m.proc.state).toBe('running');
    expect(await status(m, 2000)).toBeDefined();
    expect(() => m.proc.resume()).toThrow(/not paused/);

    const exits: EtcdExitInfo[] = [];
    m.proc.onExit((e) => exits.push(e));
    const pid = m.proc.pid!;
    await m.proc.stop();
    expect(m.proc.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
    expect(exits).toHaveLength(1);
    expect(exits[0]!.expected).toBe(true);
    // etcd says it is shutting down when it gets SIGTERM.
    expect(lines.some((r) => r.msg === 'received signal; shutting down')).toBe(true);
    off();

    await m.proc.start();
    c.pids.add(m.proc.pid!);
    expect(m.proc.restarts).toBe(1);
    expect(m.proc.state).toBe('running');
    await put(m, 'k', 'v');
    await m.proc.kill();
    expect(m.proc.state).toBe('crashed');
    expect(m.proc.signal).toBe('SIGKILL');
    expect(exits[1]!.expected).toBe(true);
    await m.proc.start();
    c.pids.add(m.proc.pid!);
    expect(m.proc.restarts).toBe(2);

    // Three starts wrote more than 16 KiB of log: the file was rotated to .1 and began again.
    const { logFile } = m.proc.spec;
    expect(statSync(logFile).size).toBeLessThanOrEqual(16 * 1024);
    expect(statSync(`${logFile}.1`).size).toBeLessThanOrEqual(16 * 1024);
    // Rotation never splits a line: each is a whole zap JSON record, or one of the lines gRPC's
    // own logger writes inside etcd ("WARNING: 2026/12/06 22:59:37 [core] ...").
    for (const f of [logFile, `${logFile}.1`]) {
      for (const l of readFileSync(f, 'utf8').split('\n').filter(Boolean)) {
        if (/^(INFO|WARNING|ERROR): \d{4}\/\d\d\/\d\d /.test(l)) continue;
        expect(() => JSON.parse(l), l).not.toThrow();
      }
    }
  }, 60_000);

  it('rejects start with the last lines etcd wrote when it cannot run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-fail-'));
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const peer = await freePort(new Set([port]));
    const p = new EtcdProcess({
      name: 'n1',
      dataDir: join(dir, 'n1'),
      clientPort: port, // taken
      peerPort: peer,
      advertisedPeerUrl: `http://127.0.0.1:${peer}`,
      initialCluster: `n1=http://127.0.0.1:${peer}`,
      state: 'new',
      clusterToken: 'fail',
      heartbeatMs: 50,
      electionMs: 500,
      logFile: join(dir, 'n1.log'),
      binary: findEtcd(),
    });
    try {
      await expect(p.start()).rejects.toThrow(
        new RegExp(
          `etcd member n1 exited \\(code 1\\).*127\\.0\\.0\\.1:${port}.*address already in use`,
        ),
      );
      expect(p.state).toBe('crashed');
      expect(p.exitCode).toBe(1);
    } finally {
      if (p.pid !== null && alive(p.pid)) process.kill(p.pid, 'SIGKILL');
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never outlives the process that started it, even one killed by SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftdeck-etcd-orphan-'));
    const taken = new Set<number>();
    const client = await freePort(taken);
    const peer = await freePort(taken);
    const script = join(dir, 'parent.mts');
    const modulePath = resolve(__dirname, '../../../main/cluster/etcd/etcd-process.ts');
    const binaryPath = resolve(__dirname, '../../../main/cluster/etcd/etcd-binary.ts');
    writeFileSync(
      script,
      `import { EtcdProcess } from ${JSON.stringify(modulePath)};
import { findEtcd } from ${JSON.stringify(binaryPath)};
const p = new EtcdProcess({ name: 'n1', dataDir: ${JSON.stringify(join(dir, 'n1'))},
  clientPort: ${client}, peerPort: ${peer}, advertisedPeerUrl: 'http://127.0.0.1:${peer}',
  initialCluster: 'n1=http://127.0.0.1:${peer}', state: 'new', clusterToken: 'orphan',
  heartbeatMs: 50, electionMs: 500, logFile: ${JSON.stringify(join(dir, 'n1.log'))}, binary: findEtcd() });
await p.start();
process.stdout.write(JSON.stringify({ pid: p.pid }) + '\\n');
process.kill(process.pid, 'SIGKILL');
`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: resolve(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    parent.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<string | null>((r) => parent.once('exit', (_code, sig) => r(sig)));
    let pid: number | undefined;
    try {
      expect(await exited, err).toBe('SIGKILL');
      pid = (JSON.parse(out.trim()) as { pid: number }).pid;
      expect(pid).toBeGreaterThan(0);
      await waitFor('etcd gone after its parent died', async () => !alive(pid!), 5000);
    } finally {
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!haveEtcd)('etcdFlags', () => {
  it('passes pre-vote and the snapshot count only when asked', () => {
    const base = {
      name: 'n2',
      dataDir: '/d',
      clientPort: 1,
      peerPort: 2,
      advertisedPeerUrl: 'http://127.0.0.1:3',
      initialCluster: 'n2=http://127.0.0.1:3',
      state: 'existing' as const,
      clusterToken: 't',
      heartbeatMs: 50,
      electionMs: 500,
      logFile: '/l',
      binary: { path: '/usr/bin/etcd', version: '3.4.23', major: 3, minor: 4 },
    };
    const f = etcdFlags(base);
    expect(f).toContain('--initial-cluster-state=existing');
    expect(f).toContain('--initial-advertise-peer-urls=http://127.0.0.1:3');
    expect(f).toContain('--listen-peer-urls=http://127.0.0.1:2');
    expect(f.some((x) => x.startsWith('--pre-vote') || x.startsWith('--snapshot-count'))).toBe(
      false,
    );
    expect(etcdFlags({ ...base, preVote: true, snapshotCount: 100 })).toEqual(
      expect.arrayContaining(['--pre-vote=true', '--snapshot-count=100']),
    );
  });
});
