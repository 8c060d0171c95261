/**
 * engine-harness starts a local etcd cluster under an EtcdEngine in a temporary folder, with
 * short timings (heartbeat 50 ms, election 500 ms), and tears it down: the engine stops, every
 * member pid ever seen is killed by id, and the folder goes, even when a test fails.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdEngine } from '../../../main/cluster/etcd/etcd-engine';
import { startWatched } from '../cluster-harness';

export interface TestEtcdEngine {
  engine: EtcdEngine;
  dir: string;
  teardown(): Promise<void>;
}

export async function startEtcdEngine(name: string, nodes = 3): Promise<TestEtcdEngine> {
  const dir = mkdtempSync(join(tmpdir(), `raftdeck-${name}-`));
  const engine = new EtcdEngine({ dir, nodes, timing: { heartbeatMs: 50, electionMs: 500 } });
  const teardown = await startWatched(engine, dir);
  return { engine, dir, teardown };
}
