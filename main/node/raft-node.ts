import { randomInt } from 'node:crypto';
import { decodeConfEntry, isMember } from '../raft/conf';
import { RawNode } from '../raft/raw-node';
import { seededRng } from '../raft/rng';
import type {
  ConfChange,
  ConfState,
  Entry,
  Message,
  NodeId,
  ProposeResult,
  RaftEvent,
  Ready,
} from '../raft/types';
import { decodeCommand, encodeCommand, KvState } from './kv/kv-state';
import type { KvCommand, KvResult } from './kv/kv-state';
import { EntryTimes, readLog, type LogRead, type LogReadResult } from './log-inspect';
import type { JsonLog } from './logger';
import {
  formatMemberAddress,
  NotLeaderError,
  OutcomeUnknownError,
  parseMemberAddress,
} from './node-api';
import type {
  ChangeOutcome,
  LeaderHint,
  MemberAddress,
  NodeApi,
  NodeEvent,
  NodeEventBody,
  NodeStatus,
  MessageSampler,
  Pace,
  PaceChange,
  ServerStats,
} from './node-api';
import { PutTimeline, type PutStamps } from './put-timeline';
import { ReadTags } from './read-tags';
import { SnapshotScheduler, type SnapshotTaken } from './snapshot-scheduler';
import type { Storage } from './storage/storage';
import type { FaultFilter, FaultRule } from './transport/fault-filter';
import { TraceSampler, type TraceQuery, type TraceRead } from './transport/message-trace';
import { isPace } from './transport/pace';
import type { Transport } from './transport/transport';
import { done, failed, Waiters } from './waiters';

/** RaftNodeOptions configures one node process's Raft host. */
export interface RaftNodeOptions {
  id: NodeId;
  clusterId: string;
  dataDir: string;
  storage: Storage;
  transport: Transport;
  faults: FaultFilter;
  log: JsonLog;
  peerAddress: string;
  clientAddress: string;
  adminAddress: string;
  /** initialPeers: the founding voters (bootstrap) or, with join, the members to contact. */
  initialPeers: { id: NodeId; address: MemberAddress }[];
  /** join: start empty and wait to be added as a learner (never bootstrap). */
  join: boolean;
  tickMs?: number;
  heartbeatMs?: number;
  electionMs?: number;
  /** pace: the demo pace to start at (1..100, default 1; see Pace in node-api.ts). */
  pace?: number;
  /** fastFailover: campaign at once when the leader's port refuses connections (default true). */
  fastFailover?: boolean;
  /**
   * snapshotEntries: take a snapshot after this many applied entries, once they hold at least half
   * as many bytes as the state (0: only on request).
   */
  snapshotEntries?: number;
  /** snapshotKeep: entries kept in the log behind a snapshot, for followers a little behind. */
  snapshotKeep?: number;
  /** snapshotStepKeys: keys a snapshot writes per step before other work gets a turn. */
  snapshotStepKeys?: number;
  snapshotChunkBytes?: number;
  promoteGap?: number;
  /** requestTimeoutMs: a write not applied by then is reported as of unknown outcome. */
  requestTimeoutMs?: number;
  /** timeline: where to stamp the write path of each entry (PutTimeline); none: no stamps. */
  timeline?: PutTimeline;
  /** onFatal: called once on an unrecoverable error (storage); the process must exit non-zero. */
  onFatal: (err: Error) => void;
  /** onRemoved: called when this node applied its own removal; the process should exit cleanly. */
  onRemoved?: () => void;
}

/** ChangeWait is a membership change waiting, at its entry's index, to be seen applied. */
interface ChangeWait {
  /** term: the term the change was proposed in. */
  term: number;
  /** what: the change, in words, for the timeout error. */
  what: string;
}

/** PendingRead is a read waiting, by its tag, for its read index, then for that index applied. */
interface PendingRead {
  key: string;
  /** index: the read index, once the core gave it (undefined until then). */
  index: number | undefined;
}

/**
 * RaftNode hosts the pure Raft core in a process: it ticks it, feeds it messages from the
 * transport, and carries out each Ready in the core's order — persist (fsync when required)
 * BEFORE sending, then apply committed entries to the key-value state, then advance. Log writes
 * happen only inside that one loop; the one other writer is a snapshot being saved beside it
 * (FileStorage serializes it with the log's own syncs), so a large state never stalls the loop.
 * While a Ready is being made durable, new messages and proposals accumulate and go into the next
 * one, which gives group commit for free.
 */
