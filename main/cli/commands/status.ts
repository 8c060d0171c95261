/** status: one table from every node's admin interface, with the token of the running cluster. */
import type { NodeView } from '../../contract/view';
import type { NodeStatus } from '../../node/node-api';
import { describePace, reportedPace, type PaceTiming } from '../../view/pace';
import { IDLE_CHECKER, projectView, type MemberInput } from '../../view/projection';
import { CliError, EXIT, type ParsedArgs, type Command } from '../args';
import { dataOption, jsonOption, timeoutOption } from '../options';
import { dataDir, readAdminToken, readManifest } from '../cluster-files';
import { controlCall } from '../control-client';
import { folderEngine } from '../../cluster/manifest';
import { table } from '../format';

/** NodeReport is what status learned about one node. */
interface NodeReport {
  id: number;
  admin: string;
  client: string;
  status?: NodeStatus;
  error?: string;
}

async function ask(admin: string, token: string, ms: number): Promise<NodeStatus> {
  const { AdminClient } = await import('../../node/admin-client');
  const c = await AdminClient.connect(admin, token, { connectTimeoutMs: ms, callTimeoutMs: ms });
  try {
    return await c.status();
  } finally {
    await c.close();
  }
}

/**
 * viewStatus prints the status of a cluster whose members raftdeck has no admin interface to
 * (etcd): the view of the running `raftdeck start`, through its control port.
 */
