import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type {
  ClusterView,
  LinkDetail,
  LinkRule,
  MessageBatch,
  PaceView,
  TypeCounts,
} from '../contract/view';
import { checkBoundFlags } from '../node/flags';
import type { NodeEvent, NodeStatus } from '../node/node-api';
import { makePrivateDir, tightenTree } from '../node/private-files';
import { acquireLock, releaseLock } from '../node/storage/data-dir-lock';
import type { MessageTrace } from '../raft/message-header';
import { MESSAGE_TYPES, type MessageType, type NodeId } from '../raft/types';
import type { AdminConnect, AdminLink, NodeMessages } from './admin-link';
import {
  clusterPeerSecret,
  giveNodePeerSecret,
  loadManifest,
  newManifest,
  newNodeRecord,
  peersFlag,
  saveManifest,
  type ClusterManifest,
  type NodeRecord,
  type Timing,
} from './manifest';
import {
  DEFAULT_THRESHOLDS,
  electedLeader,
  projectView,
  type MemberInput,
  type ProjectionInput,
} from '../view/projection';
import { checkPace, describePace } from '../view/pace';
import { linkKey, REAL_TIME } from '../view/topology';
import { sentToPeers, TrafficMeter } from '../view/traffic';
import type { TypeCounters as PeerTypeCounters } from '../node/transport/stats';
import { clearAllFaults } from './clear-faults';
import { EngineBase } from './engine-base';
import { FaultModel } from './fault-model';
import { narrate } from './narration';
import { defaultNodeCommand, type NodeCommand } from './node-command';
import { NodeProcess } from './node-process';
import { checkRecordLimit } from './recording/file-recording';

export interface SupervisorOptions {
  /** dir: the cluster folder (cluster.json + one data dir per node). */
  dir: string;
  /** nodes: founding voters of a new cluster (ignored when the folder already holds one). */
  nodes?: number;
  timing?: Partial<Timing>;
  snapshotEntries?: number;
  snapshotChunkBytes?: number;
  command?: NodeCommand;
  connect: AdminConnect;
  /**
   * nodeFlags: bounds to start every node with (checked by checkBoundFlags), kept in cluster.json
   * for later starts; undefined keeps what the folder's cluster has (or the nodes' defaults).
   */
  nodeFlags?: string[];
  /**
   * recordLimitMiB: the bound of the cluster's recording in MiB (0: none on disk; see
   * checkRecordLimit), kept in cluster.json for later starts; undefined keeps what the folder's
   * cluster has (or the default).
   */
  recordLimitMiB?: number;
  /** lagThreshold: entries behind the leader before a node counts as lagging. */
  lagThreshold?: number;
  /** pace: the demo pace to start every node at (default real time, fast failover on). */
  pace?: PaceView;
  log?: (level: string, msg: string, fields?: Record<string, unknown>) => void;
}

/** Managed is the supervisor's state for one node. */
export interface Managed {
  rec: NodeRecord;
  proc: NodeProcess;
  admin: AdminLink | undefined;
  connecting: boolean;
  status: NodeStatus | undefined;
  statusAt: number;
  autoRestart: boolean;
  /** startRefused: why the supervisor will not start this member again (its data is gone). */
  startRefused: string | null;
  /** pace: the pace the node is known to run at (from its flags or set-pace); undefined: unsure. */
  pace: PaceView | undefined;
}

/** typesOn: what `status` counted by message type on its link with `peer` (none: undefined). */
function typesOn(
  status: NodeStatus | undefined,
  peer: NodeId,
): Partial<Record<MessageType, PeerTypeCounters>> | undefined {
  return status?.transport.peers[String(peer)]?.types;
}

/** MESSAGES_PER_LINK_HZ: how many messages of each type a node samples per link per second. */
export const MESSAGES_PER_LINK_HZ = 10;
/** MAX_BATCH_TRACES: the most traces one merged batch holds; more are counted as skipped. */
export const MAX_BATCH_TRACES = 2000;
/** RECENT_ON_LINK: how many of a link's latest messages linkDetail returns. */
export const RECENT_ON_LINK = 50;