export class RaftNode implements NodeApi {
  readonly id: NodeId;
  private readonly options: Required<Omit<RaftNodeOptions, 'onRemoved' | 'timeline'>> &
    Pick<RaftNodeOptions, 'onRemoved'>;
  /** timeline: the write path's stamps, when switched on (see PutTimeline). */
  private readonly timeline: PutTimeline | undefined;
  /** termOf: the term of a log index (0 if not held), for the timeline. */
  private readonly termOf = (i: number): number => this.raft.log.term(i) ?? 0;
  private raft!: RawNode;
  private kv = new KvState();
  /** proposals: writes waiting to be seen applied, by log index, with the term proposed in. */
  private readonly proposals = new Waiters<number, KvResult, number>(
    (index, _term, ms) =>
      new OutcomeUnknownError(`the write at index ${index} was not seen applied within ${ms} ms`),
  );
  /** changes: membership changes waiting to be seen applied, by their entry's index. */
  private readonly changes = new Waiters<number, ChangeOutcome, ChangeWait>(
    (index, w, ms) =>
      new OutcomeUnknownError(`${w.what} (entry ${index}) was not committed within ${ms} ms`),
  );
  /** transfers: leadership transfers waiting for their target to lead, by target. */
  private readonly transfers = new Waiters<NodeId, ChangeOutcome>(
    (id, _, ms) => new Error(`leadership did not move to ${id} within ${ms} ms`),
  );
  /** reads: reads waiting for their read index and for it to be applied, by read tag. */
  private readonly reads = new Waiters<number, Uint8Array | null, PendingRead>(
    (_, pr, ms) => new Error(`read of '${pr.key}' timed out after ${ms} ms`),
  );
  /** readTags: the ctx of each read; unique across restarts (see ReadTags). */
  private readonly readTags = new ReadTags();
  /** entryTimes: when the latest indexes were appended, committed and applied here. */
  private readonly entryTimes = new EntryTimes();
  /** commitSeen: the commit index whose entries' commit times are recorded. */
  private commitSeen = 0;
  /** snapshots: when to take a snapshot of the node's own, and writing it beside the Ready loop. */
  private readonly snapshots: SnapshotScheduler;

  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private readonly events: NodeEvent[] = [];
  private eventSeq = 0;
  private version = 0;
  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private fatal: Error | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private peersConf: ConfState | undefined;
  /** knownPeers: where every node seen in a configuration (or given at start) listens. */
  private readonly knownPeers: Record<string, string> = {};
  /**
   * strangers: nodes outside the configuration this node had messages for (a removed node being
   * told of its removal, a leader removing itself), with when it last had one. They stay in the
   * transport's peer set for peerLingerMs after the last message, then the link is closed.
   */
  private readonly strangers = new Map<NodeId, number>();
  /** peerIds: the ids last given to the transport, sorted, joined (to skip unchanged sets). */
  private peerIds = '';
  /** removedAt: the index of the configuration that removed this node (0: not removed). */
  private removedAt = 0;
  private removing = false;
  /** durableTerm, durableVote: the term and vote last made durable (early sends require them unchanged). */
  private durableTerm = 0;
  private durableVote = 0;
  private peersSet = false;
  private fsyncDelayMs = 0;
  private readonly shutdownHooks: (() => void)[] = [];
  private serverStats: (() => ServerStats) | undefined;
  private readonly startedAt = Date.now();
  /** pace: the demo pace and fast failover in effect (see setPace). */
  private pace: Pace;
  /** goneSeen: "leader@term" of the last leader-gone reported (once per leader and term). */
  private goneSeen = '';
  private readonly heartbeatTicks: number;
  private readonly electionTicks: number;
  /** peerLingerMs: how long a node outside the configuration stays a peer after the last message to it. */
  private readonly peerLingerMs: number;

  constructor(opts: RaftNodeOptions) {
    this.id = opts.id;
    this.timeline = opts.timeline;
    this.options = {
      tickMs: 10,
      heartbeatMs: 100,
      electionMs: 1000,
      snapshotEntries: 10_000,
      snapshotKeep: 1000,
      snapshotStepKeys: 4096,
      snapshotChunkBytes: 1 << 20,
      promoteGap: 100,
      requestTimeoutMs: 10_000,
      pace: 1,
      fastFailover: true,
      ...opts,
    };
    if (!isPace(this.options.pace)) {
      throw new RangeError(`pace must be an integer in 1..100, got ${this.options.pace}`);
    }
    this.pace = { pace: this.options.pace, fastFailover: this.options.fastFailover };
    this.peerLingerMs = 2 * this.options.electionMs;
    this.heartbeatTicks = Math.max(1, Math.round(this.options.heartbeatMs / this.options.tickMs));
    this.electionTicks = Math.max(
      this.heartbeatTicks + 1,
      Math.round(this.options.electionMs / this.options.tickMs),
    );
    this.snapshots = new SnapshotScheduler(
      {
        log: this.options.log,
        appliedIndex: () => this.kv.appliedIndex,
        stateBytes: () => this.kv.bytes,
        startImage: () => this.kv.startSnapshot(),
        compact: (index, data, keep) => this.raft.compact(index, data, keep),
        currentBytes: () => this.raft.snapshot?.data.length ?? 0,
        save: (snap) => this.options.storage.saveSnapshot(snap),
        stopped: () => this.stoppedError(),
        compacted: () => this.schedule(),
        finished: () => {
          if (!this.stopped && !this.running) this.loopDone = this.loop();
        },
        fatal: (err) => this.die(err),
      },
      {
        every: this.options.snapshotEntries,
        keep: this.options.snapshotKeep,
        stepKeys: this.options.snapshotStepKeys,
      },
    );
  }

