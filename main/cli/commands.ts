import type { CommandSpec, OptionSpec, ParsedArgs } from './args';

/** CommandModule is a command's implementation, loaded only when the command runs. */
export interface CommandModule {
  run(args: ParsedArgs, name: string): Promise<number>;
}

/** Command is one `raftdeck` command: its spec (for help and parsing) and its implementation. */
export interface Command {
  spec: CommandSpec;
  load(): Promise<CommandModule>;
}

/** DEFAULT_DATA_DIR: where a cluster lives unless --data says otherwise. */
export const DEFAULT_DATA_DIR = './.raftdeck-data';

const data = (help = 'the cluster folder'): OptionSpec => ({
  name: 'data',
  type: 'string',
  value: 'DIR',
  help,
  default: DEFAULT_DATA_DIR,
});
const json: OptionSpec = { name: 'json', type: 'boolean', help: 'print JSON instead of text' };
const endpoints: OptionSpec = {
  name: 'endpoints',
  type: 'string',
  value: 'HOST:PORT,...',
  help: 'client addresses of the nodes (instead of reading DIR/cluster.json)',
};
const timeout = (def: number, help = 'how long to keep trying'): OptionSpec => ({
  name: 'timeout-ms',
  type: 'int',
  value: 'N',
  help,
  default: def,
  min: 100,
  max: 3_600_000,
});

