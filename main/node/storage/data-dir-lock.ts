import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** isAlive reports whether a process with this pid exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * acquireLock takes `<dir>/LOCK`, created with O_EXCL and holding this process's pid. If the file
 * exists and names a live process the call throws "data dir X is in use by pid N"; a lock left by
 * a dead process (or one without a readable pid) is stale and taken over. Returns the lock path.
 */
export function acquireLock(dir: string): string {
  const file = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      if (pid !== undefined && isAlive(pid)) {
        throw new Error(`data dir ${dir} is in use by pid ${pid}`, { cause: err });
      }
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    return file;
  }
  throw new Error(`data dir ${dir}: could not take ${file}`);
}

/** releaseLock removes the LOCK file if it still names this process. */
export function releaseLock(file: string): void {
  if (readPid(file) !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
