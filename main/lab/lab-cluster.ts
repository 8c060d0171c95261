import { ReadTags } from '../node/read-tags';
import { isMember, quorum } from '../raft/conf';
import { headerOf } from '../raft/message-header';
import type { MessageHeader } from '../raft/message-header';
import { RawNode } from '../raft/raw-node';
import { seededRng } from '../raft/rng';
import type {
  ConfChange,
  Entry,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  RaftEvent,
  ReadState,
  Ready,
  Role,
  Snapshot,
} from '../raft/types';
import type { LabFailure } from '../contract/view';
import { less, MinHeap } from './event-queue';
import { failureOf, FAILURES_KEPT } from './invariants';
import type { Invariant } from './invariants';
import { LabKv } from './lab-kv';
import type { LabKvResult } from './lab-kv';
import { DiskFiles, InjectedIoError, SimStorage, STORAGE_MUTATIONS } from './sim-storage';
import type { DiskTiming, SimStorageStats, StorageMutation } from './sim-storage';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Disk is what a simulated node would read back from its data dir if it restarted now. */
export interface Disk {
  hardState: HardState;
  entries: Entry[];
  snapshot: Snapshot | undefined;
}

/** StateMachine of a simulated node: a rolling hash over applied payloads, plus the applied index. */
export interface SimStateMachine {
  index: number;
  hash: number;
}

/**
 * HostMode selects the host the simulator runs each node in:
 *  - 'real' models main/node/raft-node.ts on main/node/storage/file-storage.ts: one Ready at a
 *    time, persisted asynchronously (a flush takes time; inputs meanwhile go into the next Ready,
 *    which is group commit), a leader's appends and heartbeats sent before its own fsync, every
 *    other message after it, commit-only Readies not synced, its own snapshots written beside
 *    the Ready loop, crashes at any moment (losing the Ready in flight, with part of a flush on
 *    disk), the storage's load rules on restart, injected I/O errors that make a node exit and be
 *    restarted, TCP-like links (a peer's port refuses connections while its process is down,
 *    which makes a follower call leaderGone; messages to it are dropped until the link's backoff
 *    retries; a node keeps a link only to the members of its configuration and to nodes outside
 *    it that it sent to within two election timeouts), read tags that never repeat across
 *    restarts, and a node shutting down 300 ms after it has applied the configuration that
 *    removed it (the core's 'removed' event, learnt from its log or from a snapshot);
 *  - 'sync' is the original model: every Ready is persisted whole and at once (so crashes fall
 *    between Readies), then its messages are sent.
 */
export type HostMode = 'sync' | 'real';

/**
 * Mutation names a deliberate bug in the simulated host or store, to show the simulator catches
 * what it is meant to catch:
 *  - 'send-before-fsync': every message of a Ready leaves before its persistence starts (a
 *    follower acknowledges and a node grants its vote before either is durable);
 *  - 'advance-before-fsync': the host calls advance() before its fsync completes, so the core
 *    takes new entries as durable too early: a leader counts its own copy towards commit, and a
 *    later Ready may acknowledge them;
 *  - 'sync-entries-only': the host syncs only when a Ready carries entries or a snapshot, so a
 *    new term or vote alone stays buffered (lost by a crash) while the messages relying on it go;
 *  - 'read-tags-restart': every process numbers its reads from 1, as the node did before
 *    ReadTags: a late answer to a read of the previous process can serve a new read;
 *  - the store's: see StorageMutation ('commit-before-entries', 'snapshot-file-unrecorded',
 *    'open-without-sync', 'open-batch-kept', 'checkpoint-one-slot').
 * With the 'sync' host none of the three host bugs nor 'commit-before-entries' changes anything
 * at all (the same run, step for step): a Ready is durable before anything else can happen,
 * whatever the order inside it, and the 'sync' host syncs every Ready.
 */
export type Mutation =
  | 'send-before-fsync'
  | 'advance-before-fsync'
  | 'sync-entries-only'
  | 'read-tags-restart'
  | StorageMutation;

export const MUTATIONS: readonly Mutation[] = [
  'send-before-fsync',
  'advance-before-fsync',
  'sync-entries-only',
  'read-tags-restart',
  ...STORAGE_MUTATIONS,
];

/** Link is one node's outbound connection to a peer, as far as the simulation needs it. */
interface Link {
  /** retryAt: until then the link is down (backoff after a refused or closed connection). */
  retryAt: number;
  attempt: number;
  pending: boolean;
}

/**
 * SimNode is one simulated node: the process (Raft, state machine, host state), which a crash
 * replaces, and its data dir (`files`), which survives crashes.
 */
export class SimNode {
  raft!: RawNode;
  storage!: SimStorage;
  sm: SimStateMachine = { index: 0, hash: 0 };
  /** kv: the key-value store beside the hash, at the same applied index (see lab-kv.ts). */
  kv = new LabKv();
  alive = false;
  /** exited: the node learnt of its removal, applied it and shut down for good. */
  exited = false;
  /**
   * wasMember: a configuration in effect at this node's commit index included it, in any of its
   * processes (a node that never got that far is still joining, never removed).
   */
  wasMember = false;
  /** memberInProcess: the same, seen by the current process (it cannot tell otherwise). */
  memberInProcess = false;
  /** removedAt: the index of the configuration that removed it (the 'removed' event; 0: none). */
  removedAt = 0;
  /** removing: the node has applied its removal and shuts down shortly. */
  removing = false;
  /** readTags: the ctx of this process's reads (ReadTags, as the node's). */
  readTags!: ReadTags;
  /** strangers: nodes outside the configuration this process sent to, with when it last did. */
  strangers = new Map<NodeId, number>();
  /** maxCommit: the largest commit this process reached. */
  maxCommit = 0;
  readStates: ReadState[] = [];
  events: RaftEvent[] = [];
  /** inc: the incarnation; every crash and restart changes it, cancelling the old process's timers. */
  inc = 0;
  /** busy: a Ready is being carried out (the real host has one in flight at a time). */
  busy = false;
  /** snapshotTask: the node is writing a snapshot of its own. */
  snapshotTask = false;
  /** afterSnapshot: persisting a received snapshot waits for the node's own to be written. */
  afterSnapshot: (() => void)[] = [];
  durableTerm = 0;
  durableVote = 0;
  /** seenCommit: the commit index the checker last saw in this process. */
  seenCommit = 0;
  links = new Map<NodeId, Link>();
  inProcess = false;
  crashOnWrite = false;

  constructor(
    readonly id: NodeId,
    public files: DiskFiles,
    /** join: started empty, to be added by the leader; never bootstraps. */
    readonly join: boolean,
    readonly initialVoters: { id: NodeId; address: string }[] | undefined,
    /** tickMs: this node's clock period (nodes' clocks run at slightly different rates). */
    readonly tickMs: number,
  ) {}

  /** disk is what the node would read back from its data dir if it restarted now. */
  get disk(): Disk {
    const l = this.files.load();
    if ('error' in l) throw new Error(`node ${this.id}: ${l.error}`);
    const { hardState, snapshot, entries } = l.state;
    return { hardState, snapshot, entries: entries.slice() };
  }
}

export interface SimOptions {
  ids: NodeId[];
  seed: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTicks?: number;
  heartbeatTicks?: number;
  snapshotChunkBytes?: number;
  snapshotWindow?: number;
  maxMsgBytes?: number;
  maxInflight?: number;
  promoteGap?: number;
  /** compactEvery: the host snapshots once this many entries were applied since the last snapshot (0: never). */
  compactEvery?: number;
  compactKeep?: number;
  /** snapshotPad: bytes of filler in each state-machine image, so transfers take several chunks. */
  snapshotPad?: number;
  /** tickMs: simulated milliseconds per tick. */
  tickMs?: number;
  /** tickSkew: each node's tick period is tickMs times a factor drawn in [1 - skew, 1 + skew]. */
  tickSkew?: number;
  /** delay: [min, max] simulated ms a message spends in flight. */
  delay?: [number, number];
  /** keepEvents: keep every node's Raft events (tests read them). */
  keepEvents?: boolean;
  /** host: the host model (default 'sync'; the randomized runs use 'real'). */
  host?: HostMode;
  /** disk: how long the real host's disk takes (ignored by the 'sync' host). */
  disk?: DiskTiming;
  /** encodeMs: [min, max] ms the real host spends encoding its own snapshot image. */
  encodeMs?: [number, number];
  /** segmentRecords: a WAL segment holds about this many records before the next starts. */
  segmentRecords?: number;
  mutation?: Mutation | undefined;
  /**
   * durabilityChecks: check, as it happens, that nothing leaves a node before what it relies on is
   * durable (acknowledgements, votes, terms) and that a leader commits only entries durable on a
   * quorum (default true). Off, only the end-to-end properties are checked.
   */
  durabilityChecks?: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  /** sentAt: the virtual time it was put on the network. */
  sentAt: number;
  /** id: the message's id in the lab (LabMessage.id). */
  id: number;
  msg: Message;
  /** toInc: the recipient's incarnation when sent; a restarted process never gets it (TCP). */
  toInc: number;
}

