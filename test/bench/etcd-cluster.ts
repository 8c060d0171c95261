/**
 * etcd-cluster runs an etcd cluster (3 members unless asked for more) on 127.0.0.1 for the
 * benchmark: each member is an `etcd` process with its own temp data dir and ports below 32768,
 * the given heartbeat and election timeouts, and etcd's default fsync behaviour. It is reached through the npm `etcd3`
 * client. Members can be killed (SIGKILL) and started again on the same data dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3, type IOptions } from 'etcd3';
import { freePort } from '../../main/cluster/manifest';
import { onTeardown, trackPids } from './teardown';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const noEvent = (): { dispose(): void } => ({ dispose: () => undefined });

/**
 * passThrough is a fault-handling policy that runs the call once: no retries, no circuit breaker.
 * The benchmark does its own retries, so that a failed host is never blocked for seconds.
 */
const never = new AbortController().signal;
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: never })),
  onSuccess: noEvent,
  onFailure: noEvent,
} as unknown as Policy;

/** etcdClient opens an etcd3 client on `hosts` without the library's retry and breaker policies. */
export function etcdClient(hosts: string[]): Etcd3 {
  return new Etcd3({
    hosts: hosts.map((h) => `http://${h}`),
    dialTimeout: 1000,
    faultHandling: { host: () => passThrough, global: passThrough },
  });
}

/** etcdVersion returns the version of the etcd binary on PATH, or undefined if there is none. */
export function etcdVersion(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return /etcd Version:\s*(\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

interface Member {
  name: string;
  dir: string;
  client: string;
  peer: string;
  proc: ChildProcess | undefined;
  /** id: the member id etcd reports (decimal), learned from its status. */
  id: string;
  /** status: a client on this member only, for status calls. */
  status: Etcd3;
}

export interface EtcdStatus {
  name: string;
  id: string;
  leader: string;
  raftIndex: number;
  appliedIndex: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class EtcdCluster {
  readonly members: Member[] = [];
  private readonly args: Map<string, string[]> = new Map();

  constructor(
    readonly dir: string,
    readonly timing: { heartbeatMs: number; electionMs: number },
  ) {}

  /** start picks ports, starts `size` members and waits until they agree on a leader. */
  async start(size = 3): Promise<void> {
    const taken = new Set<number>();
    const token = `bench-${process.pid}-${Date.now()}`;
    for (let i = 1; i <= size; i++) {
      const client = `127.0.0.1:${await freePort(taken)}`;
      const peer = `127.0.0.1:${await freePort(taken)}`;
      this.members.push({
        name: `e${i}`,
        dir: join(this.dir, `e${i}`),
        client,
        peer,
        proc: undefined,
        id: '',
        status: etcdClient([client]),
      });
    }
    const initial = this.members.map((m) => `${m.name}=http://${m.peer}`).join(',');
    for (const m of this.members) {
      this.args.set(m.name, [
        '--name',
        m.name,
        '--data-dir',
        m.dir,
        '--listen-client-urls',
        `http://${m.client}`,
        '--advertise-client-urls',
        `http://${m.client}`,
        '--listen-peer-urls',
        `http://${m.peer}`,
        '--initial-advertise-peer-urls',
        `http://${m.peer}`,
        '--initial-cluster',
        initial,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        token,
        '--heartbeat-interval',
        String(this.timing.heartbeatMs),
        '--election-timeout',
        String(this.timing.electionMs),
        '--logger',
        'zap',
        '--log-outputs',
        'stderr',
        '--log-level',
        'warn',
      ]);
    }
    for (const m of this.members) this.spawn(m);
    await this.waitHealthy(30_000);
    for (const m of this.members) m.id = (await m.status.maintenance.status()).header.member_id;
  }

  private spawn(m: Member): void {
    mkdirSync(this.dir, { recursive: true });
    const log = openSync(join(this.dir, `${m.name}.log`), 'a');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')),
    );
    const proc = spawn('etcd', this.args.get(m.name)!, { stdio: ['ignore', log, log], env });
    closeSync(log);
    m.proc = proc;
    proc.once('exit', () => {
      if (m.proc === proc) m.proc = undefined;
    });
  }

  pids(): number[] {
    return this.members.flatMap((m) => (m.proc?.pid ? [m.proc.pid] : []));
  }

  clientAddresses(): string[] {
    return this.members.map((m) => m.client);
  }

  /** statusOf asks one member for its status (undefined if it does not answer within ms). */
  async statusOf(m: Member, ms = 500): Promise<EtcdStatus | undefined> {
    try {
      const s = await m.status.maintenance.status({ deadline: Date.now() + ms });
      return {
        name: m.name,
        id: s.header.member_id,
        leader: s.leader,
        raftIndex: Number(s.raftIndex),
        appliedIndex: Number(s.raftAppliedIndex),
      };
    } catch {
      return undefined;
    }
  }

  /** leader returns the member every running member names as leader, if they agree. */
  async leader(): Promise<Member | undefined> {
    const running = this.members.filter((m) => m.proc);
    const st = await Promise.all(running.map((m) => this.statusOf(m)));
    const leaders = new Set(st.map((s) => s?.leader ?? '0'));
    if (leaders.size !== 1) return undefined;
    const id = [...leaders][0]!;
    if (id === '0') return undefined;
    return this.members.find((m) => m.id === id);
  }

  /**
   * waitHealthy waits until every member runs, answers, names the same leader, and has applied
   * what the most advanced member has committed (give or take a few entries).
   */
  async waitHealthy(ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      if (this.members.every((m) => m.proc)) {
        const st = await Promise.all(this.members.map((m) => this.statusOf(m)));
        if (st.every((s) => s !== undefined)) {
          const ok = st as EtcdStatus[];
          const leader = ok[0]!.leader;
          const top = Math.max(...ok.map((s) => s.raftIndex));
          if (
            leader !== '0' &&
            ok.every((s) => s.leader === leader) &&
            ok.every((s) => s.appliedIndex >= top - 5)
          )
            return;
        }
      }
      if (Date.now() > end) throw new Error(`etcd cluster not healthy within ${ms / 1000} s`);
      await sleep(50);
    }
  }

  /** kill is a crash on purpose: SIGKILL, then wait for the exit. */
  async kill(m: Member): Promise<void> {
    const p = m.proc;
    if (!p) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  }

  /** restart starts a killed member again on its data dir. */
  restart(m: Member): void {
    if (m.proc) throw new Error(`etcd member ${m.name} is still running`);
    this.spawn(m);
  }

  /** stop stops every member (SIGTERM, then SIGKILL after 5 s) and closes the status clients. */
  async stop(): Promise<void> {
    for (const m of this.members) m.status.close();
    await Promise.all(
      this.members.map(async (m) => {
        const p = m.proc;
        if (!p) return;
        const exited = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }),
    );
  }
}

/** startEtcd starts an etcd cluster of `members` in root/name, registered for teardown. */
export async function startEtcd(
  root: string,
  name: string,
  timing: { heartbeatMs: number; electionMs: number },
  members = 3,
): Promise<{ etcd: EtcdCluster; stop(): Promise<void> }> {
  const dir = join(root, name);
  const etcd = new EtcdCluster(dir, timing);
  const untrack = trackPids(() => etcd.pids());
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await etcd.stop();
    untrack();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onTeardown(`etcd cluster ${name}`, stop);
  await etcd.start(members);
  return {
    etcd,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}
