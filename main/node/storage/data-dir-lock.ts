import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  readFileSync,
  readdirSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * The lock of a folder (a node's data dir, or a cluster folder) is the file `LOCK.<gen:16 hex>`
 * with the highest generation in it, holding its owner's pid. Taking it never deletes or
 * rewrites the current lock: a process that finds the newest one stale (its pid is dead, or it is
 * empty because its owner let go) creates generation + 1, and creating a file under a name that
 * exists fails (link(2) onto an existing name is EEXIST), so of all the processes that saw the
 * same lock stale, exactly one gets the next generation. The pid is written into a private file
 * first and linked into place whole, so a lock is never seen without its pid. Generations only
 * grow: releasing empties the file instead of deleting it, and older generations are deleted only
 * by the holder of a newer one; a process whose generation turns out not to be the newest (a
 * number freed by that clean-up) gives it back and looks again.
 */
const LOCK_NAME = /^LOCK\.([0-9a-f]{16})$/;
/** LEGACY_LOCK: the single lock file of releases before generations; a live one is honoured. */
const LEGACY_LOCK = 'LOCK';
const TMP_NAME = /^LOCK\.(\d+)\.[0-9a-f]+\.tmp$/;
/** MAX_ATTEMPTS bounds how often a process looks again after losing a race for a generation. */
const MAX_ATTEMPTS = 100;

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

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

function lockFile(dir: string, gen: number): string {
  return join(dir, `LOCK.${gen.toString(16).padStart(16, '0')}`);
}

/** generations lists the lock generations present in dir, in ascending order. */
function generations(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = LOCK_NAME.exec(name);
    if (m) out.push(parseInt(m[1], 16));
  }
  return out.sort((a, b) => a - b);
}

/**
 * acquireLock takes the lock of `dir` (see above) and returns its file. If the newest lock names
 * a live process (this one included) it throws "<what> <dir> is in use by pid N".
 */
export function acquireLock(dir: string, what = 'data dir'): string {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const gens = generations(dir);
    const top = gens.length > 0 ? gens[gens.length - 1] : 0;
    for (const file of [top > 0 ? lockFile(dir, top) : undefined, join(dir, LEGACY_LOCK)]) {
      if (file === undefined) continue;
      const pid = readPid(file);
      if (pid !== undefined && isAlive(pid))
        throw new Error(`${what} ${dir} is in use by pid ${pid}`);
    }
    const mine = lockFile(dir, top + 1);
    const tmp = join(dir, `LOCK.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    } finally {
      removeQuietly(tmp);
    }
    const newest = generations(dir).at(-1) as number;
    if (newest > top + 1) {
      removeQuietly(mine);
      continue;
    }
    cleanUp(dir, top + 1);
    return mine;
  }
  throw new Error(`${what} ${dir}: could not take its lock in ${MAX_ATTEMPTS} attempts`);
}

/** cleanUp removes the generations below `gen`, a legacy lock and the leftovers of dead processes. */
function cleanUp(dir: string, gen: number): void {
  for (const g of generations(dir)) if (g < gen) removeQuietly(lockFile(dir, g));
  if (existsSync(join(dir, LEGACY_LOCK))) removeQuietly(join(dir, LEGACY_LOCK));
  for (const name of readdirSync(dir)) {
    const m = TMP_NAME.exec(name);
    if (m && !isAlive(Number(m[1]))) removeQuietly(join(dir, name));
  }
}

/** releaseLock lets go of a lock taken by acquireLock: it empties the file if it still names this process. */
export function releaseLock(file: string): void {
  if (readPid(file) !== process.pid) return;
  try {
    truncateSync(file, 0);
  } catch {
    // gone
  }
}
