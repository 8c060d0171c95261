/**
 * fake-dashboard: a FAKE DashboardApi + PushSource for developing and testing the dashboard
 * without real nodes. It simulates a small cluster coarsely, in one process, on a timer: no Raft
 * runs here. Elections happen when the leader goes away, commit follows the majority, logs are
 * compacted, a new node walks learner → catching up (snapshot, then log) → voter, the workload
 * produces samples and a history, and every change is an event. The messages its simulation
 * implies (heartbeats, appends and their answers, votes, snapshot chunks) are counted per link and
 * type, sampled and pushed as a real cluster's are; the pace stretches its timers and holds its
 * messages as real nodes do. Numbers are plausible, not measured. Never use it to judge the real cluster: `npm run serve -- --fake` labels itself.
 */
import { mergeLog, type NodeAnswer } from '../cluster/log-inspection';
import { MemoryRecording } from '../cluster/recording/memory-recording';
import { recordPushes } from '../cluster/recording/recording';
import { CallRefused, type DashboardApi, type KvOutcome, type PushSource } from '../contract/api';
import { FakeLog, textOp } from './fake-log';
import type {
  CheckerView,
  ClusterEvent,
  ClusterView,
  EventKind,
  FollowerStatus,
  HistoryOp,
  LinkDetail,
  LinkRule,
  Membership,
  MessageBatch,
  MessageTrace,
  NodeId,
  PaceView,
  ProcessState,
  Role,
  ScenarioInfo,
  ScenarioRun,
  StepState,
  TypeCounts,
  WorkflowKind,
  WorkflowView,
  WorkloadOptions,
  WorkloadView,
} from '../contract/view';
import { ScenarioControl } from '../cluster/scenarios/control';
import type { MessageHeader } from '../raft/message-header';
import { seededRng } from '../raft/rng';
import { MESSAGE_TYPES, STATUS_TERM_RUNS } from '../raft/types';
import { describeCleared } from '../view/faults';
import { checkPace, describePace, messageDelayMs } from '../view/pace';
import { linkKey } from '../view/topology';
import { TrafficMeter, type SentCounts } from '../view/traffic';
import { IDLE_CHECKER, projectView, type MemberInput, type MemberReport } from '../view/projection';

export interface FakeDashboardOptions {
  /** tickMs: simulation step; views are pushed once per tick while something changes. */
  tickMs?: number;
  seed?: number;
  nodes?: number;
  /** snapshotEvery: compact a node's log after this many applied entries. */
  snapshotEvery?: number;
  /** snapshotBytes and chunkBytes: size of a snapshot transfer and of one chunk per tick. */
  snapshotBytes?: number;
  chunkBytes?: number;
  /** start: begin ticking at once (default true); tests may drive tick() by hand. */
  start?: boolean;
  /**
   * lostData: nodes whose data folder is gone: they start down, and restarting them is refused
   * until they are replaced (replaceNode), as the supervisor does.
   */
  lostData?: NodeId[];
}

export interface FakeDashboard extends DashboardApi, PushSource {
  /** tick advances the simulation by one step (called by the timer, or by hand in tests). */
  tick(): void;
  dispose(): void;
}

interface SimNode {
  id: NodeId;
  state: ProcessState;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  restarts: number;
  startedAt: number | null;
  autoRestart: boolean;
  restartAt: number | null;
  membership: Membership;
  role: Role;
  term: number;
  vote: NodeId;
  leader: NodeId;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  snapshotTerm: number;
  electionAt: number;
  lastHeardLeader: number;
  statusAt: number;
  isolated: boolean;
  rules: LinkRule[];
  fsyncDelayMs: number;
  snapshotIn: { index: number; received: number; total: number } | undefined;
  logs: Record<string, unknown>[];
  /** startRefused: why this member may not be started again (its data folder is gone). */
  startRefused: string | null;
}

interface Transfer {
  to: NodeId;
  index: number;
  term: number;
  total: number;
  acked: number;
  sent: number;
  chunks: number;
  retries: number;
}

const BASE_PORT = 7400;
const ELECTION_MS: [number, number] = [800, 1600];
const CHECK_QUORUM_MS = 1200;
const PROMOTE_GAP = 20;
/** HEARTBEAT_MS: a leader's round at real time; slowed down, one round per HEARTBEAT_MS × pace. */
const HEARTBEAT_MS = 100;
/** SAMPLES_PER_LINK_HZ: traces of one type pushed per link per second, as the supervisor asks. */
const SAMPLES_PER_LINK_HZ = 10;
const MAX_BATCH_TRACES = 2000;
const RECENT_ON_LINK = 50;
/** HEADER_BYTES: what a message without entries or chunk costs on the wire (plausible). */
const HEADER_BYTES = 48;

type LinkCounts = Omit<TypeCounts, 'type'>;

const SCENARIOS: ScenarioInfo[] = [
  {
    name: 'leader-crash',
    title: 'Leader crash',
    description: 'Kill the leader; the others elect a new one; the old leader rejoins as follower.',
  },
  {
    name: 'minority-partition',
    title: 'Minority partition',
    description: 'Cut one follower off; the majority keeps committing; heal and it catches up.',
  },
  {
    name: 'partitioned-leader',
    title: 'Partitioned leader steps down',
    description: 'Isolate the leader; CheckQuorum makes it step down and the majority elects.',
  },
];

