/**
 * attack: what a process on the same machine can do to a running cluster through its ports, and
 * whether the cluster and its tools still answer. Each attack runs against a fresh 3-node cluster
 * hosted as `raftdeck serve` hosts it (attack-host.ts: nodes, control port, dashboard API on a web
 * server, in a process of its own), and prints: connections the attacker opened and how many the
 * server closed or refused, each node's RSS and open descriptors before, during and after the
 * attack (the highest seen while it was held, and again some seconds after it ended), whether a
 * put, `raftdeck status` over the admin port, the control port, the dashboard API (HTTP and
 * WebSocket) still answer and how fast, what each node's bounds counted, and how much node.log
 * grew.
 *
 * The attacker knows what any local user can see: the ports (ps, ss) and the cluster id (in every
 * node's arguments). It has no token and no peer secret: the peer-port attacks send hellos built
 * from the cluster id alone, which a node answers with a challenge the attacker cannot meet.
 * Two stages go further on purpose: peer-insider holds the peer secret (read from the cluster
 * folder, as the user's own processes can) and shows the bound on what an authenticated peer can
 * hold; start-race runs two `raftdeck start` on one fresh folder, again and again.
 *
 * usage: npx tsx test/bench/attack.ts [--only LIST] [--settle-seconds N] [--hold-seconds N]
 *                                     [--start-races N] [--json FILE]
 *    or: npm run bench -- --only attack (every attack, default timings)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { controlCall } from '../../main/cli/control-client';
import type { ClusterView } from '../../main/contract/view';
import { AdminClient } from '../../main/node/admin-client';
import { KvClient } from '../../main/node/client';
import { MAX_CLIENT_FRAME_BYTES } from '../../main/node/client-server';
import type { NodeStatus } from '../../main/node/node-api';
import { PEER_SECRET_FILE, readPeerSecret } from '../../main/node/peer-secret';
import { DEFAULT_MAX_FRAME_BYTES } from '../../main/node/transport/framing';
import { encodeProof } from '../../main/node/transport/hello';
import type { Message } from '../../main/raft/types';
import {
  FORGE_WAYS,
  RawPeer,
  forgeEveryWay,
  forgedTermHeartbeat,
  forgedWipe,
  type Forged,
} from '../node/raw-peer';
import { outsiderHello, type FloodCounts, type FloodOptions } from './attack-flood';
import {
  installSignalHandlers,
  isInterrupted,
  onTeardown,
  teardownAll,
  trackPids,
} from './teardown';

const ATTACKS = [
  'client-idle',
  'client-partial',
  'admin-flood',
  'web-flood',
  'log-flood',
  'peer-silent',
  'peer-hello',
  'peer-partial',
  'peer-insider',
  'forged',
  'start-race',
] as const;
type AttackName = (typeof ATTACKS)[number];

const USAGE = `usage: npx tsx test/bench/attack.ts [options]

  --only LIST          attacks to run, comma-separated: ${ATTACKS.join(',')} (default: all)
  --hold-seconds N     how long an attack is held before the cluster is probed (default 5)
  --settle-seconds N   after a memory attack ends, wait N s and measure RSS again (default 45)
  --start-races N      rounds of start-race, each two \`raftdeck start\` on a fresh folder (default 10)
  --json FILE          also write every figure to FILE
  -h, --help           this text`;

/** AttackOptions: which attacks, and how long each is held and watched. */
export interface AttackOptions {
  only: AttackName[];
  holdSeconds: number;
  settleSeconds: number;
  startRaces: number;
  json: string | undefined;
}

const HOST_ENTRY = fileURLToPath(new URL('./attack-host.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => console.log(line);

// ------------------------------------------------------------------ the hosted cluster

interface HostNode {
  id: number;
  pid: number | null;
  dataDir: string;
  peer: string;
  client: string;
  admin: string;
}

interface Host {
  dir: string;
  pid: number;
  clusterId: string;
  web: { port: number; token: string };
  control: { port: number; token: string };
  nodes: HostNode[];
  adminToken: string;
  stop(): Promise<void>;
}

const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

/** startHost starts a fresh cluster in a host process and resolves once it is healthy. */
async function startHost(root: string, name: string): Promise<Host> {
  const dir = join(root, name);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', HOST_ENTRY, dir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let nodePids: number[] = [];
  const untrack = trackPids(() => [child.pid ?? null, ...nodePids]);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        for (const pid of [child.pid, ...nodePids])
          try {
            if (pid) process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
      }, 15_000);
      await exited;
      clearTimeout(t);
      for (const pid of nodePids)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      untrack();
      rmSync(dir, { recursive: true, force: true });
    })());
  const unregister = onTeardown(`attack host ${name}`, stop);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the host was not ready in 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
      } catch (e) {
        reject(e as Error);
      }
    });
    void exited.then(() => reject(new Error('the host exited before it was ready')));
  });
  const nodes = ready.nodes as HostNode[];
  nodePids = nodes.map((n) => n.pid ?? 0).filter((p) => p > 0);
  return {
    dir,
    pid: child.pid!,
    clusterId: ready.clusterId as string,
    web: ready.web as Host['web'],
    control: ready.control as Host['control'],
    nodes,
    adminToken: readFileSync(join(dir, 'admin-token'), 'utf8').trim(),
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

// ------------------------------------------------------------------ what is measured

/** rssMB: resident memory of a process, from /proc (null when it is gone). */
function rssMB(pid: number | null): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** fds: open descriptors of a process (null when it is gone). */
function fds(pid: number | null): number | null {
  if (!pid) return null;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** logBytes: node.log and its rotated files, together. */
function logBytes(dataDir: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(dataDir))
      if (f === 'node.log' || f.startsWith('node.log.')) n += statSync(join(dataDir, f)).size;
  } catch {
    // no folder
  }
  return n;
}

