/**
 * attach: the dashboard over an etcd cluster raftdeck did not start, in browser mode. It finds
 * every member from any one of the client endpoints given (AttachedEtcd), and serves the
 * dashboard over it as `serve` does (127.0.0.1, a session token, the URL printed), recording in
 * memory only. Read-only unless --allow-changes, which is confirmed by naming the cluster and its
 * members (a question on a terminal, else --yes). --add-learner and --promote make one
 * membership change, print its outcome and exit. A password is never taken from the command line
 * (the process list shows it to every local user): it comes from RAFTDECK_ETCD_PASSWORD or a
 * prompt that does not echo.
 */
import {
  CliError,
  EXIT,
  UsageError,
  type Command,
  type OptionSpec,
  type ParsedArgs,
} from '../args';
import { DASHBOARD_DIR, requireBuiltDashboard, serveApi, webLimitsOf } from '../browser-mode';
import { serveOptions } from '../options';
import type { AttachedEtcd, AttachedMember } from '../../cluster/etcd/attached';
import type { EtcdAuth, EtcdTls, TlsFiles } from '../../cluster/etcd/etcd-client';

/** PASSWORD_ENV: the environment variable an etcd user's password may come from. */
export const PASSWORD_ENV = 'RAFTDECK_ETCD_PASSWORD';

/** PASSWORD_REFUSED: why --password is refused. */
export const PASSWORD_REFUSED = `--password is not accepted: a password on the command line is visible to every local user in the process list; set ${PASSWORD_ENV}, or give --user on a terminal to be asked for it`;

/** endpointsOf: the client URLs of --etcd (comma-separated, at least one). */
export function endpointsOf(raw: string | undefined, option = 'etcd'): string[] {
  if (raw === undefined) throw new UsageError(`missing --${option} URL[,URL...]`);
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new UsageError(`--${option} needs at least one client URL`);
  return list;
}

/** membersLine: the members of an attached cluster in words, as the confirmation names them. */
export function membersLine(members: AttachedMember[]): string {
  return members
    .filter((m) => !m.removed)
    .map(
      (m) => `${m.name || m.hexId} ${m.clientUrl || '(not started)'}${m.learner ? ' learner' : ''}`,
    )
    .join(', ');
}

/** confirmationQuestion: what --allow-changes asks before anything may change. */
export function confirmationQuestion(clusterId: string, members: AttachedMember[]): string {
  return `allow changes to etcd cluster ${clusterId} (members ${membersLine(members)})? [y/N] `;
}

/** passwordOf: `user`'s password from PASSWORD_ENV, else asked on the terminal. */
async function passwordOf(user: string): Promise<string> {
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  const { askSecret, isTerminal } = await import('../prompt');
  if (!isTerminal()) {
    throw new UsageError(
      `--user ${user} needs a password: set ${PASSWORD_ENV} (there is no terminal to ask on)`,
    );
  }
  return askSecret(`etcd password for ${user}: `);
}

/** tlsFilesOf: the files --cacert/--cert/--key name, or undefined when none is given. */
function tlsFilesOf(args: ParsedArgs): TlsFiles | undefined {
  const files: TlsFiles = {};
  for (const name of ['cacert', 'cert', 'key'] as const) {
    const path = args.string(name);
    if (path !== undefined) files[name] = path;
  }
  return Object.keys(files).length === 0 ? undefined : files;
}

/**
 * confirmChanges asks the confirmation --allow-changes needs (or takes --yes as it); resolves
 * false when the answer is not yes.
 */
async function confirmChanges(engine: AttachedEtcd, yes: boolean): Promise<boolean> {
  const question = confirmationQuestion(engine.clusterId, engine.memberList());
  if (yes) {
    process.stdout.write(
      `changes allowed to etcd cluster ${engine.clusterId} (members ${membersLine(engine.memberList())}): --yes\n`,
    );
    return true;
  }
  const { askLine } = await import('../prompt');
  return /^\s*y(es)?\s*$/i.test(await askLine(question));
}

