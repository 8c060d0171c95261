/**
 * attached: an etcd cluster raftdeck did not start, reached by its client endpoints. It finds
 * every member from any one endpoint (the member list names their client URLs), numbers them with
 * NodeIds in member id order (a member that joins later gets the next number; the map is kept
 * for the whole session), polls each reachable member at most once per pollMs (1 s by default)
 * and projects what they report into the one ClusterView. Events come from comparing one poll
 * with the previous one: leader and term changes, members added, removed or promoted, alarms,
 * members that stop or start answering. The event stream, the view parts and the view's push are
 * EngineBase's (a view is pushed after each poll cycle); membership changes show as the same
 * Workflow steps as on raftdeck's own nodes.
 *
 * Read-only by default: no process or network faults ever (raftdeck has neither the processes nor
 * the network between them), and no change of membership or data unless `allowChanges`:
 * then removeNode, transferLeader, addLearner and promote change the membership, and kvSession
 * and the workload may write.
 */
import type { Etcd3 } from 'etcd3';
import type {
  ClusterView,
  EngineFeature,
  EngineView,
  LinkRule,
  NodeId,
  PaceView,
  WorkflowView,
} from '../../contract/view';
import { projectView, type MemberInput } from '../../view/projection';
import { REAL_TIME } from '../../view/topology';
import {
  EngineUnavailable,
  refuseUnavailable,
  type ClusterEngine,
  type KvSession,
  type KvSessionOptions,
  type WorkflowRun,
} from '../engine';
import { EngineBase } from '../engine-base';
import { Workflow, WorkflowError, WorkflowUnknownError } from '../workflows';
import { hostOf, openEtcdClient, type EtcdAuth, type EtcdTls } from './etcd-client';
import { classify, EtcdKvSession } from './etcd-kv';
import {
  etcdStatLines,
  followersSeenBy,
  compareMemberIds,
  memberReport,
  memberStats,
  membersOf,
  pollMember,
  type EtcdAlarm,
  type EtcdMember,
  type EtcdMemberStats,
  type EtcdPoll,
} from './etcd-status';

/** AttachedEtcdOptions: how to reach the cluster and what raftdeck may do to it. */
export interface AttachedEtcdOptions {
  /** endpoints: client URLs (http:// or https://) of one or more members. */
  endpoints: string[];
  tls?: EtcdTls;
  auth?: EtcdAuth;
  /** allowChanges: membership changes and writes are allowed (default false: read-only). */
  allowChanges?: boolean;
  /** pollMs: the time between two polls of one member (default and minimum advised: 1000). */
  pollMs?: number;
  /** timeoutMs: how long one call to a member may take (default 2000). */
  timeoutMs?: number;
  /** changeTimeoutMs: how long a workflow waits to see its change in the polls (default 15 000). */
  changeTimeoutMs?: number;
}

/** NOT_STARTED: why process and disk faults are unavailable on an attached cluster. */
const NOT_STARTED = "raftdeck did not start this cluster's processes";
/** NEEDS_CHANGES: why a change is refused on an attached cluster attached read-only. */
const NEEDS_CHANGES =
  'the cluster is attached read-only: changes need --allow-changes (and a confirmation)';

/**
 * attachedUnavailable: the features an attached etcd cluster cannot offer, with the reasons.
 * Writes count as changes: the key-value console and the workload write into the cluster's data.
 */
