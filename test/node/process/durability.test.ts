import { spawn } from 'node:child_process';
import {
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import { AdminClient } from '../../../main/node/admin-client';
import { KvClient, UnknownOutcomeError } from '../../../main/node/client';
import { encodeFrame } from '../../../main/node/transport/framing';
import { encodeHello } from '../../../main/node/transport/hello';
import { newNonce } from '../../../main/node/transport/peer-auth';
import { RawPeer } from '../raw-peer';
import { NODE_ENTRY, TestCluster, spawnNode, waitFor } from './harness';

const text = (v: Uint8Array | null): string | null => (v ? new TextDecoder().decode(v) : null);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cluster: TestCluster | undefined;
const clients: KvClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cluster?.destroy();
  cluster = undefined;
});

async function three(extra: string[] = []): Promise<TestCluster> {
  cluster = new TestCluster(['--heartbeat-ms', '50', '--election-ms', '500', ...extra]);
  await cluster.define([1, 2, 3]);
  await Promise.all([1, 2, 3].map((id) => cluster!.start(id, { peers: [1, 2, 3] })));
  return cluster;
}

/** lastSegment is the newest WAL segment of a node's data dir. */
function lastSegment(dataDir: string): string {
  const wal = join(dataDir, 'wal');
  return join(wal, readdirSync(wal).sort().at(-1)!);
}

/** recordsEnd is the offset just past the last record of a segment (the zeros after it are room). */
function recordsEnd(file: string): number {
  const buf = readFileSync(file);
  let end = 0;
  while (end + 8 <= buf.length && buf.readUInt32BE(end) !== 0) end += 8 + buf.readUInt32BE(end);
  return end;
}

/** refusal starts a node that must refuse to start and returns its exit code and stderr. */
async function refusal(
  c: TestCluster,
  id: number,
  args: string[] = [],
): Promise<{ code: number; stderr: string }> {
  const r = await c.start(id, { peers: [1, 2, 3], args }).then(
    () => undefined,
    (e: unknown) => e as { code: number; stderr: string },
  );
  expect(r, `node ${id} started`).toBeDefined();
  return r!;
}

function client(c: TestCluster): KvClient {
  const k = new KvClient({
    endpoints: [1, 2, 3].map((id) => c.specs.get(id)!.client),
    timeoutMs: 15_000,
  });
  clients.push(k);
  return k;
}

describe('durability and recovery of real node processes', () => {
  it('kill -9 of every node during a write burst loses no acknowledged write', async () => {
    const c = await three();
    const kv = client(c);
    await kv.put('warm', 'up');
    const acked = new Map<string, string>();
    let stop = false;
    const writers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        try {
          await kv.put(key, `v${i}`);
          acked.set(key, `v${i}`);
        } catch (e) {
          if (!(e instanceof UnknownOutcomeError) && !stop) throw e;
          return;
        }
      }
    });
    await sleep(700);
    await Promise.all([1, 2, 3].map((id) => c.kill(id)));
    stop = true;
    await Promise.allSettled(writers);
    expect(acked.size).toBeGreaterThan(50);
    await Promise.all([1, 2, 3].map((id) => c.start(id, { peers: [1, 2, 3] })));
    const kv2 = client(c);
    for (const [k, v] of acked) expect(text(await kv2.get(k)), k).toBe(v);
  }, 60_000);

  it('keeps serving the cluster through garbage, a 2 GB frame, a wrong cluster id, an unknown message type and a silent peer', async () => {
    const c = await three();
    const kv = client(c);
    await kv.put('before', '1');
    const target = c.specs.get(1)!.peer;
    const [host, port] = [target.split(':')[0]!, Number(target.split(':')[1])];
    const raw = (bytes: Buffer[]): Promise<void> =>
      new Promise((resolve) => {
        const s = connect(port, host, () => {
          for (const b of bytes) s.write(b);
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 100);
        });
        s.on('error', () => resolve());
      });
    /** insider: a peer that knows the secret, as node 2, then sends `bytes`. */
    const insider = async (bytes: Buffer): Promise<void> => {
      const p = await RawPeer.open(port, host);
      await p.handshake({ clusterId: c.clusterId, from: 2, to: 1 }, c.secret);
      p.write(bytes);
      await sleep(100);
      p.close();
    };
    await raw([Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))]);
    await insider(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await raw([encodeHello({ clusterId: 'someone-else', from: 2, to: 1, nonce: newNonce() })]);
    await insider(encodeFrame(encode([99, 2, 1, 5])));
    const silent = connect(port, host);
    silent.on('error', () => undefined);
    for (let i = 0; i < 20; i++) await kv.put(`after-${i}`, String(i));
    expect(text(await kv.get('after-19'))).toBe('19');
    const a = await AdminClient.connect(c.specs.get(1)!.admin, c.token);
    const st = await a.status();
    await a.close();
    silent.destroy();
    expect(
      st.transport.malformed +
        st.transport.oversized +
        st.transport.handshakeFailures +
        st.transport.unknownType,
    ).toBeGreaterThanOrEqual(3);
    expect(st.applied).toBeGreaterThan(20);
  }, 60_000);
});

