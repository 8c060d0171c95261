// serve: the dashboard in a browser, for development. `npm run serve -- --fake` serves the built
// renderer (out/renderer) against the FAKE in-process cluster of main/web/fake-dashboard.ts; the
// real cluster is served by `raftdeck serve`. Options: --port N (default: a free port), --host H.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { createFakeDashboard } from '../main/web/fake-dashboard';
import { createSessionToken, startWebServer } from '../main/web/server';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

if (!argv.includes('--fake')) {
  process.stderr.write(
    'serve: this script serves the FAKE cluster only (--fake); the real one is `raftdeck serve`.\n',
  );
  process.exit(2);
}

const staticDir = fileURLToPath(new URL('../out/renderer', import.meta.url));
if (!existsSync(`${staticDir}/index.html`)) {
  process.stderr.write('serve: out/renderer is missing; run `npm run build` first.\n');
  process.exit(2);
}

const fake = createFakeDashboard();
const server = await startWebServer({
  api: fake,
  pushes: fake,
  host: flag('--host') ?? '127.0.0.1',
  port: Number(flag('--port') ?? 0),
  token: createSessionToken(),
  staticDir,
});
process.stdout.write(`raftdeck (FAKE cluster, no real nodes): ${server.url}\n`);

const stop = (): void => {
  fake.dispose();
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