/** memberByHex: the member whose etcd id (hex, as etcdctl prints it) is `hex`. */
function memberByHex(engine: AttachedEtcd, hex: string): AttachedMember {
  const want = hex.toLowerCase().replace(/^0x/, '');
  const m = engine.memberList().find((x) => x.hexId === want && !x.removed);
  if (!m) {
    const known = engine
      .memberList()
      .filter((x) => !x.removed)
      .map((x) => `${x.hexId} (${x.name || 'not started'})`)
      .join(', ');
    throw new CliError(`no member ${hex} in etcd cluster ${engine.clusterId} (members: ${known})`);
  }
  return m;
}

/** addLearner adds the learner at `peerUrl` and says how to start it and promote it. */
async function addLearner(engine: AttachedEtcd, peerUrl: string, etcd: string): Promise<number> {
  let added: { id: number; memberId: string };
  try {
    added = await engine.addLearner(peerUrl);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const hex = BigInt(added.memberId).toString(16);
  const initial = engine
    .memberList()
    .filter((m) => !m.removed && m.memberId !== added.memberId && m.name !== '')
    .map((m) => `${m.name}=${m.peerUrls[0] ?? ''}`)
    .concat(`NAME=${peerUrl}`)
    .join(',');
  process.stdout.write(
    `added a learner to etcd cluster ${engine.clusterId}: member ${hex}, peer URL ${peerUrl}\n` +
      `start etcd on its host with --name NAME --initial-cluster-state existing --initial-cluster ${initial}\n` +
      `once it has caught up: raftdeck attach --etcd ${etcd} --allow-changes --promote ${hex}\n`,
  );
  return EXIT.ok;
}

/** promote promotes learner `hex` and prints the outcome (etcd's refusal as it says it). */
async function promote(engine: AttachedEtcd, hex: string): Promise<number> {
  const m = memberByHex(engine, hex);
  let end;
  try {
    end = await (await engine.promote(m.id)).run;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (end.state === 'done') {
    process.stdout.write(`member ${m.hexId} (${m.name || 'no name'}) is a voter now\n`);
    return EXIT.ok;
  }
  throw new CliError(
    `promoting member ${m.hexId}: ${end.error ?? end.state}`,
    end.state === 'unknown' ? EXIT.unknown : EXIT.failed,
  );
}

function run(args: ParsedArgs): Promise<number> {
  return runAttach(args, 'etcd');
}

/**
 * runAttach attaches to the etcd cluster whose client URLs option `endpointsOption` gives, as
 * `attach` does with `args` (its TLS, user and change options; an option the command does not
 * declare counts as not given), and tells `onUrl` the dashboard's address once it is served:
 * `attach`, and `app --attach` where the desktop window cannot open.
 */
export async function runAttach(
  args: ParsedArgs,
  endpointsOption: 'etcd' | 'attach',
  onUrl?: (url: string) => void,
): Promise<number> {
  const etcd = args.string(endpointsOption);
  const endpoints = endpointsOf(etcd, endpointsOption);
  const allowChanges = args.flag('allow-changes');
  const learnerUrl = args.string('add-learner');
  const promoteId = args.string('promote');
  if (learnerUrl !== undefined && promoteId !== undefined) {
    throw new UsageError('--add-learner and --promote are two changes: give one at a time');
  }
  const oneShot =
    learnerUrl !== undefined ? '--add-learner' : promoteId !== undefined ? '--promote' : '';
  if (oneShot && !allowChanges) {
    throw new UsageError(`${oneShot} changes the cluster's membership: it needs --allow-changes`);
  }
  if (oneShot && args.given.has('port')) {
    throw new UsageError(
      `${oneShot} makes one change and exits; it serves no dashboard (no --port)`,
    );
  }
  const { isTerminal } = await import('../prompt');
  if (allowChanges && !args.flag('yes') && !isTerminal()) {
    throw new UsageError(
      '--allow-changes asks for a confirmation naming the cluster and its members, and there is no terminal to ask on: add --yes to confirm ahead',
    );
  }
  const { readTlsFiles } = await import('../../cluster/etcd/etcd-client');
  const files = tlsFilesOf(args);
  let tls: EtcdTls | undefined;
  try {
    tls = files ? readTlsFiles(files) : undefined;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const user = args.string('user');
  const auth: EtcdAuth | undefined = user ? { user, password: await passwordOf(user) } : undefined;
  if (!oneShot) requireBuiltDashboard(DASHBOARD_DIR);

  // The gRPC library gives an https://IP endpoint's address as the TLS server name, which Node
  // answers with a deprecation warning on stderr: nothing a user of this command can act on.
  process.noDeprecation = true;
  const { AttachedEtcd } = await import('../../cluster/etcd/attached');
  let engine: AttachedEtcd;
  try {
    engine = new AttachedEtcd({
      endpoints,
      ...(tls ? { tls } : {}),
      ...(auth ? { auth } : {}),
      allowChanges,
      pollMs: args.number('poll-ms') ?? 1000,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { waitForSignal } = await import('../host');
  const signal = waitForSignal(() => process.exit(130));
  let served = false;
  try {
    process.stdout.write(`attaching to the etcd cluster at ${endpoints.join(', ')} ...\n`);
    try {
      await engine.start();
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    if (allowChanges && !(await confirmChanges(engine, args.flag('yes')))) {
      throw new CliError('changes not confirmed: nothing was done');
    }
    if (learnerUrl !== undefined) return await addLearner(engine, learnerUrl, etcd!);
    if (promoteId !== undefined) return await promote(engine, promoteId);

    const { attachedBackend } = await import('../../web/backends');
    const backend = attachedBackend(engine);
    const server = await serveApi({
      api: backend.api,
      port: args.number('port')!,
      staticDir: DASHBOARD_DIR,
      limits: webLimitsOf(args),
      what: 'the dashboard',
      onFail: () => backend.dispose(),
    });
    served = true;
    const v = engine.view();
    const members = engine.memberList().filter((m) => !m.removed);
    const leader = members.find((m) => m.id === v.leader);
    process.stdout.write(
      `raftdeck dashboard: ${server.url}\n` +
        `etcd cluster ${engine.clusterId} (etcd ${v.engine.version || 'version unknown'}): ` +
        `${members.length} members (${members.map((m) => m.name || m.hexId).join(', ')}), ` +
        `leader ${leader ? leader.name || leader.hexId : 'none'}; ` +
        `${allowChanges ? 'changes allowed' : 'read-only (changes need --allow-changes)'}; Ctrl-C to stop\n`,
    );
    onUrl?.(server.url);
    const sig = await signal.promise;
    process.stdout.write(`${sig}: stopping ...\n`);
    await server.close();
    await backend.dispose();
    process.stdout.write('stopped\n');
    return EXIT.ok;
  } finally {
    signal.dispose();
    if (!served) await engine.stop();
  }
}

/** ATTACH_CONNECTION_OPTIONS: how to reach an etcd cluster (attach, app --attach). */
export const ATTACH_CONNECTION_OPTIONS: OptionSpec[] = [
  {
    name: 'cacert',
    type: 'string',
    value: 'FILE',
    help: "the CA that signed the members' certificates (PEM)",
  },
  { name: 'cert', type: 'string', value: 'FILE', help: 'a client certificate (PEM), with --key' },
  { name: 'key', type: 'string', value: 'FILE', help: "the client certificate's key (PEM)" },
  {
    name: 'user',
    type: 'string',
    value: 'NAME',
    help: `an etcd user; the password comes from ${PASSWORD_ENV}, else a prompt that does not echo`,
  },
  {
    name: 'password',
    type: 'string',
    value: '-',
    help: `never accepted: a password in the arguments shows in the process list (use ${PASSWORD_ENV})`,
    refused: PASSWORD_REFUSED,
  },
];

const ATTACH_OPTIONS: OptionSpec[] = [
  {
    name: 'etcd',
    type: 'string',
    value: 'URL[,URL...]',
    help: "client URLs of one or more members (http:// or https://); the others are found from the cluster's member list",
  },
  ...ATTACH_CONNECTION_OPTIONS,
  {
    name: 'allow-changes',
    type: 'boolean',
    help: 'allow membership changes and writes (remove, move the leader, add a learner, promote, console, workload), after a confirmation naming the cluster and its members',
  },
  {
    name: 'yes',
    type: 'boolean',
    help: 'confirm --allow-changes ahead (needed without a terminal)',
  },
  {
    name: 'add-learner',
    type: 'string',
    value: 'PEER_URL',
    help: 'add a learner with this peer URL, print how to start and promote it, and exit (needs --allow-changes)',
  },
  {
    name: 'promote',
    type: 'string',
    value: 'MEMBER_ID',
    help: 'promote the learner with this member id (hex, as etcdctl and --add-learner print it) to a voter, and exit (needs --allow-changes)',
  },
  {
    name: 'poll-ms',
    type: 'int',
    value: 'N',
    help: 'the time between two polls of one member',
    default: 1000,
    min: 100,
    max: 60_000,
  },
  ...serveOptions.filter((o) => o.name === 'port' || o.name.startsWith('web-')),
];

export const attachCommand: Command = {
  name: 'attach',
  summary: 'the dashboard in a browser, over an etcd cluster raftdeck did not start',
  usage: [
    'attach --etcd URL[,URL...] [--port N] [--cacert F --cert F --key F] [--user NAME] [--allow-changes [--yes]]',
    'attach --etcd URL[,URL...] [TLS and user options] --allow-changes [--yes] --add-learner PEER_URL',
    'attach --etcd URL[,URL...] [TLS and user options] --allow-changes [--yes] --promote MEMBER_ID',
  ],
  description: `Attaches to a running etcd cluster by the client URL of any one member (the other members
are found from its member list), polls each member once a second, and serves the dashboard over it
on http://127.0.0.1:PORT with a session token, as \`serve\` does; open the printed URL in a
browser. Members that do not answer show as unreachable with the error, and the rest go on. The
recording for time travel is kept in memory for this session only.

Read-only by default: raftdeck makes no process or network faults on a cluster it did not start,
and membership changes and writes are refused. --allow-changes allows them (remove a member, move
the leader, the console and the workload in the dashboard; --add-learner and --promote here) after
a confirmation that names the cluster and its members: a question on a terminal, --yes otherwise.

TLS: --cacert trusts the members' CA (else the system's roots), --cert and --key present a client
certificate. With --user, the password is read from ${PASSWORD_ENV} or asked for without echo;
--password is refused, since the process list would show it. Ctrl-C stops.`,
  positionals: [],
  options: ATTACH_OPTIONS,
  examples: [
    'raftdeck attach --etcd https://10.0.0.5:2379 --cacert ca.pem --cert client.pem --key client-key.pem',
    `${PASSWORD_ENV}=... raftdeck attach --etcd http://127.0.0.1:2379 --user root`,
    'raftdeck attach --etcd http://127.0.0.1:2379 --allow-changes --yes --add-learner http://10.0.0.9:2380',
  ],
  exitCodes: [
    '0  stopped by Ctrl-C / SIGTERM, or the change was made',
    '1  could not attach (no endpoint answered, TLS failed), serve, or make the change; changes not confirmed',
    '2  bad arguments or certificate files',
    '3  outcome unknown: the change was sent and may still take effect',
  ],
  run,
};