export function attachedUnavailable(allowChanges: boolean): Partial<Record<EngineFeature, string>> {
  const net =
    "network faults need raftdeck's proxies between the members, which only a cluster it starts has";
  return {
    kill: NOT_STARTED,
    stop: NOT_STARTED,
    restart: NOT_STARTED,
    pause: NOT_STARTED,
    autoRestart: NOT_STARTED,
    isolate: net,
    partition: net,
    linkRules: net,
    typeRules: "message-type rules need raftdeck's own transport",
    slowDisk: `${NOT_STARTED}: it cannot slow their disks`,
    addNode:
      'an attached cluster gains a member by the peer URL of an etcd started on its host (add learner by peer URL, then promote)',
    replaceNode: `${NOT_STARTED}: it cannot start a fresh member in a member's place`,
    scenarios: `scenarios break members, and ${NOT_STARTED}`,
    pace: 'an attached cluster runs at real time',
    messages: 'etcd does not report the messages its members send',
    linkDetail: 'etcd reports bytes per peer, not messages per link',
    nodeLogs: "an attached cluster's logs are on its hosts",
    logEntries: 'etcd does not expose its Raft log entries',
    ...(allowChanges
      ? {}
      : {
          removeNode: NEEDS_CHANGES,
          transferLeader: NEEDS_CHANGES,
          kv: `writes change the cluster's data: ${NEEDS_CHANGES}`,
          workload: `the workload writes into the cluster's data: ${NEEDS_CHANGES}`,
        }),
  };
}

/** AttachedMember: one member of an attached cluster (see AttachedEtcd.memberList). */
export interface AttachedMember {
  id: NodeId;
  /** memberId: etcd's member id in decimal; hexId: the same in hex, as etcdctl prints it. */
  memberId: string;
  hexId: string;
  name: string;
  /** clientUrl: '' until the member has started and published one. */
  clientUrl: string;
  peerUrls: string[];
  learner: boolean;
  removed: boolean;
}

/** Tracked: one member as this session knows it. */
interface Tracked {
  id: NodeId;
  memberId: string;
  member: EtcdMember;
  founding: boolean;
  removed: boolean;
  client: Etcd3 | null;
  clientUrl: string;
  poll: EtcdPoll | null;
  previous: EtcdPoll | null;
  stats: EtcdMemberStats | null;
  /** error: why the latest poll failed ('' when it answered). */
  error: string;
  polling: boolean;
  /** answered: the member has answered once (events say "back" only after that). */
  answered: boolean;
}

/** rank: how good a member is to send a cluster call to (the leader 2, one that answered 1). */
function rank(t: Tracked): number {
  if (t.poll === null) return 0;
  return t.poll.status.leader === t.poll.status.memberId ? 2 : 1;
}