export function createFakeDashboard(options: FakeDashboardOptions = {}): FakeDashboard {
  const tickMs = options.tickMs ?? 100;
  const rng = seededRng(options.seed ?? 7);
  const snapshotEvery = options.snapshotEvery ?? 400;
  const snapshotBytes = options.snapshotBytes ?? 512 * 1024;
  const chunkBytes = options.chunkBytes ?? 32 * 1024;
  const clusterId = 'fake-cluster';
  const dataDir = '/tmp/raftdeck-fake';

  let now = Date.now();
  let version = 1;
  let seq = 0;
  let pidNext = 41000;
  const viewSubs = new Set<(v: ClusterView) => void>();
  const eventSubs = new Set<(e: ClusterEvent) => void>();
  const events: ClusterEvent[] = [];
  const nodes = new Map<NodeId, SimNode>();
  let voters: NodeId[] = [];
  let learners: NodeId[] = [];
  let partitions: NodeId[][] | null = null;
  const transfers = new Map<NodeId, Transfer>();
  const workflows: WorkflowView[] = [];
  const workflowJobs = new Map<string, () => void>();
  let workload: WorkloadView | null = null;
  let workloadCarry = 0;
  let lastSampleAt = 0;
  let checker: CheckerView = { ...IDLE_CHECKER };
  let scenario: ScenarioRun | null = null;
  let control: ScenarioControl | undefined;
  let pace: PaceView = { pace: 1, fastFailover: true };
  /** lastRound: when the leader last sent its round of heartbeats or appends. */
  let lastRound = 0;
  const messageSubs = new Set<(b: MessageBatch) => void>();
  /** linkCounts: per link "from-to", per message type, what the simulation sent on it. */
  const linkCounts = new Map<string, Map<string, LinkCounts>>();
  const recentOnLink = new Map<string, MessageTrace[]>();
  const traceSeq = new Map<NodeId, number>();
  const sampled = new Map<string, { second: number; n: number }>();
  const traffic = new TrafficMeter();
  let pendingTraces: MessageTrace[] = [];
  let pendingSkipped: Record<string, number> = {};
  let lastFlush = 0;
  const kv = new Map<string, string>();
  /** fakeLog: what was written at each index, as far as the fake simulates it. */
  const fakeLog = new FakeLog();
  const history: HistoryOp[] = [];
  let opId = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const timeouts = new Set<ReturnType<typeof setTimeout>>();

  const changed = (): void => {
    version++;
  };

  const log = (n: SimNode, level: string, msg: string, extra: Record<string, unknown> = {}) => {
    n.logs.push({ time: now, level, msg, node: n.id, term: n.term, ...extra });
    if (n.logs.length > 500) n.logs.splice(0, n.logs.length - 500);
  };

  const emit = (
    kind: EventKind,
    node: NodeId | null,
    message: string,
    data?: Record<string, unknown>,
  ) => {
    const event: ClusterEvent = { seq: ++seq, time: now, node, kind, message };
    if (data) event.data = data;
    events.push(event);
    if (events.length > 5000) events.splice(0, events.length - 5000);
    if (node !== null) {
      const n = nodes.get(node);
      if (n) log(n, kind === 'fault' || kind === 'process' ? 'warn' : 'info', message);
    }
    for (const cb of eventSubs) cb(event);
    changed();
  };

  const electionDelay = () =>
    (ELECTION_MS[0] + rng() * (ELECTION_MS[1] - ELECTION_MS[0])) * pace.pace;
  /** electionMin: the shortest election timeout at the pace. */
  const electionMin = () => ELECTION_MS[0] * pace.pace;

  const makeNode = (id: NodeId, membership: Membership): SimNode => ({
    id,
    state: 'running',
    pid: pidNext++,
    exitCode: null,
    signal: null,
    restarts: 0,
    startedAt: now,
    autoRestart: false,
    restartAt: null,
    membership,
    role: membership === 'voter' ? 'follower' : 'learner',
    term: 0,
    vote: 0,
    leader: 0,
    commit: 0,
    applied: 0,
    firstIndex: 1,
    lastIndex: 0,
    snapshotIndex: 0,
    snapshotTerm: 0,
    electionAt: now + electionDelay(),
    lastHeardLeader: now,
    statusAt: now,
    isolated: false,
    rules: [],
    fsyncDelayMs: 0,
    snapshotIn: undefined,
    logs: [],
    startRefused: null,
  });

  /** lostDataMessage is what the supervisor says of a member whose data folder is gone. */
  const lostDataMessage = (id: NodeId): string =>
    `node ${id} has run before, but its data folder ${dataDir}/node-${id} is gone: started ` +
    `again it would come back as member ${id} with an empty log, which could elect a leader ` +
    `that lacks committed entries. Replace it instead: remove node ${id} and add a fresh node ` +
    `(raftdeck replace-node ${id}, or Replace on the Membership page)`;

  const founders = options.nodes ?? 3;
  for (let i = 1; i <= founders; i++) {
    const n = makeNode(i, 'voter');
    if (options.lostData?.includes(i)) {
      Object.assign(n, { state: 'exited', pid: null, exitCode: 0, startedAt: null });
      n.startRefused = lostDataMessage(i);
    }
    nodes.set(i, n);
    voters.push(i);
  }

  const up = (n: SimNode | undefined): n is SimNode => n !== undefined && n.state === 'running';
  const groupOf = (id: NodeId): number =>
    partitions ? partitions.findIndex((g) => g.includes(id)) : 0;
  const linkDown = (a: SimNode, b: SimNode): boolean =>
    a.rules.some((r) => (r.to === b.id || r.to === '*') && r.drop === 1) ||
    b.rules.some((r) => (r.from === a.id || r.from === '*') && r.drop === 1);
  const connected = (a: SimNode | undefined, b: SimNode | undefined): boolean =>
    up(a) &&
    up(b) &&
    (a === b ||
      (!a.isolated &&
        !b.isolated &&
        groupOf(a.id) === groupOf(b.id) &&
        !linkDown(a, b) &&
        !linkDown(b, a)));
  const quorum = () => Math.floor(voters.length / 2) + 1;
  const reachableVoters = (n: SimNode) => voters.filter((v) => connected(n, nodes.get(v))).length;
  /** currentLeader: the running leader of the highest term (a deposed one may not know yet). */
  const currentLeader = (): SimNode | undefined =>
    [...nodes.values()]
      .filter((n) => up(n) && n.role === 'leader')
      .sort((a, b) => b.term - a.term)[0];

  /**
   * send records one message the simulation implies from `from` to `to`: counted on its link and
   * type (dropped when the link is down, held for the pace), kept among the link's latest, and
   * sampled into the next batch (at most SAMPLES_PER_LINK_HZ per link and type per second).
   */
  const send = (from: SimNode, to: SimNode, h: Omit<MessageHeader, 'from' | 'to'>) => {
    const key = linkKey(from.id, to.id);
    const delivered = connected(from, to);
    const bytes = HEADER_BYTES + (h.entryBytes ?? 0);
    const delayMs = messageDelayMs(pace.pace);
    let byType = linkCounts.get(key);
    if (!byType) linkCounts.set(key, (byType = new Map()));
    let c = byType.get(h.type);
    if (!c) {
      c = {
        sent: 0,
        sentBytes: 0,
        received: 0,
        receivedBytes: 0,
        faultDropped: 0,
        faultDelayed: 0,
      };
      byType.set(h.type, c);
    }
    c.sent++;
    c.sentBytes += bytes;
    if (delivered) {
      c.received++;
      c.receivedBytes += bytes;
    } else c.faultDropped++;
    const seqNo = (traceSeq.get(from.id) ?? 0) + 1;
    traceSeq.set(from.id, seqNo);
    const trace: MessageTrace = {
      from: from.id,
      to: to.id,
      ...h,
      seq: seqNo,
      time: now,
      dir: 'out',
      fate: !delivered ? 'dropped' : delayMs > 0 ? 'delayed' : 'sent',
      delayMs: delivered ? delayMs : 0,
      bytes,
    };
    let recent = recentOnLink.get(key);
    if (!recent) recentOnLink.set(key, (recent = []));
    recent.push(trace);
    if (recent.length > RECENT_ON_LINK) recent.shift();
    if (messageSubs.size === 0) return;
    const sampleKey = `${key}-${h.type}`;
    const second = Math.floor(now / 1000);
    let sm = sampled.get(sampleKey);
    if (!sm || sm.second !== second) sampled.set(sampleKey, (sm = { second, n: 0 }));
    if (sm.n < SAMPLES_PER_LINK_HZ && pendingTraces.length < MAX_BATCH_TRACES) {
      sm.n++;
      pendingTraces.push(trace);
    } else pendingSkipped[key] = (pendingSkipped[key] ?? 0) + 1;
  };

  /** flushMessages pushes the sampled messages as one batch, at most every 50 ms. */
  const flushMessages = () => {
    if (now - lastFlush < 50) return;
    if (pendingTraces.length === 0 && Object.keys(pendingSkipped).length === 0) return;
    lastFlush = now;
    const batch: MessageBatch = { traces: pendingTraces, skipped: pendingSkipped };
    pendingTraces = [];
    pendingSkipped = {};
    for (const cb of messageSubs) cb(batch);
  };

  /** feedTraffic gives the rate meter what every node has sent to each peer so far. */
  const feedTraffic = () => {
    const byFrom = new Map<NodeId, Map<NodeId, SentCounts>>();
    for (const [key, byType] of linkCounts) {
      const [from, to] = key.split('-').map(Number) as [NodeId, NodeId];
      let m = byFrom.get(from);
      if (!m) byFrom.set(from, (m = new Map()));
      let msgs = 0;
      let bytes = 0;
      for (const c of byType.values()) {
        msgs += c.sent;
        bytes += c.sentBytes;
      }
      m.set(to, { msgs, bytes });
    }
    for (const [from, sent] of byFrom) if (up(nodes.get(from))) traffic.feed(from, now, sent);
  };

  const setRole = (n: SimNode, role: Role, why: string) => {
    if (n.role === role) return;
    n.role = role;
    emit('role', n.id, `node ${n.id} is now ${role} (${why})`, { role, term: n.term });
  };

  const becomeLeader = (n: SimNode, voterIds: NodeId[]) => {
    n.term = Math.max(...voterIds.map((v) => nodes.get(v)!.term)) + 1;
    n.vote = n.id;
    emit('election', n.id, `node ${n.id} starts an election for term ${n.term}`, {
      term: n.term,
    });
    for (const v of voterIds) {
      const peer = nodes.get(v)!;
      if (peer === n) continue;
      const ask = { index: n.lastIndex, logTerm: n.term - 1 };
      send(n, peer, { type: 'pre-vote', term: n.term, ...ask });
      send(peer, n, { type: 'pre-vote-resp', term: n.term, reject: false });
      send(n, peer, { type: 'vote', term: n.term, ...ask });
      send(peer, n, { type: 'vote-resp', term: n.term, reject: false });
      peer.term = n.term;
      peer.vote = n.id;
      peer.leader = 0;
      emit('vote', v, `node ${v} votes for node ${n.id} in term ${n.term}`, {
        term: n.term,
        candidate: n.id,
      });
    }
    setRole(n, 'leader', `won term ${n.term}`);
    n.leader = n.id;
    n.lastIndex++; // the no-op of the new term
    fakeLog.noop(n.lastIndex, n.term);
    n.lastHeardLeader = now;
    for (const peer of nodes.values()) {
      if (peer !== n && connected(n, peer)) {
        peer.term = n.term;
        peer.leader = n.id;
        peer.lastHeardLeader = now;
        if (peer.role !== 'learner') setRole(peer, 'follower', `leader ${n.id} in term ${n.term}`);
      }
    }
    emit('leader', n.id, `node ${n.id} is leader of term ${n.term}`, { term: n.term });
  };

  const appendWrites = (leader: SimNode, count: number) => {
    if (count <= 0) return;
    for (let i = 1; i <= count; i++) fakeLog.blank(leader.lastIndex + i, leader.term);
    leader.lastIndex += count;
  };

  const compact = (n: SimNode) => {
    if (n.applied - n.snapshotIndex >= snapshotEvery) {
      n.snapshotIndex = n.applied;
      n.snapshotTerm = n.term;
      // Keep a tail of log behind the snapshot, and never compact past a snapshot being sent
      // (a follower that installs it continues from the log, not from another snapshot).
      let first = Math.max(1, n.snapshotIndex - 50);
      if (n.role === 'leader')
        for (const t of transfers.values()) first = Math.min(first, t.index + 1);
      n.firstIndex = Math.max(n.firstIndex, first);
      log(n, 'info', `snapshot at index ${n.snapshotIndex}, log compacted`, {
        index: n.snapshotIndex,
      });
      emit('snapshot', n.id, `node ${n.id} took a snapshot at index ${n.snapshotIndex}`, {
        index: n.snapshotIndex,
      });
    }
  };

  const replicate = (leader: SimNode) => {
    for (const peer of nodes.values()) {
      if (peer === leader || peer.membership === 'removed') continue;
      if (!connected(leader, peer)) {
        // Sent into a cut link (or to a stopped process): counted as dropped.
        if (up(peer))
          send(leader, peer, { type: 'heartbeat', term: leader.term, commit: leader.commit });
        continue;
      }
      peer.lastHeardLeader = now;
      if (peer.term < leader.term) peer.term = leader.term;
      if (peer.leader !== leader.id) {
        peer.leader = leader.id;
        if (peer.role !== 'learner') setRole(peer, 'follower', `leader ${leader.id}`);
      }
      const transfer = transfers.get(peer.id);
      if (transfer) {
        const chunk = Math.min(chunkBytes, transfer.total - transfer.acked);
        send(leader, peer, {
          type: 'snap',
          term: leader.term,
          index: transfer.index,
          logTerm: transfer.term,
          snapOffset: transfer.acked,
          snapTotal: transfer.total,
          entryBytes: chunk,
          done: transfer.acked + chunk >= transfer.total,
        });
        send(peer, leader, {
          type: 'snap-resp',
          term: leader.term,
          index: transfer.index,
          snapOffset: transfer.acked + chunk,
          done: transfer.acked + chunk >= transfer.total,
          reject: false,
        });
        transfer.sent = Math.min(transfer.total, transfer.acked + chunkBytes * 2);
        transfer.acked = Math.min(transfer.total, transfer.acked + chunkBytes);
        transfer.chunks++;
        if (rng() < 0.04) transfer.retries++;
        peer.snapshotIn = {
          index: transfer.index,
          received: transfer.acked,
          total: transfer.total,
        };
        if (transfer.acked >= transfer.total) {
          transfers.delete(peer.id);
          peer.snapshotIn = undefined;
          peer.snapshotIndex = transfer.index;
          peer.snapshotTerm = transfer.term;
          peer.firstIndex = transfer.index + 1;
          peer.lastIndex = Math.max(peer.lastIndex, transfer.index);
          peer.commit = Math.max(peer.commit, transfer.index);
          peer.applied = peer.commit;
          emit('snapshot', peer.id, `node ${peer.id} installed snapshot ${transfer.index}`, {
            index: transfer.index,
            from: leader.id,
            bytes: transfer.total,
            chunks: transfer.chunks,
            retries: transfer.retries,
          });
        }
        continue;
      }
      if (peer.lastIndex < leader.firstIndex - 1) {
        transfers.set(peer.id, {
          to: peer.id,
          index: leader.snapshotIndex,
          term: leader.snapshotTerm,
          total: snapshotBytes,
          acked: 0,
          sent: 0,
          chunks: 0,
          retries: 0,
        });
        emit('snapshot', peer.id, `leader ${leader.id} sends snapshot ${leader.snapshotIndex}`, {
          index: leader.snapshotIndex,
          to: peer.id,
          bytes: snapshotBytes,
        });
        continue;
      }
      if (peer.lastIndex > leader.lastIndex) peer.lastIndex = leader.lastIndex;
      const batch = peer.fsyncDelayMs > 0 ? 8 : 120;
      const prev = peer.lastIndex;
      peer.lastIndex = Math.min(leader.lastIndex, peer.lastIndex + batch);
      const entries = peer.lastIndex - prev;
      if (entries > 0) {
        send(leader, peer, {
          type: 'app',
          term: leader.term,
          index: prev,
          logTerm: leader.term,
          entries,
          entryBytes: entries * 32,
          commit: leader.commit,
        });
        send(peer, leader, { type: 'app-resp', term: leader.term, index: peer.lastIndex });
      } else {
        send(leader, peer, { type: 'heartbeat', term: leader.term, commit: leader.commit });
        send(peer, leader, { type: 'heartbeat-resp', term: leader.term });
      }
    }
    const matches = voters
      .map((v) => nodes.get(v)!)
      .map((n) => (n === leader ? n.lastIndex : connected(leader, n) ? n.lastIndex : 0))
      .sort((a, b) => b - a);
    const commit = matches[quorum() - 1] ?? 0;
    if (commit > leader.commit) leader.commit = commit;
    for (const n of nodes.values()) {
      if (!up(n)) continue;
      if (n === leader || connected(leader, n)) {
        n.commit = Math.max(n.commit, Math.min(leader.commit, n.lastIndex));
      }
      n.applied = n.commit;
      compact(n);
      n.statusAt = now;
    }
  };

  const progressOf = (leader: SimNode): FollowerStatus[] =>
    [...voters, ...learners]
      .filter((id) => id !== leader.id)
      .map((id) => {
        const n = nodes.get(id)!;
        const active = connected(leader, n);
        const t = transfers.get(id);
        // The leader remembers the last match it heard of; a silent follower keeps it.
        const match = n.lastIndex;
        return {
          id,
          learner: learners.includes(id),
          match,
          next: match + 1,
          state: t ? 'snapshot' : active ? 'replicate' : 'probe',
          inflight: active && leader.lastIndex > match ? Math.min(8, leader.lastIndex - match) : 0,
          active,
          lag: Math.max(0, leader.lastIndex - match),
          snapshot: t
            ? {
                index: t.index,
                total: t.total,
                acked: t.acked,
                sent: t.sent,
                chunks: t.chunks,
                retries: t.retries,
              }
            : undefined,
        } satisfies FollowerStatus;
      });

  const tickWorkload = (leader: SimNode | undefined) => {
    if (!workload?.running) return;
    const w = workload;
    const target = w.options.rate > 0 ? w.options.rate : w.options.clients * 180;
    const perTick = (target * tickMs) / 1000;
    const writeShare = 1 - w.options.readRatio;
    if (leader) {
      workloadCarry += perTick;
      const ops = Math.floor(workloadCarry);
      workloadCarry -= ops;
      const writes = Math.round(ops * writeShare);
      appendWrites(leader, writes);
      w.totals.ok += ops;
      w.totals.writes += writes;
      w.totals.reads += ops - writes;
      // The writes just appended, in order: those recorded below take their content.
      let slot = leader.lastIndex - writes + 1;
      for (let i = 0; i < Math.min(ops, 3); i++) {
        const key = `k${Math.floor(rng() * w.options.keys)}`;
        const write = rng() < writeShare && slot <= leader.lastIndex;
        const value = `v${opId}`;
        if (write) kv.set(key, value);
        const invoke = now - 3 - rng() * 4;
        const client = `c${1 + Math.floor(rng() * w.options.clients)}`;
        if (write) fakeLog.command(slot++, leader.term, client, textOp('put', key, value));
        history.push({
          id: ++opId,
          client,
          op: write ? 'put' : 'get',
          key,
          ...(write ? { value } : {}),
          invoke,
          complete: now,
          outcome: 'ok',
          ...(write ? {} : { output: { value: kv.get(key) ?? null } }),
        });
      }
      if (history.length > 20000) history.splice(0, history.length - 20000);
    } else {
      w.totals.unknown += Math.round(perTick * 0.2);
    }
    if (now - lastSampleAt >= 1000) {
      lastSampleAt = now;
      const slow = Math.max(0, ...[...nodes.values()].map((n) => n.fsyncDelayMs));
      const base = leader ? 1.2 + slow + rng() * 0.8 : 0;
      w.samples.push({
        time: now,
        opsPerSec: leader ? Math.round(target * (0.9 + rng() * 0.15)) : 0,
        p50Ms: leader ? +(base + rng() * 0.5).toFixed(2) : 0,
        p99Ms: leader ? +(base * 3.5 + rng() * 6).toFixed(2) : 0,
        errors: leader ? 0 : Math.round(target * 0.1),
        unknown: leader ? 0 : Math.round(target * 0.05),
      });
      if (w.samples.length > 300) w.samples.splice(0, w.samples.length - 300);
      if (w.options.seconds > 0 && now - w.startedAt >= w.options.seconds * 1000) stopWorkloadNow();
    }
    changed();
  };

  const stopWorkloadNow = () => {
    if (!workload?.running) return;
    workload.running = false;
    workload.stoppedAt = now;
    emit('workload', null, `workload stopped after ${workload.totals.ok} operations`, {
      ...workload.totals,
    });
  };

  const tick = () => {
    now = Date.now();
    const before = version;
    for (const n of nodes.values()) {
      if (n.restartAt !== null && now >= n.restartAt) {
        n.restartAt = null;
        startProcess(n, 'restarted');
      } else if (n.state === 'starting' && n.startedAt !== null && now - n.startedAt >= 400) {
        n.state = 'running';
        n.electionAt = now + electionDelay();
        n.lastHeardLeader = now;
        emit('process', n.id, `node ${n.id} is running (pid ${n.pid})`, { pid: n.pid });
      }
    }

    // CheckQuorum: a leader that cannot reach a majority steps down.
    for (const n of nodes.values()) {
      if (!up(n) || n.role !== 'leader') continue;
      if (reachableVoters(n) >= quorum()) n.lastHeardLeader = now;
      else if (now - n.lastHeardLeader > CHECK_QUORUM_MS * pace.pace) {
        emit('leader', n.id, `node ${n.id} steps down: no quorum (check-quorum)`, {
          term: n.term,
          reason: 'check-quorum',
        });
        setRole(n, 'follower', 'check-quorum');
        n.leader = 0;
      }
    }

    // Voters that have not heard from a leader campaign; PreVote: only with a reachable
    // majority, so a cut-off node does not inflate its term.
    for (const n of nodes.values()) {
      if (!up(n) || n.role === 'leader' || !voters.includes(n.id)) continue;
      if (now - n.lastHeardLeader < electionMin()) continue;
      if (n.leader !== 0) {
        n.leader = 0;
        changed();
      }
      if (now < n.electionAt) continue;
      n.electionAt = now + electionDelay();
      const reach = voters.filter((v) => {
        const peer = nodes.get(v);
        // Leader stickiness: a voter that still hears from a leader refuses to vote.
        return connected(n, peer) && (peer === n || now - peer!.lastHeardLeader >= electionMin());
      });
      if (reach.length < quorum()) {
        if (n.role !== 'pre-candidate') setRole(n, 'pre-candidate', 'pre-vote without quorum');
        for (const v of voters) {
          const peer = nodes.get(v);
          if (peer && peer !== n && up(peer)) {
            send(n, peer, {
              type: 'pre-vote',
              term: n.term + 1,
              index: n.lastIndex,
              logTerm: n.term,
            });
          }
        }
        continue;
      }
      const best = Math.max(...reach.map((v) => nodes.get(v)!.lastIndex));
      if (n.lastIndex < best) continue;
      becomeLeader(n, reach);
      break;
    }

    const leader = currentLeader();
    // Slowed down, the leader sends a round every HEARTBEAT_MS × pace; at real time every tick.
    if (leader && (pace.pace === 1 || now - lastRound >= HEARTBEAT_MS * pace.pace)) {
      lastRound = now;
      replicate(leader);
    }
    tickWorkload(leader);
    feedTraffic();
    flushMessages();
    for (const job of [...workflowJobs.values()]) job();
    for (const n of nodes.values()) if (up(n)) n.statusAt = now;
    if (leader || version !== before || workload?.running) {
      changed();
      const view = buildView();
      for (const cb of viewSubs) cb(view);
    }
  };

  /** tick10: the length of a default node's 10 ms tick at the pace. */
  const tick10 = () => 10 * pace.pace;

  /** memberOf: node `n` as the view projection takes it (what a supervisor would know of it). */
  const memberOf = (n: SimNode, leader: SimNode | undefined): MemberInput => {
    const alive = n.state === 'running' || n.state === 'paused';
    const ports = { peer: BASE_PORT + n.id * 3, client: BASE_PORT + n.id * 3 + 1 };
    const walBytes = Math.max(0, n.lastIndex - n.firstIndex + 1) * 96;
    const addresses = {
      peer: `127.0.0.1:${ports.peer}`,
      client: `127.0.0.1:${ports.client}`,
      admin: `127.0.0.1:${ports.client + 1}`,
    };
    const report: MemberReport | null = alive
      ? {
          id: n.id,
          addresses: { [n.id]: addresses.peer },
          role: n.role,
          term: n.term,
          vote: n.vote,
          leader: n.leader,
          commit: n.commit,
          applied: n.applied,
          firstIndex: n.firstIndex,
          lastIndex: n.lastIndex,
          persistedIndex: n.lastIndex,
          snapshotIndex: n.snapshotIndex,
          snapshotTerm: n.snapshotTerm,
          voters: [...voters],
          learners: [...learners],
          pendingConfIndex: 0,
          transferee: 0,
          progress: n === leader ? progressOf(n) : [],
          snapshotReceiving: n.snapshotIn,
          termRuns: fakeLog.termRuns(n.firstIndex, n.lastIndex, STATUS_TERM_RUNS),
          // The imitation's clocks, in 10 ms ticks (× the pace) as a node with default timing
          // counts them.
          timer: {
            electionElapsed: n === leader ? 0 : Math.floor((now - n.lastHeardLeader) / tick10()),
            // It campaigns once it has heard nothing for electionMin and its electionAt passed.
            electionTimeout: Math.max(
              1,
              Math.round(Math.max(electionMin(), n.electionAt - n.lastHeardLeader) / tick10()),
            ),
            electionTicks: 100,
            heartbeatElapsed:
              n === leader ? Math.min(10, Math.floor((now - lastRound) / tick10())) : 0,
            heartbeatTicks: 10,
          },
          timing: { tickMs: 10, pace: pace.pace },
          campaign: undefined,
          storage: {
            walBytes,
            segments: 1 + Math.floor(walBytes / (64 * 1024)),
            snapshotBytes: n.snapshotIndex > 0 ? 96 * n.snapshotIndex : 0,
            fsyncDelayMs: n.fsyncDelayMs,
          },
          kv: { keys: kv.size, bytes: kv.size * 24 },
          transport: {
            malformed: 0,
            dropped: 0,
            peers: Object.fromEntries(
              [...nodes.values()]
                .filter((p) => p !== n)
                .map((p) => [String(p.id), { connected: connected(n, p) }]),
            ),
          },
        }
      : null;
    return {
      id: n.id,
      founding: n.id <= founders,
      removed: n.membership === 'removed',
      running: alive,
      process: {
        state: n.state,
        pid: n.pid,
        exitCode: n.exitCode,
        signal: n.signal,
        restarts: n.restarts,
        startedAt: n.startedAt,
        autoRestart: n.autoRestart,
        lastLines:
          n.state === 'crashed'
            ? ['raft node: killed by SIGKILL']
            : n.logs.slice(-3).map((l) => String(l.msg)),
        commandLine: [
          'node',
          'out/main/node.js',
          `--id=${n.id}`,
          `--cluster=${clusterId}`,
          `--data=${dataDir}/node-${n.id}`,
          `--peer=127.0.0.1:${ports.peer}`,
          `--client=127.0.0.1:${ports.client}`,
        ],
      },
      addresses,
      dataDir: `${dataDir}/node-${n.id}`,
      startRefused: n.startRefused,
      report,
      reportAt: n.statusAt,
    };
  };

  const buildView = (): ClusterView => {
    const leader = currentLeader();
    const shown = [...nodes.values()].filter(
      (n) => n.membership !== 'removed' || n.state === 'running',
    );
    return projectView({
      clusterId,
      dataDir,
      version,
      now,
      state: 'running',
      pace: { ...pace },
      traffic: traffic.rates(now),
      members: shown.map((n) => memberOf(n, leader)),
      faults: {
        partitions: partitions ? partitions.map((g) => [...g]) : null,
        nodes: new Map(
          shown.map((n) => [
            n.id,
            {
              isolated: n.isolated,
              customRules: n.rules.map((r) => ({ ...r })),
              fsyncDelayMs: n.fsyncDelayMs,
            },
          ]),
        ),
      },
      parts: {
        workflows: workflows.map((w) => ({ ...w, steps: w.steps.map((s) => ({ ...s })) })),
        workload: workload
          ? {
              ...workload,
              options: { ...workload.options },
              totals: { ...workload.totals },
              samples: [...workload.samples],
            }
          : null,
        checker: { ...checker },
        scenario: scenario ? { ...scenario, steps: scenario.steps.map((s) => ({ ...s })) } : null,
      },
    });
  };

  const mustNode = (id: NodeId): SimNode => {
    const n = nodes.get(id);
    if (!n || n.membership === 'removed') throw new Error(`no node ${id}`);
    return n;
  };

  const startProcess = (n: SimNode, why: string) => {
    n.state = 'starting';
    n.pid = pidNext++;
    n.exitCode = null;
    n.signal = null;
    n.startedAt = now;
    n.role = learners.includes(n.id) ? 'learner' : 'follower';
    n.leader = 0;
    n.commit = Math.min(n.commit, n.lastIndex);
    emit('process', n.id, `node ${n.id} ${why} (pid ${n.pid})`, { pid: n.pid });
  };

  const endProcess = (
    n: SimNode,
    state: ProcessState,
    signal: string | null,
    code: number | null,
  ) => {
    n.state = state;
    n.signal = signal;
    n.exitCode = code;
    n.pid = null;
    transfers.delete(n.id);
    n.snapshotIn = undefined;
    traffic.forget(n.id);
    // Its port now refuses connections: with fast failover the followers campaign at once.
    if (n.role === 'leader' && pace.fastFailover) {
      for (const v of voters) {
        const peer = nodes.get(v);
        if (peer && peer !== n && up(peer) && peer.leader === n.id) {
          peer.lastHeardLeader = Math.min(peer.lastHeardLeader, now - electionMin());
          peer.electionAt = now;
        }
      }
    }
    if (n.autoRestart && state === 'crashed') {
      n.restarts++;
      n.restartAt = now + 1500;
    }
  };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timeouts.delete(t);
      fn();
    }, ms);
    timeouts.add(t);
  };
  const sleep = (ms: number) => new Promise<void>((r) => later(ms, r));

  // Workflows advance on ticks: each job looks at the simulated state and moves its steps.
  const startWorkflow = (kind: WorkflowKind, node: NodeId, steps: string[]): WorkflowView => {
    const wf: WorkflowView = {
      id: `wf-${workflows.length + 1}`,
      kind,
      node,
      state: 'running',
      startedAt: now,
      finishedAt: null,
      steps: steps.map((name, i) => ({
        name,
        state: i === 0 ? 'active' : 'pending',
        detail: '',
        progress: null,
      })),
      error: null,
    };
    workflows.push(wf);
    if (workflows.length > 20) workflows.splice(0, workflows.length - 20);
    emit('workflow', node, `${kind} node ${node}: started`, { workflow: wf.id });
    return wf;
  };

  const advance = (wf: WorkflowView, detail = '') => {
    const i = wf.steps.findIndex((s) => s.state === 'active');
    if (i < 0) return;
    const step = wf.steps[i]!;
    step.state = 'done';
    step.progress = null;
    if (detail) step.detail = detail;
    emit('workflow', wf.node, `${wf.kind} node ${wf.node}: ${step.name} done`, { workflow: wf.id });
    const next = wf.steps[i + 1];
    if (next) next.state = 'active';
    else finish(wf, null);
  };

  const finish = (wf: WorkflowView, error: string | null) => {
    wf.state = error ? 'failed' : 'done';
    wf.finishedAt = now;
    wf.error = error;
    for (const s of wf.steps) {
      if (s.state === 'active') s.state = error ? 'failed' : 'done';
      if (s.state === 'pending' && error) s.state = 'skipped';
    }
    workflowJobs.delete(wf.id);
    emit(
      'workflow',
      wf.node,
      `${wf.kind} node ${wf.node}: ${error ? `failed: ${error}` : 'done'}`,
      {
        workflow: wf.id,
      },
    );
  };

  const activeIndex = (wf: WorkflowView) => wf.steps.findIndex((s) => s.state === 'active');

  const setConfig = (
    change: 'add learner' | 'promote' | 'remove',
    node: NodeId,
    leader: SimNode,
  ) => {
    const why = `${change} ${node}`;
    leader.lastIndex++;
    const type = change === 'add learner' ? 'add-learner' : change;
    fakeLog.config(
      leader.lastIndex,
      leader.term,
      type === 'add-learner' ? { type, node, address: '' } : { type, node },
      [...voters],
      [...learners],
    );
    emit(
      'config',
      leader.id,
      `config ${why}: voters [${voters.join(', ')}]${learners.length ? `, learners [${learners.join(', ')}]` : ''}`,
      {
        voters: [...voters],
        learners: [...learners],
      },
    );
  };

  const kvOp = async (
    op: HistoryOp['op'],
    key: string,
    fn: () => Omit<KvOutcome, 'servedBy' | 'ms' | 'error'>,
    extra: Partial<HistoryOp>,
  ): Promise<KvOutcome> => {
    const leader = currentLeader();
    const ms = +(1 + rng() * 3).toFixed(2);
    await sleep(ms);
    const invoke = Date.now() - ms;
    if (!leader) {
      emit('client', null, `client ${op} ${key}: no leader`, { op, key });
      return {
        ok: false,
        value: null,
        prev: null,
        error: 'no leader: the cluster is electing',
        servedBy: null,
        ms,
      };
    }
    const outcome = fn();
    if (op !== 'get') {
      leader.lastIndex += 1;
      fakeLog.command(
        leader.lastIndex,
        leader.term,
        'console',
        textOp(op, key, extra.value ?? undefined, extra.expected),
      );
    }
    history.push({
      id: ++opId,
      client: 'console',
      op,
      key,
      invoke,
      complete: Date.now(),
      outcome: outcome.ok ? 'ok' : 'fail',
      output: { value: outcome.value, ...(op === 'cas' ? { casOk: outcome.ok } : {}) },
      ...extra,
    });
    return { ...outcome, error: null, servedBy: leader.id, ms };
  };

  const runScenarioSteps = async (name: string) => {
    const steps: Record<string, { text: string; run: () => Promise<string> }[]> = {
      'leader-crash': [
        {
          text: 'A healthy cluster with one leader',
          run: async () => `leader is node ${await waitLeader()}`,
        },
        {
          text: 'Kill the leader (SIGKILL)',
          run: async () => {
            const l = await waitLeader();
            await api.killNode(l);
            return `killed node ${l}`;
          },
        },
        {
          text: 'The others elect a new leader',
          run: async () => `node ${await waitLeader()} leads term ${currentLeader()?.term ?? '?'}`,
        },
        {
          text: 'Restart the old leader; it rejoins as a follower',
          run: async () => {
            const down = [...nodes.values()].find((n) => n.state === 'crashed');
            if (down) await api.restartNode(down.id);
            await sleep(1500);
            return down ? `node ${down.id} is ${down.role}` : 'nothing to restart';
          },
        },
      ],
      'minority-partition': [
        {
          text: 'A healthy cluster with one leader',
          run: async () => `leader is node ${await waitLeader()}`,
        },
        {
          text: 'Cut one follower off from the others',
          run: async () => {
            const l = await waitLeader();
            const f = voters.find((v) => v !== l)!;
            await api.partition([voters.filter((v) => v !== f), [f]]);
            return `node ${f} alone`;
          },
        },
        {
          text: 'The majority keeps committing',
          run: async () => {
            const c = currentLeader()?.commit ?? 0;
            await api.kvPut('scenario', 'majority');
            await sleep(1000);
            return `commit ${c} → ${currentLeader()?.commit ?? 0}`;
          },
        },
        {
          text: 'Heal; the follower catches up',
          run: async () => {
            await api.healNetwork();
            await sleep(1200);
            return 'all nodes in sync';
          },
        },
      ],
      'partitioned-leader': [
        {
          text: 'A healthy cluster with one leader',
          run: async () => `leader is node ${await waitLeader()}`,
        },
        {
          text: 'Isolate the leader',
          run: async () => {
            const l = await waitLeader();
            await api.isolateNode(l);
            return `node ${l} isolated`;
          },
        },
        {
          text: 'It steps down (CheckQuorum) and the majority elects',
          run: async () => {
            await sleep(CHECK_QUORUM_MS + 300);
            return `new leader node ${await waitLeader()}`;
          },
        },
        {
          text: 'Heal; terms stay stable thanks to PreVote',
          run: async () => {
            await api.healNetwork();
            await sleep(800);
            return `term ${currentLeader()?.term ?? '?'}`;
          },
        },
      ],
    };
    const plan = steps[name]!;
    const run: ScenarioRun = {
      name,
      state: 'running',
      startedAt: Date.now(),
      paused: false,
      steps: plan.map((s) => ({ text: s.text, state: 'pending' as StepState, detail: '' })),
    };
    scenario = run;
    const ctl = new ScenarioControl();
    control = ctl;
    ctl.bind((paused) => {
      run.paused = paused;
      emit('scenario', null, `${name}: ${paused ? 'paused before the next step' : 'resumed'}`);
    });
    emit('scenario', null, `scenario ${name} started`);
    try {
      for (let i = 0; i < plan.length; i++) {
        await ctl.gate();
        const step = run.steps[i]!;
        step.state = 'active';
        changed();
        try {
          step.detail = await plan[i]!.run();
          step.state = 'done';
          emit('scenario', null, `${name}: ${step.text} — ${step.detail}`);
          await sleep(600 * pace.pace);
        } catch (err) {
          step.state = 'failed';
          step.detail = (err as Error).message;
          run.state = 'failed';
          emit('scenario', null, `scenario ${name} failed: ${step.detail}`);
          return;
        }
      }
      run.state = 'passed';
      emit('scenario', null, `scenario ${name} passed`);
    } finally {
      run.paused = false;
      if (control === ctl) control = undefined;
      changed();
    }
  };

  const runningControl = (): ScenarioControl => {
    if (!control) throw new Error('no scenario is running');
    return control;
  };

  const waitLeader = async (timeoutMs = 6000): Promise<NodeId> => {
    const until = Date.now() + timeoutMs * pace.pace;
    while (Date.now() < until) {
      const l = currentLeader();
      if (l) return l.id;
      await sleep(100);
    }
    throw new Error('no leader elected in time');
  };

  const api: FakeDashboard = {
    async getView() {
      return buildView();
    },
    async getEvents(sinceSeq) {
      return events.filter((e) => e.seq > sinceSeq);
    },
    async killNode(id) {
      const n = mustNode(id);
      if (n.state !== 'running' && n.state !== 'paused')
        throw new Error(`node ${id} is not running`);
      endProcess(n, 'crashed', 'SIGKILL', null);
      emit('process', id, `node ${id} killed (SIGKILL)`, { signal: 'SIGKILL' });
      emit('fault', id, `fault: kill node ${id}`);
    },
    async stopNode(id) {
      const n = mustNode(id);
      if (n.state !== 'running' && n.state !== 'paused')
        throw new Error(`node ${id} is not running`);
      endProcess(n, 'stopped', null, 0);
      emit('process', id, `node ${id} stopped (exit 0)`, { exitCode: 0 });
    },
    async restartNode(id) {
      const n = mustNode(id);
      if (n.startRefused) {
        emit('storage', id, n.startRefused, { replace: true });
        throw new Error(n.startRefused);
      }
      if (n.state === 'running' || n.state === 'paused') endProcess(n, 'stopped', null, 0);
      n.restarts++;
      n.restartAt = null;
      startProcess(n, 'restarted');
    },
    async pauseNode(id) {
      const n = mustNode(id);
      if (n.state !== 'running') throw new Error(`node ${id} is not running`);
      n.state = 'paused';
      emit('fault', id, `fault: pause node ${id} (SIGSTOP)`);
    },
    async resumeNode(id) {
      const n = mustNode(id);
      if (n.state !== 'paused') throw new Error(`node ${id} is not paused`);
      n.state = 'running';
      n.lastHeardLeader = now;
      emit('fault', id, `fault cleared: resume node ${id} (SIGCONT)`);
    },
    async setAutoRestart(id, on) {
      mustNode(id).autoRestart = on;
      changed();
    },
    async isolateNode(id) {
      mustNode(id).isolated = true;
      emit('fault', id, `fault: isolate node ${id}`);
    },
    async partition(groups) {
      for (const g of groups) for (const id of g) mustNode(id);
      const listed = new Set(groups.flat());
      const rest = [...nodes.keys()].filter(
        (id) => !listed.has(id) && nodes.get(id)!.membership !== 'removed',
      );
      partitions = rest.length ? [...groups, rest] : groups.map((g) => [...g]);
      emit(
        'fault',
        null,
        `fault: partition ${partitions.map((g) => `{${g.join(',')}}`).join(' | ')}`,
        {
          groups: partitions,
        },
      );
    },
    async healNetwork() {
      partitions = null;
      for (const n of nodes.values()) {
        n.isolated = false;
        n.rules = [];
      }
      emit('fault', null, 'fault cleared: network healed');
    },
    async setLinkRules(id, rules) {
      mustNode(id).rules = rules.map((r) => ({ ...r }));
      emit(
        'fault',
        id,
        rules.length
          ? `fault: ${rules.length} link rule(s) on node ${id}`
          : `fault cleared: link rules on node ${id}`,
        {
          rules,
        },
      );
    },
    async setSlowDisk(id, fsyncDelayMs) {
      mustNode(id).fsyncDelayMs = fsyncDelayMs;
      emit(
        'fault',
        id,
        fsyncDelayMs
          ? `fault: slow disk on node ${id} (+${fsyncDelayMs} ms per fsync)`
          : `fault cleared: disk on node ${id}`,
        {
          fsyncDelayMs,
        },
      );
    },
    async clearAllFaults() {
      const did: string[] = [];
      if (partitions) did.push('healed the partition');
      partitions = null;
      const failed: string[] = [];
      for (const n of nodes.values()) {
        if (n.isolated) did.push(`reconnected node ${n.id}`);
        if (n.rules.length) did.push(`cleared the link rules of node ${n.id}`);
        if (n.fsyncDelayMs) did.push(`restored the disk of node ${n.id}`);
        n.isolated = false;
        n.rules = [];
        n.fsyncDelayMs = 0;
        if (n.state === 'paused') {
          n.state = 'running';
          did.push(`resumed node ${n.id}`);
        }
        if (n.membership !== 'removed' && n.state !== 'running' && n.state !== 'starting') {
          if (n.startRefused) {
            failed.push(`node ${n.id} was not started: its data folder is gone (replace it)`);
          } else {
            n.restarts++;
            n.restartAt = null;
            startProcess(n, 'started again');
            did.push(`started node ${n.id} again`);
          }
        }
      }
      const summary = describeCleared(did, failed);
      emit('fault', null, `cleared all faults: ${summary}`);
      return { summary };
    },
    async addNode() {
      if (workflows.some((w) => w.state === 'running' && w.kind !== 'transfer-leader')) {
        throw new Error('another membership change is in progress');
      }
      const leader = currentLeader();
      if (!leader) throw new Error('no leader: cannot change membership now');
      const id = Math.max(...nodes.keys()) + 1;
      const wf = startWorkflow('add-node', id, [
        'spawn process',
        'add as learner',
        'catch up',
        'promote to voter',
        'config committed',
      ]);
      let since = now;
      let configIndex = 0;
      workflowJobs.set(wf.id, () => {
        const l = currentLeader();
        const step = activeIndex(wf);
        const n = nodes.get(id);
        if (step === 0 && now - since > 500) {
          const node = makeNode(id, 'joining');
          node.role = 'learner';
          nodes.set(id, node);
          emit('process', id, `node ${id} spawned (pid ${node.pid})`, { pid: node.pid });
          advance(wf, `pid ${node.pid}`);
          since = now;
        } else if (step === 1 && l && now - since > 400) {
          learners.push(id);
          n!.membership = 'learner';
          setConfig('add learner', id, l);
          advance(wf, `config index ${l.lastIndex}`);
        } else if (step === 2 && l && n) {
          const t = transfers.get(id);
          const p = t
            ? (0.5 * t.acked) / t.total
            : l.firstIndex > 1 && n.snapshotIndex === 0
              ? 0
              : 0.5 + 0.5 * Math.min(1, n.lastIndex / Math.max(1, l.lastIndex));
          wf.steps[2]!.progress = Math.min(1, p);
          wf.steps[2]!.detail = t
            ? `snapshot ${Math.round(t.acked / 1024)} / ${Math.round(t.total / 1024)} KiB`
            : `match ${n.lastIndex} / ${l.lastIndex}`;
          if (!t && l.lastIndex - n.lastIndex <= PROMOTE_GAP) {
            advance(wf, `within ${PROMOTE_GAP} entries of the leader`);
            since = now;
          }
        } else if (step === 3 && l && now - since > 300) {
          learners = learners.filter((x) => x !== id);
          voters.push(id);
          n!.membership = 'voter';
          n!.role = 'follower';
          setConfig('promote', id, l);
          configIndex = l.lastIndex;
          advance(wf, `config index ${configIndex}`);
          since = now;
        } else if (step === 4 && l && l.commit >= configIndex && now - since > 300) {
          advance(wf, `committed at ${l.commit}`);
        }
      });
      return { workflowId: wf.id };
    },
    async removeNode(id) {
      const n = mustNode(id);
      if (workflows.some((w) => w.state === 'running' && w.kind !== 'transfer-leader')) {
        throw new Error('another membership change is in progress');
      }
      if (!currentLeader()) throw new Error('no leader: cannot change membership now');
      if (voters.length <= 1 && voters.includes(id))
        throw new Error('cannot remove the last voter');
      const wf = startWorkflow('remove-node', id, [
        'propose config without node',
        'config committed',
        'node exits',
        'data cleaned up',
      ]);
      let since = now;
      workflowJobs.set(wf.id, () => {
        const l = currentLeader();
        const step = activeIndex(wf);
        if (step === 0 && l && now - since > 300) {
          voters = voters.filter((v) => v !== id);
          learners = learners.filter((v) => v !== id);
          setConfig('remove', id, l);
          advance(wf, `config index ${l.lastIndex}`);
          since = now;
        } else if (step === 1 && now - since > 300) {
          if (n.role === 'leader') {
            setRole(n, 'follower', 'removed from the configuration');
            emit('leader', id, `node ${id} steps down: removed`, { reason: 'removed' });
          }
          advance(wf, 'majority of the new config');
          since = now;
        } else if (step === 2 && now - since > 400) {
          n.membership = 'removed';
          endProcess(n, 'exited', null, 0);
          emit('process', id, `node ${id} exited cleanly (removed)`, { exitCode: 0 });
          advance(wf, 'exit code 0');
          since = now;
        } else if (step === 3 && now - since > 300) {
          nodes.delete(id);
          advance(wf, `${dataDir}/node-${id} removed`);
        }
      });
      return { workflowId: wf.id };
    },
    async replaceNode(id) {
      const old = mustNode(id);
      if (workflows.some((w) => w.state === 'running' && w.kind !== 'transfer-leader')) {
        throw new Error('another membership change is in progress');
      }
      if (!currentLeader()) throw new Error('no leader: cannot change membership now');
      const wasVoter = voters.includes(id);
      const wf = startWorkflow('replace-node', id, [
        'check quorum',
        'commit configuration without it',
        'node exited',
        'data removed',
        'spawn empty node',
        'add as learner',
        'catch up',
        'promote to voter',
        'configuration committed',
      ]);
      let since = now;
      let fresh: NodeId = 0;
      let configIndex = 0;
      workflowJobs.set(wf.id, () => {
        const l = currentLeader();
        const step = activeIndex(wf);
        const n = nodes.get(fresh);
        if (step === 0) {
          const rest = voters.filter((v) => v !== id);
          const live = rest.filter((v) => up(nodes.get(v))).length;
          if (wasVoter && live < Math.floor(rest.length / 2) + 1) {
            return finish(
              wf,
              `removing node ${id} would lose quorum: only ${live} of the ${rest.length} remaining voters are running`,
            );
          }
          advance(wf, wasVoter ? 'a majority of the remaining voters is running' : 'a learner');
          since = now;
        } else if (step === 1 && l && now - since > 300) {
          voters = voters.filter((v) => v !== id);
          learners = learners.filter((v) => v !== id);
          setConfig('remove', id, l);
          advance(wf, `config entry ${l.lastIndex} committed`);
          since = now;
        } else if (step === 2 && now - since > 300) {
          const running = old.state === 'running' || old.state === 'paused';
          if (running) endProcess(old, 'exited', null, 0);
          old.membership = 'removed';
          advance(wf, running ? 'exited with code 0' : `was not running (${old.state})`);
          since = now;
        } else if (step === 3 && now - since > 300) {
          nodes.delete(id);
          advance(wf, `${dataDir}/node-${id}`);
          since = now;
        } else if (step === 4 && now - since > 400) {
          fresh = Math.max(id, ...nodes.keys()) + 1;
          const node = makeNode(fresh, 'joining');
          node.role = 'learner';
          nodes.set(fresh, node);
          emit('process', fresh, `node ${fresh} spawned (pid ${node.pid})`, { pid: node.pid });
          advance(wf, `node ${fresh}, pid ${node.pid}`);
          since = now;
        } else if (step === 5 && l && n && now - since > 400) {
          learners.push(fresh);
          n.membership = 'learner';
          setConfig('add learner', fresh, l);
          advance(wf, `config entry ${l.lastIndex} committed`);
        } else if (step === 6 && l && n) {
          const p = 0.5 + 0.5 * Math.min(1, n.lastIndex / Math.max(1, l.lastIndex));
          wf.steps[6]!.progress = Math.min(1, p);
          wf.steps[6]!.detail = `match ${n.lastIndex} of ${l.lastIndex}`;
          if (l.lastIndex - n.lastIndex <= PROMOTE_GAP) {
            advance(wf, `caught up at ${n.lastIndex}`);
            since = now;
            if (!wasVoter) {
              wf.steps[7]!.state = 'skipped';
              wf.steps[7]!.detail = 'it replaces a learner';
              wf.steps[8]!.state = 'active';
            }
          }
        } else if (step === 7 && l && n && now - since > 300) {
          learners = learners.filter((x) => x !== fresh);
          voters.push(fresh);
          n.membership = 'voter';
          n.role = 'follower';
          setConfig('promote', fresh, l);
          configIndex = l.lastIndex;
          advance(wf, `config entry ${configIndex}`);
          since = now;
        } else if (step === 8 && l && l.commit >= configIndex && now - since > 300) {
          advance(wf, `node ${fresh} is a ${wasVoter ? 'voter' : 'learner'}`);
        }
      });
      return { workflowId: wf.id };
    },
    async transferLeader(id) {
      const target = mustNode(id);
      const l = currentLeader();
      if (!l) throw new Error('no leader to transfer from');
      if (l.id === id) throw new Error(`node ${id} is already the leader`);
      if (!voters.includes(id)) throw new Error(`node ${id} is not a voter`);
      const wf = startWorkflow('transfer-leader', id, [
        'catch up target',
        'send TimeoutNow',
        'target elected',
      ]);
      let since = now;
      workflowJobs.set(wf.id, () => {
        const step = activeIndex(wf);
        const cur = currentLeader();
        if (!up(target)) return finish(wf, `node ${id} is down`);
        if (step === 0 && cur) {
          if (cur.lastIndex - target.lastIndex <= 0) {
            advance(wf, `match ${target.lastIndex}`);
            since = now;
          } else wf.steps[0]!.detail = `${cur.lastIndex - target.lastIndex} entries behind`;
        } else if (step === 1 && cur && now - since > 200) {
          emit('leader', cur.id, `node ${cur.id} sends TimeoutNow to node ${id}`);
          setRole(cur, 'follower', `transfer to ${id}`);
          cur.leader = 0;
          becomeLeader(
            target,
            voters.filter((v) => connected(target, nodes.get(v))),
          );
          advance(wf, `term ${target.term}`);
        } else if (step === 2) {
          if (currentLeader() === target) advance(wf, `node ${id} leads term ${target.term}`);
          else if (now - wf.startedAt > 5000) finish(wf, 'target did not win the election');
        }
      });
      return { workflowId: wf.id };
    },
    kvPut(key, value) {
      return kvOp(
        'put',
        key,
        () => {
          const prev = kv.get(key) ?? null;
          kv.set(key, value);
          return { ok: true, value: null, prev };
        },
        { value },
      );
    },
    kvGet(key) {
      return kvOp('get', key, () => ({ ok: true, value: kv.get(key) ?? null, prev: null }), {});
    },
    kvDel(key) {
      return kvOp(
        'del',
        key,
        () => {
          const prev = kv.get(key) ?? null;
          kv.delete(key);
          return { ok: true, value: null, prev };
        },
        {},
      );
    },
    kvCas(key, expected, value) {
      return kvOp(
        'cas',
        key,
        () => {
          const cur = kv.get(key) ?? null;
          if (cur !== expected) return { ok: false, value: cur, prev: cur };
          kv.set(key, value);
          return { ok: true, value: null, prev: cur };
        },
        { value, expected },
      );
    },
    async startWorkload(opts: WorkloadOptions) {
      if (workload?.running) throw new Error('the workload is already running');
      workload = {
        running: true,
        options: { ...opts },
        startedAt: now,
        stoppedAt: null,
        totals: { ok: 0, failed: 0, unknown: 0, reads: 0, writes: 0 },
        samples: [],
      };
      lastSampleAt = now;
      emit(
        'workload',
        null,
        `workload started: ${opts.clients} clients at ${opts.rate || 'max'} ops/s`,
        {
          ...opts,
        },
      );
    },
    async stopWorkload() {
      if (!workload?.running) throw new Error('the workload is not running');
      stopWorkloadNow();
    },
    async checkHistory() {
      checker = { ...checker, state: 'running' };
      changed();
      const started = Date.now();
      await sleep(300);
      const keys = new Set(history.map((h) => h.key)).size;
      checker = {
        state: 'done',
        result: 'ok',
        operations: history.length,
        keys,
        ms: Date.now() - started,
        failure: null,
      };
      emit(
        'checker',
        null,
        `history of ${history.length} operations on ${keys} keys is linearizable (fake check)`,
      );
      return { ...checker };
    },
    async exportHistory() {
      return { json: JSON.stringify({ clusterId, fake: true, operations: history }, null, 2) };
    },
    async exportEvents() {
      return { json: JSON.stringify({ clusterId, fake: true, events }, null, 2) };
    },
    async listScenarios() {
      return SCENARIOS.map((s) => ({ ...s }));
    },
    async runScenario(name) {
      if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`no scenario named ${name}`);
      if (scenario?.state === 'running') throw new Error(`scenario ${scenario.name} is running`);
      void runScenarioSteps(name).catch(() => undefined);
    },
    async pauseScenario() {
      runningControl().pause();
    },
    async resumeScenario() {
      runningControl().resume();
    },
    async stepScenario() {
      runningControl().step();
    },
    async setPace(p, fastFailover) {
      checkPace(p);
      const before = pace;
      pace = { pace: p, fastFailover };
      // Timers already running keep their end; new ones are drawn at the new pace.
      if (before.pace !== p || before.fastFailover !== fastFailover) {
        emit('process', null, describePace(pace));
      }
      changed();
    },
    async linkDetail(from, to): Promise<LinkDetail> {
      if (from === to) throw new Error(`a link joins two nodes, not node ${from} to itself`);
      const sender = mustNode(from);
      mustNode(to);
      const link = buildView().links.find((l) => l.from === from && l.to === to);
      if (!link) throw new Error(`no link ${from} → ${to}: both must be members`);
      if (sender.state !== 'running' && sender.state !== 'paused') {
        throw new Error(
          `node ${from} is ${sender.state}: its messages to node ${to} are not reachable`,
        );
      }
      const key = linkKey(from, to);
      const byType = linkCounts.get(key);
      return {
        link,
        byType: MESSAGE_TYPES.filter((t) => byType?.has(t)).map((type) => ({
          type,
          ...byType!.get(type)!,
        })),
        recent: (recentOnLink.get(key) ?? []).map((t) => ({ ...t })),
      };
    },
    recordingInfo() {
      return recording.info();
    },
    viewAt(time) {
      return recording.viewAt(time);
    },
    recordedEvents(from, to, limit) {
      return recording.events(from, to, limit);
    },
    recordedMessages(from, to, limit) {
      return recording.messages(from, to, limit);
    },
    async labControl() {
      throw new CallRefused('the fake cluster has no lab controls');
    },
    async exportLabSchedule() {
      throw new CallRefused('the fake cluster has no lab schedule');
    },
    async logEntries(query) {
      // Every node answers from the fake's log, as members answer `log-entries`; a node that is
      // not running cannot.
      const ask = (
        n: SimNode,
        q: { from: number; count: number; key?: string } | { indexes: number[] },
      ): NodeAnswer =>
        n.state === 'running'
          ? { id: n.id, read: fakeLog.read(n, q), error: null }
          : { id: n.id, read: null, error: `node ${n.id} is ${n.state}` };
      const members = [...nodes.values()]
        .filter((n) => n.membership !== 'removed')
        .sort((a, b) => a.id - b.id);
      const leaderId = currentLeader()?.id ?? 0;
      const first = members.map((n) => ask(n, query));
      if (query.key === undefined) return mergeLog(query, leaderId, first);
      const inspected = mergeLog(query, leaderId, first);
      const indexes = inspected.rows.map((r) => r.index);
      if (indexes.length === 0) return inspected;
      const answers = members.map((n, i) =>
        n.id === inspected.reference ? first[i]! : ask(n, { indexes }),
      );
      return mergeLog(query, leaderId, answers, inspected.reference);
    },
    async nodeLogs(id, lines) {
      const n = nodes.get(id);
      if (!n) throw new Error(`no node ${id}`);
      if (n.state === 'running') {
        log(n, 'debug', 'status', { commit: n.commit, applied: n.applied, lastIndex: n.lastIndex });
      }
      return n.logs.slice(-lines).map((l) => ({ ...l }));
    },
    onView(cb) {
      viewSubs.add(cb);
      return () => viewSubs.delete(cb);
    },
    onEvent(cb) {
      eventSubs.add(cb);
      return () => eventSubs.delete(cb);
    },
    onMessages(cb) {
      messageSubs.add(cb);
      return () => messageSubs.delete(cb);
    },
    tick,
    dispose() {
      stopRecording();
      void recording.close();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      for (const t of timeouts) clearTimeout(t);
      timeouts.clear();
      viewSubs.clear();
      eventSubs.clear();
      messageSubs.clear();
    },
  };

  // The fake records what it pushes, as the real dashboard does, so time travel works on it.
  const recording = new MemoryRecording();
  const stopRecording = recordPushes(api, recording);

  for (const n of nodes.values()) log(n, 'info', `node ${n.id} started`, { pid: n.pid });
  emit('process', null, `fake cluster ${clusterId} started with ${nodes.size} nodes`);

  if (options.start ?? true) timer = setInterval(tick, tickMs);
  return api;
}
