/**
 * backends: the one place that picks what a dashboard window is bound to: the real cluster in a
 * folder (started on first use, brought back on later ones), or, when asked for, the FAKE
 * in-process cluster of fake-dashboard.ts, for working on the dashboard without nodes. The
 * desktop shell and browser mode both open their backend here.
 */
import { startDashboard } from '../cluster/dashboard';
import { RecordingDashboard } from '../cluster/recording/recording-dashboard';
import type { DashboardApi, PushSource } from '../contract/api';
import { createFakeDashboard } from './fake-dashboard';

export interface Backend {
  api: DashboardApi & PushSource;
  dispose(): Promise<void>;
}

/** wantsFake: `--fake` among the arguments, or RAFTDECK_FAKE=1. */
export function wantsFake(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--fake') || env.RAFTDECK_FAKE === '1';
}

/** openBackend opens the cluster in `clusterDir`, or the fake one when `fake` is set. */
export async function openBackend(clusterDir: string, fake: boolean): Promise<Backend> {
  if (fake) {
    const dashboard = createFakeDashboard();
    return { api: dashboard, dispose: async () => dashboard.dispose() };
  }
  const local = await startDashboard({ dir: clusterDir });
  return { api: local.api, dispose: local.dispose };
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