/** LabMessage is one message in flight, as the lab lists it. */
export interface LabMessage {
  /** id: unique within a run, in the order messages were put on the network (a copy gets its own). */
  id: number;
  from: NodeId;
  to: NodeId;
  header: MessageHeader;
  /** sentAt: the virtual time (ms) it was put on the network. */
  sentAt: number;
  /** deliverAt: the virtual time (ms) it arrives at, unless dropped or delayed before then. */
  deliverAt: number;
}

/**
 * SentFate: what the network did with a message a host sent (SimCluster.onSend): 'sent' (in
 * flight, with its id and delivery time), or 'dropped' (a cut link, a rule, the drop rate, a
 * refused connection), with the reason in words.
 */
export type SentFate =
  { fate: 'sent'; id: number; deliverAt: number } | { fate: 'dropped'; why: string };

/**
 * LabStep is one event the lab ran, in the order it ran them:
 *  - 'message': a message taken off the network; `delivered` is false if its receiver's process
 *    was down or is not the one it was sent to (a restarted process never gets it);
 *  - 'tick': one node's clock ticked once; `ticked` is false if the node was down;
 *  - 'timer': something a host had scheduled (a disk write completing, a restart, a checkpoint
 *    sync, a scheduled fault); `node` is the process it belongs to, 0 the cluster's own.
 */
export type LabStep =
  | { kind: 'message'; at: number; message: LabMessage; delivered: boolean }
  | { kind: 'tick'; at: number; node: NodeId; ticked: boolean }
  | { kind: 'timer'; at: number; node: NodeId };

/**
 * StepUntil says where SimCluster.step stops: after the next message taken off the network
 * ('message'), after the next tick of a node that is up ('tick'), or after the first event that
 * changes any node's role, term or leader, or whether it is up ('event').
 */
export type StepUntil = 'message' | 'tick' | 'event';

/** LabNodeState is a node at a glance: its process, role, term, leader and commit index. */
export interface LabNodeState {
  id: NodeId;
  /** up: its process runs (a crashed or exited node shows its last process's values). */
  up: boolean;
  role: Role;
  term: number;
  leader: NodeId;
  commit: number;
}

/**
 * Unsynced says what a crashed node keeps of what it wrote but had not fsynced. Either way the
 * process dies with a flush in progress having done every step before its WAL fdatasync, and
 * what it had not written yet is lost. 'kept': the process was killed and the page cache
 * survives, so a restart reads all it wrote; 'lost': its machine lost power at that instant, so
 * only what was fsynced is left.
 */
export type Unsynced = 'kept' | 'lost';

/** Next is the event the agenda runs next: a timer, a message, or a node's tick. */
type Next =
  | { kind: 'timer'; at: number }
  | { kind: 'message'; at: number }
  | { kind: 'tick'; at: number; node: NodeId };

interface Timer {
  at: number;
  seq: number;
  /** node, inc: the process the timer belongs to (0: the cluster's own); cancelled by a crash. */
  node: NodeId;
  inc: number;
  fn: () => void;
}

function fnv(h: number, data: Uint8Array): number {
  let x = h ^ 0x811c9dc5;
  for (let i = 0; i < data.length; i++) x = Math.imul(x ^ data[i]!, 16777619);
  x = Math.imul(x ^ data.length, 16777619);
  return x >>> 0;
}

function entryKey(e: Entry): string {
  return `${e.term}/${e.type}/${dec.decode(e.data)}`;
}

/** REAL_DISK: an SSD's fdatasync and a small snapshot file, in simulated ms. */
const REAL_DISK: DiskTiming = { syncMs: [0.2, 3], snapshotMs: [1, 8] };
const INSTANT_DISK: DiskTiming = { syncMs: [0, 0], snapshotMs: [0, 0] };
/** REMOVED_EXIT_MS: the real node shuts down this long after applying its removal. */
const REMOVED_EXIT_MS = 300;
/** FATAL_RESTART_MS: the supervisor restarts a node that exited on a fatal error after this. */
const FATAL_RESTART_MS = 500;
/** BACKOFF_MIN_MS, BACKOFF_MAX_MS: the transport's reconnect backoff (DEFAULT_SETTINGS). */
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2000;

/**
 * SimCluster runs Raft nodes on a simulated network, clock and disk, entirely deterministically
 * for a seed. It can isolate, cut (also one way), partition, drop, duplicate and delay messages,
 * crash a node (at any moment with the 'real' host, losing the Ready in flight) and restart it
 * from its data dir, slow a node's disk or fail its next fsync. It checks Raft's safety properties
 * after every step: one leader per term, log matching, leader completeness, state-machine safety,
 * commit monotonicity, never-stale reads, at most one uncommitted configuration — and, where the
 * host model makes durability observable, that nothing is sent before what it relies on is
 * durable, that a leader commits only what a quorum holds durably, and that a restarted node's
 * store opens. Violations are collected in `violations` and, named by invariant (INVARIANTS in
 * invariants.ts), in `failures`.
 * It runs for a span of virtual time (runFor) or a step at a time (step, with the messages in
 * flight listed and acted on one by one: inFlight, dropMessage, duplicateMessage, delayMessage),
 * both through one agenda (agendaNext), so a stepped run and a run for a span agree.
 */
