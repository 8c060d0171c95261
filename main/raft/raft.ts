import { checkMessage, inBounds } from './bounds';
import { applyChange, encodeConfEntry, isLearner, isMember, isVoter, quorum } from './conf';
import { RaftLog } from './log';
import type { ConfPoint, LogView } from './log';
import { Progress } from './progress';
import { ReadOnly } from './read-only';
import { SnapshotSender } from './snapshot-send';
import { Tracker } from './tracker';
import type {
  AppMsg,
  AppRespMsg,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  HeartbeatMsg,
  HeartbeatRespMsg,
  Message,
  MessageType,
  NodeId,
  Outgoing,
  ProposeError,
  ProposeResult,
  RaftConfig,
  RaftEvent,
  ReadIndexMsg,
  ReadIndexRespMsg,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  SnapshotPart,
  SnapMsg,
  SnapRespMsg,
  Status,
  Campaign,
  TimeoutNowMsg,
  VoteMsg,
  VoteRespMsg,
} from './types';
import { MAX_RAFT_NUMBER, STATUS_TERM_RUNS } from './types';

const EMPTY = new Uint8Array(0);

interface ResolvedConfig {
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxMsgBytes: number;
  maxInflight: number;
  snapshotChunkBytes: number;
  snapshotWindow: number;
  promoteGap: number;
  maxApplyBytes: number;
  snapshotRetryTicks: number;
}

/** IncomingSnapshot is a follower's partially received InstallSnapshot. */
interface IncomingSnapshot {
  meta: SnapshotMeta;
  total: number;
  /** data: the whole image, filled in as chunks arrive (so nothing is copied at the end). */
  data: Uint8Array;
  received: number;
}

interface ReadyMark {
  lastIndex: number;
  appliedTo: number;
  hardState: HardState;
}

/** MessageOf is the member of the Message union whose type admits T (VoteMsg for 'vote' and for 'pre-vote'). */
type MessageOf<T extends MessageType> = T extends MessageType ? Narrow<Message, T> : never;
type Narrow<M, T> = M extends { type: infer X } ? (T extends X ? M : never) : never;

/** Handler handles messages of type T in one role; Raft.handlers maps every (role, type) pair to one. */
type Handler<T extends MessageType> = (r: Raft, m: MessageOf<T>) => void;

/** HandlerTable has one handler per message type, each receiving its own message type. */
export type HandlerTable = { readonly [T in MessageType]: Handler<T> };

/** dispatch calls the handler of the message's type (the key and the message are typed together). */
function dispatch<T extends MessageType>(
  table: HandlerTable,
  type: T,
  r: Raft,
  m: MessageOf<T>,
): void {
  table[type](r, m);
}

/**
 * Raft is one node's consensus state machine. It is pure: it performs no I/O, reads no clock and
 * draws randomness only from the injected rng. Hosts drive it through RawNode (raw-node.ts),
 * which exposes only what they need: tick(), step(), propose(), proposeConfChange(), readIndex()
 * and transferLeader() as inputs, and ready() — see Ready for the ordering contract: persist
 * BEFORE send, apply only committed entries — then advance(). Its state is private; the getters
 * below are read-only views of it. ReadIndex bookkeeping lives in read-only.ts, the followers'
 * progress in tracker.ts and snapshot sending in snapshot-send.ts.
 */
export class Raft {
  readonly id: NodeId;
  private currentTerm = 0;
  private votedFor: NodeId = 0;
  private leaderId: NodeId = 0;
  private currentRole: Role = 'follower';
  private readonly raftLog = new RaftLog();

  private readonly cfg: ResolvedConfig;
  private readonly rng: () => number;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  /** tracker: on the leader, the progress of every other member and of removed nodes being told. */
  private readonly tracker = new Tracker();
  /** ticks counts tick() calls: the core's own clock, for what it measures in ticks. */
  private ticks = 0;
  private transferee: NodeId = 0;
  /** latestSnapshot: the latest local state-machine image, sent to followers that fell behind the log. */
  private latestSnapshot: Snapshot | undefined;
  private pendingSnapshot: Snapshot | undefined;
  private incoming: IncomingSnapshot | undefined;
  /** snapshotParts: what happened to `incoming` since the last Ready. */
  private snapshotParts: SnapshotPart[] = [];
  private activeConf: ConfPoint;

  private msgs: Message[] = [];
  private events: RaftEvent[] = [];
  private pendingBcast = false;
  /**
   * commitOwed: followers that have not been sent the latest commit index because there was
   * nothing else to send them. A commit alone waits for the next tick (or a read round, or an
   * append that carries it), so under load it rides on the next append instead of costing every
   * follower an extra message and acknowledgement per commit.
   */
  private readonly commitOwed = new Set<NodeId>();

  /** readOnly: linearizable reads waiting on this node, and the ReadStates for the next Ready. */
  private readonly readOnly: ReadOnly;
  private readonly snapshots: SnapshotSender;

  private prevHardState: HardState = { term: 0, vote: 0, commit: 0 };
  private readyMark: ReadyMark | undefined;

  /** committedMember: a configuration in effect at a commit index this node had included it. */
  private committedMember = false;
  /** removedAt: the index of the committed configuration that removed this node (0: none). */
  private removedAt = 0;
  /** campaignRefusedTerm: the term at which a campaign was last refused (reported once per term). */
  private campaignRefusedTerm = -1;
  /** refused counts messages dropped because a number in them is out of bounds. */
  private refused = 0;

  /** term is the current term. */
  get term(): number {
    return this.currentTerm;
  }

  /** vote is the candidate voted for in the current term (0: none). */
  get vote(): NodeId {
    return this.votedFor;
  }

  /** leader is the leader of the current term as far as this node knows (0: none). */
  get leader(): NodeId {
    return this.leaderId;
  }

  get role(): Role {
    return this.currentRole;
  }

  /** log is a read-only view of the log. */
  get log(): LogView {
    return this.raftLog;
  }

  /** snapshot is the latest local state-machine image (taken here or installed from the leader). */
  get snapshot(): Readonly<Snapshot> | undefined {
    return this.latestSnapshot;
  }