interface Sample {
  at: string;
  rssMB: Record<string, number | null>;
  fds: Record<string, number | null>;
}

function sample(host: Host, at: string): Sample {
  const rss: Record<string, number | null> = { host: rssMB(host.pid) };
  const fd: Record<string, number | null> = { host: fds(host.pid) };
  for (const n of host.nodes) {
    rss[`node${n.id}`] = rssMB(n.pid);
    fd[`node${n.id}`] = fds(n.pid);
  }
  return { at, rssMB: rss, fds: fd };
}

function formatSample(s: Sample): string {
  const parts = Object.keys(s.rssMB).map(
    (k) => `${k} ${s.rssMB[k] ?? 'gone'} MB/${s.fds[k] ?? '-'} fd`,
  );
  return `  ${s.at.padEnd(12)} ${parts.join('  ')}`;
}

/**
 * watchPeaks samples every 200 ms until stopped and returns the highest RSS and descriptor count
 * seen for each process (a process that is gone counts as nothing).
 */
function watchPeaks(host: Host, at: string): { stop(): Sample } {
  const peak: Sample = { at, rssMB: {}, fds: {} };
  const take = (): void => {
    const s = sample(host, at);
    for (const k of Object.keys(s.rssMB)) {
      peak.rssMB[k] = Math.max(peak.rssMB[k] ?? 0, s.rssMB[k] ?? 0) || null;
      peak.fds[k] = Math.max(peak.fds[k] ?? 0, s.fds[k] ?? 0) || null;
    }
  };
  take();
  const t = setInterval(take, 200);
  return {
    stop: () => {
      clearInterval(t);
      take();
      return peak;
    },
  };
}

/** nodeStatus asks one node for its status over a new admin connection. */
async function nodeStatus(host: Host, n: HostNode): Promise<NodeStatus> {
  const c = await AdminClient.connect(n.admin, host.adminToken, {
    connectTimeoutMs: 3000,
    callTimeoutMs: 3000,
  });
  try {
    return await c.status();
  } finally {
    await c.close();
  }
}

/** Counters: what a node's bounds did since it started (docs/protocol.md, Server stats). */
type Counters = Record<string, number>;

/** countersOf picks out of a status every count of something refused, closed or left out. */
function countersOf(s: NodeStatus): Counters {
  const t = s.transport;
  const c: Counters = {
    'peer.handshakeFailures': t.handshakeFailures,
    'peer.authFailures': t.authFailures,
    'peer.handshakesEvicted': t.handshakesEvicted,
    'peer.inboundRefused': t.inboundRefused,
    'peer.oversized': t.oversized,
    'peer.budgetEvicted': t.budgetEvicted,
  };
  const v = s.servers;
  if (v) {
    Object.assign(c, {
      'client.evicted': v.client.evicted,
      'client.idleClosed': v.client.idleClosed,
      'client.refused': v.client.refused,
      'client.overBudget': v.client.overBudget,
      'client.oversizedFrames': v.client.oversizedFrames,
      'admin.evictedPending': v.admin.evictedPending,
      'admin.unauthorized': v.admin.unauthorized,
      'admin.refusedSessions': v.admin.refusedSessions,
      'admin.overBudget': v.admin.overBudget,
      'frames.peakMiB': Math.round(v.frameBudget.peakBytes / 2 ** 20),
      'frames.evictions': v.frameBudget.evictions,
      'log.suppressed': v.log.suppressed,
      'log.rotations': v.log.rotations,
    });
  }
  return c;
}

/** nodeCounters reads every node's counters (a string says why a node did not answer). */
async function nodeCounters(host: Host): Promise<Record<string, Counters | string>> {
  const out: Record<string, Counters | string> = {};
  await Promise.all(
    host.nodes.map(async (n) => {
      try {
        out[`node${n.id}`] = countersOf(await nodeStatus(host, n));
      } catch (e) {
        out[`node${n.id}`] = `no status: ${(e as Error).message}`;
      }
    }),
  );
  return out;
}

/** formatCounters prints the counters that are not zero, per node. */
function formatCounters(all: Record<string, Counters | string>): string[] {
  return Object.keys(all)
    .sort()
    .map((k) => {
      const c = all[k]!;
      if (typeof c === 'string') return `  ${k}: ${c}`;
      const set = Object.entries(c).filter(([, v]) => v !== 0);
      return `  ${k} counted: ${set.length ? set.map(([n, v]) => `${n} ${v}`).join(', ') : 'nothing'}`;
    });
}

// ------------------------------------------------------------------ probes

