import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../raft/types';
import { PRIVATE_DIR_MODE, tightenTree, writePrivateFile } from './private-files';

/** DataDirIdentity is written once into a node's data dir so it is never opened as another cluster's or node's. */
export interface DataDirIdentity {
  clusterId: string;
  nodeId: NodeId;
  createdAt: string;
}

/** DataDirMismatchError: the data dir belongs to another cluster or node. */
export class DataDirMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirMismatchError';
  }
}

/**
 * claimDataDir creates the data dir if needed and checks (or, the first time, records) which
 * cluster and node it belongs to. A dir from another cluster or node is refused, untouched. The
 * dir is 0700; once it is known to be this node's, what it holds (wal/, snap/ and their files)
 * is tightened to 0700 directories and 0600 files.
 */
export function claimDataDir(dir: string, clusterId: string, nodeId: NodeId): DataDirIdentity {
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
    return id;
  }
  const id: DataDirIdentity = { clusterId, nodeId, createdAt: new Date().toISOString() };
  writePrivateFile(file, `${JSON.stringify(id, null, 2)}\n`);
  tightenTree(dir);
  return id;
}
