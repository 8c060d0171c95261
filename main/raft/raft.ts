import { checkMessage, inBounds } from './bounds';
import { applyChange, encodeConfEntry, isLearner, isMember, isVoter, quorum } from './conf';
import { RaftLog } from './log';
import type { ConfPoint } from './log';
import { Progress } from './progress';
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
  ProposeError,
  ProposeResult,
  RaftConfig,
  RaftEvent,
  ReadIndexMsg,
  ReadIndexRespMsg,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  SnapshotPart,
  SnapMsg,
  SnapRespMsg,
  Status,
  TimeoutNowMsg,
  VoteMsg,
  VoteRespMsg,
} from './types';
import { MAX_RAFT_NUMBER } from './types';

const EMPTY = new Uint8Array(0);

/** Distributive Omit, so each member of the Message union keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** Outgoing is a message before `from` (and, by default, `term`) are filled in. */
type Outgoing = DistributiveOmit<Message, 'from' | 'term'> & { term?: number };

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

/** PendingRead is a ReadIndex request waiting for a quorum to confirm leadership round `seq`. */
interface PendingRead {
  ctx: number;
  from: NodeId;
  index: number;
  seq: number;
}

/**
 * Leaving is a node whose removal the leader committed and that it still tells about it: it keeps
 * replicating to the node until the node has acknowledged `until` (an index at or after its
 * removal, committed), or has been silent for an election timeout. Once told, the node is left
 * be (`toldAt`, in ticks) for an election timeout: answers still in flight are ignored, and only
 * a probe or campaign after that (it did not learn after all) starts telling it again.
 */
interface Leaving {
  pr: Progress;
  until: number;
  toldAt: number | undefined;
}

/**
 * MAX_FORWARDED_READS bounds the reads a follower has forwarded to its leader and not yet seen
 * answered; beyond it the oldest is failed (ok=false), so lost answers cannot pile up.
 */
export const MAX_FORWARDED_READS = 4096;

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