export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly rng: () => number;
  readonly opts: Required<Omit<SimOptions, 'ids' | 'mutation'>> & {
    mutation: Mutation | undefined;
  };
  now = 0;
  private seq = 0;
  private incSeq = 0;
  private readonly queue = new MinHeap<InFlight>();
  /** nextMessageId: the id the next message put on the network gets. */
  private nextMessageId = 1;
  private readonly timers = new MinHeap<Timer>();
  /** pendingChecks: durability checks of the step in progress (see settle). */
  private pendingChecks: (() => void)[] = [];
  private nextTick = new Map<NodeId, number>();
  /** calmEpoch: grows with every calmDisks(), which cancels the mid-write crashes set before. */
  private calmEpoch = 0;

  // faults
  private cutLinks = new Set<string>();
  dropRate = 0;
  dupRate = 0;
  /** dropIf: a custom rule; a message for which it returns true is lost. */
  dropIf: ((m: Message) => boolean) | undefined;
  /** onTrace: told of what the hosts do on their own (exits, restarts), for a run's trace. */
  onTrace: ((what: string) => void) | undefined;
  /** extraDelay: ms a message spends in flight beyond the network's delay (the lab's link rules). */
  extraDelay: ((m: Message) => number) | undefined;
  /** onSend: told of every message a host sends and what the network did with it (the lab). */
  onSend: ((m: Message, fate: SentFate) => void) | undefined;
  /** onRaftEvent: told of every event a node's core reports, after the checks saw it (the lab). */
  onRaftEvent: ((id: NodeId, ev: RaftEvent) => void) | undefined;
  /** onApply: told of every entry a node applies, with the key-value result if it is a command. */
  onApply: ((n: SimNode, e: Entry, result: LabKvResult | undefined) => void) | undefined;
  /** onDeliver: told of every message handed to its receiver. */
  onDeliver: ((m: Message) => void) | undefined;
  /** onRead: told of every read state a node's Ready carries. */
  onRead: ((n: SimNode, rs: ReadState) => void) | undefined;
  /**
   * tickScale: every node's tick lasts tickMs × tickScale (the lab's pace; 1 in the simulator).
   * A change applies from each node's next tick on.
   */
  tickScale = 1;
  /**
   * fastFailover: a follower whose connection to its leader is refused tells the core the
   * leader is gone (leaderGone), as the real node does with fast failover on (the default).
   */
  fastFailover = true;
  /** paused: nodes whose process is stopped (SIGSTOP): no ticks, messages to them wait in `held`. */
  private readonly paused = new Set<NodeId>();
  private readonly held = new Map<NodeId, InFlight[]>();

  // checker state
  readonly violations: string[] = [];
  /** failures: the invariants broken, in the order found, as records (see violate). */
  readonly failures: LabFailure[] = [];
  private leaderOfTerm = new Map<number, NodeId>();
  /** committed[i] = term of the entry known committed at i. */
  private committed: number[] = [];
  maxCommitted = 0;
  /** appliedKey[i] = identity of the entry applied at i; appliedHash[i] = state hash after it. */
  private appliedKey: string[] = [];
  private appliedHash: number[] = [];
  private entryAt = new Map<string, string>();
  /** pending proposals by (index/term) -> payload; acked once the proposer applies it. */
  private pendingProps = new Map<string, { node: NodeId; inc: number; key: string }>();
  readonly acked: { index: number; key: string; at: number }[] = [];
  maxAckedIndex = 0;
  private readsInFlight = new Map<string, { minIndex: number; at: number }>();
  readsServed = 0;
  readonly storageStats: SimStorageStats = {
    syncs: 0,
    entriesSynced: 0,
    groupedSyncs: 0,
    tornFlushes: 0,
    failures: 0,
    rotations: 0,
    segmentsDeleted: 0,
    openRepairs: 0,
  };
  stats = {
    delivered: 0,
    dropped: 0,
    elections: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    crashes: 0,
    powerLosses: 0,
    midWriteCrashes: 0,
    fatalExits: 0,
    refusals: 0,
    leaderGone: 0,
    reusedIds: 0,
  };

  constructor(o: SimOptions) {
    this.rng = seededRng(o.seed);
    const host = o.host ?? 'sync';
    this.opts = {
      seed: o.seed,
      preVote: o.preVote ?? true,
      checkQuorum: o.checkQuorum ?? true,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: o.heartbeatTicks ?? 1,
      snapshotChunkBytes: o.snapshotChunkBytes ?? 256,
      snapshotWindow: o.snapshotWindow ?? 2,
      maxMsgBytes: o.maxMsgBytes ?? 1024,
      maxInflight: o.maxInflight ?? 8,
      promoteGap: o.promoteGap ?? 5,
      compactEvery: o.compactEvery ?? 0,
      compactKeep: o.compactKeep ?? 0,
      snapshotPad: o.snapshotPad ?? 600,
      tickMs: o.tickMs ?? 10,
      tickSkew: o.tickSkew ?? 0,
      delay: o.delay ?? [0, 0],
      keepEvents: o.keepEvents ?? true,
      host,
      disk: host === 'real' ? (o.disk ?? REAL_DISK) : INSTANT_DISK,
      encodeMs: host === 'real' ? (o.encodeMs ?? [0, 3]) : [0, 0],
      segmentRecords: o.segmentRecords ?? 64,
      mutation: o.mutation,
      durabilityChecks: o.durabilityChecks ?? true,
    };
    const voters = o.ids.map((id) => ({ id, address: `sim:${id}` }));
    for (const id of o.ids) this.startNode(id, false, voters);
  }

  private get real(): boolean {
    return this.opts.host === 'real';
  }

  /** storageMutation: the mutation, if it is one of the store's. */
  private get storageMutation(): StorageMutation | undefined {
    const m = this.opts.mutation;
    return (STORAGE_MUTATIONS as readonly string[]).includes(m ?? '')
      ? (m as StorageMutation)
      : undefined;
  }

  // ------------------------------------------------------------ node lifecycle

  private raftConfig(id: NodeId): RaftConfig {
    const o = this.opts;
    return {
      id,
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      rng: seededRng((o.seed * 7919 + id * 104729 + this.seq) >>> 0),
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      snapshotChunkBytes: o.snapshotChunkBytes,
      snapshotWindow: o.snapshotWindow,
      maxMsgBytes: o.maxMsgBytes,
      maxInflight: o.maxInflight,
      promoteGap: o.promoteGap,
    };
  }

  private startNode(
    id: NodeId,
    join: boolean,
    initialVoters?: { id: NodeId; address: string }[],
  ): SimNode {
    const skew = this.opts.tickSkew;
    const period =
      skew > 0 ? this.opts.tickMs * (1 + skew * (2 * this.rng() - 1)) : this.opts.tickMs;
    const n = new SimNode(id, new DiskFiles(this.storageMutation), join, initialVoters, period);
    this.nodes.set(id, n);
    this.boot(n);
    return n;
  }

  /** boot starts a process on the node's data dir, as the real node does: load, then Raft. */
  private boot(n: SimNode): void {
    const loaded = n.files.load();
    if ('error' in loaded) {
      this.violate(
        'storage',
        `node ${n.id}: its store refuses to open after a crash: ${loaded.error}`,
        [n.id],
      );
      return;
    }
    const st = loaded.state;
    const fresh = st.hardState.term === 0 && st.entries.length === 0 && !st.snapshot;
    n.inc = ++this.incSeq;
    const inc = n.inc;
    n.raft = new RawNode({
      ...this.raftConfig(n.id),
      state: fresh ? undefined : { ...st, entries: st.entries.slice() },
      initialVoters: fresh && !n.join ? n.initialVoters : undefined,
    });
    n.storage = new SimStorage(
      n.files,
      st,
      {
        rng: this.rng,
        after: (ms, fn) => this.timer(ms, n.id, inc, fn),
        stats: this.storageStats,
        problem: (p) => this.violate('storage', `node ${n.id}: ${p}`, [n.id]),
        landed: () => this.checkDurableCommit(n),
      },
      this.opts.disk,
      { mutation: this.storageMutation, segmentRecords: this.opts.segmentRecords },
    );
    n.storage.onWrite = (ms) => {
      if (!n.crashOnWrite || ms <= 0) return;
      n.crashOnWrite = false;
      const calm = this.calmEpoch;
      this.timer(this.rng() * ms, n.id, inc, () => {
        if (calm !== this.calmEpoch) return;
        this.stats.midWriteCrashes++;
        this.crash(n.id);
      });
    };
    n.sm = st.snapshot ? decodeSnapshot(st.snapshot.data) : { index: 0, hash: 0 };
    n.kv = st.snapshot ? snapshotKv(st.snapshot.data) : new LabKv();
    if (st.snapshot) this.checkStateAt(n, 'restart');
    n.durableTerm = st.hardState.term;
    n.durableVote = st.hardState.vote;
    n.busy = false;
    n.snapshotTask = false;
    n.afterSnapshot = [];
    n.links = new Map();
    n.strangers = new Map();
    n.removedAt = 0;
    n.removing = false;
    n.memberInProcess = false;
    // A random 52-bit start per process, as ReadTags draws it (from the run's seed here).
    const tagRng = seededRng((this.opts.seed * 31337 + inc * 7919) >>> 0);
    n.readTags = new ReadTags(
      this.opts.mutation === 'read-tags-restart'
        ? 1
        : Math.floor(tagRng() * 2 ** 26) * 2 ** 26 + Math.floor(tagRng() * 2 ** 26) + 1,
    );
    n.crashOnWrite = false;
    n.seenCommit = n.raft.log.commit;
    n.maxCommit = n.raft.log.commit;
    n.alive = true;
    this.nextTick.set(n.id, this.now + Math.floor(this.rng() * this.opts.tickMs));
    this.process(n);
  }

  /** addNode starts an empty node that will join as a learner (the leader must add it). */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    return this.startNode(id, true);
  }

  /**
   * reuseNode starts a fresh, empty node under the id of a node whose process is gone for good
   * (removed, exited or crashed): a new data dir, to be added again as a learner.
   */
  reuseNode(id: NodeId): SimNode {
    const old = this.node(id);
    if (old.alive) throw new Error(`node ${id} is still running`);
    old.inc = ++this.incSeq;
    this.stats.reusedIds++;
    return this.startNode(id, true);
  }

  /**
   * crash stops a node at once; everything not yet durable is lost. A flush in progress lands in
   * part: `landed` pieces of it (hardstate file first, then records in order), a random number if
   * not given.
   */
  crash(id: NodeId, landed?: number): void {
    this.settle();
    const n = this.node(id);
    if (!n.alive) return;
    this.stop(n, landed);
    this.stats.crashes++;
  }

  private stop(n: SimNode, landed?: number): void {
    this.paused.delete(n.id);
    this.held.delete(n.id);
    n.storage.crash(landed);
    n.alive = false;
    n.busy = false;
    n.inc = ++this.incSeq;
    for (const [k, p] of this.pendingProps) if (p.node === n.id) this.pendingProps.delete(k);
    for (const k of this.readsInFlight.keys())
      if (k.startsWith(`${n.id}/`)) this.readsInFlight.delete(k);
    if (!this.real) return;
    // Its connections close and its port refuses: every link to it retries after a backoff.
    for (const y of this.nodes.values()) {
      if (y.alive && y.id !== n.id && this.isPeer(y, n.id))
        this.linkDown(y, n.id, BACKOFF_MIN_MS * (0.5 + 0.5 * this.rng()));
    }
  }

  /**
   * powerLoss is a power cut of the whole machine: every process crashes, and every data dir
   * keeps what is on its disk and, of the rest, what the page cache happened to write back
   * (DiskFiles.powerLoss).
   */
  powerLoss(): void {
    this.settle();
    for (const n of this.nodes.values()) {
      if (n.alive) {
        this.stop(n);
        this.stats.crashes++;
      }
      n.files.powerLoss(this.rng);
    }
    this.stats.powerLosses++;
  }

  /**
   * crashDuringWrite crashes the node in the middle of its next flush or snapshot write (at once
   * if one is on its way to the disk; with the 'sync' host, whose writes take no time, at once).
   */
  crashDuringWrite(id: NodeId): void {
    const n = this.node(id);
    if (!n.alive) return;
    if (!this.real || n.storage.busy) {
      if (n.storage.busy) this.stats.midWriteCrashes++;
      this.crash(id);
      return;
    }
    n.crashOnWrite = true;
  }

  /** restart brings a crashed node back from its data dir alone. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.alive || n.exited) return;
    this.boot(n);
  }

  /**
   * calmDisks undoes slowDisk and crashDuringWrite everywhere, a crash already set for the middle
   * of a write on its way included (a failure already armed stays).
   */
  calmDisks(): void {
    this.calmEpoch++;
    for (const n of this.nodes.values()) {
      n.crashOnWrite = false;
      if (n.alive) n.storage.fsyncDelayMs = 0;
    }
  }

  /**
   * slowDisk makes every flush and snapshot write of a node take ms longer (0: normal again).
   * The 'sync' host's disk takes no time, slow or not.
   */
  slowDisk(id: NodeId, ms: number): void {
    const n = this.node(id);
    if (n.alive) n.storage.fsyncDelayMs = ms;
  }

  /**
   * failNextWrite makes a node's next flush or snapshot write fail: the node exits and is
   * restarted. The 'sync' host has no I/O errors: nothing happens.
   */
  failNextWrite(id: NodeId): void {
    const n = this.node(id);
    if (n.alive && this.real) n.storage.failNext = true;
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  /** die is a fatal error in a node (storage): the process exits and the supervisor restarts it. */
  private die(n: SimNode, err: Error): void {
    if (!n.alive) return;
    if (!(err instanceof InjectedIoError))
      this.violate('storage', `node ${n.id}: fatal storage error: ${err.message}`, [n.id]);
    this.stats.fatalExits++;
    this.onTrace?.(`node ${n.id} exits: ${err.message}`);
    this.stop(n);
    const inc = n.inc;
    this.timer(FATAL_RESTART_MS, 0, 0, () => {
      if (n.inc !== inc || this.nodes.get(n.id) !== n) return;
      this.onTrace?.(`node ${n.id} restarted by the supervisor`);
      this.restart(n.id);
    });
  }

  // ------------------------------------------------------------ network faults

  private linkKey(a: NodeId, b: NodeId): string {
    return `${a}>${b}`;
  }

  /** cut drops all traffic between a and b, both ways. */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(this.linkKey(a, b));
    this.cutLinks.add(this.linkKey(b, a));
  }

  /** cutOneWay drops traffic from a to b only. */
  cutOneWay(a: NodeId, b: NodeId): void {
    this.cutLinks.add(this.linkKey(a, b));
  }

  /** isolate cuts a node off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** partition splits nodes into groups that cannot talk across. Nodes not listed form no group. */
  partition(groups: NodeId[][]): void {
    this.heal();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    const ids = [...this.nodes.keys()];
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.cutLinks.add(this.linkKey(a, b));
      }
    }
  }

  /** heal removes every cut (drop and duplication rates stay as set). */
  heal(): void {
    this.cutLinks.clear();
  }

  isCut(a: NodeId, b: NodeId): boolean {
    return this.cutLinks.has(this.linkKey(a, b));
  }

  /**
   * linkDown: y's link to x failed; y retries after `ms`, dropping what it sends to x until then.
   * A retry that finds x's process gone is refused, which a follower of x takes as leaderGone.
   */
  private linkDown(y: SimNode, x: NodeId, ms: number): void {
    let link = y.links.get(x);
    if (!link) {
      link = { retryAt: 0, attempt: 0, pending: false };
      y.links.set(x, link);
    }
    if (link.pending) return;
    link.pending = true;
    link.retryAt = this.now + ms;
    const l = link;
    this.timer(ms, y.id, y.inc, () => {
      l.pending = false;
      if (!this.isPeer(y, x)) {
        // No longer a peer: the link is closed, and nothing dials x until y has to send to it.
        y.links.delete(x);
        return;
      }
      const xn = this.nodes.get(x);
      if (xn?.alive) {
        l.attempt = 0;
        l.retryAt = 0;
        return;
      }
      this.stats.refusals++;
      if (this.fastFailover && y.raft.role === 'follower' && y.raft.leader === x) {
        this.stats.leaderGone++;
        y.raft.leaderGone(x);
        this.observe(y);
        this.process(y);
      }
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(l.attempt, 30));
      l.attempt++;
      this.linkDown(y, x, Math.max(BACKOFF_MIN_MS, ceiling * (0.5 + 0.5 * this.rng())));
    });
  }

  /**
   * isPeer: y keeps a link to x (raft-node.ts updatePeers): x is a member of y's latest
   * configuration (or, while y knows none, one of the voters it was started with), or y sent to
   * x within two election timeouts.
   */
  private isPeer(y: SimNode, x: NodeId): boolean {
    const conf = y.raft.log.conf();
    if (isMember(conf, x)) return true;
    if (conf.voters.length === 0 && y.initialVoters?.some((v) => v.id === x)) return true;
    const at = y.strangers.get(x);
    return at !== undefined && this.now - at <= 2 * this.opts.electionTicks * y.tickMs;
  }

  // ------------------------------------------------------------ driving

  private delayMs(): number {
    const [lo, hi] = this.opts.delay;
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  /** timer runs fn after ms, unless it belongs to a process (node, inc) that has ended since. */
  private timer(ms: number, node: NodeId, inc: number, fn: () => void): void {
    this.timers.push({ at: this.now + ms, seq: this.seq++, node, inc, fn });
  }

  /** at runs fn after ms of simulated time (a fault at a chosen moment). */
  at(ms: number, fn: () => void): void {
    this.timer(ms, 0, 0, fn);
  }

  /**
   * settle runs the durability checks of the step just taken. They are made between steps, not
   * as a message is sent: nothing can observe a message, and no crash can happen, before the step
   * that sent it ends, so what counts is whether its basis is durable by then. (Made as it is
   * sent, the check would blame the 'sync' host for an order inside a Ready that nothing can see.)
   */
  private settle(): void {
    if (this.pendingChecks.length === 0) return;
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    for (const c of checks) c();
  }

  private runTimer(t: Timer): void {
    if (t.node !== 0 && this.nodes.get(t.node)?.inc !== t.inc) return;
    t.fn();
  }

  /** hostSend is the host handing a message to its transport. */
  private hostSend(n: SimNode, m: Message, ackTerm?: number): void {
    if (this.opts.durabilityChecks) this.pendingChecks.push(() => this.checkSent(n, m, ackTerm));
    if (this.real) {
      if (!isMember(n.raft.log.conf(), m.to)) n.strangers.set(m.to, this.now);
      const link = n.links.get(m.to);
      if (link && link.retryAt > this.now) {
        this.stats.dropped++;
        this.onSend?.(m, { fate: 'dropped', why: 'no connection (reconnecting)' });
        return;
      }
      const to = this.nodes.get(m.to);
      if (!to?.alive) {
        // Nothing listens on its port: the connection is refused at once.
        this.stats.dropped++;
        this.onSend?.(m, { fate: 'dropped', why: 'connection refused' });
        this.linkDown(n, m.to, 0.5);
        return;
      }
    }
    this.send(m);
  }

  private send(m: Message): void {
    if (this.cutLinks.has(this.linkKey(m.from, m.to))) {
      this.stats.dropped++;
      this.onSend?.(m, { fate: 'dropped', why: 'link cut' });
      return;
    }
    if (this.dropIf?.(m)) {
      this.stats.dropped++;
      this.onSend?.(m, { fate: 'dropped', why: 'dropped by a rule' });
      return;
    }
    if (this.dropRate > 0 && this.rng() < this.dropRate) {
      this.stats.dropped++;
      this.onSend?.(m, { fate: 'dropped', why: 'lost (drop rate)' });
      return;
    }
    const toInc = this.nodes.get(m.to)?.inc ?? 0;
    const extra = this.extraDelay?.(m) ?? 0;
    const at = this.now + this.delayMs() + extra;
    const id = this.nextMessageId++;
    this.queue.push({ at, seq: this.seq++, sentAt: this.now, id, msg: m, toInc });
    this.onSend?.(m, { fate: 'sent', id, deliverAt: at });
    if (this.dupRate > 0 && this.rng() < this.dupRate) {
      const at = this.now + this.delayMs() + extra;
      const id = this.nextMessageId++;
      this.queue.push({ at, seq: this.seq++, sentAt: this.now, id, msg: m, toInc });
      this.onSend?.(m, { fate: 'sent', id, deliverAt: at });
    }
  }

  /** deliver hands a message to its receiver; false if the receiving process is not there. */
  private deliver(f: InFlight): boolean {
    const m = f.msg;
    const n = this.nodes.get(m.to);
    if (!n || !n.alive) return false;
    if (this.real && f.toInc !== n.inc) return false;
    if (this.paused.has(n.id)) {
      // A stopped process reads nothing: the message waits in its socket until it resumes.
      const h = this.held.get(n.id) ?? [];
      h.push(f);
      this.held.set(n.id, h);
      return false;
    }
    this.stats.delivered++;
    this.onDeliver?.(m);
    n.raft.step(m);
    this.observe(n);
    this.process(n);
    return true;
  }

  /** tick advances one node by one tick. */
  tick(id: NodeId): void {
    const n = this.node(id);
    if (!n.alive || this.paused.has(id)) return;
    n.raft.tick();
    this.observe(n);
    this.process(n);
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const n of this.live()) this.tick(n.id);
  }

  /** rounds runs n rounds of: every live node ticks once, then every message is delivered. */
  rounds(n: number): void {
    for (let i = 0; i < n; i++) {
      this.tickAll();
      this.stabilize();
    }
  }

  /** stabilize delivers every message in flight (and runs every timer), ignoring time. */
  stabilize(limit = 1_000_000): void {
    for (let i = 0; i < limit; i++) {
      this.settle();
      const q = this.queue.peek();
      const t = this.timers.peek();
      if (!q && !t) return;
      if (t && (!q || less(t, q))) this.runTimer(this.timers.pop()!);
      else this.deliver(this.queue.pop()!);
    }
    throw new Error('stabilize: did not settle');
  }

  /**
   * runFor advances simulated time by ms: nodes tick on their own clocks, events happen when due.
   * onStep is called after each event, once the checks of its step are made (see settle); if it
   * throws, the run stops there, between two events, with virtual time at the last one's.
   */
  runFor(ms: number, onStep?: () => void): void {
    const end = this.now + ms;
    for (;;) {
      this.settle();
      const next = this.agendaNext();
      if (!next || next.at > end) break;
      this.runNext(next);
      if (onStep) {
        this.settle();
        onStep();
      }
    }
    this.settle();
    this.now = end;
  }

  /**
   * runTo runs every event due at or before `time`, in agenda order, then sets the clock to `time`
   * (if it is ahead). `stop`, asked after each event, can end it early (the clock then stays at
   * that event's time); runTo answers whether it ran to `time`.
   */
  runTo(time: number, stop?: () => boolean): boolean {
    for (;;) {
      this.settle();
      const next = this.agendaNext();
      if (!next || next.at > time) break;
      this.runNext(next);
      if (stop) {
        // The step's pending checks first, so `stop` sees what the step broke.
        this.settle();
        if (stop()) return false;
      }
    }
    this.settle();
    if (time > this.now) this.now = time;
    return true;
  }

  /** next runs the next event of the agenda and says what it was (undefined: nothing is due ever). */
  next(): LabStep | undefined {
    this.settle();
    const next = this.agendaNext();
    if (!next) return undefined;
    const ran: LabStep[] = [];
    this.runNext(next, ran);
    this.settle();
    return ran[0];
  }

  /** nextAt: the virtual time of the next event of the agenda (Infinity: none). */
  nextAt(): number {
    return this.agendaNext()?.at ?? Infinity;
  }

  /**
   * agendaNext: what happens next. Timers and messages in the order of (time, creation); a node's
   * tick only when it is due strictly before both (at equal times, timers and messages first; of
   * two ticks due at once, the node started first).
   */
  private agendaNext(): Next | undefined {
    let nextId = 0;
    let nextAt = Infinity;
    for (const [id, at] of this.nextTick) {
      if (at < nextAt) {
        nextAt = at;
        nextId = id;
      }
    }
    const q = this.queue.peek();
    const t = this.timers.peek();
    const ev = t && (!q || less(t, q)) ? t : q;
    if (ev && ev.at <= nextAt)
      return ev === t ? { kind: 'timer', at: ev.at } : { kind: 'message', at: ev.at };
    if (nextAt === Infinity) return undefined;
    return { kind: 'tick', at: nextAt, node: nextId };
  }

  /**
   * steps: how many events of the agenda (messages, ticks, timers) the run has taken, whether by
   * runFor or step; with the seed it names one point of a run ("the violation broke at step N").
   */
  steps = 0;

  /** runNext moves the clock to the event and runs it; `record` gets what it did. */
  private runNext(next: Next, record?: LabStep[]): void {
    this.steps++;
    this.now = Math.max(this.now, next.at);
    if (next.kind === 'timer') {
      const t = this.timers.pop()!;
      this.runTimer(t);
      record?.push({ kind: 'timer', at: next.at, node: t.node });
    } else if (next.kind === 'message') {
      const f = this.queue.pop()!;
      const delivered = this.deliver(f);
      record?.push({ kind: 'message', at: next.at, message: labMessage(f), delivered });
    } else {
      const n = this.nodes.get(next.node);
      const ticked = (n?.alive ?? false) && !this.paused.has(next.node);
      this.nextTick.set(next.node, next.at + (n?.tickMs ?? this.opts.tickMs) * this.tickScale);
      this.tick(next.node);
      record?.push({ kind: 'tick', at: next.at, node: next.node, ticked });
    }
  }

  // ------------------------------------------------------------ stepping (the lab's controls)

  /** seed: the seed of this run; with the same calls in the same order, the same run. */
  get seed(): number {
    return this.opts.seed;
  }

  /**
   * step runs the agenda, event by event in the order runFor would, until `until` is reached (see
   * StepUntil), and returns the events it ran, in order. Virtual time moves to each event's time
   * and no further (runFor moves it to the end of its span). It stops early, with what it ran so
   * far, when the next event is more than maxMs of virtual time away from where it started.
   */
  step(until: StepUntil, maxMs = 60_000): LabStep[] {
    const end = this.now + maxMs;
    const before = until === 'event' ? this.glance() : '';
    const ran: LabStep[] = [];
    for (;;) {
      this.settle();
      const next = this.agendaNext();
      if (!next || next.at > end) break;
      this.runNext(next, ran);
      const s = ran[ran.length - 1]!;
      if (until === 'message' && s.kind === 'message') break;
      if (until === 'tick' && s.kind === 'tick' && s.ticked) break;
      if (until === 'event' && this.glance() !== before) break;
    }
    this.settle();
    return ran;
  }

  /** glance: every node's up, role, term and leader, as one string (what 'event' watches). */
  private glance(): string {
    return this.nodeStates()
      .map((s) => `${s.id}:${s.up ? s.role : 'down'}:${s.term}:${s.leader}`)
      .join(' ');
  }

  /** nodeStates: every node at a glance, by id. */
  nodeStates(): LabNodeState[] {
    return [...this.nodes.values()]
      .sort((a, b) => a.id - b.id)
      .map((n) => ({
        id: n.id,
        up: n.alive,
        role: n.raft.role,
        term: n.raft.term,
        leader: n.raft.leader,
        commit: n.raft.log.commit,
      }));
  }

  /** inFlight: every message on the network, in the order they will arrive. */
  /**
   * nextDelivery: the message the network delivers next (not one held for a paused node), if any.
   */
  nextDelivery(): LabMessage | undefined {
    const f = this.queue.peek();
    return f && labMessage(f);
  }

  /** messagesSent: how many messages were put on the network so far (the next one's id, less 1). */
  get messagesSent(): number {
    return this.nextMessageId - 1;
  }

  inFlight(): LabMessage[] {
    const held = [...this.held.values()].flat();
    return [...this.queue.items(), ...held].sort((a, b) => (less(a, b) ? -1 : 1)).map(labMessage);
  }

  /**
   * takeHeld removes the message with this id from those waiting for a paused node (see
   * pauseNode), if it is one of them.
   */
  private takeHeld(id: number): InFlight | undefined {
    for (const h of this.held.values()) {
      const i = h.findIndex((f) => f.id === id);
      if (i >= 0) return h.splice(i, 1)[0];
    }
    return undefined;
  }

  /**
   * dropMessage loses the message in flight with this id (one waiting for a paused node
   * included); false if there is none (any more).
   */
  dropMessage(id: number): boolean {
    if (!this.queue.remove((f) => f.id === id) && !this.takeHeld(id)) return false;
    this.stats.dropped++;
    return true;
  }

  /**
   * duplicateMessage puts a copy of the message in flight with this id on the network, arriving at
   * the same time, just after it; it returns the copy's id, or undefined if there is no such
   * message (any more).
   */
  duplicateMessage(id: number): number | undefined {
    const f =
      this.queue.items().find((x) => x.id === id) ??
      [...this.held.values()].flat().find((x) => x.id === id);
    if (!f) return undefined;
    const copy = { ...f, seq: this.seq++, sentAt: this.now, id: this.nextMessageId++ };
    this.queue.push(copy);
    return copy.id;
  }

  /**
   * delayMessage makes the message in flight with this id arrive ms later, after every message
   * already due at that time; false if there is no such message (any more).
   */
  delayMessage(id: number, ms: number): boolean {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`delay of message ${id}: ${ms} ms is not a finite number >= 0`);
    const f = this.queue.remove((x) => x.id === id) ?? this.takeHeld(id);
    if (!f) return false;
    this.queue.push({ ...f, at: Math.max(f.at, this.now) + ms, seq: this.seq++ });
    return true;
  }

  /**
   * crashNode stops a node's process at once, keeping or losing what it wrote but had not
   * fsynced (see Unsynced). restart(id) brings it back from what its data dir then holds.
   */
  crashNode(id: NodeId, unsynced: Unsynced): void {
    const n = this.node(id);
    if (!n.alive) return;
    this.crash(id, n.storage.writeSteps);
    // A draw of 0.7 is "did not reach the disk" for each write not yet durable, tearing none.
    if (unsynced === 'lost') n.files.powerLoss(() => 0.7);
  }

  /**
   * pauseNode stops a node's process (SIGSTOP): it takes no ticks, and messages to it wait until
   * it resumes (its connections stay open); what its disk was writing completes.
   */
  pauseNode(id: NodeId): void {
    const n = this.node(id);
    if (n.alive) this.paused.add(id);
  }

  /** resumeNode lets a paused node go on: the messages that waited arrive now, in order. */
  resumeNode(id: NodeId): void {
    if (!this.paused.delete(id)) return;
    for (const f of this.held.get(id) ?? [])
      this.queue.push({ ...f, at: this.now, seq: this.seq++ });
    this.held.delete(id);
  }

  isPaused(id: NodeId): boolean {
    return this.paused.has(id);
  }

  /**
   * alignTimers sets every live node that is not leader to the same point of the same election
   * timeout (elapsed 0 of electionTicks × 1.5) and its clock to tick at the same instants, so
   * they time out together (RaftScope's "align timers", to provoke a split vote).
   */
  alignTimers(): NodeId[] {
    const ns = this.live().filter((n) => n.raft.role !== 'leader');
    if (ns.length === 0) return [];
    const at = Math.min(...ns.map((n) => this.nextTick.get(n.id) ?? this.now));
    const timeout = Math.floor(this.opts.electionTicks * 1.5);
    for (const n of ns) {
      n.raft.setElectionTimer(0, timeout);
      this.nextTick.set(n.id, at);
    }
    return ns.map((n) => n.id);
  }

  /**
   * spreadTimers spreads the election timeouts of every live node that is not leader evenly over
   * [electionTicks, 2 × electionTicks), in id order, each from elapsed 0.
   */
  spreadTimers(): NodeId[] {
    const ns = this.live().filter((n) => n.raft.role !== 'leader');
    const et = this.opts.electionTicks;
    ns.forEach((n, i) =>
      n.raft.setElectionTimer(0, et + Math.floor((i * et) / Math.max(1, ns.length))),
    );
    return ns.map((n) => n.id);
  }

  dropInFlight(): void {
    this.queue.clear();
  }

  // ------------------------------------------------------------ client operations

  propose(id: NodeId, payload: string): ProposeResult {
    const n = this.node(id);
    if (!n.alive) return { ok: false, error: 'not-leader', leader: 0, detail: 'down' };
    const data = enc.encode(payload);
    const r = n.raft.propose(data);
    if (r.ok)
      this.pendingProps.set(`${r.index}/${r.term}`, {
        node: id,
        inc: n.inc,
        key: `${r.term}/normal/${payload}`,
      });
    this.observe(n);
    this.process(n);
    return r;
  }

  confChange(id: NodeId, cc: ConfChange): ProposeResult {
    const n = this.node(id);
    const r = n.raft.proposeConfChange(cc);
    this.observe(n);
    this.process(n);
    return r;
  }

  transfer(id: NodeId, target: NodeId): ProposeResult {
    const n = this.node(id);
    const r = n.raft.transferLeader(target);
    this.observe(n);
    this.process(n);
    return r;
  }

  /** read issues a ReadIndex at a node; the checker verifies the index it gets is never stale. */
  read(id: NodeId): number {
    const n = this.node(id);
    const ctx = n.readTags.take();
    const r = n.raft.readIndex(ctx);
    if (r.ok) this.readsInFlight.set(`${id}/${ctx}`, { minIndex: this.maxCommitted, at: this.now });
    this.observe(n);
    this.process(n);
    return r.ok ? ctx : 0;
  }

  /** leader returns the id of the live leader with the highest term, or 0. */
  leader(): NodeId {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      if (n.raft.role === 'leader' && (!best || n.raft.term > best.raft.term)) best = n;
    }
    return best?.id ?? 0;
  }

  // ------------------------------------------------------------ the host loop

  /**
   * process is the host's Ready loop, one Ready at a time: send what may leave before the sync,
   * persist (asynchronously with the 'real' host), then send the rest, apply, advance.
   */
  process(n: SimNode): void {
    if (n.inProcess) return;
    n.inProcess = true;
    try {
      let guard = 0;
      while (n.alive && !n.busy && n.raft.hasReady()) {
        if (++guard > 10000) throw new Error(`node ${n.id}: Ready loop does not settle`);
        this.startReady(n);
      }
    } finally {
      n.inProcess = false;
    }
  }

  private startReady(n: SimNode): void {
    const r = n.raft;
    const rd = r.ready();
    // What each acknowledgement claims, as of this Ready: (index, term) durable once it is.
    const ackTerms = new Map<Message, number>();
    for (const m of rd.messages) {
      if (m.type === 'app-resp' && !m.reject && m.index > 0) {
        const t = r.log.term(m.index);
        if (t !== undefined) ackTerms.set(m, t);
      }
    }
    for (const e of rd.entries) this.checkEntryIdentity(n, e);
    const early = new Set(this.messagesBeforeSync(n, rd));
    for (const m of early) this.hostSend(n, m, ackTerms.get(m));
    const sendRest = (): void => {
      for (const m of rd.messages) if (!early.has(m)) this.hostSend(n, m, ackTerms.get(m));
    };
    n.busy = true;
    const inc = n.inc;
    if (this.opts.mutation === 'advance-before-fsync' && !rd.snapshot) {
      this.persist(n, rd, () => {
        if (n.inc === inc) sendRest();
      });
      if (n.inc === inc) this.finishReady(n, rd);
      return;
    }
    this.persist(n, rd, () => {
      if (n.inc !== inc || !n.alive) return;
      sendRest();
      this.finishReady(n, rd);
    });
  }

  /**
   * messagesBeforeSync: what the real host sends before persisting (raft-node.ts
   * leaderMessagesBeforeSync): a leader's appends and heartbeats, unless the Ready carries a
   * snapshot or changes the term or vote. The 'sync' host sends nothing early.
   */
  private messagesBeforeSync(n: SimNode, rd: Ready): Message[] {
    if (this.opts.mutation === 'send-before-fsync') return rd.messages;
    if (!this.real || n.raft.role !== 'leader' || rd.snapshot) return [];
    const hs = rd.hardState;
    if (hs && (hs.term !== n.durableTerm || hs.vote !== n.durableVote)) return [];
    return rd.messages.filter((m) => m.type === 'app' || m.type === 'heartbeat');
  }

  /**
   * persist makes a Ready durable as raft-node.ts does: a snapshot first (after the node's own
   * snapshot being written, if any), then entries and hard state buffered, then one sync if the
   * Ready must be synced (the 'sync' host syncs every Ready).
   */
  private persist(n: SimNode, rd: Ready, done: () => void): void {
    const st = n.storage;
    const rest = (): void => {
      try {
        if (rd.entries.length > 0) st.append(rd.entries);
        if (rd.hardState) st.setHardState(rd.hardState);
      } catch (e) {
        this.die(n, e as Error);
        return;
      }
      const hs = rd.hardState;
      const durable = (): void => {
        if (hs) {
          n.durableTerm = hs.term;
          n.durableVote = hs.vote;
        }
        done();
      };
      let needSync = rd.mustSync;
      if (this.opts.mutation === 'sync-entries-only')
        needSync = rd.entries.length > 0 || rd.snapshot !== undefined;
      if (!this.real) needSync = true;
      if (needSync) st.sync((err) => (err ? this.die(n, err) : durable()));
      else durable();
    };
    const snap = rd.snapshot;
    if (!snap) return rest();
    const save = (): void => st.saveSnapshot(snap, (err) => (err ? this.die(n, err) : rest()));
    if (n.snapshotTask) n.afterSnapshot.push(save);
    else save();
  }

  /** finishReady applies the Ready (snapshot, committed entries, reads), advances, and goes on. */
  private finishReady(n: SimNode, rd: Ready): void {
    if (rd.snapshot) {
      n.sm = decodeSnapshot(rd.snapshot.data);
      n.kv = snapshotKv(rd.snapshot.data);
      if (n.sm.index !== rd.snapshot.meta.index) {
        this.violate(
          'state machine safety',
          `node ${n.id}: snapshot image index ${n.sm.index} != meta ${rd.snapshot.meta.index}`,
          [n.id],
        );
      }
      this.checkStateAt(n, 'snapshot');
      this.stats.snapshotsInstalled++;
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) this.onReadState(n, rs);
    if (this.opts.keepEvents) n.events.push(...rd.events);
    for (const ev of rd.events) this.onEvent(n, ev);
    this.maybeLeave(n);
    n.raft.advance();
    n.busy = false;
    this.observe(n);
    if (!n.alive) return;
    this.maybeSnapshot(n);
    this.process(n);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.index + 1) {
      this.violate('state machine safety', `node ${n.id} applied ${e.index} after ${n.sm.index}`, [
        n.id,
      ]);
      return;
    }
    const key = entryKey(e);
    const prior = this.appliedKey[e.index];
    if (prior !== undefined && prior !== key) {
      this.violate(
        'state machine safety',
        `state machine safety: index ${e.index} applied as ${prior} and as ${key} (node ${n.id})`,
        [n.id],
      );
    }
    n.sm.hash = fnv(n.sm.hash, e.data);
    n.sm.index = e.index;
    const result = n.kv.apply(e);
    this.onApply?.(n, e, result);
    if (prior === undefined) {
      this.appliedKey[e.index] = key;
      this.appliedHash[e.index] = n.sm.hash;
    } else if (this.appliedHash[e.index] !== n.sm.hash) {
      this.violate('state machine safety', `node ${n.id} state hash differs at ${e.index}`, [n.id]);
    }
    const p = this.pendingProps.get(`${e.index}/${e.term}`);
    if (p && p.node === n.id && p.inc === n.inc) {
      this.pendingProps.delete(`${e.index}/${e.term}`);
      if (p.key !== key)
        this.violate('state machine safety', `proposal at ${e.index} applied with other data`, [
          n.id,
        ]);
      this.acked.push({ index: e.index, key, at: this.now });
      this.maxAckedIndex = Math.max(this.maxAckedIndex, e.index);
    }
  }

  /**
   * maybeLeave shuts the node down once it has applied the configuration that removed it (the
   * core's 'removed' event), as raft-node.ts does: the real host 300 ms later, the sync host at
   * once.
   */
  private maybeLeave(n: SimNode): void {
    if (n.removedAt === 0 || n.removing || n.sm.index < n.removedAt) return;
    n.removing = true;
    this.onTrace?.(`node ${n.id} applied its removal at ${n.removedAt} and exits`);
    if (this.real) {
      this.timer(REMOVED_EXIT_MS, n.id, n.inc, () => this.exit(n));
    } else {
      n.alive = false;
      n.exited = true;
    }
  }

  private exit(n: SimNode): void {
    if (!n.alive) return;
    this.stop(n);
    n.exited = true;
  }

  private checkStateAt(n: SimNode, what: string): void {
    const h = this.appliedHash[n.sm.index];
    if (h !== undefined && h !== n.sm.hash) {
      this.violate(
        'state machine safety',
        `node ${n.id} ${what} state at ${n.sm.index} differs from what others applied`,
        [n.id],
      );
    }
  }

  /**
   * maybeSnapshot takes a snapshot of the node's own once compactEvery entries were applied since
   * the last one. As in the real node it runs beside the Ready loop: the image is encoded (some
   * time), then the log compacted, then the file saved; a received snapshot waits for it.
   */
  private maybeSnapshot(n: SimNode): void {
    const every = this.opts.compactEvery;
    if (every <= 0 || n.snapshotTask || !n.alive) return;
    const r = n.raft;
    const snapIndex = r.snapshot?.meta.index ?? 0;
    if (n.sm.index - snapIndex < every) return;
    const index = n.sm.index;
    const data = encodeSnapshot(n.sm, this.opts.snapshotPad, n.kv.image());
    n.snapshotTask = true;
    const inc = n.inc;
    const done = (): void => {
      n.snapshotTask = false;
      for (const w of n.afterSnapshot.splice(0)) w();
      if (n.inc !== inc || !n.alive) return;
      this.maybeSnapshot(n);
      this.process(n);
    };
    const compact = (): void => {
      const meta = r.compact(index, data, this.opts.compactKeep);
      if (!meta) return done();
      this.stats.compactions++;
      this.process(n);
      n.storage.saveSnapshot({ meta, data }, (err) => (err ? this.die(n, err) : done()));
    };
    const [lo, hi] = this.opts.encodeMs;
    if (hi <= 0) compact();
    else this.timer(lo + this.rng() * (hi - lo), n.id, inc, compact);
  }

  private onReadState(n: SimNode, rs: ReadState): void {
    n.readStates.push(rs);
    this.onRead?.(n, rs);
    const key = `${n.id}/${rs.ctx}`;
    const inv = this.readsInFlight.get(key);
    if (!inv) return;
    this.readsInFlight.delete(key);
    if (!rs.ok) return;
    this.readsServed++;
    if (rs.index < inv.minIndex) {
      this.violate(
        'linearizable reads',
        `stale read at node ${n.id}: read index ${rs.index} < ${inv.minIndex} committed before the read began`,
        [n.id],
      );
    }
  }

  private onEvent(n: SimNode, ev: RaftEvent): void {
    this.checkEvent(n, ev);
    this.onRaftEvent?.(n.id, ev);
  }

  /** checkEvent: what the checks learn from a node's event (leaders per term, removals). */
  private checkEvent(n: SimNode, ev: RaftEvent): void {
    if (ev.type === 'removed') n.removedAt = ev.index;
    if (ev.type === 'role' && ev.role === 'leader') {
      this.stats.elections++;
      const prior = this.leaderOfTerm.get(ev.term);
      if (prior !== undefined && prior !== n.id) {
        this.violate(
          'election safety',
          `election safety: term ${ev.term} has leaders ${prior} and ${n.id}`,
          [prior, n.id],
        );
      }
      this.leaderOfTerm.set(ev.term, n.id);
      // Leader completeness: every committed entry is in the new leader's log.
      const log = n.raft.log;
      for (let i = log.prevIndex + 1; i <= this.maxCommitted; i++) {
        const t = this.committed[i];
        if (t !== undefined && log.term(i) !== t) {
          this.violate(
            'leader completeness',
            `leader completeness: leader ${n.id} of term ${ev.term} lacks committed entry ${i}`,
            [n.id],
          );
          break;
        }
      }
    }
  }

  /**
   * checkSent: a message may be out only once what it relies on is durable: its term
   * (and, for a vote request or a granted vote, the vote), the entries an acknowledgement claims,
   * the snapshot a completed InstallSnapshot claims. A leader's early appends pass the first check
   * only because their term is already durable.
   */
  private checkSent(n: SimNode, m: Message, ackTerm: number | undefined): void {
    const d = n.files.hardState;
    const what = `node ${n.id} sent ${m.type} (term ${m.term}) to ${m.to}`;
    if (m.type !== 'pre-vote' && m.type !== 'pre-vote-resp' && m.term > d.term) {
      this.violate(
        'durability',
        `${what} before its term was durable (the disk has term ${d.term})`,
        [n.id, m.to],
      );
    } else if (
      ((m.type === 'vote-resp' && !m.reject) || m.type === 'vote') &&
      d.term === m.term &&
      d.vote !== (m.type === 'vote' ? n.id : m.to)
    ) {
      this.violate(
        'durability',
        `${what} before its vote was durable (the disk has vote ${d.vote})`,
        [n.id, m.to],
      );
    }
    if (ackTerm !== undefined && m.type === 'app-resp' && !n.files.holds(m.index, ackTerm)) {
      this.violate(
        'durability',
        `${what} acknowledging entry ${m.index} (term ${ackTerm}) before it was durable`,
        [n.id, m.to],
      );
    }
    if (m.type === 'snap-resp' && m.done && (n.files.snapshot?.meta.index ?? 0) < m.snapIndex) {
      this.violate(
        'durability',
        `${what} acknowledging snapshot ${m.snapIndex} before it was durable`,
        [n.id, m.to],
      );
    }
  }

  private checkEntryIdentity(n: SimNode, e: Entry): void {
    const k = `${e.index}/${e.term}`;
    const key = entryKey(e);
    const prior = this.entryAt.get(k);
    if (prior === undefined) this.entryAt.set(k, key);
    else if (prior !== key)
      this.violate('log matching', `log matching: ${k} holds ${prior} and ${key} (node ${n.id})`, [
        n.id,
      ]);
  }

  /**
   * observe checks a node after every input and every Ready: its commit never goes back within a
   * process, a committed index never holds two terms, a leader commits only entries a quorum of
   * voters holds durably, and a leader has at most one uncommitted configuration.
   */
  private observe(n: SimNode): void {
    const log = n.raft.log;
    if (log.commit < n.seenCommit) {
      this.violate(
        'commit monotonicity',
        `node ${n.id} commit decreased from ${n.seenCommit} to ${log.commit}`,
        [n.id],
      );
    }
    if (log.commit > n.seenCommit && n.raft.role === 'leader' && this.opts.durabilityChecks) {
      this.checkDurableQuorum(n, n.seenCommit, log.commit);
    }
    for (let i = Math.max(n.seenCommit, log.prevIndex) + 1; i <= log.commit; i++) {
      const t = log.term(i);
      if (t === undefined) continue;
      const prior = this.committed[i];
      if (prior !== undefined && prior !== t) {
        this.violate(
          'state machine safety',
          `committed entry ${i} has term ${prior} and ${t} (node ${n.id})`,
          [n.id],
        );
      }
      this.committed[i] = t;
    }
    if (log.commit > this.maxCommitted) this.maxCommitted = log.commit;
    if (!n.memberInProcess && isMember(log.confPointAt(log.commit).conf, n.id)) {
      n.memberInProcess = true;
      n.wasMember = true;
    }
    n.seenCommit = Math.max(n.seenCommit, log.commit);
    n.maxCommit = Math.max(n.maxCommit, log.commit);
    if (n.raft.role === 'leader') {
      // Single-server changes are safe only one at a time (thesis §4.1).
      let uncommitted = 0;
      for (const cp of log.confs) if (cp.index > log.commit && cp.change) uncommitted++;
      if (uncommitted > 1)
        this.violate('membership', `leader ${n.id} has ${uncommitted} uncommitted config entries`, [
          n.id,
        ]);
    }
  }

  /**
   * checkDurableQuorum: every entry a leader just committed is durable on a quorum of the voters
   * it counted (checked when the step ends, see settle).
   */
  private checkDurableQuorum(n: SimNode, from: number, to: number): void {
    const log = n.raft.log;
    const voters = log.conf().voters.slice();
    const q = quorum(voters.length);
    const committed: [number, number][] = [];
    for (let i = Math.max(from, log.prevIndex) + 1; i <= to; i++) {
      const t = log.term(i);
      if (t !== undefined) committed.push([i, t]);
    }
    this.pendingChecks.push(() => {
      for (const [i, t] of committed) {
        const holders = voters.filter((v) => this.nodes.get(v)?.files.holds(i, t) ?? false);
        if (holders.length < q) {
          this.violate(
            'durability',
            `leader ${n.id} committed entry ${i} (term ${t}) durable only on [${holders.join(',')}] of voters [${voters.join(',')}]`,
            [n.id, ...voters.filter((v) => !holders.includes(v))],
          );
          return;
        }
      }
    });
  }

  /**
   * checkDurableCommit runs whenever something reaches a node's disk: the commit a crash at this
   * very moment would give back covers only entries the disk holds as they were committed (a
   * commit record never lands before the entries it covers).
   */
  private checkDurableCommit(n: SimNode): void {
    if (!this.opts.durabilityChecks) return;
    const f = n.files;
    if (f.corrupt !== undefined) {
      if (!f.corruptReported)
        this.violate(
          'storage',
          `node ${n.id}: a crash now would leave a data dir its store refuses to open: ${f.corrupt}`,
          [n.id],
        );
      f.corruptReported = true;
      return;
    }
    const v = f.visible;
    const floor = v.commitFloor();
    for (let i = Math.min(f.checkedCommit, floor) + 1; i <= floor; i++) {
      const t = this.committed[i];
      if (t === undefined) continue;
      if (!v.holds(i, t)) {
        this.violate(
          'durability',
          `node ${n.id}: a crash now would come back with commit ${floor} but without the committed entry ${i} (term ${t}) (disk has term ${v.termAt(i)})`,
          [n.id],
        );
        break;
      }
    }
    f.checkedCommit = floor;
  }

  /** checkLogMatching compares every pair of live logs: equal (index, term) implies equal prefixes. */
  checkLogMatching(): void {
    const ns = this.live();
    for (let a = 0; a < ns.length; a++) {
      for (let b = a + 1; b < ns.length; b++) {
        const la = ns[a]!.raft.log;
        const lb = ns[b]!.raft.log;
        const lo = Math.max(la.prevIndex, lb.prevIndex) + 1;
        const hi = Math.min(la.lastIndex(), lb.lastIndex());
        let h = hi;
        while (h >= lo && la.term(h) !== lb.term(h)) h--;
        for (let i = lo; i <= h; i++) {
          const ea = la.entry(i)!;
          const eb = lb.entry(i)!;
          if (ea.term !== eb.term || entryKey(ea) !== entryKey(eb)) {
            this.violate(
              'log matching',
              `log matching: nodes ${ns[a]!.id} and ${ns[b]!.id} agree at ${h} but differ at ${i}`,
              [ns[a]!.id, ns[b]!.id],
            );
            return;
          }
        }
      }
    }
  }

  /** members returns the ids in the latest configuration known to the leader (or any node). */
  members(): NodeId[] {
    const l = this.leader();
    const n = l ? this.node(l) : this.live()[0];
    if (!n) return [];
    const c = n.raft.log.conf();
    return [...c.voters, ...c.learners].filter((id) => isMember(c, id));
  }

  /**
   * violate records a broken invariant twice, the first FAILURES_KEPT times: as a line of
   * `violations` (the virtual time, then `text`) and as a record of `failures` (the invariant,
   * the nodes involved, the step and virtual time it was found at, `text`).
   */
  violate(invariant: Invariant, text: string, nodes: readonly NodeId[]): void {
    if (this.violations.length < FAILURES_KEPT)
      this.violations.push(`t=${this.now.toFixed(1)}ms ${text}`);
    if (this.failures.length < FAILURES_KEPT)
      this.failures.push(failureOf(invariant, text, nodes, this.steps, this.now));
  }

  /** appliedKeyAt exposes the cluster-wide applied entry identity at an index (tests). */
  appliedAt(index: number): string | undefined {
    return this.appliedKey[index];
  }
}

