/**
 * options: the option specs several commands share (the cluster folder, --json, --endpoints,
 * --timeout-ms, the bounds of a hosted cluster and of the web server) and the exit-code lines the
 * key-value and membership commands have in common.
 */
import type { PaceView } from '../contract/view';
import { defaultFastFailover } from '../view/pace';
import { DEFAULT_DATA_DIR, UsageError, type OptionSpec, type ParsedArgs } from './args';

/** dataOption: `--data DIR`, the cluster folder; `help` says which folder it is for this command. */
export const dataOption = (help = 'the cluster folder'): OptionSpec => ({
  name: 'data',
  type: 'string',
  value: 'DIR',
  help,
  default: DEFAULT_DATA_DIR,
});

export const jsonOption: OptionSpec = {
  name: 'json',
  type: 'boolean',
  help: 'print JSON instead of text',
};

export const endpointsOption: OptionSpec = {
  name: 'endpoints',
  type: 'string',
  value: 'HOST:PORT,...',
  help: 'client addresses of the nodes (instead of reading DIR/cluster.json)',
};

/** timeoutOption: `--timeout-ms N`, from 100 ms to an hour, `def` by default. */
export const timeoutOption = (def: number, help = 'how long to keep trying'): OptionSpec => ({
  name: 'timeout-ms',
  type: 'int',
  value: 'N',
  help,
  default: def,
  min: 100,
  max: 3_600_000,
});

/** kvOptions: the options every key-value command ends with. */
export const kvOptions: OptionSpec[] = [
  endpointsOption,
  dataOption('the cluster folder whose cluster.json lists the nodes'),
  timeoutOption(5000),
  jsonOption,
];

/** KV_EXIT: the exit codes of the key-value commands. */
export const KV_EXIT = [
  '0  done',
  '1  failed (no node reachable, no leader in time; a write did not take effect)',
  '2  bad arguments',
  '3  outcome unknown: the write may or may not have taken effect',
];

/** CONTROL_NOTE ends the description of every command that acts through the control port. */
export const CONTROL_NOTE =
  'Acts on the cluster of a running `raftdeck start` (or `raftdeck serve`) through its control port (DIR/control.json).';

/** controlDataOption: `--data DIR` of the commands that act through the control port. */
export const controlDataOption = dataOption('the folder of the running cluster');

/** CONTROL_EXIT: the exit codes of the control commands that are not membership changes. */
export const CONTROL_EXIT = ['0  done', '1  failed (the reason is printed)', '2  bad arguments'];

/** MEMBERSHIP_EXIT: the exit codes of the workflows that change the configuration. */
export const MEMBERSHIP_EXIT = [
  '0  done',
  '1  failed (the reason is printed)',
  '2  bad arguments',
  '3  outcome unknown: the change was made but not seen committed, and may still take effect',
];

/**
 * engineOptions: which engine runs a new cluster, and which etcd binary (start, serve, app). A
 * folder that holds a cluster keeps its engine.
 */
export const engineOptions: OptionSpec[] = [
  {
    name: 'engine',
    type: 'string',
    value: 'raftdeck|etcd',
    help: "the engine of a new cluster: raftdeck's own nodes (default) or etcd (the `etcd` binary: apt-get install etcd-server); a folder that holds a cluster keeps its engine",
  },
  {
    name: 'etcd-bin',
    type: 'string',
    value: 'PATH',
    help: 'the etcd binary to run (default: etcd on PATH; 3.4 and 3.5 work)',
  },
];

/** engineOf reads --engine (undefined: not given); anything but raftdeck or etcd is a usage error. */
export function engineOf(args: ParsedArgs): 'raftdeck' | 'etcd' | undefined {
  const v = args.string('engine');
  if (v === undefined) return undefined;
  if (v !== 'raftdeck' && v !== 'etcd')
    throw new UsageError(`--engine must be raftdeck or etcd, not ${JSON.stringify(v)}`);
  return v;
}