  constructor(c: RaftConfig) {
    if (!Number.isSafeInteger(c.id) || c.id <= 0) throw new Error(`raft: invalid node id ${c.id}`);
    if (c.electionTicks <= c.heartbeatTicks) {
      throw new Error('raft: electionTicks must be greater than heartbeatTicks');
    }
    this.id = c.id;
    this.rng = c.rng;
    this.cfg = {
      electionTicks: c.electionTicks,
      heartbeatTicks: c.heartbeatTicks,
      preVote: c.preVote ?? true,
      checkQuorum: c.checkQuorum ?? true,
      maxMsgBytes: c.maxMsgBytes ?? 1 << 20,
      maxInflight: c.maxInflight ?? 256,
      snapshotChunkBytes: c.snapshotChunkBytes ?? 1 << 20,
      snapshotWindow: c.snapshotWindow ?? 4,
      promoteGap: c.promoteGap ?? 100,
      maxApplyBytes: c.maxApplyBytes ?? 64 << 20,
      snapshotRetryTicks: Math.max(2, c.heartbeatTicks * 3),
    };
    this.readOnly = new ReadOnly({
      id: this.id,
      log: this.raftLog,
      term: () => this.currentTerm,
      readAck: (id) => this.tracker.readAck(id),
      send: (m) => this.send(m),
      sendOwedCommit: (id) => this.sendOwedCommit(id),
    });
    this.snapshots = new SnapshotSender(
      {
        chunkBytes: this.cfg.snapshotChunkBytes,
        window: this.cfg.snapshotWindow,
        retryTicks: this.cfg.snapshotRetryTicks,
      },
      {
        latest: () => this.latestSnapshot,
        send: (m) => this.send(m),
        event: (e) => this.events.push(e),
      },
    );
    const st = c.state;
    if (st && (st.hardState.term > 0 || st.entries.length > 0 || st.snapshot)) {
      this.restoreFrom(c);
    } else if (c.initialVoters && c.initialVoters.length > 0) {
      const ids = c.initialVoters.map((v) => v.id).sort((a, b) => a - b);
      const addresses: Record<string, string> = {};
      for (const v of c.initialVoters) addresses[String(v.id)] = v.address;
      const conf: ConfState = { voters: ids, learners: [], addresses };
      this.raftLog.append([
        {
          index: 1,
          term: 1,
          type: 'conf',
          data: encodeConfEntry({ change: { type: 'bootstrap' }, conf }),
        },
      ]);
      this.currentTerm = 1;
      this.raftLog.commitTo(1);
    }
    this.activeConf = this.raftLog.latestConf();
    this.committedMember = this.raftLog.confs.some(
      (cp) => cp.index <= this.raftLog.commit && isMember(cp.conf, this.id),
    );
    this.currentRole = isLearner(this.raftLog.conf(), this.id) ? 'learner' : 'follower';
    this.resetRandomizedElectionTimeout();
  }

  private restoreFrom(c: RaftConfig): void {
    const st = c.state!;
    const log = this.raftLog;
    const numbers: [string, number][] = [
      ['hard state term', st.hardState.term],
      ['hard state vote', st.hardState.vote],
      ['hard state commit', st.hardState.commit],
    ];
    if (st.snapshot) {
      numbers.push(['snapshot index', st.snapshot.meta.index]);
      numbers.push(['snapshot term', st.snapshot.meta.term]);
    }
    const lastEntry = st.entries[st.entries.length - 1];
    if (lastEntry) {
      numbers.push(['last entry index', lastEntry.index]);
      numbers.push([`entry ${lastEntry.index} term`, lastEntry.term]);
    }
    for (const [what, n] of numbers) {
      if (!inBounds(n)) {
        throw new Error(
          `raft: persisted ${what} ${n} is not an integer from 0 to ${MAX_RAFT_NUMBER}`,
        );
      }
    }
    if (st.snapshot) {
      log.restore(st.snapshot.meta);
      this.latestSnapshot = st.snapshot;
    }
    const ents = st.entries.filter((e) => e.index > log.prevIndex);
    if (ents.length > 0 && ents[0]!.index !== log.prevIndex + 1) {
      throw new Error(
        `raft: persisted entries start at ${ents[0]!.index}, expected ${log.prevIndex + 1}`,
      );
    }
    log.append(ents);
    log.unstableFrom = log.lastIndex() + 1;
    log.persistedIndex = log.lastIndex();
    log.truncatedBelow = Infinity;
    this.currentTerm = st.hardState.term;
    this.votedFor = st.hardState.vote;
    log.commit = Math.min(Math.max(st.hardState.commit, log.prevIndex), log.lastIndex());
    log.applied = Math.min(Math.max(c.applied ?? log.prevIndex, log.prevIndex), log.commit);
    this.prevHardState = { ...st.hardState };
  }

  // ---------------------------------------------------------------- inputs

