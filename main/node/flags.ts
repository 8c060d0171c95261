import type { NodeId } from '../raft/types';
import {
  DEFAULT_ADMIN_AUTH_TIMEOUT_MS,
  DEFAULT_ADMIN_IDLE_MS,
  DEFAULT_ADMIN_MAX_PENDING,
  DEFAULT_ADMIN_MAX_SESSIONS,
} from './admin-server';
import { DEFAULT_CLIENT_IDLE_MS, DEFAULT_MAX_CLIENT_CONNECTIONS } from './client-server';
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES, DEFAULT_REPEAT_LIMIT } from './logger';
import type { MemberAddress } from './node-api';
import { parseMemberAddress } from './node-api';
import { DEFAULT_PEER_PORT_LIMITS } from './transport/transport';
import { MAX_PACE, MESSAGE_FLIGHT_MS, MIN_PACE } from './transport/pace';

/** MIN_PARTIAL_FRAME_BUDGET: one whole frame of the largest size, header included. */
const MIN_PARTIAL_FRAME_BUDGET = DEFAULT_MAX_FRAME_BYTES + FRAME_HEADER_BYTES;

/** DEFAULT_PEER_PORT_FLAGS: the peer-port bounds of a node given none on its command line. */
export const DEFAULT_PEER_PORT_FLAGS: Readonly<PeerPortFlags> = {
  maxInboundConnections: DEFAULT_PEER_PORT_LIMITS.maxInboundConnections,
  maxPendingHandshakes: DEFAULT_PEER_PORT_LIMITS.maxPendingHandshakes,
  handshakeTimeoutMs: DEFAULT_PEER_PORT_LIMITS.handshakeTimeoutMs,
};
import { DEFAULT_FRAME_BUDGET_BYTES } from './transport/frame-budget';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './transport/framing';

/** NodeFlags are the node process's command-line settings (the admin token comes from the environment). */
export interface NodeFlags {
  id: NodeId;
  clusterId: string;
  dataDir: string;
  peerAddr: string;
  clientAddr: string;
  adminAddr: string;
  peers: { id: NodeId; address: MemberAddress }[];
  join: boolean;
  /** requireState: the node has run before; refuse a data dir that holds no state. */
  requireState: boolean;
  tickMs: number;
  heartbeatMs: number;
  electionMs: number;
  /** pace: the demo pace to start at (ticks last tickMs × pace; messages held 10 ms × pace). */
  pace: number;
  /** fastFailover: campaign at once when the leader's port refuses connections. */
  fastFailover: boolean;
  snapshotEntries: number;
  snapshotKeep: number;
  snapshotChunkBytes: number;
  promoteGap: number;
  detached: boolean;
  logStderr: boolean;
  /** peerPort: the bounds of the peer port (docs/protocol.md, "Limits of the peer port"). */
  peerPort: PeerPortFlags;
  // Bounds of the client and admin ports, the frame budget and the log (see NODE_USAGE).
  maxClientConnections: number;
  clientIdleMs: number;
  maxAdminPending: number;
  maxAdminSessions: number;
  adminAuthTimeoutMs: number;
  adminIdleMs: number;
  maxPartialFrameBytes: number;
  logMaxBytes: number;
  logKeep: number;
  logRepeatLimit: number;
}

/** PeerPortFlags are the peer-port bounds a node can be given on its command line. */
export interface PeerPortFlags {
  maxInboundConnections: number;
  maxPendingHandshakes: number;
  handshakeTimeoutMs: number;
}