const samePace = (a: PaceView | undefined, b: PaceView): boolean =>
  a !== undefined && a.pace === b.pace && a.fastFailover === b.fastFailover;

export class SupervisorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupervisorError';
  }
}

/**
 * Supervisor starts a named cluster of real node processes in a folder, adopts the folder's
 * existing cluster on restart, watches every node (process state plus a 10 Hz status and event
 * subscription over the admin protocol), aggregates one ClusterView and one ordered event stream,
 * and carries out faults. It stops everything it started on stop(), and the nodes themselves exit
 * if the supervisor dies (they hold an IPC channel to it).
 */
export class Supervisor extends EngineBase {
  readonly dir: string;
  readonly token = randomBytes(24).toString('hex');
  manifest!: ClusterManifest;
  readonly nodes = new Map<NodeId, Managed>();
  state: ClusterView['state'] = 'stopped';
  /** faults: the faults this supervisor wants in force (it pushes them to the nodes). */
  readonly faults = new FaultModel();
  /** paceView: the pace every node runs at (see setPace). */
  private paceView: PaceView;
  /** traffic: per-link rates from the nodes' per-type counters. */
  private readonly traffic = new TrafficMeter();
  /** pendingTraces, pendingSkipped: sampled messages not yet pushed (see flushMessages). */
  private pendingTraces: MessageTrace[] = [];
  private pendingSkipped: Record<string, number> = {};
  private readonly command: NodeCommand;
  /** peerSecret: the cluster's peer secret, given to every node before it starts. */
  private peerSecret: Buffer | undefined;
  /** lockFile: the cluster folder's lock, held from start() to stop(). */
  private lockFile: string | undefined;

  constructor(readonly options: SupervisorOptions) {
    super();
    this.dir = resolve(options.dir);
    this.command = options.command ?? defaultNodeCommand();
    const p = options.pace ?? REAL_TIME;
    this.paceView = { pace: checkPace(p.pace), fastFailover: p.fastFailover };
  }

  /** pace: the cluster's demo pace (a copy). */
  get pace(): PaceView {
    return { ...this.paceView };
  }

