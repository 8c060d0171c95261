/**
 * etcd-status polls one etcd member (maintenance Status, member list, alarms and its /metrics)
 * and turns what it reports into raftdeck's terms: a MemberReport for the view projection and
 * the EtcdMemberStats the etcd pages show beside it. Member ids stay decimal strings (they are
 * 64-bit) until idOf maps them to the NodeIds the view uses.
 *
 * etcd 3.4 and 3.5 answer Status with the same fields (3.4 added raftAppliedIndex, dbSizeInUse
 * and isLearner; 3.6 adds storageVersion and dbSizeQuota, which are not read here). A field a
 * server leaves out reads as 0 / false, as protobuf defaults do.
 */
import type { Etcd3, IAlarmResponse, IMemberListResponse, IStatusResponse } from 'etcd3';
import type { EngineStat, NodeId } from '../../contract/view';
import { formatBytes } from '../../view/format';
import type { ElectionTimer, Role } from '../../raft/types';
import type { MemberInput, MemberReport } from '../../view/projection';
import type { EtcdTls } from './etcd-client';
import {
  decimalMemberId,
  etcdMetricsOf,
  fetchMetricsText,
  histogramQuantile,
  histogramSince,
  hexMemberId,
  parseMetrics,
  type EtcdMetrics,
  type HistogramBucket,
} from './etcd-metrics';

/** EtcdStatus: a member's maintenance Status (ids decimal; '0': no leader known). */
export interface EtcdStatus {
  memberId: string;
  clusterId: string;
  version: string;
  leader: string;
  raftTerm: number;
  /** raftIndex: the member's committed index (etcd reports its raft node's commit here). */
  raftIndex: number;
  raftAppliedIndex: number;
  dbSize: number;
  dbSizeInUse: number;
  isLearner: boolean;
  errors: string[];
}

/** EtcdMember: one row of the member list (a member not started yet has no name or client URLs). */
export interface EtcdMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** EtcdAlarm: an alarm raised on a member (NOSPACE, CORRUPT). */
export interface EtcdAlarm {
  memberId: string;
  alarm: string;
}

/**
 * EtcdPoll: one poll of one member; metrics null (with the reason) when /metrics failed. members
 * are null when the member does not serve them: a learner answers only Status and serializable
 * reads ("rpc not supported for learner"); take them from a voter's poll then. The alarms come
 * from Status (see pollMember), so every member's poll has them.
 */
export interface EtcdPoll {
  endpoint: string;
  /** at: when the answers were in (the poller's clock). */
  at: number;
  status: EtcdStatus;
  members: EtcdMember[] | null;
  alarms: EtcdAlarm[] | null;
  metrics: EtcdMetrics | null;
  metricsError: string | null;
}