export const NODE_USAGE = `usage: raftdeck-node --id N --cluster-id ID --data DIR [options]

  --id N                   this node's id (positive integer)
  --cluster-id ID          the cluster this node belongs to (checked on every connection and data dir)
  --data DIR               data directory (WAL, snapshots, hard state, node.log)
  --peer-addr HOST:PORT    where peers connect (default 127.0.0.1:0 = any free port)
  --client-addr HOST:PORT  where clients connect (default 127.0.0.1:0)
  --admin-addr HOST:PORT   where the supervisor connects (default 127.0.0.1:0)
  --peers LIST             id=peerHost:port|clientHost:port,... the founding voters (or, with --join,
                           the members to contact); may include this node
  --join                   start empty and wait to be added as a learner
  --require-state          this node has run before: refuse to start on a data dir that holds no
                           Raft state (the supervisor passes it to every member it has started)
  --tick-ms N              logical clock tick (default 10)
  --heartbeat-ms N         heartbeat interval (default 100)
  --election-ms N          election timeout (default 1000)
  --pace N                 demo pace, 1..100 (default 1): each tick lasts tick-ms × N, so
                           heartbeats and election timeouts last N times as long, and above 1
                           every message sent is held ${MESSAGE_FLIGHT_MS} ms × N; the admin op set-pace changes it
  --fast-failover on|off   campaign at once when the leader's port refuses connections, instead
                           of waiting for the election timeout (default on)
  --snapshot-entries N     snapshot after N applied entries holding at least half the state's
                           bytes (default 10000; 0 = only on request)
  --snapshot-keep N        entries kept behind a snapshot (default 1000)
  --snapshot-chunk-bytes N InstallSnapshot chunk size (default 1048576)
  --promote-gap N          a learner may be promoted within N entries of the leader (default 100)
  --detached               keep running when the parent process exits
  --log-stderr             also write log lines to stderr

peer port bounds (docs/protocol.md, "Limits of the peer port"):
  --peer-max-connections N         accepted peer connections open at once (default ${DEFAULT_PEER_PORT_LIMITS.maxInboundConnections})
  --peer-max-pending N             of them, not yet authenticated; the oldest is closed for a
                                   new one (default ${DEFAULT_PEER_PORT_LIMITS.maxPendingHandshakes})
  --peer-handshake-timeout-ms N    time to complete the handshake (default ${DEFAULT_PEER_PORT_LIMITS.handshakeTimeoutMs})
  (incomplete peer frames count against --max-partial-frame-bytes, below)

files: DIR/peer-secret  the cluster's peer secret (64 hex digits, mode 0600; required)
bounds (each has a default; see docs/protocol.md):
  --max-client-connections N  client connections open at once (default 1024); when full, the one
                              idle the longest is closed to make room
  --client-idle-ms N          close a client connection with no request in flight that has received
                              nothing for N ms (default 60000; 0 = never)
  --max-admin-pending N       admin connections not yet authenticated (default 64); when full, the
                              oldest is closed to make room
  --max-admin-sessions N      authenticated admin connections (default 32)
  --admin-auth-timeout-ms N   time an admin connection has to send its token (default 2000)
  --admin-idle-ms N           close an admin session with no request in flight and no subscription
                              that has received nothing for N ms (default 60000; 0 = never)
  --max-partial-frame-bytes N bytes of incomplete frames held over all ports; beyond it the
                              connection holding the most is closed, strangers before
                              authenticated peers and admin sessions (default 268435456 = 256 MiB,
                              at least one whole frame, 67108868)
  --log-max-bytes N           rotate node.log before it grows past N bytes (default 10485760;
                              0 = never)
  --log-keep N                rotated logs kept, node.log.1 to node.log.N (default 3)
  --log-repeat-limit N        lines of one kind (same level and text, numbers and quoted strings
                              aside) written per 10 s; the rest are counted in one line
                              (default 20; 0 = no limit)

environment: RAFTDECK_ADMIN_TOKEN  the admin protocol token (required)
             RAFTDECK_TIMELINE     keep the write path's stamps of the latest N entries (1..65536;
                                   off when unset; see docs/protocol.md, Put timeline)`;

/** FlagError: the command line is wrong; the message says exactly what. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

const HOSTPORT = /^(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

/** checkHostPort validates "host:port" (IPv4, localhost or [IPv6]; port 0-65535). */
export function checkHostPort(flag: string, v: string): string {
  const m = HOSTPORT.exec(v);
  if (!m || Number(m[2]) > 65535)
    throw new FlagError(`${flag}: expected HOST:PORT (e.g. 127.0.0.1:7001), got '${v}'`);
  return v;
}

function int(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new FlagError(`${flag}: expected an integer in ${min}..${max}, got '${v ?? ''}'`);
  }
  return n;
}