  /** tick advances logical time by one tick. */
  tick(): void {
    this.ticks++;
    if (this.currentRole === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * leaderGone tells a follower that the process of its leader `id` is known to be gone (on
   * 127.0.0.1: the leader's port refuses connections). The follower forgets the leader, so it
   * grants the campaigns that leader stickiness would refuse, and campaigns itself after a short
   * wait instead of the rest of its election timeout. The waits are staggered by rank among the
   * other voters (lowest id first, each in its own slot of electionTicks/5 shared out), since
   * followers that all learn of the loss at once and campaign together split the vote and fall
   * back to the election timeout. It changes timing only, never safety: votes and terms follow
   * the usual rules, and a leader that is heard from again is followed again.
   */
  leaderGone(id: NodeId): void {
    if (this.currentRole !== 'follower' || id === 0 || this.leaderId !== id) return;
    this.setLeader(0);
    const others = this.raftLog
      .conf()
      .voters.filter((v) => v !== id)
      .sort((a, b) => a - b);
    const rank = Math.max(0, others.indexOf(this.id));
    const slot = Math.max(1, Math.floor(this.cfg.electionTicks / 5 / Math.max(1, others.length)));
    const wait = 1 + rank * slot + Math.floor(this.rng() * Math.max(1, slot >> 1));
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - wait);
  }

  /** step feeds one message received from a peer. Misaddressed messages are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id || m.from <= 0) return;
    const wrong = checkMessage(m);
    if (wrong !== undefined) {
      // Never adopt a term or index that cannot be incremented exactly: one such heartbeat would
      // otherwise leave every node unable to campaign, and be persisted.
      this.refused++;
      this.events.push({ type: 'refused', from: m.from, message: m.type, reason: wrong });
      return;
    }
    if (
      this.currentRole === 'leader' &&
      !this.tracker.prs.has(m.from) &&
      !this.tracker.leaving.has(m.from) &&
      !isMember(this.raftLog.conf(), m.from)
    ) {
      // A node outside the configuration still talks to us: it was removed (by a committed
      // change: prs keeps a node until its removal commits) and has not learnt it. Tell it.
      this.tellRemoved(m.from);
    }
    if (m.term > this.currentTerm) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        // Leader stickiness: while we hear from a live leader, ignore campaigns (unless transfer).
        const inLease =
          this.cfg.checkQuorum &&
          this.leaderId !== 0 &&
          this.electionElapsed < this.cfg.electionTicks;
        if (!m.transfer && inLease) {
          this.events.push({
            type: 'vote',
            candidate: m.from,
            term: m.term,
            prevote: m.type === 'pre-vote',
            granted: false,
            reason: `leader ${this.leaderId} is alive`,
          });
          return;
        }
      }
      if (m.type === 'pre-vote' || (m.type === 'pre-vote-resp' && !m.reject)) {
        // A PreVote and a granted PreVote response never change our term.
      } else {
        if (this.currentRole === 'leader' && this.transferee !== 0 && m.from === this.transferee) {
          this.events.push({ type: 'transfer', target: this.transferee, status: 'done' });
          this.transferee = 0;
        }
        const lead = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : 0;
        this.becomeFollower(m.term, lead, 'higher-term');
      }
    } else if (m.term < this.currentTerm) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === 'app' || m.type === 'heartbeat')
      ) {
        // Tell a stale leader about the newer term, so it steps down (and a node partitioned
        // away with PreVote on does not stay stuck).
        this.send({
          type: 'app-resp',
          to: m.from,
          index: 0,
          reject: false,
          hintIndex: 0,
          hintTerm: 0,
        });
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-resp', to: m.from, reject: true });
      }
      return;
    }
    dispatch(Raft.handlers[this.currentRole], m.type, this, m);
  }

  /** propose appends data on the leader; the result says where, or why not. */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeMany([data]);
  }

  /** proposeMany appends several entries at once (one broadcast); the result names the last one. */
  private proposeMany(datas: Uint8Array[]): ProposeResult {
    const err = this.checkProposable(datas.length);
    if (err) return err;
    const ents: Entry[] = [];
    let index = this.raftLog.lastIndex();
    for (const data of datas)
      ents.push({ index: ++index, term: this.currentTerm, type: 'normal', data });
    this.raftLog.append(ents);
    this.pendingBcast = true;
    return { ok: true, index, term: this.currentTerm };
  }

  /**
   * proposeConfChange proposes one single-server membership change. At most one change may be
   * uncommitted, a new leader must first commit an entry of its own term, and a learner is promoted
   * only when its match index is within promoteGap of our last index.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    const err = this.checkProposable(1);
    if (err) return err;
    // Not ready first: a new leader may have inherited a config entry it does not yet know to be
    // committed, and committing an entry of its own term settles that one too.
    if (this.raftLog.term(this.raftLog.commit) !== this.currentTerm) {
      return this.fail('leader-not-ready', 'the leader has not committed an entry of its term yet');
    }
    if (this.raftLog.confIndex() > this.raftLog.commit) {
      return this.fail(
        'config-change-in-progress',
        `config entry ${this.raftLog.confIndex()} is not committed yet (commit ${this.raftLog.commit})`,
      );
    }
    if (cc.type === 'promote') {
      const pr = this.tracker.prs.get(cc.node);
      if (pr && isLearner(this.raftLog.conf(), cc.node)) {
        const last = this.raftLog.lastIndex();
        if (pr.match + this.cfg.promoteGap < last) {
          return this.fail(
            'learner-not-caught-up',
            `learner ${cc.node} matches ${pr.match}, leader is at ${last} (gap allowed ${this.cfg.promoteGap})`,
          );
        }
      }
    }
    const next = applyChange(this.raftLog.conf(), cc);
    if (typeof next === 'string') return this.fail('invalid-change', next);
    const index = this.raftLog.lastIndex() + 1;
    this.raftLog.append([
      {
        index,
        term: this.currentTerm,
        type: 'conf',
        data: encodeConfEntry({ change: cc, conf: next }),
      },
    ]);
    this.syncConf();
    this.pendingBcast = true;
    return { ok: true, index, term: this.currentTerm };
  }

  /**
   * readIndex requests a linearizable read tagged ctx. A ReadState with the same ctx follows in a
   * later Ready: serve the read once applied >= its index, or retry when ok is false.
   */
  readIndex(ctx: number): ProposeResult {
    if (this.currentRole === 'leader') {
      this.readOnly.request(ctx, this.id);
      return { ok: true, index: 0, term: this.currentTerm };
    }
    if (this.leaderId === 0) return this.fail('not-leader', 'no leader is known');
    this.readOnly.forward(ctx, this.leaderId);
    return { ok: true, index: 0, term: this.currentTerm };
  }

  /**
   * transferLeader hands leadership to `target`: proposals stop, the target is caught up, then it
   * gets TimeoutNow. The transfer is abandoned after an election timeout.
   */
  transferLeader(target: NodeId): ProposeResult {
    if (this.currentRole !== 'leader')
      return this.fail('not-leader', `node ${this.id} is not the leader`);
    if (target === this.id) return { ok: true, index: 0, term: this.currentTerm };
    if (!isVoter(this.raftLog.conf(), target) || !this.tracker.prs.has(target)) {
      return this.fail('invalid-change', `node ${target} is not a voter`);
    }
    if (this.transferee === target) return { ok: true, index: 0, term: this.currentTerm };
    if (this.transferee !== 0) this.abortTransfer();
    this.transferee = target;
    this.electionElapsed = 0;
    this.events.push({ type: 'transfer', target, status: 'started' });
    const pr = this.tracker.prs.get(target)!;
    if (pr.match === this.raftLog.lastIndex()) this.send({ type: 'timeout-now', to: target });
    else this.sendAppend(pr, true);
    return { ok: true, index: 0, term: this.currentTerm };
  }

  /**
   * compact records that the host's state machine image `data` reflects every entry up to `index`
   * (which must be applied) and drops log entries up to index - keep. The image is what lagging
   * followers receive through InstallSnapshot.
   */
  compact(index: number, data: Uint8Array, keep = 0): SnapshotMeta | undefined {
    if (this.latestSnapshot && index <= this.latestSnapshot.meta.index) return undefined;
    if (index > this.raftLog.applied) {
      throw new Error(`raft: cannot snapshot at ${index}, applied is ${this.raftLog.applied}`);
    }
    if (index < this.raftLog.prevIndex) return undefined;
    const meta: SnapshotMeta = {
      index,
      term: this.raftLog.term(index)!,
      conf: this.raftLog.confAt(index),
    };
    this.latestSnapshot = { meta, data };
    this.raftLog.compactTo(Math.max(this.raftLog.prevIndex, index - keep));
    this.events.push({ type: 'compacted', index });
    return meta;
  }

  // ---------------------------------------------------------------- Ready

  hasReady(): boolean {
    if (this.readyMark) return false;
    const log = this.raftLog;
    return (
      this.pendingBcast ||
      this.readOnly.pending ||
      this.msgs.length > 0 ||
      this.readOnly.hasStates() ||
      this.events.length > 0 ||
      this.pendingSnapshot !== undefined ||
      this.snapshotParts.length > 0 ||
      log.unstableFrom <= log.lastIndex() ||
      log.applied < Math.min(log.commit, log.lastIndex()) ||
      this.currentTerm !== this.prevHardState.term ||
      this.votedFor !== this.prevHardState.vote ||
      log.commit !== this.prevHardState.commit
    );
  }

  /** ready returns the next batch of work (see Ready for the order the host must follow). */
  ready(): Ready {
    if (this.readyMark) throw new Error('raft: ready() called again before advance()');
    this.flush();
    this.noteMembership();
    const log = this.raftLog;
    const last = log.lastIndex();
    const hs: HardState = { term: this.currentTerm, vote: this.votedFor, commit: log.commit };
    const prev = this.prevHardState;
    const hsChanged = hs.term !== prev.term || hs.vote !== prev.vote || hs.commit !== prev.commit;
    const entries = log.unstableFrom <= last ? log.slice(log.unstableFrom, last + 1) : [];
    const applyTo = Math.min(log.commit, last);
    const committed =
      log.applied < applyTo ? log.slice(log.applied + 1, applyTo + 1, this.cfg.maxApplyBytes) : [];
    const rd: Ready = {
      hardState: hsChanged ? hs : undefined,
      entries,
      snapshot: this.pendingSnapshot,
      snapshotParts: this.snapshotParts,
      committedEntries: committed,
      messages: this.msgs,
      readStates: this.readOnly.takeStates(),
      events: this.events,
      mustSync:
        entries.length > 0 ||
        this.pendingSnapshot !== undefined ||
        hs.term !== prev.term ||
        hs.vote !== prev.vote,
    };
    this.readyMark = {
      lastIndex: entries.length > 0 ? last : -1,
      appliedTo: committed.length > 0 ? committed[committed.length - 1]!.index : -1,
      hardState: hs,
    };
    log.unstableFrom = last + 1;
    log.truncatedBelow = Infinity;
    this.msgs = [];
    this.events = [];
    this.snapshotParts = [];
    this.pendingSnapshot = undefined;
    return rd;
  }

  /** advance tells the core the last Ready was carried out: persisted, sent and applied. */
  advance(): void {
    const mark = this.readyMark;
    if (!mark) throw new Error('raft: advance() without ready()');
    this.readyMark = undefined;
    this.prevHardState = mark.hardState;
    const log = this.raftLog;
    if (mark.lastIndex >= 0) {
      const persisted = Math.min(mark.lastIndex, log.truncatedBelow - 1, log.lastIndex());
      if (persisted > log.persistedIndex) log.persistedIndex = persisted;
    }
    if (mark.appliedTo > log.applied) log.applied = mark.appliedTo;
    if (this.currentRole === 'leader' && this.maybeCommit()) this.pendingBcast = true;
  }

  /**
   * setElectionTimer sets where a node that is not leader stands in its election timeout:
   * `elapsed` ticks of `timeout` (timeout at least electionTicks). A lab-only hook (the lab's
   * "align timers" and "spread timers" controls, main/lab/lab-cluster.ts); no host of a real node
   * calls it. A leader's timers are left alone.
   */
  setElectionTimer(elapsed: number, timeout: number): void {
    if (this.currentRole === 'leader') return;
    this.randomizedElectionTimeout = Math.max(this.cfg.electionTicks, Math.floor(timeout));
    this.electionElapsed = Math.max(
      0,
      Math.min(Math.floor(elapsed), this.randomizedElectionTimeout - 1),
    );
  }

  // ---------------------------------------------------------------- status

  status(): Status {
    const log = this.raftLog;
    const conf = log.conf();
    const last = log.lastIndex();
    const progress = this.currentRole === 'leader' ? this.tracker.status(last) : [];
    return {
      id: this.id,
      role: this.currentRole,
      term: this.currentTerm,
      vote: this.votedFor,
      leader: this.leaderId,
      commit: log.commit,
      applied: log.applied,
      firstIndex: log.firstIndex(),
      lastIndex: last,
      persistedIndex: log.persistedIndex,
      snapshotIndex: this.latestSnapshot?.meta.index ?? 0,
      snapshotTerm: this.latestSnapshot?.meta.term ?? 0,
      voters: [...conf.voters],
      learners: [...conf.learners],
      addresses: { ...conf.addresses },
      pendingConfIndex: log.confIndex() > log.commit ? log.confIndex() : 0,
      transferee: this.transferee,
      progress,
      snapshotReceiving: this.incoming
        ? {
            index: this.incoming.meta.index,
            received: this.incoming.received,
            total: this.incoming.total,
          }
        : undefined,
      timer: {
        electionElapsed: this.electionElapsed,
        electionTimeout: this.randomizedElectionTimeout,
        electionTicks: this.cfg.electionTicks,
        heartbeatElapsed: this.heartbeatElapsed,
        heartbeatTicks: this.cfg.heartbeatTicks,
      },
      campaign: this.campaignStatus(),
      termRuns: log.termRuns(STATUS_TERM_RUNS),
    };
  }

  /** campaignStatus: the votes answered so far while this node campaigns (see Status.campaign). */
  private campaignStatus(): Campaign | undefined {
    const role = this.currentRole;
    if (role !== 'pre-candidate' && role !== 'candidate') return undefined;
    const granted: NodeId[] = [];
    const rejected: NodeId[] = [];
    for (const [id, g] of this.votes) (g ? granted : rejected).push(id);
    granted.sort((a, b) => a - b);
    rejected.sort((a, b) => a - b);
    return {
      kind: role === 'pre-candidate' ? 'pre-vote' : 'vote',
      // A pre-candidate asks for the term it would campaign in.
      term: role === 'pre-candidate' ? this.currentTerm + 1 : this.currentTerm,
      granted,
      rejected,
    };
  }

  /**
   * noteMembership reports the removal of this node once: when the configuration in effect at the
   * commit index leaves it out although one at an earlier commit index included it. (A node that
   * is still joining has never been in a committed configuration, so it is not "removed".)
   */
  private noteMembership(): void {
    const log = this.raftLog;
    const cp = log.confPointAt(log.commit);
    if (isMember(cp.conf, this.id)) {
      this.committedMember = true;
    } else if (this.committedMember && this.removedAt === 0) {
      this.removedAt = Math.max(cp.index, 1);
      this.events.push({ type: 'removed', index: this.removedAt });
    }
  }

  /** promotable: this node may campaign (it is a voter in its latest configuration). */
  private promotable(): boolean {
    return isVoter(this.raftLog.conf(), this.id);
  }

  // ---------------------------------------------------------------- role changes

  private resetRandomizedElectionTimeout(): void {
    const et = this.cfg.electionTicks;
    this.randomizedElectionTimeout = et + Math.floor(this.rng() * et);
  }

  private setLeader(id: NodeId): void {
    if (this.leaderId !== id) {
      this.leaderId = id;
      this.events.push({ type: 'leader', leader: id, term: this.currentTerm });
      this.readOnly.failForwarded();
    }
  }

  private setRole(role: Role): void {
    if (this.currentRole !== role) {
      this.currentRole = role;
      this.events.push({ type: 'role', role, term: this.currentTerm });
    }
  }

  private reset(term: number): void {
    if (this.currentTerm !== term) {
      this.currentTerm = term;
      this.votedFor = 0;
      this.readOnly.failForwarded();
    }
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.tracker.clear();
    this.pendingBcast = false;
    this.commitOwed.clear();
    if (this.transferee !== 0) this.abortTransfer();
    this.readOnly.failPending();
  }

  private becomeFollower(
    term: number,
    leader: NodeId,
    reason?: 'check-quorum' | 'removed' | 'higher-term',
  ): void {
    const wasLeader = this.currentRole === 'leader';
    this.reset(term);
    this.setLeader(leader);
    if (wasLeader && reason)
      this.events.push({ type: 'step-down', term: this.currentTerm, reason });
    this.setRole(isLearner(this.raftLog.conf(), this.id) ? 'learner' : 'follower');
  }

  /** campaign starts a PreVote round, an election, or (after TimeoutNow) an election that bypasses stickiness. */
  private campaign(kind: 'pre' | 'election' | 'transfer'): void {
    if (!this.promotable()) return;
    if (this.currentTerm + 1 > MAX_RAFT_NUMBER || this.raftLog.lastIndex() + 1 > MAX_RAFT_NUMBER) {
      // Never campaign into a term (or a leader's no-op at an index) beyond the bound every
      // node accepts: the others would refuse it, and no term after it could exist.
      if (this.campaignRefusedTerm !== this.currentTerm) {
        this.campaignRefusedTerm = this.currentTerm;
        this.events.push({
          type: 'refused',
          from: this.id,
          message: 'campaign',
          reason: `term ${this.currentTerm} or last index ${this.raftLog.lastIndex()} cannot be incremented beyond ${MAX_RAFT_NUMBER}`,
        });
      }
      return;
    }
    let voteTerm: number;
    if (kind === 'pre') {
      this.votes.clear();
      this.electionElapsed = 0;
      this.resetRandomizedElectionTimeout();
      this.setLeader(0);
      this.setRole('pre-candidate');
      voteTerm = this.currentTerm + 1;
    } else {
      this.reset(this.currentTerm + 1);
      this.votedFor = this.id;
      this.setLeader(0);
      this.setRole('candidate');
      voteTerm = this.currentTerm;
    }
    this.events.push({
      type: 'campaign',
      term: voteTerm,
      prevote: kind === 'pre',
      transfer: kind === 'transfer',
    });
    this.votes.set(this.id, true);
    if (this.tally() === 'won') {
      if (kind === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const type = kind === 'pre' ? 'pre-vote' : 'vote';
    for (const v of this.raftLog.conf().voters) {
      if (v === this.id) continue;
      this.send({
        type,
        to: v,
        term: voteTerm,
        lastIndex: this.raftLog.lastIndex(),
        lastTerm: this.raftLog.lastTerm(),
        transfer: kind === 'transfer',
      });
    }
  }

  private tally(): 'won' | 'lost' | 'pending' {
    const voters = this.raftLog.conf().voters;
    const q = quorum(voters.length);
    let granted = 0;
    let rejected = 0;
    for (const v of voters) {
      const g = this.votes.get(v);
      if (g === true) granted++;
      else if (g === false) rejected++;
    }
    if (granted >= q) return 'won';
    if (rejected > voters.length - q) return 'lost';
    return 'pending';
  }

  private becomeLeader(): void {
    this.reset(this.currentTerm);
    this.setLeader(this.id);
    this.setRole('leader');
    const conf = this.raftLog.conf();
    const next = this.raftLog.lastIndex() + 1;
    for (const id of [...conf.voters, ...conf.learners]) {
      if (id !== this.id) this.tracker.prs.set(id, new Progress(id, next, isLearner(conf, id)));
    }
    // The no-op of this term: it commits everything before it (Figure 8) and unblocks reads.
    this.raftLog.append([{ index: next, term: this.currentTerm, type: 'normal', data: EMPTY }]);
    this.pendingBcast = true;
  }

  private stepDownRemoved(): void {
    // Hand over to the most caught-up voter so the cluster does not wait for an election timeout.
    let best: Progress | undefined;
    for (const v of this.raftLog.conf().voters) {
      const pr = this.tracker.prs.get(v);
      if (pr && (!best || pr.match > best.match)) best = pr;
    }
    for (const pr of this.tracker.prs.values()) this.sendAppend(pr, true);
    if (best && best.match === this.raftLog.lastIndex())
      this.send({ type: 'timeout-now', to: best.id });
    this.becomeFollower(this.currentTerm, 0, 'removed');
  }

  private abortTransfer(): void {
    this.events.push({ type: 'transfer', target: this.transferee, status: 'aborted' });
    this.transferee = 0;
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed < this.randomizedElectionTimeout) return;
    if (this.promotable()) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre' : 'election');
    } else if (this.removedAt === 0) {
      this.electionElapsed = 0;
      this.resetRandomizedElectionTimeout();
      this.probe();
    }
  }

  /**
   * probe is what a node that cannot campaign (a learner, or a node its latest configuration
   * leaves out) does when no leader has been heard from for an election timeout: it forgets the
   * leader and tells the voters it knows that it is there, with a heartbeat response (which
   * changes nothing on a follower). A leader that no longer counts it as a member then tells it
   * of its removal (see tellRemoved); one that does simply replicates to it as usual. Without
   * this, a removed node that missed the commit of its removal would wait forever.
   */
  private probe(): void {
    this.setLeader(0);
    for (const v of this.raftLog.conf().voters) {
      if (v !== this.id) this.send({ type: 'heartbeat-resp', to: v, readSeq: 0 });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        if (!this.tracker.quorumActive(this.raftLog.conf().voters, this.id)) {
          this.becomeFollower(this.currentTerm, 0, 'check-quorum');
          return;
        }
      }
      this.tracker.endActivityWindow(this.ticks, this.cfg.electionTicks);
      if (this.transferee !== 0) this.abortTransfer();
    }
    for (const pr of this.tracker.all()) this.snapshots.tick(pr);
    for (const id of this.commitOwed) this.sendOwedCommit(id);
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  // ---------------------------------------------------------------- sending

  /**
   * tellRemoved starts telling node `id`, which is outside the configuration and not being
   * removed by an uncommitted change, that it was removed: replicate to it until it acknowledges
   * the current commit index. Once it has, its committed configuration leaves it out and it
   * shuts down (see the 'removed' event).
   */
  private tellRemoved(id: NodeId): void {
    const pr = new Progress(id, this.raftLog.lastIndex() + 1, false);
    pr.recentActive = true;
    this.tracker.leaving.set(id, { pr, until: this.raftLog.commit, toldAt: undefined });
    this.sendAppend(pr, true);
  }

  private send(m: Outgoing): void {
    const full = { ...m, from: this.id, term: m.term ?? this.currentTerm } as Message;
    this.msgs.push(full);
  }

  /** flush turns deferred broadcasts (proposals, commits) and ReadIndex rounds into messages. */
  private flush(): void {
    if (this.currentRole !== 'leader') {
      this.pendingBcast = false;
      this.readOnly.cancelRound();
      return;
    }
    if (this.pendingBcast) {
      this.pendingBcast = false;
      for (const pr of this.tracker.prs.values()) {
        // Fill the follower's window; a commit with nothing to carry it waits (see commitOwed).
        let sent = false;
        while (this.sendAppend(pr, false)) sent = true;
        if (!sent) this.commitOwed.add(pr.id);
      }
    }
    if (this.readOnly.startRound()) this.bcastHeartbeat();
  }

  /** sendOwedCommit sends a follower the commit index it is owed, if it is owed one. */
  private sendOwedCommit(id: NodeId): void {
    const pr = this.tracker.prs.get(id);
    if (!pr) this.commitOwed.delete(id);
    else if (this.commitOwed.has(id)) this.sendAppend(pr, true);
  }

  private bcastHeartbeat(): void {
    for (const pr of this.tracker.all()) {
      this.send({
        type: 'heartbeat',
        to: pr.id,
        commit: Math.min(pr.match, this.raftLog.commit),
        readSeq: this.readOnly.seq,
      });
    }
  }

  /** sendAppend sends the follower what it lacks (or a snapshot); returns false if nothing was sent. */
  private sendAppend(pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused(this.cfg.maxInflight)) return false;
    const log = this.raftLog;
    if (pr.next > log.lastIndex() + 1) pr.next = log.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) return this.snapshots.start(pr);
    const ents = log.slice(pr.next, log.lastIndex() + 1, this.cfg.maxMsgBytes);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', to: pr.id, prevIndex, prevTerm, entries: ents, commit: log.commit });
    this.commitOwed.delete(pr.id);
    if (ents.length > 0) {
      const last = ents[ents.length - 1]!.index;
      if (pr.state === 'replicate') {
        pr.next = last + 1;
        pr.inflight.push(last);
      } else {
        pr.paused = true;
      }
    } else if (pr.state === 'probe') {
      pr.paused = true;
    }
    return true;
  }

  private fail(error: ProposeError, detail: string): ProposeResult {
    return { ok: false, error, leader: this.leaderId, detail };
  }

  private checkProposable(entries: number): ProposeResult | undefined {
    if (this.currentRole !== 'leader') {
      return this.fail(
        'not-leader',
        this.leaderId ? `leader is ${this.leaderId}` : 'no leader is known',
      );
    }
    if (this.transferee !== 0) {
      return this.fail('transfer-in-progress', `leadership is moving to ${this.transferee}`);
    }
    if (this.raftLog.lastIndex() + entries > MAX_RAFT_NUMBER) {
      return this.fail(
        'log-full',
        `${entries} entries after ${this.raftLog.lastIndex()} would pass the largest index ${MAX_RAFT_NUMBER}`,
      );
    }
    return undefined;
  }

  // ---------------------------------------------------------------- leader bookkeeping

  /** maybeCommit advances commit to the quorum-th largest match index, for entries of this term only (§5.4.2). */
  private maybeCommit(): boolean {
    const log = this.raftLog;
    const mci = this.tracker.committed(log.conf().voters, this.id, log.persistedIndex);
    if (mci > log.commit && log.term(mci) === this.currentTerm) {
      log.commitTo(mci);
      this.onLeaderCommit();
      return true;
    }
    return false;
  }

  private onLeaderCommit(): void {
    const log = this.raftLog;
    this.readOnly.onCommit();
    if (log.confIndex() <= log.commit) {
      const conf = log.conf();
      // A removed node stops being a member; it is told about the commit of its removal until
      // it acknowledges it, or is silent for an election timeout (see tickHeartbeat).
      for (const pr of [...this.tracker.prs.values()]) {
        if (!isMember(conf, pr.id)) {
          this.tracker.prs.delete(pr.id);
          this.tracker.leaving.set(pr.id, { pr, until: log.confIndex(), toldAt: undefined });
          this.sendAppend(pr, true);
        }
      }
      if (!isVoter(conf, this.id)) this.stepDownRemoved();
    }
  }

  /** syncConf applies the latest configuration in the log: roles, and on the leader its progress set. */
  private syncConf(): void {
    const cp = this.raftLog.latestConf();
    if (cp === this.activeConf) return;
    this.activeConf = cp;
    const conf = cp.conf;
    if (cp.change) this.events.push({ type: 'config', index: cp.index, change: cp.change, conf });
    if (this.currentRole === 'leader') {
      for (const id of [...conf.voters, ...conf.learners]) {
        if (id === this.id) continue;
        const pr = this.tracker.prs.get(id);
        if (pr) pr.learner = isLearner(conf, id);
        else
          this.tracker.prs.set(
            id,
            new Progress(id, this.raftLog.lastIndex() + 1, isLearner(conf, id)),
          );
      }
      if (this.transferee !== 0 && !isVoter(conf, this.transferee)) this.abortTransfer();
      if (this.maybeCommit()) this.pendingBcast = true;
    } else if (this.currentRole === 'follower' || this.currentRole === 'learner') {
      this.setRole(isLearner(conf, this.id) ? 'learner' : 'follower');
    } else if (!isVoter(conf, this.id)) {
      this.becomeFollower(this.currentTerm, 0);
    }
  }

  // ---------------------------------------------------------------- handlers

  /** handleVote answers RequestVote and PreVote (§5.2, §5.4.1; thesis §9.6). */
  private static handleVote(r: Raft, m: VoteMsg): void {
    const pre = m.type === 'pre-vote';
    const canVote =
      r.votedFor === m.from ||
      (r.votedFor === 0 && r.leaderId === 0) ||
      (pre && m.term > r.currentTerm);
    const upToDate = r.raftLog.isUpToDate(m.lastIndex, m.lastTerm);
    const respType = pre ? 'pre-vote-resp' : 'vote-resp';
    if (canVote && upToDate) {
      r.send({ type: respType, to: m.from, term: m.term, reject: false });
      if (!pre) {
        r.electionElapsed = 0;
        r.votedFor = m.from;
      }
      r.events.push({
        type: 'vote',
        candidate: m.from,
        term: m.term,
        prevote: pre,
        granted: true,
        reason: 'granted',
      });
    } else {
      r.send({ type: respType, to: m.from, reject: true });
      const reason = !canVote
        ? r.votedFor !== 0
          ? `already voted for ${r.votedFor} in term ${r.currentTerm}`
          : `leader ${r.leaderId} is known`
        : `candidate log (${m.lastTerm}/${m.lastIndex}) is behind ours (${r.raftLog.lastTerm()}/${r.raftLog.lastIndex()})`;
      r.events.push({
        type: 'vote',
        candidate: m.from,
        term: m.term,
        prevote: pre,
        granted: false,
        reason,
      });
    }
  }

  private static handleVoteResp(r: Raft, m: VoteRespMsg): void {
    if (!isVoter(r.raftLog.conf(), m.from)) return;
    r.votes.set(m.from, !m.reject);
    const outcome = r.tally();
    if (outcome === 'won') {
      if (r.currentRole === 'pre-candidate') r.campaign('election');
      else r.becomeLeader();
    } else if (outcome === 'lost') {
      r.becomeFollower(r.currentTerm, 0);
    }
  }

  /** handleAppend is the follower side of AppendEntries (§5.3), with a fast-backtracking hint on reject. */
  private static handleAppend(r: Raft, m: AppMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    const log = r.raftLog;
    if (m.prevIndex < log.commit) {
      r.send({
        type: 'app-resp',
        to: m.from,
        index: log.commit,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    const lastNew = log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew >= 0) {
      r.syncConf();
      r.send({
        type: 'app-resp',
        to: m.from,
        index: lastNew,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    const hintIndex = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
    r.send({
      type: 'app-resp',
      to: m.from,
      index: m.prevIndex,
      reject: true,
      hintIndex,
      hintTerm: log.term(hintIndex) ?? 0,
    });
  }

  private static handleHeartbeat(r: Raft, m: HeartbeatMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    r.raftLog.commitTo(Math.min(m.commit, r.raftLog.lastIndex()));
    r.send({ type: 'heartbeat-resp', to: m.from, readSeq: m.readSeq });
  }

  /** dropIncoming gives up the snapshot being received (if any) and tells the host. */
  private dropIncoming(): void {
    if (this.incoming) this.snapshotParts.push({ kind: 'dropped', meta: this.incoming.meta });
    this.incoming = undefined;
  }

  /** handleSnap receives one InstallSnapshot chunk; the image is installed when the last one arrives. */
  private static handleSnap(r: Raft, m: SnapMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    const log = r.raftLog;
    const meta = m.meta;
    const reply = (nextOffset: number, gap: boolean, done: boolean): void =>
      r.send({ type: 'snap-resp', to: m.from, snapIndex: meta.index, nextOffset, gap, done });
    if (meta.index <= log.commit) {
      r.dropIncoming();
      r.send({
        type: 'app-resp',
        to: m.from,
        index: log.commit,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    let inc = r.incoming;
    if (!inc || inc.meta.index !== meta.index || inc.meta.term !== meta.term) {
      if (m.offset !== 0) {
        reply(0, true, false);
        return;
      }
      let data: Uint8Array;
      try {
        data = new Uint8Array(m.total);
      } catch {
        r.refused++;
        r.events.push({
          type: 'refused',
          from: m.from,
          message: 'snap',
          reason: `cannot hold a snapshot image of ${m.total} bytes`,
        });
        return;
      }
      inc = r.incoming = { meta, total: m.total, data, received: 0 };
    }
    if (m.offset < inc.received) {
      reply(inc.received, false, false);
      return;
    }
    if (m.offset > inc.received) {
      reply(inc.received, true, false);
      return;
    }
    if (inc.received + m.data.length > inc.total) {
      // More bytes than the image was announced to hold: start over.
      r.dropIncoming();
      reply(0, true, false);
      return;
    }
    const at = inc.received;
    inc.data.set(m.data, at);
    inc.received += m.data.length;
    if (m.data.length > 0 || at === 0) {
      r.snapshotParts.push({
        kind: 'bytes',
        meta: inc.meta,
        total: inc.total,
        offset: at,
        data: inc.data.subarray(at, inc.received),
      });
    }
    if (!m.done || inc.received < inc.total) {
      reply(inc.received, false, false);
      return;
    }
    if (log.matchTerm(meta.index, meta.term)) {
      r.dropIncoming();
      log.commitTo(meta.index);
      r.send({
        type: 'app-resp',
        to: m.from,
        index: meta.index,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    r.incoming = undefined;
    const data = inc.data;
    log.restore(meta);
    r.latestSnapshot = { meta, data };
    r.pendingSnapshot = r.latestSnapshot;
    r.syncConf();
    r.events.push({ type: 'snapshot-installed', index: meta.index, term: meta.term, from: m.from });
    reply(inc.received, false, true);
  }

  private static handleTimeoutNow(r: Raft, _m: TimeoutNowMsg): void {
    r.campaign('transfer');
  }

  private static handleReadIndexNotLeader(r: Raft, m: ReadIndexMsg): void {
    r.send({ type: 'read-index-resp', to: m.from, ctx: m.ctx, index: 0, reject: true });
  }

  private static handleReadIndexResp(r: Raft, m: ReadIndexRespMsg): void {
    r.readOnly.answer(m);
  }

  /** leaderAppResp processes a follower's AppendEntries answer: progress, commit, pipelining. */
  private static leaderAppResp(r: Raft, m: AppRespMsg): void {
    const pr = r.tracker.of(m.from);
    if (!pr) return;
    pr.recentActive = true;
    const log = r.raftLog;
    if (m.reject) {
      const hint = m.hintTerm > 0 ? log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        r.sendAppend(pr, true);
      }
      return;
    }
    const wasPaused = pr.isPaused(r.cfg.maxInflight);
    const updated = pr.maybeUpdate(m.index);
    const leaving = r.tracker.leaving.get(m.from);
    if (leaving && pr.match >= leaving.until) {
      // It has the entries through its removal. One more append carries the commit index (the
      // one it acknowledged may have left before the removal committed); then it is left be,
      // and if that append is lost too, its probe brings it back here.
      pr.becomeProbe();
      r.sendAppend(pr, true);
      leaving.toldAt = r.ticks;
      return;
    }
    if (!updated) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot') {
      if (pr.match + 1 >= log.firstIndex() || (pr.snap && pr.match >= pr.snap.index)) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.freeTo(m.index);
    }
    if (r.maybeCommit()) r.pendingBcast = true;
    if (r.currentRole !== 'leader') return;
    if (wasPaused) r.sendAppend(pr, true);
    while (r.sendAppend(pr, false)) {
      /* keep the pipeline full */
    }
    if (m.from === r.transferee && pr.match === log.lastIndex()) {
      r.send({ type: 'timeout-now', to: m.from });
    }
  }

  private static leaderHeartbeatResp(r: Raft, m: HeartbeatRespMsg): void {
    const pr = r.tracker.of(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.paused = false;
    if (pr.state === 'replicate' && pr.inflight.length >= r.cfg.maxInflight) pr.inflight.shift();
    if (pr.match < r.raftLog.lastIndex()) r.sendAppend(pr, true);
    if (m.readSeq > pr.readAck) {
      pr.readAck = m.readSeq;
      r.readOnly.release();
    }
  }

  private static leaderSnapResp(r: Raft, m: SnapRespMsg): void {
    const pr = r.tracker.of(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (r.snapshots.onResp(pr, m)) r.sendAppend(pr, true);
  }

  private static leaderReadIndex(r: Raft, m: ReadIndexMsg): void {
    r.readOnly.request(m.ctx, m.from);
  }

  /** asFollower: a (pre-)candidate that hears from the leader of its term becomes its follower first. */
  private static asFollower<T extends 'app' | 'heartbeat' | 'snap'>(h: Handler<T>): Handler<T> {
    return (r, m) => {
      r.becomeFollower(r.currentTerm, m.from);
      h(r, m);
    };
  }

  /**
   * handlers maps (role, message type) to a handler, dragonboat style. Every pair is present —
   * an `ignore` is a decision, not an omission — and a test checks the table is complete.
   */
  private static readonly handlers: Readonly<Record<Role, HandlerTable>> = Raft.handlerTables();

  private static handlerTables(): Record<Role, HandlerTable> {
    const ignore = (): void => {};
    const follower: HandlerTable = {
      app: Raft.handleAppend,
      'app-resp': ignore,
      vote: Raft.handleVote,
      'pre-vote': Raft.handleVote,
      'vote-resp': ignore,
      'pre-vote-resp': ignore,
      heartbeat: Raft.handleHeartbeat,
      'heartbeat-resp': ignore,
      snap: Raft.handleSnap,
      'snap-resp': ignore,
      'timeout-now': Raft.handleTimeoutNow,
      'read-index': Raft.handleReadIndexNotLeader,
      'read-index-resp': Raft.handleReadIndexResp,
    };
    return {
      follower,
      learner: { ...follower, 'timeout-now': ignore },
      'pre-candidate': {
        ...follower,
        app: Raft.asFollower(Raft.handleAppend),
        heartbeat: Raft.asFollower(Raft.handleHeartbeat),
        snap: Raft.asFollower(Raft.handleSnap),
        'pre-vote-resp': Raft.handleVoteResp,
        'timeout-now': ignore,
      },
      candidate: {
        ...follower,
        app: Raft.asFollower(Raft.handleAppend),
        heartbeat: Raft.asFollower(Raft.handleHeartbeat),
        snap: Raft.asFollower(Raft.handleSnap),
        'vote-resp': Raft.handleVoteResp,
        'timeout-now': ignore,
      },
      leader: {
        app: ignore,
        'app-resp': Raft.leaderAppResp,
        vote: Raft.handleVote,
        'pre-vote': Raft.handleVote,
        'vote-resp': ignore,
        'pre-vote-resp': ignore,
        heartbeat: ignore,
        'heartbeat-resp': Raft.leaderHeartbeatResp,
        snap: ignore,
        'snap-resp': Raft.leaderSnapResp,
        'timeout-now': ignore,
        'read-index': Raft.leaderReadIndex,
        'read-index-resp': ignore,
      },
    };
  }
}
