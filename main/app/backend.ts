/**
 * backend: what the desktop window's IPC is bound to — the real cluster in the app's data folder
 * (started on first launch, brought back on later ones). `--fake` (or RAFTDECK_FAKE=1) binds the
 * FAKE in-process cluster of main/web/fake-dashboard.ts instead, for working on the dashboard
 * without nodes.
 */
import type { DashboardApi, PushSource } from '../contract/api';
import { startDashboard } from '../cluster/dashboard';
import { createFakeDashboard } from '../web/fake-dashboard';

export interface Backend {
  api: DashboardApi & PushSource;
  dispose(): Promise<void>;
}

export function wantsFake(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--fake') || env.RAFTDECK_FAKE === '1';
}

export async function createBackend(
  clusterDir: string,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  if (wantsFake(argv, env)) {
    const fake = createFakeDashboard();
    return {
      api: fake,
      dispose: async () => fake.dispose(),
    };
  }
  const local = await startDashboard({ dir: clusterDir });
  return { api: local.api, dispose: local.dispose };
}
