/**
 * etcd-engine: a local etcd cluster under raftdeck, as a ClusterEngine. Every member is an `etcd`
 * process with its own data folder under the cluster folder, listening for clients and peers on
 * Unix sockets in the cluster's 0700 socket folder (no other local user can reach it), with
 * raftdeck's heartbeat and election timeouts and pre-vote on, its JSON log parsed into the event
 * stream. Each member advertises a peer URL that goes through raftdeck's proxy (peer-proxy.ts,
 * on 127.0.0.1, open to this user's processes only), so partitions, isolation, one-way cuts,
 * delay and loss apply per pair of members without root.
 * Status comes from each member's maintenance Status, the member list and its /metrics, polled
 * into the same view projection as raftdeck's own nodes. Membership changes are workflows:
 * add a learner (etcd's member add, then the member started with `existing`), watch it catch up,
 * promote it once etcd accepts it; remove a member; move the leadership.
 *
 * What etcd cannot do here is named in ETCD_UNAVAILABLE, with the reason.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type {
  ClusterView,
  EngineView,
  LinkRule,
  NodeId,
  PaceView,
  ProcessState,
} from '../../contract/view';
import { makePrivateDir, tightenTree } from '../../node/private-files';
import { acquireLock, releaseLock } from '../../node/storage/data-dir-lock';
import { readLogTail } from '../../node/logger';
import {
  DEFAULT_THRESHOLDS,
  projectView,
  type MemberInput,
  type MemberReport,
  type ProjectionInput,
} from '../../view/projection';
import { linkKey, REAL_TIME, type LinkRate } from '../../view/topology';
import { EngineBase } from '../engine-base';
import {
  EngineUnavailable,
  type ClusterEngine,
  type KvSession,
  type KvSessionOptions,
  type WorkflowRun,
} from '../engine';
import { clearAllFaults } from '../clear-faults';
import { FaultModel } from '../fault-model';
import { DEFAULT_LIMIT_MIB } from '../recording/file-recording';
import { findEtcd, type EtcdBinary } from './etcd-binary';
import { EtcdProcess } from './etcd-process';
import { parseEtcdLog } from './etcd-log';
import { EtcdKvSession } from './etcd-kv';
import { openEtcdClient } from './etcd-client';
import {
  etcdStatLines,
  followersSeenBy,
  memberReport,
  memberStats,
  pollMember,
  type EtcdMember,
  type EtcdMemberStats,
  type EtcdPoll,
} from './etcd-status';
import { decimalMemberId } from './etcd-metrics';
import {
  clientUrl,
  loadEtcdManifest,
  newEtcdManifest,
  peerSocket,
  newEtcdMember,
  saveEtcdManifest,
  socketDir,
  type EtcdManifest,
  type EtcdMemberRecord,
  type EtcdTiming,
} from './etcd-manifest';
import { PeerNetwork } from './peer-proxy';
import { etcdWorkflows } from './etcd-workflows';

/** ETCD_UNAVAILABLE: what a local etcd cluster cannot do, and why. */
export const ETCD_UNAVAILABLE: EngineView['unavailable'] = Object.freeze({
  typeRules:
    "message-type rules need raftdeck's own transport: etcd's peer links reach the proxies as byte streams, so only whole links can be cut, delayed or made lossy",
  slowDisk:
    'etcd has no hook to slow its fsync, and raftdeck does not interpose on its disk; the WAL fsync latency etcd reports is shown instead',
  pace: "etcd's heartbeat and election timeouts are fixed when a member starts; pace slows only raftdeck's own nodes",
  messages:
    'etcd does not report the messages it sends; the topology shows the bytes per second of each link (from the proxies) instead',
  linkDetail:
    'etcd does not report the messages it sends; the topology shows the bytes per second of each link (from the proxies) instead',
  logEntries:
    "etcd's log is in its write-ahead log files, which it holds open while it runs (read them with etcd-dump-logs on a stopped member)",
});

