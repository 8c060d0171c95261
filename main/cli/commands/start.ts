/**
 * start runs a cluster in the foreground: a live status table on a terminal, or one JSON object
 * per line otherwise. SIGINT, SIGTERM and SIGHUP stop every node and exit 0; a second signal
 * while stopping kills what is left with SIGKILL.
 */
import type { ClusterEvent } from '../../contract/view';
import { EXIT, UsageError, type ParsedArgs, type Command } from '../args';
import { nodesOption, dataOption, engineOf, hostOptions, paceOf, paceOptions } from '../options';
import { dataDir } from '../cluster-files';
import { eventLine, fit, nodeRows, rowsTable } from '../format';
import type { HostedCluster } from '../host';

const line = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

/** startedLine is the first JSON line: the cluster and every node's pid and addresses. */
function startedLine(h: HostedCluster): Record<string, unknown> {
  const v = h.engine.view();
  return {
    event: 'started',
    clusterId: v.clusterId,
    dir: v.dataDir,
    pid: process.pid,
    control: `127.0.0.1:${h.control.port}`,
    timing: h.engine.timing,
    pace: h.engine.pace,
    nodes: v.nodes.map((n) => ({
      id: n.id,
      pid: n.process.pid,
      client: n.addresses.client,
      admin: n.addresses.admin,
      peer: n.addresses.peer,
    })),
  };
}

/** runJson prints view and event lines until stopped; returns the function that ends it. */
function runJson(h: HostedCluster): () => void {
  line(startedLine(h));
  const printEvent = (e: ClusterEvent): void => line({ event: 'cluster-event', ...e });
  for (const e of h.engine.allEvents()) printEvent(e);
  const offEvent = h.engine.onEvent(printEvent);
  let last = '';
  const tick = (): void => {
    const v = h.engine.view();
    const body = {
      state: v.state,
      leader: v.leader,
      term: v.term,
      commit: v.commit,
      partitions: v.partitions,
      nodes: nodeRows(v),
    };
    const key = JSON.stringify(body);
    if (key === last) return;
    last = key;
    line({ event: 'view', time: v.now, ...body });
  };
  tick();
  const timer = setInterval(tick, 250);
  return () => {
    clearInterval(timer);
    tick();
    offEvent();
  };
}

/** runTable redraws the status table about four times a second on the terminal's alternate screen. */
function runTable(h: HostedCluster): () => void {
  const out = process.stdout;
  const recent: ClusterEvent[] = h.engine.allEvents().slice(-50);
  const offEvent = h.engine.onEvent((e) => {
    recent.push(e);
    if (recent.length > 50) recent.shift();
  });
  const restore = (): void => void out.write('\x1b[?25h\x1b[?1049l');
  process.on('exit', restore);
  out.write('\x1b[?1049h\x1b[?25l');
  const draw = (): void => {
    const v = h.engine.view();
    const width = out.columns || 100;
    const height = out.rows || 30;
    const leader = v.leader ? `leader ${v.leader}` : 'no leader';
    const head = [
      `raftdeck  cluster ${v.clusterId}  ${v.nodes.length} nodes  ${leader}  term ${v.term}  commit ${v.commit}${v.partitions ? `  partitioned ${v.partitions.map((g) => `{${g.join(',')}}`).join(' ')}` : ''}`,
      `data ${v.dataDir}  control 127.0.0.1:${h.control.port}${v.pace.pace === 1 ? '' : `  pace ${v.pace.pace}×`}  Ctrl-C to stop`,
      '',
      ...rowsTable(nodeRows(v)).split('\n'),
      '',
      'Latest events:',
    ];
    const room = Math.max(3, height - head.length - 1);
    const lines = [...head, ...recent.slice(-room).map((e) => `  ${eventLine(e)}`)];
    out.write(`\x1b[H${lines.map((l) => `${fit(l, width)}\x1b[K`).join('\n')}\x1b[J`);
  };
  draw();
  const timer = setInterval(draw, 250);
  return () => {
    clearInterval(timer);
    offEvent();
    restore();
    process.off('exit', restore);
  };
}

async function run(args: ParsedArgs): Promise<number> {
  const heartbeatMs = args.number('heartbeat-ms')!;
  const electionMs = args.number('election-ms')!;
  if (electionMs <= heartbeatMs)
    throw new UsageError(
      `--election-ms (${electionMs}) must be greater than --heartbeat-ms (${heartbeatMs})`,
    );
  const json = args.flag('json') || !process.stdout.isTTY;
  const dir = dataDir(args);
  const pace = paceOf(args);
  const { controlLimitsOf, nodeFlagsOf, recordLimitOf, forceKill, hostCluster, waitForSignal } =
    await import('../host');
  const recordLimitMiB = recordLimitOf(args);
  process.stdout.on('error', () => undefined);

  let hosted: HostedCluster | undefined;
  const signal = waitForSignal(() => {
    process.stderr.write('raftdeck start: killing the remaining nodes\n');
    forceKill(hosted?.pids() ?? []);
    process.exit(130);
  });
  try {
    if (!json) process.stdout.write(`starting the cluster in ${dir} ...\n`);
    hosted = await hostCluster({
      dir,
      nodes: args.number('nodes'),
      timing: { heartbeatMs, electionMs },
      controlLimits: controlLimitsOf(args),
      nodeFlags: nodeFlagsOf(args),
      pace,
      recordLimitMiB,
      engine: engineOf(args),
      etcdBin: args.string('etcd-bin'),
    });
    const end = json ? runJson(hosted) : runTable(hosted);
    const sig = await signal.promise;
    end();
    if (json) line({ event: 'stopping', signal: sig });
    else process.stdout.write(`${sig}: stopping every node ...\n`);
    await hosted.stop();
    if (json) line({ event: 'stopped' });
    else process.stdout.write('stopped\n');
    return EXIT.ok;
  } finally {
    signal.dispose();
  }
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run a cluster in the foreground with a live status table',
  usage: [
    'start [--nodes 3] [--data DIR] [--json] [--heartbeat-ms 100] [--election-ms 1000] [--pace N] [--fast-failover on|off]',
  ],
  description: `Starts a cluster of real node processes in DIR (or brings back the one DIR holds, with its own
node count and timing) and shows a live status table: each node's process, role, term, commit,
applied, lag and health, and the latest events. When stdout is not a terminal, or with --json,
it prints one JSON object per line instead: first {"event":"started",...} with every node's id,
pid and addresses, then "view" and "cluster-event" lines.

While it runs, the other commands reach the cluster through DIR: cluster.json (addresses),
admin-token (the nodes' admin token, mode 0600) and control.json (a loopback control port for
faults and membership changes). Ctrl-C or SIGTERM stops every node, then it exits 0.

--pace N slows every node down N times for a demo (\`raftdeck pace\` changes it while it runs).

It records the cluster into DIR/recording as it runs (views, events, sampled Raft messages), so
the dashboard can show earlier instants; --record-limit bounds it (\`raftdeck record export\`
writes it into one file, \`raftdeck replay\` opens it).`,
  positionals: [],
  options: [
    nodesOption,
    dataOption(),
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
    ...paceOptions,
    ...hostOptions,
  ],
  examples: [
    'raftdeck start',
    'raftdeck start --nodes 5 --data /tmp/demo --json',
    'raftdeck start --pace 20',
    'raftdeck start --engine etcd --data /tmp/etcd-demo',
  ],
  exitCodes: [
    '0  stopped by Ctrl-C / SIGTERM',
    '1  the cluster could not start',
    '2  bad arguments',
  ],
  run,
};