/** Handler handles one message type in one role; the table below maps every (role, type) pair to one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (r: Raft, m: any) => void;

/**
 * Raft is one node's consensus state machine. It is pure: it performs no I/O, reads no clock and
 * draws randomness only from the injected rng. The host drives it with tick(), step(),
 * propose(), proposeConfChange(), readIndex() and transferLeader(), and collects the work to do
 * with ready() — see Ready for the ordering contract: persist BEFORE send, apply only committed
 * entries — then calls advance().
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = 0;
  leader: NodeId = 0;
  role: Role = 'follower';
  readonly log = new RaftLog();

  private readonly cfg: ResolvedConfig;
  private readonly rng: () => number;
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  /** prs: the leader's progress for every other member (and removed nodes until their removal commits). */
  readonly prs = new Map<NodeId, Progress>();
  /** leaving: on the leader, removed nodes still being told that their removal committed. */
  private readonly leaving = new Map<NodeId, Leaving>();
  /** ticks counts tick() calls: the core's own clock, for what it measures in ticks. */
  private ticks = 0;
  transferee: NodeId = 0;
  /** snapshot: the latest local state-machine image, sent to followers that fell behind the log. */
  snapshot: Snapshot | undefined;
  private pendingSnapshot: Snapshot | undefined;
  private incoming: IncomingSnapshot | undefined;
  /** snapshotParts: what happened to `incoming` since the last Ready. */
  private snapshotParts: SnapshotPart[] = [];
  private activeConf: ConfPoint;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private events: RaftEvent[] = [];
  private pendingBcast = false;
  /**
   * commitOwed: followers that have not been sent the latest commit index because there was
   * nothing else to send them. A commit alone waits for the next tick (or a read round, or an
   * append that carries it), so under load it rides on the next append instead of costing every
   * follower an extra message and acknowledgement per commit.
   */
  private readonly commitOwed = new Set<NodeId>();

  private readSeq = 0;
  /**
   * forwarded: reads this node forwarded to a leader, by ctx, with the node they went to. Only an
   * answer from that node to a read still outstanding is passed on, so an answer meant for an
   * earlier incarnation of this node, a duplicate, or one from another node cannot serve a read;
   * a change of leader or term fails them all at once (the host retries).
   */
  private readonly forwarded = new Map<number, NodeId>();
  private reads: PendingRead[] = [];
  private readsAwaitingCommit: { ctx: number; from: NodeId }[] = [];
  private readRoundPending = false;

  private prevHardState: HardState = { term: 0, vote: 0, commit: 0 };
  private readyMark: ReadyMark | undefined;

  /** committedMember: a configuration in effect at a commit index this node had included it. */
  private committedMember = false;
  /** removedAt: the index of the committed configuration that removed this node (0: none). */
  private removedAt = 0;
  /** campaignRefusedTerm: the term at which a campaign was last refused (reported once per term). */
  private campaignRefusedTerm = -1;
  /** refused counts messages dropped because a number in them is out of bounds. */
  refused = 0;

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
    const st = c.state;
    if (st && (st.hardState.term > 0 || st.entries.length > 0 || st.snapshot)) {
      this.restoreFrom(c);
    } else if (c.initialVoters && c.initialVoters.length > 0) {
      const ids = c.initialVoters.map((v) => v.id).sort((a, b) => a - b);
      const addresses: Record<string, string> = {};
      for (const v of c.initialVoters) addresses[String(v.id)] = v.address;
      const conf: ConfState = { voters: ids, learners: [], addresses };
      this.log.append([
        {
          index: 1,
          term: 1,
          type: 'conf',
          data: encodeConfEntry({ change: { type: 'bootstrap' }, conf }),
        },
      ]);
      this.term = 1;
      this.log.commitTo(1);
    }
    this.activeConf = this.log.latestConf();
    this.committedMember = this.log.confs.some(
      (cp) => cp.index <= this.log.commit && isMember(cp.conf, this.id),
    );
    this.role = isLearner(this.log.conf(), this.id) ? 'learner' : 'follower';
    this.resetRandomizedElectionTimeout();
  }

  private restoreFrom(c: RaftConfig): void {
    const st = c.state!;
    const log = this.log;
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
      this.snapshot = st.snapshot;
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
    this.term = st.hardState.term;
    this.vote = st.hardState.vote;
    log.commit = Math.min(Math.max(st.hardState.commit, log.prevIndex), log.lastIndex());
    log.applied = Math.min(Math.max(c.applied ?? log.prevIndex, log.prevIndex), log.commit);
    this.prevHardState = { ...st.hardState };
  }

  // ---------------------------------------------------------------- inputs

  /** tick advances logical time by one tick. */
  tick(): void {
    this.ticks++;
    if (this.role === 'leader') this.tickHeartbeat();
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
    if (this.role !== 'follower' || id === 0 || this.leader !== id) return;
    this.setLeader(0);
    const others = this.log
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
      this.role === 'leader' &&
      !this.prs.has(m.from) &&
      !this.leaving.has(m.from) &&
      !isMember(this.log.conf(), m.from)
    ) {
      // A node outside the configuration still talks to us: it was removed (by a committed
      // change: prs keeps a node until its removal commits) and has not learnt it. Tell it.
      this.tellRemoved(m.from);
    }
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader stickiness: while we hear from a live leader, ignore campaigns (unless transfer).
        const inLease =
          this.cfg.checkQuorum &&
          this.leader !== 0 &&
          this.electionElapsed < this.cfg.electionTicks;
        if (!m.transfer && inLease) {
          this.events.push({
            type: 'vote',
            candidate: m.from,
            term: m.term,
            prevote: m.type === 'preVote',
            granted: false,
            reason: `leader ${this.leader} is alive`,
          });
          return;
        }
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // A PreVote and a granted PreVote response never change our term.
      } else {
        if (this.role === 'leader' && this.transferee !== 0 && m.from === this.transferee) {
          this.events.push({ type: 'transfer', target: this.transferee, status: 'done' });
          this.transferee = 0;
        }
        const lead = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : 0;
        this.becomeFollower(m.term, lead, 'higher-term');
      }
    } else if (m.term < this.term) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === 'app' || m.type === 'heartbeat')
      ) {
        // Tell a stale leader about the newer term, so it steps down (and a node partitioned
        // away with PreVote on does not stay stuck).
        this.send({
          type: 'appResp',
          to: m.from,
          index: 0,
          reject: false,
          hintIndex: 0,
          hintTerm: 0,
        });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, reject: true });
      }
      return;
    }
    HANDLERS[this.role][m.type](this, m);
  }

  /** propose appends data on the leader; the result says where, or why not. */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeMany([data]);
  }

  /** proposeMany appends several entries at once (one broadcast); the result names the last one. */
  proposeMany(datas: Uint8Array[]): ProposeResult {
    const err = this.checkProposable(datas.length);
    if (err) return err;
    const ents: Entry[] = [];
    let index = this.log.lastIndex();
    for (const data of datas) ents.push({ index: ++index, term: this.term, type: 'normal', data });
    this.log.append(ents);
    this.pendingBcast = true;
    return { ok: true, index, term: this.term };
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
    if (this.log.term(this.log.commit) !== this.term) {
      return this.fail('leader-not-ready', 'the leader has not committed an entry of its term yet');
    }
    if (this.log.confIndex() > this.log.commit) {
      return this.fail(
        'config-change-in-progress',
        `config entry ${this.log.confIndex()} is not committed yet (commit ${this.log.commit})`,
      );
    }
    if (cc.type === 'promote') {
      const pr = this.prs.get(cc.node);
      if (pr && isLearner(this.log.conf(), cc.node)) {
        const last = this.log.lastIndex();
        if (pr.match + this.cfg.promoteGap < last) {
          return this.fail(
            'learner-not-caught-up',
            `learner ${cc.node} matches ${pr.match}, leader is at ${last} (gap allowed ${this.cfg.promoteGap})`,
          );
        }
      }
    }
    const next = applyChange(this.log.conf(), cc);
    if (typeof next === 'string') return this.fail('invalid-change', next);
    const index = this.log.lastIndex() + 1;
    this.log.append([
      { index, term: this.term, type: 'conf', data: encodeConfEntry({ change: cc, conf: next }) },
    ]);
    this.syncConf();
    this.pendingBcast = true;
    return { ok: true, index, term: this.term };
  }

  /**
   * readIndex requests a linearizable read tagged ctx. A ReadState with the same ctx follows in a
   * later Ready: serve the read once applied >= its index, or retry when ok is false.
   */
  readIndex(ctx: number): ProposeResult {
    if (this.role === 'leader') {
      this.handleRead(ctx, this.id);
      return { ok: true, index: 0, term: this.term };
    }
    if (this.leader === 0) return this.fail('not-leader', 'no leader is known');
    if (this.forwarded.size >= MAX_FORWARDED_READS) {
      const [oldest] = this.forwarded.keys();
      this.forwarded.delete(oldest!);
      this.readStates.push({ ctx: oldest!, index: 0, ok: false });
    }
    this.forwarded.delete(ctx);
    this.forwarded.set(ctx, this.leader);
    this.send({ type: 'readIndex', to: this.leader, ctx });
    return { ok: true, index: 0, term: this.term };
  }

  /**
   * transferLeader hands leadership to `target`: proposals stop, the target is caught up, then it
   * gets TimeoutNow. The transfer is abandoned after an election timeout.
   */
  transferLeader(target: NodeId): ProposeResult {
    if (this.role !== 'leader') return this.fail('not-leader', `node ${this.id} is not the leader`);
    if (target === this.id) return { ok: true, index: 0, term: this.term };
    if (!isVoter(this.log.conf(), target) || !this.prs.has(target)) {
      return this.fail('invalid-change', `node ${target} is not a voter`);
    }
    if (this.transferee === target) return { ok: true, index: 0, term: this.term };
    if (this.transferee !== 0) this.abortTransfer();
    this.transferee = target;
    this.electionElapsed = 0;
    this.events.push({ type: 'transfer', target, status: 'started' });
    const pr = this.prs.get(target)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: target });
    else this.sendAppend(pr, true);
    return { ok: true, index: 0, term: this.term };
  }

  /**
   * compact records that the host's state machine image `data` reflects every entry up to `index`
   * (which must be applied) and drops log entries up to index - keep. The image is what lagging
   * followers receive through InstallSnapshot.
   */
  compact(index: number, data: Uint8Array, keep = 0): SnapshotMeta | undefined {
    if (this.snapshot && index <= this.snapshot.meta.index) return undefined;
    if (index > this.log.applied) {
      throw new Error(`raft: cannot snapshot at ${index}, applied is ${this.log.applied}`);
    }
    if (index < this.log.prevIndex) return undefined;
    const meta: SnapshotMeta = {
      index,
      term: this.log.term(index)!,
      conf: this.log.confAt(index),
    };
    this.snapshot = { meta, data };
    this.log.compactTo(Math.max(this.log.prevIndex, index - keep));
    this.events.push({ type: 'compacted', index });
    return meta;
  }

  // ---------------------------------------------------------------- Ready

  hasReady(): boolean {
    if (this.readyMark) return false;
    const log = this.log;
    return (
      this.pendingBcast ||
      this.readRoundPending ||
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.events.length > 0 ||
      this.pendingSnapshot !== undefined ||
      this.snapshotParts.length > 0 ||
      log.unstableFrom <= log.lastIndex() ||
      log.applied < Math.min(log.commit, log.lastIndex()) ||
      this.term !== this.prevHardState.term ||
      this.vote !== this.prevHardState.vote ||
      log.commit !== this.prevHardState.commit
    );
  }

  /** ready returns the next batch of work (see Ready for the order the host must follow). */
  ready(): Ready {
    if (this.readyMark) throw new Error('raft: ready() called again before advance()');
    this.flush();
    this.noteMembership();
    const log = this.log;
    const last = log.lastIndex();
    const hs: HardState = { term: this.term, vote: this.vote, commit: log.commit };
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
      readStates: this.readStates,
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
    this.readStates = [];
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
    const log = this.log;
    if (mark.lastIndex >= 0) {
      const persisted = Math.min(mark.lastIndex, log.truncatedBelow - 1, log.lastIndex());
      if (persisted > log.persistedIndex) log.persistedIndex = persisted;
    }
    if (mark.appliedTo > log.applied) log.applied = mark.appliedTo;
    if (this.role === 'leader' && this.maybeCommit()) this.pendingBcast = true;
  }

  // ---------------------------------------------------------------- status

  status(): Status {
    const log = this.log;
    const conf = log.conf();
    const last = log.lastIndex();
    const progress =
      this.role === 'leader' ? [...this.prs.values()].map((pr) => pr.status(last)) : [];
    progress.sort((a, b) => a.id - b.id);
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: log.commit,
      applied: log.applied,
      firstIndex: log.firstIndex(),
      lastIndex: last,
      persistedIndex: log.persistedIndex,
      snapshotIndex: this.snapshot?.meta.index ?? 0,
      snapshotTerm: this.snapshot?.meta.term ?? 0,
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
    };
  }

  /**
   * noteMembership reports the removal of this node once: when the configuration in effect at the
   * commit index leaves it out although one at an earlier commit index included it. (A node that
   * is still joining has never been in a committed configuration, so it is not "removed".)
   */
  private noteMembership(): void {
    const log = this.log;
    const cp = log.confPointAt(log.commit);
    if (isMember(cp.conf, this.id)) {
      this.committedMember = true;
    } else if (this.committedMember && this.removedAt === 0) {
      this.removedAt = Math.max(cp.index, 1);
      this.events.push({ type: 'removed', index: this.removedAt });
    }
  }

  /** promotable: this node may campaign (it is a voter in its latest configuration). */
  promotable(): boolean {
    return isVoter(this.log.conf(), this.id);
  }

  // ---------------------------------------------------------------- role changes

  private resetRandomizedElectionTimeout(): void {
    const et = this.cfg.electionTicks;
    this.randomizedElectionTimeout = et + Math.floor(this.rng() * et);
  }

  private setLeader(id: NodeId): void {
    if (this.leader !== id) {
      this.leader = id;
      this.events.push({ type: 'leader', leader: id, term: this.term });
      this.failForwardedReads();
    }
  }

  /** failForwardedReads answers every read forwarded to a leader with ok=false (the host retries). */
  private failForwardedReads(): void {
    for (const ctx of this.forwarded.keys()) this.readStates.push({ ctx, index: 0, ok: false });
    this.forwarded.clear();
  }

  private setRole(role: Role): void {
    if (this.role !== role) {
      this.role = role;
      this.events.push({ type: 'role', role, term: this.term });
    }
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
      this.failForwardedReads();
    }
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.prs.clear();
    this.leaving.clear();
    this.pendingBcast = false;
    this.commitOwed.clear();
    if (this.transferee !== 0) this.abortTransfer();
    this.failPendingReads();
  }

  becomeFollower(
    term: number,
    leader: NodeId,
    reason?: 'check-quorum' | 'removed' | 'higher-term',
  ): void {
    const wasLeader = this.role === 'leader';
    this.reset(term);
    this.setLeader(leader);
    if (wasLeader && reason) this.events.push({ type: 'step-down', term: this.term, reason });
    this.setRole(isLearner(this.log.conf(), this.id) ? 'learner' : 'follower');
  }

  /** campaign starts a PreVote round, an election, or (after TimeoutNow) an election that bypasses stickiness. */
  campaign(kind: 'pre' | 'election' | 'transfer'): void {
    if (!this.promotable()) return;
    if (this.term + 1 > MAX_RAFT_NUMBER || this.log.lastIndex() + 1 > MAX_RAFT_NUMBER) {
      // Never campaign into a term (or a leader's no-op at an index) beyond the bound every
      // node accepts: the others would refuse it, and no term after it could exist.
      if (this.campaignRefusedTerm !== this.term) {
        this.campaignRefusedTerm = this.term;
        this.events.push({
          type: 'refused',
          from: this.id,
          message: 'campaign',
          reason: `term ${this.term} or last index ${this.log.lastIndex()} cannot be incremented beyond ${MAX_RAFT_NUMBER}`,
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
      voteTerm = this.term + 1;
    } else {
      this.reset(this.term + 1);
      this.vote = this.id;
      this.setLeader(0);
      this.setRole('candidate');
      voteTerm = this.term;
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
    const type = kind === 'pre' ? 'preVote' : 'vote';
    for (const v of this.log.conf().voters) {
      if (v === this.id) continue;
      this.send({
        type,
        to: v,
        term: voteTerm,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer: kind === 'transfer',
      });
    }
  }

  private tally(): 'won' | 'lost' | 'pending' {
    const voters = this.log.conf().voters;
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
    this.reset(this.term);
    this.setLeader(this.id);
    this.setRole('leader');
    const conf = this.log.conf();
    const next = this.log.lastIndex() + 1;
    for (const id of [...conf.voters, ...conf.learners]) {
      if (id !== this.id) this.prs.set(id, new Progress(id, next, isLearner(conf, id)));
    }
    // The no-op of this term: it commits everything before it (Figure 8) and unblocks reads.
    this.log.append([{ index: next, term: this.term, type: 'normal', data: EMPTY }]);
    this.pendingBcast = true;
  }

  private stepDownRemoved(): void {
    // Hand over to the most caught-up voter so the cluster does not wait for an election timeout.
    let best: Progress | undefined;
    for (const v of this.log.conf().voters) {
      const pr = this.prs.get(v);
      if (pr && (!best || pr.match > best.match)) best = pr;
    }
    for (const pr of this.prs.values()) this.sendAppend(pr, true);
    if (best && best.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: best.id });
    this.becomeFollower(this.term, 0, 'removed');
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
    for (const v of this.log.conf().voters) {
      if (v !== this.id) this.send({ type: 'heartbeatResp', to: v, readSeq: 0 });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, 0, 'check-quorum');
          return;
        }
      }
      for (const pr of this.prs.values()) pr.recentActive = false;
      for (const [id, l] of this.leaving) {
        // Told an election timeout ago, or silent for one: gone (it exits once it learns), or
        // unreachable. If it comes back without having learnt, its probe or campaign brings it
        // back here.
        if (l.toldAt !== undefined) {
          if (this.ticks - l.toldAt >= this.cfg.electionTicks) this.leaving.delete(id);
        } else if (!l.pr.recentActive) {
          this.leaving.delete(id);
        } else {
          l.pr.recentActive = false;
        }
      }
      if (this.transferee !== 0) this.abortTransfer();
    }
    for (const pr of this.allProgress()) {
      if (
        pr.state === 'snapshot' &&
        pr.snap &&
        ++pr.snap.idleTicks >= this.cfg.snapshotRetryTicks
      ) {
        const t = pr.snap;
        t.idleTicks = 0;
        t.retries++;
        t.sent = t.acked;
        t.lastGap = -1;
        this.events.push({
          type: 'snapshot-retry',
          to: pr.id,
          index: t.index,
          offset: t.acked,
          retries: t.retries,
        });
        this.sendSnapshotChunks(pr);
      }
    }
    for (const id of this.commitOwed) this.sendOwedCommit(id);
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    const voters = this.log.conf().voters;
    let active = 0;
    for (const v of voters) {
      if (v === this.id || this.prs.get(v)?.recentActive) active++;
    }
    return active >= quorum(voters.length);
  }

  // ---------------------------------------------------------------- sending

  /** allProgress: the progress of every member, then of every leaving node not yet told. */
  private *allProgress(): Iterable<Progress> {
    yield* this.prs.values();
    for (const l of this.leaving.values()) if (l.toldAt === undefined) yield l.pr;
  }

  /** progressOf: the leader's progress for a member or a leaving node not yet told. */
  private progressOf(id: NodeId): Progress | undefined {
    const pr = this.prs.get(id);
    if (pr) return pr;
    const l = this.leaving.get(id);
    return l && l.toldAt === undefined ? l.pr : undefined;
  }

  /**
   * tellRemoved starts telling node `id`, which is outside the configuration and not being
   * removed by an uncommitted change, that it was removed: replicate to it until it acknowledges
   * the current commit index. Once it has, its committed configuration leaves it out and it
   * shuts down (see the 'removed' event).
   */
  private tellRemoved(id: NodeId): void {
    const pr = new Progress(id, this.log.lastIndex() + 1, false);
    pr.recentActive = true;
    this.leaving.set(id, { pr, until: this.log.commit, toldAt: undefined });
    this.sendAppend(pr, true);
  }

  private send(m: Outgoing): void {
    const full = { ...m, from: this.id, term: m.term ?? this.term } as Message;
    this.msgs.push(full);
  }

  /** flush turns deferred broadcasts (proposals, commits) and ReadIndex rounds into messages. */
  private flush(): void {
    if (this.role !== 'leader') {
      this.pendingBcast = false;
      this.readRoundPending = false;
      return;
    }
    if (this.pendingBcast) {
      this.pendingBcast = false;
      for (const pr of this.prs.values()) {
        // Fill the follower's window; a commit with nothing to carry it waits (see commitOwed).
        let sent = false;
        while (this.sendAppend(pr, false)) sent = true;
        if (!sent) this.commitOwed.add(pr.id);
      }
    }
    if (this.readRoundPending) {
      this.readRoundPending = false;
      this.readSeq++;
      this.bcastHeartbeat();
    }
  }

  /** sendOwedCommit sends a follower the commit index it is owed, if it is owed one. */
  private sendOwedCommit(id: NodeId): void {
    const pr = this.prs.get(id);
    if (!pr) this.commitOwed.delete(id);
    else if (this.commitOwed.has(id)) this.sendAppend(pr, true);
  }

  private bcastHeartbeat(): void {
    for (const pr of this.allProgress()) {
      this.send({
        type: 'heartbeat',
        to: pr.id,
        commit: Math.min(pr.match, this.log.commit),
        readSeq: this.readSeq,
      });
    }
  }

  /** sendAppend sends the follower what it lacks (or a snapshot); returns false if nothing was sent. */
  private sendAppend(pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused(this.cfg.maxInflight)) return false;
    const log = this.log;
    if (pr.next > log.lastIndex() + 1) pr.next = log.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(pr);
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

  private sendSnapshot(pr: Progress): boolean {
    const s = this.snapshot;
    if (!s) return false;
    pr.becomeSnapshot({
      image: s,
      index: s.meta.index,
      term: s.meta.term,
      total: s.data.length,
      acked: 0,
      sent: 0,
      chunks: 0,
      retries: 0,
      idleTicks: 0,
      lastGap: -1,
    });
    this.events.push({
      type: 'snapshot-send',
      to: pr.id,
      index: s.meta.index,
      total: s.data.length,
    });
    this.sendSnapshotChunks(pr);
    return true;
  }

  /** sendSnapshotChunks keeps up to snapshotWindow chunks in flight from the first unconfirmed byte. */
  private sendSnapshotChunks(pr: Progress): void {
    const t = pr.snap;
    if (!t) return;
    const latest = this.snapshot;
    if (t.acked === 0 && latest && latest.meta.index > t.index) {
      // Nothing of the image it has is confirmed yet: it may as well get the newest one. Once
      // bytes are confirmed, the transfer keeps its image to the end, whatever we take meanwhile.
      this.sendSnapshot(pr);
      return;
    }
    const s = t.image;
    const chunk = this.cfg.snapshotChunkBytes;
    const limit = t.acked + this.cfg.snapshotWindow * chunk;
    let first = true;
    while ((t.sent < t.total && t.sent < limit) || (t.total === 0 && t.sent === 0 && first)) {
      first = false;
      const end = Math.min(t.sent + chunk, t.total);
      this.send({
        type: 'snap',
        to: pr.id,
        meta: s.meta,
        offset: t.sent,
        total: t.total,
        data: s.data.subarray(t.sent, end),
        done: end === t.total,
      });
      t.chunks++;
      if (t.total === 0) break;
      t.sent = end;
    }
  }

  private fail(error: ProposeError, detail: string): ProposeResult {
    return { ok: false, error, leader: this.leader, detail };
  }

  private checkProposable(entries: number): ProposeResult | undefined {
    if (this.role !== 'leader') {
      return this.fail(
        'not-leader',
        this.leader ? `leader is ${this.leader}` : 'no leader is known',
      );
    }
    if (this.transferee !== 0) {
      return this.fail('transfer-in-progress', `leadership is moving to ${this.transferee}`);
    }
    if (this.log.lastIndex() + entries > MAX_RAFT_NUMBER) {
      return this.fail(
        'log-full',
        `${entries} entries after ${this.log.lastIndex()} would pass the largest index ${MAX_RAFT_NUMBER}`,
      );
    }
    return undefined;
  }

  // ---------------------------------------------------------------- leader bookkeeping

  /** maybeCommit advances commit to the quorum-th largest match index, for entries of this term only (§5.4.2). */
  private maybeCommit(): boolean {
    const log = this.log;
    const voters = log.conf().voters;
    if (voters.length === 0) return false;
    const matches = voters.map((v) =>
      v === this.id ? log.persistedIndex : (this.prs.get(v)?.match ?? 0),
    );
    matches.sort((a, b) => b - a);
    const mci = matches[quorum(voters.length) - 1]!;
    if (mci > log.commit && log.term(mci) === this.term) {
      log.commitTo(mci);
      this.onLeaderCommit();
      return true;
    }
    return false;
  }

  private onLeaderCommit(): void {
    const log = this.log;
    if (this.readsAwaitingCommit.length > 0 && log.term(log.commit) === this.term) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const r of waiting) this.handleRead(r.ctx, r.from);
    }
    if (log.confIndex() <= log.commit) {
      const conf = log.conf();
      // A removed node stops being a member; it is told about the commit of its removal until
      // it acknowledges it, or is silent for an election timeout (see tickHeartbeat).
      for (const pr of [...this.prs.values()]) {
        if (!isMember(conf, pr.id)) {
          this.prs.delete(pr.id);
          this.leaving.set(pr.id, { pr, until: log.confIndex(), toldAt: undefined });
          this.sendAppend(pr, true);
        }
      }
      if (!isVoter(conf, this.id)) this.stepDownRemoved();
    }
  }

  /** syncConf applies the latest configuration in the log: roles, and on the leader its progress set. */
  syncConf(): void {
    const cp = this.log.latestConf();
    if (cp === this.activeConf) return;
    this.activeConf = cp;
    const conf = cp.conf;
    if (cp.change) this.events.push({ type: 'config', index: cp.index, change: cp.change, conf });
    if (this.role === 'leader') {
      for (const id of [...conf.voters, ...conf.learners]) {
        if (id === this.id) continue;
        const pr = this.prs.get(id);
        if (pr) pr.learner = isLearner(conf, id);
        else this.prs.set(id, new Progress(id, this.log.lastIndex() + 1, isLearner(conf, id)));
      }
      if (this.transferee !== 0 && !isVoter(conf, this.transferee)) this.abortTransfer();
      if (this.maybeCommit()) this.pendingBcast = true;
    } else if (this.role === 'follower' || this.role === 'learner') {
      this.setRole(isLearner(conf, this.id) ? 'learner' : 'follower');
    } else if (!isVoter(conf, this.id)) {
      this.becomeFollower(this.term, 0);
    }
  }

  // ---------------------------------------------------------------- ReadIndex

  private handleRead(ctx: number, from: NodeId): void {
    const log = this.log;
    if (log.term(log.commit) !== this.term) {
      // A new leader does not know the latest commit until an entry of its term commits.
      this.readsAwaitingCommit.push({ ctx, from });
      return;
    }
    const voters = log.conf().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.deliverRead({ ctx, from, index: log.commit, seq: 0 }, true);
      return;
    }
    this.reads.push({ ctx, from, index: log.commit, seq: this.readSeq + 1 });
    this.readRoundPending = true;
  }

  private releaseReads(): void {
    const voters = this.log.conf().voters;
    const q = quorum(voters.length);
    while (this.reads.length > 0) {
      const rd = this.reads[0]!;
      let acks = 0;
      for (const v of voters) {
        if (v === this.id || (this.prs.get(v)?.readAck ?? 0) >= rd.seq) acks++;
      }
      if (acks < q) return;
      this.reads.shift();
      this.deliverRead(rd, true);
    }
  }

  private deliverRead(rd: PendingRead, ok: boolean): void {
    if (rd.from === this.id) {
      this.readStates.push({ ctx: rd.ctx, index: ok ? rd.index : 0, ok });
    } else {
      // The follower serves the read once it has applied rd.index: give it the commit first.
      if (ok) this.sendOwedCommit(rd.from);
      this.send({
        type: 'readIndexResp',
        to: rd.from,
        ctx: rd.ctx,
        index: ok ? rd.index : 0,
        reject: !ok,
      });
    }
  }

  private failPendingReads(): void {
    const all = [
      ...this.reads,
      ...this.readsAwaitingCommit.map((r) => ({ ...r, index: 0, seq: 0 })),
    ];
    this.reads = [];
    this.readsAwaitingCommit = [];
    this.readRoundPending = false;
    for (const rd of all) this.deliverRead(rd, false);
  }

  // ---------------------------------------------------------------- handlers

  /** handleVote answers RequestVote and PreVote (§5.2, §5.4.1; thesis §9.6). */
  static handleVote(r: Raft, m: VoteMsg): void {
    const pre = m.type === 'preVote';
    const canVote =
      r.vote === m.from || (r.vote === 0 && r.leader === 0) || (pre && m.term > r.term);
    const upToDate = r.log.isUpToDate(m.lastIndex, m.lastTerm);
    const respType = pre ? 'preVoteResp' : 'voteResp';
    if (canVote && upToDate) {
      r.send({ type: respType, to: m.from, term: m.term, reject: false });
      if (!pre) {
        r.electionElapsed = 0;
        r.vote = m.from;
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
        ? r.vote !== 0
          ? `already voted for ${r.vote} in term ${r.term}`
          : `leader ${r.leader} is known`
        : `candidate log (${m.lastTerm}/${m.lastIndex}) is behind ours (${r.log.lastTerm()}/${r.log.lastIndex()})`;
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

  static handleVoteResp(r: Raft, m: VoteRespMsg): void {
    if (!isVoter(r.log.conf(), m.from)) return;
    r.votes.set(m.from, !m.reject);
    const outcome = r.tally();
    if (outcome === 'won') {
      if (r.role === 'pre-candidate') r.campaign('election');
      else r.becomeLeader();
    } else if (outcome === 'lost') {
      r.becomeFollower(r.term, 0);
    }
  }

  /** handleAppend is the follower side of AppendEntries (§5.3), with a fast-backtracking hint on reject. */
  static handleAppend(r: Raft, m: AppMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    const log = r.log;
    if (m.prevIndex < log.commit) {
      r.send({
        type: 'appResp',
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
        type: 'appResp',
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
      type: 'appResp',
      to: m.from,
      index: m.prevIndex,
      reject: true,
      hintIndex,
      hintTerm: log.term(hintIndex) ?? 0,
    });
  }

  static handleHeartbeat(r: Raft, m: HeartbeatMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
    r.send({ type: 'heartbeatResp', to: m.from, readSeq: m.readSeq });
  }

  /** dropIncoming gives up the snapshot being received (if any) and tells the host. */
  private dropIncoming(): void {
    if (this.incoming) this.snapshotParts.push({ kind: 'dropped', meta: this.incoming.meta });
    this.incoming = undefined;
  }

  /** handleSnap receives one InstallSnapshot chunk; the image is installed when the last one arrives. */
  static handleSnap(r: Raft, m: SnapMsg): void {
    r.electionElapsed = 0;
    r.setLeader(m.from);
    const log = r.log;
    const meta = m.meta;
    const reply = (nextOffset: number, gap: boolean, done: boolean): void =>
      r.send({ type: 'snapResp', to: m.from, snapIndex: meta.index, nextOffset, gap, done });
    if (meta.index <= log.commit) {
      r.dropIncoming();
      r.send({
        type: 'appResp',
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
        type: 'appResp',
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
    r.snapshot = { meta, data };
    r.pendingSnapshot = r.snapshot;
    r.syncConf();
    r.events.push({ type: 'snapshot-installed', index: meta.index, term: meta.term, from: m.from });
    reply(inc.received, false, true);
  }

  static handleTimeoutNow(r: Raft, _m: TimeoutNowMsg): void {
    r.campaign('transfer');
  }

  static handleReadIndexNotLeader(r: Raft, m: ReadIndexMsg): void {
    r.send({ type: 'readIndexResp', to: m.from, ctx: m.ctx, index: 0, reject: true });
  }

  static handleReadIndexResp(r: Raft, m: ReadIndexRespMsg): void {
    if (r.forwarded.get(m.ctx) !== m.from) return;
    r.forwarded.delete(m.ctx);
    r.readStates.push({ ctx: m.ctx, index: m.index, ok: !m.reject });
  }

  /** leaderAppResp processes a follower's AppendEntries answer: progress, commit, pipelining. */
  static leaderAppResp(r: Raft, m: AppRespMsg): void {
    const pr = r.progressOf(m.from);
    if (!pr) return;
    pr.recentActive = true;
    const log = r.log;
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
    const leaving = r.leaving.get(m.from);
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
    if (r.role !== 'leader') return;
    if (wasPaused) r.sendAppend(pr, true);
    while (r.sendAppend(pr, false)) {
      /* keep the pipeline full */
    }
    if (m.from === r.transferee && pr.match === log.lastIndex()) {
      r.send({ type: 'timeoutNow', to: m.from });
    }
  }

  static leaderHeartbeatResp(r: Raft, m: HeartbeatRespMsg): void {
    const pr = r.progressOf(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.paused = false;
    if (pr.state === 'replicate' && pr.inflight.length >= r.cfg.maxInflight) pr.inflight.shift();
    if (pr.match < r.log.lastIndex()) r.sendAppend(pr, true);
    if (m.readSeq > pr.readAck) {
      pr.readAck = m.readSeq;
      r.releaseReads();
    }
  }

  static leaderSnapResp(r: Raft, m: SnapRespMsg): void {
    const pr = r.progressOf(m.from);
    if (!pr) return;
    pr.recentActive = true;
    const t = pr.snap;
    if (pr.state !== 'snapshot' || !t || m.snapIndex !== t.index) return;
    t.idleTicks = 0;
    if (m.done) {
      r.events.push({
        type: 'snapshot-sent',
        to: pr.id,
        index: t.index,
        total: t.total,
        chunks: t.chunks,
        retries: t.retries,
      });
      pr.match = Math.max(pr.match, t.index);
      pr.becomeProbe();
      r.sendAppend(pr, true);
      return;
    }
    if (m.gap) {
      t.acked = m.nextOffset;
      if (t.lastGap === m.nextOffset) return;
      t.lastGap = m.nextOffset;
      t.sent = m.nextOffset;
      t.retries++;
      r.events.push({
        type: 'snapshot-retry',
        to: pr.id,
        index: t.index,
        offset: m.nextOffset,
        retries: t.retries,
      });
    } else if (m.nextOffset > t.acked) {
      t.acked = m.nextOffset;
      if (t.sent < t.acked) t.sent = t.acked;
    }
    r.sendSnapshotChunks(pr);
  }

  static leaderReadIndex(r: Raft, m: ReadIndexMsg): void {
    r.handleRead(m.ctx, m.from);
  }

  /** asFollower: a (pre-)candidate that hears from the leader of its term becomes its follower first. */
  static asFollower(h: Handler): Handler {
    return (r, m: Message) => {
      r.becomeFollower(r.term, m.from);
      h(r, m);
    };
  }
}

const ignore: Handler = () => {};

const followerTable: Record<MessageType, Handler> = {
  app: Raft.handleAppend,
  appResp: ignore,
  vote: Raft.handleVote,
  preVote: Raft.handleVote,
  voteResp: ignore,
  preVoteResp: ignore,
  heartbeat: Raft.handleHeartbeat,
  heartbeatResp: ignore,
  snap: Raft.handleSnap,
  snapResp: ignore,
  timeoutNow: Raft.handleTimeoutNow,
  readIndex: Raft.handleReadIndexNotLeader,
  readIndexResp: Raft.handleReadIndexResp,
};

/**
 * HANDLERS maps (role, message type) to a handler, dragonboat style. Every pair is present —
 * an `ignore` is a decision, not an omission — and a test checks the table is complete.
 */
export const HANDLERS: Record<Role, Record<MessageType, Handler>> = {
  follower: followerTable,
  learner: { ...followerTable, timeoutNow: ignore },
  'pre-candidate': {
    ...followerTable,
    app: Raft.asFollower(Raft.handleAppend),
    heartbeat: Raft.asFollower(Raft.handleHeartbeat),
    snap: Raft.asFollower(Raft.handleSnap),
    preVoteResp: Raft.handleVoteResp,
    timeoutNow: ignore,
  },
  candidate: {
    ...followerTable,
    app: Raft.asFollower(Raft.handleAppend),
    heartbeat: Raft.asFollower(Raft.handleHeartbeat),
    snap: Raft.asFollower(Raft.handleSnap),
    voteResp: Raft.handleVoteResp,
    timeoutNow: ignore,
  },
  leader: {
    app: ignore,
    appResp: Raft.leaderAppResp,
    vote: Raft.handleVote,
    preVote: Raft.handleVote,
    voteResp: ignore,
    preVoteResp: ignore,
    heartbeat: ignore,
    heartbeatResp: Raft.leaderHeartbeatResp,
    snap: ignore,
    snapResp: Raft.leaderSnapResp,
    timeoutNow: ignore,
    readIndex: Raft.leaderReadIndex,
    readIndexResp: ignore,
  },
};