async function viewStatus(args: ParsedArgs, dir: string): Promise<number> {
  const r = await controlCall(dir, { cmd: 'view', args: {} }, () => undefined);
  if (!r.ok || !r.view) throw new CliError(r.message);
  const v = r.view;
  const rows = v.nodes.map((n) => ({
    id: n.id,
    client: n.addresses.client,
    reachable: n.raft !== null,
    pid: n.process.pid,
    process: n.process.state,
    role: n.role,
    term: n.raft?.term ?? null,
    commit: n.raft?.commit ?? null,
    applied: n.raft?.applied ?? null,
    voters: n.raft?.voters ?? null,
    learners: n.raft?.learners ?? null,
    lag: n.lagBehindLeader,
    health: n.health,
  }));
  if (args.flag('json')) {
    const out = {
      clusterId: v.clusterId,
      dir,
      engine: v.engine,
      leader: v.leader,
      leadership: v.leadership,
      term: v.term,
      commit: v.commit,
      commitBy: v.commitBy,
      quorum: v.quorum,
      nodes: rows,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return EXIT.ok;
  }
  const d = (x: number | null): string | number => (x === null ? '-' : x);
  const reached = rows.filter((x) => x.reachable).length;
  process.stdout.write(
    `cluster ${v.clusterId} (etcd ${v.engine.version}): ${v.leader ? `leader ${v.leader}` : 'no leader'}, term ${v.term}, commit ${v.commit}, ${reached} of ${rows.length} members answered\n${v.quorum.text}\n\n`,
  );
  process.stdout.write(
    `${table(
      ['MEMBER', 'CLIENT', 'PID', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'HEALTH'],
      rows.map((x) => [
        x.id,
        x.client,
        d(x.pid),
        x.role ?? x.process,
        d(x.term),
        v.leader === x.id ? '*' : '',
        d(x.commit),
        d(x.applied),
        d(x.lag),
        x.health,
      ]),
      ['right', 'left', 'right', 'left', 'right', 'left', 'right', 'right', 'right', 'left'],
    )}\n`,
  );
  return EXIT.ok;
}

async function run(args: ParsedArgs): Promise<number> {
  const dir = dataDir(args);
  if (folderEngine(dir) === 'etcd') return viewStatus(args, dir);
  const manifest = readManifest(dir);
  const token = readAdminToken(dir);
  const ms = args.number('timeout-ms')!;
  const members = manifest.nodes.filter((n) => n.state === 'member');
  const reports: NodeReport[] = await Promise.all(
    members.map(async (n): Promise<NodeReport> => {
      const r: NodeReport = { id: n.id, admin: n.admin, client: n.client };
      try {
        r.status = await ask(n.admin, token, ms);
      } catch (e) {
        r.error = (e as Error).message;
      }
      return r;
    }),
  );
  const reached = reports.filter((r) => r.status);
  if (reached.length === 0)
    throw new CliError(
      `no node's admin interface answered (tried ${reports.map((r) => r.admin).join(', ')}): is \`raftdeck start --data ${dir}\` running?`,
    );

  // The figures come from the view projection, as on the dashboard: the same leader, lag and
  // health rules. A node that answered is running; one that did not is unreachable.
  const now = Date.now();
  const view = projectView({
    clusterId: manifest.clusterId,
    dataDir: dir,
    version: 0,
    now,
    state: 'running',
    members: members.map((n, i): MemberInput => {
      const s = reports[i]!.status;
      return {
        id: n.id,
        founding: n.founding,
        removed: false,
        running: true,
        process: {
          state: 'running',
          pid: s?.pid ?? null,
          exitCode: null,
          signal: null,
          restarts: 0,
          startedAt: s?.startedAt ?? null,
          autoRestart: false,
          lastLines: [],
          commandLine: [],
        },
        addresses: { peer: n.peer, client: n.client, admin: n.admin },
        dataDir: n.dir,
        startRefused: null,
        report: s ?? null,
        reportAt: now,
      };
    }),
    faults: { partitions: null, nodes: new Map() },
    parts: { workflows: [], workload: null, checker: { ...IDLE_CHECKER }, scenario: null },
  });
  const leader = reached.find((r) => r.id === view.leader)?.status;
  const pace = reportedPace(reached.map((r) => r.status?.timing as PaceTiming | undefined));
  const term = view.term;
  const nodeOf = (id: number): NodeView => view.nodes.find((x) => x.id === id)!;
  const rows = reports.map((r) => {
    const s = r.status;
    return {
      id: r.id,
      admin: r.admin,
      client: r.client,
      reachable: s !== undefined,
      ...(r.error ? { error: r.error } : {}),
      pid: s?.pid ?? null,
      role: s?.role ?? null,
      learner: s ? s.learners.includes(s.id) : null,
      term: s?.term ?? null,
      leader: s?.leader ?? null,
      commit: s?.commit ?? null,
      applied: s?.applied ?? null,
      lastIndex: s?.lastIndex ?? null,
      snapshotIndex: s?.snapshotIndex ?? null,
      voters: s?.voters ?? null,
      learners: s?.learners ?? null,
      lag: nodeOf(r.id).lagBehindLeader,
      health: nodeOf(r.id).health,
    };
  });

  if (args.flag('json')) {
    const out = {
      clusterId: manifest.clusterId,
      dir,
      leader: leader?.id ?? 0,
      leadership: view.leadership,
      term,
      commit: view.commit,
      commitBy: view.commitBy,
      quorum: view.quorum,
      pace,
      nodes: rows,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return EXIT.ok;
  }
  const d = (v: number | null): string | number => (v === null ? '-' : v);
  process.stdout.write(
    `cluster ${manifest.clusterId}: ${leader ? `leader ${leader.id}` : 'no leader'}, term ${term}, commit ${view.commit}${leader || !view.commitBy ? '' : ` (node ${view.commitBy})`}, ${reached.length} of ${reports.length} nodes answered\n${view.quorum.text}\n${pace && pace.pace !== 1 ? `${describePace(pace)}\n` : ''}\n`,
  );
  process.stdout.write(
    `${table(
      [
        'NODE',
        'ADMIN',
        'PID',
        'ROLE',
        'TERM',
        'LEADER',
        'COMMIT',
        'APPLIED',
        'LAST',
        'LAG',
        'HEALTH',
      ],
      rows.map((r) => [
        r.id,
        r.admin,
        d(r.pid),
        r.role === null ? '-' : r.learner ? `${r.role} (learner)` : r.role,
        d(r.term),
        leader?.id === r.id ? '*' : '',
        d(r.commit),
        d(r.applied),
        d(r.lastIndex),
        d(r.lag),
        r.health,
      ]),
      [
        'right',
        'left',
        'right',
        'left',
        'right',
        'left',
        'right',
        'right',
        'right',
        'right',
        'left',
      ],
    )}\n`,
  );
  for (const r of rows) if (r.error) process.stdout.write(`node ${r.id}: ${r.error}\n`);
  return EXIT.ok;
}

export const statusCommand: Command = {
  name: 'status',
  summary: "one status table from every node's admin interface",
  usage: ['status [--data DIR] [--json]'],
  description: `Asks every node listed in DIR/cluster.json for its status over the admin interface (with the
token in DIR/admin-token, written by a running \`raftdeck start\`) and prints one table: role,
term, leader, commit, applied, last index, lag behind the leader and health. On an etcd cluster
(\`raftdeck start --engine etcd\`) it prints the running cluster's view, through its control port.`,
  positionals: [],
  options: [dataOption(), jsonOption, timeoutOption(2000, 'how long to wait for each node')],
  exitCodes: ['0  at least one node answered', '1  no node answered', '2  bad arguments'],
  run,
};
