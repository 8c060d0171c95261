import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { ProcessState } from '../contract/view';
import { readLogTail } from '../node/logger';
import type { NodeId } from '../raft/types';
import type { NodeCommand } from './node-command';

export interface NodeProcessOptions {
  id: NodeId;
  clusterId: string;
  token: string;
  dataDir: string;
  command: NodeCommand;
  /** flags: the node's own command-line flags (--id, --peers, ...). */
  flags: string[];
  readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  expected: boolean;
  lastLines: string[];
}

/**
 * NodeProcess runs one node as a child process and tracks its state. The child gets an IPC
 * channel so it exits when the supervisor dies, even by SIGKILL. Events: 'state' (ProcessState),
 * 'exit' (ExitInfo), 'line' (a stderr line).
 */
export class NodeProcess extends EventEmitter {
  state: ProcessState = 'stopped';
  pid: number | null = null;
  exitCode: number | null = null;
  signal: string | null = null;
  restarts = 0;
  startedAt: number | null = null;
  lastLines: string[] = [];
  /** addresses reported by the node's ready line. */
  ready: { peer: string; client: string; admin: string } | undefined;
  private child: ChildProcess | undefined;
  /** intent: why we expect the process to exit (kill = a crash on purpose, stop = graceful). */
  private intent: 'kill' | 'stop' | undefined;
  private exitWaiters: (() => void)[] = [];
  private starts = 0;

  constructor(private readonly options: NodeProcessOptions) {
    super();
  }

  /** setFlags replaces the node's flags for the next start (they change with the membership). */
  setFlags(flags: string[]): void {
    this.options.flags = [...flags];
  }

  get commandLine(): string[] {
    return [this.options.command.exe, ...this.options.command.args, ...this.options.flags];
  }

  private setState(s: ProcessState): void {
    if (this.state !== s) {
      this.state = s;
      this.emit('state', s);
    }
  }

  /** start spawns the process and resolves when it reports ready (rejects with its last output if it exits first). */
  start(): Promise<void> {
    if (this.child)
      return Promise.reject(
        new Error(`node ${this.options.id} is already running (pid ${this.pid})`),
      );
    if (this.starts++ > 0) this.restarts++;
    this.intent = undefined;
    this.exitCode = null;
    this.signal = null;
    this.ready = undefined;
    this.setState('starting');
    const child = spawn(
      this.options.command.exe,
      [...this.options.command.args, ...this.options.flags],
      {
        env: {
          ...process.env,
          ...this.options.command.env,
          RAFTDECK_ADMIN_TOKEN: this.options.token,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    this.child = child;
    this.pid = child.pid ?? null;
    this.startedAt = Date.now();
    let out = '';
    let errBuf = '';
    child.stderr!.on('data', (d: Buffer) => {
      errBuf += d.toString();
      let nl: number;
      while ((nl = errBuf.indexOf('\n')) >= 0) {
        const line = errBuf.slice(0, nl);
        errBuf = errBuf.slice(nl + 1);
        this.pushLine(line);
      }
    });
    // The IPC channel only exists so the child notices our death; we never send on it.
    child.on('message', () => undefined);
    child.on('error', (e) => this.pushLine(`spawn error: ${e.message}`));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.pushLine('node did not report ready in time; killing it');
        child.kill('SIGKILL');
        reject(
          new Error(
            `node ${this.options.id} did not become ready within ${this.options.readyTimeoutMs ?? 20000} ms`,
          ),
        );
      }, this.options.readyTimeoutMs ?? 20000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        let nl: number;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl);
          out = out.slice(nl + 1);
          try {
            const j = JSON.parse(line) as {
              event?: string;
              peer: string;
              client: string;
              admin: string;
            };
            if (j.event === 'ready' && !settled) {
              settled = true;
              clearTimeout(timer);
              this.ready = { peer: j.peer, client: j.client, admin: j.admin };
              this.setState('running');
              resolve();
            }
          } catch {
            this.pushLine(line);
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.child = undefined;
        this.exitCode = code;
        this.signal = signal;
        const expected = this.intent !== undefined;
        if (code !== 0) this.appendLogTail();
        // A kill is a crash on purpose; a stop is graceful; an exit we did not ask for is a crash
        // unless the node exited cleanly by itself (it was removed from the cluster).
        if (this.intent === 'kill') this.setState('crashed');
        else if (this.intent === 'stop') this.setState('stopped');
        else this.setState(code === 0 ? 'exited' : 'crashed');
        const info: ExitInfo = { code, signal, expected, lastLines: this.lastLines.slice(-20) };
        this.emit('exit', info);
        for (const w of this.exitWaiters.splice(0)) w();
        if (!settled) {
          settled = true;
          reject(
            new Error(
              `node ${this.options.id} exited (${signal ?? `code ${code}`}) before it was ready: ${this.lastLines.slice(-5).join(' | ')}`,
            ),
          );
        }
      });
    });
  }

  private pushLine(line: string): void {
    if (!line.trim()) return;
    this.lastLines.push(line);
    if (this.lastLines.length > 50) this.lastLines.splice(0, this.lastLines.length - 50);
    this.emit('line', line);
  }

  /** appendLogTail adds the last lines of the node's own log file (it holds the reason for most exits). */
  private appendLogTail(): void {
    try {
      // node.log may have just been rotated: readLogTail reads on into node.log.1 and older.
      for (const l of readLogTail(join(this.options.dataDir, 'node.log'), 10)) this.pushLine(l);
    } catch {
      // the log is best effort
    }
  }

  private waitExit(): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** kill is a crash on purpose: SIGKILL, no chance to clean up. */
  async kill(): Promise<void> {
    if (!this.child || this.pid === null) return;
    this.intent = 'kill';
    process.kill(this.pid, 'SIGKILL');
    await this.waitExit();
  }

  /** stop asks the node to shut down (SIGTERM) and kills it if it has not exited after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.child || this.pid === null) return;
    this.intent = 'stop';
    const pid = this.pid;
    if (this.state === 'paused') process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGTERM');
    const t = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    await this.waitExit();
    clearTimeout(t);
  }

  /** pause freezes the process (SIGSTOP); resume thaws it (SIGCONT). */
  pause(): void {
    if (!this.child || this.pid === null || this.state !== 'running') {
      throw new Error(`node ${this.options.id} is not running`);
    }
    process.kill(this.pid, 'SIGSTOP');
    this.setState('paused');
  }

  resume(): void {
    if (!this.child || this.pid === null || this.state !== 'paused') {
      throw new Error(`node ${this.options.id} is not paused`);
    }
    process.kill(this.pid, 'SIGCONT');
    this.setState('running');
  }

  get running(): boolean {
    return this.child !== undefined;
  }
}
