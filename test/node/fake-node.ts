/**
 * FakeNode is an in-memory NodeApi for the client and admin server tests: one node holding a
 * KvState (so retried writes are deduplicated exactly as on a real node), with switches that make
 * it act as a follower, hang, or cut connections after taking a write.
 */
import { KvState, type KvCommand, type KvResult } from '../../main/node/kv/kv-state';
import {
  NotLeaderError,
  OutcomeUnknownError,
  type ChangeOutcome,
  type LeaderHint,
  type MemberAddress,
  type MessageSampler,
  type NodeApi,
  type NodeEvent,
  type NodeEventBody,
  type NodeStatus,
  type Pace,
  type PaceChange,
} from '../../main/node/node-api';
import {
  TraceRing,
  TraceSampler,
  type TraceQuery,
  type TraceRead,
} from '../../main/node/transport/message-trace';
import { EntryTimes, readLog, type LogRead, type LogReadResult } from '../../main/node/log-inspect';
import type { PutStamps } from '../../main/node/put-timeline';
import { RaftLog } from '../../main/raft/log';
import { FaultFilter, type FaultRule } from '../../main/node/transport/fault-filter';
import { newCounters } from '../../main/node/transport/stats';
import { idlePeerPortStats } from '../../main/node/transport/transport';
import type { NodeId } from '../../main/raft/types';

/**
 * WriteMode says what the fake does with a write:
 *  - normal: apply it and answer;
 *  - hang: never answer (nothing applied);
 *  - drop: apply it, then call onDrop (the test cuts the connections) and never answer;
 *  - unknown: apply it, then throw OutcomeUnknownError.
 */
export type WriteMode = 'normal' | 'hang' | 'drop' | 'unknown';

export interface FakeCall {
  op: string;
  args: unknown[];
}

export class FakeNode implements NodeApi {
  readonly kv = new KvState();
  /** proposals: every command proposed, retries included, in arrival order. */
  readonly proposals: KvCommand[] = [];
  /** calls: every admin-side call, with its arguments. */
  readonly calls: FakeCall[] = [];
  /** follower: when set, writes, reads and changes throw NotLeaderError with this hint. */
  follower: LeaderHint | undefined;
  writeMode: WriteMode = 'normal';
  readMode: 'normal' | 'hang' = 'normal';
  /** onDrop runs after a write is applied in 'drop' mode. */
  onDrop: (() => void) | undefined;
  /** delayMs: how long each answer takes (answers then come out of order). */
  delayMs: (() => number) | undefined;
  /** refuse: writes it returns true for are refused as if no leader were known. */
  refuse: ((cmd: KvCommand) => boolean) | undefined;
  /** changeError: thrown by the membership ops when set. */
  changeError: Error | undefined;
  version = 1;
  fsyncDelayMs = 0;
  readonly faults = new FaultFilter();
  /** traces: the ring `messages` reads and samplers listen to; a test records into it. */
  readonly traces = new TraceRing();
  /** now: the clock samplers use (a test may replace it). */
  now: () => number = Date.now;
  pace: Pace = { pace: 1, fastFailover: true };
  /** raftLog, entryTimes, snapshotIndex: what `log-entries` reads; a test fills them. */
  readonly raftLog = new RaftLog();
  readonly entryTimes = new EntryTimes(16);
  snapshotIndex = 0;
  private index = 0;
  private eventSeq = 0;
  private readonly events: NodeEvent[] = [];
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private readonly logs: Record<string, unknown>[] = [];

  constructor(readonly id: NodeId = 1) {}

  async propose(cmd: KvCommand): Promise<KvResult> {
    this.proposals.push(cmd);
    if (this.follower) throw new NotLeaderError(this.follower);
    if (this.refuse?.(cmd)) throw new NotLeaderError({ leaderId: 0, leaderClientAddress: '' });
    if (this.writeMode === 'hang') return never();
    // A copy: the value is a view of the frame it arrived in.
    const own: KvCommand = {
      ...cmd,
      cmd:
        cmd.cmd.op === 'del'
          ? cmd.cmd
          : ({ ...cmd.cmd, value: cmd.cmd.value.slice() } as KvCommand['cmd']),
    };
    const r = this.kv.apply(++this.index, own);
    this.version += 1;
    if (this.writeMode === 'drop') {
      this.onDrop?.();
      return never();
    }
    if (this.writeMode === 'unknown') throw new OutcomeUnknownError('lost leadership mid-write');
    // Applied in arrival order, as a leader proposes; only the answer is delayed.
    await this.wait();
    return r;
  }

  async get(key: string): Promise<Uint8Array | null> {
    if (this.follower) throw new NotLeaderError(this.follower);
    await this.wait();
    if (this.readMode === 'hang') return never();
    return this.kv.get(key) ?? null;
  }

  /** value reads the map directly, as text. */
  value(key: string): string | undefined {
    const v = this.kv.get(key);
    return v === undefined ? undefined : Buffer.from(v).toString();
  }

  leaderHint(): LeaderHint {
    return this.follower ?? { leaderId: this.id, leaderClientAddress: '' };
  }

