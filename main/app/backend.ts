/**
 * backend: what the desktop window's IPC is bound to — the real cluster in the app's data folder,
 * or with `--fake` (or RAFTDECK_FAKE=1) the fake in-process one (main/web/backends.ts picks).
 */
import { openBackend, openRecordingBackend, wantsFake, type Backend } from '../web/backends';

export type { Backend };
export { openRecordingBackend, wantsFake };

export async function createBackend(
  clusterDir: string,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  return openBackend(clusterDir, wantsFake(argv, env));
}
