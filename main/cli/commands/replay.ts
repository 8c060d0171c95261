/**
 * replay: browser mode over a recording, with no cluster running: the dashboard served as
 * `serve` serves it (127.0.0.1, a session token, the URL printed), answering from the recording
 * (main/cluster/recording/recording-dashboard.ts). Nothing can be changed.
 */
import { resolve } from 'node:path';
import { CliError, EXIT, type Command, type ParsedArgs } from '../args';
import { DASHBOARD_DIR, requireBuiltDashboard, serveApi, webLimitsOf } from '../browser-mode';
import { serveOptions } from '../options';
import type { WebLimits, WebServer } from '../../web/server';
import type { RecordingDashboard } from '../../cluster/recording/recording-dashboard';

/** ReplayServer: a recording served in browser mode. */
export interface ReplayServer {
  dashboard: RecordingDashboard;
  server: WebServer;
  close(): Promise<void>;
}

/**
 * serveRecording opens the recording at `path` and serves the dashboard over it from
 * `staticDir`. A path that holds no recording is a CliError naming it.
 */
export async function serveRecording(options: {
  path: string;
  port: number;
  staticDir: string;
  limits?: Partial<WebLimits>;
}): Promise<ReplayServer> {
  const { RecordingDashboard } = await import('../../cluster/recording/recording-dashboard');
  let dashboard: RecordingDashboard;
  try {
    dashboard = RecordingDashboard.open(resolve(options.path));
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  try {
    requireBuiltDashboard(options.staticDir);
  } catch (e) {
    await dashboard.close();
    throw e;
  }
  const server = await serveApi({
    api: dashboard,
    port: options.port,
    staticDir: options.staticDir,
    limits: options.limits,
    what: 'the recording',
    onFail: () => dashboard.close(),
  });
  return {
    dashboard,
    server,
    close: async () => {
      await server.close();
      await dashboard.close();
    },
  };
}

async function run(args: ParsedArgs): Promise<number> {
  const [file] = args.positionals;
  const { waitForSignal } = await import('../host');
  const signal = waitForSignal(() => process.exit(130));
  try {
    const replay = await serveRecording({
      path: file!,
      port: args.number('port')!,
      staticDir: DASHBOARD_DIR,
      limits: webLimitsOf(args),
    });
    const info = await replay.dashboard.recordingInfo();
    for (const note of info.notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(
      `raftdeck dashboard: ${replay.server.url}\nreplaying ${info.path} (cluster ${info.clusterId || 'unknown'}, ${info.segments} segment${info.segments === 1 ? '' : 's'}); nothing runs; Ctrl-C to stop\n`,
    );
    const sig = await signal.promise;
    process.stdout.write(`${sig}: stopping ...\n`);
    await replay.close();
    process.stdout.write('stopped\n');
    return EXIT.ok;
  } finally {
    signal.dispose();
  }
}

/** REPLAY_OPTIONS: the web server's options of `serve` (no cluster options: nothing runs). */
const REPLAY_OPTIONS = serveOptions.filter((o) => o.name === 'port' || o.name.startsWith('web-'));

export const replayCommand: Command = {
  name: 'replay',
  summary: 'the dashboard in a browser over a recording, no cluster running',
  usage: ['replay FILE [--port N]'],
  description: `Opens a recording — a file written by \`raftdeck record export\`, or a cluster folder (its
recording/ folder) — and serves the dashboard over it on http://127.0.0.1:PORT with a session
token, as \`serve\` does; open the printed URL in a browser. No cluster runs: every page shows the
recorded moments (scrub the timeline to move through them), and nothing can be changed. A damaged
part or a segment of another format version is skipped with a note (printed, and shown in the
dashboard); the rest still opens. Ctrl-C stops it.`,
  positionals: [{ name: 'FILE' }],
  options: REPLAY_OPTIONS,
  examples: ['raftdeck replay bug-1234.rdrec', 'raftdeck replay ./raftdeck-data --port 8080'],
  exitCodes: [
    '0  stopped by Ctrl-C / SIGTERM',
    '1  could not open or serve it',
    '2  bad arguments',
  ],
  run,
};