const num = (s: string | number | undefined | null): number => {
  const n = Number(s ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/** statusOf reads a Status answer (see the top of this file for fields a server leaves out). */
export function statusOf(r: IStatusResponse): EtcdStatus {
  return {
    memberId: String(r.header?.member_id ?? '0'),
    clusterId: String(r.header?.cluster_id ?? '0'),
    version: r.version ?? '',
    leader: String(r.leader ?? '0'),
    raftTerm: num(r.raftTerm),
    raftIndex: num(r.raftIndex),
    raftAppliedIndex: num(r.raftAppliedIndex),
    dbSize: num(r.dbSize),
    dbSizeInUse: num(r.dbSizeInUse),
    isLearner: r.isLearner === true,
    errors: [...(r.errors ?? [])],
  };
}

/** membersOf reads a member list answer, in increasing member id order. */
export function membersOf(r: IMemberListResponse): EtcdMember[] {
  return (r.members ?? [])
    .map((m) => ({
      id: String(m.ID),
      name: m.name ?? '',
      peerUrls: [...(m.peerURLs ?? [])],
      clientUrls: [...(m.clientURLs ?? [])],
      isLearner: m.isLearner === true,
    }))
    .sort((a, b) => compareMemberIds(a.id, b.id));
}

/** alarmsOf reads an alarm answer (AlarmType None rows are not alarms). */
export function alarmsOf(r: IAlarmResponse): EtcdAlarm[] {
  return (r.alarms ?? [])
    .filter((a) => String(a.alarm) !== 'None' && String(a.alarm) !== 'NONE')
    .map((a) => ({ memberId: String(a.memberID), alarm: String(a.alarm).toUpperCase() }));
}

/**
 * alarmsOfStatus reads the alarms a Status answer lists among its errors, one per alarm in
 * protobuf text form ("memberID:13668033151171901709 alarm:NOSPACE "); other errors ("etcdserver:
 * no leader") and rows without an alarm type are not alarms.
 */
export function alarmsOfStatus(errors: readonly string[]): EtcdAlarm[] {
  const out: EtcdAlarm[] = [];
  for (const e of errors) {
    const m = /^memberID:(\d+)\s+alarm:([A-Z]+)\s*$/.exec(e);
    if (m && m[2] !== 'NONE') out.push({ memberId: m[1]!, alarm: m[2]! });
  }
  return out;
}

/** compareMemberIds orders decimal member ids as the unsigned 64-bit numbers they are. */
export function compareMemberIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** LEARNER_REFUSES: etcd's answer to a call a learner does not serve. */
const LEARNER_REFUSES = 'rpc not supported for learner';

/**
 * pollMember asks one member (through `client`, a client on that member's endpoint only) for its
 * Status and member list (each with `timeoutMs`; any failure rejects with etcd's error, except a
 * learner's refusal to list members: they are then null), and fetches its /metrics (a failure
 * there leaves metrics null with the reason). The alarms are read from Status, which lists them
 * among its errors: etcd carries out the Alarm call itself as a Raft proposal, so asking it would
 * append an entry to the cluster's log on every poll. A poll changes nothing in the cluster.
 */
export async function pollMember(
  client: Etcd3,
  endpoint: string,
  options: { tls?: EtcdTls; timeoutMs: number; now?: () => number },
): Promise<EtcdPoll> {
  const deadline = (): { deadline: number } => ({ deadline: Date.now() + options.timeoutMs });
  const metrics = fetchMetricsText(endpoint, {
    timeoutMs: options.timeoutMs,
    ...(options.tls ? { tls: options.tls } : {}),
  }).then(
    (text) => ({ metrics: etcdMetricsOf(parseMetrics(text)), metricsError: null }),
    (e: Error) => ({ metrics: null, metricsError: e.message }),
  );
  const notForLearner = (e: Error): null => {
    if (e.message.includes(LEARNER_REFUSES)) return null;
    throw e;
  };
  const [status, members] = await Promise.all([
    client.maintenance.status(deadline()),
    client.cluster.memberList({}, deadline()).catch(notForLearner),
  ]);
  const m = await metrics;
  return {
    endpoint,
    at: (options.now ?? Date.now)(),
    status: statusOf(status),
    members: members ? membersOf(members) : null,
    alarms: alarmsOfStatus(status.errors ?? []),
    ...m,
  };
}

/**
 * EtcdMemberStats: what one member's poll says beyond the MemberReport, for the etcd pages.
 * Byte rates are per second since the previous poll (null on the first poll or after a restart
 * of the member, when its counters went back). Peers and snapshots cover the members of the
 * poll's member list only (etcd keeps publishing the counters of a removed member).
 */
export interface EtcdMemberStats {
  id: NodeId;
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  /** errors: what Status lists as wrong with the member (etcd's own text). */
  errors: string[];
  alarms: { member: NodeId; alarm: string }[];
  leaderChanges: number;
  hasLeader: boolean;
  /** keys: keys in the store, from etcd_debugging_mvcc_keys_total (null when not published). */
  keys: number | null;
  proposals: { pending: number; failed: number; committed: number; applied: number };
  /**
   * fsync: the WAL fsync histogram (seconds, cumulative since the member started) and p50/p99
   * estimates in ms of the fsyncs since the previous poll (of all of them when there were none
   * since, or on the first poll). null when /metrics failed.
   */
  fsync: {
    buckets: HistogramBucket[];
    sum: number;
    count: number;
    p50Ms: number | null;
    p99Ms: number | null;
  } | null;
  /** peers: per remote member, in NodeId order. */
  peers: {
    id: NodeId;
    active: boolean;
    sentBytes: number;
    receivedBytes: number;
    sentPerSec: number | null;
    receivedPerSec: number | null;
  }[];
  /** snapshots: snapshot transfers with each remote member (only members with any), NodeId order. */
  snapshots: {
    id: NodeId;
    sent: number;
    sendFailures: number;
    sending: number;
    received: number;
    receiveFailures: number;
    receiving: number;
  }[];
  metricsError: string | null;
}

/**
 * memberStats derives one member's EtcdMemberStats from its poll and the previous poll of the
 * same member (null on the first). idOf maps decimal member ids to NodeIds; `cluster`: the
 * cluster's member list and alarms, for a poll without its own (a learner's).
 */
export function memberStats(
  poll: EtcdPoll,
  previous: EtcdPoll | null,
  idOf: (memberId: string) => NodeId,
  cluster?: { members: readonly EtcdMember[]; alarms: readonly EtcdAlarm[] },
): EtcdMemberStats {
  const members = poll.members ?? cluster?.members ?? [];
  const alarmList = poll.alarms ?? cluster?.alarms ?? [];
  const m = poll.metrics;
  const pm = previous?.metrics ?? null;
  const secs = previous ? (poll.at - previous.at) / 1000 : 0;
  const rate = (now: number, before: number | undefined): number | null =>
    before === undefined || secs <= 0 || now < before ? null : (now - before) / secs;
  // Only members of the cluster: etcd keeps the counters of a removed member.
  const known = new Set(members.map((x) => hexMemberId(x.id)));
  known.delete(hexMemberId(poll.status.memberId));
  const hexIds = new Set<string>();
  if (m) {
    for (const h of Object.keys(m.peerSentBytes)) hexIds.add(h);
    for (const h of Object.keys(m.peerReceivedBytes)) hexIds.add(h);
    for (const h of m.activePeers) hexIds.add(h);
  }
  const peers = [...hexIds]
    .filter((h) => known.has(h))
    .map((h) => ({
      id: idOf(decimalMemberId(h)),
      active: m!.activePeers.includes(h),
      sentBytes: m!.peerSentBytes[h] ?? 0,
      receivedBytes: m!.peerReceivedBytes[h] ?? 0,
      sentPerSec: rate(m!.peerSentBytes[h] ?? 0, pm?.peerSentBytes[h]),
      receivedPerSec: rate(m!.peerReceivedBytes[h] ?? 0, pm?.peerReceivedBytes[h]),
    }))
    .sort((a, b) => a.id - b.id);
  const snapIds = new Set<string>();
  if (m) {
    for (const part of [m.snapshotSend, m.snapshotReceive]) {
      for (const c of [part.success, part.failures, part.inflight]) {
        for (const h of Object.keys(c)) snapIds.add(h);
      }
    }
  }
  const snapshots = [...snapIds]
    .filter((h) => known.has(h))
    .map((h) => ({
      id: idOf(decimalMemberId(h)),
      sent: m!.snapshotSend.success[h] ?? 0,
      sendFailures: m!.snapshotSend.failures[h] ?? 0,
      sending: m!.snapshotSend.inflight[h] ?? 0,
      received: m!.snapshotReceive.success[h] ?? 0,
      receiveFailures: m!.snapshotReceive.failures[h] ?? 0,
      receiving: m!.snapshotReceive.inflight[h] ?? 0,
    }))
    .sort((a, b) => a.id - b.id);
  let fsync: EtcdMemberStats['fsync'] = null;
  if (m?.walFsync) {
    const recent = histogramSince(m.walFsync, pm?.walFsync);
    const basis = recent.count > 0 ? recent : m.walFsync;
    const ms = (q: number): number | null => {
      const v = histogramQuantile(q, basis);
      return v === null ? null : v * 1000;
    };
    fsync = { ...m.walFsync, p50Ms: ms(0.5), p99Ms: ms(0.99) };
  }
  return {
    id: idOf(poll.status.memberId),
    version: poll.status.version,
    dbSize: poll.status.dbSize,
    dbSizeInUse: poll.status.dbSizeInUse,
    errors: [...poll.status.errors],
    alarms: alarmList.map((a) => ({ member: idOf(a.memberId), alarm: a.alarm })),
    leaderChanges: m?.leaderChanges ?? 0,
    hasLeader: m ? m.hasLeader : poll.status.leader !== '0',
    keys: m?.keys ?? null,
    proposals: m ? { ...m.proposals } : { pending: 0, failed: 0, committed: 0, applied: 0 },
    fsync,
    peers,
    snapshots,
    metricsError: poll.metricsError,
  };
}

/**
 * NO_TIMER: etcd does not report where its election and heartbeat clocks stand. The report
 * leaves the timer out, which the projection shows as no timer (as for a node that does not
 * report one); the Status type insists on one, hence the cast.
 */
const NO_TIMER = undefined as unknown as ElectionTimer;

/** hostPort: "host:port" of a URL ('' for none). */
function hostPort(url: string | undefined): string {
  return url === undefined ? '' : url.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
}

/**
 * memberReport turns a member's Status and the member list it sees into the MemberReport the
 * projection takes. etcd's figures map as follows; where etcd has no equivalent the neutral
 * value stands, as listed:
 * - role: `options.role` when given (pre-candidate and candidate come from the member's log),
 *   else leader when Status names the member itself, learner when isLearner, else follower;
 * - term: raftTerm; leader: Status's leader (0: none); vote: the member itself on a leader (a
 *   leader voted for itself in its term), else 0 (etcd does not report votes);
 * - commit and lastIndex: raftIndex (etcd reports the committed index, not the last one in the
 *   log); persistedIndex: raftIndex as well (a member saves entries before it counts them as
 *   committed); applied: raftAppliedIndex;
 * - firstIndex, snapshotIndex, snapshotTerm, pendingConfIndex, transferee: 0 (not reported);
 *   progress: empty (etcd reports no per-follower progress: the projection then measures lag as
 *   the leader's index minus the member's applied index); snapshotReceiving, campaign: undefined;
 *   termRuns: empty; timer: none (see NO_TIMER);
 * - voters / learners: the member list's members by isLearner, as NodeIds (idOf); addresses:
 *   per member, "peerHost:port|clientHost:port" as raftdeck's nodes carry them;
 * - storage: snapshotBytes = dbSize (the bbolt database is the state etcd sends as a snapshot);
 *   walBytes, segments: 0 (etcd does not report its WAL's size); fsyncDelayMs: 0 (no injected
 *   delay);
 * - kv: keys from `options.metrics` (etcd_debugging_mvcc_keys_total), else 0; bytes = dbSizeInUse;
 * - transport: malformed, dropped: 0 (not reported); peers: connected = an active rafthttp stream
 *   in `options.metrics` (none without metrics).
 */
export function memberReport(
  status: EtcdStatus,
  members: readonly EtcdMember[],
  idOf: (memberId: string) => NodeId,
  options: { role?: Role; metrics?: EtcdMetrics | null } = {},
): MemberReport {
  const id = idOf(status.memberId);
  const isLeader = status.leader !== '0' && status.leader === status.memberId;
  const role: Role =
    options.role ?? (isLeader ? 'leader' : status.isLearner ? 'learner' : 'follower');
  const sorted = [...members].sort((a, b) => compareMemberIds(a.id, b.id));
  const addresses: Record<string, string> = {};
  for (const m of sorted) {
    addresses[String(idOf(m.id))] = `${hostPort(m.peerUrls[0])}|${hostPort(m.clientUrls[0])}`;
  }
  const peers: Record<string, { connected: boolean }> = {};
  const metrics = options.metrics ?? null;
  if (metrics) {
    for (const m of sorted) {
      if (m.id === status.memberId) continue;
      const hex = BigInt(m.id).toString(16);
      peers[String(idOf(m.id))] = { connected: metrics.activePeers.includes(hex) };
    }
  }
  return {
    id,
    role,
    term: status.raftTerm,
    vote: isLeader ? id : 0,
    leader: status.leader === '0' ? 0 : idOf(status.leader),
    commit: status.raftIndex,
    applied: status.raftAppliedIndex,
    firstIndex: 0,
    lastIndex: status.raftIndex,
    persistedIndex: status.raftIndex,
    snapshotIndex: 0,
    snapshotTerm: 0,
    // in raftdeck's order (by NodeId), as every member reports them
    voters: sorted
      .filter((m) => !m.isLearner)
      .map((m) => idOf(m.id))
      .sort((a, b) => a - b),
    learners: sorted
      .filter((m) => m.isLearner)
      .map((m) => idOf(m.id))
      .sort((a, b) => a - b),
    addresses,
    pendingConfIndex: 0,
    transferee: 0,
    progress: [],
    snapshotReceiving: undefined,
    timer: NO_TIMER,
    campaign: undefined,
    termRuns: [],
    storage: { walBytes: 0, segments: 0, snapshotBytes: status.dbSize, fsyncDelayMs: 0 },
    kv: { keys: metrics?.keys ?? 0, bytes: status.dbSizeInUse },
    transport: { malformed: 0, dropped: 0, peers },
  };
}

/**
 * followersSeenBy gives the leader's report the progress of its followers, as far as etcd lets
 * anyone see it. etcd keeps its leader's match indexes to itself, so a follower's `match` here is
 * the committed index the follower reports of itself (never above what the leader knows it holds),
 * `active` whether it answers and is not paused or cut off from the leader by a partition, and
 * `state` replicate (probe while it does not answer). The replication pages, the commit quorum
 * and the overview then read the same way as on raftdeck's own nodes.
 */
export function followersSeenBy(
  members: MemberInput[],
  partitions: readonly (readonly NodeId[])[] | null,
): void {
  const leader = members.find((m) => m.report?.role === 'leader' && m.process.state === 'running');
  const lr = leader?.report;
  if (!leader || !lr) return;
  const sameSide = (a: NodeId, b: NodeId): boolean =>
    partitions === null || partitions.some((g) => g.includes(a) && g.includes(b));
  const progress: MemberReport['progress'] = [];
  for (const id of [...lr.voters, ...lr.learners]) {
    if (id === leader.id) continue;
    const m = members.find((x) => x.id === id);
    const r = m?.report ?? null;
    const active =
      !!m && !!r && m.process.state === 'running' && sameSide(leader.id, id) && r.term === lr.term;
    const match = r ? Math.min(r.commit, lr.lastIndex) : 0;
    progress.push({
      id,
      learner: lr.learners.includes(id),
      match,
      next: match + 1,
      state: active ? 'replicate' : 'probe',
      inflight: 0,
      active,
      lag: Math.max(0, lr.lastIndex - match),
      snapshot: undefined,
    });
  }
  leader.report = { ...lr, progress };
}

/** ms: a latency for a stat line ("0.84 ms"), '—' when unknown. */
const ms = (v: number | null): string =>
  v === null ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;

/**
 * fsyncBuckets: the WAL fsync histogram as text, the count in each bucket (not cumulative) up to
 * the slowest one used: "≤1 ms 812 · ≤2 ms 40 · ≤4 ms 3".
 */
export function fsyncBuckets(buckets: readonly HistogramBucket[]): string {
  const parts: string[] = [];
  let below = 0;
  let last = -1;
  buckets.forEach((b, i) => {
    if (b.count > below) last = i;
    below = b.count;
  });
  below = 0;
  for (const [i, b] of buckets.entries()) {
    if (i > last) break;
    const n = b.count - below;
    below = b.count;
    if (!Number.isFinite(b.le)) continue;
    const le = b.le * 1000;
    parts.push(`≤${le < 1 ? le.toFixed(1) : le.toFixed(0)} ms ${n}`);
  }
  return parts.join(' · ') || 'no fsync yet';
}

/**
 * etcdStatLines: what an etcd member reports beyond Raft's status, as the lines the node page
 * shows (NodeView.engineStats): DB size and in use, keys, WAL fsync latency and its histogram,
 * proposals, alarms and errors, and the bytes per second to and from each peer.
 */
export function etcdStatLines(s: EtcdMemberStats): EngineStat[] {
  const lines: EngineStat[] = [
    { name: 'version', value: s.version || '—' },
    {
      name: 'DB size',
      value: `${formatBytes(s.dbSize)} (in use ${formatBytes(s.dbSizeInUse)})`,
    },
    { name: 'keys', value: s.keys === null ? '—' : String(s.keys) },
  ];
  if (s.fsync) {
    lines.push(
      {
        name: 'WAL fsync',
        value: `p50 ${ms(s.fsync.p50Ms)} · p99 ${ms(s.fsync.p99Ms)} · ${s.fsync.count} in all`,
      },
      { name: 'fsync histogram', value: fsyncBuckets(s.fsync.buckets) },
    );
  }
  const p = s.proposals;
  lines.push({
    name: 'proposals',
    value: `${p.pending} pending · ${p.failed} failed · ${p.committed} committed · ${p.applied} applied`,
    warn: p.failed > 0,
  });
  lines.push({
    name: 'alarms',
    value: s.alarms.length
      ? s.alarms.map((a) => `${a.alarm} (node ${a.member})`).join(', ')
      : 'none',
    warn: s.alarms.length > 0,
  });
  if (s.errors.length) lines.push({ name: 'errors', value: s.errors.join('; '), warn: true });
  lines.push({ name: 'leader changes seen', value: String(s.leaderChanges) });
  for (const peer of s.peers) {
    const rate = (v: number | null): string => (v === null ? '—' : `${formatBytes(v)}/s`);
    lines.push({
      name: `peer node ${peer.id}`,
      value: `${peer.active ? 'connected' : 'not connected'} · sent ${rate(peer.sentPerSec)} · received ${rate(peer.receivedPerSec)}`,
    });
  }
  for (const t of s.snapshots) {
    lines.push({
      name: `snapshots with node ${t.id}`,
      value: `${t.sent} sent (${t.sending} sending, ${t.sendFailures} failed) · ${t.received} received (${t.receiving} receiving, ${t.receiveFailures} failed)`,
      warn: t.sendFailures + t.receiveFailures > 0,
    });
  }
  if (s.metricsError) lines.push({ name: 'metrics', value: s.metricsError, warn: true });
  return lines;
}
