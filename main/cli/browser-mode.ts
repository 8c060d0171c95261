/**
 * browser-mode: what the commands that serve the dashboard in a browser share (serve, replay,
 * lab): where the built dashboard is and the check that it is built, the web server's bounds from
 * the command line, and serving one dashboard API on 127.0.0.1 with a fresh session token. The
 * web server is loaded only when something is served.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardApi, PushSource } from '../contract/api';
import type { WebLimits, WebServer } from '../web/server';
import { CliError, type ParsedArgs } from './args';

/** DASHBOARD_DIR: the built renderer (out/renderer) that browser mode serves. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

/** requireBuiltDashboard: a CliError saying how to build it, unless `staticDir` holds the page. */
export function requireBuiltDashboard(staticDir: string): void {
  const page = join(staticDir, 'index.html');
  if (!existsSync(page)) {
    throw new CliError(
      `the dashboard is not built (${page} is missing): run \`npm run build\` first`,
    );
  }
}

/** webLimitsOf: the web server's bounds given on the command line (--web-max-*). */
export function webLimitsOf(args: ParsedArgs): Partial<WebLimits> {
  return {
    maxPending: args.number('web-max-pending'),
    maxSessions: args.number('web-max-sessions'),
    maxSockets: args.number('web-max-sockets'),
  };
}

/**
 * serveApi serves `api` and its pushes from `staticDir` on 127.0.0.1:`port` with a new session
 * token. If the server cannot start, `onFail` runs (to close what was opened for it) and a
 * CliError says "could not serve <what>" and why.
 */
export async function serveApi(o: {
  api: DashboardApi & PushSource;
  port: number;
  staticDir: string;
  limits?: Partial<WebLimits>;
  what: string;
  onFail: () => unknown;
}): Promise<WebServer> {
  const web = await import('../web/server');
  try {
    return await web.startWebServer({
      api: o.api,
      pushes: o.api,
      host: '127.0.0.1',
      port: o.port,
      token: web.createSessionToken(),
      staticDir: o.staticDir,
      limits: o.limits,
    });
  } catch (e) {
    await o.onFail();
    throw new CliError(`could not serve ${o.what}: ${(e as Error).message}`);
  }
}
