/**
 * peer-port-attack measures what a local process can do to a node's peer port, on a real 3-node
 * cluster (through the Supervisor, fsync on): `npx tsx test/bench/peer-port-attack.ts`.
 *
 *   flood     N connections that each send a valid hello (the cluster id is no secret) and stay
 *             open: the node's open file descriptors, whether it lives, whether writes commit;
 *   stranger  connections that send a hello and then a frame announcing 60 MB: the node's RSS;
 *   insider   authenticated connections (the secret read from the cluster folder, as its owner
 *             could) that each send 30 MB of a 60 MB frame and stop: the node's RSS, at the
 *             peak and 30 s later.
 *
 * It prints one JSON line per stage. Options: --connections N (default 19000: the attacker's own
 * descriptors are limited too), --frames N (default 40).
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHello } from '../../main/node/transport/hello';
import { newNonce } from '../../main/node/transport/peer-auth';
import { readPeerSecret } from '../../main/node/peer-secret';
import type { NodeStatus } from '../../main/node/node-api';
import { RawPeer } from '../node/raw-peer';
import { raftdeckPutter, startRaftdeck, statusOf } from './raftdeck-cluster';
import { installSignalHandlers, onTeardown, teardownAll } from './teardown';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** proc reads a live process's open descriptors and resident memory (MB). */
function proc(pid: number): { fds: number; rssMb: number } | undefined {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { fds, rssMb: Math.round(kb / 1024) };
  } catch {
    return undefined;
  }
}

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

/** sampler records the largest fds and RSS of `pid` seen until stopped. */
function sampler(pid: number): { stop(): { maxFds: number; maxRssMb: number } } {
  let maxFds = 0;
  let maxRssMb = 0;
  const t = setInterval(() => {
    const p = proc(pid);
    if (p) {
      maxFds = Math.max(maxFds, p.fds);
      maxRssMb = Math.max(maxRssMb, p.rssMb);
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(t);
      return { maxFds, maxRssMb };
    },
  };
}

function peerPortOf(s: NodeStatus | undefined): unknown {
  if (!s) return undefined;
  const t = s.transport;
  return {
    peerPort: t.peerPort,
    handshakeFailures: t.handshakeFailures,
    handshakesEvicted: t.handshakesEvicted,
    inboundRefused: t.inboundRefused,
    oversized: t.oversized,
    budgetEvicted: t.budgetEvicted,
  };
}

async function main(): Promise<void> {
  installSignalHandlers();
  const root = mkdtempSync(join(tmpdir(), 'raftdeck-attack-'));
  onTeardown('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const cluster = await startRaftdeck({ root }, 'attack');
  const sup = cluster.sup;
  const target = sup.nodes.get(1)!;
  const pid = target.proc.pid!;
  const port = portOf(target.rec.peer);
  const clusterId = sup.manifest.clusterId;
  const putter = raftdeckPutter(sup);
  onTeardown('putter', () => putter.close());
  const writes = async (n: number, tag: string): Promise<number> => {
    let ok = 0;
    for (let i = 0; i < n; i++) {
      try {
        await putter.put(`${tag}-${i}`, Buffer.from('x'));
        ok++;
      } catch {
        // counted as failed
      }
    }
    return ok;
  };
  await writes(20, 'warm');
  const base = proc(pid);
  console.log(JSON.stringify({ stage: 'baseline', pid, ...base }));

  // Stage 1: a flood of hello'd connections, held open.
  const n = arg('connections', 19_000);
  const sockets: Socket[] = [];
  onTeardown('flood', () => sockets.forEach((s) => s.destroy()));
  let closedByNode = 0;
  const s1 = sampler(pid);
  const t0 = Date.now();
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, () => {
        return new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port });
          sockets.push(s);
          s.on('error', () => resolve());
          s.on('close', () => {
            closedByNode++;
            resolve();
          });
          s.once('connect', () => {
            s.write(encodeHello({ clusterId, from: 2, to: 1, nonce: newNonce() }));
            s.resume();
            resolve();
          });
        });
      }),
    );
  }
  const okDuring = await writes(50, 'flood');
  await sleep(3000);
  const flood = s1.stop();
  const after = proc(pid);
  console.log(
    JSON.stringify({
      stage: 'flood',
      connections: n,
      seconds: (Date.now() - t0) / 1000,
      closedByNode,
      nodeAlive: after !== undefined,
      ...flood,
      fdsAfter: after?.fds,
      writesCommitted: `${okDuring}/50`,
      node: peerPortOf(await statusOf(sup, 1)),
    }),
  );
  sockets.forEach((s) => s.destroy());
  sockets.length = 0;
  await sleep(2000);

  // Stage 2: strangers announcing large frames.
  const frames = arg('frames', 40);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(60_000_000);
  const chunk = Buffer.alloc(1 << 20, 0x91);
  const s2 = sampler(pid);
  const strangers: RawPeer[] = [];
  for (let i = 0; i < frames; i++) {
    const p = await RawPeer.open(port);
    strangers.push(p);
    p.sendHello({ clusterId, from: 2, to: 1 });
    p.write(header);
    for (let k = 0; k < 10; k++) p.write(chunk);
  }
  await sleep(3000);
  const stranger = s2.stop();
  console.log(
    JSON.stringify({
      stage: 'stranger',
      frames,
      closedByNode: strangers.filter((p) => p.closed).length,
      ...stranger,
      rssAfterMb: proc(pid)?.rssMb,
      node: peerPortOf(await statusOf(sup, 1)),
    }),
  );
  strangers.forEach((p) => p.close());

  // Stage 3: insiders (they hold the secret) sending half of a 60 MB frame each.
  const secret = readPeerSecret(join(root, 'attack', 'peer-secret'));
  const s3 = sampler(pid);
  const insiders: RawPeer[] = [];
  for (let i = 0; i < frames; i++) {
    const p = await RawPeer.open(port);
    insiders.push(p);
    await p.handshake({ clusterId, from: 100 + i, to: 1 }, secret);
    p.write(header);
    for (let k = 0; k < 30; k++) p.write(chunk);
    await sleep(50);
  }
  await sleep(3000);
  const insider = s3.stop();
  const okInsider = await writes(20, 'insider');
  console.log(
    JSON.stringify({
      stage: 'insider',
      frames,
      closedByNode: insiders.filter((p) => p.closed).length,
      ...insider,
      rssAfterMb: proc(pid)?.rssMb,
      writesCommitted: `${okInsider}/20`,
      node: peerPortOf(await statusOf(sup, 1)),
    }),
  );
  insiders.forEach((p) => p.close());
  await sleep(30_000);
  console.log(JSON.stringify({ stage: 'insider+30s', rssMb: proc(pid)?.rssMb }));
}

main()
  .catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exitCode = 1;
  })
  .finally(() => teardownAll());
