import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  EventKind,
  LinkRule,
  ScenarioRun,
  WorkflowView,
  WorkloadView,
} from '../contract/view';
import { checkBoundFlags } from '../node/flags';
import type { NodeEvent, NodeStatus } from '../node/node-api';
import { makePrivateDir, tightenTree } from '../node/private-files';
import { acquireLock, releaseLock } from '../node/storage/data-dir-lock';
import type { NodeId } from '../raft/types';
import type { AdminConnect, AdminLink } from './admin-link';
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
  IDLE_CHECKER,
  electedLeader,
  projectView,
  type MemberInput,
  type ProjectionInput,
  type ViewParts,
} from '../view/projection';
import { describeCleared } from '../view/faults';
import { FaultModel } from './fault-model';
import { narrate } from './narration';
import { defaultNodeCommand, type NodeCommand } from './node-command';
import { NodeProcess } from './node-process';

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
  /** lagThreshold: entries behind the leader before a node counts as lagging. */
  lagThreshold?: number;
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
}

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
export class Supervisor extends EventEmitter {
  readonly dir: string;
  readonly token = randomBytes(24).toString('hex');
  manifest!: ClusterManifest;
  readonly nodes = new Map<NodeId, Managed>();
  state: ClusterView['state'] = 'stopped';
  /** faults: the faults this supervisor wants in force (it pushes them to the nodes). */
  readonly faults = new FaultModel();
  private version = 0;
  private eventSeq = 0;
  private readonly events: ClusterEvent[] = [];
  private readonly command: NodeCommand;
  /** peerSecret: the cluster's peer secret, given to every node before it starts. */
  private peerSecret: Buffer | undefined;
  private pushTimer: NodeJS.Timeout | undefined;
  private lastPushed = -1;
  /** lockFile: the cluster folder's lock, held from start() to stop(). */
  private lockFile: string | undefined;
  /**
   * viewParts: what workflows, the workload, the checker and scenarios contribute to the view.
   * Only the setters below change them (each a copy, and each marks the view changed).
   */
  private readonly viewParts: ViewParts = {
    workflows: [],
    workload: null,
    checker: { ...IDLE_CHECKER },
    scenario: null,
  };

  constructor(readonly options: SupervisorOptions) {
    super();
    this.setMaxListeners(100);
    this.dir = resolve(options.dir);
    this.command = options.command ?? defaultNodeCommand();
  }

  /** partitions: the groups that cannot talk across, or null. */
  get partitions(): NodeId[][] | null {
    return this.faults.partitions;
  }

  /** parts: the current view parts (read only; change them through the setters). */
  get parts(): Readonly<ViewParts> {
    return this.viewParts;
  }

  /** putWorkflow adds or updates a workflow's view (a copy; the latest 20 are kept). */
  putWorkflow(w: WorkflowView): void {
    const copy = { ...w, steps: w.steps.map((st) => ({ ...st })) };
    const list = this.viewParts.workflows;
    const i = list.findIndex((x) => x.id === w.id);
    if (i >= 0) list[i] = copy;
    else {
      list.push(copy);
      if (list.length > 20) list.splice(0, list.length - 20);
    }
    this.bump();
  }

  setWorkload(w: WorkloadView | null): void {
    this.viewParts.workload = w;
    this.bump();
  }

  setChecker(c: CheckerView): void {
    this.viewParts.checker = c;
    this.bump();
  }

