/**
 * options: the option specs several commands share (the cluster folder, --json, --endpoints,
 * --timeout-ms, the bounds of a hosted cluster and of the web server) and the exit-code lines the
 * key-value and membership commands have in common.
 */
import { DEFAULT_DATA_DIR, type OptionSpec } from './args';

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

/** hostOptions: the bounds of the nodes and of the control port, options of `start`, `serve` and `app`. */
export const hostOptions: OptionSpec[] = [
  {
    name: 'node-flags',
    type: 'string',
    value: '"FLAGS"',
    help: 'bounds for every node, e.g. "--max-client-connections 2048 --log-keep 5" (raftdeck-node --help lists them); kept in cluster.json for later starts',
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
