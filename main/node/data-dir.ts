import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../raft/types';
import { PRIVATE_DIR_MODE, tightenTree } from './private-files';

/** DataDirIdentity is written once into a node's data dir so it is never opened as another cluster's or node's. */
export interface DataDirIdentity {
  clusterId: string;
  nodeId: NodeId;
  createdAt: string;
}

/**
 * DataDirClaim is what claimDataDir found: the identity, and whether node.json already held it.
 * node.json is written only once the node's storage has loaded (recordDataDir), so an existing
 * one means the node has run in this dir: its storage must hold state.
 */
export interface DataDirClaim {
  identity: DataDirIdentity;
  existed: boolean;
  file: string;
}

/** DataDirMismatchError: the data dir belongs to another cluster or node. */
export class DataDirMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirMismatchError';
  }
}

/**
 * claimDataDir creates the data dir if needed and checks which cluster and node it belongs to. A
 * dir from another cluster or node is refused, untouched. It writes nothing else: a new identity
 * is recorded by recordDataDir once the storage has loaded.
 */
export function claimDataDir(dir: string, clusterId: string, nodeId: NodeId): DataDirClaim {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const file = join(dir, 'node.json');
  if (existsSync(file)) {
    let id: DataDirIdentity;
    try {
      id = JSON.parse(readFileSync(file, 'utf8')) as DataDirIdentity;
    } catch (e) {
      throw new DataDirMismatchError(
        `data dir ${dir}: ${file} is unreadable (${(e as Error).message})`,
      );
    }
    if (id.clusterId !== clusterId || id.nodeId !== nodeId) {
      throw new DataDirMismatchError(
        `data dir ${dir} belongs to cluster '${id.clusterId}' node ${id.nodeId}, not cluster '${clusterId}' node ${nodeId}; refusing to touch it`,
      );
    }
    tightenTree(dir);
    return { identity: id, existed: true, file };
  }
  tightenTree(dir);
  return {
    identity: { clusterId, nodeId, createdAt: new Date().toISOString() },
    existed: false,
    file,
  };
}

/**
 * recordDataDir writes node.json for a claim that did not exist yet (tmp, fsync, rename, fsync of
 * the dir). Call it once the node's storage has loaded: from then on the dir is known to hold
 * this node's state, and a start that finds none is refused.
 */
export function recordDataDir(claim: DataDirClaim): void {
  if (claim.existed) return;
  const tmp = `${claim.file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(claim.identity, null, 2)}\n`, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, claim.file);
  if (process.platform !== 'win32') {
    const dirFd = openSync(join(claim.file, '..'), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

/**
 * requiredState says why the node's storage must hold state, or undefined if it may start empty:
 * node.json records that the node has run here, or the command line says so (--require-state,
 * which the supervisor gives a member it has started before).
 */
export function requiredState(claim: DataDirClaim, flag: boolean): string | undefined {
  if (claim.existed) {
    return `${claim.file} records that node ${claim.identity.nodeId} has run in it`;
  }
  if (flag) return '--require-state says this node has run before';
  return undefined;
}
