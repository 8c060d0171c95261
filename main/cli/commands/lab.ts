/**
 * lab: a lab cluster in browser mode. The production Raft core runs in this process on a
 * simulated network, clock and disk (main/lab), behind the same dashboard API as a real cluster,
 * served as `serve` serves it (127.0.0.1, a session token, the URL printed). Nothing is spawned
 * and nothing is written to disk. It starts from a seed, from a schedule a lab exported, or from a
 * seed of the simulator paused where its first invariant broke.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
import type { WebLimits, WebServer } from '../../web/server';
import type { LabDashboard } from '../../lab/lab-dashboard';
import {
  parseSimSeedFlags,
  SIM_SEED_FLAGS,
  SimSeedError,
  type SimSeedFlagValues,
  type SimSeedRequest,
} from '../../lab/sim-replay';

/** LabStart: what a lab starts from. */
export type LabStart =
  | { kind: 'seed'; seed: number; nodes: number }
  | { kind: 'schedule'; path: string }
  | { kind: 'sim-seed'; request: SimSeedRequest };

/** LabServer: a lab cluster served in browser mode. */
export interface LabServer {
  dashboard: LabDashboard;
  server: WebServer;
  /** source: where the run comes from, in words (the lab view's `source`). */
  source: string;
  close(): Promise<void>;
}

/**
 * serveLab starts the lab `start` asks for and serves the dashboard over it from `staticDir`. A
 * schedule that cannot be read or parsed, or a simulator seed that cannot be opened, is a
 * CliError naming it.
 */
