/**
 * serve: the dashboard in a browser. It runs the cluster in DIR (as `raftdeck start` does, so the
 * other commands work against it), wraps it in the dashboard API, and serves the built renderer
 * and that API on 127.0.0.1 with a session token.
 */
import { EXIT, type ParsedArgs, type Command } from '../args';
import { DASHBOARD_DIR, requireBuiltDashboard, serveApi, webLimitsOf } from '../browser-mode';
import { dataOption, engineOf, paceOf, paceOptions, serveOptions } from '../options';
import { dataDir } from '../cluster-files';
import type { HostedCluster } from '../host';

function run(args: ParsedArgs): Promise<number> {
  return serveDashboard(args, dataDir(args));
}

/**
 * serveDashboard runs the cluster in `dir` and serves the dashboard over it until a signal, as
 * `serve` does; `onUrl` is told the dashboard's address once it is served.
 */
export async function serveDashboard(
  args: ParsedArgs,
  dir: string,
  onUrl?: (url: string) => void,
): Promise<number> {
  // `app` has no pace options: its cluster starts at real time.
  const pace = paceOf(args);
  const { ClusterDashboard } = await import('../../cluster/dashboard');
  const { controlLimitsOf, nodeFlagsOf, recordLimitOf, forceKill, hostCluster, waitForSignal } =
    await import('../host');
  const { openClusterRecording } = await import('../../cluster/recording/cluster-recording');
  const recordLimitMiB = recordLimitOf(args);
  requireBuiltDashboard(DASHBOARD_DIR);
  let hosted: HostedCluster | undefined;
  const signal = waitForSignal(() => {
    forceKill(hosted?.pids() ?? []);
    process.exit(130);
  });
  try {
    process.stdout.write(`starting the cluster in ${dir} ...\n`);
    hosted = await hostCluster({
      dir,
      nodes: args.number('nodes'),
      controlLimits: controlLimitsOf(args),
      nodeFlags: nodeFlagsOf(args),
      pace,
      recordLimitMiB,
      record: false,
      engine: engineOf(args),
      etcdBin: args.string('etcd-bin'),
    });
    // The dashboard records into the cluster's folder (so time travel covers earlier runs).
    const dashboard = new ClusterDashboard(hosted.engine, openClusterRecording(hosted.engine));
    const running = hosted;
    const server = await serveApi({
      api: dashboard,
      port: args.number('port')!,
      staticDir: DASHBOARD_DIR,
      limits: webLimitsOf(args),
      what: 'the dashboard',
      onFail: async () => {
        await dashboard.close();
        await running.stop();
      },
    });
    const webServer = server;
    hosted.control.addStats('web', () => webServer.stats());
    process.stdout.write(
      `raftdeck dashboard: ${server.url}\ncluster ${hosted.engine.clusterId} in ${dir}; Ctrl-C to stop\n`,
    );
    onUrl?.(server.url);
    const sig = await signal.promise;
    process.stdout.write(`${sig}: stopping ...\n`);
    await server.close();
    // The stop is recorded too: the recording closes after the nodes have stopped.
    await dashboard.release();
    await hosted.stop();
    await dashboard.close();
    process.stdout.write('stopped\n');
    return EXIT.ok;
  } finally {
    signal.dispose();
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'the dashboard in a browser, over a cluster it runs',
  usage: ['serve [--port N] [--nodes N] [--data DIR] [--pace N] [--fast-failover on|off]'],
  description: `Starts the cluster in DIR (like \`raftdeck start\`) and serves the dashboard on
http://127.0.0.1:PORT with a session token; open the printed URL in a browser. The other commands
work against it as they do against \`raftdeck start\`. Ctrl-C stops everything. --pace N slows
the nodes down N times for a demo (the dashboard's pace control and \`raftdeck pace\` change it).
The cluster is recorded into DIR/recording (bounded by --record-limit), so the dashboard can show
any earlier instant, also of earlier runs.`,
  positionals: [],
  options: [dataOption(), ...serveOptions, ...paceOptions],
  exitCodes: ['0  stopped by Ctrl-C / SIGTERM', '1  could not start', '2  bad arguments'],
  run,
};
