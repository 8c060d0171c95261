/**
 * etcd-metrics reads what an etcd member publishes on its client URL's `/metrics`: the Prometheus
 * text exposition format (version 0.0.4), parsed strictly (a line that is not a comment, blank or
 * a well-formed sample is an error naming its line), and the handful of families raftdeck shows
 * picked out of it. Member ids in etcd's metric labels are hexadecimal (types.ID's String form);
 * the gRPC API names the same ids in decimal: hexMemberId converts.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { socketPathOf, type EtcdTls } from './etcd-client';

/** MetricSample: one sample line: its metric name, labels and value. */
export interface MetricSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** MetricsParseError: the text is not in the exposition format; names the line. */
export class MetricsParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`metrics line ${line}: ${message}`);
    this.name = 'MetricsParseError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** parseValue: a sample value (Go float syntax, +Inf, -Inf, NaN); undefined if it is none. */
function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** parseLabels reads `{a="x",b="y"}` from the start of `s`; returns them and the rest. */
function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (s[i] === ' ') i++;
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (name === undefined)
      throw new MetricsParseError(line, `a label name expected at column ${i + 1}`);
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"') {
      throw new MetricsParseError(line, `label ${name} has no ="value"`);
    }
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new MetricsParseError(line, `label ${name}'s value is not closed`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new MetricsParseError(line, `label ${name}: unknown escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (Object.hasOwn(labels, name)) throw new MetricsParseError(line, `label ${name} given twice`);
    labels[name] = value;
    while (s[i] === ' ') i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}')
      throw new MetricsParseError(line, `"," or "}" expected after label ${name}`);
  }
}

/**
 * parseMetrics reads Prometheus text format into samples, in the order of the text. Comments
 * (`# HELP`, `# TYPE`, others) and blank lines are skipped; an optional timestamp after the value
 * is accepted and dropped. Throws MetricsParseError on anything else.
 */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, '');
    const lineNo = n + 1;
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    const name = NAME.exec(l)?.[0];
    if (name === undefined)
      throw new MetricsParseError(lineNo, `not a sample: ${JSON.stringify(l.slice(0, 80))}`);
    let rest = l.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, lineNo));
    const parts = rest.trim().split(/\s+/);
    if (rest.length === 0 || !/^\s/.test(rest) || parts.length < 1 || parts.length > 2) {
      throw new MetricsParseError(lineNo, `${name}: expected a value (and an optional timestamp)`);
    }
    const value = parseValue(parts[0]!);
    if (value === undefined)
      throw new MetricsParseError(lineNo, `${name}: ${JSON.stringify(parts[0])} is not a number`);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) {
      throw new MetricsParseError(
        lineNo,
        `${name}: ${JSON.stringify(parts[1])} is not a timestamp`,
      );
    }
    out.push({ name, labels, value });
  }
  return out;
}

/** HistogramBucket: how many observations were at most `le` (cumulative, as Prometheus counts). */
export interface HistogramBucket {
  le: number;
  count: number;
}

/** Histogram: a histogram's buckets in increasing `le` (the last one +Inf), sum and count. */
export interface Histogram {
  buckets: HistogramBucket[];
  sum: number;
  count: number;
}

/** PeerCounts: a figure per remote member, by its hexadecimal id. */
export type PeerCounts = Record<string, number>;

/** EtcdMetrics: the figures raftdeck shows from one member's /metrics. */
export interface EtcdMetrics {
  /** version: etcd_server_version's label ('' when absent). */
  version: string;
  /**
   * peerSentBytes / peerReceivedBytes: rafthttp bytes to / from each remote member (totals; the
   * bytes of stream keep-alives, which etcd counts under member "0", are left out).
   */
  peerSentBytes: PeerCounts;
  peerReceivedBytes: PeerCounts;
  /** activePeers: remote members with an active rafthttp stream (etcd_network_active_peers = 1). */
  activePeers: string[];
  /** walFsync: etcd_disk_wal_fsync_duration_seconds (seconds), null when absent. */
  walFsync: Histogram | null;
  proposals: { pending: number; failed: number; committed: number; applied: number };
  /**
   * snapshotSend / snapshotReceive: snapshots sent to / received from each remote member, by
   * outcome, and those in flight (etcd_network_snapshot_{send,receive}_*; empty when the member
   * has not sent or received one: etcd creates those series on first use).
   */
  snapshotSend: { success: PeerCounts; failures: PeerCounts; inflight: PeerCounts };
  snapshotReceive: { success: PeerCounts; failures: PeerCounts; inflight: PeerCounts };
  leaderChanges: number;
  hasLeader: boolean;
  isLeader: boolean;
  /** keys: etcd_debugging_mvcc_keys_total, null when absent. */
  keys: number | null;
  /** slowApplies / heartbeatSendFailures: etcd_server_slow_apply_total, …_heartbeat_send_failures_total. */
  slowApplies: number;
  heartbeatSendFailures: number;
}

/** hexMemberId: the hexadecimal form (as in metric labels) of a decimal member id. */
export function hexMemberId(decimal: string): string {
  return BigInt(decimal).toString(16);
}

/** decimalMemberId: the decimal form (as the gRPC API gives it) of a hexadecimal member id. */
export function decimalMemberId(hex: string): string {
  return BigInt(`0x${hex}`).toString(10);
}

