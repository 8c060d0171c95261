import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../main/cluster/manifest';
import { AdminClient } from '../../../main/node/admin-client';
import type { NodeStatus } from '../../../main/node/node-api';
import { newPeerSecret, peerSecretPath, writePeerSecret } from '../../../main/node/peer-secret';
import { makePrivateDir } from '../../../main/node/private-files';

export const NODE_ENTRY = fileURLToPath(new URL('../../../main/node/index.ts', import.meta.url));

export { freePort };

/**
 * handedOut: every port this test process gave a node. Ports are picked before any node listens
 * (and again after a node was stopped), so a probe alone would hand one port to two nodes, or a
 * stopped node's port to a new one; the set keeps each port to the node it was picked for.
 */
const handedOut = new Set<number>();

export interface NodeSpec {
  id: number;
  peer: string;
  client: string;
  admin: string;
  dataDir: string;
}

export interface RunningNode {
  spec: NodeSpec;
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * TestCluster starts real node processes on 127.0.0.1 and guarantees they are killed (by pid) at
 * the end. define() writes the cluster's peer secret into each node's data dir, as the supervisor
 * does.
 */
export class TestCluster {
  readonly clusterId = `test-${randomBytes(4).toString('hex')}`;
  readonly token = randomBytes(24).toString('hex');
  readonly secret = newPeerSecret();
  readonly root = mkdtempSync(join(tmpdir(), 'raftdeck-proc-'));
  readonly specs = new Map<number, NodeSpec>();
  readonly running = new Map<number, RunningNode>();
  private readonly allPids = new Set<number>();

  constructor(readonly extraArgs: string[] = []) {}

  async define(ids: number[]): Promise<void> {
    for (const id of ids) {
      const dataDir = join(this.root, `node-${id}`);
      this.writeSecret(dataDir);
      this.specs.set(id, {
        id,
        peer: `127.0.0.1:${await freePort(handedOut)}`,
        client: `127.0.0.1:${await freePort(handedOut)}`,
        admin: `127.0.0.1:${await freePort(handedOut)}`,
        dataDir,
      });
    }
  }

  /** giveSecret writes the peer secret into a node's data dir again (creating the dir if gone). */
  giveSecret(id: number): void {
    this.writeSecret(this.specs.get(id)!.dataDir);
  }

  private writeSecret(dataDir: string): void {
    makePrivateDir(dataDir);
    writePeerSecret(peerSecretPath(dataDir), this.secret);
  }

  peersFlag(ids: number[]): string {
    return ids
      .map((id) => `${id}=${this.specs.get(id)!.peer}|${this.specs.get(id)!.client}`)
      .join(',');
  }

  /** start spawns a node and resolves once it printed its ready line (rejects with its stderr if it exits). */
  start(
    id: number,
    opts: { peers: number[]; join?: boolean; args?: string[]; env?: Record<string, string> },
  ): Promise<RunningNode> {
    const spec = this.specs.get(id)!;
    const args = [
      '--import',
      'tsx',
      NODE_ENTRY,
      '--id',
      String(id),
      '--cluster-id',
      this.clusterId,
      '--data',
      spec.dataDir,
      '--peer-addr',
      spec.peer,
      '--client-addr',
      spec.client,
      '--admin-addr',
      spec.admin,
      '--peers',
      this.peersFlag(opts.peers),
      ...(opts.join ? ['--join'] : []),
      ...this.extraArgs,
      ...(opts.args ?? []),
    ];
    return spawnNode(process.execPath, args, {
      RAFTDECK_ADMIN_TOKEN: this.token,
      ...opts.env,
    }).then((rn) => {
      rn.spec = spec;
      this.running.set(id, rn);
      this.allPids.add(rn.pid);
      void rn.exited.then(() => {
        if (this.running.get(id) === rn) this.running.delete(id);
      });
      return rn;
    });
  }

  /** kill sends SIGKILL to a node and waits until it is gone. */
  async kill(id: number): Promise<void> {
    const rn = this.running.get(id);
    if (!rn) return;
    process.kill(rn.pid, 'SIGKILL');
    await rn.exited;
  }

  /** stop asks a node to stop (SIGTERM) and waits. */
  async stop(id: number): Promise<void> {
    const rn = this.running.get(id);
    if (!rn) return;
    process.kill(rn.pid, 'SIGTERM');
    await rn.exited;
  }

  /** destroy kills every process this cluster ever started and removes its files. */
  async destroy(): Promise<void> {
    for (const pid of this.allPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all([...this.running.values()].map((r) => r.exited));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** spawnNode starts a node process and resolves when it prints {"event":"ready"}. */
export function spawnNode(
  exe: string,
  args: string[],
  env: Record<string, string>,
): Promise<RunningNode> {
  const child = spawn(exe, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not become ready in 20 s: ${err}`));
    }, 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0 && out.includes('"ready"')) {
        clearTimeout(timer);
        resolve({
          spec: undefined as unknown as NodeSpec,
          child,
          pid: child.pid!,
          stderr: () => err,
          exited,
        });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        Object.assign(
          new Error(`node exited (code ${code}, signal ${signal}) before ready: ${err}`),
          { code, stderr: err },
        ),
      );
    });
  });
}

/** waitFor polls until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** nodeStatus: node `id`'s status through its admin port, or undefined when it does not answer. */
export async function nodeStatus(c: TestCluster, id: number): Promise<NodeStatus | undefined> {
  try {
    const a = await AdminClient.connect(c.specs.get(id)!.admin, c.token, {
      connectTimeoutMs: 1000,
    });
    try {
      return await a.status();
    } finally {
      await a.close();
    }
  } catch {
    return undefined;
  }
}