  status(): NodeStatus {
    const leader = this.follower ? this.follower.leaderId : this.id;
    return {
      id: this.id,
      role: this.follower ? 'follower' : 'leader',
      term: 2,
      vote: leader,
      leader,
      commit: this.index,
      applied: this.index,
      firstIndex: 1,
      lastIndex: this.index,
      persistedIndex: this.index,
      snapshotIndex: 0,
      snapshotTerm: 0,
      voters: [this.id],
      learners: [],
      addresses: {},
      pendingConfIndex: 0,
      transferee: 0,
      progress: [],
      snapshotReceiving: undefined,
      timer: {
        electionElapsed: 0,
        electionTimeout: 150,
        electionTicks: 100,
        heartbeatElapsed: 0,
        heartbeatTicks: 10,
      },
      campaign: undefined,
      termRuns: this.index > 0 ? [{ start: 1, term: 2 }] : [],
      version: this.version,
      clusterId: 'fake',
      pid: process.pid,
      dataDir: '/nowhere',
      startedAt: 0,
      now: Date.now(),
      peerAddress: '127.0.0.1:1',
      clientAddress: '127.0.0.1:2',
      adminAddress: '127.0.0.1:3',
      storage: { walBytes: 0, segments: 0, snapshotBytes: 0, fsyncDelayMs: this.fsyncDelayMs },
      transport: { ...newCounters(), peers: {}, peerPort: idlePeerPortStats() },
      faults: this.faults.list(),
      kv: { keys: this.kv.size, bytes: this.kv.bytes },
      timing: { tickMs: 10, heartbeatMs: 50, electionMs: 500, ...this.pace },
    };
  }

  /** emit adds an event to the stream. */
  emit(body: NodeEventBody): NodeEvent {
    const e = { ...body, seq: ++this.eventSeq, time: Date.now(), node: this.id } as NodeEvent;
    this.events.push(e);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** log adds a structured log line. */
  log(msg: string, fields: Record<string, unknown> = {}): void {
    this.logs.push({ t: Date.now(), level: 'info', msg, ...fields });
    if (this.logs.length > 1000) this.logs.splice(0, this.logs.length - 1000);
  }

  subscribe(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  recentEvents(n: number): NodeEvent[] {
    return this.events.slice(-n);
  }

  recentLogs(n: number): Record<string, unknown>[] {
    return this.logs.slice(-n);
  }

  addLearner(id: NodeId, address: MemberAddress): Promise<ChangeOutcome> {
    return this.change('addLearner', [id, address]);
  }

  promote(id: NodeId): Promise<ChangeOutcome> {
    return this.change('promote', [id]);
  }

  remove(id: NodeId): Promise<ChangeOutcome> {
    return this.change('remove', [id]);
  }

  transferLeader(id: NodeId): Promise<ChangeOutcome> {
    return this.change('transferLeader', [id]);
  }

  async snapshotNow(): Promise<{ index: number; bytes: number }> {
    this.calls.push({ op: 'snapshotNow', args: [] });
    return { index: this.index, bytes: this.kv.snapshot().length };
  }

  setFaults(rules: FaultRule[]): void {
    this.calls.push({ op: 'setFaults', args: [rules] });
    this.faults.setRules(rules);
    this.version += 1;
  }

  clearFaults(): void {
    this.calls.push({ op: 'clearFaults', args: [] });
    this.faults.clear();
    this.version += 1;
  }

  setFsyncDelay(ms: number): void {
    this.calls.push({ op: 'setFsyncDelay', args: [ms] });
    this.fsyncDelayMs = ms;
    this.version += 1;
  }

  setPace(p: Pace): PaceChange {
    this.calls.push({ op: 'setPace', args: [p] });
    const previous = this.pace;
    this.pace = { ...p };
    this.version += 1;
    return { ...this.pace, previous };
  }

  messages(q: TraceQuery): TraceRead {
    this.calls.push({ op: 'messages', args: [q] });
    return this.traces.read(q);
  }

  putTimeline(q: { from?: number; limit: number }): { size: number; stamps: PutStamps[] } {
    this.calls.push({ op: 'putTimeline', args: [q] });
    return { size: 0, stamps: [] };
  }

  logEntries(q: LogRead): LogReadResult {
    this.calls.push({ op: 'logEntries', args: [q] });
    return readLog(
      { log: this.raftLog, snapshotIndex: this.snapshotIndex, term: 3, times: this.entryTimes },
      q,
    );
  }

  sampleMessages(perLinkHz: number): MessageSampler {
    this.calls.push({ op: 'sampleMessages', args: [perLinkHz] });
    const sampler = new TraceSampler(perLinkHz, () => this.now());
    const stop = this.traces.listen(sampler);
    return {
      get empty() {
        return sampler.empty;
      },
      drain: () => sampler.drain(),
      close: stop,
    };
  }

  async shutdown(reason: string): Promise<void> {
    this.calls.push({ op: 'shutdown', args: [reason] });
  }

  private async change(op: string, args: unknown[]): Promise<ChangeOutcome> {
    this.calls.push({ op, args });
    if (this.follower) throw new NotLeaderError(this.follower);
    if (this.changeError) throw this.changeError;
    this.index += 1;
    this.version += 1;
    return { index: this.index, term: 2 };
  }

  private async wait(): Promise<void> {
    const ms = this.delayMs?.() ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
