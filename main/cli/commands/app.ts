/**
 * app: what `npm start` runs. It opens the desktop app (Electron, over the cluster in the app's
 * folder); on a machine where Electron's binary is not installed, or with no display, it says why
 * in one line and serves the same dashboard in browser mode over that same folder instead,
 * opening the default browser when there is a display. With --attach, the window shows an etcd
 * cluster raftdeck did not start (read-only), as `raftdeck attach` serves it.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, UsageError, type ParsedArgs, type Command } from '../args';
import { engineOf, serveOptions } from '../options';
import { appDataDir, chooseLaunch, openerCommand, thisMachine } from '../app-launch';
import { serveDashboard } from './serve';
import { serveLabUntilSignal } from './lab';
import { ATTACH_CONNECTION_OPTIONS, endpointsOf, runAttach } from './attach';

/** APP_ROOT: the folder whose package.json names the built Electron main (`electron .`). */
const APP_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function run(args: ParsedArgs): Promise<number> {
  if (args.string('attach') !== undefined && args.flag('lab')) {
    throw new UsageError('--attach and --lab each choose what the window shows: give one');
  }
  if (args.string('attach') === undefined) {
    for (const o of ['cacert', 'cert', 'key', 'user']) {
      if (args.given.has(o)) throw new UsageError(`--${o} is for --attach`);
    }
  } else endpointsOf(args.string('attach'), 'attach');
  const machine = thisMachine(APP_ROOT);
  const launch = chooseLaunch(machine);
  if (launch.mode === 'electron') return runElectron(launch.binary, args);
  const dir = resolve(args.string('data') ?? appDataDir(machine));
  process.stdout.write(
    `raftdeck: the desktop window cannot open: ${launch.reason}; serving the same dashboard in browser mode instead\n`,
  );
  const open = (url: string): void => {
    if (args.flag('no-open')) return;
    const opener = openerCommand(machine, url);
    if (opener === undefined) return;
    const child = spawn(opener[0], opener[1], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  };
  if (args.flag('lab')) {
    return serveLabUntilSignal({ kind: 'seed', seed: 1, nodes: args.number('nodes')! }, args, open);
  }
  if (args.string('attach') !== undefined) return runAttach(args, 'attach', open);
  return serveDashboard(args, dir, open);
}

/** runElectron runs the desktop app in the foreground and ends with its exit code. */
function runElectron(binary: string, args: ParsedArgs): Promise<number> {
  const env = { ...process.env };
  const data = args.string('data');
  if (data !== undefined) env.RAFTDECK_DATA = resolve(data);
  if (args.flag('lab')) env.RAFTDECK_LAB = '1';
  const engine = engineOf(args);
  if (engine !== undefined) env.RAFTDECK_ENGINE = engine;
  const etcdBin = args.string('etcd-bin');
  if (etcdBin !== undefined) env.RAFTDECK_ETCD_BIN = resolve(etcdBin);
  // The shell reads what to attach to from the environment (paths and names; a password only
  // ever from RAFTDECK_ETCD_PASSWORD, which the shell inherits as it is).
  const attach = args.string('attach');
  if (attach !== undefined) {
    env.RAFTDECK_ATTACH = attach;
    const files = {
      cacert: 'RAFTDECK_ETCD_CACERT',
      cert: 'RAFTDECK_ETCD_CERT',
      key: 'RAFTDECK_ETCD_KEY',
    };
    for (const [o, name] of Object.entries(files)) {
      const path = args.string(o);
      if (path !== undefined) env[name] = resolve(path);
    }
    const user = args.string('user');
    if (user !== undefined) env.RAFTDECK_ETCD_USER = user;
  }
  const child = spawn(binary, [APP_ROOT], { stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((done) => {
    child.on('error', (e) => {
      process.stderr.write(`raftdeck: could not start Electron (${binary}): ${e.message}\n`);
      done(EXIT.failed);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code ?? (signal === 'SIGINT' ? 130 : EXIT.failed));
    });
  });
}

export const appCommand: Command = {
  name: 'app',
  summary: 'the desktop app; browser mode where it cannot open (what npm start runs)',
  usage: [
    'app [--data DIR] [--port N] [--no-open] [--lab]',
    'app --attach URL[,URL...] [--cacert F --cert F --key F] [--user NAME] [--port N] [--no-open]',
  ],
  description: `Opens the desktop dashboard over the app's cluster (started on first launch, brought back
on later ones). Where the desktop window cannot open — Electron's binary is not installed (its
download was skipped with ELECTRON_SKIP_BINARY_DOWNLOAD, or failed behind a proxy), or there is no
display — it says why in one line and serves the same dashboard in browser mode over the same
folder, printing its URL (as \`serve\` does) and opening the default browser when there is a display.

The app's folder is RAFTDECK_DATA if set, else "raftdeck/cluster" in the user's application data
(~/.config on Linux).

--attach shows an etcd cluster raftdeck did not start, found from any one of its client URLs, read-only
(see \`raftdeck attach\`; changes need \`raftdeck attach --allow-changes\`); the desktop app remembers
its URLs, certificate paths and user (never a password) for File → "Attach to an etcd cluster…". A user's
password comes from RAFTDECK_ETCD_PASSWORD (in browser mode, also from a prompt on a terminal).`,
  positionals: [],
  options: [
    {
      name: 'data',
      type: 'string',
      value: 'DIR',
      help: "the cluster folder (default: the app's folder, see above)",
    },
    { name: 'no-open', type: 'boolean', help: 'in browser mode, do not open a browser' },
    {
      name: 'lab',
      type: 'boolean',
      help: 'a lab cluster instead of the app’s cluster (the real Raft core on a simulated network; see `raftdeck lab`)',
    },
    {
      name: 'attach',
      type: 'string',
      value: 'URL[,URL...]',
      help: 'show an etcd cluster raftdeck did not start, read-only, by the client URLs of its members',
    },
    ...ATTACH_CONNECTION_OPTIONS,
    ...serveOptions,
  ],
  exitCodes: [
    '0  closed (desktop) or stopped by Ctrl-C / SIGTERM (browser mode)',
    '1  could not start',
    '2  bad arguments',
  ],
  run,
};
