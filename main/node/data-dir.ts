import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../raft/types';

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
 * cluster and node it belongs to. A dir from another cluster or node is refused, untouched.
 */
export function claimDataDir(dir: string, clusterId: string, nodeId: NodeId): DataDirIdentity {
  mkdirSync(dir, { recursive: true });
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
    return id;
  }
  const id: DataDirIdentity = { clusterId, nodeId, createdAt: new Date().toISOString() };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(id, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return id;
}
