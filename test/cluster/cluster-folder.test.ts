/**
 * The cluster folder on disk: everything the supervisor and the nodes create is for their owner
 * only (directories 0700, files 0600), every node holds the cluster's peer secret, and a folder
 * made before peers authenticated (no secret, open modes) is brought up to date when it is
 * started again.
 */
import { chmodSync, lstatSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAdmin } from '../../main/cluster/admin-link';
import { Supervisor } from '../../main/cluster/supervisor';
import { KvClient } from '../../main/node/client';
import { startCluster, type TestCluster } from './cluster-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const text = (v: Uint8Array | null): string | null => (v ? new TextDecoder().decode(v) : null);

const teardowns: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const t of teardowns.splice(0).reverse()) await t();
});

/** modes lists every path under `dir` (and `dir` itself) whose mode is not 0700/0600. */
function looseModes(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${p} ${mode.toString(8)}`);
      for (const n of readdirSync(p)) walk(join(p, n));
    } else if (mode !== 0o600) out.push(`${p} ${mode.toString(8)}`);
  };
  walk(dir);
  return out;
}

/** files lists every file under `dir`, relative. */
function files(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return lstatSync(p).isDirectory() ? files(p, base) : [p.slice(base.length + 1)];
  });
}

function kvOf(sup: Supervisor): KvClient {
  const kv = new KvClient({
    endpoints: sup.manifest.nodes.filter((n) => n.state === 'member').map((n) => n.client),
    timeoutMs: 15_000,
  });
  teardowns.push(() => kv.close());
  return kv;
}

async function until(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the cluster folder', () => {
  it('holds only 0700 directories and 0600 files, snapshots and logs included', async () => {
    const c: TestCluster = await startCluster('modes');
    teardowns.push(c.teardown);
    const kv = kvOf(c.sup);
    for (let i = 0; i < 260; i++) await kv.put(`k${i % 40}`, `v${i}`);
    await until('a snapshot on every node', () =>
      c.sup.view().nodes.every((n) => (n.raft?.snapshotIndex ?? 0) > 0),
    );
    const all = files(c.dir);
    for (const f of ['cluster.json', 'peer-secret']) expect(all).toContain(f);
    expect(all.some((f) => /^LOCK\.[0-9a-f]{16}$/.test(f))).toBe(true);
    for (const id of [1, 2, 3]) {
      for (const f of ['node.json', 'node.log', 'checkpoint', 'hardstate', 'peer-secret']) {
        expect(all).toContain(join(`node-${id}`, f));
      }
      expect(all.some((f) => f.startsWith(join(`node-${id}`, 'LOCK.')))).toBe(true);
      expect(all.some((f) => f.startsWith(join(`node-${id}`, 'wal')))).toBe(true);
      expect(all.some((f) => f.startsWith(join(`node-${id}`, 'snap')))).toBe(true);
    }
    expect(looseModes(c.dir)).toEqual([]);
    // Every node holds the cluster's own secret.
    const secret = readFileSync(join(c.dir, 'peer-secret'), 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    for (const id of [1, 2, 3]) {
      expect(readFileSync(join(c.dir, `node-${id}`, 'peer-secret'), 'utf8')).toBe(secret);
    }
  }, 90_000);

  it('a folder from before peer authentication gets a secret and tight modes, once', async () => {
    const c: TestCluster = await startCluster('legacy');
    teardowns.push(c.teardown);
    const kv = kvOf(c.sup);
    for (let i = 0; i < 10; i++) await kv.put(`old-${i}`, String(i));
    const clusterId = c.sup.manifest.clusterId;
    await c.sup.stop();
    // Make it look like a folder of the previous version: no secret anywhere, modes wide open.
    rmSync(join(c.dir, 'peer-secret'));
    for (const id of [1, 2, 3]) rmSync(join(c.dir, `node-${id}`, 'peer-secret'));
    const open = (p: string): void => {
      const st = lstatSync(p);
      chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
      if (st.isDirectory()) for (const n of readdirSync(p)) open(join(p, n));
    };
    open(c.dir);
    expect(looseModes(c.dir).length).toBeGreaterThan(10);

    const again = async (): Promise<Supervisor> => {
      const sup = new Supervisor({
        dir: c.dir,
        timing: { tickMs: 10, heartbeatMs: 50, electionMs: 500 },
        connect: connectAdmin,
      });
      teardowns.push(async () => {
        const pids = [...sup.nodes.values()].flatMap((m) => (m.proc.pid ? [m.proc.pid] : []));
        await sup.stop();
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      });
      await sup.start();
      return sup;
    };
    const sup = await again();
    expect(sup.manifest.clusterId).toBe(clusterId);
    const notes = sup.allEvents().filter((e) => e.message.includes('predates peer authentication'));
    expect(notes).toHaveLength(1);
    const kv2 = kvOf(sup);
    for (let i = 0; i < 10; i++) expect(text(await kv2.get(`old-${i}`))).toBe(String(i));
    await kv2.put('new', 'write');
    expect(looseModes(c.dir)).toEqual([]);
    const secret = readFileSync(join(c.dir, 'peer-secret'), 'utf8');
    for (const id of [1, 2, 3]) {
      expect(readFileSync(join(c.dir, `node-${id}`, 'peer-secret'), 'utf8')).toBe(secret);
    }
    // The next start finds the secret: nothing to say, and the nodes keep it.
    await sup.stop();
    const third = await again();
    expect(
      third.allEvents().filter((e) => e.message.includes('predates peer authentication')),
    ).toHaveLength(0);
    expect(readFileSync(join(c.dir, 'peer-secret'), 'utf8')).toBe(secret);
    await kvOf(third).put('third', 'start');
  }, 120_000);

  it('bounds given for the nodes reach every node and are kept for later starts', async () => {
    const c: TestCluster = await startCluster('node-flags', {
      nodeFlags: ['--max-client-connections', '100', '--log-keep=5'],
    });
    teardowns.push(c.teardown);
    const limitsSeen = (sup: Supervisor): boolean =>
      [1, 2, 3].every(
        (id) => sup.nodes.get(id)?.status?.servers?.client.limits.maxConnections === 100,
      );
    await until('every node with 100 client connections', () => limitsSeen(c.sup));
    const manifest = (): { nodeFlags?: string[] } =>
      JSON.parse(readFileSync(join(c.dir, 'cluster.json'), 'utf8')) as { nodeFlags?: string[] };
    expect(manifest().nodeFlags).toEqual(['--max-client-connections', '100', '--log-keep', '5']);
    await c.sup.stop();
    // Started again without them: the cluster keeps its bounds.
    const sup = new Supervisor({ dir: c.dir, connect: connectAdmin });
    teardowns.push(() => sup.stop());
    await sup.start();
    await until('the bounds after a restart', () => limitsSeen(sup));
    await sup.stop();
    // Flags that are not bounds, or values a node refuses, are refused before any node starts.
    for (const [flags, why] of [
      [['--id', '7'], "'--id' is not a node bound"],
      [['--peer-max-connections', '10', '--peer-max-pending', '20'], 'must not exceed'],
      [['--log-keep'], '--log-keep needs a value'],
    ] as const) {
      const bad = new Supervisor({ dir: c.dir, connect: connectAdmin, nodeFlags: [...flags] });
      await expect(bad.start()).rejects.toThrow(why);
      expect(bad.nodes.size).toBe(0);
    }
    expect(manifest().nodeFlags).toEqual(['--max-client-connections', '100', '--log-keep', '5']);
  }, 120_000);
});