/** DEFAULT_ETCD_TIMING: raftdeck's defaults (heartbeat 100 ms, election timeout 1 s). */
export const DEFAULT_ETCD_TIMING: EtcdTiming = { heartbeatMs: 100, electionMs: 1000 };

export interface EtcdEngineOptions {
  /** dir: the cluster folder (cluster.json + one data folder per member). */
  dir: string;
  /** nodes: founding members of a new cluster (ignored when the folder holds one). */
  nodes?: number;
  timing?: Partial<EtcdTiming>;
  /** snapshotCount: etcd's --snapshot-count for a new cluster (default 10 000). */
  snapshotCount?: number;
  /** etcdBin: the etcd binary (default: `etcd` on PATH). */
  etcdBin?: string;
  recordLimitMiB?: number;
  /** pollMs: how often each member's status and metrics are read (default 500 ms). */
  pollMs?: number;
}

/** Member is the engine's state for one etcd member. */
interface Member {
  rec: EtcdMemberRecord;
  proc: EtcdProcess;
  /** client: a client of this member alone (status, member list, metrics, admin calls). */
  client: Etcd3;
  report: MemberReport | null;
  reportAt: number;
  stats: EtcdMemberStats | null;
  /** lastPoll: the member's previous answer (for rates since then). */
  lastPoll: EtcdPoll | null;
  /** error: why the last poll failed (null: it answered). */
  error: string | null;
  autoRestart: boolean;
  startRefused: string | null;
  /** campaign: a (pre-)candidacy etcd logged, shown until the status says otherwise. */
  campaign: { role: 'pre-candidate' | 'candidate'; term: number } | null;
  polling: boolean;
}

export class EtcdEngine extends EngineBase implements ClusterEngine {
  readonly dir: string;
  manifest!: EtcdManifest;
  state: ClusterView['state'] = 'stopped';
  readonly faults = new FaultModel();
  private binary: EtcdBinary | undefined;
  private readonly members = new Map<NodeId, Member>();
  private network: PeerNetwork | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private trafficTimer: NodeJS.Timeout | undefined;
  /** clusterMembers: the member list of the latest voter that answered (learners serve none). */
  private clusterMembers: EtcdMember[] = [];
  private lockFile: string | undefined;
  /** traffic: bytes per second per directed link, from the proxies' counters. */
  private traffic = new Map<string, LinkRate>();
  private lastBytes = new Map<string, { bytes: number; at: number }>();
  private readonly workflows = etcdWorkflows(this);

  constructor(readonly options: EtcdEngineOptions) {
    super();
    this.dir = resolve(options.dir);
  }

  get clusterId(): string {
    return this.manifest?.clusterId ?? '';
  }
  get timing(): EtcdTiming {
    return this.manifest?.timing ?? { ...DEFAULT_ETCD_TIMING, ...this.options.timing };
  }
  get recordLimitMiB(): number {
    return this.manifest?.recordLimitMiB ?? DEFAULT_LIMIT_MIB;
  }
  get pace(): PaceView {
    return { ...REAL_TIME };
  }

