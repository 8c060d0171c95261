import type { NodeId } from '../raft/types';
import type { MemberAddress } from './node-api';
import { parseMemberAddress } from './node-api';

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
  snapshotEntries: number;
  snapshotKeep: number;
  snapshotChunkBytes: number;
  promoteGap: number;
  detached: boolean;
  logStderr: boolean;
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
  --snapshot-entries N     snapshot after N applied entries holding at least half the state's
                           bytes (default 10000; 0 = only on request)
  --snapshot-keep N        entries kept behind a snapshot (default 1000)
  --snapshot-chunk-bytes N InstallSnapshot chunk size (default 1048576)
  --promote-gap N          a learner may be promoted within N entries of the leader (default 100)
  --detached               keep running when the parent process exits
  --log-stderr             also write log lines to stderr

environment: RAFTDECK_ADMIN_TOKEN  the admin protocol token (required)`;

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
    snapshotEntries: 10_000,
    snapshotKeep: 1000,
    snapshotChunkBytes: 1 << 20,
    promoteGap: 100,
    detached: false,
    logStderr: false,
  };
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
  return { peers: [], ...f } as NodeFlags;
}