/** hostOptions: the bounds of the nodes and of the control port, options of `start`, `serve` and `app`. */
const hostOptions: OptionSpec[] = [
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

const kvExit = [
  '0  done',
  '1  failed (no node reachable, no leader in time; a write did not take effect)',
  '2  bad arguments',
  '3  outcome unknown: the write may or may not have taken effect',
];

const kv = (
  name: string,
  usage: string[],
  summary: string,
  description: string,
  positionals: CommandSpec['positionals'],
  extra: OptionSpec[] = [],
  examples: string[] = [],
): Command => ({
  spec: {
    name,
    summary,
    usage,
    description,
    positionals,
    options: [
      ...extra,
      endpoints,
      data('the cluster folder whose cluster.json lists the nodes'),
      timeout(5000),
      json,
    ],
    examples,
    exitCodes:
      name === 'cas'
        ? [
            ...kvExit.slice(0, 1),
            '1  failed, or the key did not hold OLD (not swapped)',
            ...kvExit.slice(2),
          ]
        : kvExit,
  },
  load: () => import('./commands/kv'),
});

/** MEMBERSHIP_EXIT: the exit codes of the workflows that change the configuration. */
const MEMBERSHIP_EXIT = [
  '0  done',
  '1  failed (the reason is printed)',
  '2  bad arguments',
  '3  outcome unknown: the change was made but not seen committed, and may still take effect',
];

const control = (
  name: string,
  usage: string[],
  summary: string,
  description: string,
  positionals: CommandSpec['positionals'],
  extra: OptionSpec[] = [],
  examples: string[] = [],
  exitCodes: string[] = ['0  done', '1  failed (the reason is printed)', '2  bad arguments'],
): Command => ({
  spec: {
    name,
    summary,
    usage,
    description: `${description}\n\nActs on the cluster of a running \`raftdeck start\` (or \`raftdeck serve\`) through its control port (DIR/control.json).`,
    positionals,
    options: [...extra, data('the folder of the running cluster')],
    examples,
    exitCodes,
  },
  load: () => import('./commands/control'),
});

/** serveOptions: how `serve` and `app` serve the dashboard (the data folder aside). */
const serveOptions: OptionSpec[] = [
  {
    name: 'port',
    type: 'int',
    value: 'N',
    help: 'port to listen on (0: a free one)',
    default: 0,
    min: 0,
    max: 65_535,
  },
  {
    name: 'nodes',
    type: 'int',
    value: 'N',
    help: 'voters of a new cluster',
    default: 3,
    min: 1,
    max: 9,
  },
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

/** COMMANDS: every `raftdeck` command, in the order help lists them. */
export const COMMANDS: Command[] = [
  {
    spec: {
      name: 'start',
      summary: 'run a cluster in the foreground with a live status table',
      usage: ['start [--nodes 3] [--data DIR] [--json] [--heartbeat-ms 100] [--election-ms 1000]'],
      description: `Starts a cluster of real node processes in DIR (or brings back the one DIR holds, with its own
node count and timing) and shows a live status table: each node's process, role, term, commit,
applied, lag and health, and the latest events. When stdout is not a terminal, or with --json,
it prints one JSON object per line instead: first {"event":"started",...} with every node's id,
pid and addresses, then "view" and "cluster-event" lines.

While it runs, the other commands reach the cluster through DIR: cluster.json (addresses),
admin-token (the nodes' admin token, mode 0600) and control.json (a loopback control port for
faults and membership changes). Ctrl-C or SIGTERM stops every node, then it exits 0.`,
      positionals: [],
      options: [
        {
          name: 'nodes',
          type: 'int',
          value: 'N',
          help: 'voters of a new cluster',
          default: 3,
          min: 1,
          max: 9,
        },
        data(),
        { name: 'json', type: 'boolean', help: 'one JSON object per line instead of the table' },
        {
          name: 'heartbeat-ms',
          type: 'int',
          value: 'N',
          help: 'heartbeat interval of a new cluster',
          default: 100,
          min: 10,
          max: 60_000,
        },
        {
          name: 'election-ms',
          type: 'int',
          value: 'N',
          help: 'election timeout of a new cluster',
          default: 1000,
          min: 20,
          max: 600_000,
        },
        ...hostOptions,
      ],
      examples: ['raftdeck start', 'raftdeck start --nodes 5 --data /tmp/demo --json'],
      exitCodes: [
        '0  stopped by Ctrl-C / SIGTERM',
        '1  the cluster could not start',
        '2  bad arguments',
      ],
    },
    load: () => import('./commands/start'),
  },
  kv(
    'put',
    ['put KEY VALUE [--endpoints HOST:PORT,... | --data DIR]'],
    'write a key',
    'Writes VALUE under KEY and prints the previous value and the node that answered.',
    [{ name: 'KEY' }, { name: 'VALUE' }],
    [],
    ['raftdeck put greeting hello', 'raftdeck put k v --endpoints 127.0.0.1:21001,127.0.0.1:21002'],
  ),
  kv(
    'get',
    ['get KEY [--endpoints HOST:PORT,... | --data DIR]'],
    'read a key (linearizable)',
    'Reads KEY (a linearizable read through the leader) and prints its value and the node that answered.',
    [{ name: 'KEY' }],
  ),
  kv(
    'del',
    ['del KEY [--endpoints HOST:PORT,... | --data DIR]'],
    'delete a key',
    'Deletes KEY and prints what it held and the node that answered.',
    [{ name: 'KEY' }],
  ),
  kv(
    'cas',
    [
      'cas KEY OLD NEW [--endpoints HOST:PORT,... | --data DIR]',
      'cas KEY --absent NEW',
      'cas KEY - NEW',
    ],
    'compare-and-set a key',
    "Sets KEY to NEW only if it holds OLD. OLD '-' or --absent means the key must be absent.",
    [{ name: 'KEY' }, { name: 'OLD' }, { name: 'NEW', optional: true }],
    [{ name: 'absent', type: 'boolean', help: 'swap only if KEY is absent (then give KEY NEW)' }],
    ['raftdeck cas counter 1 2', 'raftdeck cas lock --absent me'],
  ),
  {
    spec: {
      name: 'status',
      summary: "one status table from every node's admin interface",
      usage: ['status [--data DIR] [--json]'],
      description: `Asks every node listed in DIR/cluster.json for its status over the admin interface (with the
token in DIR/admin-token, written by a running \`raftdeck start\`) and prints one table: role,
term, leader, commit, applied, last index, lag behind the leader and health.`,
      positionals: [],
      options: [data(), json, timeout(2000, 'how long to wait for each node')],
      exitCodes: ['0  at least one node answered', '1  no node answered', '2  bad arguments'],
    },
    load: () => import('./commands/status'),
  },
  {
    spec: {
      name: 'limits',
      summary: 'the bounds of every port, and what they refused or closed',
      usage: ['limits [--data DIR] [--json]'],
      description: `Shows the bounds of every port of the running cluster in DIR and what they have refused or
closed since they started: each node's peer port (connections, handshakes still to complete and
their timeout), client port (connections, idle timeout), admin port
(connections waiting for their token, sessions, timeouts), budget for incomplete frames and log;
the control port; and, under \`raftdeck serve\`, the web server. The nodes' figures come from
their admin status, the others from the control port.`,
      positionals: [],
      options: [data(), json, timeout(2000, 'how long to wait for each node')],
      exitCodes: ['0  figures printed', '1  nothing answered', '2  bad arguments'],
    },
    load: () => import('./commands/limits'),
  },
  control(
    'add-node',
    ['add-node [--data DIR]'],
    'add a node (spawn → learner → catch up → promote → committed)',
    'Adds a new node to the cluster and prints each step of the workflow as it happens.',
    [],
    [],
    [],
    MEMBERSHIP_EXIT,
  ),
  control(
    'remove-node',
    ['remove-node ID [--data DIR]'],
    'remove a node (config committed → node exits → data removed)',
    'Removes node ID from the cluster and prints each step of the workflow as it happens. It refuses when removing the node would lose quorum.',
    [{ name: 'ID' }],
    [],
    [],
    MEMBERSHIP_EXIT,
  ),
  control(
    'replace-node',
    ['replace-node ID [--data DIR]'],
    'replace a node by a fresh one (remove it, then add a node with a new id and folder)',
    `Replaces node ID by a fresh node and prints each step as it happens: node ID is removed from
the configuration (refused when that would lose quorum), stopped if it runs, and its data folder
removed; then a new node, with the next id and its own folder, is spawned empty, added as a
learner, caught up and promoted (a learner is replaced by a learner).

This is the way back for a node whose data folder is gone, which the cluster refuses to start
again: an empty node under its old id could help elect a leader that lacks committed entries.`,
    [{ name: 'ID' }],
    [],
    ['raftdeck replace-node 2'],
    MEMBERSHIP_EXIT,
  ),
  control(
    'transfer-leader',
    ['transfer-leader ID [--data DIR]'],
    'hand leadership to node ID',
    'Asks the leader to catch node ID up and hand leadership over, and waits until ID leads.',
    [{ name: 'ID' }],
  ),
  control(
    'fault',
    [
      'fault kill|stop|restart|pause|resume|isolate ID',
      'fault partition 1,2 3',
      'fault delay ID --to PEER --ms N [--jitter N]',
      'fault drop ID --to PEER --p 0.3',
      'fault slow-disk ID --ms N',
      'fault clear',
    ],
    'inject a fault (kill, pause, isolate, partition, delay, drop, slow disk)',
    `Injects a fault into the running cluster:
  kill ID       SIGKILL the node's process          stop ID      stop it gracefully
  restart ID    (re)start the node's process        pause ID     SIGSTOP (resume ID: SIGCONT)
  isolate ID    cut the node off from every peer
  partition G1 G2 ...   split into groups (comma-separated ids) that cannot talk across;
                        nodes in no group stand alone
  delay ID --to PEER --ms N [--jitter N]   delay what ID sends to PEER ('*' = every peer)
  drop ID --to PEER --p P                  drop what ID sends to PEER with probability P
  slow-disk ID --ms N   add N ms to every fsync of ID (0 restores it)
  clear         heal the network, restore disks, resume paused nodes
Link rules add up until \`raftdeck heal\`.`,
    [{ name: 'KIND' }, { name: 'ARGS', optional: true, variadic: true }],
    [
      {
        name: 'to',
        type: 'string',
        value: 'PEER',
        help: 'the peer a delay or drop applies to (an id, or * for all)',
      },
      {
        name: 'ms',
        type: 'int',
        value: 'N',
        help: 'milliseconds of delay (delay) or per fsync (slow-disk)',
        min: 0,
        max: 600_000,
      },
      {
        name: 'jitter',
        type: 'int',
        value: 'N',
        help: 'random ± milliseconds added to a delay',
        min: 0,
        max: 600_000,
      },
      {
        name: 'p',
        type: 'number',
        value: 'P',
        help: 'probability of dropping a message, 0 to 1',
        min: 0,
        max: 1,
      },
    ],
    [
      'raftdeck fault kill 2',
      'raftdeck fault partition 1,2 3',
      'raftdeck fault delay 1 --to 2 --ms 200 --jitter 50',
    ],
  ),
  control(
    'heal',
    ['heal [--data DIR]'],
    'remove partitions, isolation and link rules',
    'Heals the network: removes partitions, isolation and every link rule (slow disks and paused nodes stay; `raftdeck fault clear` restores those too).',
    [],
  ),
  {
    spec: {
      name: 'load',
      summary: 'run a client workload; optionally check linearizability',
      usage: [
        'load [--clients 8] [--seconds 30] [--keys 20] [--reads 0.5] [--cas 0.1] [--rate 0] [--check] [--history FILE]',
      ],
      description: `Runs N concurrent clients against a running cluster, each with one operation in flight, over a key
space with a read / write / compare-and-set mix, and prints throughput and latency every second and
totals at the end. Every operation is recorded; --check runs the linearizability checker on the
history, --history writes it to FILE (JSON, readable by \`raftdeck check\`).`,
      positionals: [],
      options: [
        {
          name: 'clients',
          type: 'int',
          value: 'N',
          help: 'concurrent clients',
          default: 8,
          min: 1,
          max: 256,
        },
        {
          name: 'seconds',
          type: 'number',
          value: 'S',
          help: 'how long to run',
          default: 30,
          min: 0.1,
          max: 86_400,
        },
        {
          name: 'keys',
          type: 'int',
          value: 'N',
          help: 'size of the key space',
          default: 20,
          min: 1,
          max: 1_000_000,
        },
        {
          name: 'reads',
          type: 'number',
          value: 'R',
          help: 'fraction of reads',
          default: 0.5,
          min: 0,
          max: 1,
        },
        {
          name: 'cas',
          type: 'number',
          value: 'C',
          help: 'fraction of compare-and-sets (the rest are puts)',
          default: 0.1,
          min: 0,
          max: 1,
        },
        {
          name: 'rate',
          type: 'number',
          value: 'OPS',
          help: 'target operations per second over all clients (0: as fast as possible)',
          default: 0,
          min: 0,
          max: 1_000_000,
        },
        {
          name: 'check',
          type: 'boolean',
          help: 'check the history for linearizability at the end',
        },
        {
          name: 'check-timeout-ms',
          type: 'int',
          value: 'N',
          help: 'time allowed for the check',
          default: 60_000,
          min: 100,
          max: 3_600_000,
        },
        {
          name: 'history',
          type: 'string',
          value: 'FILE',
          help: 'write the recorded history to FILE',
        },
        endpoints,
        data('the cluster folder whose cluster.json lists the nodes'),
        json,
      ],
      examples: [
        'raftdeck load --clients 8 --seconds 30 --check',
        'raftdeck load --seconds 10 --rate 500 --history run.json',
      ],
      exitCodes: [
        '0  done (and linearizable, with --check)',
        '1  no node reachable, or not linearizable',
        '2  bad arguments',
        '3  the check was undecided in the time allowed',
      ],
    },
    load: () => import('./commands/load'),
  },
  {
    spec: {
      name: 'check',
      summary: 'check a recorded history for linearizability',
      usage: ['check FILE [--format json|jepsen] [--timeout-ms N]'],
      description: `Checks a history file with the Porcupine-style linearizability checker, key by key. FILE is a
raftdeck history (JSON, as \`raftdeck load --history\` writes it) or a Jepsen register test log
(\`INFO jepsen.util - P :invoke :read nil\` lines). Without --format the kind is detected from the
content. When the history is not linearizable it prints the key, the explanation and the failing
window.`,
      positionals: [{ name: 'FILE' }],
      options: [
        {
          name: 'format',
          type: 'string',
          value: 'json|jepsen',
          help: 'the file format (default: detect)',
        },
        {
          name: 'key',
          type: 'string',
          value: 'KEY',
          help: 'the key name for a Jepsen register',
          default: 'register',
        },
        timeout(60_000, 'time allowed for the check'),
        json,
      ],
      examples: ['raftdeck check run.json', 'raftdeck check etcd_002.log --format jepsen'],
      exitCodes: [
        '0  linearizable',
        '1  not linearizable',
        '2  bad arguments or a bad file',
        '3  undecided in the time allowed',
      ],
    },
    load: () => import('./commands/check'),
  },
  {
    spec: {
      name: 'scenario',
      summary: 'run a scripted scenario on a temporary cluster',
      usage: ['scenario NAME [--data DIR] [--keep]', 'scenario --list'],
      description: `Runs a scripted sequence of faults and expectations (a leader crash, a partition, a membership
change under load, ...) and narrates each step. Without --data it starts its own temporary cluster
with short timeouts in a temporary folder and removes it afterwards; with --data it runs the
cluster in DIR (which must not be running already).`,
      positionals: [{ name: 'NAME', optional: true }],
      options: [
        { name: 'list', type: 'boolean', help: 'list the scenarios' },
        {
          name: 'data',
          type: 'string',
          value: 'DIR',
          help: 'run on the cluster in DIR instead of a temporary one',
        },
        {
          name: 'nodes',
          type: 'int',
          value: 'N',
          help: 'voters of the temporary cluster',
          default: 3,
          min: 1,
          max: 9,
        },
        { name: 'keep', type: 'boolean', help: 'keep the temporary folder (its path is printed)' },
        { name: 'verbose', type: 'boolean', help: 'also print the cluster events' },
        json,
      ],
      examples: ['raftdeck scenario --list', 'raftdeck scenario leader-crash'],
      exitCodes: ['0  passed', '1  failed', '2  bad arguments (or an unknown scenario)'],
    },
    load: () => import('./commands/scenario'),
  },
  {
    spec: {
      name: 'serve',
      summary: 'the dashboard in a browser, over a cluster it runs',
      usage: ['serve [--port N] [--nodes N] [--data DIR]'],
      description: `Starts the cluster in DIR (like \`raftdeck start\`) and serves the dashboard on
http://127.0.0.1:PORT with a session token; open the printed URL in a browser. The other commands
work against it as they do against \`raftdeck start\`. Ctrl-C stops everything.`,
      positionals: [],
      options: [data(), ...serveOptions],
      exitCodes: ['0  stopped by Ctrl-C / SIGTERM', '1  could not start', '2  bad arguments'],
    },
    load: () => import('./commands/serve'),
  },
  {
    spec: {
      name: 'app',
      summary: 'the desktop app; browser mode where it cannot open (what npm start runs)',
      usage: ['app [--data DIR] [--port N] [--no-open]'],
      description: `Opens the desktop dashboard over the app's cluster (started on first launch, brought back
on later ones). Where the desktop window cannot open — Electron's binary is not installed (its
download was skipped with ELECTRON_SKIP_BINARY_DOWNLOAD, or failed behind a proxy), or there is no
display — it says why in one line and serves the same dashboard in browser mode over the same
folder, printing its URL (as \`serve\` does) and opening the default browser when there is a display.

The app's folder is RAFTDECK_DATA if set, else "raftdeck/cluster" in the user's application data
(~/.config on Linux).`,
      positionals: [],
      options: [
        {
          name: 'data',
          type: 'string',
          value: 'DIR',
          help: "the cluster folder (default: the app's folder, see above)",
        },
        { name: 'no-open', type: 'boolean', help: 'in browser mode, do not open a browser' },
        ...serveOptions,
      ],
      exitCodes: [
        '0  closed (desktop) or stopped by Ctrl-C / SIGTERM (browser mode)',
        '1  could not start',
        '2  bad arguments',
      ],
    },
    load: () => import('./commands/app'),
  },
];

/** findCommand returns the command called `name`, if there is one. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.spec.name === name);
}
