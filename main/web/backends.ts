/**
 * backends: the one place that picks what a dashboard window is bound to: the real cluster in a
 * folder (started on first use, brought back on later ones), a lab cluster (the production Raft
 * core on a simulated network in this process, main/lab), an etcd cluster raftdeck did not start
 * (attached by its client endpoints), or a recording. The desktop shell and browser mode both
 * open their backend here.
 */
import { ClusterDashboard, startDashboard } from '../cluster/dashboard';
import type { AttachedEtcd, AttachedEtcdOptions } from '../cluster/etcd/attached';
import { MemoryRecording } from '../cluster/recording/memory-recording';
import { RecordingDashboard } from '../cluster/recording/recording-dashboard';
import type { DashboardApi, PushSource } from '../contract/api';
import { createLabDashboard } from '../lab/lab-dashboard';
import { nodeLabHost } from './lab-host';

export interface Backend {
  api: DashboardApi & PushSource;
  dispose(): Promise<void>;
}

/** wantsLab: `--lab` among the arguments, or RAFTDECK_LAB=1. */
export function wantsLab(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--lab') || env.RAFTDECK_LAB === '1';
}

/** openBackend opens the cluster in `clusterDir`, or a lab cluster when `lab` is set. */
export async function openBackend(clusterDir: string, lab: boolean): Promise<Backend> {
  if (lab) return openLabBackend();
  const local = await startDashboard({ dir: clusterDir });
  return { api: local.api, dispose: local.dispose };
}

/**
 * openLabBackend starts a lab cluster of `nodes` voters from `seed` (1 and 3 by default), as
 * `raftdeck lab` does, running on this process's clock: `--lab` and the app's "Open a lab
 * cluster". Nothing is spawned or written.
 */
export function openLabBackend(options: { seed?: number; nodes?: number } = {}): Backend {
  const dashboard = createLabDashboard({ ...options, host: nodeLabHost() });
  return { api: dashboard, dispose: async () => dashboard.dispose() };
}

/**
 * openRecordingBackend opens a recording (an export file, or a cluster or recording folder) as a
 * backend with no cluster: `raftdeck replay` and the app's "Open recording…". A path that holds
 * no recording throws, naming it.
 */
export function openRecordingBackend(path: string): Backend {
  const dashboard = RecordingDashboard.open(path);
  return { api: dashboard, dispose: () => dashboard.close() };
}

/** AttachedBackend: a backend over an attached etcd cluster, and the engine that reaches it. */
export interface AttachedBackend extends Backend {
  engine: AttachedEtcd;
}

/**
 * openAttachedBackend attaches to the etcd cluster at `options.endpoints` (finding every member
 * from the first that answers; see AttachedEtcd) and serves it as a backend whose recording is
 * kept in memory: time travel covers this session only, and nothing is written. It rejects, with
 * each endpoint's error, when no endpoint answers. The etcd client loads only when attaching.
 */
export async function openAttachedBackend(options: AttachedEtcdOptions): Promise<AttachedBackend> {
  const { AttachedEtcd } = await import('../cluster/etcd/attached');
  const engine = new AttachedEtcd(options);
  await engine.start();
  return attachedBackend(engine);
}

/**
 * attachedBackend wraps an AttachedEtcd that has started in the dashboard API (recording in
 * memory); dispose() stops the dashboard's own clients, the polls, then the recording.
 */
export function attachedBackend(engine: AttachedEtcd): AttachedBackend {
  const dashboard = new ClusterDashboard(engine, new MemoryRecording());
  return {
    api: dashboard,
    engine,
    dispose: async () => {
      await dashboard.release().catch(() => undefined);
      try {
        await engine.stop();
      } finally {
        await dashboard.close().catch(() => undefined);
      }
    },
  };
}
