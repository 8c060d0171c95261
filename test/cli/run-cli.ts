/**
 * run-cli runs `bin/raftdeck.mjs` as a child process, as a user would, and keeps track of every
 * process it started (the CLI processes and the node pids they report) so tests can kill them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/raftdeck.mjs', import.meta.url));

/** CliResult is how one command line ended. */
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** started: every child process started by these helpers that may still be running. */
const children = new Set<ChildProcess>();
/** nodePids: node processes reported by the CLI (killed at the end, in case). */
export const nodePids = new Set<number>();

/** runCli runs one command line to its end (or kills it after timeoutMs). */
export function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** StartedNode is a node as the started line of `raftdeck start --json` lists it. */
export interface StartedNode {
  id: number;
  pid: number;
  client: string;
  admin: string;
  peer: string;
}

/** RunningStart is a `raftdeck start --json` in the background. */
export interface RunningStart {
  child: ChildProcess;
  started: { clusterId: string; nodes: StartedNode[] };
  /** lines: every JSON line it printed so far. */
  lines: Record<string, unknown>[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** startCluster runs `raftdeck start --json` and resolves once it printed its started line. */
export function startCluster(args: string[], timeoutMs = 30_000): Promise<RunningStart> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: Record<string, unknown>[] = [];
  let err = '';
  let buf = '';
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`raftdeck start printed no started line in time: ${err}`));
    }, timeoutMs);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`raftdeck start exited with ${code} before starting: ${err}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const o = JSON.parse(line) as Record<string, unknown>;
        lines.push(o);
        const nodes = (o.nodes ?? []) as { pid: number | null }[];
        for (const n of nodes) if (typeof n.pid === 'number') nodePids.add(n.pid);
        if (o.event === 'started') {
          clearTimeout(timer);
          resolve({
            child,
            started: o as unknown as RunningStart['started'],
            lines,
            stderr: () => err,
            exited,
          });
        }
      }
    });
  });
}

/** alive reports whether a process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** killAll kills (SIGKILL) every process these helpers started or learned of, by pid. */
export function killAll(): void {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  children.clear();
  for (const pid of nodePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  nodePids.clear();
}
