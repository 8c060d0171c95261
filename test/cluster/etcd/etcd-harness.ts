/**
 * etcd-harness starts a real etcd cluster on 127.0.0.1 for the tests, in a temporary folder:
 * `etcd` processes spawned directly (no raftdeck engine), optionally serving clients over TLS
 * with client certificates made with `openssl` in the folder (peers stay plain http on loopback).
 * stop() kills every process the harness ever spawned, by pid, and removes the folder; call it in
 * afterAll so nothing outlives a failing test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../main/cluster/manifest';
import { openEtcdClient, type EtcdTls } from '../../../main/cluster/etcd/etcd-client';

/** ETCD_BIN: the etcd binary the tests run. */
export const ETCD_BIN = process.env.RAFTDECK_TEST_ETCD ?? 'etcd';

/** TestCerts: PEM files made for one test cluster (paths). */
export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** otherCa: a CA that signed nothing here (a client trusting only it must fail). */
  otherCa: string;
}

/** TestEtcdMember: one member as the harness started it. */
export interface TestEtcdMember {
  name: string;
  /** endpoint: its client URL (http:// or https://). */
  endpoint: string;
  /** peer: its peer URL. */
  peer: string;
  dataDir: string;
  logFile: string;
  proc: ChildProcess | undefined;
}

export interface TestEtcdCluster {
  dir: string;
  members: TestEtcdMember[];
  /** endpoints: the members' client URLs, in member order. */
  endpoints: string[];
  certs: TestCerts | undefined;
  /** tls: what a client needs to connect (CA, client certificate and key), with TLS. */
  tls: EtcdTls | undefined;
  /** pids: the member processes running now. */
  pids(): number[];
  /** kill sends SIGKILL to member i's process and waits for it to exit. */
  kill(i: number): Promise<void>;
  /** restart starts member i again on its data folder. */
  restart(i: number): void;
  /**
   * prepareMember picks ports for one more member (not started): add it to the cluster (as a
   * learner, say), then startJoining it.
   */
  prepareMember(): Promise<TestEtcdMember>;
  /** startJoining starts a prepared member with --initial-cluster-state existing. */
  startJoining(m: TestEtcdMember, initialCluster: string): void;
  /** waitHealthy: every running member answers and names the same leader. */
  waitHealthy(ms?: number): Promise<void>;
  /** stop kills every process ever spawned here (by pid) and removes the folder; idempotent. */
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  }
}