/** parsePeers reads "1=host:port|host:port,2=..." into ids and member addresses. */
export function parsePeers(v: string): { id: NodeId; address: MemberAddress }[] {
  const out: { id: NodeId; address: MemberAddress }[] = [];
  for (const part of v.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new FlagError(`--peers: expected id=peerAddr|clientAddr, got '${part}'`);
    const id = int('--peers id', part.slice(0, eq).trim(), 1, 2 ** 31);
    const address = parseMemberAddress(part.slice(eq + 1).trim());
    checkHostPort(`--peers ${id}`, address.peer);
    checkHostPort(`--peers ${id}`, address.client);
    if (out.some((p) => p.id === id)) throw new FlagError(`--peers: node ${id} is listed twice`);
    out.push({ id, address });
  }
  return out;
}

/** parseNodeFlags parses argv (without node and script); it throws FlagError on any problem. */
export function parseNodeFlags(argv: string[]): NodeFlags {
  const f: Partial<NodeFlags> & { peersRaw?: string } = {
    peerAddr: '127.0.0.1:0',
    clientAddr: '127.0.0.1:0',
    adminAddr: '127.0.0.1:0',
    join: false,
    requireState: false,
    tickMs: 10,
    heartbeatMs: 100,
    electionMs: 1000,
    pace: 1,
    fastFailover: true,
    snapshotEntries: 10_000,
    snapshotKeep: 1000,
    snapshotChunkBytes: 1 << 20,
    promoteGap: 100,
    detached: false,
    logStderr: false,
    maxClientConnections: DEFAULT_MAX_CLIENT_CONNECTIONS,
    clientIdleMs: DEFAULT_CLIENT_IDLE_MS,
    maxAdminPending: DEFAULT_ADMIN_MAX_PENDING,
    maxAdminSessions: DEFAULT_ADMIN_MAX_SESSIONS,
    adminAuthTimeoutMs: DEFAULT_ADMIN_AUTH_TIMEOUT_MS,
    adminIdleMs: DEFAULT_ADMIN_IDLE_MS,
    maxPartialFrameBytes: DEFAULT_FRAME_BUDGET_BYTES,
    logMaxBytes: DEFAULT_LOG_MAX_BYTES,
    logKeep: DEFAULT_LOG_KEEP,
    logRepeatLimit: DEFAULT_REPEAT_LIMIT,
  };
  const peerPort: PeerPortFlags = { ...DEFAULT_PEER_PORT_FLAGS };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new FlagError(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case '--id':
        f.id = int(k, val(), 1, 2 ** 31);
        break;
      case '--cluster-id': {
        const v = val();
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(v))
          throw new FlagError(`--cluster-id: 1-64 of [A-Za-z0-9._-], got '${v}'`);
        f.clusterId = v;
        break;
      }
      case '--data':
        f.dataDir = val();
        break;
      case '--peer-addr':
        f.peerAddr = checkHostPort(k, val());
        break;
      case '--client-addr':
        f.clientAddr = checkHostPort(k, val());
        break;
      case '--admin-addr':
        f.adminAddr = checkHostPort(k, val());
        break;
      case '--peers':
        f.peers = parsePeers(val());
        break;
      case '--join':
        f.join = true;
        break;
      case '--require-state':
        f.requireState = true;
        break;
      case '--tick-ms':
        f.tickMs = int(k, val(), 1, 1000);
        break;
      case '--heartbeat-ms':
        f.heartbeatMs = int(k, val(), 1, 60_000);
        break;
      case '--election-ms':
        f.electionMs = int(k, val(), 2, 600_000);
        break;
      case '--pace':
        f.pace = int(k, val(), MIN_PACE, MAX_PACE);
        break;
      case '--fast-failover': {
        const v = val();
        if (v !== 'on' && v !== 'off')
          throw new FlagError(`--fast-failover: expected on or off, got '${v}'`);
        f.fastFailover = v === 'on';
        break;
      }
      case '--snapshot-entries':
        f.snapshotEntries = int(k, val(), 0, 1e9);
        break;
      case '--snapshot-keep':
        f.snapshotKeep = int(k, val(), 0, 1e9);
        break;
      case '--snapshot-chunk-bytes':
        f.snapshotChunkBytes = int(k, val(), 1024, 64 << 20);
        break;
      case '--promote-gap':
        f.promoteGap = int(k, val(), 0, 1e9);
        break;
      case '--detached':
        f.detached = true;
        break;
      case '--log-stderr':
        f.logStderr = true;
        break;
      // Peer port bounds.
      case '--peer-max-connections':
        peerPort.maxInboundConnections = int(k, val(), 1, 1_000_000);
        break;
      case '--peer-max-pending':
        peerPort.maxPendingHandshakes = int(k, val(), 1, 1_000_000);
        break;
      case '--peer-handshake-timeout-ms':
        peerPort.handshakeTimeoutMs = int(k, val(), 10, 600_000);
        break;
      // Bounds of the client and admin ports, the frame budget and the log.
      case '--max-client-connections':
        f.maxClientConnections = int(k, val(), 1, 1_000_000);
        break;
      case '--client-idle-ms':
        f.clientIdleMs = int(k, val(), 0, 86_400_000);
        break;
      case '--max-admin-pending':
        f.maxAdminPending = int(k, val(), 1, 100_000);
        break;
      case '--max-admin-sessions':
        f.maxAdminSessions = int(k, val(), 1, 100_000);
        break;
      case '--admin-auth-timeout-ms':
        f.adminAuthTimeoutMs = int(k, val(), 10, 600_000);
        break;
      case '--admin-idle-ms':
        f.adminIdleMs = int(k, val(), 0, 86_400_000);
        break;
      case '--max-partial-frame-bytes':
        f.maxPartialFrameBytes = int(k, val(), MIN_PARTIAL_FRAME_BUDGET, 2 ** 40);
        break;
      case '--log-max-bytes':
        f.logMaxBytes = int(k, val(), 0, 2 ** 40);
        break;
      case '--log-keep':
        f.logKeep = int(k, val(), 0, 100);
        break;
      case '--log-repeat-limit':
        f.logRepeatLimit = int(k, val(), 0, 1_000_000);
        break;
      default:
        throw new FlagError(`unknown option '${k}'`);
    }
  }
  if (f.id === undefined) throw new FlagError('--id is required');
  if (!f.clusterId) throw new FlagError('--cluster-id is required');
  if (!f.dataDir) throw new FlagError('--data is required');
  if (f.electionMs! <= f.heartbeatMs!)
    throw new FlagError('--election-ms must be greater than --heartbeat-ms');
  if (f.heartbeatMs! < f.tickMs!) throw new FlagError('--heartbeat-ms must be at least --tick-ms');
  if (peerPort.maxPendingHandshakes > peerPort.maxInboundConnections)
    throw new FlagError('--peer-max-pending must not exceed --peer-max-connections');
  return { peers: [], ...f, peerPort } as NodeFlags;
}

