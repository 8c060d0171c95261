/**
 * etcd-manifest: cluster.json of a local etcd cluster raftdeck started: `engine: "etcd"`, the
 * cluster's identity and timing, and every member with its raftdeck id, etcd name, ports (the
 * member's own client and peer listeners, and the proxy port it advertises to its peers) and
 * data folder. raftdeck's own loader refuses such a file, and this one refuses raftdeck's.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../../contract/view';
import { makePrivateDir, writePrivateFile } from '../../node/private-files';
import { freePort, ManifestError, manifestPath } from '../manifest';

/** EtcdMemberRecord: one member as raftdeck remembers it across starts. */
export interface EtcdMemberRecord {
  id: NodeId;
  /** name: the member's etcd name (`n<id>`). */
  name: string;
  /**
   * client, peer: the member's own listeners: `127.0.0.1:PORT`, whose PORT names the member's
   * Unix sockets `localhost:PORT` in the cluster's socket folder (see socketDir).
   */
  client: string;
  peer: string;
  /** proxy: the address the member advertises to its peers: raftdeck's proxy in front of `peer`. */
  proxy: string;
  /** dir: the member's data folder, relative to the cluster folder. */
  dir: string;
  state: 'member' | 'removed';
  founding: boolean;
  /** started: etcd has run on `dir` (it is never started again on an empty one). */
  started: boolean;
  /** memberId: etcd's member id (hex), once known. */
  memberId?: string;
}

export interface EtcdTiming {
  heartbeatMs: number;
  electionMs: number;
}

/** EtcdManifest is cluster.json of a local etcd cluster. */
export interface EtcdManifest {
  format: 1;
  engine: 'etcd';
  clusterId: string;
  /** clusterToken: etcd's --initial-cluster-token (unique per cluster raftdeck makes). */
  clusterToken: string;
  createdAt: string;
  timing: EtcdTiming;
  /** snapshotCount: etcd's --snapshot-count (applied entries between snapshots). */
  snapshotCount: number;
  members: EtcdMemberRecord[];
  nextId: NodeId;
  recordLimitMiB?: number;
}

/** loadEtcdManifest reads the folder's cluster.json (undefined: none); another kind throws. */
export function loadEtcdManifest(dir: string): EtcdManifest | undefined {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  let m: EtcdManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as EtcdManifest;
  } catch (e) {
    throw new ManifestError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if ((m as { engine?: unknown }).engine !== 'etcd') {
    throw new ManifestError(
      `${file} holds a cluster of raftdeck's own nodes, not etcd: start it without --engine etcd`,
    );
  }
  if (m.format !== 1 || typeof m.clusterId !== 'string' || !Array.isArray(m.members)) {
    throw new ManifestError(`${file} is not a raftdeck etcd cluster manifest (format 1)`);
  }
  return m;
}

/** saveEtcdManifest writes cluster.json atomically, mode 0600 in a 0700 folder. */
export function saveEtcdManifest(dir: string, m: EtcdManifest): void {
  makePrivateDir(dir);
  writePrivateFile(manifestPath(dir), `${JSON.stringify(m, null, 2)}\n`);
}

/** newEtcdMember allocates the next member's id, name and three free loopback ports. */
export async function newEtcdMember(
  m: Pick<EtcdManifest, 'members' | 'nextId'>,
  founding: boolean,
): Promise<EtcdMemberRecord> {
  const taken = new Set<number>();
  for (const r of m.members)
    for (const a of [r.client, r.peer, r.proxy]) taken.add(Number(a.split(':')[1]));
  const port = async (): Promise<string> => {
    const p = await freePort(taken);
    taken.add(p);
    return `127.0.0.1:${p}`;
  };
  const id = m.nextId++;
  return {
    id,
    name: `n${id}`,
    client: await port(),
    peer: await port(),
    proxy: await port(),
    dir: `n${id}`,
    state: 'member',
    founding,
    started: false,
  };
}

/** newEtcdManifest: a new cluster of `members` founding members. */
export async function newEtcdManifest(
  members: number,
  timing: EtcdTiming,
  snapshotCount: number,
): Promise<EtcdManifest> {
  const m: EtcdManifest = {
    format: 1,
    engine: 'etcd',
    clusterId: `etcd-${randomBytes(4).toString('hex')}`,
    clusterToken: `raftdeck-${randomBytes(8).toString('hex')}`,
    createdAt: new Date().toISOString(),
    timing,
    snapshotCount,
    members: [],
    nextId: 1,
  };
  for (let i = 0; i < members; i++) m.members.push(await newEtcdMember(m, true));
  return m;
}

/**
 * socketDir: the folder of the members' Unix sockets (`localhost:PORT`, etcd's names for them),
 * 0700 like the cluster folder: only the user reaches a member's client and peer listeners.
 */
export const socketDir = (clusterDir: string): string => join(clusterDir, 'sockets');

const portOf = (address: string): string => address.split(':')[1] ?? '';

/** clientUrl: member `rec`'s client endpoint (its Unix socket, unix:///…/localhost:PORT). */
export function clientUrl(clusterDir: string, rec: Pick<EtcdMemberRecord, 'client'>): string {
  return `unix://${join(socketDir(clusterDir), `localhost:${portOf(rec.client)}`)}`;
}

/** peerSocket: the path of member `rec`'s real peer listener (its proxy forwards to it). */
export function peerSocket(clusterDir: string, rec: Pick<EtcdMemberRecord, 'peer'>): string {
  return join(socketDir(clusterDir), `localhost:${portOf(rec.peer)}`);
}
