/**
 * proxy-harness starts real etcd members for the tests, each behind its peer proxy, in a temporary
 * folder, with short timings (heartbeat 50 ms, election 500 ms), and tears them down: every
 * member is stopped, every pid ever seen is killed by id, the proxies close and the folder goes,
 * even when a test fails. It also speaks etcd's JSON gateway (/v3/...) for status and writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEtcd } from '../../../main/cluster/etcd/etcd-binary';
import { decimalToHex } from '../../../main/cluster/etcd/etcd-log';
import { EtcdProcess } from '../../../main/cluster/etcd/etcd-process';
import { PeerNetwork } from '../../../main/cluster/etcd/peer-proxy';
import { freePort } from '../../../main/cluster/manifest';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface TestMember {
  id: number;
  proc: EtcdProcess;
  clientPort: number;
  /** hex: the member id etcd gave it (learnt from its status once it runs). */
  hex: string;
}

export interface TestEtcd {
  dir: string;
  name: string;
  net: PeerNetwork;
  /** initialCluster: name=URL of every member started so far. */
  initialCluster: string[];
  options: EtcdOptions;
  members: Map<number, TestMember>;
  pids: Set<number>;
  teardown(): Promise<void>;
}

export interface EtcdOptions {
  snapshotCount?: number;
  maxLogBytes?: number;
}

/** startEtcd starts `n` members n1..nN through a PeerNetwork and waits for all to answer. */
export async function startEtcd(name: string, n = 3, options: EtcdOptions = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), `raftdeck-${name}-`));
  const binary = findEtcd();
  const net = new PeerNetwork();
  const members = new Map<number, TestMember>();
  const pids = new Set<number>();
  const initial: string[] = [];
  const teardown = async (): Promise<void> => {
    for (const m of members.values()) if (m.proc.pid !== null) pids.add(m.proc.pid);
    await Promise.all([...members.values()].map((m) => m.proc.stop(2000).catch(() => undefined)));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const spec: { id: number; client: number; peer: number; proxy: string }[] = [];
    for (let id = 1; id <= n; id++) {
      const client = await freePort(taken);
      const peer = await freePort(taken);
      const proxy = await net.addMember(id, `127.0.0.1:${peer}`);
      spec.push({ id, client, peer, proxy });
    }
    initial.push(...spec.map((s) => `n${s.id}=http://${s.proxy}`));
    const initialCluster = initial.join(',');
    for (const s of spec) {
      const proc = new EtcdProcess({
        name: `n${s.id}`,
        dataDir: join(dir, `n${s.id}`),
        clientPort: s.client,
        peerPort: s.peer,
        advertisedPeerUrl: `http://${s.proxy}`,
        initialCluster,
        state: 'new',
        clusterToken: name,
        heartbeatMs: 50,
        electionMs: 500,
        snapshotCount: options.snapshotCount,
        maxLogBytes: options.maxLogBytes,
        logFile: join(dir, `n${s.id}.log`),
        binary,
      });
      members.set(s.id, { id: s.id, proc, clientPort: s.client, hex: '' });
    }
    const starts = [...members.values()].map((m) => m.proc.start());
    for (const m of members.values()) if (m.proc.pid !== null) pids.add(m.proc.pid);
    await Promise.all(starts);
    for (const m of members.values()) m.hex = (await status(m, 3000))!.memberHex;
  } catch (e) {
    await teardown();
    throw e;
  }
  return { dir, name, net, initialCluster: initial, options, members, pids, teardown };
}

/**
 * addLearner adds member `id` as a learner through `via` (etcd's member add), starts it with
 * --initial-cluster-state existing behind a new proxy, and returns it once it answers.
 */
export async function addLearner(c: TestEtcd, id: number, via: TestMember): Promise<TestMember> {
  const taken = new Set([...c.members.values()].map((m) => m.clientPort));
  const client = await freePort(taken);
  const peer = await freePort(taken);
  const proxy = await c.net.addMember(id, `127.0.0.1:${peer}`);
  const added = (await gateway(
    via,
    '/v3/cluster/member/add',
    { peerURLs: [`http://${proxy}`], isLearner: true },
    5000,
  )) as { member: { ID: string } };
  c.initialCluster.push(`n${id}=http://${proxy}`);
  const proc = new EtcdProcess({
    name: `n${id}`,
    dataDir: join(c.dir, `n${id}`),
    clientPort: client,
    peerPort: peer,
    advertisedPeerUrl: `http://${proxy}`,
    initialCluster: c.initialCluster.join(','),
    state: 'existing',
    clusterToken: c.name,
    heartbeatMs: 50,
    electionMs: 500,
    snapshotCount: c.options.snapshotCount,
    logFile: join(c.dir, `n${id}.log`),
    binary: via.proc.spec.binary,
  });
  // Its id is known from the answer to member add, before it runs.
  const m: TestMember = { id, proc, clientPort: client, hex: decimalToHex(added.member.ID) ?? '' };
  c.members.set(id, m);
  const started = proc.start();
  if (proc.pid !== null) c.pids.add(proc.pid);
  await started;
  return m;
}

async function gateway(m: TestMember, path: string, body: unknown, ms: number): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${m.clientPort}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  });
  const json = (await r.json()) as Record<string, unknown>;
  if (!r.ok || json.error !== undefined) throw new Error(`${path}: ${JSON.stringify(json)}`);
  return json;
}

export interface MemberStatus {
  memberHex: string;
  /** leaderHex: the leader it knows, '' for none. */
  leaderHex: string;
  term: number;
}

/** status asks one member for its own status (undefined if it does not answer within ms). */
export async function status(m: TestMember, ms = 500): Promise<MemberStatus | undefined> {
  try {
    const s = (await gateway(m, '/v3/maintenance/status', {}, ms)) as {
      header: { member_id: string; raft_term: string };
      leader?: string;
    };
    return {
      memberHex: decimalToHex(s.header.member_id) ?? '',
      leaderHex: s.leader && s.leader !== '0' ? (decimalToHex(s.leader) ?? '') : '',
      term: Number(s.header.raft_term),
    };
  } catch {
    return undefined;
  }
}

/** put writes key = value through member m's gateway; rejects on an error or after ms. */
export async function put(m: TestMember, key: string, value: string, ms = 3000): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await gateway(m, '/v3/kv/put', { key: b64(key), value: b64(value) }, ms);
}

/** leaderOf: the member the given members all name as leader, if they agree on one of them. */
export async function leaderOf(c: TestEtcd, ids: number[]): Promise<TestMember | undefined> {
  const st = await Promise.all(ids.map((id) => status(c.members.get(id)!)));
  if (st.some((s) => s === undefined)) return undefined;
  const leaders = new Set(st.map((s) => s!.leaderHex));
  if (leaders.size !== 1) return undefined;
  const hex = [...leaders][0]!;
  return [...c.members.values()].find((m) => m.hex === hex && ids.includes(m.id));
}

/** waitFor polls `fn` until it returns a value (not undefined/false) or ms pass. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}
