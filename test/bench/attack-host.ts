/**
 * attack-host runs what `raftdeck serve` runs, for the attack benchmark (attack.ts): a 3-node
 * cluster in DIR with its control port (hostCluster, as `raftdeck start` does) and the dashboard
 * API on a web server, in a process of its own, so that the attacker's sockets and the server's
 * count against different descriptor limits, as they would for a real attacker. It prints one
 * JSON line when the cluster is healthy, and stops everything when its parent goes away or on
 * SIGTERM.
 *
 * usage: node --import tsx test/bench/attack-host.ts DIR
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { hostCluster, type HostedCluster } from '../../main/cli/host';
import { createSessionToken, startWebServer, type WebServer } from '../../main/web/server';
import { waitHealthy } from './raftdeck-cluster';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: attack-host DIR');
  const staticDir = mkdtempSync(join(tmpdir(), 'raftdeck-attack-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>raftdeck</title>\n');

  // What is running so far: a signal during start-up stops that much.
  const running: { hosted?: HostedCluster; dashboard?: ClusterDashboard; web?: WebServer } = {};
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      await running.web?.close().catch(() => undefined);
      await running.dashboard?.close().catch(() => undefined);
      await running.hosted?.stop().catch(() => undefined);
      rmSync(staticDir, { recursive: true, force: true });
      process.exit(code);
    })());
  process.on('disconnect', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  const hosted = (running.hosted = await hostCluster({ dir, nodes: 3 }));
  await waitHealthy(hosted.sup!, 30_000);
  const dashboard = (running.dashboard = new ClusterDashboard(hosted.engine));
  const token = createSessionToken();
  const web = (running.web = await startWebServer({
    api: dashboard,
    pushes: dashboard,
    host: '127.0.0.1',
    port: 0,
    token,
    staticDir,
  }));
  const view = hosted.engine.view();
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      pid: process.pid,
      clusterId: view.clusterId,
      web: { port: web.port, token },
      control: { port: hosted.control.port, token: hosted.control.token },
      nodes: view.nodes.map((n) => ({
        id: n.id,
        pid: n.process.pid,
        dataDir: n.dataDir,
        ...n.addresses,
      })),
    })}\n`,
  );
}

main().catch((e: Error) => {
  process.stderr.write(`attack-host: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
