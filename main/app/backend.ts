/**
 * backend: what the desktop window's IPC is bound to — the real cluster in the app's data folder,
 * or with `--lab` (or RAFTDECK_LAB=1) a lab cluster, or an attached etcd cluster
 * (main/web/backends.ts picks).
 */
import {
  attachRequestOf,
  engineRequestOf,
  openBackend,
  openLabBackend,
  openRecordingBackend,
  openRequestedAttach,
  rememberAttach,
  rememberedAttach,
  wantsLab,
  type AttachRequest,
  type Backend,
} from '../web/backends';

export type { AttachRequest, Backend };
export {
  attachRequestOf,
  openLabBackend,
  openRecordingBackend,
  openRequestedAttach,
  rememberAttach,
  rememberedAttach,
  wantsLab,
};

export async function createBackend(
  clusterDir: string,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  return openBackend(clusterDir, wantsLab(argv, env), engineRequestOf(env));
}