/**
 * BOUND_FLAGS: the node flags that set a bound (of a port, the frame budget or the log). They are
 * the only flags a supervisor passes on from its user (`raftdeck start --node-flags ...`): the
 * others (id, addresses, peers, timing) are the supervisor's own.
 */
export const BOUND_FLAGS: readonly string[] = [
  '--peer-max-connections',
  '--peer-max-pending',
  '--peer-handshake-timeout-ms',
  '--max-client-connections',
  '--client-idle-ms',
  '--max-admin-pending',
  '--max-admin-sessions',
  '--admin-auth-timeout-ms',
  '--admin-idle-ms',
  '--max-partial-frame-bytes',
  '--log-max-bytes',
  '--log-keep',
  '--log-repeat-limit',
];

/**
 * checkBoundFlags checks flags meant for every node of a cluster: only BOUND_FLAGS, each with a
 * value the node accepts. It returns them as `--flag value` pairs, or throws FlagError.
 */
export function checkBoundFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    let flag = flags[i]!;
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    } else {
      value = flags[++i];
    }
    if (!BOUND_FLAGS.includes(flag)) {
      throw new FlagError(
        `'${flag}' is not a node bound; one of ${BOUND_FLAGS.join(', ')} (raftdeck-node --help)`,
      );
    }
    if (value === undefined) throw new FlagError(`${flag} needs a value`);
    out.push(flag, value);
  }
  // The node's own parser checks every value (and combinations, such as pending <= connections).
  parseNodeFlags(['--id', '1', '--cluster-id', 'c', '--data', '.', ...out]);
  return out;
}
