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
  const running = liveControl(dir);
  if (running)
    throw new CliError(
      `a cluster is already running from ${dir} (pid ${running.pid}); stop it first, or use another --data`,
    );
  makePrivateDir(dir);
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
  const engine = new RaftdeckEngine(sup);
  let control: ControlServer;
  try {
    control = await startControlServer(engine, { limits: o.controlLimits });
  } catch (e) {
    await sup.stop();
    removeRunFiles(dir);
    throw new CliError(`could not open the control port: ${(e as Error).message}`);
  }
  const info: ControlInfo = {
    port: control.port,
    token: control.token,
    pid: process.pid,
    clusterId: sup.manifest.clusterId,
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
