// Entry point of one Raft node process. Runs under plain `node` and under Electron with
// ELECTRON_RUN_AS_NODE=1, so it must never import electron.
import { join } from 'node:path';
import { AdminServer } from './admin-server';
import { ClientServer } from './client-server';
import { claimDataDir, recordDataDir, requiredState, type DataDirClaim } from './data-dir';
import { FlagError, NODE_USAGE, parseNodeFlags } from './flags';
import { PeerSecretError, peerSecretPath, readPeerSecret } from './peer-secret';
import { JsonLog, type LogLevel } from './logger';
import { PutTimeline, TIMELINE_ENV } from './put-timeline';
import { RaftNode } from './raft-node';
import { FileStorage } from './storage/file-storage';
import { FaultFilter } from './transport/fault-filter';
import { FrameBudget } from './transport/frame-budget';
import { TcpTransport } from './transport/transport';

/** EXIT codes: 0 clean stop, 1 fatal runtime or storage error, 2 bad flags, ports or data dir. */
const EXIT_FATAL = 1;
const EXIT_CONFIG = 2;

function fail(code: number, message: string): never {
  process.stderr.write(`raftdeck-node: ${message}\n`);
  process.exit(code);
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${NODE_USAGE}\n`);
    return;
  }
  let flags;
  try {
    flags = parseNodeFlags(argv);
  } catch (e) {
    if (e instanceof FlagError) fail(EXIT_CONFIG, `${e.message}\n${NODE_USAGE}`);
    throw e;
  }
  const token = process.env.RAFTDECK_ADMIN_TOKEN;
  if (!token || token.length < 16) {
    fail(
      EXIT_CONFIG,
      'RAFTDECK_ADMIN_TOKEN must be set in the environment (at least 16 characters)',
    );
  }
  let timeline: PutTimeline | undefined;
  const timelineSize = process.env[TIMELINE_ENV];
  if (timelineSize !== undefined && timelineSize !== '') {
    try {
      timeline = new PutTimeline(Number(timelineSize));
    } catch (e) {
      fail(EXIT_CONFIG, `${TIMELINE_ENV}=${timelineSize}: ${(e as Error).message}`);
    }
  }
  // Everything this process creates (data dir, WAL, snapshots, log) is for its owner only.
  process.umask(0o077);
  // The secret is read before the data dir is claimed: a node without it touches nothing.
  let secret: Buffer;
  try {
    secret = readPeerSecret(peerSecretPath(flags.dataDir));
  } catch (e) {
    if (e instanceof PeerSecretError) fail(EXIT_CONFIG, e.message);
    throw e;
  }
  let claim: DataDirClaim;
  try {
    claim = claimDataDir(flags.dataDir, flags.clusterId, flags.id);
  } catch (e) {
    fail(EXIT_CONFIG, (e as Error).message);
  }

  const log = new JsonLog(
    join(flags.dataDir, 'node.log'),
    { node: flags.id },
    {
      keep: 2000,
      echo: flags.logStderr,
      maxFileBytes: flags.logMaxBytes,
      keepFiles: flags.logKeep,
      repeatLimit: flags.logRepeatLimit,
    },
  );
  // One budget for the bytes of incomplete frames, shared by every framed port of this process.
  const frameBudget = new FrameBudget(flags.maxPartialFrameBytes);
  const storage = new FileStorage({
    dir: flags.dataDir,
    requireState: requiredState(claim, flags.requireState),
  });
  const faults = new FaultFilter();
  const peer = hostPort(flags.peerAddr);
  const transport = new TcpTransport({
    id: flags.id,
    clusterId: flags.clusterId,
    secret,
    host: peer.host,
    port: peer.port,
    ...flags.peerPort,
    frameBudget,
    faults,
    log: (level, msg, fields) => log.log(level, msg, fields),
  });

  let node: RaftNode | undefined = undefined;
  let exiting = false;
  const exit = async (code: number, reason: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    try {
      if (node) await node.shutdown(reason);
    } catch {
      // shutting down anyway
    }
    await log.close();
    process.exit(code);
  };

  let peerAddress: string;
  try {
    const a = await transport.listen();
    peerAddress = `${a.host}:${a.port}`;
  } catch (e) {
    fail(EXIT_CONFIG, `peer address ${flags.peerAddr}: ${(e as Error).message}`);
  }

  node = new RaftNode({
    id: flags.id,
    clusterId: flags.clusterId,
    dataDir: flags.dataDir,
    storage,
    transport,
    faults,
    log,
    peerAddress,
    clientAddress: flags.clientAddr,
    adminAddress: flags.adminAddr,
    initialPeers: flags.peers,
    join: flags.join,
    tickMs: flags.tickMs,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
    pace: flags.pace,
    fastFailover: flags.fastFailover,
    snapshotEntries: flags.snapshotEntries,
    snapshotKeep: flags.snapshotKeep,
    snapshotChunkBytes: flags.snapshotChunkBytes,
    promoteGap: flags.promoteGap,
    timeline,
    onFatal: (err) => {
      process.stderr.write(`raftdeck-node: fatal: ${err.message}\n`);
      void log.close().then(() => process.exit(EXIT_FATAL));
    },
    onRemoved: () => void exit(0, 'removed from the cluster'),
  });
  try {
    await node.start();
  } catch (e) {
    await transport.close().catch(() => undefined);
    await log.close();
    fail(EXIT_FATAL, (e as Error).message);
  }
  // From here on the dir is known to hold this node's state.
  try {
    recordDataDir(claim);
  } catch (e) {
    await node.shutdown('could not record the data dir').catch(() => undefined);
    await log.close();
    fail(EXIT_FATAL, `data dir ${flags.dataDir}: ${(e as Error).message}`);
  }

  const client = hostPort(flags.clientAddr);
  const admin = hostPort(flags.adminAddr);
  const wireLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void =>
    log.log(level, msg, fields);
  const clientServer = new ClientServer({
    node,
    host: client.host,
    port: client.port,
    maxConnections: flags.maxClientConnections,
    idleTimeoutMs: flags.clientIdleMs,
    frameBudget,
    timeline,
    log: wireLog,
  });
  const adminServer = new AdminServer({
    node,
    token: token!,
    host: admin.host,
    port: admin.port,
    maxPending: flags.maxAdminPending,
    maxSessions: flags.maxAdminSessions,
    authTimeoutMs: flags.adminAuthTimeoutMs,
    idleTimeoutMs: flags.adminIdleMs,
    frameBudget,
    log: wireLog,
  });
  node.setServerStats(() => ({
    client: clientServer.stats(),
    admin: adminServer.stats(),
    frameBudget: frameBudget.stats(),
    log: { suppressed: log.suppressed, rotations: log.rotations },
  }));
  let clientAddress: string;
  let adminAddress: string;
  try {
    const c = await clientServer.listen();
    clientAddress = `${c.host}:${c.port}`;
  } catch (e) {
    await node.shutdown('client port unavailable');
    fail(EXIT_CONFIG, `client address ${flags.clientAddr}: ${(e as Error).message}`);
  }
  try {
    const a = await adminServer.listen();
    adminAddress = `${a.host}:${a.port}`;
  } catch (e) {
    await node.shutdown('admin port unavailable');
    fail(EXIT_CONFIG, `admin address ${flags.adminAddr}: ${(e as Error).message}`);
  }
  node.setAddresses(clientAddress, adminAddress);
  const closeServers = async (): Promise<void> => {
    await Promise.allSettled([clientServer.close(), adminServer.close()]);
  };
  const stop = (reason: string): void => {
    void closeServers().then(() => exit(0, reason));
  };
  node.onShutdown(() => void closeServers());

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (e) => {
    log.error('uncaught exception', { error: e.stack ?? e.message });
    process.stderr.write(`raftdeck-node: uncaught exception: ${e.stack ?? e.message}\n`);
    void log.close().then(() => process.exit(EXIT_FATAL));
  });

  // Exit with the parent unless detached: an IPC channel closes, or we are re-parented.
  if (!flags.detached) {
    if (process.send) process.on('disconnect', () => stop('parent exited'));
    const ppid = process.ppid;
    setInterval(() => {
      if (process.ppid !== ppid) stop('parent exited');
    }, 250).unref();
  }

  process.stdout.write(
    `${JSON.stringify({ event: 'ready', id: flags.id, pid: process.pid, peer: peerAddress, client: clientAddress, admin: adminAddress })}\n`,
  );
}

main().catch((e: Error) => fail(EXIT_FATAL, e.stack ?? e.message));