describe('a node refuses to start on bad ground, with a clear message', () => {
  it('refuses a WAL with a corrupt record in the middle, naming the file and offset', async () => {
    const c = await three(['--snapshot-entries', '0']);
    const kv = client(c);
    for (let i = 0; i < 200; i++) await kv.put(`k${i}`, 'x'.repeat(50));
    await c.stop(3);
    const wal = join(c.specs.get(3)!.dataDir, 'wal');
    const seg = join(wal, readdirSync(wal).sort()[0]!);
    // The middle of the records, not of the file: the file runs on in zeros past its records.
    const buf = readFileSync(seg);
    let end = 0;
    while (end + 8 <= buf.length && buf.readUInt32BE(end) !== 0) end += 8 + buf.readUInt32BE(end);
    expect(end).toBeLessThan(statSync(seg).size);
    const fd = openSync(seg, 'r+');
    const at = Math.floor(end / 2);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const err = (await c.start(3, { peers: [1, 2, 3] }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(seg);
    expect(err.stderr).toMatch(/offset \d+/);
  }, 60_000);

  it('after two WAL ends zeroed and a data folder deleted, no node comes back with older values', async () => {
    const c = await three();
    const kv = client(c);
    for (let i = 0; i < 20; i++) await kv.put(`k${i}`, 'old');
    // Every node holds the old values; where each WAL ends now is a record boundary.
    await waitFor('every node to hold the old values', async () => {
      const ends = [1, 2, 3].map((id) => recordsEnd(lastSegment(c.specs.get(id)!.dataDir)));
      await sleep(300);
      const again = [1, 2, 3].map((id) => recordsEnd(lastSegment(c.specs.get(id)!.dataDir)));
      return ends.every((e, k) => e === again[k]) && ends;
    });
    const marks = new Map(
      [1, 2].map((id) => [id, recordsEnd(lastSegment(c.specs.get(id)!.dataDir))] as const),
    );
    for (let i = 0; i < 20; i++) await kv.put(`k${i}`, 'new');
    await Promise.all([1, 2, 3].map((id) => c.stop(id)));
    for (const [id, mark] of marks) {
      const seg = lastSegment(c.specs.get(id)!.dataDir);
      const buf = readFileSync(seg);
      buf.fill(0, mark);
      writeFileSync(seg, buf);
    }
    rmSync(c.specs.get(3)!.dataDir, { recursive: true });
    // The peer secret is given back, as the supervisor gives it before every start.
    c.giveSecret(3);
    // Restarted as the supervisor restarts members it has started before.
    for (const id of [1, 2]) {
      const r = await refusal(c, id, ['--require-state']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(lastSegment(c.specs.get(id)!.dataDir));
      expect(r.stderr).toContain(`ends at offset ${marks.get(id)} (zeros from there on)`);
      expect(r.stderr).toContain('bytes of acknowledged records are missing');
    }
    const r3 = await refusal(c, 3, ['--require-state']);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`data dir ${c.specs.get(3)!.dataDir} holds no Raft state`);
    expect(r3.stderr).toContain('--require-state says this node has run before');
  }, 90_000);

  it('refuses a deleted hard state file, and a data dir emptied around its node.json', async () => {
    const c = await three();
    const kv = client(c);
    await kv.put('a', '1');
    await Promise.all([2, 3].map((id) => c.stop(id)));
    const two = c.specs.get(2)!.dataDir;
    rmSync(join(two, 'hardstate'));
    const r2 = await refusal(c, 2);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`hard state file ${join(two, 'hardstate')} is missing`);
    expect(r2.stderr).toContain("the node's term and vote are lost");
    // Everything but node.json gone: node.json says the node ran here, so empty is refused.
    const three_ = c.specs.get(3)!.dataDir;
    for (const f of readdirSync(three_))
      if (f !== 'node.json') rmSync(join(three_, f), { recursive: true });
    c.giveSecret(3);
    const r3 = await refusal(c, 3);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`data dir ${three_} holds no Raft state`);
    expect(r3.stderr).toContain(`${join(three_, 'node.json')} records that node 3 has run in it`);
  }, 60_000);

  it('refuses a data dir that belongs to another cluster, and a port in use', async () => {
    const c = await three();
    await c.stop(2);
    // Same data dir, other cluster id.
    const spec = c.specs.get(2)!;
    const other = await spawnNode(
      process.execPath,
      [
        '--import',
        'tsx',
        NODE_ENTRY,
        '--id',
        '2',
        '--cluster-id',
        'another',
        '--data',
        spec.dataDir,
        '--peers',
        c.peersFlag([1, 2, 3]),
      ],
      { RAFTDECK_ADMIN_TOKEN: c.token },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((other as { code: number }).code).toBe(2);
    expect((other as { stderr: string }).stderr).toMatch(
      /belongs to cluster '.*' node 2, not cluster 'another'/,
    );
    // A port that is taken.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(Number(spec.peer.split(':')[1]), '127.0.0.1', r));
    try {
      const busy = (await c.start(2, { peers: [1, 2, 3] }).catch((e: unknown) => e)) as {
        code: number;
        stderr: string;
      };
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`${spec.peer} is already in use`);
    } finally {
      blocker.close();
    }
    // Bad flags and a missing token are refused with exit code 2 too.
    const bad = (await spawnNode(process.execPath, ['--import', 'tsx', NODE_ENTRY, '--id', 'x'], {
      RAFTDECK_ADMIN_TOKEN: c.token,
    }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--id: expected an integer');
  }, 60_000);

  it('exits when its parent process dies', async () => {
    cluster = new TestCluster();
    const c = cluster;
    await c.define([1]);
    const spec = c.specs.get(1)!;
    // A parent that starts the node with an IPC channel, prints the node's pid, then waits.
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ${JSON.stringify([
        '--import',
        'tsx',
        NODE_ENTRY,
        '--id',
        '1',
        '--cluster-id',
        c.clusterId,
        '--data',
        spec.dataDir,
        '--peer-addr',
        spec.peer,
        '--client-addr',
        spec.client,
        '--admin-addr',
        spec.admin,
        '--peers',
        c.peersFlag([1]),
      ])}, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      child.stdout.on('data', (d) => { if (String(d).includes('ready')) console.log(child.pid); });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, RAFTDECK_ADMIN_TOKEN: c.token },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const pid = await new Promise<number>((resolve) =>
        parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
      );
      expect(pid).toBeGreaterThan(0);
      process.kill(parent.pid!, 'SIGKILL');
      await waitFor(
        'the orphaned node to exit',
        () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        10_000,
      );
    } finally {
      try {
        process.kill(parent.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 30_000);
});