interface ProbeResult {
  ok: boolean;
  ms: number;
  detail: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function timed(fn: () => Promise<string>): Promise<ProbeResult> {
  const start = performance.now();
  try {
    const detail = await fn();
    return { ok: true, ms: Math.round(performance.now() - start), detail };
  } catch (e) {
    return {
      ok: false,
      ms: Math.round(performance.now() - start),
      detail: (e as Error).message.slice(0, 160),
    };
  }
}

/** probePut: a new client writes one key (what `raftdeck put` does). */
function probePut(host: Host): Promise<ProbeResult> {
  return timed(async () => {
    const kv = new KvClient({ endpoints: host.nodes.map((n) => n.client), timeoutMs: 5000 });
    try {
      await kv.put('attack-probe', String(Date.now()));
      return 'put ok';
    } finally {
      await kv.close();
    }
  });
}

/** probeStatus asks every node for its status over a new admin connection (`raftdeck status`). */
function probeStatus(host: Host): Promise<ProbeResult> {
  return timed(async () => {
    const results = await Promise.all(
      host.nodes.map(async (n) => {
        try {
          const c = await AdminClient.connect(n.admin, host.adminToken, {
            connectTimeoutMs: 2000,
            callTimeoutMs: 2000,
          });
          try {
            await c.status();
            return '';
          } finally {
            await c.close();
          }
        } catch (e) {
          return `node ${n.id}: ${(e as Error).message}`;
        }
      }),
    );
    const failed = results.filter(Boolean);
    if (failed.length > 0) throw new Error(`${host.nodes.length - failed.length}/3: ${failed[0]}`);
    return '3/3 nodes';
  });
}

/** probeControl sends `heal` (harmless on a healthy cluster) to the control port. */
function probeControl(host: Host): Promise<ProbeResult> {
  return timed(async () => {
    const r = await withTimeout(controlCall(host.dir, { cmd: 'heal', args: {} }), 5000, 'control');
    if (!r.ok) throw new Error(r.message);
    return r.message;
  });
}

/** probeHttp calls getView over the dashboard's HTTP API and refreshes the node pids from it. */
function probeHttp(host: Host): Promise<ProbeResult> {
  return timed(
    () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: host.web.port,
            path: '/api/call/getView',
            method: 'POST',
            headers: {
              Authorization: `Bearer ${host.web.token}`,
              'Content-Type': 'application/json',
            },
            timeout: 5000,
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => {
              if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
              try {
                const reply = JSON.parse(body) as { value: ClusterView };
                const healthy = reply.value.nodes.filter((n) => n.health === 'healthy').length;
                for (const n of reply.value.nodes) {
                  const h = host.nodes.find((x) => x.id === n.id);
                  if (h && n.process.pid) h.pid = n.process.pid;
                }
                resolve(`view: ${healthy}/3 healthy`);
              } catch (e) {
                reject(e as Error);
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer within 5000 ms')));
        req.on('error', reject);
        req.end('[]');
      }),
  );
}

/** probeSocket opens the dashboard's WebSocket and calls getView over it. */
function probeSocket(host: Host): Promise<ProbeResult> {
  return timed(
    () =>
      new Promise<string>((resolve, reject) => {
        const origin = `http://127.0.0.1:${host.web.port}`;
        const ws = new WebSocket(
          `ws://127.0.0.1:${host.web.port}/ws?token=${encodeURIComponent(host.web.token)}`,
          { origin, handshakeTimeout: 5000 },
        );
        const timer = setTimeout(() => {
          ws.terminate();
          reject(new Error('no reply within 5000 ms'));
        }, 5000);
        const done = (err?: Error): void => {
          clearTimeout(timer);
          ws.terminate();
          if (err) reject(err);
          else resolve('getView over WebSocket');
        };
        ws.on('open', () =>
          ws.send(JSON.stringify({ type: 'call', id: 1, name: 'getView', args: [] })),
        );
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; id?: number };
          if (m.type === 'reply' && m.id === 1) done();
        });
        ws.on('unexpected-response', (_q, res) => done(new Error(`HTTP ${res.statusCode}`)));
        ws.on('error', (e) => done(e));
      }),
  );
}

type Probes = Record<'put' | 'status' | 'control' | 'http' | 'ws', ProbeResult>;

async function probes(host: Host): Promise<Probes> {
  // One after another, so that each answer time is its own.
  const http = await probeHttp(host);
  const ws = await probeSocket(host);
  const control = await probeControl(host);
  const status = await probeStatus(host);
  const put = await probePut(host);
  return { put, status, control, http, ws };
}

function formatProbes(at: string, p: Probes): string {
  const parts = Object.entries(p).map(([k, r]) =>
    r.ok ? `${k} ok ${r.ms} ms` : `${k} FAILED after ${r.ms} ms (${r.detail})`,
  );
  return `  ${at.padEnd(12)} ${parts.join('; ')}`;
}

// ------------------------------------------------------------------ the attacker's connections

const FLOOD_ENTRY = fileURLToPath(new URL('./attack-flood.ts', import.meta.url));

/** FLOOD_PER_PROCESS: connections one flood process keeps (below its descriptor limit). */
const FLOOD_PER_PROCESS = 9000;

/**
 * RemoteFlood runs a Flood (attack-flood.ts) in processes of its own, FLOOD_PER_PROCESS
 * connections each, and adds up their counts.
 */