  engineView(): EngineView {
    return {
      kind: 'etcd',
      version: this.binary?.version ?? '',
      mode: 'local',
      unavailable: ETCD_UNAVAILABLE,
      endpoints: [],
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** start creates a new cluster in the folder, or brings back the one it holds. */
  async start(): Promise<void> {
    if (this.state !== 'stopped') throw new Error(`cluster is ${this.state}`);
    this.binary = findEtcd(this.options.etcdBin);
    makePrivateDir(this.dir);
    this.lockFile = acquireLock(this.dir, 'cluster folder');
    try {
      this.state = 'starting';
      tightenTree(this.dir, 1);
      const existing = loadEtcdManifest(this.dir);
      if (existing) {
        this.manifest = existing;
        this.event(null, 'process', `adopting etcd cluster ${existing.clusterId} in ${this.dir}`);
      } else {
        this.manifest = await newEtcdManifest(
          this.options.nodes ?? 3,
          { ...DEFAULT_ETCD_TIMING, ...this.options.timing },
          this.options.snapshotCount ?? 10_000,
        );
        if (this.options.recordLimitMiB !== undefined)
          this.manifest.recordLimitMiB = this.options.recordLimitMiB;
        saveEtcdManifest(this.dir, this.manifest);
        this.event(
          null,
          'process',
          `created etcd cluster ${this.manifest.clusterId} with ${this.options.nodes ?? 3} members in ${this.dir} (etcd ${this.binary.version})`,
        );
      }
      makePrivateDir(socketDir(this.dir));
      // Only this user's processes (the members) may speak to a member's proxy.
      this.network = new PeerNetwork({ onlyUid: process.getuid?.() });
      const recs = this.manifest.members.filter((r) => r.state === 'member');
      for (const rec of recs) await this.manage(rec);
      this.startPushing();
      const fresh = recs.every((r) => !r.started);
      const results = await Promise.allSettled(
        recs.map((r) => this.startMember(r.id, fresh && r.founding ? 'new' : 'existing')),
      );
      const failed = results
        .map((r, i) =>
          r.status === 'rejected' ? `node ${recs[i]!.id}: ${(r.reason as Error).message}` : '',
        )
        .filter(Boolean);
      this.state = 'running';
      this.pollTimer = setInterval(() => this.pollAll(), this.options.pollMs ?? 500);
      this.pollTimer.unref();
      this.trafficTimer = setInterval(() => this.measureTraffic(), 1000);
      this.trafficTimer.unref();
      this.bump();
      if (failed.length === recs.length && recs.length > 0) {
        await this.stop();
        throw new Error(`no member could start:\n${failed.join('\n')}`);
      }
    } catch (e) {
      if (this.state === 'starting') {
        this.state = 'stopped';
        await this.network?.close();
        this.releaseFolder();
      }
      throw e;
    }
  }

  /** stop stops every member it started (gracefully, then by force) and closes the proxies. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.bump();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.trafficTimer) clearInterval(this.trafficTimer);
    await Promise.allSettled(
      [...this.members.values()].map(async (m) => {
        m.autoRestart = false;
        if (m.proc.state === 'paused') m.proc.resume();
        await m.proc.stop();
        m.client.close();
      }),
    );
    await this.network?.close();
    this.stopPushing();
    this.releaseFolder();
    this.state = 'stopped';
    this.bump();
    this.pushView();
  }

  private releaseFolder(): void {
    if (this.lockFile !== undefined) releaseLock(this.lockFile);
    this.lockFile = undefined;
  }

  memberDir(rec: EtcdMemberRecord): string {
    return join(this.dir, rec.dir);
  }

  /** manage sets up a member: its proxy, its process (not started) and its own client. */
  private async manage(rec: EtcdMemberRecord): Promise<Member> {
    const proxy = await this.network!.addMember(
      rec.id,
      peerSocket(this.dir, rec),
      Number(rec.proxy.split(':')[1]),
    );
    rec.proxy = proxy;
    const proc = new EtcdProcess({
      name: rec.name,
      dataDir: this.memberDir(rec),
      clientPort: Number(rec.client.split(':')[1]),
      peerPort: Number(rec.peer.split(':')[1]),
      advertisedPeerUrl: `http://${proxy}`,
      socketDir: socketDir(this.dir),
      initialCluster: '',
      state: 'new',
      clusterToken: this.manifest.clusterToken,
      heartbeatMs: this.manifest.timing.heartbeatMs,
      electionMs: this.manifest.timing.electionMs,
      snapshotCount: this.manifest.snapshotCount,
      preVote: true,
      logFile: join(this.memberDir(rec), 'etcd.log'),
      binary: this.binary!,
    });
    const m: Member = {
      rec,
      proc,
      client: openEtcdClient({ endpoints: [clientUrl(this.dir, rec)], dialTimeoutMs: 1000 }),
      report: null,
      reportAt: 0,
      stats: null,
      lastPoll: null,
      error: null,
      autoRestart: false,
      startRefused: null,
      campaign: null,
      polling: false,
    };
    proc.onLine((record) => this.onLogLine(m, record));
    proc.onExit((info) => {
      m.report = null;
      m.campaign = null;
      this.event(
        rec.id,
        'process',
        `node ${rec.id} exited (${info.signal ?? `code ${info.code}`})`,
      );
      if (m.autoRestart && this.state === 'running' && rec.state === 'member') {
        setTimeout(() => void this.restart(rec.id).catch(() => undefined), 500).unref();
      }
    });
    this.members.set(rec.id, m);
    return m;
  }

  /** initialCluster: etcd's --initial-cluster for the members `recs` (their proxy URLs). */
  private initialCluster(recs: EtcdMemberRecord[]): string {
    return recs.map((r) => `${r.name}=http://${r.proxy}`).join(',');
  }

  /**
   * startMember starts member `id`: `new` for a founding member of a new cluster, `existing`
   * for one that joins (or has run before, when etcd ignores both). A member that has run and
   * whose data folder is gone is refused: it would come back empty and could lose what it
   * acknowledged; it must be replaced.
   */
  async startMember(id: NodeId, state: 'new' | 'existing' = 'existing'): Promise<void> {
    const m = this.get(id);
    if (m.proc.running) throw new Error(`node ${id} is already running (pid ${m.proc.pid})`);
    const dir = this.memberDir(m.rec);
    if (m.rec.started && !existsSync(join(dir, 'member'))) {
      m.startRefused = `the data folder of node ${id} (${dir}) is gone: starting it empty could lose writes it acknowledged; replace it instead`;
      this.bump();
      throw new Error(m.startRefused);
    }
    const peers = this.manifest.members.filter(
      (r) => r.state === 'member' && (r.founding || r.started || r.id === id),
    );
    m.proc.spec.initialCluster = this.initialCluster(peers);
    m.proc.spec.state = state;
    this.applyFaults();
    await m.proc.start();
    if (!m.rec.started) {
      m.rec.started = true;
      saveEtcdManifest(this.dir, this.manifest);
    }
    this.event(id, 'process', `node ${id} started (pid ${m.proc.pid})`);
  }

  get(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no node ${id} in this cluster`);
    return m;
  }

  // ---------------------------------------------------------------- status

  /** pollAll reads every running member's status (one poll per member at a time). */
  private pollAll(): void {
    for (const m of this.members.values()) {
      if (m.polling || !m.proc.running || m.proc.state === 'paused') continue;
      m.polling = true;
      void this.pollOne(m).finally(() => (m.polling = false));
    }
  }

  /** idOfMember: the NodeId of etcd's member `memberId` (decimal), 0 when unknown. */
  private idOfMember = (memberId: string): NodeId => {
    for (const m of this.members.values()) if (m.rec.memberId === memberId) return m.rec.id;
    return 0;
  };

  /** learnIds records etcd's member ids from a member list (by name, or by the proxy URL). */
  private learnIds(list: readonly EtcdMember[]): void {
    let changed = false;
    for (const mm of list) {
      const byName = /^n(\d+)$/.exec(mm.name);
      const rec = byName
        ? this.members.get(Number(byName[1]))?.rec
        : [...this.members.values()].find((m) => mm.peerUrls.includes(`http://${m.rec.proxy}`))
            ?.rec;
      if (rec && rec.memberId !== mm.id) {
        rec.memberId = mm.id;
        changed = true;
      }
    }
    if (changed) saveEtcdManifest(this.dir, this.manifest);
  }

  private async pollOne(m: Member): Promise<void> {
    try {
      const poll = await pollMember(m.client, clientUrl(this.dir, m.rec), { timeoutMs: 1000 });
      if (poll.members) {
        this.clusterMembers = poll.members;
        this.learnIds(poll.members);
      }
      if (m.rec.memberId !== poll.status.memberId) {
        m.rec.memberId = poll.status.memberId;
        saveEtcdManifest(this.dir, this.manifest);
      }
      const list = poll.members ?? this.clusterMembers;
      const report = memberReport(poll.status, list, this.idOfMember, { metrics: poll.metrics });
      if (m.campaign) {
        if (report.role === 'leader' || report.leader !== 0 || report.term > m.campaign.term)
          m.campaign = null;
        else {
          report.role = m.campaign.role;
          report.term = Math.max(report.term, m.campaign.term);
        }
      }
      m.stats = memberStats(poll, m.lastPoll, this.idOfMember, {
        members: list,
        alarms: poll.alarms ?? [],
      });
      report.engineStats = etcdStatLines(m.stats);
      m.lastPoll = poll;
      m.report = report;
      m.reportAt = Date.now();
      if (m.error !== null) this.event(m.rec.id, 'process', `node ${m.rec.id} answers again`);
      m.error = null;
    } catch (e) {
      const msg = (e as Error).message;
      if (m.error !== msg && m.proc.state === 'running')
        this.event(m.rec.id, 'process', `node ${m.rec.id} does not answer: ${msg}`);
      m.error = msg;
    }
    this.bump();
  }

  /** measureTraffic turns the proxies' byte counters into bytes per second per directed link. */
  private measureTraffic(): void {
    if (!this.network) return;
    const now = Date.now();
    const next = new Map<string, LinkRate>();
    for (const s of this.network.linkStats()) {
      const key = linkKey(s.from, s.to);
      const prev = this.lastBytes.get(key);
      const secs = prev ? (now - prev.at) / 1000 : 0;
      next.set(key, {
        msgsPerSec: 0,
        bytesPerSec: prev && secs > 0 ? Math.max(0, (s.bytes - prev.bytes) / secs) : 0,
      });
      this.lastBytes.set(key, { bytes: s.bytes, at: now });
    }
    this.traffic = next;
    this.bump();
  }

  /** onLogLine turns one of etcd's JSON log lines into an event (and a campaign it shows). */
  private onLogLine(m: Member, record: Record<string, unknown>): void {
    const e = parseEtcdLog(
      record,
      (hex) => this.idOfMember(decimalMemberId(hex)) || null,
      m.rec.id,
    );
    if (!e) return;
    if (e.role === 'pre-candidate' || e.role === 'candidate')
      m.campaign = { role: e.role, term: e.term ?? 0 };
    else if (e.role) m.campaign = null;
    this.event(m.rec.id, e.kind, e.message, e.data);
  }

  // ---------------------------------------------------------------- the view

  private processOf(m: Member): MemberInput['process'] {
    return {
      state: m.proc.state as ProcessState,
      pid: m.proc.running ? m.proc.pid : null,
      exitCode: m.proc.exitCode,
      signal: m.proc.signal,
      restarts: m.proc.restarts,
      startedAt: m.proc.startedAt,
      autoRestart: m.autoRestart,
      lastLines: [
        ...m.proc.lastLines.slice(-20),
        ...(m.error !== null && m.proc.running ? [`status: ${m.error}`] : []),
      ],
      commandLine: m.proc.commandLine,
    };
  }

  projectionInput(): ProjectionInput {
    const members: MemberInput[] = [...this.members.values()].map((m) => ({
      id: m.rec.id,
      founding: m.rec.founding,
      removed: m.rec.state === 'removed',
      running: m.proc.running,
      process: this.processOf(m),
      addresses: {
        peer: m.rec.proxy,
        client: clientUrl(this.dir, m.rec),
        admin: clientUrl(this.dir, m.rec),
      },
      dataDir: this.memberDir(m.rec),
      startRefused: m.startRefused,
      report: m.proc.running ? m.report : null,
      reportAt: m.reportAt,
    }));
    const faults = this.faults.input();
    followersSeenBy(members, faults.partitions);
    return {
      clusterId: this.manifest?.clusterId ?? '',
      dataDir: this.dir,
      version: this.version,
      now: Date.now(),
      state: this.state,
      members,
      faults,
      parts: this.viewParts,
      thresholds: { lagEntries: DEFAULT_THRESHOLDS.lagEntries },
      pace: REAL_TIME,
      traffic: this.traffic,
      engine: this.engineView(),
    };
  }

  view(): ClusterView {
    return projectView(this.projectionInput());
  }

  /** stats: what etcd's metrics say about member `id` (db size, fsync, proposals, peers). */
  stats(id: NodeId): EtcdMemberStats | null {
    return this.get(id).stats;
  }

  leaderId(): NodeId {
    return this.view().leader;
  }

  pids(): number[] {
    return [...this.members.values()]
      .filter((m) => m.proc.running && m.proc.pid !== null)
      .map((m) => m.proc.pid!);
  }

  /** client: a client of member `id` alone (for admin calls). */
  clientOf(id: NodeId): Etcd3 {
    return this.get(id).client;
  }

  // ---------------------------------------------------------------- processes

  async kill(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (!m.proc.running) throw new Error(`node ${id} is not running`);
    await m.proc.kill();
    this.event(id, 'fault', `killed node ${id} (SIGKILL)`);
  }

  async stopNode(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (!m.proc.running) throw new Error(`node ${id} is not running`);
    if (m.proc.state === 'paused') m.proc.resume();
    await m.proc.stop();
    this.event(id, 'fault', `stopped node ${id}`);
  }

  async restart(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (m.rec.state === 'removed') throw new Error(`node ${id} was removed from the cluster`);
    if (m.proc.running) await m.proc.stop();
    await this.startMember(id);
  }

  pause(id: NodeId): void {
    const m = this.get(id);
    if (m.proc.state !== 'running') throw new Error(`node ${id} is not running`);
    m.proc.pause();
    this.event(id, 'fault', `paused node ${id} (SIGSTOP)`);
  }

  resume(id: NodeId): void {
    const m = this.get(id);
    if (m.proc.state !== 'paused') throw new Error(`node ${id} is not paused`);
    m.proc.resume();
    this.event(id, 'fault', `resumed node ${id} (SIGCONT)`);
  }

  setAutoRestart(id: NodeId, on: boolean): void {
    this.get(id).autoRestart = on;
    this.bump();
  }

  setPace(): Promise<void> {
    return Promise.reject(new EngineUnavailable('pace', ETCD_UNAVAILABLE.pace!));
  }

  // ---------------------------------------------------------------- network

  private allIds(): NodeId[] {
    return [...this.members.values()].filter((m) => m.rec.state === 'member').map((m) => m.rec.id);
  }

  /** applyFaults hands every member's proxy rules to the peer network. */
  private applyFaults(): void {
    const all = this.allIds();
    for (const id of all) this.network?.setRules(id, this.faults.rulesFor(id, all));
    this.bump();
  }

  async isolate(id: NodeId): Promise<void> {
    this.get(id);
    this.faults.isolate(id);
    this.applyFaults();
    this.event(id, 'fault', `isolated node ${id} from every other node (proxies)`);
  }

  async partition(groups: NodeId[][]): Promise<void> {
    const seen = new Set<NodeId>();
    for (const g of groups)
      for (const id of g) {
        this.get(id);
        if (seen.has(id)) throw new Error(`node ${id} is in two groups`);
        seen.add(id);
      }
    this.faults.partition(groups);
    this.applyFaults();
    this.event(
      null,
      'fault',
      `partitioned into ${groups.map((g) => `{${g.join(',')}}`).join(' ')} (proxies)`,
    );
  }

  async heal(): Promise<void> {
    this.faults.heal();
    this.applyFaults();
    this.event(null, 'fault', 'healed the network');
  }

  async setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void> {
    this.get(id);
    if (rules.some((r) => r.types !== undefined || r.snapshotOffset !== undefined))
      throw new EngineUnavailable('typeRules', ETCD_UNAVAILABLE.typeRules!);
    this.faults.setLinkRules(id, rules);
    this.applyFaults();
    this.event(id, 'fault', `node ${id} has ${rules.length} link rule(s)`);
  }

  linkRules(id: NodeId): LinkRule[] {
    this.get(id);
    return [...this.faults.of(id).customRules];
  }

  setSlowDisk(): Promise<void> {
    return Promise.reject(new EngineUnavailable('slowDisk', ETCD_UNAVAILABLE.slowDisk!));
  }

  /**
   * clearAllFaults heals the network, resumes paused members and starts stopped or killed ones
   * (not one whose data folder is gone).
   */
  async clearAllFaults(): Promise<{ summary: string; failed: string[] }> {
    const r = await clearAllFaults({
      faults: this.faults,
      members: () =>
        [...this.members.values()].map((m) => ({
          id: m.rec.id,
          member: m.rec.state === 'member',
          paused: m.proc.state === 'paused',
          running: m.proc.running,
          refused: m.startRefused,
        })),
      resume: (id) => this.resume(id),
      heal: () => this.heal(),
      start: (id) => this.startMember(id),
    });
    this.event(null, 'fault', `cleared all faults: ${r.summary}`);
    return r;
  }

  // ---------------------------------------------------------------- membership

  addNode(): Promise<WorkflowRun> {
    return this.workflows.addNode();
  }
  removeNode(id: NodeId): Promise<WorkflowRun> {
    return this.workflows.removeNode(id);
  }
  replaceNode(id: NodeId): Promise<WorkflowRun> {
    return this.workflows.replaceNode(id);
  }
  transferLeader(id: NodeId): Promise<WorkflowRun> {
    return this.workflows.transferLeader(id);
  }

  /** allocateMember records a new (not founding) member and sets up its proxy and process. */
  async allocateMember(): Promise<EtcdMemberRecord> {
    const rec = await newEtcdMember(this.manifest, false);
    this.manifest.members.push(rec);
    saveEtcdManifest(this.dir, this.manifest);
    await this.manage(rec);
    this.applyFaults();
    this.bump();
    return rec;
  }

  /**
   * forgetMember marks member `id` removed, stops its process if it still runs, closes its proxy
   * and deletes its data folder (etcd never lets a removed member back in with it).
   */
  async forgetMember(id: NodeId): Promise<void> {
    const m = this.get(id);
    m.rec.state = 'removed';
    m.autoRestart = false;
    saveEtcdManifest(this.dir, this.manifest);
    if (m.proc.running) await m.proc.stop();
    m.client.close();
    this.network?.removeMember(id);
    rmSync(this.memberDir(m.rec), { recursive: true, force: true });
    this.members.delete(id);
    this.applyFaults();
    this.bump();
  }

  // ---------------------------------------------------------------- clients and logs

  kvSession(o: KvSessionOptions): KvSession {
    // Learners serve no writes and no linearizable reads: sessions talk to voters.
    const { nodes, leader } = this.view();
    const voters = nodes.filter((n) => n.membership === 'voter');
    const pinned =
      o.via !== undefined
        ? nodes.filter((n) => n.id === o.via)
        : (voters.length > 0 ? voters : nodes.filter((n) => n.membership !== 'removed')).sort(
            // the leader first: a paused or cut-off member would hold a call until its deadline
            (a, b) => Number(b.id === leader) - Number(a.id === leader),
          );
    return new EtcdKvSession({
      endpoints: pinned.map((n) => n.addresses.client),
      clientId: o.clientId,
      timeoutMs: o.timeoutMs,
    });
  }

  /** nodeLogs: the tail of the member's etcd log (JSON lines), also while it is down. */
  async nodeLogs(id: NodeId, lines: number): Promise<Record<string, unknown>[]> {
    const m = this.get(id);
    const out: Record<string, unknown>[] = [];
    for (const line of readLogTail(m.proc.spec.logFile, lines)) {
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        out.push({ level: 'info', msg: line });
      }
    }
    return out;
  }
}