  /** partitions: the groups that cannot talk across, or null. */
  get partitions(): NodeId[][] | null {
    return this.faults.partitions;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * start creates a new cluster in the folder, or brings back the one it holds. The folder is
   * 0700 and its files 0600 (tightened if an older version left them open); a new cluster gets a
   * new peer secret, and so does a folder made before peers authenticated, once.
   */
  async start(): Promise<void> {
    if (this.state !== 'stopped') throw new SupervisorError(`cluster is ${this.state}`);
    // One supervisor per cluster folder: two would each create or adopt the cluster in it.
    makePrivateDir(this.dir);
    try {
      this.lockFile = acquireLock(this.dir, 'cluster folder');
    } catch (e) {
      throw new SupervisorError((e as Error).message);
    }
    this.state = 'starting';
    this.bump();
    let existing: ClusterManifest | undefined;
    try {
      tightenTree(this.dir, 1);
      existing = loadManifest(this.dir);
      const { secret, created } = clusterPeerSecret(this.dir);
      this.peerSecret = secret;
      if (existing && created) {
        this.event(
          null,
          'process',
          `created a peer secret for cluster ${existing.clusterId}: its folder predates peer authentication; every node gets the secret before it starts`,
        );
      }
    } catch (e) {
      this.releaseFolder();
      this.state = 'stopped';
      this.bump();
      throw e;
    }
    let nodeFlags: string[] | undefined;
    try {
      nodeFlags =
        this.options.nodeFlags === undefined ? undefined : checkBoundFlags(this.options.nodeFlags);
    } catch (e) {
      this.releaseFolder();
      this.state = 'stopped';
      this.bump();
      throw new SupervisorError(`node flags: ${(e as Error).message}`);
    }
    const recordLimit = this.options.recordLimitMiB;
    if (recordLimit !== undefined) {
      try {
        checkRecordLimit(recordLimit, 'record limit');
      } catch (e) {
        this.releaseFolder();
        this.state = 'stopped';
        this.bump();
        throw new SupervisorError((e as Error).message);
      }
    }
    if (existing) {
      this.manifest = existing;
      if (nodeFlags !== undefined || recordLimit !== undefined) {
        if (nodeFlags !== undefined) existing.nodeFlags = nodeFlags;
        if (recordLimit !== undefined) existing.recordLimitMiB = recordLimit;
        saveManifest(this.dir, existing);
      }
      this.event(null, 'process', `adopting cluster ${existing.clusterId} in ${this.dir}`);
      // Manifests written before `started` was recorded: a node.json shows the node has run.
      let changed = false;
      for (const rec of existing.nodes) {
        if (rec.state === 'member' && rec.started === undefined) {
          rec.started = existsSync(join(this.nodeDir(rec), 'node.json'));
          changed = true;
        }
      }
      if (changed) saveManifest(this.dir, existing);
    } else {
      const timing: Timing = {
        tickMs: 10,
        heartbeatMs: 100,
        electionMs: 1000,
        ...this.options.timing,
      };
      this.manifest = await newManifest(
        this.options.nodes ?? 3,
        timing,
        this.options.snapshotEntries ?? 10_000,
        this.options.snapshotChunkBytes ?? 1 << 20,
      );
      if (nodeFlags !== undefined) this.manifest.nodeFlags = nodeFlags;
      if (recordLimit !== undefined) this.manifest.recordLimitMiB = recordLimit;
      saveManifest(this.dir, this.manifest);
      this.event(
        null,
        'process',
        `created cluster ${this.manifest.clusterId} with ${this.options.nodes ?? 3} nodes in ${this.dir}`,
      );
    }
    const members = this.manifest.nodes.filter((n) => n.state === 'member');
    for (const rec of members) this.manage(rec);
    this.startPushing(() => this.flushMessages());
    const results = await Promise.allSettled(members.map((r) => this.startNode(r.id)));
    const failed = results
      .map((r, i) =>
        r.status === 'rejected' ? `node ${members[i]!.id}: ${(r.reason as Error).message}` : '',
      )
      .filter(Boolean);
    this.state = 'running';
    this.bump();
    if (failed.length === members.length && members.length > 0) {
      await this.stop();
      throw new SupervisorError(`no node could start:\n${failed.join('\n')}`);
    }
  }

  /** stop stops every node it started (gracefully, then by force) and forgets them. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.bump();
    await Promise.allSettled([...this.nodes.values()].map((m) => this.stopManaged(m)));
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

  private manage(rec: NodeRecord): Managed {
    const m: Managed = {
      rec,
      proc: new NodeProcess({
        id: rec.id,
        clusterId: this.manifest.clusterId,
        token: this.token,
        dataDir: this.nodeDir(rec),
        command: this.command,
        flags: this.flagsFor(rec),
      }),
      admin: undefined,
      connecting: false,
      status: undefined,
      statusAt: 0,
      autoRestart: false,
      startRefused: null,
      pace: undefined,
    };
    m.proc.on('state', () => this.bump());
    m.proc.on(
      'exit',
      (info: {
        code: number | null;
        signal: string | null;
        expected: boolean;
        lastLines: string[];
      }) => {
        m.admin?.close();
        m.admin = undefined;
        m.status = undefined;
        m.pace = undefined;
        this.traffic.forget(rec.id);
        const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
        this.event(
          rec.id,
          'process',
          `node ${rec.id} ${how}${info.expected ? '' : ' unexpectedly'}`,
          {
            code: info.code,
            signal: info.signal,
            lastLines: info.lastLines,
          },
        );
        if (
          m.autoRestart &&
          !info.expected &&
          this.state === 'running' &&
          rec.state === 'member' &&
          info.code !== 0
        ) {
          setTimeout(() => {
            if (!m.proc.running && m.autoRestart && this.state === 'running') {
              this.event(rec.id, 'process', `auto-restarting node ${rec.id}`);
              this.startNode(rec.id).catch((e: Error) =>
                this.event(rec.id, 'process', `auto-restart failed: ${e.message}`),
              );
            }
          }, 500).unref();
        }
      },
    );
    this.nodes.set(rec.id, m);
    return m;
  }

  nodeDir(rec: NodeRecord): string {
    return join(this.dir, rec.dir);
  }

  private flagsFor(rec: NodeRecord): string[] {
    const m = this.manifest;
    const founders = m.nodes.filter((n) => n.founding);
    const members = m.nodes.filter((n) => n.state === 'member');
    return [
      '--id',
      String(rec.id),
      '--cluster-id',
      m.clusterId,
      '--data',
      this.nodeDir(rec),
      '--peer-addr',
      rec.peer,
      '--client-addr',
      rec.client,
      '--admin-addr',
      rec.admin,
      '--peers',
      peersFlag(rec.founding ? founders : members),
      ...(rec.founding ? [] : ['--join']),
      ...(rec.started ? ['--require-state'] : []),
      '--tick-ms',
      String(m.timing.tickMs),
      '--heartbeat-ms',
      String(m.timing.heartbeatMs),
      '--election-ms',
      String(m.timing.electionMs),
      '--snapshot-entries',
      String(m.snapshotEntries),
      '--snapshot-chunk-bytes',
      String(m.snapshotChunkBytes),
      ...(m.nodeFlags ?? []),
      ...this.paceFlags(),
    ];
  }

  /**
   * paceFlags: the flags that start a node at the cluster's pace; none at real time with fast
   * failover on, the nodes' own defaults (so a node of an earlier version still starts).
   */
  private paceFlags(): string[] {
    const p = this.paceView;
    if (samePace(REAL_TIME, p)) return [];
    return ['--pace', String(p.pace), '--fast-failover', p.fastFailover ? 'on' : 'off'];
  }

  /**
   * lostData says why a member that has run cannot be started again: its data folder, or the
   * node.json in it, is gone. Started on an empty folder under its old id, it would come back
   * with an empty log as the same member, and as a voter could help elect a leader that lacks
   * committed entries. The safe way back is to replace it (replaceNode in workflows.ts).
   */
  private lostData(rec: NodeRecord): string | null {
    if (!rec.started) return null;
    const dir = this.nodeDir(rec);
    const what = !existsSync(dir)
      ? `its data folder ${dir} is gone`
      : !existsSync(join(dir, 'node.json'))
        ? `its data folder ${dir} no longer holds node.json`
        : null;
    if (what === null) return null;
    return (
      `node ${rec.id} has run before, but ${what}: started again it would come back as member ` +
      `${rec.id} with an empty log, which could elect a leader that lacks committed entries. ` +
      `Replace it instead: remove node ${rec.id} and add a fresh node ` +
      `(raftdeck replace-node ${rec.id}, or Replace on the Membership page)`
    );
  }

  /** startNode (re)starts a node's process and connects to its admin server. */
  async startNode(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (m.proc.running)
      throw new SupervisorError(`node ${id} is already running (pid ${m.proc.pid})`);
    const lost = this.lostData(m.rec);
    if (lost !== null) {
      if (m.startRefused !== lost) this.event(id, 'storage', lost, { replace: true });
      m.startRefused = lost;
      this.bump();
      throw new SupervisorError(lost);
    }
    m.startRefused = null;
    // Flags can change (e.g. --peers after a membership change) between starts.
    m.proc.setFlags(this.flagsFor(m.rec));
    const startedAt = { ...this.paceView };
    // The node reads the secret from its data dir, never from its arguments or environment.
    giveNodePeerSecret(this.nodeDir(m.rec), this.peerSecret as Buffer);
    await m.proc.start();
    m.pace = startedAt;
    if (!m.rec.started) {
      m.rec.started = true;
      saveManifest(this.dir, this.manifest);
    }
    this.event(id, 'process', `node ${id} started (pid ${m.proc.pid})`);
    await this.connectAdmin(m);
    await this.applyFaults(m).catch((e: Error) =>
      this.event(id, 'fault', `could not re-apply faults: ${e.message}`),
    );
  }

  private async connectAdmin(m: Managed): Promise<void> {
    if (m.admin || m.connecting || !m.proc.running) return;
    m.connecting = true;
    try {
      const link = await this.options.connect(m.rec.admin, this.token);
      if (!m.proc.running) {
        link.close();
        return;
      }
      m.admin = link;
      // The link may have been down while faults changed (a paused node drops it): bring the
      // node's own filter and disk delay back in line with what the supervisor wants.
      void this.applyFaults(m).catch((e: Error) =>
        this.event(m.rec.id, 'fault', `could not re-apply faults: ${e.message}`),
      );
      // Likewise the pace, if it changed while the node could not be told.
      void this.applyPace(m).catch((e: Error) =>
        this.event(m.rec.id, 'process', `could not set the pace: ${e.message}`),
      );
      link.subscribe(
        {
          status: true,
          events: true,
          hz: 20,
          messages: true,
          messagesPerLinkHz: MESSAGES_PER_LINK_HZ,
        },
        {
          status: (s) => {
            m.status = s;
            m.statusAt = Date.now();
            this.traffic.feed(m.rec.id, m.statusAt, sentToPeers(s.transport.peers));
            this.bump();
          },
          event: (e) => this.onNodeEvent(m.rec.id, e),
          messages: (b) => this.onNodeMessages(b),
          close: () => {
            if (m.admin === link) m.admin = undefined;
            // Reconnect while the process lives (e.g. after a pause the socket may have died).
            if (m.proc.running && this.state !== 'stopping') {
              setTimeout(() => void this.connectAdmin(m), 300).unref();
            }
          },
        },
      );
    } catch (e) {
      if (m.proc.running && this.state !== 'stopping') {
        setTimeout(() => void this.connectAdmin(m), 500).unref();
      }
      this.options.log?.('warn', `admin connect to node ${m.rec.id} failed`, {
        error: (e as Error).message,
      });
    } finally {
      m.connecting = false;
    }
  }

  private async stopManaged(m: Managed): Promise<void> {
    m.autoRestart = false;
    m.admin?.close();
    m.admin = undefined;
    await m.proc.stop();
  }

  get(id: NodeId): Managed {
    const m = this.nodes.get(id);
    if (!m) throw new SupervisorError(`no node ${id} in this cluster`);
    return m;
  }

  /** admin returns a node's admin link, or throws a clear error if it is down. */
  admin(id: NodeId): AdminLink {
    const m = this.get(id);
    if (!m.admin)
      throw new SupervisorError(
        `node ${id} is ${m.proc.state}; its admin interface is not reachable`,
      );
    return m.admin;
  }

  // ---------------------------------------------------------------- process faults

  async kill(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (!m.proc.running) throw new SupervisorError(`node ${id} is not running`);
    this.event(id, 'fault', `kill -9 node ${id} (pid ${m.proc.pid})`);
    await m.proc.kill();
  }

  async stopNode(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (!m.proc.running) throw new SupervisorError(`node ${id} is not running`);
    this.event(id, 'fault', `stopping node ${id}`);
    await this.stopManaged(m);
  }

  async restart(id: NodeId): Promise<void> {
    const m = this.get(id);
    if (m.rec.state !== 'member')
      throw new SupervisorError(`node ${id} was removed from the cluster`);
    if (m.proc.running) {
      this.event(id, 'fault', `restarting node ${id}`);
      await m.proc.stop();
    }
    await this.startNode(id);
  }

  pause(id: NodeId): void {
    const m = this.get(id);
    m.proc.pause();
    this.event(id, 'fault', `paused node ${id} (SIGSTOP)`);
  }

  resume(id: NodeId): void {
    const m = this.get(id);
    m.proc.resume();
    this.event(id, 'fault', `resumed node ${id} (SIGCONT)`);
    // A paused node is not told a new pace (it could not answer); it is told now.
    void this.applyPace(m).catch((e: Error) =>
      this.event(id, 'process', `could not set the pace: ${e.message}`),
    );
  }

  setAutoRestart(id: NodeId, on: boolean): void {
    this.get(id).autoRestart = on;
    this.event(id, 'process', `auto-restart ${on ? 'on' : 'off'} for node ${id}`);
  }

  // ---------------------------------------------------------------- pace

  /**
   * setPace slows every node down `pace` times (1 = real time) and sets whether followers
   * campaign at once when their leader's process is gone: running nodes through set-pace now,
   * nodes that start later through their flags, and a node whose admin link was down when it
   * reconnects or is resumed (a paused node is not waited for). The view shows the pace at once; a
   * node that did not take it is named in an event and gets it again when its link comes back.
   */
  async setPace(pace: number, fastFailover: boolean): Promise<void> {
    try {
      checkPace(pace);
    } catch (e) {
      throw new SupervisorError((e as Error).message);
    }
    const before = this.paceView;
    this.paceView = { pace, fastFailover };
    this.bump();
    if (!samePace(before, this.paceView)) this.event(null, 'process', describePace(this.paceView));
    const errors: string[] = [];
    await Promise.all(
      [...this.nodes.values()]
        .filter((m) => m.proc.state === 'running' && m.admin)
        .map((m) =>
          this.applyPace(m).catch((e: Error) => errors.push(`node ${m.rec.id}: ${e.message}`)),
        ),
    );
    if (errors.length)
      this.event(null, 'process', `some nodes did not take the new pace: ${errors.join('; ')}`);
  }

  /** applyPace tells a node the cluster's pace unless it is known to run at it already. */
  private async applyPace(m: Managed): Promise<void> {
    if (!m.admin || samePace(m.pace, this.paceView)) return;
    const want = { ...this.paceView };
    m.pace = undefined;
    await m.admin.call('set-pace', { pace: want.pace, fastFailover: want.fastFailover });
    m.pace = want;
    // The pace may have changed again while the call was on its way.
    if (!samePace(want, this.paceView)) await this.applyPace(m);
  }

  // ---------------------------------------------------------------- messages and links

  /** onNodeMessages adds a node's sampled messages to the next batch (bounded; see flushMessages). */
  private onNodeMessages(b: NodeMessages): void {
    if (this.listenerCount('messages') === 0) return;
    for (const t of b.traces) {
      if (t.dir !== 'out') continue;
      if (this.pendingTraces.length < MAX_BATCH_TRACES) this.pendingTraces.push(t);
      else this.skip(linkKey(t.from, t.to), 1);
    }
    for (const [key, n] of Object.entries(b.skipped)) this.skip(key, n);
  }

  private skip(key: string, n: number): void {
    this.pendingSkipped[key] = (this.pendingSkipped[key] ?? 0) + n;
  }

  /**
   * flushMessages pushes the messages gathered since the last push as one batch, oldest first;
   * called every 50 ms, so at most 20 batches a second, each at most MAX_BATCH_TRACES traces.
   */
  private flushMessages(): void {
    if (this.pendingTraces.length === 0 && Object.keys(this.pendingSkipped).length === 0) return;
    const batch: MessageBatch = {
      traces: this.pendingTraces.sort((a, b) => a.time - b.time || a.seq - b.seq),
      skipped: this.pendingSkipped,
    };
    this.pendingTraces = [];
    this.pendingSkipped = {};
    this.emit('messages', batch);
  }

  /**
   * linkDetail: the link from → to as the view shows it, its counters by message type (the
   * sender's sent and fault counts, the receiver's received), and the sender's latest messages
   * on it. Both must be members; the sender must be running (its messages are in its memory).
   */
  async linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail> {
    if (from === to)
      throw new SupervisorError(`a link joins two nodes, not node ${from} to itself`);
    const sender = this.get(from);
    const receiver = this.get(to);
    const link = this.view().links.find((l) => l.from === from && l.to === to);
    if (!link) throw new SupervisorError(`no link ${from} → ${to}: both must be members`);
    if (!sender.admin) {
      throw new SupervisorError(
        `node ${from} is ${sender.proc.state}: its messages to node ${to} are not reachable`,
      );
    }
    const out = typesOn(sender.status, to) ?? {};
    const inn = typesOn(receiver.status, from) ?? {};
    const byType: TypeCounts[] = [];
    for (const type of MESSAGE_TYPES) {
      const o = out[type];
      const i = inn[type];
      // The receiver's entry also counts what it sent back; only what it received is this link's.
      if (!o?.sent && !o?.faultDropped && !i?.received) continue;
      byType.push({
        type,
        sent: o?.sent ?? 0,
        sentBytes: o?.sentBytes ?? 0,
        received: i?.received ?? 0,
        receivedBytes: i?.receivedBytes ?? 0,
        faultDropped: o?.faultDropped ?? 0,
        faultDelayed: o?.faultDelayed ?? 0,
      });
    }
    const r = await sender.admin.call<{ traces: MessageTrace[]; nextSeq: number }>('messages', {
      peer: to,
      limit: 1024,
    });
    const recent = r.traces.filter((t) => t.dir === 'out' && t.to === to).slice(-RECENT_ON_LINK);
    return { link, byType, recent };
  }

  // ---------------------------------------------------------------- network faults

  private async applyFaults(m: Managed): Promise<void> {
    if (!m.admin) return;
    const rules = this.faults.rulesFor(m.rec.id, this.nodes.keys());
    if (rules.length) await m.admin.call('set-faults', { rules });
    else await m.admin.call('clear-faults');
    await m.admin.call('set-fsync-delay', { ms: this.faults.of(m.rec.id).fsyncDelayMs });
  }

  private async applyAllFaults(): Promise<void> {
    const errors: string[] = [];
    await Promise.all(
      [...this.nodes.values()]
        .filter((m) => m.proc.running)
        .map((m) =>
          this.applyFaults(m).catch((e: Error) => errors.push(`node ${m.rec.id}: ${e.message}`)),
        ),
    );
    this.bump();
    if (errors.length)
      this.event(null, 'fault', `some nodes did not take the new rules: ${errors.join('; ')}`);
  }

  async isolate(id: NodeId): Promise<void> {
    this.get(id);
    this.faults.isolate(id);
    this.event(id, 'fault', `isolated node ${id} from every other node`);
    await this.applyAllFaults();
  }

  /** partition splits the cluster into groups that cannot talk across; unlisted nodes stand alone. */
  async partition(groups: NodeId[][]): Promise<void> {
    const seen = new Set<NodeId>();
    for (const g of groups) {
      for (const id of g) {
        this.get(id);
        if (seen.has(id)) throw new SupervisorError(`node ${id} is in two groups`);
        seen.add(id);
      }
    }
    const set = this.faults.partition(groups);
    this.event(null, 'fault', `partitioned into ${set.map((g) => `{${g.join(',')}}`).join(' ')}`);
    await this.applyAllFaults();
  }

  /** heal removes partitions, isolation and hand-set link rules (slow disks and pauses stay). */
  async heal(): Promise<void> {
    this.faults.heal();
    this.event(null, 'fault', 'healed the network');
    await this.applyAllFaults();
  }

  async setLinkRules(id: NodeId, rules: LinkRule[]): Promise<void> {
    const m = this.get(id);
    const prev = this.faults.setLinkRules(id, rules);
    try {
      await this.applyFaults(m);
    } catch (e) {
      this.faults.setLinkRules(id, prev);
      throw e;
    }
    this.event(
      id,
      'fault',
      rules.length
        ? `set ${rules.length} link rule(s) on node ${id}`
        : `cleared link rules on node ${id}`,
      { rules },
    );
    this.bump();
  }

  async setSlowDisk(id: NodeId, ms: number): Promise<void> {
    await this.admin(id).call('set-fsync-delay', { ms });
    this.faults.setFsyncDelay(id, ms);
    this.event(
      id,
      'fault',
      ms ? `slow disk on node ${id}: +${ms} ms per fsync` : `disk of node ${id} back to normal`,
    );
    this.bump();
  }

  /**
   * clearAllFaults heals the network, restores disks, resumes paused nodes and starts killed or
   * stopped members again (not one whose data folder is gone: it must be replaced). It returns
   * what it did, in words (and what it could not do, one line each), and says it in the event
   * stream.
   */
  async clearAllFaults(): Promise<{ summary: string; failed: string[] }> {
    const r = await clearAllFaults({
      faults: this.faults,
      members: () =>
        [...this.nodes.values()].map((m) => ({
          id: m.rec.id,
          member: m.rec.state === 'member',
          paused: m.proc.state === 'paused',
          running: m.proc.running,
          refused: m.startRefused ?? this.lostData(m.rec),
        })),
      resume: (id) => this.resume(id),
      restoreDisk: async (id) => {
        this.faults.setFsyncDelay(id, 0);
        const m = this.nodes.get(id);
        if (m?.admin) await m.admin.call('set-fsync-delay', { ms: 0 }).catch(() => undefined);
      },
      heal: () => this.heal(),
      start: (id) => this.startNode(id),
    });
    this.event(null, 'fault', `cleared all faults: ${r.summary}`);
    return r;
  }

  // ---------------------------------------------------------------- membership records

  /** allocateNode records a new (joining) node with fresh ports; it is started by the workflow. */
  async allocateNode(): Promise<Managed> {
    const rec = await newNodeRecord(this.manifest, false);
    this.manifest.nodes.push(rec);
    saveManifest(this.dir, this.manifest);
    const m = this.manage(rec);
    this.bump();
    return m;
  }

  /** forgetNode marks a node removed, deletes its data and stops tracking it. */
  async forgetNode(id: NodeId): Promise<void> {
    const m = this.get(id);
    await this.stopManaged(m);
    m.rec.state = 'removed';
    saveManifest(this.dir, this.manifest);
    rmSync(this.nodeDir(m.rec), { recursive: true, force: true });
    this.nodes.delete(id);
    this.faults.forget(id);
    this.bump();
  }

  // ---------------------------------------------------------------- view and events

  /** leaderId: the running leader with the highest term, per the nodes' own reports. */
  leaderId(): NodeId {
    return electedLeader(this.members());
  }

  /** members: every managed node as the view projection takes it. */
  private members(): MemberInput[] {
    return [...this.nodes.values()].map((m) => ({
      id: m.rec.id,
      founding: m.rec.founding,
      removed: m.rec.state === 'removed',
      running: m.proc.running,
      process: {
        state: m.proc.state,
        pid: m.proc.running ? m.proc.pid : null,
        exitCode: m.proc.exitCode,
        signal: m.proc.signal,
        restarts: m.proc.restarts,
        startedAt: m.proc.startedAt,
        autoRestart: m.autoRestart,
        lastLines: m.proc.lastLines.slice(-20),
        commandLine: m.proc.commandLine,
      },
      addresses: { peer: m.rec.peer, client: m.rec.client, admin: m.rec.admin },
      dataDir: this.nodeDir(m.rec),
      startRefused: m.startRefused,
      report: m.proc.running ? (m.status ?? null) : null,
      reportAt: m.statusAt,
    }));
  }

  /** projectionInput: everything the view is made of, as the view projection takes it. */
  projectionInput(): ProjectionInput {
    return {
      clusterId: this.manifest?.clusterId ?? '',
      dataDir: this.dir,
      version: this.version,
      now: Date.now(),
      state: this.state,
      members: this.members(),
      faults: this.faults.input(),
      parts: this.viewParts,
      thresholds: { lagEntries: this.options.lagThreshold ?? DEFAULT_THRESHOLDS.lagEntries },
      pace: this.pace,
      traffic: this.traffic.rates(Date.now()),
    };
  }

  /** view: the cluster as the dashboard shows it (main/view/projection.ts). */
  view(): ClusterView {
    return projectView(this.projectionInput());
  }

  /** onNodeEvent narrates a node's own event into the cluster's stream (main/cluster/narration.ts). */
  private onNodeEvent(id: NodeId, e: NodeEvent): void {
    const l = narrate(id, e);
    if (l) this.event(id, l.kind, l.message, { ...e } as Record<string, unknown>);
  }
}