class RemoteFlood {
  private readonly children: ChildProcess[] = [];
  private readonly counts = new Map<ChildProcess, FloodCounts>();

  constructor(private readonly o: FloodOptions) {}

  /** start starts the processes and resolves once every first connection attempt has settled. */
  async start(): Promise<void> {
    const parts = Math.ceil(this.o.count / FLOOD_PER_PROCESS);
    const settled: Promise<void>[] = [];
    for (let i = 0; i < parts; i++) {
      const count = Math.min(FLOOD_PER_PROCESS, this.o.count - i * FLOOD_PER_PROCESS);
      const options: FloodOptions = { ...this.o, count };
      const c = spawn(
        process.execPath,
        ['--import', 'tsx', FLOOD_ENTRY, '--child', JSON.stringify(options)],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      );
      this.children.push(c);
      const untrack = trackPids(() => [c.pid ?? null]);
      c.once('exit', () => untrack());
      c.on('message', (m: { counts: FloodCounts }) => this.counts.set(c, m.counts));
      settled.push(
        new Promise((resolve) => {
          const on = (m: { type: string }): void => {
            if (m.type !== 'settled') return;
            c.off('message', on);
            resolve();
          };
          c.on('message', on);
          c.once('exit', () => resolve());
        }),
      );
    }
    await withTimeout(Promise.all(settled), 180_000, 'flood').catch(() => undefined);
  }

  private async ask(type: 'report' | 'stop'): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c.connected) return resolve();
            const t = setTimeout(resolve, 5000);
            const on = (m: { type: string }): void => {
              if (m.type !== (type === 'report' ? 'report' : 'stopped')) return;
              c.off('message', on);
              clearTimeout(t);
              resolve();
            };
            c.on('message', on);
            c.send({ type });
          }),
      ),
    );
  }

  async report(): Promise<string> {
    await this.ask('report');
    return this.summary();
  }

  async stop(): Promise<void> {
    await this.ask('stop');
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
  }

  summary(): string {
    const t: FloodCounts = { opened: 0, failed: 0, closedByServer: 0, open: 0, peakOpen: 0 };
    for (const c of this.counts.values()) {
      t.opened += c.opened;
      t.failed += c.failed;
      t.closedByServer += c.closedByServer;
      t.open += c.open;
      t.peakOpen += c.peakOpen;
    }
    return `opened ${t.opened}, refused ${t.failed}, closed by the server ${t.closedByServer}, open now ${t.open} (peak ${t.peakOpen})`;
  }
}

const ZEROS = Buffer.alloc(1 << 20);

/**
 * sendPartialFrame writes a frame header announcing `announce` body bytes, then `send` of them,
 * with backpressure; resolves with the bytes the kernel took once done or the socket closed.
 */
function sendPartialFrame(s: Socket, announce: number, send: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(announce, 0);
    s.write(header);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve(sent);
    };
    s.once('close', finish);
    const pump = (): void => {
      while (sent < send && !s.destroyed) {
        const n = Math.min(ZEROS.length, send - sent);
        sent += n;
        if (!s.write(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n))) {
          s.once('drain', pump);
          return;
        }
      }
      finish();
    };
    pump();
  });
}

// ------------------------------------------------------------------ one attack

export interface AttackResult {
  name: AttackName;
  description: string;
  samples: Sample[];
  probes: Record<string, Probes>;
  attacker: string[];
  /** counters: what each node's bounds counted by the end of the attack. */
  counters?: Record<string, Counters | string>;
  /** figures: the attack's own measurements (forged, start-race). */
  figures?: Record<string, unknown>;
  logGrowthBytes?: Record<string, number>;
}

interface Attack {
  description: string;
  /** memory: RSS is measured again settleSeconds after the attack ends. */
  memory: boolean;
  /** start sets the attack up; it is then held until stop(). */
  start(host: Host): Promise<void>;
  /** report: what the attacker saw, while the attack is held. */
  report(): Promise<string[]>;
  /** figures: the attack's own measurements, if any, once it was reported. */
  figures?(): Record<string, unknown>;
  stop(): Promise<void>;
}

async function runAttack(root: string, name: AttackName, o: AttackOptions): Promise<AttackResult> {
  const attack = makeAttack(name);
  log(`\n== ${name}: ${attack.description}`);
  const host = await startHost(root, name);
  const result: AttackResult = {
    name,
    description: attack.description,
    samples: [],
    probes: {},
    attacker: [],
  };
  const at = (label: string): void => {
    const s = sample(host, label);
    result.samples.push(s);
    log(formatSample(s));
  };
  const probe = async (label: string): Promise<void> => {
    const p = await probes(host);
    result.probes[label] = p;
    log(formatProbes(label, p));
  };
  try {
    const logsBefore = Object.fromEntries(host.nodes.map((n) => [n.id, logBytes(n.dataDir)]));
    at('before');
    await probe('before');
    const started = Date.now();
    const peaks = watchPeaks(host, 'peak');
    let peak: Sample | undefined;
    try {
      await attack.start(host);
      log(`  attack set up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await sleep(o.holdSeconds * 1000);
      at('during');
      await probe('during');
      result.attacker = await attack.report();
      result.figures = attack.figures?.();
      for (const l of result.attacker) log(`  attacker: ${l}`);
    } finally {
      peak = peaks.stop();
    }
    result.samples.push(peak);
    log(formatSample(peak));
    await attack.stop();
    await sleep(2000);
    at('after');
    await probe('after');
    result.counters = await nodeCounters(host);
    for (const l of formatCounters(result.counters)) log(l);
    if (attack.memory && o.settleSeconds > 0) {
      await sleep(o.settleSeconds * 1000);
      at(`after+${o.settleSeconds}s`);
    }
    result.logGrowthBytes = Object.fromEntries(
      host.nodes.map((n) => [`node${n.id}`, logBytes(n.dataDir) - logsBefore[n.id]!]),
    );
    log(
      `  node.log growth: ${Object.entries(result.logGrowthBytes)
        .map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)} MB`)
        .join(', ')}`,
    );
  } finally {
    await attack.stop().catch(() => undefined);
    await host.stop();
  }
  return result;
}