/** etcdMetricsOf picks raftdeck's figures out of one member's samples (absent ones: 0). */
export function etcdMetricsOf(samples: readonly MetricSample[]): EtcdMetrics {
  const one = (name: string): number | undefined => samples.find((s) => s.name === name)?.value;
  const per = (name: string, label: string): PeerCounts => {
    const out: PeerCounts = {};
    for (const s of samples) {
      const who = s.labels[label];
      // "0": no member; rafthttp counts its link heartbeats (which name no sender) under it.
      if (s.name === name && who !== undefined && who !== '0') out[who] = (out[who] ?? 0) + s.value;
    }
    return out;
  };
  const fsyncBuckets = samples
    .filter((s) => s.name === 'etcd_disk_wal_fsync_duration_seconds_bucket')
    .map((s) => {
      const le = parseValue(s.labels.le ?? '');
      if (le === undefined || Number.isNaN(le)) {
        throw new Error(
          `etcd_disk_wal_fsync_duration_seconds_bucket has le=${JSON.stringify(s.labels.le)}`,
        );
      }
      return { le, count: s.value };
    })
    .sort((a, b) => a.le - b.le);
  const fsyncCount = one('etcd_disk_wal_fsync_duration_seconds_count');
  return {
    version: samples.find((s) => s.name === 'etcd_server_version')?.labels.server_version ?? '',
    peerSentBytes: per('etcd_network_peer_sent_bytes_total', 'To'),
    peerReceivedBytes: per('etcd_network_peer_received_bytes_total', 'From'),
    activePeers: samples
      .filter((s) => s.name === 'etcd_network_active_peers' && s.value > 0 && s.labels.Remote)
      .map((s) => s.labels.Remote!),
    walFsync:
      fsyncBuckets.length > 0 && fsyncCount !== undefined
        ? {
            buckets: fsyncBuckets,
            sum: one('etcd_disk_wal_fsync_duration_seconds_sum') ?? 0,
            count: fsyncCount,
          }
        : null,
    proposals: {
      pending: one('etcd_server_proposals_pending') ?? 0,
      failed: one('etcd_server_proposals_failed_total') ?? 0,
      committed: one('etcd_server_proposals_committed_total') ?? 0,
      applied: one('etcd_server_proposals_applied_total') ?? 0,
    },
    snapshotSend: {
      success: per('etcd_network_snapshot_send_success', 'To'),
      failures: per('etcd_network_snapshot_send_failures', 'To'),
      inflight: per('etcd_network_snapshot_send_inflights_total', 'To'),
    },
    snapshotReceive: {
      success: per('etcd_network_snapshot_receive_success', 'From'),
      failures: per('etcd_network_snapshot_receive_failures', 'From'),
      inflight: per('etcd_network_snapshot_receive_inflights_total', 'From'),
    },
    leaderChanges: one('etcd_server_leader_changes_seen_total') ?? 0,
    hasLeader: (one('etcd_server_has_leader') ?? 0) === 1,
    isLeader: (one('etcd_server_is_leader') ?? 0) === 1,
    keys: one('etcd_debugging_mvcc_keys_total') ?? null,
    slowApplies: one('etcd_server_slow_apply_total') ?? 0,
    heartbeatSendFailures: one('etcd_server_heartbeat_send_failures_total') ?? 0,
  };
}

/**
 * histogramQuantile estimates quantile q (0..1) of a histogram as Prometheus does: find the
 * bucket holding the q-th observation and interpolate linearly inside it (from 0 for the first
 * bucket); in the +Inf bucket the estimate is the highest finite bound. null with no observations.
 */
export function histogramQuantile(q: number, h: Pick<Histogram, 'buckets'>): number | null {
  const b = h.buckets;
  const total = b.length > 0 ? b[b.length - 1]!.count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const x of b) {
    if (x.count >= rank) {
      if (x.le === Infinity) return prevLe;
      const inBucket = x.count - prevCount;
      if (inBucket <= 0) return x.le;
      return prevLe + (x.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = x.le;
    prevCount = x.count;
  }
  return prevLe;
}

/** histogramSince: the observations of `now` that came after `before` (same buckets), else `now`. */
export function histogramSince(now: Histogram, before: Histogram | null | undefined): Histogram {
  if (!before || before.count > now.count || before.buckets.length !== now.buckets.length)
    return now;
  if (before.buckets.some((b, i) => b.le !== now.buckets[i]!.le)) return now;
  return {
    buckets: now.buckets.map((b, i) => ({ le: b.le, count: b.count - before.buckets[i]!.count })),
    sum: now.sum - before.sum,
    count: now.count - before.count,
  };
}

/**
 * fetchMetricsText GETs `<endpoint>/metrics` (the member's client URL, with the same TLS as its
 * gRPC clients) and resolves with the body; rejects naming the URL on a connection error, a
 * status other than 200, a body over 8 MiB or no answer within `timeoutMs`.
 */
export function fetchMetricsText(
  endpoint: string,
  options: { tls?: EtcdTls; timeoutMs: number },
): Promise<string> {
  const url = `${endpoint.replace(/\/+$/, '')}/metrics`;
  const secure = url.startsWith('https://');
  const socketPath = socketPathOf(endpoint);
  const limit = 8 << 20;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`${url}: ${why}`));
    const req = (secure ? httpsRequest : httpRequest)(
      socketPath ? 'http://localhost/metrics' : url,
      {
        ...(socketPath ? { socketPath } : {}),
        method: 'GET',
        timeout: options.timeoutMs,
        ...(secure && options.tls
          ? {
              ...(options.tls.ca ? { ca: options.tls.ca } : {}),
              ...(options.tls.cert ? { cert: options.tls.cert } : {}),
              ...(options.tls.key ? { key: options.tls.key } : {}),
            }
          : {}),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${res.statusCode ?? '?'}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) {
            req.destroy();
            fail(`body over ${limit} bytes`);
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', (e) => fail(e.message));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      fail(`no answer within ${options.timeoutMs} ms`);
    });
    req.on('error', (e) => fail(e.message));
    req.end();
  });
}