export async function serveLab(options: {
  start: LabStart;
  port: number;
  staticDir: string;
  limits?: Partial<WebLimits>;
}): Promise<LabServer> {
  requireBuiltDashboard(options.staticDir);
  const [{ createLabDashboard }, { parseLabSchedule }, { openSimSeed }, { nodeLabHost }] =
    await Promise.all([
      import('../../lab/lab-dashboard'),
      import('../../lab/lab-schedule'),
      import('../../lab/sim-replay'),
      import('../../web/lab-host'),
    ]);
  const host = nodeLabHost();
  let dashboard: LabDashboard;
  const start = options.start;
  try {
    if (start.kind === 'seed') {
      dashboard = createLabDashboard({ seed: start.seed, nodes: start.nodes, host });
    } else if (start.kind === 'schedule') {
      const path = resolve(start.path);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read the schedule ${path}: ${(e as Error).message}`);
      }
      dashboard = createLabDashboard({ host, schedule: parseLabSchedule(text, path) });
    } else {
      const run = openSimSeed(start.request.seed, start.request.options);
      dashboard = createLabDashboard({ host, from: run });
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
  const source = (await dashboard.getView()).lab?.source ?? '';
  const server = await serveApi({
    api: dashboard,
    port: options.port,
    staticDir: options.staticDir,
    limits: options.limits,
    what: 'the lab',
    onFail: () => dashboard.dispose(),
  });
  return {
    dashboard,
    server,
    source,
    close: async () => {
      await server.close();
      dashboard.dispose();
    },
  };
}

/**
 * labStartOf: what the command line asks the lab to start from. --schedule, --sim-seed (with its
 * options) and --seed/--nodes exclude one another.
 */
export function labStartOf(args: ParsedArgs): LabStart {
  const values: Record<string, string | number | boolean | undefined> = {};
  for (const f of SIM_SEED_FLAGS) {
    values[f.name] =
      f.type === 'boolean'
        ? args.flag(f.name)
        : f.type === 'int'
          ? args.number(f.name)
          : args.string(f.name);
  }
  let request: SimSeedRequest | null;
  try {
    request = parseSimSeedFlags(values as SimSeedFlagValues);
  } catch (e) {
    if (e instanceof SimSeedError) throw new UsageError(e.message);
    throw e;
  }
  const schedule = args.string('schedule');
  const seedGiven = args.given.has('seed') || args.given.has('nodes');
  const chosen = [request !== null, schedule !== undefined, seedGiven].filter(Boolean).length;
  if (chosen > 1) {
    throw new UsageError(
      'choose one start: --seed/--nodes, --schedule FILE or --sim-seed S (with its options)',
    );
  }
  if (request) return { kind: 'sim-seed', request };
  if (schedule !== undefined) return { kind: 'schedule', path: schedule };
  return { kind: 'seed', seed: args.number('seed')!, nodes: args.number('nodes')! };
}

function run(args: ParsedArgs): Promise<number> {
  return serveLabUntilSignal(labStartOf(args), args);
}

/**
 * labBanner: what `lab` prints once it serves: the URL, where the run comes from, and for a run
 * that stopped on a broken invariant, which, where and the nodes involved.
 */
export async function labBanner(lab: LabServer): Promise<string> {
  let text =
    `raftdeck dashboard: ${lab.server.url}\nlab cluster: ${lab.source} (simulated network and ` +
    `clock, nothing spawned, nothing written); Ctrl-C to stop\n`;
  const failure = (await lab.dashboard.getView()).lab?.failure;
  if (failure) {
    text += `paused where ${failure.invariant} broke (step ${failure.step}, nodes ${failure.nodes.join(', ')}): ${failure.text}\n`;
  }
  return text;
}

/**
 * serveLabUntilSignal serves the lab `start` asks for in browser mode, prints its URL and what it
 * runs, tells `onUrl` the address, and stops it on Ctrl-C / SIGTERM (`lab`, and `app --lab`
 * where the desktop window cannot open). `args` gives the port and the web server's bounds.
 */
export async function serveLabUntilSignal(
  start: LabStart,
  args: ParsedArgs,
  onUrl?: (url: string) => void,
): Promise<number> {
  const { waitForSignal } = await import('../host');
  const signal = waitForSignal(() => process.exit(130));
  try {
    const lab = await serveLab({
      start,
      port: args.number('port')!,
      staticDir: DASHBOARD_DIR,
      limits: webLimitsOf(args),
    });
    process.stdout.write(await labBanner(lab));
    onUrl?.(lab.server.url);
    const sig = await signal.promise;
    process.stdout.write(`${sig}: stopping ...\n`);
    await lab.close();
    process.stdout.write('stopped\n');
    return EXIT.ok;
  } finally {
    signal.dispose();
  }
}

const LAB_OPTIONS: OptionSpec[] = [
  {
    name: 'seed',
    type: 'int',
    value: 'S',
    help: 'the seed of the simulated network, clocks and disks: the same seed and the same actions give the same run',
    default: 1,
    min: 0,
    max: 0xffffffff,
  },
  {
    name: 'nodes',
    type: 'int',
    value: 'N',
    help: 'voters to start with',
    default: 3,
    min: 1,
    max: 9,
  },
  {
    name: 'schedule',
    type: 'string',
    value: 'FILE',
    help: 'replay a schedule a lab exported (the dashboard’s "Export schedule"), then go on from there',
  },
  ...SIM_SEED_FLAGS,
  ...serveOptions.filter((o) => o.name === 'port' || o.name.startsWith('web-')),
];

export const labCommand: Command = {
  name: 'lab',
  summary: 'a lab cluster in a browser: the real Raft core on a simulated network, step by step',
  usage: [
    'lab [--seed S] [--nodes N] [--port N]',
    'lab --schedule FILE [--port N]',
    'lab --sim-seed S [--mutation NAME] [--port N]',
  ],
  description: `Runs a lab cluster in this process — the production Raft core on a simulated network,
clock and disk, deterministic for its seed — and serves the dashboard over it on
http://127.0.0.1:PORT with a session token, as \`serve\` does; open the printed URL in a browser.
Every page works as on a real cluster; the lab bar adds play, pause, step (next message, tick or
event), speed (0.1× to 100× of virtual time), and every message in flight can be dropped,
duplicated or delayed. Nothing is spawned and nothing is written. --schedule replays a schedule
exported from a lab; --sim-seed opens a seed of \`npm run sim\` paused right after the step where
its first invariant broke, with the invariant and the nodes named (npm run sim prints this command
for every failing seed). Ctrl-C stops it.`,
  positionals: [],
  options: LAB_OPTIONS,
  examples: [
    'raftdeck lab',
    'raftdeck lab --seed 42 --nodes 5 --port 8080',
    'raftdeck lab --schedule raftdeck-lab-seed-42.json',
    'raftdeck lab --sim-seed 1 --mutation send-before-fsync',
  ],
  exitCodes: [
    '0  stopped by Ctrl-C / SIGTERM',
    '1  could not start or serve the lab',
    '2  bad arguments',
  ],
  run,
};
