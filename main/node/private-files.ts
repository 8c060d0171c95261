/**
 * private-files: the modes of what raftdeck keeps on disk. Everything a node, the supervisor or
 * the command line creates is for its owner only: directories 0700, files 0600. Folders and files
 * that an older version left more open are tightened when they are opened again. Symbolic links
 * are never followed.
 */
import {
  chmodSync,
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';

/** PRIVATE_DIR_MODE: the mode of every directory raftdeck creates. */
export const PRIVATE_DIR_MODE = 0o700;
/** PRIVATE_FILE_MODE: the mode of every file raftdeck creates. */
export const PRIVATE_FILE_MODE = 0o600;
/** GROUP_OTHER_BITS: the permission bits that must never be set. */
export const GROUP_OTHER_BITS = 0o077;

/**
 * tightenMode removes every group and other permission bit of `path` (not following a symbolic
 * link). It returns true if the mode changed.
 */
export function tightenMode(path: string, st: Stats = lstatSync(path)): boolean {
  if (st.isSymbolicLink() || (st.mode & GROUP_OTHER_BITS) === 0) return false;
  chmodSync(path, st.mode & 0o700);
  return true;
}

/**
 * tightenTree tightens `dir` and what it holds, `depth` levels of directories deep. It returns
 * how many modes it changed.
 */
export function tightenTree(dir: string, depth = 2): number {
  let changed = tightenMode(dir) ? 1 : 0;
  if (depth <= 0) return changed;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (st.isDirectory()) changed += tightenTree(path, depth - 1);
    else if (tightenMode(path, st)) changed += 1;
  }
  return changed;
}

/** makePrivateDir creates `dir` (and missing parents) with mode 0700, or tightens it. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tightenMode(dir);
}

/**
 * writePrivateFile replaces `file` with `data` atomically (a 0600 temporary file, written and
 * synced, renamed over it), so the file is never seen half-written or with a looser mode.
 */
export function writePrivateFile(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    chmodSync(tmp, PRIVATE_FILE_MODE);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
