/**
 * Other local users cannot reach a local etcd cluster's members: the members listen on Unix
 * sockets in a 0700 folder (no TCP port of theirs), and a member's peer proxy closes a connection
 * another user's process made, while it forwards the user's own. The other user is `nobody`,
 * which only root can become: that part runs as root (as CI does).
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketDir } from '../../../main/cluster/etcd/etcd-manifest';
import { haveEtcd } from '../../etcd';
import { startEtcdEngine, type TestEtcdEngine } from './engine-harness';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** ask sends a GET /version to 127.0.0.1:port (as `uid` when given) and says what came back. */
function ask(port: number, uid?: number): Promise<string> {
  const script = `
    const s = require('node:net').connect({ host: '127.0.0.1', port: ${port} });
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('error', (e) => (got += 'error ' + e.code));
    s.on('close', () => { process.stdout.write(got.split('\\r\\n')[0] || 'closed'); });
    s.write('GET /version HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n');
    setTimeout(() => s.destroy(), 3000);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe.skipIf(!haveEtcd)('a local etcd cluster and other local users', () => {
  let c: TestEtcdEngine;

  beforeAll(async () => {
    c = await startEtcdEngine('etcd-isolation');
  }, 60_000);
  afterAll(async () => {
    await c?.teardown();
  }, 60_000);

  it("keeps the members' listeners on Unix sockets in a folder only the user can enter", async () => {
    const dir = socketDir(c.dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const rec = c.engine.manifest.members[0]!;
    for (const addr of [rec.client, rec.peer]) {
      const port = Number(addr.split(':')[1]);
      // nothing listens on the member's TCP ports: its sockets are files
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        s.on('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      });
      expect(refused, `127.0.0.1:${port}`).toBe(true);
      expect(statSync(`${dir}/localhost:${port}`).isSocket()).toBe(true);
    }
    expect(c.engine.view().nodes[0]!.addresses.client).toMatch(
      /^unix:\/\/\/.*\/sockets\/localhost:\d+$/,
    );
  });

  it.skipIf(!isRoot)(
    "a member's proxy closes another user's connection and forwards the user's own",
    async () => {
      const proxy = Number(c.engine.manifest.members[0]!.proxy.split(':')[1]);
      expect(await ask(proxy)).toMatch(/^HTTP\/1\.1 200/);
      expect(await ask(proxy, NOBODY)).toMatch(/^(closed|error ECONNRESET)$/);
      // the cluster goes on as before
      expect(c.engine.view().leader).not.toBe(0);
    },
    30_000,
  );
});
