/**
 * backend: what the desktop window's IPC is bound to — the real cluster in the app's data folder,
 * or with `--lab` (or RAFTDECK_LAB=1) a lab cluster (main/web/backends.ts picks).
 */
import {
  openBackend,
  openLabBackend,
  openRecordingBackend,
  wantsLab,
  type Backend,
} from '../web/backends';

export type { Backend };
export { openLabBackend, openRecordingBackend, wantsLab };

export async function createBackend(
  clusterDir: string,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  return openBackend(clusterDir, wantsLab(argv, env));
}
