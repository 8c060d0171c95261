/**
 * etcd-process runs one etcd member as a child process and tracks its state, in the shape of
 * raftdeck's own NodeProcess so an engine fills NodeView['process'] from either.
 *
 * The member listens on 127.0.0.1 only: clients on `clientPort`, peers on `peerPort` (its real
 * peer listener), and advertises `advertisedPeerUrl` (a peer proxy, main/cluster/etcd/peer-proxy.ts)
 * to the others. It logs zap JSON lines to stderr; every line is appended to `logFile` and every
 * JSON line is handed to the onLine listeners, in the order etcd wrote them.
 *
 * The process never outlives raftdeck: it is started through `setpriv --pdeathsig SIGKILL`, which
 * asks the kernel to SIGKILL it when the thread that spawned it dies, even by SIGKILL, and then
 * execs etcd (so `pid` is etcd's own). Start members from the main thread: the signal follows the
 * thread, and a worker thread that ends would take its members with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
  rmSync,
} from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import type { ProcessState } from '../../contract/view';
import type { EtcdBinary } from './etcd-binary';
import { onPath } from './etcd-binary';

/** EtcdProcessSpec: how one member is started. Ports and URLs are on 127.0.0.1. */
export interface EtcdProcessSpec {
  /** name: the member's etcd name (e.g. 'n1'), also its key in initialCluster. */
  name: string;
  dataDir: string;
  clientPort: number;
  /** peerPort: the member's real peer listener (its proxy forwards to it). */
  peerPort: number;
  /** advertisedPeerUrl: the URL the others reach it by (its proxy's, http://127.0.0.1:PORT). */
  advertisedPeerUrl: string;
  /** initialCluster: 'n1=http://127.0.0.1:P1,...' with every member's advertised URL. */
  initialCluster: string;
  state: 'new' | 'existing';
  clusterToken: string;
  heartbeatMs: number;
  electionMs: number;
  /**
   * preVote: run PreVote (etcd's --pre-vote; off by default on 3.4, on by default on 3.5); when
   * absent the flag is not passed and the version's default holds.
   */
  preVote?: boolean;
  /** snapshotCount: applied entries between snapshots (etcd's default when absent). */
  snapshotCount?: number;
  /**
   * logFile: every line the member writes to stderr is appended here. Past maxLogBytes it is
   * renamed to `logFile`.1 (replacing the previous one) and a new file begins.
   */
  logFile: string;
  /** maxLogBytes: the size at which logFile is rotated (default 16 MiB). */
  maxLogBytes?: number;
  binary: EtcdBinary;
  /**
   * socketDir: listen for clients and peers on Unix sockets in this folder instead of TCP
   * (`localhost:CLIENTPORT` and `localhost:PEERPORT`, etcd's names for them, in a folder only the
   * user can enter): no other local user can reach the member then. Its peers still reach it
   * through its proxy (advertisedPeerUrl), which forwards to the socket.
   */
  socketDir?: string;
  /** readyTimeoutMs: how long start() waits for the client port to answer (default 30 s). */
  readyTimeoutMs?: number;
}

/** EtcdExitInfo: how a member's process ended. */
export interface EtcdExitInfo {
  code: number | null;
  signal: string | null;
  /** expected: raftdeck asked for it (kill or stop). */
  expected: boolean;
  lastLines: string[];
}

/** LAST_LINES: how many of the member's last stderr lines are kept. */
export const LAST_LINES = 20;

