import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  newPeerSecret,
  peerSecretPath,
  readPeerSecret,
  writePeerSecret,
} from '../node/peer-secret';
import { makePrivateDir, tightenMode, writePrivateFile } from '../node/private-files';
import type { NodeId } from '../raft/types';

/** NodeRecord is one node of a cluster as the supervisor remembers it across restarts of the app. */
export interface NodeRecord {
  id: NodeId;
  peer: string;
  client: string;
  admin: string;
  /** dir: the node's data dir, relative to the cluster folder. */
  dir: string;
  /** state: 'member' nodes are started with the cluster; 'removed' ones are history. */
  state: 'member' | 'removed';
  /** founding: part of the initial configuration (started with --peers); later nodes join. */
  founding: boolean;
  /**
   * started: the node has reported ready at least once, so its data dir holds state it
   * acknowledged; it is then never started on an empty one. Absent in manifests written before
   * it was recorded: the supervisor sets it on adoption from whether the dir has a node.json.
   */
  started?: boolean;
}

export interface Timing {
  tickMs: number;
  heartbeatMs: number;
  electionMs: number;
}

/** ClusterManifest is cluster.json in the cluster folder: identity, timing and nodes. */
export interface ClusterManifest {
  format: 1;
  clusterId: string;
  createdAt: string;
  timing: Timing;
  snapshotEntries: number;
  snapshotChunkBytes: number;
  nodes: NodeRecord[];
  nextId: NodeId;
  /**
   * nodeFlags: bounds every node is started with (node flags from BOUND_FLAGS, `--flag value`
   * pairs), set by the user (`raftdeck start --node-flags`); absent: the nodes' defaults.
   */
  nodeFlags?: string[];
  /**
   * recordLimitMiB: the bound of the cluster's recording (`<dir>/recording/`) in MiB, set by
   * the user (`--record-limit`); 0: nothing is recorded on disk. Absent: the default (256).
   */
  recordLimitMiB?: number;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/**
 * folderEngine: the engine of the cluster the folder holds (cluster.json's `engine`, raftdeck's
 * own nodes when it has none), or undefined for a folder without a cluster. It does not check
 * the rest of the file: the engine's own loader does.
 */
export function folderEngine(dir: string): 'raftdeck' | 'etcd' | undefined {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { engine?: unknown };
    return m.engine === 'etcd' ? 'etcd' : 'raftdeck';
  } catch {
    return 'raftdeck';
  }
}

export function manifestPath(dir: string): string {
  return join(dir, 'cluster.json');
}

/** loadManifest reads cluster.json, or returns undefined when the folder has none. Bad content throws. */
export function loadManifest(dir: string): ClusterManifest | undefined {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  let m: ClusterManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ClusterManifest;
  } catch (e) {
    throw new ManifestError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if ((m as { engine?: unknown }).engine === 'etcd') {
    throw new ManifestError(
      `${file} holds an etcd cluster, not raftdeck's own nodes: start it with --engine etcd`,
    );
  }
  if (m.format !== 1 || typeof m.clusterId !== 'string' || !Array.isArray(m.nodes)) {
    throw new ManifestError(`${file} is not a raftdeck cluster manifest (format 1)`);
  }
  return m;
}

/** saveManifest writes cluster.json atomically (tmp + rename), mode 0600 in a 0700 folder. */
export function saveManifest(dir: string, m: ClusterManifest): void {
  makePrivateDir(dir);
  writePrivateFile(manifestPath(dir), `${JSON.stringify(m, null, 2)}\n`);
}

/**
 * clusterPeerSecret returns the cluster's peer secret from `dir`/peer-secret (tightening the
 * file's mode first if an older version left it open). A folder without one gets a new secret;
 * `created` says so. Every node of the cluster is then given this secret before it starts.
 */
export function clusterPeerSecret(dir: string): { secret: Buffer; created: boolean } {
  const file = peerSecretPath(dir);
  if (!existsSync(file)) {
    makePrivateDir(dir);
    const secret = newPeerSecret();
    writePeerSecret(file, secret);
    return { secret, created: true };
  }
  tightenMode(file);
  return { secret: readPeerSecret(file), created: false };
}

/**
 * giveNodePeerSecret writes the cluster's secret into a node's data dir (created 0700 if
 * missing), unless the file there already holds it.
 */
export function giveNodePeerSecret(nodeDir: string, secret: Uint8Array): void {
  makePrivateDir(nodeDir);
  const file = peerSecretPath(nodeDir);
  if (existsSync(file)) {
    tightenMode(file);
    try {
      if (readPeerSecret(file).equals(secret)) return;
    } catch {
      // malformed or unsafe: replaced below
    }
  }
  writePeerSecret(file, secret);
}

/** DEFAULT_PORT_RANGE is where new nodes' ports are picked: below Linux's ephemeral range. */
export const DEFAULT_PORT_RANGE = { lo: 20000, hi: 32767 };

/**
 * portRange reads RAFTDECK_PORT_RANGE ("LO-HI", inclusive) or returns DEFAULT_PORT_RANGE. A range
 * that is not two ports with LO <= HI is an error naming the value, never a silent default.
 */
export function portRange(env: NodeJS.ProcessEnv = process.env): { lo: number; hi: number } {
  const raw = env.RAFTDECK_PORT_RANGE;
  if (raw === undefined || raw === '') return DEFAULT_PORT_RANGE;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1024 || hi > 65535 || lo > hi) {
    throw new Error(
      `RAFTDECK_PORT_RANGE=${JSON.stringify(raw)} is not a port range: expected LO-HI with 1024 <= LO <= HI <= 65535`,
    );
  }
  return { lo, hi };
}

/**
 * freePort finds a free loopback port to listen on. It picks from portRange() (by default
 * 20000-32767, below Linux's ephemeral range 32768-60999, so an outgoing connection cannot take
 * the port between the check and the node's listen); `taken` holds ports already handed out.
 */
export async function freePort(taken: Set<number> = new Set()): Promise<number> {
  const { lo, hi } = portRange();
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free loopback port in ${lo}-${hi}`);
}

/** portOf returns the port of "host:port". */
export function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

/** newNodeRecord allocates free loopback ports for a new node. */
export async function newNodeRecord(m: ClusterManifest, founding: boolean): Promise<NodeRecord> {
  const taken = new Set<number>();
  for (const n of m.nodes) for (const a of [n.peer, n.client, n.admin]) taken.add(portOf(a));
  const id = m.nextId++;
  return {
    id,
    peer: `127.0.0.1:${await freePort(taken)}`,
    client: `127.0.0.1:${await freePort(taken)}`,
    admin: `127.0.0.1:${await freePort(taken)}`,
    dir: `node-${id}`,
    state: 'member',
    founding,
    started: false,
  };
}

/** newManifest describes a brand-new cluster of n founding voters. */
export async function newManifest(
  n: number,
  timing: Timing,
  snapshotEntries: number,
  snapshotChunkBytes: number,
): Promise<ClusterManifest> {
  const m: ClusterManifest = {
    format: 1,
    clusterId: `raftdeck-${randomBytes(4).toString('hex')}`,
    createdAt: new Date().toISOString(),
    timing,
    snapshotEntries,
    snapshotChunkBytes,
    nodes: [],
    nextId: 1,
  };
  for (let i = 0; i < n; i++) m.nodes.push(await newNodeRecord(m, true));
  return m;
}

/** peersFlag renders members as the node's --peers value: id=peer|client,... */
export function peersFlag(nodes: NodeRecord[]): string {
  return nodes.map((n) => `${n.id}=${n.peer}|${n.client}`).join(',');
}
