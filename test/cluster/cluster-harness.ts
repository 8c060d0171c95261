/**
 * cluster-harness starts a real cluster in a temporary folder for the slower cluster tests, with
 * short timings, and tears it down afterwards: the supervisor stops its nodes, and every pid ever
 * seen in the view is killed as well, so no process outlives the test even when it fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAdmin } from '../../main/cluster/admin-link';
import { Supervisor, type SupervisorOptions } from '../../main/cluster/supervisor';
import { RaftdeckEngine } from '../../main/cluster/raftdeck-engine';

/** TestCluster is a started supervisor and the means to tear it down. */
export interface TestCluster {
  sup: Supervisor;
  /** engine: the same cluster through the engine seam. */
  engine: RaftdeckEngine;
  dir: string;
  /** pids: every node pid seen while the cluster ran. */
  pids: Set<number>;
  teardown(): Promise<void>;
}

/** startCluster starts `nodes` voters with tick 10 / heartbeat 50 / election 500 ms. */
export async function startCluster(
  name: string,
  options: Partial<Omit<SupervisorOptions, 'dir' | 'connect'>> = {},
): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), `raftdeck-${name}-`));
  const sup = new Supervisor({
    dir,
    nodes: 3,
    timing: { tickMs: 10, heartbeatMs: 50, electionMs: 500 },
    snapshotEntries: 200,
    snapshotChunkBytes: 8192,
    connect: connectAdmin,
    ...options,
  });
  const pids = new Set<number>();
  const collect = (): void => {
    for (const m of sup.nodes.values()) if (m.proc.pid !== null) pids.add(m.proc.pid);
  };
  sup.onView(collect);
  sup.onEvent(collect);
  const teardown = async (): Promise<void> => {
    collect();
    await sup.stop().catch(() => undefined);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await sup.start();
    collect();
  } catch (e) {
    await teardown();
    throw e;
  }
  return { sup, engine: new RaftdeckEngine(sup), dir, pids, teardown };
}