/** etcdFlags: the command-line flags a member is started with. */
export function etcdFlags(spec: EtcdProcessSpec): string[] {
  const client = spec.socketDir
    ? `unix://localhost:${spec.clientPort}`
    : `http://127.0.0.1:${spec.clientPort}`;
  const peer = spec.socketDir
    ? `unix://localhost:${spec.peerPort}`
    : `http://127.0.0.1:${spec.peerPort}`;
  const flags = [
    `--name=${spec.name}`,
    `--data-dir=${spec.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${spec.advertisedPeerUrl}`,
    `--initial-cluster=${spec.initialCluster}`,
    `--initial-cluster-state=${spec.state}`,
    `--initial-cluster-token=${spec.clusterToken}`,
    `--heartbeat-interval=${spec.heartbeatMs}`,
    `--election-timeout=${spec.electionMs}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (spec.preVote !== undefined) flags.push(`--pre-vote=${spec.preVote}`);
  if (spec.snapshotCount !== undefined) flags.push(`--snapshot-count=${spec.snapshotCount}`);
  return flags;
}

/**
 * EtcdProcess is one etcd member process. State moves starting → running (the client port
 * answered) ⇄ paused, and ends in stopped (stop()), crashed (kill(), or an exit raftdeck did not
 * ask for with a non-zero code or a signal) or exited (exit code 0 on its own). start() may be
 * called again after the end; `restarts` counts the starts after the first.
 */
export class EtcdProcess {
  state: ProcessState = 'stopped';
  pid: number | null = null;
  exitCode: number | null = null;
  signal: string | null = null;
  restarts = 0;
  startedAt: number | null = null;
  /** lastLines: the member's last LAST_LINES stderr lines (raw text). */
  lastLines: string[] = [];
  private child: ChildProcess | undefined;
  private intent: 'kill' | 'stop' | undefined;
  private starts = 0;
  private exitWaiters: (() => void)[] = [];
  private readonly lineListeners = new Set<(record: Record<string, unknown>) => void>();
  private readonly exitListeners = new Set<(info: EtcdExitInfo) => void>();
  private readonly stateListeners = new Set<(state: ProcessState) => void>();

  constructor(readonly spec: EtcdProcessSpec) {}

  /** commandLine: the program and arguments the member runs (etcd's, without setpriv). */
  get commandLine(): string[] {
    return [this.spec.binary.path, ...etcdFlags(this.spec)];
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** onLine calls `cb` with every JSON line the member logs, in order; returns an unsubscribe. */
  onLine(cb: (record: Record<string, unknown>) => void): () => void {
    this.lineListeners.add(cb);
    return () => this.lineListeners.delete(cb);
  }

  /** onExit calls `cb` each time the member's process ends; returns an unsubscribe. */
  onExit(cb: (info: EtcdExitInfo) => void): () => void {
    this.exitListeners.add(cb);
    return () => this.exitListeners.delete(cb);
  }

  /** onState calls `cb` on every change of `state`; returns an unsubscribe. */
  onState(cb: (state: ProcessState) => void): () => void {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }

  private setState(s: ProcessState): void {
    if (this.state === s) return;
    this.state = s;
    for (const cb of this.stateListeners) guard(() => cb(s));
  }

  /**
   * start spawns the member and resolves when its client port answers GET /health (any HTTP
   * answer: etcd serves clients only once it has joined the cluster). It rejects with the last
   * stderr lines if the process exits first. If it does not answer within readyTimeoutMs, start
   * rejects but the member keeps running and is still watched: a member that cannot reach a
   * quorum (say, restarted inside a partition) becomes 'running' when it answers later.
   */
  start(): Promise<void> {
    if (this.child) {
      return Promise.reject(
        new Error(`etcd member ${this.spec.name} is already running (pid ${this.pid})`),
      );
    }
    const setpriv = onPath('setpriv') ?? onPath('setpriv', '/usr/bin:/bin');
    if (setpriv === undefined) {
      return Promise.reject(
        new Error(
          `setpriv was not found (util-linux); it makes etcd member ${this.spec.name} die with raftdeck`,
        ),
      );
    }
    mkdirSync(this.spec.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(this.spec.dataDir, 0o700);
    if (this.spec.socketDir) {
      // etcd 3.4 does not take over the socket files a killed member left: remove them first
      // (the member is not running, and nobody else can make files in the folder).
      for (const port of [this.spec.clientPort, this.spec.peerPort])
        rmSync(join(this.spec.socketDir, `localhost:${port}`), { force: true });
    }
    mkdirSync(dirname(this.spec.logFile), { recursive: true, mode: 0o700 });
    const log = new LogFile(this.spec.logFile, this.spec.maxLogBytes ?? 16 << 20);
    if (this.starts++ > 0) this.restarts++;
    this.intent = undefined;
    this.exitCode = null;
    this.signal = null;
    this.setState('starting');
    // ETCD_* variables in our environment would override the flags; the member gets none.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')),
    );
    const child = spawn(setpriv, ['--pdeathsig', 'SIGKILL', '--', ...this.commandLine], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      // etcd makes its Unix sockets (`unix://localhost:PORT`) in its working folder
      ...(this.spec.socketDir ? { cwd: this.spec.socketDir } : {}),
    });
    this.child = child;
    this.pid = child.pid ?? null;
    this.startedAt = Date.now();
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        guard(() => log.write(`${line}\n`));
        this.takeLine(line);
      }
      // A line longer than 1 MiB without a newline is not etcd's; keep the tail only.
      if (buf.length > 1 << 20) buf = buf.slice(-4096);
    });
    child.on('error', (e) => this.pushLine(`spawn error: ${e.message}`));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.spec.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(
          new Error(
            `etcd member ${this.spec.name} did not answer on 127.0.0.1:${this.spec.clientPort} within ${timeoutMs} ms: ${this.lastLines.slice(-5).join(' | ')}`,
          ),
        );
      }, timeoutMs);
      const poll = (): void => {
        if (this.child !== child) return;
        probeHealth(
          this.spec.socketDir
            ? { socketPath: join(this.spec.socketDir, `localhost:${this.spec.clientPort}`) }
            : this.spec.clientPort,
          1000,
        ).then(
          (answered) => {
            if (this.child !== child) return;
            if (answered) {
              if (this.state === 'starting') this.setState('running');
              if (!settled) {
                settled = true;
                clearTimeout(timer);
                resolve();
              }
            } else setTimeout(poll, 100);
          },
          () => setTimeout(poll, 100),
        );
      };
      setTimeout(poll, 50);
      // 'close', not 'exit': it comes after the last stderr line has been read.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (buf.trim()) {
          guard(() => log.write(`${buf}\n`));
          this.takeLine(buf);
        }
        buf = '';
        guard(() => log.close());
        this.child = undefined;
        this.exitCode = code;
        this.signal = signal;
        const expected = this.intent !== undefined;
        if (this.intent === 'kill') this.setState('crashed');
        else if (this.intent === 'stop') this.setState('stopped');
        else this.setState(code === 0 ? 'exited' : 'crashed');
        const info: EtcdExitInfo = { code, signal, expected, lastLines: [...this.lastLines] };
        for (const cb of this.exitListeners) guard(() => cb(info));
        for (const w of this.exitWaiters.splice(0)) w();
        if (!settled) {
          settled = true;
          reject(
            new Error(
              `etcd member ${this.spec.name} exited (${signal ?? `code ${code}`}) before it answered on 127.0.0.1:${this.spec.clientPort}: ${this.lastLines.slice(-5).join(' | ')}`,
            ),
          );
        }
      });
    });
  }

  private takeLine(line: string): void {
    if (!line.trim()) return;
    this.pushLine(line);
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return;
    for (const cb of this.lineListeners) guard(() => cb(record as Record<string, unknown>));
  }

  private pushLine(line: string): void {
    this.lastLines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lastLines.length > LAST_LINES)
      this.lastLines.splice(0, this.lastLines.length - LAST_LINES);
  }

  private waitExit(): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** kill is a crash on purpose: SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.child || this.pid === null) return;
    this.intent = 'kill';
    signalPid(this.pid, 'SIGKILL');
    await this.waitExit();
  }

  /** stop asks the member to shut down (SIGTERM) and SIGKILLs it if it is still there after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.child || this.pid === null) return;
    this.intent = 'stop';
    const pid = this.pid;
    if (this.state === 'paused') signalPid(pid, 'SIGCONT');
    signalPid(pid, 'SIGTERM');
    const t = setTimeout(() => signalPid(pid, 'SIGKILL'), graceMs);
    await this.waitExit();
    clearTimeout(t);
  }

  /** pause freezes the member (SIGSTOP). Throws unless it is running. */
  pause(): void {
    if (!this.child || this.pid === null || this.state !== 'running') {
      throw new Error(`etcd member ${this.spec.name} is not running (${this.state})`);
    }
    process.kill(this.pid, 'SIGSTOP');
    this.setState('paused');
  }

  /** resume thaws a paused member (SIGCONT). Throws unless it is paused. */
  resume(): void {
    if (!this.child || this.pid === null || this.state !== 'paused') {
      throw new Error(`etcd member ${this.spec.name} is not paused (${this.state})`);
    }
    process.kill(this.pid, 'SIGCONT');
    this.setState('running');
  }
}

/** LogFile appends to a file and rotates it to FILE.1 past maxBytes. */
class LogFile {
  private fd: number;
  private size: number;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** write appends whole lines, so that a rotation never splits one. */
  write(d: string): void {
    const bytes = Buffer.byteLength(d);
    if (this.size > 0 && this.size + bytes > this.maxBytes) {
      closeSync(this.fd);
      try {
        renameSync(this.path, `${this.path}.1`);
      } finally {
        this.fd = openSync(this.path, 'a', 0o600);
        this.size = fstatSync(this.fd).size;
      }
    }
    writeSync(this.fd, d);
    this.size += bytes;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * probeHealth: whether 127.0.0.1:port (or the Unix socket) answers GET /health with any HTTP
 * response within ms.
 */
export function probeHealth(at: number | { socketPath: string }, ms: number): Promise<boolean> {
  const where = typeof at === 'number' ? { host: '127.0.0.1', port: at } : at;
  return new Promise((resolve) => {
    const req = request(
      { ...where, path: '/health', method: 'GET', timeout: ms, agent: false },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function guard(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // a listener or the log file must not break the process watcher
  }
}