  /** start loads durable state, rebuilds the state machine and begins ticking. */
  async start(): Promise<void> {
    const t0 = performance.now();
    const loaded = await this.options.storage.load();
    const loadMs = Math.round(performance.now() - t0);
    const { info, ...state } = loaded;
    if (info.repairedTail) {
      this.options.log.warn('repaired a torn WAL tail', { ...info.repairedTail });
      this.emit({
        type: 'storage-warning',
        message: `repaired torn WAL tail in ${info.repairedTail.file} at offset ${info.repairedTail.offset}`,
      });
    }
    const t1 = performance.now();
    if (state.snapshot) {
      this.kv = KvState.restore(state.snapshot.data);
      this.snapshots.installed(state.snapshot.meta.index);
    }
    const restoreMs = Math.round(performance.now() - t1);
    this.durableTerm = state.hardState.term;
    this.durableVote = state.hardState.vote;
    const fresh = state.hardState.term === 0 && state.entries.length === 0 && !state.snapshot;
    const initialVoters =
      fresh && !this.options.join
        ? this.options.initialPeers.map((p) => ({
            id: p.id,
            address: formatMemberAddress(p.address),
          }))
        : undefined;
    this.raft = new RawNode({
      id: this.id,
      electionTicks: this.electionTicks,
      heartbeatTicks: this.heartbeatTicks,
      rng: seededRng(randomInt(0, 2 ** 31)),
      preVote: true,
      checkQuorum: true,
      snapshotChunkBytes: this.options.snapshotChunkBytes,
      promoteGap: this.options.promoteGap,
      state: fresh ? undefined : state,
      initialVoters,
    });
    // Entries committed before this start are not timed: their commit was not seen here.
    this.commitSeen = this.raft.log.commit;
    this.options.log.info('node started', {
      pid: process.pid,
      term: state.hardState.term,
      entries: state.entries.length,
      snapshotIndex: state.snapshot?.meta.index ?? 0,
      commit: this.raft.log.commit,
      loadMs,
      restoreMs,
      snapshotMs: info.snapshotMs,
      walMs: info.walMs,
    });
    this.emit({
      type: 'started',
      pid: process.pid,
      recovered: {
        entries: state.entries.length,
        snapshotIndex: state.snapshot?.meta.index ?? 0,
        repairedTail: info.repairedTail !== undefined,
        loadMs,
        restoreMs,
        snapshotMs: info.snapshotMs,
        walMs: info.walMs,
      },
    });
    this.updatePeers();
    this.options.transport.onMessage((m) => {
      if (this.stopped) return;
      if (this.timeline !== undefined) this.stampMessage(this.timeline, m);
      this.raft.step(m);
      this.timeline?.committed(this.raft.log.commit, this.termOf);
      this.schedule();
    });
    this.options.transport.onPeerGone?.((peer) => this.onLeaderGone(peer));
    this.options.transport.setPace?.(this.pace.pace);
    this.startTicker();
    this.schedule();
  }

