/**
 * host runs a cluster for `raftdeck start` and `raftdeck serve`: a Supervisor on the cluster
 * folder, the admin token and the control port written for the other commands, and one stop()
 * that undoes all of it. Only loopback addresses are used.
 */
import { join, resolve } from 'node:path';
import { connectAdmin } from '../cluster/admin-link';
import { openClusterRecording } from '../cluster/recording/cluster-recording';
import { recordPushes, type Recording } from '../cluster/recording/recording';
import type { ClusterEngine } from '../cluster/engine';
import { RaftdeckEngine } from '../cluster/raftdeck-engine';
import { Supervisor, type SupervisorOptions } from '../cluster/supervisor';
import { folderEngine } from '../cluster/manifest';
import { makePrivateDir } from '../node/private-files';
import { checkRecordLimit } from '../cluster/recording/file-recording';
import { CliError, UsageError } from './args';
import {
  ADMIN_TOKEN_FILE,
  CONTROL_FILE,
  liveControl,
  removeRunFiles,
  writePrivate,
  type ControlInfo,
} from './cluster-files';
import { startControlServer, type ControlLimits, type ControlServer } from './control-server';
import { cliNodeCommand } from './node-command';

/** HostOptions: where the cluster lives and how a new one is made. */
export interface HostOptions {
  dir: string;
  nodes?: number;
  timing?: SupervisorOptions['timing'];
  snapshotEntries?: number;
  snapshotChunkBytes?: number;
  /** controlLimits: bounds of the control port that differ from its defaults. */
  controlLimits?: Partial<ControlLimits>;
  /** nodeFlags: bounds for every node (SupervisorOptions.nodeFlags). */
  nodeFlags?: string[];
  /** pace: the demo pace to start every node at (SupervisorOptions.pace). */
  pace?: SupervisorOptions['pace'];
  /** recordLimitMiB: the recording's bound (SupervisorOptions.recordLimitMiB). */
  recordLimitMiB?: number;
  /**
   * engine: the engine of a new cluster (default raftdeck); a folder that holds a cluster keeps
   * its own, and asking for another is an error naming both.
   */
  engine?: 'raftdeck' | 'etcd';
  /** etcdBin: the etcd binary (default: etcd on PATH). */
  etcdBin?: string;
  /**
   * record: record the cluster into its folder (default true); `serve` records through its
   * dashboard instead.
   */
  record?: boolean;
}

/** HostedCluster is a running cluster with its control port. */
export interface HostedCluster {
  /** engine: the cluster, whichever engine runs it. */
  engine: ClusterEngine;
  /** sup: the Supervisor of raftdeck's own nodes (undefined on another engine). */
  sup: Supervisor | undefined;
  control: ControlServer;
  /** pids: the node processes running now. */
  pids(): number[];
  /** recording: what the host records into (none when HostOptions.record is false). */
  recording: Recording | undefined;
  stop(): Promise<void>;
}

/** hostCluster starts (or brings back) the cluster in o.dir and opens its control port. */
export async function hostCluster(o: HostOptions): Promise<HostedCluster> {
  const dir = resolve(o.dir);
  const held = folderEngine(dir);
  if (held !== undefined && o.engine !== undefined && held !== o.engine)
    throw new CliError(
      `${dir} holds a cluster of ${held === 'etcd' ? 'etcd' : "raftdeck's own nodes"}, not ${o.engine}: use another --data for a new ${o.engine} cluster`,
    );
  const running = liveControl(dir);
  if (running)
    throw new CliError(
      `a cluster is already running from ${dir} (pid ${running.pid}); stop it first, or use another --data`,
    );
  makePrivateDir(dir);
  if ((held ?? o.engine) === 'etcd') return hostEtcd(dir, o);
  if (o.etcdBin !== undefined) throw new UsageError('--etcd-bin needs --engine etcd');
  const sup: Supervisor = new Supervisor({
    dir,
    nodes: o.nodes,
    timing: o.timing,
    snapshotEntries: o.snapshotEntries,
    snapshotChunkBytes: o.snapshotChunkBytes,
    nodeFlags: o.nodeFlags,
    pace: o.pace,
    recordLimitMiB: o.recordLimitMiB,
    connect: connectAdmin,
    command: cliNodeCommand(),
  });
  // The supervisor takes the folder's lock first: until then the run files may be another
  // running cluster's, and are neither written nor removed.
  try {
    await sup.start();
  } catch (e) {
    throw new CliError(`the cluster in ${dir} could not start: ${(e as Error).message}`);
  }
  writePrivate(join(dir, ADMIN_TOKEN_FILE), `${sup.token}\n`);
  return hostEngine(dir, o, new RaftdeckEngine(sup), sup);
}