/** leaderOf: the node the cluster view names as leader (node 1 if none is known). */
async function leaderOf(host: Host): Promise<HostNode> {
  const c = await AdminClient.connect(host.nodes[0]!.admin, host.adminToken, {
    connectTimeoutMs: 2000,
  });
  try {
    const s = await c.status();
    return host.nodes.find((n) => n.id === s.leader) ?? host.nodes[0]!;
  } finally {
    await c.close();
  }
}

function floodAttack(
  description: string,
  targets: (host: Host) => FloodOptions[],
  memory = false,
): Attack {
  let floods: RemoteFlood[] = [];
  return {
    description,
    memory,
    async start(host) {
      floods = targets(host).map((t) => new RemoteFlood(t));
      await Promise.all(floods.map((f) => f.start()));
    },
    report: async () => {
      const lines = await Promise.all(floods.map((f) => f.report()));
      return lines.map((l, i) => `port ${i + 1}: ${l}`);
    },
    async stop() {
      await Promise.all(floods.map((f) => f.stop()));
    },
  };
}

/** partialFrameAttack: `count` connections each announce a large frame and send all but 1 byte. */
function partialFrameAttack(
  description: string,
  count: number,
  announce: number,
  target: (host: Host) => Promise<{ port: number; prefix?: (i: number) => Buffer }>,
): Attack {
  const sockets: Socket[] = [];
  let sent = 0;
  let closedEarly = 0;
  let stopped = false;
  return {
    description,
    memory: true,
    async start(host) {
      const { port, prefix } = await target(host);
      const done = await Promise.all(
        Array.from(
          { length: count },
          (_, i) =>
            new Promise<number>((resolve) => {
              const s = connect({ host: '127.0.0.1', port });
              s.on('error', () => undefined);
              s.on('data', () => undefined);
              s.on('close', () => {
                if (!stopped) closedEarly += 1;
              });
              s.once('connect', () => {
                sockets.push(s);
                if (prefix) s.write(prefix(i));
                void sendPartialFrame(s, announce, announce - 1).then(resolve);
              });
              s.once('error', () => resolve(0));
            }),
        ),
      );
      sent = done.reduce((a, b) => a + b, 0);
      // Let the node read what the kernel holds.
      await sleep(2000);
    },
    report: async () => [
      `${count} connections, each announcing ${announce.toLocaleString('en-US')} bytes; ` +
        `${(sent / 2 ** 20).toFixed(0)} MiB written in all; ${closedEarly} closed by the server before the attacker let go`,
    ],
    async stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * logFloodAttack: refused handshakes at one node's peer port as fast as `concurrency` loops can
 * make them, for `seconds`: half the loops send a hello naming another cluster
 * (`cluster-id-mismatch`), half a hello with the real cluster id and a made-up proof right behind
 * it (`auth-failed`). Each connection waits for the node to close it.
 */
function logFloodAttack(seconds: number, concurrency: number): Attack {
  const refused = { 'cluster-id-mismatch': 0, 'auth-failed': 0 };
  let errors = 0;
  let running = false;
  let loops: Promise<void>[] = [];
  const once = (port: number, bytes: () => Buffer, kind: keyof typeof refused): Promise<void> =>
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.on('connect', () => s.write(bytes()));
      s.on('data', () => undefined);
      s.on('error', () => {
        errors += 1;
      });
      s.on('close', () => {
        refused[kind] += 1;
        resolve();
      });
      setTimeout(() => s.destroy(), 10_000).unref();
    });
  const total = (): number => refused['cluster-id-mismatch'] + refused['auth-failed'];
  return {
    description: `refused handshakes at one node’s peer port for ${seconds} s, ${concurrency} at a time: a hello naming another cluster, or the real cluster id and a made-up proof`,
    memory: false,
    async start(host) {
      const node = host.nodes[0]!;
      const port = portOf(node.peer);
      const from = host.nodes[1]!.id;
      const madeUpProof = encodeProof(Buffer.alloc(32, 0x5a));
      const kinds: [keyof typeof refused, () => Buffer][] = [
        ['cluster-id-mismatch', () => outsiderHello('not-this-cluster', from, node.id)],
        [
          'auth-failed',
          () => Buffer.concat([outsiderHello(host.clusterId, from, node.id), madeUpProof]),
        ],
      ];
      running = true;
      const end = Date.now() + seconds * 1000;
      loops = Array.from({ length: concurrency }, async (_, i) => {
        const [kind, bytes] = kinds[i % 2]!;
        while (running && Date.now() < end && !isInterrupted()) await once(port, bytes, kind);
      });
      await Promise.all(loops);
      running = false;
    },
    report: async () => [
      `${total().toLocaleString('en-US')} connections closed by the node in ${seconds} s (${Math.round(total() / seconds)}/s: ${refused['cluster-id-mismatch']} cluster-id-mismatch, ${refused['auth-failed']} auth-failed), ${errors} socket errors`,
    ],
    figures: () => ({ seconds, refused: { ...refused }, total: total(), socketErrors: errors }),
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * insiderAttack: `count` connections that authenticate with the peer secret (read from the
 * cluster folder, as the user's own processes can) under made-up node ids, each announcing an
 * `announce`-byte frame, sending `send` bytes of it and stopping: what the budget for incomplete
 * frames leaves a peer that holds the secret.
 */
function insiderAttack(count: number, announce: number, send: number): Attack {
  const peers: RawPeer[] = [];
  let written = 0;
  let stopped = false;
  let closedEarly = 0;
  return {
    description: `${count} authenticated connections to the leader’s peer port (the secret read from the cluster folder), each sending ${(send / 2 ** 20).toFixed(0)} MiB of a ${announce.toLocaleString('en-US')}-byte frame and stopping`,
    memory: true,
    async start(host) {
      const n = await leaderOf(host);
      const secret = readPeerSecret(join(host.dir, PEER_SECRET_FILE));
      for (let i = 0; i < count && !isInterrupted(); i++) {
        const p = await RawPeer.open(portOf(n.peer));
        peers.push(p);
        p.socket.once('close', () => {
          if (!stopped) closedEarly += 1;
        });
        await p.handshake({ clusterId: host.clusterId, from: 100 + i, to: n.id }, secret);
        written += await sendPartialFrame(p.socket, announce, send);
      }
      await sleep(2000);
    },
    report: async () => [
      `${peers.length} connections authenticated, ${(written / 2 ** 20).toFixed(0)} MiB written in all; ${closedEarly} closed by the server before the attacker let go`,
    ],
    figures: () => ({ connections: peers.length, writtenMiB: written / 2 ** 20, closedEarly }),
    async stop() {
      stopped = true;
      for (const p of peers) p.close();
    },
  };
}

/** FORGED_KEYS: keys written before the forgeries and read back after them. */
const FORGED_KEYS = 20;

/** forgeAll: forgeEveryWay, as the error each connection got, named by how it tried. */
async function forgeAll(
  port: number,
  clusterId: string,
  from: number,
  to: number,
  msgs: Message[],
): Promise<Record<string, string>> {
  const forged = await forgeEveryWay(port, clusterId, from, to, msgs);
  const out: Record<string, string> = {};
  for (const [way, p] of Object.entries(forged) as [keyof Forged, RawPeer][]) {
    out[FORGE_WAYS[way]] = p.closed
      ? (p.errors()[0]?.error ?? 'closed without an error frame')
      : 'open';
    p.close();
  }
  return out;
}

/**
 * forgedAttack: a process that knows only the cluster id sends every node a heartbeat at term
 * 2^53 − 1 and an InstallSnapshot with an empty image that makes its sender the only voter, by
 * every means forgeAll has. It reports each node's term, configuration and snapshot before and
 * after, and whether every key written before still reads back.
 */
function forgedAttack(): Attack {
  const lines: string[] = [];
  let figures: Record<string, unknown> = {};
  return {
    description:
      'forged Raft messages from a process that knows only the cluster id: a heartbeat at term 2^53 − 1 and an InstallSnapshot with an empty image, to every node, behind every hello it can make',
    memory: false,
    async start(host) {
      const kv = new KvClient({ endpoints: host.nodes.map((n) => n.client), timeoutMs: 5000 });
      try {
        for (let i = 0; i < FORGED_KEYS; i++) await kv.put(`forged-${i}`, `v${i}`);
        const before = await Promise.all(host.nodes.map((n) => nodeStatus(host, n)));
        const term = Math.max(...before.map((s) => s.term));
        const refusals: Record<string, number> = {};
        for (const n of host.nodes) {
          const from = host.nodes.find((x) => x.id !== n.id)!.id;
          const heartbeat = forgedTermHeartbeat(from, n.id);
          const snap = forgedWipe(from, n.id, term + 1);
          for (const msgs of [[heartbeat], [snap]]) {
            const got = await forgeAll(portOf(n.peer), host.clusterId, from, n.id, msgs);
            for (const [how, error] of Object.entries(got)) {
              const k = `${how}: ${error}`;
              refusals[k] = (refusals[k] ?? 0) + 1;
            }
          }
        }
        await sleep(1000);
        const after = await Promise.all(host.nodes.map((n) => nodeStatus(host, n)));
        let intact = 0;
        for (let i = 0; i < FORGED_KEYS; i++) {
          const v = await kv.get(`forged-${i}`);
          if (v !== null && Buffer.from(v).toString() === `v${i}`) intact += 1;
        }
        const node = (s: NodeStatus): Record<string, unknown> => ({
          term: s.term,
          role: s.role,
          voters: [...s.voters].sort((a, b) => a - b),
          snapshotIndex: s.snapshotIndex,
          commit: s.commit,
          authFailures: s.transport.authFailures,
          handshakeFailures: s.transport.handshakeFailures,
        });
        figures = {
          refusals,
          before: Object.fromEntries(before.map((s) => [`node${s.id}`, node(s)])),
          after: Object.fromEntries(after.map((s) => [`node${s.id}`, node(s)])),
          keysIntact: intact,
          keys: FORGED_KEYS,
        };
        lines.push(
          `connections and the error each got: ${Object.entries(refusals)
            .map(([k, v]) => `${v} × ${k}`)
            .join('; ')}`,
        );
        for (const [b, a] of before.map((s, i) => [s, after[i]!] as const)) {
          lines.push(
            `node ${b.id}: term ${b.term} -> ${a.term}, ${a.role}, voters [${a.voters.join(',')}], snapshot index ${b.snapshotIndex} -> ${a.snapshotIndex}, commit ${b.commit} -> ${a.commit}, auth failures ${b.transport.authFailures} -> ${a.transport.authFailures}`,
          );
        }
        lines.push(`${intact} of ${FORGED_KEYS} keys written before read back unchanged`);
      } finally {
        await kv.close();
      }
    },
    report: async () => lines,
    figures: () => figures,
    async stop() {
      // Every connection was closed by forgeAll.
    },
  };
}

function makeAttack(name: AttackName): Attack {
  switch (name) {
    case 'client-idle':
      return floodAttack('1,024 idle connections to every node’s client port', (host) =>
        host.nodes.map((n) => ({ port: portOf(n.client), count: 1024, reopen: true })),
      );
    case 'client-partial':
      return partialFrameAttack(
        '60 half-sent largest frames to the leader’s client port',
        60,
        MAX_CLIENT_FRAME_BYTES,
        async (host) => ({ port: portOf((await leaderOf(host)).client) }),
      );
    case 'admin-flood':
      return floodAttack('64 silent connections to every node’s admin port', (host) =>
        host.nodes.map((n) => ({ port: portOf(n.admin), count: 64, reopen: true })),
      );
    case 'web-flood':
      return floodAttack('20,000 silent connections to the web server', (host) => [
        { port: host.web.port, count: 20_000, reopen: true, reopenDelayMs: 100 },
      ]);
    case 'log-flood':
      return logFloodAttack(20, 64);
    case 'peer-silent':
      return floodAttack('2,000 silent connections to the leader’s peer port', (host) => [
        { port: portOf(host.nodes[0]!.peer), count: 2000, reopen: true, reopenDelayMs: 100 },
      ]);
    case 'peer-hello':
      return floodAttack(
        '20,000 connections to a node’s peer port, each a valid hello claiming to be one of the other members, then silence (no proof)',
        (host) => [
          {
            port: portOf(host.nodes[0]!.peer),
            count: 20_000,
            reopen: true,
            reopenDelayMs: 1000,
            hello: {
              clusterId: host.clusterId,
              to: host.nodes[0]!.id,
              from: host.nodes.slice(1).map((n) => n.id),
            },
          },
        ],
      );
    case 'peer-partial':
      return partialFrameAttack(
        '40 connections to the leader’s peer port: a valid hello claiming to be another member, then a half-sent largest frame',
        40,
        DEFAULT_MAX_FRAME_BYTES,
        async (host) => {
          const n = await leaderOf(host);
          const others = host.nodes.filter((x) => x.id !== n.id);
          return {
            port: portOf(n.peer),
            prefix: (i) => outsiderHello(host.clusterId, others[i % others.length]!.id, n.id),
          };
        },
      );
    case 'peer-insider':
      return insiderAttack(40, 60_000_000, 30 * 2 ** 20);
    case 'forged':
      return forgedAttack();
    case 'start-race':
      throw new Error('start-race runs without a hosted cluster (runStartRace)');
  }
}

// ------------------------------------------------------------------ two starts on one folder

const BIN = fileURLToPath(new URL('../../bin/raftdeck.mjs', import.meta.url));

/** StartOutcome: how one `raftdeck start --json` ended up. */
interface StartOutcome {
  child: ChildProcess;
  started: boolean;
  clusterId?: string;
  nodePids: number[];
  code?: number | null;
  stderr: string;
}

/** startOnce runs `raftdeck start --json` and resolves once it printed its started line or exited. */
function startOnce(dir: string): Promise<StartOutcome> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'start',
      '--json',
      '--data',
      dir,
      '--nodes',
      '1',
      '--heartbeat-ms',
      '50',
      '--election-ms',
      '500',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const outcome: StartOutcome = { child, started: false, nodePids: [], stderr: '' };
  const untrack = trackPids(() => [child.pid ?? null, ...outcome.nodePids]);
  child.once('exit', () => untrack());
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (outcome.stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let o: { event?: string; clusterId?: string; nodes?: { pid: number | null }[] };
        try {
          o = JSON.parse(line) as typeof o;
        } catch {
          continue;
        }
        if (o.event !== 'started') continue;
        clearTimeout(timer);
        outcome.started = true;
        outcome.clusterId = o.clusterId;
        outcome.nodePids = (o.nodes ?? []).flatMap((n) => (n.pid ? [n.pid] : []));
        resolve(outcome);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      outcome.code = code;
      resolve(outcome);
    });
  });
}

