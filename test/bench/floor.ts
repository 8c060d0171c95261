/**
 * floor runs the floor system and measures the machine's floors, the physical limits raftdeck is
 * compared with in the same run (docs/benchmarks.md, "What is measured"):
 * - startFloor: N floor-node processes on 127.0.0.1 (member 1 the leader, the others followers),
 *   each with its own folder, doing only the unavoidable work of a replicated put (floor-node.ts).
 * - diskFloorMBps: sequential write + fdatasync MB/s of a folder's file system, written as a
 *   snapshot install writes its file.
 * - loopbackFloorMBps: TCP MB/s between two processes over 127.0.0.1.
 * The processes run under plain `node` from a bundle built with esbuild (buildFloorBundle), so no
 * TypeScript loader counts in their CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  write,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FLOOR_TIMELINE, type FloorNodeConfig, type FloorStamp } from './floor-node';
import { bundle } from './node-bundle';
import { onTeardown, trackPids } from './teardown';

/** FloorCommand: how floor processes are started (node and the bundle's path). */
export interface FloorCommand {
  exe: string;
  script: string;
}

/** buildFloorBundle bundles floor-node.ts into dir/floor-node.mjs for plain node. */
export async function buildFloorBundle(dir: string): Promise<FloorCommand> {
  const outfile = join(dir, 'floor-node.mjs');
  await bundle('./floor-node.ts', outfile);
  return { exe: process.execPath, script: outfile };
}

/** FloorProcess is one running floor-node process. */
export interface FloorProcess {
  proc: ChildProcess;
  /** info: what its ready line said (the port it listens on, or the source's time). */
  info: { port?: number; ms?: number };
  /** exited: resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
}

/**
 * spawnFloor starts one floor-node process and resolves once it prints its ready line; it rejects
 * (and the process is killed) if it exits first or is not ready within `ms`.
 */
export function spawnFloor(
  cmd: FloorCommand,
  config: FloorNodeConfig,
  ms = 10_000,
): Promise<FloorProcess> {
  const proc = spawn(cmd.exe, [cmd.script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`floor ${config.role} (pid ${proc.pid}) not ready within ${ms} ms`));
    }, ms);
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('floor-ready ')) return;
      clearTimeout(timer);
      resolve({ proc, info: JSON.parse(line.slice(12)) as FloorProcess['info'], exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`floor ${config.role} (pid ${proc.pid}) exited with ${code}: ${stderr.trim()}`),
      );
    });
  });
}

/** stopProcess stops a process by its pid: SIGTERM, SIGKILL after `ms`; resolves once it exited. */
async function stopProcess(p: FloorProcess, ms = 3000): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const t = setTimeout(() => p.proc.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(t);
}

export interface FloorCluster {
  members: number;
  /** client: "host:port" of the leader's client port. */
  client: string;
  /** dirs: each member's folder, the leader's first. */
  dirs: string[];
  /** procs: each member's process, the leader's first. */
  procs: FloorProcess[];
  pids(): number[];
  /** stop stops every member by pid and removes the cluster folder. */
  stop(): Promise<void>;
}

/**
 * startFloor starts a floor cluster of `members` processes in root/name: the followers first
 * (members 2..N), then the leader (member 1), which connects to them and then serves clients.
 * Every process is registered for teardown as soon as it exists.
 */
export async function startFloor(
  ctx: { root: string; floorCommand: FloorCommand },
  name: string,
  members = 3,
  opts: { timeline?: number } = {},
): Promise<FloorCluster> {
  if (!Number.isSafeInteger(members) || members < 1)
    throw new RangeError(`a floor cluster needs at least 1 member, got ${members}`);
  const dir = join(ctx.root, name);
  const dirs = Array.from({ length: members }, (_, i) => join(dir, `f${i + 1}`));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  // procs[i] is member i + 1's process (dirs[i]); a slot is empty until that process is ready.
  const procs: FloorProcess[] = [];
  const pids = (): number[] =>
    procs.flatMap((p) =>
      p.proc.pid !== undefined && p.proc.exitCode === null && p.proc.signalCode === null
        ? [p.proc.pid]
        : [],
    );
  const untrack = trackPids(pids);
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => stopProcess(p)));
    untrack();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onTeardown(`floor cluster ${name}`, stopAll);
  const track = async (i: number, p: Promise<FloorProcess>): Promise<FloorProcess> => {
    const fp = await p;
    procs[i] = fp;
    return fp;
  };
  try {
    // Every follower's start settles (ready or failed) before a failure is passed on, so that
    // none is still starting, and so untracked, when stopAll runs.
    const started = await Promise.allSettled(
      dirs
        .slice(1)
        .map((d, i) =>
          track(
            i + 1,
            spawnFloor(ctx.floorCommand, { role: 'follower', dir: d, timeline: opts.timeline }),
          ),
        ),
    );
    const followers = started.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const leader = await track(
      0,
      spawnFloor(ctx.floorCommand, {
        role: 'leader',
        dir: dirs[0]!,
        followers: followers.map((f) => f.info.port!),
        members,
        timeline: opts.timeline,
      }),
    );
    return {
      members,
      client: `127.0.0.1:${leader.info.port}`,
      dirs,
      procs,
      pids,
      stop: async () => {
        unregister();
        await stopAll();
      },
    };
  } catch (e) {
    unregister();
    await stopAll();
    throw e;
  }
}

