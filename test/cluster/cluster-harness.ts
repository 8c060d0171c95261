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
import type { ClusterEngine } from '../../main/cluster/engine';
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
  const engine = new RaftdeckEngine(sup);
  const teardown = await startWatched(engine, dir, pids);
  return { sup, engine, dir, pids, teardown };
}

/**
 * startWatched starts `engine`, gathering the pid of every member process it ever runs into
 * `pids`, and returns the teardown: stop the engine, SIGKILL every pid gathered, remove `dir`.
 * A failed start tears down at once and throws.
 */
export async function startWatched(
  engine: Pick<ClusterEngine, 'start' | 'stop' | 'pids' | 'onView' | 'onEvent'>,
  dir: string,
  pids: Set<number> = new Set(),
): Promise<() => Promise<void>> {
  const collect = (): void => {
    for (const p of engine.pids()) pids.add(p);
  };
  engine.onView(collect);
  engine.onEvent(collect);
  const teardown = async (): Promise<void> => {
    collect();
    await engine.stop().catch(() => undefined);
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
    await engine.start();
    collect();
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