  /** startTicker (re)starts the tick timer: one tick every tickMs × pace. */
  private startTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = setInterval(() => this.onTick(), this.options.tickMs * this.pace.pace);
  }

  /**
   * onLeaderGone: a peer's port refused a connection. If it is this follower's leader, its
   * process is gone: with fast failover on, the follower campaigns at once, since waiting out a
   * whole election timeout would only leave the cluster without a leader for longer; with it off
   * (so that a demo shows a real election timeout) it waits. Either way it says which, once per
   * leader and term.
   */
  private onLeaderGone(peer: NodeId): void {
    if (this.stopped || this.raft.role !== 'follower' || this.raft.leader !== peer) return;
    const campaign = this.pace.fastFailover;
    const key = `${peer}@${this.raft.term}`;
    if (key !== this.goneSeen) {
      this.goneSeen = key;
      this.options.log.info(
        campaign
          ? 'leader is gone (its port refuses connections); campaigning early'
          : 'leader is gone (its port refuses connections); fast failover is off, waiting for the election timeout',
        { leader: peer, term: this.raft.term, fastFailover: campaign },
      );
      this.emit({ type: 'leader-gone', leader: peer, term: this.raft.term, campaign });
    }
    if (!campaign) return;
    this.raft.leaderGone(peer);
    this.schedule();
  }

  // ---------------------------------------------------------------- the Ready loop

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) this.loopDone = this.loop();
    });
  }

  private onTick(): void {
    if (this.stopped) return;
    this.updatePeers();
    this.raft.tick();
    this.checkTransfers();
    this.schedule();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.raft.hasReady()) {
        const rd = this.raft.ready();
        this.noteCommits(rd);
        this.updatePeers(rd.messages);
        // A leader may replicate its new entries while it makes them durable itself (Raft thesis
        // §10.2.1): the core counts the leader's own copy only after advance(), so commit still
        // waits for the local fsync. Everything else — every acknowledgement, every vote, and any
        // message of a Ready that changes term or vote — goes out only after persisting.
        for (const part of rd.snapshotParts) this.options.storage.receiveSnapshot(part);
        const early = this.leaderMessagesBeforeSync(rd);
        if (early.length > 0) {
          // Out before the local write is even started: the followers' fsyncs run beside ours.
          this.options.transport.send(early);
          this.options.transport.flush();
        }
        await this.persist(rd);
        if (this.stopped) return;
        if (this.timeline !== undefined && rd.entries.length > 0) {
          this.timeline.synced(rd.entries[0]!.index, rd.entries.at(-1)!.index, this.termOf);
        }
        this.noteAppends(rd);
        this.options.transport.send(
          early.length > 0 ? rd.messages.filter((m) => !early.includes(m)) : rd.messages,
        );
        // Restoring a large snapshot takes a while; the sender waits for its acknowledgement.
        if (rd.snapshot) this.options.transport.flush();
        this.applyReady(rd);
        this.raft.advance();
        this.timeline?.committed(this.raft.log.commit, this.termOf);
        this.version++;
        this.updatePeers();
        this.snapshots.maybeStart();
      }
      this.snapshots.maybeStart();
    } catch (e) {
      this.die(e as Error);
    } finally {
      this.running = false;
    }
    if (!this.stopped && this.raft.hasReady()) this.schedule();
  }

  /**
   * noteCommits records, as a Ready is taken, which entries the commit index now covers (at most
   * the latest EntryTimes.size of them); entries a snapshot brought are not timed.
   */
  private noteCommits(rd: Ready): void {
    const now = Date.now();
    const times = this.entryTimes;
    const log = this.raft.log;
    if (rd.snapshot) this.commitSeen = Math.max(this.commitSeen, rd.snapshot.meta.index);
    const commit = log.commit;
    for (let i = Math.max(this.commitSeen + 1, commit - times.size + 1); i <= commit; i++) {
      const term = log.term(i);
      if (term !== undefined) times.committed(i, term, now);
    }
    this.commitSeen = Math.max(this.commitSeen, commit);
  }

  /**
   * stampMessage notes in the timeline, before the core steps `m`, an AppendEntries carrying
   * entries (received here) and a leader's successful AppendEntries response (an acknowledgement).
   */
  private stampMessage(tl: PutTimeline, m: Message): void {
    if (m.type === 'app' && m.entries.length > 0) {
      const first = m.entries[0]!.index;
      tl.appendReceived(first, m.entries.at(-1)!.index, (i) => m.entries[i - first]!.term);
    } else if (m.type === 'app-resp' && !m.reject && this.raft.role === 'leader') {
      if (m.term === this.raft.term) tl.ack(m.from, m.index, this.raft.log.conf().voters.length);
    }
  }

  /** noteAppends records, once a Ready is durable, when its entries were appended. */
  private noteAppends(rd: Ready): void {
    const now = Date.now();
    for (const e of rd.entries) this.entryTimes.appended(e.index, e.term, now);
  }

  /** leaderMessagesBeforeSync picks the messages of a leader's Ready that may leave before its fsync. */
  private leaderMessagesBeforeSync(rd: Ready): Message[] {
    if (this.raft.role !== 'leader' || rd.snapshot) return [];
    const hs = rd.hardState;
    if (hs && (hs.term !== this.durableTerm || hs.vote !== this.durableVote)) return [];
    return rd.messages.filter((m) => m.type === 'app' || m.type === 'heartbeat');
  }

  /** persist makes the Ready durable: snapshot first, then entries and hard state, one sync. */
  private async persist(rd: Ready): Promise<void> {
    const st = this.options.storage;
    if (rd.snapshot) {
      // A snapshot of our own still being written is older; let it finish first.
      await this.snapshots.task;
      await st.saveSnapshot(rd.snapshot);
    }
    if (rd.entries.length > 0) st.append(rd.entries);
    const hs = rd.hardState;
    if (hs) st.setHardState(hs);
    if (rd.mustSync) await st.sync();
    if (hs) {
      this.durableTerm = hs.term;
      this.durableVote = hs.vote;
    }
  }

  private applyReady(rd: Ready): void {
    if (rd.snapshot) {
      this.kv = KvState.restore(rd.snapshot.data);
      this.snapshots.installed(rd.snapshot.meta.index);
      this.options.log.info('installed snapshot', {
        index: rd.snapshot.meta.index,
        bytes: rd.snapshot.data.length,
      });
      this.settleChangesBySnapshot(rd.snapshot.meta);
      // Writes waiting at or below the snapshot may or may not be in it.
      const at = rd.snapshot.meta.index;
      this.proposals.settleWhere((index) =>
        index <= at
          ? failed(
              new OutcomeUnknownError(
                'a snapshot replaced the log before the write was seen applied',
              ),
            )
          : undefined,
      );
    }
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const pr = this.reads.data(rs.ctx);
      if (!pr || pr.index !== undefined) continue;
      if (!rs.ok) {
        this.reads.settle(
          rs.ctx,
          failed(
            new NotLeaderError(this.leaderHint(), 'leadership changed during the read; retry'),
          ),
        );
        continue;
      }
      pr.index = rs.index;
    }
    this.releaseReads();
    for (const ev of rd.events) this.onRaftEvent(ev);
    this.settleChanges();
    this.maybeLeave();
  }

  /**
   * maybeLeave shuts the node down once it has applied the configuration that removed it (the
   * core's 'removed' event; learnt from its log or from a snapshot). The short wait lets its last
   * acknowledgement reach the leader, which then stops telling it.
   */
  private maybeLeave(): void {
    if (this.removedAt === 0 || this.removing || this.kv.appliedIndex < this.removedAt) return;
    this.removing = true;
    this.options.log.info('this node was removed from the cluster; shutting down', {
      index: this.removedAt,
    });
    setTimeout(
      () => void this.shutdown('removed from the cluster').then(() => this.options.onRemoved?.()),
      300,
    ).unref();
  }

  private applyEntry(e: Entry): void {
    this.entryTimes.applied(e.index, e.term, Date.now());
    this.timeline?.applied(e.index, e.term);
    const data = e.data; // entries replayed from the WAL make a view each time it is read
    this.snapshots.applied(data.length);
    if (this.changes.size > 0) this.settleChange(e.index, e.term);
    if (e.type === 'conf') {
      this.kv.skip(e.index);
      const ce = decodeConfEntry(data);
      this.options.log.info('applied config change', {
        index: e.index,
        change: ce.change,
        voters: ce.conf.voters,
        learners: ce.conf.learners,
      });
    } else if (data.length === 0) {
      this.kv.skip(e.index);
    } else {
      let result: KvResult;
      try {
        result = this.kv.apply(e.index, decodeCommand(data));
      } catch (err) {
        // A payload the state machine cannot read is skipped the same way on every replica.
        this.options.log.error('skipping unreadable entry', {
          index: e.index,
          error: (err as Error).message,
        });
        this.kv.skip(e.index);
        result = { ok: false, error: 'stale-request', detail: 'unreadable command' };
      }
      this.proposals.settle(e.index, (_, term) =>
        term === e.term ? done(result) : failed(this.overwritten()),
      );
      return;
    }
    this.proposals.settle(e.index, () => failed(this.overwritten()));
  }

  /** overwritten: the error of a write whose index a new leader's entry took. */
  private overwritten(): NotLeaderError {
    return new NotLeaderError(
      this.leaderHint(),
      'the write was overwritten by a new leader; retry',
    );
  }

  /** releaseReads answers the reads whose read index is applied, in the order they were asked. */
  private releaseReads(): void {
    if (this.reads.size === 0) return;
    const applied = this.kv.appliedIndex;
    this.reads.settleWhere((_, pr) =>
      pr.index !== undefined && pr.index <= applied ? done(this.kv.get(pr.key) ?? null) : undefined,
    );
  }

  /**
   * settleChange answers the caller of the change proposed at `index`, now that the entry
   * committed there (of term `term`) is applied: it is that change if the terms match, else the
   * change was lost to a new leader.
   */
  private settleChange(index: number, term: number): void {
    this.changes.settle(index, (_, w) =>
      term === w.term ? done({ index, term: w.term }) : failed(this.changeLost(index)),
    );
  }

  /** changeLost: the error of a change whose entry a new leader's entry (of a later term) took. */
  private changeLost(index: number): Error {
    return new Error(`the change at ${index} was lost to a new leader; retry`);
  }

  /**
   * settleChangesBySnapshot answers the changes a snapshot from the leader jumped over: their
   * entries were never seen applied, so what committed there is known only if the snapshot says
   * (its own index and term, or a term older than the change's, which no later entry can have).
   * Otherwise the outcome is unknown — it may have committed, or been replaced — and is reported
   * so, never as done.
   */
  private settleChangesBySnapshot(meta: { index: number; term: number }): void {
    this.changes.settleWhere((index, w) => {
      if (index > meta.index) return undefined;
      if (index === meta.index && w.term === meta.term) return done({ index, term: w.term });
      if (meta.term < w.term) return failed(this.changeLost(index));
      return failed(
        new OutcomeUnknownError(
          `a snapshot from the leader (index ${meta.index}, term ${meta.term}) replaced the log before the change at ${index} (term ${w.term}) was seen applied; whether it committed is unknown: check the configuration`,
        ),
      );
    });
  }

  private settleChanges(): void {
    if (this.changes.size === 0) return;
    const log = this.raft.log;
    // The state machine's index, not log.applied: this runs before advance() moves log.applied.
    const applied = this.kv.appliedIndex;
    this.changes.settleWhere((index) => {
      if (applied >= index) {
        // Applied without the entry being seen (it is settled in applyEntry): nothing says
        // what committed there.
        return failed(
          new OutcomeUnknownError(
            `the change at ${index} was not seen applied (applied ${applied}); whether it committed is unknown: check the configuration`,
          ),
        );
      }
      if (log.commit < index && this.raft.role !== 'leader' && !isMember(log.conf(), this.id)) {
        // A leader that removed itself and lost leadership before the commit will never hear the
        // outcome: the next leader no longer talks to it. Say so now instead of timing out. (One
        // that saw the commit and stepped down on it applies the entry in a later Ready.)
        return failed(
          new OutcomeUnknownError(
            `node ${this.id} lost leadership before the change at ${index} committed and is not in the new configuration, so it cannot learn the outcome; ask the current leader`,
          ),
        );
      }
      return undefined;
    });
  }

  /** checkTransfers answers the transfers whose target now leads, in the order they were asked. */
  private checkTransfers(): void {
    if (this.transfers.size === 0) return;
    this.transfers.settle(this.raft.leader, () =>
      done({ index: this.raft.log.lastIndex(), term: this.raft.term }),
    );
  }

  /**
   * updatePeers gives the transport the peers this node talks to: the members of its latest
   * configuration (or, while it knows none, the peers it was started with), and any other node it
   * had a message for within peerLingerMs — a removed node still being told of its removal, a
   * leader that is removing itself. The transport dials every peer it is given and keeps
   * reconnecting, so a node that left is dropped once nobody has anything more to tell it.
   * Addresses are never forgotten, only the links. `msgs` are about to be sent.
   */
  private updatePeers(msgs: readonly Message[] = []): void {
    const conf = this.raft.log.conf();
    let changed = !this.peersSet;
    if (conf !== this.peersConf) {
      this.peersConf = conf;
      changed = true;
      for (const p of this.options.initialPeers) this.knownPeers[String(p.id)] ??= p.address.peer;
      for (const [id, addr] of Object.entries(conf.addresses))
        this.knownPeers[id] = parseMemberAddress(addr).peer;
    }
    const now = Date.now();
    for (const m of msgs) {
      if (isMember(conf, m.to)) continue;
      if (!this.strangers.has(m.to)) changed = true;
      this.strangers.set(m.to, now);
    }
    for (const [id, at] of this.strangers) {
      if (now - at <= this.peerLingerMs * this.pace.pace) continue;
      this.strangers.delete(id);
      changed = true;
    }
    if (!changed) return;
    const ids = new Set<NodeId>([...conf.voters, ...conf.learners, ...this.strangers.keys()]);
    if (conf.voters.length === 0) for (const p of this.options.initialPeers) ids.add(p.id);
    ids.delete(this.id);
    const peers: Record<string, string> = {};
    for (const id of [...ids].sort((a, b) => a - b)) {
      const at = this.knownPeers[String(id)];
      if (at !== undefined) peers[String(id)] = at;
    }
    const key = Object.keys(peers)
      .map((id) => `${id}@${peers[id]}`)
      .join(',');
    if (key === this.peerIds && this.peersSet) return;
    this.peersSet = true;
    this.peerIds = key;
    this.options.transport.setPeers(peers);
  }

  private die(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.options.log.error('fatal storage error; stopping', { error: err.message });
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.options.onFatal(err);
  }

  // ---------------------------------------------------------------- events

  private onRaftEvent(ev: RaftEvent): void {
    if (
      ev.type === 'role' ||
      ev.type === 'leader' ||
      ev.type === 'step-down' ||
      ev.type === 'config' ||
      ev.type === 'removed'
    ) {
      this.options.log.info(`raft ${ev.type}`, { ...ev });
    } else if (ev.type === 'refused') {
      this.options.log.warn('refused a message with a number out of bounds', { ...ev });
    }
    if (ev.type === 'removed') this.removedAt = ev.index;
    if (ev.type === 'leader') this.timeline?.forgetAcks();
    this.emit(ev);
  }

  private emit(ev: NodeEventBody): void {
    const e = { ...ev, seq: ++this.eventSeq, time: Date.now(), node: this.id } as NodeEvent;
    this.events.push(e);
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.options.log.warn('event listener failed', { error: (err as Error).message });
      }
    }
  }

  subscribe(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recentEvents(n: number): NodeEvent[] {
    return this.events.slice(-n);
  }

  recentLogs(n: number): Record<string, unknown>[] {
    return this.options.log.recent(n);
  }

  // ---------------------------------------------------------------- client API

  leaderHint(): LeaderHint {
    const leader = this.raft?.leader ?? 0;
    const addr = leader ? this.raft.log.conf().addresses[String(leader)] : undefined;
    return { leaderId: leader, leaderClientAddress: addr ? parseMemberAddress(addr).client : '' };
  }

  /** stoppedError: why this node takes no more requests, or undefined while it runs. */
  private stoppedError(): Error | undefined {
    if (!this.stopped) return undefined;
    return new Error(this.fatal ? `node stopped: ${this.fatal.message}` : 'node is shutting down');
  }

  private proposeError(r: ProposeResult & { ok: false }): Error {
    if (r.error === 'not-leader') return new NotLeaderError(this.leaderHint());
    const e = new Error(`${r.error}: ${r.detail}`);
    e.name = r.error;
    return e;
  }

  propose(cmd: KvCommand): Promise<KvResult> {
    const stopped = this.stoppedError();
    if (stopped) return Promise.reject(stopped);
    const r = this.raft.propose(encodeCommand(cmd));
    if (!r.ok) return Promise.reject(this.proposeError(r));
    this.timeline?.proposed(r.index, r.term, cmd.clientId, cmd.seq);
    this.schedule();
    return this.proposals.wait(r.index, this.options.requestTimeoutMs, r.term);
  }

  get(key: string): Promise<Uint8Array | null> {
    const stopped = this.stoppedError();
    if (stopped) return Promise.reject(stopped);
    const ctx = this.readTags.take();
    const r = this.raft.readIndex(ctx);
    if (!r.ok) return Promise.reject(this.proposeError(r));
    this.schedule();
    return this.reads.wait(ctx, this.options.requestTimeoutMs, { key, index: undefined });
  }

  // ---------------------------------------------------------------- admin API

  private change(r: ProposeResult, what: string): Promise<ChangeOutcome> {
    if (!r.ok) return Promise.reject(this.proposeError(r));
    this.version++;
    this.schedule();
    return this.changes.wait(r.index, this.options.requestTimeoutMs, { term: r.term, what });
  }

  /**
   * proposeChange proposes a membership change. A leader that has not yet committed an entry of its
   * own term (just elected, e.g. right after a transfer) cannot take one; that lasts a heartbeat or
   * two, so it is waited out for up to an election timeout instead of failing the caller.
   */
  private async proposeChange(cc: ConfChange, what: string): Promise<ChangeOutcome> {
    const deadline = Date.now() + this.options.electionMs * this.pace.pace;
    for (;;) {
      const stopped = this.stoppedError();
      if (stopped) throw stopped;
      const r = this.raft.proposeConfChange(cc);
      if (r.ok || r.error !== 'leader-not-ready' || Date.now() > deadline)
        return this.change(r, what);
      await new Promise((resolve) => setTimeout(resolve, this.options.tickMs));
    }
  }

  addLearner(id: NodeId, address: MemberAddress): Promise<ChangeOutcome> {
    return this.proposeChange(
      { type: 'add-learner', node: id, address: formatMemberAddress(address) },
      `adding learner ${id}`,
    );
  }

  promote(id: NodeId): Promise<ChangeOutcome> {
    return this.proposeChange({ type: 'promote', node: id }, `promoting ${id}`);
  }

  remove(id: NodeId): Promise<ChangeOutcome> {
    return this.proposeChange({ type: 'remove', node: id }, `removing ${id}`);
  }

  transferLeader(id: NodeId): Promise<ChangeOutcome> {
    const stopped = this.stoppedError();
    if (stopped) return Promise.reject(stopped);
    const r = this.raft.transferLeader(id);
    if (!r.ok) return Promise.reject(this.proposeError(r));
    this.schedule();
    if (this.raft.leader === id)
      return Promise.resolve({ index: this.raft.log.lastIndex(), term: this.raft.term });
    return this.transfers.wait(id, 2 * this.options.electionMs * this.pace.pace, undefined);
  }

  snapshotNow(): Promise<SnapshotTaken> {
    const stopped = this.stoppedError();
    if (stopped) return Promise.reject(stopped);
    const taken = this.snapshots.request();
    if (!this.running) this.loopDone = this.loop();
    return taken;
  }

  setFaults(rules: FaultRule[]): void {
    this.options.faults.setRules(rules);
    this.version++;
    this.options.log.info('faults set', { rules });
    this.emit({ type: 'faults', rules, fsyncDelayMs: this.fsyncDelayMs });
  }

  clearFaults(): void {
    this.options.faults.clear();
    this.version++;
    this.options.log.info('faults cleared');
    this.emit({ type: 'faults', rules: [], fsyncDelayMs: this.fsyncDelayMs });
  }

  setFsyncDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 60_000)
      throw new Error(`fsync delay must be 0..60000 ms, got ${ms}`);
    this.fsyncDelayMs = ms;
    this.options.storage.setFsyncDelay(ms);
    this.version++;
    this.options.log.info('fsync delay set', { ms });
    this.emit({ type: 'faults', rules: this.options.faults.list(), fsyncDelayMs: ms });
  }

  setPace(p: Pace): PaceChange {
    if (!isPace(p.pace)) throw new Error(`pace must be an integer in 1..100, got ${p.pace}`);
    const previous = this.pace;
    if (previous.pace === p.pace && previous.fastFailover === p.fastFailover) {
      return { ...previous, previous };
    }
    this.pace = { pace: p.pace, fastFailover: p.fastFailover };
    this.options.transport.setPace?.(p.pace);
    if (previous.pace !== p.pace && this.ticker !== undefined && !this.stopped) this.startTicker();
    this.version++;
    this.options.log.info('pace set', { ...this.pace, previous });
    this.emit({ type: 'pace', ...this.pace, previous });
    return { ...this.pace, previous };
  }

  putTimeline(q: { from?: number; limit: number }): { size: number; stamps: PutStamps[] } {
    if (this.timeline === undefined) return { size: 0, stamps: [] };
    return { size: this.timeline.size, stamps: this.timeline.read(q.from, q.limit) };
  }

  messages(q: TraceQuery): TraceRead {
    const ring = this.options.transport.traces;
    if (ring === undefined) return { traces: [], nextSeq: q.since ?? 0 };
    return ring.read(q);
  }

  logEntries(q: LogRead): LogReadResult {
    return readLog(
      {
        log: this.raft.log,
        snapshotIndex: this.raft.snapshot?.meta.index ?? 0,
        term: this.raft.term,
        times: this.entryTimes,
      },
      q,
    );
  }

  sampleMessages(perLinkHz: number): MessageSampler {
    const ring = this.options.transport.traces;
    const sampler = new TraceSampler(perLinkHz);
    const stop = ring?.listen(sampler);
    return {
      get empty() {
        return sampler.empty;
      },
      drain: () => sampler.drain(),
      close: () => stop?.(),
    };
  }

  async shutdown(reason: string): Promise<void> {
    if (this.stopped && !this.fatal) return;
    this.options.log.info('shutting down', { reason });
    this.emit({ type: 'shutdown', reason });
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.loopDone.catch(() => undefined);
    await this.snapshots.task;
    const inFlight = new OutcomeUnknownError('node shut down with the request in flight');
    this.proposals.failAll(inFlight);
    this.reads.failAll(new Error('node shut down'));
    this.changes.failAll(inFlight);
    this.transfers.failAll(inFlight);
    // Requests that came after the last snapshot started: no snapshot will serve them now.
    this.snapshots.failRequests(this.stoppedError() ?? new Error('node is shutting down'));
    await this.options.transport.close().catch(() => undefined);
    if (!this.fatal) await this.options.storage.close().catch(() => undefined);
    for (const cb of this.shutdownHooks) cb();
  }

  /** setAddresses records where the client and admin servers ended up listening. */
  setAddresses(client: string, admin: string): void {
    this.options.clientAddress = client;
    this.options.adminAddress = admin;
    this.version++;
  }

  /** setServerStats gives status() where to read the ports' bounds and counts from. */
  setServerStats(read: () => ServerStats): void {
    this.serverStats = read;
  }

  /** onShutdown registers a callback run once the node has shut down (for whatever reason). */
  onShutdown(cb: () => void): void {
    this.shutdownHooks.push(cb);
  }

  // ---------------------------------------------------------------- status

  status(): NodeStatus {
    const s = this.raft.status();
    const sizes = this.options.storage.sizes();
    return {
      ...s,
      version: this.version,
      clusterId: this.options.clusterId,
      pid: process.pid,
      dataDir: this.options.dataDir,
      startedAt: this.startedAt,
      now: Date.now(),
      peerAddress: this.options.peerAddress,
      clientAddress: this.options.clientAddress,
      adminAddress: this.options.adminAddress,
      storage: { ...sizes, fsyncDelayMs: this.fsyncDelayMs },
      transport: this.options.transport.stats(),
      faults: this.options.faults.list(),
      kv: { keys: this.kv.size, bytes: this.kv.bytes },
      timing: {
        tickMs: this.options.tickMs,
        heartbeatMs: this.options.heartbeatMs,
        electionMs: this.options.electionMs,
        pace: this.pace.pace,
        fastFailover: this.pace.fastFailover,
      },
      servers: this.serverStats?.(),
    };
  }
}
