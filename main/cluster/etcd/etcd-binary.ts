/**
 * etcd-binary finds the etcd server binary raftdeck runs for a local etcd cluster and checks its
 * version: an explicit path (`--etcd-bin PATH`) or `etcd` on PATH, asked for `--version`. Versions
 * 3.4 and 3.5 are supported; anything else is refused with the version found.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** EtcdBinary: an etcd server binary that answered `--version` with a supported version. */
export interface EtcdBinary {
  path: string;
  /** version: as the binary prints it, e.g. '3.4.23'. */
  version: string;
  major: number;
  minor: number;
}

/** SUPPORTED_ETCD: the major.minor versions raftdeck runs. */
export const SUPPORTED_ETCD: readonly string[] = ['3.4', '3.5'];

/** EtcdMissing: no etcd binary at the given path or on PATH. */
export class EtcdMissing extends Error {
  constructor(readonly where: string) {
    super(
      `etcd was not found (${where}). Install it (Debian/Ubuntu: apt-get install etcd-server) ` +
        `or name the binary with --etcd-bin PATH.`,
    );
    this.name = 'EtcdMissing';
  }
}

/** EtcdUnsupported: the binary runs, but its version is not one raftdeck supports. */
export class EtcdUnsupported extends Error {
  constructor(
    readonly path: string,
    readonly version: string,
  ) {
    super(
      `${path} is etcd ${version}; raftdeck supports etcd ${SUPPORTED_ETCD.join(' and ')} ` +
        `(choose another binary with --etcd-bin PATH)`,
    );
    this.name = 'EtcdUnsupported';
  }
}

/**
 * findEtcd resolves the etcd binary (`explicit`, else `etcd` on PATH), runs `--version` and
 * returns it. Throws EtcdMissing when there is none, EtcdUnsupported for a version other than
 * 3.4 or 3.5, and a plain Error when the binary runs but prints no version.
 */
export function findEtcd(explicit?: string): EtcdBinary {
  const where = explicit ? `no runnable file at ${explicit}` : 'no etcd on PATH';
  const path = explicit !== undefined ? resolve(explicit) : onPath('etcd');
  if (path === undefined) throw new EtcdMissing(where);
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new EtcdMissing(where);
    throw new Error(`${path} --version failed: ${r.error.message}`);
  }
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /etcd Version:\s*v?(\d+)\.(\d+)(\.\S+)?/.exec(out);
  if (r.status !== 0 || !m) {
    const first = out.trim().split('\n')[0] ?? '';
    throw new Error(
      `${path} --version did not print an etcd version (exit ${r.status ?? r.signal}): ${first.slice(0, 200)}`,
    );
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const version = `${m[1]}.${m[2]}${m[3] ?? ''}`;
  if (!SUPPORTED_ETCD.includes(`${major}.${minor}`)) throw new EtcdUnsupported(path, version);
  return { path, version, major, minor };
}

/** onPath: the absolute path of the executable `name` in one of PATH's folders, if any. */
export function onPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