/** labMessage: a message in flight as the lab lists it. */
function labMessage(f: InFlight): LabMessage {
  return {
    id: f.id,
    from: f.msg.from,
    to: f.msg.to,
    header: headerOf(f.msg),
    sentAt: f.sentAt,
    deliverAt: f.at,
  };
}

/**
 * encodeSnapshot writes the simulated state machine image: index, hash, then filler bytes, then
 * the key-value store's image (LabKv.image, empty when the store is: the simulator's images are
 * then exactly index, hash and filler).
 */
export function encodeSnapshot(
  sm: SimStateMachine,
  pad: number,
  kv: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const b = new Uint8Array(16 + pad + kv.length);
  const v = new DataView(b.buffer);
  v.setFloat64(0, sm.index);
  v.setUint32(8, sm.hash);
  v.setUint32(12, pad);
  for (let i = 0; i < pad; i++) b[16 + i] = (sm.index + i) & 0xff;
  b.set(kv, 16 + pad);
  return b;
}

/** snapshotKv: the key-value store in a snapshot image (what follows the filler). */
export function snapshotKv(b: Uint8Array): LabKv {
  const pad = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(12);
  return LabKv.fromImage(b.subarray(16 + pad));
}

export function decodeSnapshot(b: Uint8Array): SimStateMachine {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pad = v.getUint32(12);
  if (b.length < 16 + pad)
    throw new Error(`snapshot image has ${b.length} bytes, expected at least ${16 + pad}`);
  const index = v.getFloat64(0);
  for (let i = 0; i < pad; i++) {
    if (b[16 + i] !== ((index + i) & 0xff))
      throw new Error(`snapshot image corrupt at byte ${16 + i}`);
  }
  return { index, hash: v.getUint32(8) };
}
