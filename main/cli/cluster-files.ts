/**
 * cluster-files: what a running `raftdeck start` leaves in its cluster folder for the other
 * commands, and how they read it. cluster.json (the supervisor's manifest: node ids and
 * addresses), admin-token (the nodes' admin token) and control.json (the control port and its
 * token); the last two are written with mode 0600 and removed when the cluster stops.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KvSession } from '../cluster/engine';
import { clientUrl, loadEtcdManifest, type EtcdManifest } from '../cluster/etcd/etcd-manifest';
import { folderEngine, loadManifest, type ClusterManifest } from '../cluster/manifest';
import { KvClient } from '../node/client';
import { CliError, DEFAULT_DATA_DIR, UsageError, parseAddress, type ParsedArgs } from './args';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const CONTROL_FILE = 'control.json';

/** ControlInfo is control.json: where the control port listens, its token, and who serves it. */
export interface ControlInfo {
  port: number;
  token: string;
  pid: number;
  clusterId: string;
}

/** dataDir is the absolute cluster folder named by --data. */
export function dataDir(args: ParsedArgs): string {
  return resolve(args.string('data') ?? DEFAULT_DATA_DIR);
}

/** writePrivate writes a file only its owner may read (mode 0600, also when it existed). */
export function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** pidAlive reports whether a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** readManifest loads DIR/cluster.json, or fails with a message saying how to get one. */
export function readManifest(dir: string): ClusterManifest {
  let m: ClusterManifest | undefined;
  try {
    m = loadManifest(dir);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!m)
    throw new CliError(
      `no cluster in ${dir} (no cluster.json): start one with \`raftdeck start --data ${dir}\`, or give --endpoints`,
    );
  return m;
}

/** Endpoints: the client addresses to use, and the node id of each when known. */
export interface Endpoints {
  addresses: string[];
  ids: Map<string, number>;
  /** source says where the addresses came from, for messages. */
  source: string;
  /** engine: whose client protocol the addresses speak (etcd for a local etcd cluster's folder). */
  engine: 'raftdeck' | 'etcd';
}

/** clientEndpoints reads --endpoints, or the member nodes' client addresses from DIR/cluster.json. */
export function clientEndpoints(args: ParsedArgs): Endpoints {
  const raw = args.string('endpoints');
  if (raw !== undefined) {
    if (args.given.has('data')) throw new UsageError('give --endpoints or --data, not both');
    const addresses = raw
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => parseAddress(s, '--endpoints'));
    if (addresses.length === 0) throw new UsageError('--endpoints needs at least one host:port');
    return {
      addresses: [...new Set(addresses)],
      ids: new Map(),
      source: '--endpoints',
      engine: 'raftdeck',
    };
  }
  const dir = dataDir(args);
  if (folderEngine(dir) === 'etcd') {
    let em: EtcdManifest | undefined;
    try {
      em = loadEtcdManifest(dir);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const live = em!.members.filter((n) => n.state === 'member');
    if (live.length === 0) throw new CliError(`the etcd cluster in ${dir} has no members`);
    return {
      addresses: live.map((n) => clientUrl(dir, n)),
      ids: new Map(live.map((n) => [clientUrl(dir, n), n.id])),
      source: join(dir, 'cluster.json'),
      engine: 'etcd',
    };
  }
  const m = readManifest(dir);
  const members = m.nodes.filter((n) => n.state === 'member');
  if (members.length === 0) throw new CliError(`the cluster in ${dir} has no member nodes`);
  return {
    addresses: members.map((n) => n.client),
    ids: new Map(members.map((n) => [n.client, n.id])),
    source: join(dir, 'cluster.json'),
    engine: 'raftdeck',
  };
}

/**
 * openKv opens a key-value session on `ep` in the protocol of its engine (raftdeck's client
 * protocol, or etcd's KV API); etcd's client library is loaded only when needed.
 */
export async function openKv(
  ep: Endpoints,
  timeoutMs: number | undefined,
  clientId?: string,
): Promise<KvSession> {
  return (await kvOpener(ep))(clientId, timeoutMs);
}

/** kvOpener: a function that opens sessions on `ep` at once (see openKv). */
export async function kvOpener(
  ep: Endpoints,
): Promise<(clientId: string | undefined, timeoutMs: number | undefined) => KvSession> {
  if (ep.engine === 'etcd') {
    const { EtcdKvSession } = await import('../cluster/etcd/etcd-kv');
    return (clientId, timeoutMs) =>
      new EtcdKvSession({
        endpoints: ep.addresses,
        clientId: clientId ?? `cli-${process.pid}`,
        timeoutMs: timeoutMs ?? 5000,
      });
  }
  return (clientId, timeoutMs) => new KvClient({ endpoints: ep.addresses, timeoutMs, clientId });
}

/** readAdminToken reads DIR/admin-token, written by a running `raftdeck start`. */
export function readAdminToken(dir: string): string {
  const file = join(dir, ADMIN_TOKEN_FILE);
  if (!existsSync(file))
    throw new CliError(`no admin token in ${file}: is \`raftdeck start --data ${dir}\` running?`);
  return readFileSync(file, 'utf8').trim();
}

/** readControl reads DIR/control.json, or fails saying that no `raftdeck start` runs there. */
export function readControl(dir: string): ControlInfo {
  const file = join(dir, CONTROL_FILE);
  if (!existsSync(file))
    throw new CliError(
      `no running cluster in ${dir} (no ${CONTROL_FILE}): start one with \`raftdeck start --data ${dir}\``,
    );
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as ControlInfo;
    if (!Number.isInteger(c.port) || typeof c.token !== 'string') throw new Error('bad fields');
    return c;
  } catch (e) {
    throw new CliError(`${file} is not a raftdeck control file: ${(e as Error).message}`);
  }
}

/** liveControl returns control.json if the process that wrote it still runs. */
export function liveControl(dir: string): ControlInfo | undefined {
  if (!existsSync(join(dir, CONTROL_FILE))) return undefined;
  try {
    const c = readControl(dir);
    return pidAlive(c.pid) && c.pid !== process.pid ? c : undefined;
  } catch {
    return undefined;
  }
}

/** removeRunFiles removes admin-token and control.json (they are only valid while it runs). */
export function removeRunFiles(dir: string): void {
  rmSync(join(dir, ADMIN_TOKEN_FILE), { force: true });
  rmSync(join(dir, CONTROL_FILE), { force: true });
}