  /** setScenario shows a scenario run (a copy) or none. */
  setScenario(run: ScenarioRun | null): void {
    this.viewParts.scenario = run ? { ...run, steps: run.steps.map((st) => ({ ...st })) } : null;
    this.bump();
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
    if (existing) {
      this.manifest = existing;
      if (nodeFlags !== undefined) {
        existing.nodeFlags = nodeFlags;
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
      saveManifest(this.dir, this.manifest);
      this.event(
        null,
        'process',
        `created cluster ${this.manifest.clusterId} with ${this.options.nodes ?? 3} nodes in ${this.dir}`,
      );
    }
    const members = this.manifest.nodes.filter((n) => n.state === 'member');
    for (const rec of members) this.manage(rec);
    this.pushTimer = setInterval(() => this.maybePush(), 50);
    this.pushTimer.unref();
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
    if (this.pushTimer) clearInterval(this.pushTimer);
    this.releaseFolder();
    this.state = 'stopped';
    this.bump();
    this.maybePush();
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
    ];
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
    // The node reads the secret from its data dir, never from its arguments or environment.
    giveNodePeerSecret(this.nodeDir(m.rec), this.peerSecret as Buffer);
    await m.proc.start();
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
      link.subscribe(
        { status: true, events: true, hz: 20 },
        {
          status: (s) => {
            m.status = s;
            m.statusAt = Date.now();
            this.bump();
          },
          event: (e) => this.onNodeEvent(m.rec.id, e),
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
  }

  setAutoRestart(id: NodeId, on: boolean): void {
    this.get(id).autoRestart = on;
    this.event(id, 'process', `auto-restart ${on ? 'on' : 'off'} for node ${id}`);
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
    const did: string[] = [];
    const partitioned = this.faults.partitions !== null;
    const isolated = [...this.nodes.keys()].filter((id) => this.faults.of(id).isolated);
    const ruled = [...this.nodes.keys()].filter((id) => this.faults.of(id).customRules.length > 0);
    for (const m of this.nodes.values()) {
      const id = m.rec.id;
      if (m.proc.state === 'paused') {
        this.resume(id);
        did.push(`resumed node ${id}`);
      }
      if (this.faults.of(id).fsyncDelayMs > 0) did.push(`restored the disk of node ${id}`);
      this.faults.setFsyncDelay(id, 0);
      if (m.admin) await m.admin.call('set-fsync-delay', { ms: 0 }).catch(() => undefined);
    }
    await this.heal();
    if (partitioned) did.push('healed the partition');
    for (const id of isolated) did.push(`reconnected node ${id}`);
    for (const id of ruled) did.push(`cleared the link rules of node ${id}`);
    const failed: string[] = [];
    for (const m of this.nodes.values()) {
      if (m.rec.state !== 'member' || m.proc.running) continue;
      if (m.startRefused !== null || this.lostData(m.rec) !== null) {
        failed.push(`node ${m.rec.id} was not started: its data folder is gone (replace it)`);
        continue;
      }
      try {
        await this.startNode(m.rec.id);
        did.push(`started node ${m.rec.id} again`);
      } catch (e) {
        failed.push(`node ${m.rec.id} did not start: ${(e as Error).message}`);
      }
    }
    const summary = describeCleared(did, failed);
    this.event(null, 'fault', `cleared all faults: ${summary}`);
    return { summary, failed };
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
    };
  }

  /** view: the cluster as the dashboard shows it (main/view/projection.ts). */
  view(): ClusterView {
    return projectView(this.projectionInput());
  }

  /** bump marks the view changed; it is pushed within 50 ms (so at most 20 Hz). */
  bump(): void {
    this.version++;
  }

  private maybePush(): void {
    if (this.version === this.lastPushed) return;
    this.lastPushed = this.version;
    this.emit('view', this.view());
  }

  onView(cb: (v: ClusterView) => void): () => void {
    this.on('view', cb);
    return () => this.off('view', cb);
  }

  onEvent(cb: (e: ClusterEvent) => void): () => void {
    this.on('event', cb);
    return () => this.off('event', cb);
  }

  eventsSince(seq: number): ClusterEvent[] {
    return this.events.filter((e) => e.seq > seq);
  }

  allEvents(): ClusterEvent[] {
    return [...this.events];
  }

  /** event appends to the cluster's ordered event stream. */
  event(
    node: NodeId | null,
    kind: EventKind,
    message: string,
    data?: Record<string, unknown>,
  ): ClusterEvent {
    const e: ClusterEvent = {
      seq: ++this.eventSeq,
      time: Date.now(),
      node,
      kind,
      message,
      ...(data ? { data } : {}),
    };
    this.events.push(e);
    if (this.events.length > 20_000) this.events.splice(0, this.events.length - 20_000);
    this.bump();
    this.emit('event', e);
    return e;
  }

  /** onNodeEvent narrates a node's own event into the cluster's stream (main/cluster/narration.ts). */
  private onNodeEvent(id: NodeId, e: NodeEvent): void {
    const l = narrate(id, e);
    if (l) this.event(id, l.kind, l.message, { ...e } as Record<string, unknown>);
  }
}