/** makeCerts makes a CA, a server certificate for IP 127.0.0.1, a client one and an unrelated CA. */
export function makeCerts(dir: string): TestCerts {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=raftdeck test ${ca}`,
    ]);
  }
  const sign = (name: string, cn: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      'req',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  sign(
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  sign('client', 'root', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(dir, 'other-ca.crt'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * startEtcdCluster starts `members` etcd members (heartbeat 100 ms, election 1000 ms) and waits
 * until they agree on a leader. With `tls`, clients must connect over TLS with a client
 * certificate signed by the test CA.
 */
export async function startEtcdCluster(
  options: { members?: number; tls?: boolean; name?: string } = {},
): Promise<TestEtcdCluster> {
  const size = options.members ?? 3;
  const dir = mkdtempSync(join(tmpdir(), `raftdeck-etcd-${options.name ?? 'test'}-`));
  const certs = options.tls ? makeCerts(dir) : undefined;
  const scheme = certs ? 'https' : 'http';
  const taken = new Set<number>();
  const members: TestEtcdMember[] = [];
  for (let i = 1; i <= size; i++) {
    members.push({
      name: `e${i}`,
      endpoint: `${scheme}://127.0.0.1:${await freePort(taken)}`,
      peer: `http://127.0.0.1:${await freePort(taken)}`,
      dataDir: join(dir, `e${i}`),
      logFile: join(dir, `e${i}.log`),
      proc: undefined,
    });
  }
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const token = `raftdeck-test-${process.pid}-${Date.now()}`;
  const argsOf = (m: TestEtcdMember, join?: string): string[] => [
    '--name',
    m.name,
    '--data-dir',
    m.dataDir,
    '--listen-client-urls',
    m.endpoint,
    '--advertise-client-urls',
    m.endpoint,
    '--listen-peer-urls',
    m.peer,
    '--initial-advertise-peer-urls',
    m.peer,
    '--initial-cluster',
    join ?? initial,
    '--initial-cluster-state',
    join ? 'existing' : 'new',
    '--initial-cluster-token',
    token,
    '--heartbeat-interval',
    '100',
    '--election-timeout',
    '1000',
    '--logger',
    'zap',
    '--log-outputs',
    'stderr',
    ...(certs
      ? [
          '--cert-file',
          certs.serverCert,
          '--key-file',
          certs.serverKey,
          '--trusted-ca-file',
          certs.ca,
          '--client-cert-auth',
        ]
      : []),
  ];
  const spawned = new Set<number>();
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')),
  );
  const joins = new Map<TestEtcdMember, string>();
  const spawnMember = (m: TestEtcdMember): void => {
    const log = openSync(m.logFile, 'a');
    const proc = spawn(ETCD_BIN, argsOf(m, joins.get(m)), { stdio: ['ignore', log, log], env });
    closeSync(log);
    if (proc.pid !== undefined) spawned.add(proc.pid);
    m.proc = proc;
    proc.once('exit', () => {
      if (m.proc === proc) m.proc = undefined;
    });
  };
  const tls: EtcdTls | undefined = certs
    ? {
        ca: readFileSync(certs.ca),
        cert: readFileSync(certs.clientCert),
        key: readFileSync(certs.clientKey),
      }
    : undefined;
  let stopped = false;
  const cluster: TestEtcdCluster = {
    dir,
    members,
    endpoints: members.map((m) => m.endpoint),
    certs,
    tls,
    pids: () => members.flatMap((m) => (m.proc?.pid !== undefined ? [m.proc.pid] : [])),
    kill: async (i) => {
      const p = members[i]!.proc;
      if (!p) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      process.kill(p.pid!, 'SIGKILL');
      await exited;
    },
    restart: (i) => {
      const m = members[i]!;
      if (m.proc) throw new Error(`etcd member ${m.name} is still running`);
      spawnMember(m);
    },
    prepareMember: async () => {
      const name = `e${members.length + 1}`;
      const m: TestEtcdMember = {
        name,
        endpoint: `${scheme}://127.0.0.1:${await freePort(taken)}`,
        peer: `http://127.0.0.1:${await freePort(taken)}`,
        dataDir: join(dir, name),
        logFile: join(dir, `${name}.log`),
        proc: undefined,
      };
      members.push(m);
      cluster.endpoints.push(m.endpoint);
      return m;
    },
    startJoining: (m, initialCluster) => {
      joins.set(m, initialCluster);
      spawnMember(m);
    },
    waitHealthy: async (ms = 30_000) => {
      const end = Date.now() + ms;
      const clients = members.map((m) =>
        openEtcdClient({ endpoints: [m.endpoint], ...(tls ? { tls } : {}), dialTimeoutMs: 1000 }),
      );
      try {
        for (;;) {
          const running = members.map((m, i) => ({ m, c: clients[i]! })).filter((x) => x.m.proc);
          const leaders = await Promise.all(
            running.map((x) =>
              x.c.maintenance.status({ deadline: Date.now() + 1000 }).then(
                (s) => s.leader,
                () => undefined,
              ),
            ),
          );
          if (
            leaders.length > 0 &&
            leaders.every((l) => l !== undefined && l !== '0' && l === leaders[0])
          )
            return;
          if (Date.now() > end) {
            throw new Error(
              `etcd cluster in ${dir} not healthy within ${ms} ms (leaders ${JSON.stringify(leaders)})`,
            );
          }
          await sleep(100);
        }
      } finally {
        for (const c of clients) c.close();
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const exits = members.flatMap((m) =>
        m.proc ? [new Promise<void>((r) => m.proc!.once('exit', () => r()))] : [],
      );
      for (const pid of spawned) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await Promise.race([Promise.all(exits), sleep(5000)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) spawnMember(m);
    await cluster.waitHealthy();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