/**
 * readFloorTimelines asks every member of a cluster started with a timeline for its stamps
 * (SIGUSR2: each writes FLOOR_TIMELINE in its folder) and reads them, the leader's first.
 */
export async function readFloorTimelines(c: FloorCluster, ms = 10_000): Promise<FloorStamp[][]> {
  const files = c.dirs.map((d) => join(d, FLOOR_TIMELINE));
  for (const f of files) rmSync(f, { force: true });
  for (const p of c.procs) p.proc.kill('SIGUSR2');
  const end = Date.now() + ms;
  while (!files.every((f) => existsSync(f))) {
    if (Date.now() > end)
      throw new Error(`floor members did not write their timelines within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as FloorStamp[]);
}

/** DISK_FLOOR_CHUNK: the write size of the disk floor, as a snapshot's chunks arrive (1 MiB). */
export const DISK_FLOOR_CHUNK = 1 << 20;
/**
 * DISK_FLOOR_SYNC_BYTES: an fdatasync after every this many bytes, as the snapshot spool does
 * (SPOOL_SYNC_BYTES in main/node/storage/snapshot-spool.ts).
 */
export const DISK_FLOOR_SYNC_BYTES = 16 << 20;

const writeAt = (fd: number, buf: Buffer, pos: number): Promise<number> =>
  new Promise((resolve, reject) => {
    write(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });

/**
 * diskFloorMBps writes `bytes` (default 256 MiB) to a new file in `dir` as a snapshot install
 * does: 1 MiB writes one after another (through the thread pool, as the install's large writes
 * go), an fdatasync after every 16 MiB, then fsync, rename and an fsync of the folder. Returns
 * MB/s (10^6 bytes) over the whole, and removes the file.
 */
export async function diskFloorMBps(dir: string, bytes = 256 << 20): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, 'disk-floor.tmp');
  const file = join(dir, 'disk-floor');
  const chunk = Buffer.alloc(DISK_FLOOR_CHUNK, 97);
  const t0 = performance.now();
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let unsynced = 0;
    for (let pos = 0; pos < bytes;) {
      const n = Math.min(chunk.length, bytes - pos);
      pos += await writeAt(fd, n === chunk.length ? chunk : chunk.subarray(0, n), pos);
      unsynced += n;
      if (unsynced >= DISK_FLOOR_SYNC_BYTES) {
        unsynced = 0;
        // Through the thread pool, as the spool's syncs are.
        await new Promise<void>((resolve, reject) => {
          fdatasync(fd, (err) => (err ? reject(err) : resolve()));
        });
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  const seconds = Math.max(0.001, (performance.now() - t0) / 1000);
  rmSync(file, { force: true });
  return Number((bytes / 1e6 / seconds).toFixed(1));
}

/**
 * loopbackFloorMBps sends `bytes` (default 256 MiB) from one floor-node process to another over
 * one TCP connection on 127.0.0.1 and returns MB/s (10^6 bytes) from the sender's connect until
 * the receiver's answer that it has them all.
 */
export async function loopbackFloorMBps(cmd: FloorCommand, bytes = 256 << 20): Promise<number> {
  const started: FloorProcess[] = [];
  const untrack = trackPids(() => started.map((p) => p.proc.pid ?? null));
  try {
    const sink = await spawnFloor(cmd, { role: 'sink', bytes });
    started.push(sink);
    const source = await spawnFloor(cmd, { role: 'source', port: sink.info.port!, bytes }, 60_000);
    started.push(source);
    const ms = Math.max(0.001, source.info.ms!);
    return Number((bytes / 1e6 / (ms / 1000)).toFixed(1));
  } finally {
    await Promise.all(started.map((p) => stopProcess(p)));
    untrack();
  }
}