/** describeError: etcd's or the connection's error, naming TLS when the handshake failed. */
export function describeError(e: unknown, endpoint: string): string {
  // grpc-js ends some messages with an empty "Resolution note:".
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*Resolution note:\s*$/, '');
  if (
    /certificate|SSL|TLS|handshake|self[- ]signed|wrong version number|ERR_TLS|alert/i.test(msg)
  ) {
    return `TLS connection to ${endpoint} failed: ${msg} (check --cacert, --cert and --key)`;
  }
  return `${endpoint}: ${msg}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** AttachedEtcd: see the top of this file. */
export class AttachedEtcd extends EngineBase implements ClusterEngine {
  readonly dir = '';
  /**
   * timing: etcd does not report its heartbeat interval or election timeout to clients, so an
   * attached cluster is taken to run etcd's defaults (100 ms and 1000 ms).
   */
  readonly timing = { heartbeatMs: 100, electionMs: 1000 };
  /** recordLimitMiB: 0: an attached cluster's recording is kept in memory only. */
  readonly recordLimitMiB = 0;
  private id = '';
  private st: ClusterView['state'] = 'starting';
  private etcdVersion = '';
  private readonly members = new Map<string, Tracked>();
  private readonly ids = new Map<string, NodeId>();
  /** seen: the leader and term of the latest poll cycle (null before the first). */
  private seen: { leader: NodeId; term: number } | null = null;
  private alarms = new Set<string>();
  /** cluster: the latest member list and alarms (from the leader's poll, else a voter's). */
  private cluster: { members: EtcdMember[]; alarms: EtcdAlarm[] } = { members: [], alarms: [] };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cycleDone: Promise<void> = Promise.resolve();
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly changeTimeoutMs: number;
  private readonly allowChanges: boolean;

  constructor(private readonly options: AttachedEtcdOptions) {
    super();
    if (options.endpoints.length === 0) throw new TypeError('attach needs at least one endpoint');
    this.pollMs = options.pollMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.changeTimeoutMs = options.changeTimeoutMs ?? 15_000;
    this.allowChanges = options.allowChanges === true;
    // Validate the endpoints (scheme, TLS) before anything connects.
    this.open(options.endpoints).close();
  }

  get clusterId(): string {
    return this.id;
  }

  get state(): ClusterView['state'] {
    return this.st;
  }

  get pace(): PaceView {
    return REAL_TIME;
  }

  engineView(): EngineView {
    return {
      kind: 'etcd',
      version: this.etcdVersion,
      mode: 'attached',
      unavailable: attachedUnavailable(this.allowChanges),
      endpoints: [...this.options.endpoints],
    };
  }

  /**
   * start finds the members from the first endpoint that answers its member list, polls them all
   * once and starts polling. Rejects when no endpoint answers, with each endpoint's error (a
   * failed TLS handshake is named as such).
   */
  async start(): Promise<void> {
    if (this.st !== 'starting') return;
    const errors: string[] = [];
    let found: EtcdMember[] | undefined;
    for (const ep of this.options.endpoints) {
      const c = this.open([ep]);
      try {
        const r = await c.cluster.memberList({}, { deadline: Date.now() + this.timeoutMs });
        this.id = BigInt(r.header.cluster_id).toString(16);
        found = membersOf(r);
        break;
      } catch (e) {
        errors.push(describeError(e, ep));
      } finally {
        c.close();
      }
    }
    if (found === undefined) {
      this.st = 'stopped';
      throw new Error(`cannot reach the etcd cluster: ${errors.join('; ')}`);
    }
    for (const m of found) this.track(m, true);
    this.st = 'running';
    this.startPushing();
    await this.cycle();
    this.schedule();
  }

  /** stop ends the polls and closes every client; idempotent. */
  async stop(): Promise<void> {
    if (this.st === 'stopped') return;
    this.st = 'stopping';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.cycleDone;
    for (const t of this.members.values()) t.client?.close();
    this.st = 'stopped';
    this.stopPushing();
    this.bump();
    this.pushView();
  }

  view(): ClusterView {
    return this.project();
  }

  setPace(_pace: number, _fastFailover: boolean): Promise<void> {
    return this.refused('pace');
  }

  leaderId(): NodeId {
    return this.view().leader;
  }

  /** pids: none: raftdeck runs no process of an attached cluster. */
  pids(): number[] {
    return [];
  }

  /** memberStats: each member's figures from its latest poll, by NodeId (none while unreachable). */
  memberStats(): Map<NodeId, EtcdMemberStats> {
    const out = new Map<NodeId, EtcdMemberStats>();
    for (const t of this.members.values()) if (t.stats && t.poll) out.set(t.id, t.stats);
    return out;
  }

  /**
   * memberList: the members as this session knows them, by NodeId: etcd's member id (decimal and
   * in hex, as etcdctl prints it), name, URLs, learner or removed.
   */
  memberList(): AttachedMember[] {
    return [...this.members.values()]
      .sort((a, b) => a.id - b.id)
      .map((t) => ({
        id: t.id,
        memberId: t.memberId,
        hexId: BigInt(t.memberId).toString(16),
        name: t.member.name,
        clientUrl: t.clientUrl,
        peerUrls: [...t.member.peerUrls],
        learner: t.member.isLearner,
        removed: t.removed,
      }));
  }

  /** memberIdOf: etcd's member id (decimal) of NodeId `id`; throws for an unknown id. */
  memberIdOf(id: NodeId): string {
    return this.get(id).memberId;
  }

  kill(_id: NodeId): Promise<void> {
    return this.refused('kill');
  }
  stopNode(_id: NodeId): Promise<void> {
    return this.refused('stop');
  }
  restart(_id: NodeId): Promise<void> {
    return this.refused('restart');
  }
  pause(_id: NodeId): void {
    refuseUnavailable(this, 'pause');
  }
  resume(_id: NodeId): void {
    refuseUnavailable(this, 'pause');
  }
  setAutoRestart(_id: NodeId, _on: boolean): void {
    refuseUnavailable(this, 'autoRestart');
  }
  isolate(_id: NodeId): Promise<void> {
    return this.refused('isolate');
  }
  partition(_groups: NodeId[][]): Promise<void> {
    return this.refused('partition');
  }
  heal(): Promise<void> {
    return this.refused('partition');
  }
  setLinkRules(_id: NodeId, _rules: LinkRule[]): Promise<void> {
    return this.refused('linkRules');
  }
  /** linkRules: none: raftdeck sets no rules on an attached cluster. */
  linkRules(_id: NodeId): LinkRule[] {
    return [];
  }
  setSlowDisk(_id: NodeId, _ms: number): Promise<void> {
    return this.refused('slowDisk');
  }
  /** clearAllFaults: there are none to clear (raftdeck makes no faults on an attached cluster). */
  clearAllFaults(): Promise<{ summary: string; failed: string[] }> {
    return Promise.resolve({
      summary: 'no faults: raftdeck makes none on an attached cluster',
      failed: [],
    });
  }
  addNode(): Promise<WorkflowRun> {
    return this.refused('addNode');
  }
  replaceNode(_id: NodeId): Promise<WorkflowRun> {
    return this.refused('replaceNode');
  }

  /**
   * removeNode removes member `id` from the cluster (MemberRemove, sent to a member that answers)
   * and waits until the member list no longer names it. etcd refuses a removal that would leave
   * the cluster without a quorum of started members; that answer ends the workflow as failed.
   */
  async removeNode(id: NodeId): Promise<WorkflowRun> {
    refuseUnavailable(this, 'removeNode');
    const t = this.get(id);
    if (t.removed) throw new Error(`node ${id} was removed from the cluster already`);
    const steps = new Workflow(this, 'remove-node', id, [
      'remove from the configuration',
      'the member list no longer names it',
    ]);
    const run = (async (): Promise<WorkflowView> => {
      try {
        steps.begin(0, `member ${t.memberId}`);
        await this.change(`remove member ${t.memberId}`, null, (c, o) =>
          c.cluster.memberRemove({ ID: t.memberId }, o),
        );
        steps.begin(1);
        await this.waitFor(() => t.removed, `node ${id} to leave the member list`);
        return steps.done();
      } catch (e) {
        return steps.end(e as Error);
      }
    })();
    return { view: steps.view, run };
  }

  /**
   * transferLeader asks the leader to hand leadership to `id` (MoveLeader, which etcd takes only
   * on the leader's endpoint) and waits until the polls show `id` leading.
   */
  async transferLeader(id: NodeId): Promise<WorkflowRun> {
    refuseUnavailable(this, 'transferLeader');
    const t = this.get(id);
    if (t.removed) throw new Error(`node ${id} is not a member any more`);
    const steps = new Workflow(this, 'transfer-leader', id, [
      'catch up and hand over',
      `node ${id} leads`,
    ]);
    const run = (async (): Promise<WorkflowView> => {
      try {
        steps.begin(0);
        const leader = this.view().leader;
        if (leader === 0) throw new WorkflowError('the cluster has no leader to hand over');
        if (leader === id) steps.skip(0, `node ${id} leads already`);
        else {
          const lt = this.get(leader);
          await this.change(`move the leadership to member ${t.memberId}`, lt, (c, o) =>
            c.maintenance.moveLeader({ targetID: t.memberId }, o),
          );
        }
        steps.begin(1);
        await this.waitFor(() => this.view().leader === id, `node ${id} to lead`);
        return steps.done();
      } catch (e) {
        return steps.end(e as Error);
      }
    })();
    return { view: steps.view, run };
  }

  /**
   * addLearner adds a learner with peer URL `peerUrl` (MemberAdd); the etcd at that URL is
   * started by whoever runs the cluster, with --initial-cluster-state existing. Resolves with the
   * NodeId given to the new member and its etcd member id. Needs allowChanges.
   */
  async addLearner(peerUrl: string): Promise<{ id: NodeId; memberId: string }> {
    if (!this.allowChanges) throw new EngineUnavailable('addNode', NEEDS_CHANGES);
    if (!/^https?:\/\/[^/]+:\d+\/?$/.test(peerUrl)) {
      throw new TypeError(`peer URL ${JSON.stringify(peerUrl)} must be http(s)://host:port`);
    }
    const r = await this.change(`add a learner at ${peerUrl}`, null, (c, o) =>
      c.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, o),
    );
    const t = this.track(
      {
        id: String(r.member.ID),
        name: r.member.name ?? '',
        peerUrls: [...(r.member.peerURLs ?? [peerUrl])],
        clientUrls: [...(r.member.clientURLs ?? [])],
        isLearner: true,
      },
      false,
    );
    this.event(t.id, 'config', `node ${t.id} added as a learner (peer ${peerUrl})`, {
      memberId: t.memberId,
      peerUrls: [peerUrl],
    });
    this.bump();
    return { id: t.id, memberId: t.memberId };
  }

  /**
   * promote makes learner `id` a voter (MemberPromote) and waits until the member list says so.
   * etcd refuses a learner that is not in sync with the leader; that answer ends the workflow
   * as failed, with etcd's words. Needs allowChanges.
   */
  async promote(id: NodeId): Promise<WorkflowRun> {
    if (!this.allowChanges) throw new EngineUnavailable('addNode', NEEDS_CHANGES);
    const t = this.get(id);
    if (!t.member.isLearner) throw new Error(`node ${id} is not a learner`);
    const steps = new Workflow(this, 'add-node', id, [
      'promote to voter',
      'the member list names it a voter',
    ]);
    const run = (async (): Promise<WorkflowView> => {
      try {
        steps.begin(0, `member ${t.memberId}`);
        await this.change(`promote member ${t.memberId}`, null, (c, o) =>
          c.cluster.memberPromote({ ID: t.memberId }, o),
        );
        steps.begin(1);
        await this.waitFor(() => !t.member.isLearner, `node ${id} to become a voter`);
        return steps.done();
      } catch (e) {
        return steps.end(e as Error);
      }
    })();
    return { view: steps.view, run };
  }

  /**
   * kvSession: a KvSession on the voters' client URLs (a learner serves no linearizable reads or
   * writes); needs allowChanges, since writes change the cluster's data.
   */
  kvSession(options: KvSessionOptions): KvSession {
    refuseUnavailable(this, 'kv');
    const urls = [...this.members.values()]
      .filter((t) => !t.removed && !t.member.isLearner && t.clientUrl !== '')
      .map((t) => t.clientUrl);
    const via = options.via !== undefined ? this.get(options.via).clientUrl : undefined;
    if (options.via !== undefined && !via) {
      throw new Error(`node ${options.via} has no client URL (it has not started)`);
    }
    return new EtcdKvSession({
      endpoints: urls.length > 0 ? urls : [...this.options.endpoints],
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...(this.options.auth ? { auth: this.options.auth } : {}),
      clientId: options.clientId,
      timeoutMs: options.timeoutMs,
      ...(via ? { via } : {}),
    });
  }

  private refused(feature: EngineFeature): Promise<never> {
    try {
      refuseUnavailable(this, feature);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return Promise.reject(new EngineUnavailable(feature, `${feature} is not available here`));
  }

  private open(endpoints: string[]): Etcd3 {
    return openEtcdClient({
      endpoints,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...(this.options.auth ? { auth: this.options.auth } : {}),
      dialTimeoutMs: this.timeoutMs,
    });
  }

  private get(id: NodeId): Tracked {
    for (const t of this.members.values()) if (t.id === id) return t;
    throw new Error(`no node ${id} in this cluster`);
  }

  /** idOf: the NodeId of member `memberId`, numbering a member seen for the first time. */
  private idOf = (memberId: string): NodeId => {
    let id = this.ids.get(memberId);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(memberId, id);
    }
    return id;
  };

  private track(m: EtcdMember, founding: boolean): Tracked {
    const known = this.members.get(m.id);
    if (known) return known;
    const t: Tracked = {
      id: this.idOf(m.id),
      memberId: m.id,
      member: m,
      founding,
      removed: false,
      client: null,
      clientUrl: m.clientUrls[0] ?? '',
      poll: null,
      previous: null,
      stats: null,
      error: m.clientUrls.length === 0 ? 'no client URL yet: the member has not started' : '',
      polling: false,
      answered: false,
    };
    this.members.set(m.id, t);
    return t;
  }

  /**
   * change sends one membership call to `to` (else to each live member in turn until one takes
   * it). A call refused before it was sent moves on; one that may have been carried out without
   * an answer is a WorkflowUnknownError; etcd's refusal is a WorkflowError with its words.
   */
  private async change<T>(
    what: string,
    to: Tracked | null,
    call: (c: Etcd3, o: { deadline: number }) => Promise<T>,
  ): Promise<T> {
    const targets = to
      ? [to]
      : // A learner answers cluster calls with "rpc not supported for learner": voters only,
        // the leader first, then those that answered the latest poll.
        [...this.members.values()]
          .filter((t) => !t.removed && !t.member.isLearner && t.clientUrl !== '')
          .sort((a, b) => rank(b) - rank(a));
    const errors: string[] = [];
    for (const t of targets) {
      const c = this.open([t.clientUrl]);
      try {
        return await call(c, { deadline: Date.now() + this.timeoutMs });
      } catch (e) {
        const f = classify(e);
        const msg = describeError(e, hostOf(t.clientUrl));
        // etcd's refusal (unhealthy cluster: a voter was not connected for the last 5 s; not
        // enough started members…) is its answer; only a member that could not be reached
        // sends the call on to the next one.
        if (f.refused && !/etcdserver: /.test(msg)) {
          errors.push(msg);
          continue;
        }
        // etcd's own refusal (not in sync, not enough started members, no such member…) is
        // final; anything else after sending (no answer, leader changed, request timed out,
        // connection lost) leaves the change unknown.
        const answered = /etcdserver: (?!leader changed|request timed out)/.test(msg);
        if (f.sent && !answered) {
          throw new WorkflowUnknownError(`${what}: no answer (${msg}); it may still take effect`);
        }
        throw new WorkflowError(`${what}: ${msg}`);
      } finally {
        c.close();
      }
    }
    throw new WorkflowError(`${what}: no member took the request (${errors.join('; ')})`);
  }

  private async waitFor(ok: () => boolean, what: string): Promise<void> {
    const end = Date.now() + this.changeTimeoutMs;
    while (!ok()) {
      if (this.st !== 'running') throw new WorkflowError(`stopped while waiting for ${what}`);
      if (Date.now() > end) {
        throw new WorkflowUnknownError(`${what}: not seen within ${this.changeTimeoutMs / 1000} s`);
      }
      await sleep(100);
    }
  }

  private schedule(): void {
    if (this.st !== 'running') return;
    this.timer = setTimeout(() => {
      const t0 = Date.now();
      this.cycleDone = this.cycle().finally(() => {
        if (this.st !== 'running') return;
        // At most one poll per member per pollMs, however long a cycle took.
        const rest = Math.max(0, this.pollMs - (Date.now() - t0));
        this.timer = setTimeout(() => this.schedule(), rest);
      });
    }, 0);
  }

  /**
   * cycle polls every member with a client URL once, then takes in all the answers at once,
   * merges them and derives the leader and term events: the view shows the members as of whole
   * poll cycles, so nothing sees a new leader before its event is in the stream.
   */
  private async cycle(): Promise<void> {
    const targets = [...this.members.values()].filter(
      (t) => !t.removed && t.clientUrl !== '' && !t.polling,
    );
    const answers = await Promise.all(targets.map((t) => this.pollOne(t)));
    if (this.st !== 'running') return;
    for (const a of answers) this.takeIn(a);
    this.merge();
    this.bump();
    this.leaderEvents();
  }

  /** pollOne polls member `t` once: its poll, or why it did not answer. */
  private async pollOne(
    t: Tracked,
  ): Promise<{ t: Tracked; poll: EtcdPoll } | { t: Tracked; error: string }> {
    t.polling = true;
    t.client ??= this.open([t.clientUrl]);
    try {
      const poll = await pollMember(t.client, t.clientUrl, {
        timeoutMs: this.timeoutMs,
        ...(this.options.tls ? { tls: this.options.tls } : {}),
      });
      return { t, poll };
    } catch (e) {
      return { t, error: describeError(e, hostOf(t.clientUrl)) };
    } finally {
      t.polling = false;
    }
  }

  /** takeIn records one member's answer (or its error) and says when it stops or starts answering. */
  private takeIn(a: { t: Tracked; poll: EtcdPoll } | { t: Tracked; error: string }): void {
    const t = a.t;
    if (t.removed) return;
    if ('poll' in a) {
      const p = a.poll;
      t.previous = t.poll ?? t.previous;
      t.poll = p;
      t.stats = memberStats(p, t.previous, this.idOf, this.cluster);
      if (p.status.version) this.etcdVersion = p.status.version;
      if (t.error !== '' && t.answered) {
        this.event(t.id, 'process', `node ${t.id} answers again`);
      }
      t.error = '';
      t.answered = true;
      return;
    }
    const msg = a.error;
    if (t.error === '' || (t.poll !== null && t.error !== msg)) {
      this.event(t.id, 'process', `node ${t.id} unreachable: ${msg}`, { error: msg });
    }
    t.previous = t.poll ?? t.previous;
    t.poll = null;
    t.stats = null;
    t.error = msg;
  }

  /**
   * merge takes the member list of the leader's poll (else of the member with the highest raft
   * index) as the cluster's, and compares it with what was known: added, removed, promoted
   * members; new client URLs. Then the alarms.
   */
  private merge(): void {
    // A learner lists neither members nor alarms (see EtcdPoll).
    const polls = [...this.members.values()].flatMap((t) =>
      t.poll?.members && t.poll.alarms
        ? [{ ...t.poll, members: t.poll.members, alarms: t.poll.alarms }]
        : [],
    );
    if (polls.length === 0) return;
    const from =
      polls.find((p) => p.status.leader === p.status.memberId) ??
      polls.reduce((a, b) => (b.status.raftIndex > a.status.raftIndex ? b : a));
    this.cluster = { members: from.members, alarms: from.alarms };
    const listed = new Map(from.members.map((m) => [m.id, m]));
    for (const m of [...from.members].sort((a, b) => compareMemberIds(a.id, b.id))) {
      const known = this.members.get(m.id);
      if (!known) {
        const t = this.track(m, false);
        this.event(
          t.id,
          'config',
          `node ${t.id} joined as ${m.isLearner ? 'a learner' : 'a voter'}`,
          {
            memberId: m.id,
            peerUrls: m.peerUrls,
          },
        );
        continue;
      }
      if (known.member.isLearner && !m.isLearner) {
        this.event(known.id, 'config', `node ${known.id} promoted from learner to voter`);
      }
      known.member = m;
      if (known.clientUrl === '' && m.clientUrls[0]) {
        known.clientUrl = m.clientUrls[0];
        known.error = '';
      }
    }
    for (const t of this.members.values()) {
      if (t.removed || listed.has(t.memberId)) continue;
      t.removed = true;
      t.poll = null;
      t.stats = null;
      t.client?.close();
      t.client = null;
      this.event(t.id, 'config', `node ${t.id} removed from the cluster`, {
        memberId: t.memberId,
      });
    }
    const alarms = new Set(from.alarms.map((a) => `${a.memberId}:${a.alarm}`));
    for (const a of from.alarms) {
      const key = `${a.memberId}:${a.alarm}`;
      if (this.alarms.has(key)) continue;
      const id = this.idOf(a.memberId);
      this.event(id, 'storage', `alarm ${a.alarm} raised on node ${id}`, { alarm: a.alarm });
    }
    for (const key of this.alarms) {
      if (alarms.has(key)) continue;
      const [memberId, alarm] = key.split(':') as [string, string];
      const id = this.idOf(memberId);
      this.event(id, 'storage', `alarm ${alarm} on node ${id} cleared`, { alarm });
    }
    this.alarms = alarms;
  }

  private inputs(): MemberInput[] {
    return [...this.members.values()].map((t) => {
      const report = t.poll
        ? {
            ...memberReport(t.poll.status, t.poll.members ?? this.cluster.members, this.idOf, {
              metrics: t.poll.metrics,
            }),
            ...(t.stats ? { engineStats: etcdStatLines(t.stats) } : {}),
          }
        : null;
      const lastLines = t.removed ? ['removed from the cluster'] : t.error ? [t.error] : [];
      return {
        id: t.id,
        founding: t.founding,
        removed: t.removed,
        // raftdeck does not see the process; a member counts as running unless removed, and
        // shows unreachable while it does not answer.
        running: !t.removed,
        process: {
          state: t.removed ? 'stopped' : 'running',
          pid: null,
          exitCode: null,
          signal: null,
          restarts: 0,
          startedAt: null,
          autoRestart: false,
          lastLines,
          commandLine: [],
        },
        addresses: {
          peer: t.member.peerUrls[0] ? hostOf(t.member.peerUrls[0]) : '',
          client: t.clientUrl ? hostOf(t.clientUrl) : '',
          admin: '',
        },
        dataDir: '',
        startRefused: null,
        report,
        reportAt: t.poll?.at ?? 0,
      };
    });
  }

  private project(): ClusterView {
    const members = this.inputs();
    followersSeenBy(members, null);
    return projectView({
      clusterId: this.id,
      dataDir: '',
      version: this.version,
      now: Date.now(),
      state: this.st,
      members,
      faults: { partitions: null, nodes: new Map() },
      parts: {
        ...this.viewParts,
        workflows: this.viewParts.workflows.map((w) => ({
          ...w,
          steps: w.steps.map((s) => ({ ...s })),
        })),
      },
      // A report is as old as the poll that brought it: allow two polls and a slow answer.
      thresholds: { staleStatusMs: Math.max(2000, 2 * this.pollMs + this.timeoutMs) },
      engine: this.engineView(),
    });
  }

  /** leaderEvents compares the view of this poll cycle with the last: term and leader changes. */
  private leaderEvents(): void {
    const v = this.project();
    const before = this.seen;
    this.seen = { leader: v.leader, term: v.term };
    if (!before) {
      if (v.leader !== 0) {
        this.event(v.leader, 'leader', `node ${v.leader} leads in term ${v.term}`, {
          term: v.term,
        });
      }
      return;
    }
    if (v.term > before.term) {
      this.event(null, 'election', `term ${v.term}`, { term: v.term, was: before.term });
    }
    if (v.leader !== before.leader) {
      if (v.leader === 0) this.event(null, 'leader', `no leader (was node ${before.leader})`);
      else {
        this.event(v.leader, 'leader', `node ${v.leader} leads in term ${v.term}`, {
          term: v.term,
          was: before.leader,
        });
      }
    }
  }
}
