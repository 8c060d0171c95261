/**
 * backends: the one place that picks what a dashboard window is bound to: the real cluster in a
 * folder (started on first use, brought back on later ones), a lab cluster (the production Raft
 * core on a simulated network in this process, main/lab), an etcd cluster raftdeck did not start
 * (attached by its client endpoints), or a recording. The desktop shell and browser mode both
 * open their backend here.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterDashboard, startEngineDashboard } from '../cluster/dashboard';
import type { TlsFiles } from '../cluster/etcd/etcd-client';
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

/**
 * engineRequestOf: the engine asked for a new cluster (RAFTDECK_ENGINE, set by `raftdeck app
 * --engine`), and the etcd binary (RAFTDECK_ETCD_BIN); a bad engine name is an error naming it.
 */
export function engineRequestOf(env: NodeJS.ProcessEnv): {
  engine?: 'raftdeck' | 'etcd';
  etcdBin?: string;
} {
  const e = env.RAFTDECK_ENGINE;
  if (e !== undefined && e !== '' && e !== 'raftdeck' && e !== 'etcd')
    throw new Error(`RAFTDECK_ENGINE=${JSON.stringify(e)}: expected raftdeck or etcd`);
  return {
    ...(e === 'raftdeck' || e === 'etcd' ? { engine: e } : {}),
    ...(env.RAFTDECK_ETCD_BIN ? { etcdBin: env.RAFTDECK_ETCD_BIN } : {}),
  };
}

/**
 * openBackend opens the cluster in `clusterDir` with the engine it holds (or `engine` for a new
 * folder), or a lab cluster when `lab` is set.
 */
export async function openBackend(
  clusterDir: string,
  lab: boolean,
  engine: { engine?: 'raftdeck' | 'etcd'; etcdBin?: string } = {},
): Promise<Backend> {
  if (lab) return openLabBackend();
  const local = await startEngineDashboard({ dir: clusterDir, ...engine });
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

/**
 * AttachRequest: which etcd cluster to attach to and how: client URLs, the paths of the TLS
 * files (--cacert/--cert/--key) and the etcd user. No secret: a password is never part of it
 * (it comes from RAFTDECK_ETCD_PASSWORD when the backend is opened).
 */
export interface AttachRequest {
  endpoints: string[];
  tls?: TlsFiles;
  user?: string;
}

/** ATTACH_ENV: the environment that carries an AttachRequest from `raftdeck app` to the shell. */
export const ATTACH_ENV = {
  endpoints: 'RAFTDECK_ATTACH',
  cacert: 'RAFTDECK_ETCD_CACERT',
  cert: 'RAFTDECK_ETCD_CERT',
  key: 'RAFTDECK_ETCD_KEY',
  user: 'RAFTDECK_ETCD_USER',
  password: 'RAFTDECK_ETCD_PASSWORD',
} as const;

/**
 * attachRequestOf: the attach the shell was started for: `--attach URL,...` among the arguments,
 * else RAFTDECK_ATTACH, with the TLS files and user from the environment (ATTACH_ENV); null when
 * neither is there.
 */
export function attachRequestOf(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): AttachRequest | null {
  const i = argv.findIndex((a) => a === '--attach' || a.startsWith('--attach='));
  const raw =
    i < 0 ? env[ATTACH_ENV.endpoints] : argv[i]!.includes('=') ? argv[i]!.slice(9) : argv[i + 1];
  if (raw === undefined) return null;
  const endpoints = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (endpoints.length === 0) throw new Error('--attach needs at least one etcd client URL');
  const tls: TlsFiles = {};
  for (const k of ['cacert', 'cert', 'key'] as const) {
    const path = env[ATTACH_ENV[k]];
    if (path) tls[k] = path;
  }
  const user = env[ATTACH_ENV.user];
  return {
    endpoints,
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(user ? { user } : {}),
  };
}

/**
 * openRequestedAttach opens the read-only attached backend `request` asks for: the TLS files are
 * read (an error names the file), and a user's password comes from RAFTDECK_ETCD_PASSWORD in
 * `env` (a user without it is refused, naming the variable).
 */
export async function openRequestedAttach(
  request: AttachRequest,
  env: NodeJS.ProcessEnv,
): Promise<AttachedBackend> {
  const { readTlsFiles } = await import('../cluster/etcd/etcd-client');
  const tls = request.tls ? readTlsFiles(request.tls) : undefined;
  let auth: { user: string; password: string } | undefined;
  if (request.user !== undefined) {
    const password = env[ATTACH_ENV.password];
    if (password === undefined) {
      throw new Error(
        `etcd user ${request.user} needs a password: set ${ATTACH_ENV.password} before starting raftdeck`,
      );
    }
    auth = { user: request.user, password };
  }
  return openAttachedBackend({
    endpoints: request.endpoints,
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
  });
}

/** ATTACH_FILE: where the app remembers the last attach, in its settings folder. */
export const ATTACH_FILE = 'attach.json';

/**
 * rememberAttach keeps `request` (endpoints, TLS file paths, user; no password exists in it) in
 * `settingsDir`/attach.json, readable by the user only, written whole (tmp, then rename).
 */
export function rememberAttach(settingsDir: string, request: AttachRequest): void {
  const file = join(settingsDir, ATTACH_FILE);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const kept: AttachRequest = {
    endpoints: [...request.endpoints],
    ...(request.tls ? { tls: { ...request.tls } } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
  };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * rememberedAttach: the attach kept in `settingsDir`, or null when there is none or the file is
 * not one (it is only a convenience: a bad file is ignored, not fatal).
 */
export function rememberedAttach(settingsDir: string): AttachRequest | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(settingsDir, ATTACH_FILE), 'utf8'));
  } catch {
    return null;
  }
  const o = parsed as Partial<AttachRequest> | null;
  if (
    !o ||
    !Array.isArray(o.endpoints) ||
    o.endpoints.length === 0 ||
    !o.endpoints.every((e) => typeof e === 'string')
  ) {
    return null;
  }
  const tls: TlsFiles = {};
  for (const k of ['cacert', 'cert', 'key'] as const) {
    const v = (o.tls as Record<string, unknown> | undefined)?.[k];
    if (typeof v === 'string') tls[k] = v;
  }
  return {
    endpoints: o.endpoints,
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(typeof o.user === 'string' ? { user: o.user } : {}),
  };
}