/** hostOptions: the bounds of the nodes and of the control port, options of `start`, `serve` and `app`. */
export const hostOptions: OptionSpec[] = [
  ...engineOptions,
  {
    name: 'node-flags',
    type: 'string',
    value: '"FLAGS"',
    help: 'bounds for every node, e.g. "--max-client-connections 2048 --log-keep 5" (raftdeck-node --help lists them); kept in cluster.json for later starts',
  },
  {
    name: 'record-limit',
    type: 'int',
    value: 'MIB',
    help: "the most the cluster's recording (DIR/recording) may take, in MiB (default 256; 4 at least; 0: record nothing on disk); the oldest part is dropped beyond it; kept in cluster.json for later starts",
  },
  {
    name: 'control-max-pending',
    type: 'int',
    value: 'N',
    help: 'control connections still to send their request; when full, the oldest is closed',
    default: 32,
    min: 1,
    max: 100_000,
  },
  {
    name: 'control-max-active',
    type: 'int',
    value: 'N',
    help: 'control commands carried out at once; one more is answered "busy"',
    default: 16,
    min: 1,
    max: 10_000,
  },
];

/** nodesOption: how many voters a new cluster starts with (start, serve, app). */
export const nodesOption: OptionSpec = {
  name: 'nodes',
  type: 'int',
  value: 'N',
  help: 'voters of a new cluster',
  default: 3,
  min: 1,
  max: 9,
};

/** serveOptions: how `serve` and `app` serve the dashboard (the data folder aside). */
export const serveOptions: OptionSpec[] = [
  {
    name: 'port',
    type: 'int',
    value: 'N',
    help: 'port to listen on (0: a free one)',
    default: 0,
    min: 0,
    max: 65_535,
  },
  nodesOption,
  {
    name: 'web-max-pending',
    type: 'int',
    value: 'N',
    help: 'connections that have not presented the token yet; when full, the oldest idle one is closed',
    default: 256,
    min: 1,
    max: 100_000,
  },
  {
    name: 'web-max-sessions',
    type: 'int',
    value: 'N',
    help: 'connections that presented the token (pages, API calls, WebSockets)',
    default: 64,
    min: 1,
    max: 100_000,
  },
  {
    name: 'web-max-sockets',
    type: 'int',
    value: 'N',
    help: 'dashboard WebSockets (one per open page)',
    default: 16,
    min: 1,
    max: 10_000,
  },
  ...hostOptions,
];

/** paceOption: `--pace N`, the demo pace (start, serve, scenario, pace). */
export const paceOption: OptionSpec = {
  name: 'pace',
  type: 'int',
  value: 'N',
  help: 'run every node N times slower than real time: ticks, heartbeats and election timeouts N times longer, every message held 10×N ms',
  default: 1,
  min: 1,
  max: 100,
};

/** fastFailoverOption: `--fast-failover on|off`, with its default by the pace. */
export const fastFailoverOption: OptionSpec = {
  name: 'fast-failover',
  type: 'string',
  value: 'on|off',
  help: "followers campaign at once when the leader's process is gone (default: on at --pace 1, off slower, so an election timeout is seen)",
};

/** paceOptions: the options that set the pace of a cluster a command starts. */
export const paceOptions: OptionSpec[] = [paceOption, fastFailoverOption];

/**
 * paceOf reads --pace and --fast-failover: the pace (1 when not given) and fast failover as
 * given, else on at real time and off when slowed down.
 */
export function paceOf(args: ParsedArgs): PaceView {
  return paceFrom(args.number('pace') ?? 1, args.string('fast-failover'));
}

/** paceFrom: the pace `pace` with `--fast-failover` as given (`ff`), else by the pace's default. */
export function paceFrom(pace: number, ff: string | undefined): PaceView {
  if (ff === undefined) return { pace, fastFailover: defaultFastFailover(pace) };
  if (ff !== 'on' && ff !== 'off')
    throw new UsageError(`--fast-failover must be on or off, not ${JSON.stringify(ff)}`);
  return { pace, fastFailover: ff === 'on' };
}