/** stopStart stops a running `raftdeck start` with SIGINT (SIGKILL after 15 s) and its nodes. */
async function stopStart(o: StartOutcome): Promise<void> {
  const c = o.child;
  if (c.exitCode === null && c.signalCode === null) {
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGINT');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
  for (const pid of o.nodePids)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // stopped with its supervisor, as it should be
    }
}

/**
 * runStartRace starts two `raftdeck start` on one fresh folder at once, `rounds` times, and
 * counts how many ran a cluster, what the other one said, and whether the folder's run files
 * (control.json, cluster.json) are the running one's.
 */
async function runStartRace(root: string, o: AttackOptions): Promise<AttackResult> {
  const description = `two \`raftdeck start\` at once on one fresh cluster folder, ${o.startRaces} times`;
  log(`\n== start-race: ${description}`);
  const rounds = { one: 0, both: 0, none: 0, filesOfTheOther: 0 };
  const refusals: Record<string, number> = {};
  for (let r = 0; r < o.startRaces && !isInterrupted(); r++) {
    const dir = join(root, 'start-race', String(r));
    const both = await Promise.all([startOnce(dir), startOnce(dir)]);
    try {
      const ran = both.filter((x) => x.started);
      if (ran.length === 1) rounds.one += 1;
      else if (ran.length === 2) rounds.both += 1;
      else rounds.none += 1;
      for (const x of both.filter((y) => !y.started)) {
        const last = x.stderr.trim().split('\n').at(-1) ?? '';
        const k = `exit ${x.code}: ${last.replaceAll(dir, 'DIR').replace(/\d+/g, 'N').slice(0, 160)}`;
        refusals[k] = (refusals[k] ?? 0) + 1;
      }
      if (ran.length === 1) {
        await sleep(200);
        const control = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as {
          pid: number;
        };
        const manifest = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as {
          clusterId: string;
        };
        if (control.pid !== ran[0]!.child.pid || manifest.clusterId !== ran[0]!.clusterId)
          rounds.filesOfTheOther += 1;
      }
    } finally {
      await Promise.all(both.map(stopStart));
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const attacker = [
    `${rounds.one} rounds with one cluster running and the other start refused, ${rounds.both} with both running, ${rounds.none} with neither; ${rounds.filesOfTheOther} where the folder's control.json or cluster.json was not the running one's`,
    ...Object.entries(refusals).map(([k, v]) => `${v} × ${k}`),
  ];
  for (const l of attacker) log(`  ${l}`);
  return {
    name: 'start-race',
    description,
    samples: [],
    probes: {},
    attacker,
    figures: { rounds, refusals },
  };
}

// ------------------------------------------------------------------ main

/**
 * DEFAULT_ATTACK_OPTIONS: every attack, held 5 s, memory measured again 45 s after, 10 rounds of
 * start-race.
 */
export const DEFAULT_ATTACK_OPTIONS: AttackOptions = {
  only: [...ATTACKS],
  holdSeconds: 5,
  settleSeconds: 45,
  startRaces: 10,
  json: undefined,
};

function parseOptions(argv: string[]): AttackOptions | 'help' {
  const o: AttackOptions = { ...DEFAULT_ATTACK_OPTIONS, only: [...ATTACKS] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const seconds = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number of seconds`);
      return n;
    };
    switch (a) {
      case '--only': {
        const list = value().split(',');
        const bad = list.find((s) => !(ATTACKS as readonly string[]).includes(s));
        if (bad !== undefined) throw new Error(`--only: unknown attack '${bad}'`);
        o.only = ATTACKS.filter((x) => list.includes(x));
        break;
      }
      case '--hold-seconds':
        o.holdSeconds = seconds();
        break;
      case '--settle-seconds':
        o.settleSeconds = seconds();
        break;
      case '--start-races': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
        o.startRaces = n;
        break;
      }
      case '--json':
        o.json = value();
        break;
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new Error(`unknown option '${a}'`);
    }
  }
  return o;
}

/** runAttacks runs the attacks one after another, each on a fresh cluster, printing as it goes. */
export async function runAttacks(o: AttackOptions): Promise<AttackResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'raftdeck-attack-'));
  onTeardown('attack temp dir', () => rmSync(root, { recursive: true, force: true }));
  log(
    'each attack runs on a fresh 3-node cluster hosted as `raftdeck serve` hosts it (nodes from sources through tsx)',
  );
  const results: AttackResult[] = [];
  for (const name of o.only) {
    if (isInterrupted()) break;
    results.push(
      name === 'start-race' ? await runStartRace(root, o) : await runAttack(root, name, o),
    );
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

function entry(): void {
  let o: AttackOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`attack: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (o === 'help') {
    console.log(USAGE);
    return;
  }
  installSignalHandlers();
  runAttacks(o)
    .catch((e: Error) => {
      if (!isInterrupted()) console.error(`attack: ${e.stack ?? e.message}`);
      process.exitCode = 1;
    })
    .then(() => teardownAll())
    .finally(() => process.exit(isInterrupted() ? 130 : (process.exitCode ?? 0)));
}

// Run when started as a script (npx tsx test/bench/attack.ts), not when imported by index.ts.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  entry();
}