/** hostEtcd starts (or brings back) the local etcd cluster in `dir`. */
async function hostEtcd(dir: string, o: HostOptions): Promise<HostedCluster> {
  if (o.nodeFlags !== undefined)
    throw new UsageError("--node-flags sets bounds of raftdeck's own nodes, not etcd members");
  if (o.pace !== undefined && o.pace.pace !== 1)
    throw new UsageError(
      "--pace slows raftdeck's own nodes; etcd's timeouts are fixed when a member starts",
    );
  const { EtcdEngine } = await import('../cluster/etcd/etcd-engine');
  const engine = new EtcdEngine({
    dir,
    nodes: o.nodes,
    timing: o.timing,
    etcdBin: o.etcdBin,
    recordLimitMiB: o.recordLimitMiB,
  });
  try {
    await engine.start();
  } catch (e) {
    throw new CliError(`the etcd cluster in ${dir} could not start: ${(e as Error).message}`);
  }
  return hostEngine(dir, o, engine, undefined);
}

/** hostEngine opens the control port of a started engine and writes the run files. */
async function hostEngine(
  dir: string,
  o: HostOptions,
  engine: ClusterEngine,
  sup: Supervisor | undefined,
): Promise<HostedCluster> {
  let control: ControlServer;
  try {
    control = await startControlServer(engine, { limits: o.controlLimits });
  } catch (e) {
    await engine.stop();
    removeRunFiles(dir);
    throw new CliError(`could not open the control port: ${(e as Error).message}`);
  }
  const info: ControlInfo = {
    port: control.port,
    token: control.token,
    pid: process.pid,
    clusterId: engine.clusterId,
  };
  writePrivate(join(dir, CONTROL_FILE), `${JSON.stringify(info)}\n`);
  const recording = o.record === false ? undefined : openClusterRecording(engine);
  const stopRecording = recording ? recordPushes(engine, recording) : () => undefined;
  let stopped: Promise<void> | undefined;
  return {
    engine,
    sup,
    control,
    recording,
    pids: () => engine.pids(),
    stop: () =>
      (stopped ??= (async () => {
        await control.close();
        await engine.stop();
        stopRecording();
        await recording?.close();
        removeRunFiles(dir);
      })()),
  };
}

/** forceKill sends SIGKILL to every pid that is still alive (a last resort on a second Ctrl-C). */
export function forceKill(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** waitForSignal resolves on the first stop signal; a second one runs `onSecond`. */
export function waitForSignal(onSecond: () => void): { promise: Promise<string>; dispose(): void } {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  let count = 0;
  const handler = (sig: string): void => {
    count++;
    if (count === 1) resolve(sig);
    else onSecond();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return { promise, dispose: () => SIGNALS.forEach((s) => process.off(s, handler)) };
}

/** nodeFlagsOf reads `--node-flags` (flags separated by spaces), or undefined when not given. */
export function nodeFlagsOf(args: {
  string(name: string): string | undefined;
}): string[] | undefined {
  const v = args.string('node-flags');
  return v === undefined ? undefined : v.split(/\s+/).filter((f) => f !== '');
}

/**
 * recordLimitOf reads `--record-limit MIB` (0: no recording on disk), or undefined when not
 * given; a value outside the range is a usage error naming it.
 */
export function recordLimitOf(args: {
  number(name: string): number | undefined;
}): number | undefined {
  const v = args.number('record-limit');
  if (v === undefined) return undefined;
  try {
    return checkRecordLimit(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** controlLimitsOf reads the control port's bounds from `start` and `serve` options. */
export function controlLimitsOf(args: {
  number(name: string): number | undefined;
}): Partial<ControlLimits> {
  return {
    maxPending: args.number('control-max-pending'),
    maxActive: args.number('control-max-active'),
  };
}
