/**
 * lab-dashboard: the dashboard API (DashboardApi + PushSource) on a lab cluster: the production
 * Raft core (SimCluster, the 'real' host model) on a simulated network, clock and disk, with a
 * key-value state machine (lab-kv.ts), driven in virtual time. Everything the dashboard shows is
 * read from the core (Status, logs, messages on the network); faults, membership workflows, the
 * client console, the workload, the checker and the scenarios act on the simulated cluster.
 *
 * Time: the lab's clock is virtual. While playing, every host tick advances it by the real time
 * elapsed × speed (SimCluster.runTo); paused, nothing moves but explicit steps. The view's clock
 * (`now`, event and message times) is `epoch` + virtual ms: by default LAB_EPOCH_MS, a fixed
 * instant, so that the same seed and inputs give the same views to the byte.
 *
 * Determinism: everything that changes the run happens inside the agenda (client timers, the
 * workload's timers) or in an input, and every input is recorded with the step and virtual time
 * it was taken (exportLabSchedule); see lab-schedule.ts.
 */
import { historyToJson } from '../cluster/checker/history';
import { check, checkerView } from '../cluster/checker/porcupine';
import { mergeLog, type NodeAnswer } from '../cluster/log-inspection';
import { narrate } from '../cluster/narration';
import { MemoryRecording } from '../cluster/recording/memory-recording';
import { ScenarioControl } from '../cluster/scenarios/control';
import { CallRefused, type DashboardApi, type KvOutcome, type PushSource } from '../contract/api';
import {
  LAB_IN_FLIGHT_MAX,
  LAB_MAX_DELAY_MS,
  LAB_MAX_SPEED,
  LAB_MIN_SPEED,
  type CheckerView,
  type ClusterEvent,
  type ClusterView,
  type EngineView,
  type EventKind,
  type HistoryOp,
  type LabAction,
  type LabFailure,
  type LabView,
  type LinkDetail,
  type LinkRule,
  type LogQuery,
  type MessageBatch,
  type MessageTrace,
  type NodeId,
  type NodeView,
  type PaceView,
  type ProcessState,
  type ScenarioInfo,
  type ScenarioRun,
  type StepState,
  type TypeCounts,
  type WorkflowKind,
  type WorkflowView,
  type WorkloadOptions,
  type WorkloadView,
} from '../contract/view';
import { decodeConfEntry, isMember } from '../raft/conf';
import { headerOf } from '../raft/message-header';
import { seededRng } from '../raft/rng';
import { MESSAGE_TYPES } from '../raft/types';
import type { Entry, Message } from '../raft/types';
import { describeCleared } from '../view/faults';
import { checkPace, describePace, messageDelayMs } from '../view/pace';
import { IDLE_CHECKER, projectView, type MemberInput, type MemberReport } from '../view/projection';
import { linkKey } from '../view/topology';
import { TrafficMeter, type SentCounts } from '../view/traffic';
import { SimCluster, type LabStep, type SimNode } from './lab-cluster';
import type { SimSeedRun } from './sim-replay';
import { decodeLabCommand, encodeLabCommand, type LabKvOp, type LabKvResult } from './lab-kv';
import {
  LAB_SCHEDULE_FORMAT,
  LAB_SCHEDULE_VERSION,
  type LabSchedule,
  type LabScheduleAction,
} from './lab-schedule';

/** LAB_ENGINE: raftdeck's own core on the simulated network; everything is available. */
const LAB_ENGINE: EngineView = Object.freeze({
  kind: 'raftdeck',
  version: '',
  mode: 'lab',
  unavailable: Object.freeze({}),
  endpoints: [],
}) as EngineView;

/** LabHost: what the lab needs from the place it runs in (Node, a browser Web Worker, a test). */
export interface LabHost {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

export interface LabDashboardOptions {
  seed?: number;
  nodes?: number;
  host: LabHost;
  schedule?: LabSchedule;
  /**
   * from: a run of the simulator to go on from (openSimSeed in sim-replay.ts: a seed paused right
   * after the step where its first invariant broke). The lab opens paused on that cluster, with
   * its failure shown; it cannot export a schedule (the run is the simulator's: its seed replays
   * it). Not with `schedule`, `seed` or `nodes`.
   */
  from?: SimSeedRun;
  /**
   * epoch: what the view's clock reads at virtual time 0 (ms since the epoch); LAB_EPOCH_MS by
   * default, so runs are reproducible. A host that wants the lab's times comparable with its
   * wall clock passes its own.
   */
  epoch?: number;
}

export interface LabDashboard extends DashboardApi, PushSource {
  dispose(): void;
}

/** LAB_EPOCH_MS: the view clock at virtual time 0 unless told otherwise: 2026-01-01T00:00:00Z. */
export const LAB_EPOCH_MS = 1_767_225_600_000;
/** LAB_FRAME_MS: the real ms between two host ticks of a playing lab. */
export const LAB_FRAME_MS = 20;
/** LAB_VIEW_MS: views are pushed at most this often (real ms) while the run moves. */
export const LAB_VIEW_MS = 100;
/** LAB_MAX_FRAME_VIRTUAL_MS: a host tick advances virtual time by at most this much. */
const LAB_MAX_FRAME_VIRTUAL_MS = 5000;
/** TICK_MS, HEARTBEAT_TICKS, ELECTION_TICKS: the real node's defaults (10 ms, 100 ms, 1 s). */
const TICK_MS = 10;
const HEARTBEAT_TICKS = 10;
const ELECTION_TICKS = 100;
/** CLIENT_TIMEOUT_MS: a client gives an operation up (outcome unknown) after this (virtual). */
const CLIENT_TIMEOUT_MS = 5000;
const RETRY_MS = 50;
const MAX_BATCH_TRACES = 2000;
/** NARRATED_RAFT_EVENTS: the core's events the lab narrates as the supervisor does (narration.ts). */
const NARRATED_RAFT_EVENTS: ReadonlySet<string> = new Set([
  'snapshot-send',
  'snapshot-retry',
  'snapshot-sent',
  'snapshot-installed',
  'compacted',
]);
/**
 * TRACES_PER_LINK_TYPE_HZ: the messages push carries at most this many messages per link and type
 * per second of real time, as the supervisor asks of real nodes (their sampler's default); votes,
 * snapshot chunks and timeout-now are rarer than that and all come through.
 */
const TRACES_PER_LINK_TYPE_HZ = 10;
const RECENT_ON_LINK = 50;
const HEADER_BYTES = 48;
const AUTO_RESTART_MS = 1500;
const TRAFFIC_EVERY_MS = 250;
const SAMPLE_EVERY_MS = 1000;
const LOG_LINES_KEPT = 500;

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
  {
    name: 'split-vote',
    title: 'Split vote',
    description:
      'Align the followers’ election timers, then cut the leader off: they time out together, split the vote, and a later round elects.',
  },
];

/**
 * Proc: a node's process as a supervisor would know it: the view's process fields (but its last
 * lines and command line, which a simulated process has not), and the lab's own.
 */
interface Proc extends Omit<NodeView['process'], 'lastLines' | 'commandLine'> {
  removed: boolean;
  founding: boolean;
  isolated: boolean;
  rules: LinkRule[];
  fsyncDelayMs: number;
  logs: Record<string, unknown>[];
}

type LinkCounts = Omit<TypeCounts, 'type'>;

/** Pending: a client operation waiting for the cluster. */
interface Pending {
  client: string;
  op: LabKvOp | { op: 'get'; key: string };
  node: NodeId;
  /** index/term of the proposal, or ctx of the read. */
  index: number;
  term: number;
  ctx: number;
  /** readIndex: a read's index once the leader confirmed it (0 before). */
  readIndex: number;
  invoke: number;
  deadline: number;
  done: (out: KvOutcome, result: LabKvResult | { value: string | null } | null) => void;
}

/** emptyCounts: a fresh per-type counter of a link. */
const emptyCounts = (): LinkCounts => ({
  sent: 0,
  sentBytes: 0,
  received: 0,
  receivedBytes: 0,
  faultDropped: 0,
  faultDelayed: 0,
});

/** bytesOf: a message's size on the wire, as the lab estimates it (header plus payloads). */
function bytesOf(m: Message): number {
  const h = headerOf(m);
  return HEADER_BYTES + (h.entryBytes ?? 0);
}

/** describeStep: a step of the agenda in words. */
function describeStep(s: LabStep): string {
  if (s.kind === 'message') {
    const m = s.message;
    return `${s.delivered ? 'delivered' : 'could not deliver'} ${m.header.type} ${m.from}→${m.to} (term ${m.header.term}, #${m.id})`;
  }
  if (s.kind === 'tick') return `node ${s.node} ${s.ticked ? 'ticked' : 'is down: no tick'}`;
  return s.node === 0 ? 'ran a scheduled timer' : `node ${s.node}: a disk write or timer completed`;
}

export function createLabDashboard(options: LabDashboardOptions): LabDashboard {
  return openLab(options).lab;
}

/** openLab: the lab dashboard and the SimCluster it runs on (replaySchedule reads the latter). */
function openLab(options: LabDashboardOptions): { lab: LabDashboard; sim: SimCluster } {
  const schedule = options.schedule;
  const from = options.from;
  if (from && (schedule || options.seed !== undefined || options.nodes !== undefined)) {
    throw new Error('a lab opened on a simulator run takes neither a schedule, a seed nor nodes');
  }
  const seed = from?.cluster.seed ?? schedule?.seed ?? options.seed ?? 1;
  const count = from ? from.cluster.nodes.size : (schedule?.nodes ?? options.nodes ?? 3);
  const mutation = from?.cluster.opts.mutation ?? schedule?.options.mutation ?? null;
  const host = options.host;
  const epoch = options.epoch ?? LAB_EPOCH_MS;
  const clusterId = `lab-seed-${seed}`;
  const dataDir = `lab:seed-${seed}`;
  const ids = from
    ? [...from.cluster.nodes.keys()].sort((a, b) => a - b)
    : Array.from({ length: count }, (_, i) => i + 1);
  const sim =
    from?.cluster ??
    new SimCluster({
      ids,
      seed,
      host: 'real',
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      delay: [1, 4],
      keepEvents: false,
      compactEvery: 500,
      compactKeep: 100,
      snapshotPad: 0,
      snapshotChunkBytes: 32 * 1024,
      maxMsgBytes: 64 * 1024,
      maxInflight: 64,
      promoteGap: 100,
      mutation: mutation ?? undefined,
    });
  /** ruleRng: the lab's own draws (link rules' drop rates and jitter), apart from the core's. */
  const ruleRng = seededRng((seed * 2654435761) >>> 0 || 1);
  const source = from?.source ?? (schedule ? `schedule of seed ${seed}` : `seed ${seed}`);

  // Whole milliseconds, as a real cluster's clock reads (callers name instants back, e.g. viewAt).
  const clock = (): number => epoch + Math.floor(sim.now);
  let playing = true;
  let speed = 1;
  let lastReal = host.now();
  let lastPushReal = -Infinity;
  let lastStep: string | null = null;
  let failure: LabFailure | null = null;
  /** failureShown: a view with the failure was pushed (a stopped run pushes nothing more). */
  let failureShown = false;
  let disposed = false;
  let replaying = false;
  const actions: LabScheduleAction[] = [];
  let pace: PaceView = { pace: 1, fastFailover: true };
  let partitions: NodeId[][] | null = null;
  let pidNext = 41000;
  let seq = 0;
  let version = 1;
  const events: ClusterEvent[] = [];
  const viewSubs = new Set<(v: ClusterView) => void>();
  const eventSubs = new Set<(e: ClusterEvent) => void>();
  const messageSubs = new Set<(b: MessageBatch) => void>();
  const procs = new Map<NodeId, Proc>();
  /** recording: ten minutes of views at 10 per second (a lab view lists its messages in flight). */
  const recording = new MemoryRecording({ maxViews: 6000 });
  const linkCounts = new Map<string, Map<string, LinkCounts>>();
  const recentOnLink = new Map<string, MessageTrace[]>();
  const traceSeq = new Map<NodeId, number>();
  const traffic = new TrafficMeter();
  let nextTrafficAt = 0;
  let pendingTraces: MessageTrace[] = [];
  let pendingSkipped: Record<string, number> = {};
  const pending: Pending[] = [];
  const workflows: WorkflowView[] = [];
  const workflowJobs = new Map<string, () => void>();
  let workload: WorkloadView | null = null;
  let workloadRun = 0;
  let nextSampleAt = 0;
  let windowLatencies: number[] = [];
  let windowErrors = 0;
  let windowUnknown = 0;
  let checker: CheckerView = { ...IDLE_CHECKER };
  const history: HistoryOp[] = [];
  let opId = 0;
  const clientSeq = new Map<string, number>();
  let scenario: ScenarioRun | null = null;
  let control: ScenarioControl | undefined;
  const waiters: { at: number; resolve: () => void }[] = [];
  let glance = new Map<NodeId, string>();
  let confSeen = '';

  const makeProc = (founding: boolean): Proc => ({
    state: 'running',
    pid: pidNext++,
    exitCode: null,
    signal: null,
    restarts: 0,
    startedAt: clock(),
    autoRestart: false,
    removed: false,
    founding,
    isolated: false,
    rules: [],
    fsyncDelayMs: 0,
    logs: [],
  });
  for (const id of ids) {
    const p = makeProc(true);
    const n = sim.nodes.get(id);
    // A simulator run hands over nodes that may be down or gone (removed and exited).
    if (n && !n.alive) {
      p.state = n.exited ? 'exited' : 'crashed';
      p.pid = null;
      p.removed = n.exited;
    }
    procs.set(id, p);
  }

  // ------------------------------------------------------------------ events and logs

  const changed = (): void => {
    version++;
  };

  const log = (id: NodeId, level: string, msg: string, extra: Record<string, unknown> = {}) => {
    const p = procs.get(id);
    if (!p) return;
    const n = sim.nodes.get(id);
    p.logs.push({ t: clock(), level, msg, node: id, term: n?.raft.term ?? 0, ...extra });
    if (p.logs.length > LOG_LINES_KEPT) p.logs.splice(0, p.logs.length - LOG_LINES_KEPT);
  };

  const emit = (
    kind: EventKind,
    node: NodeId | null,
    message: string,
    data?: Record<string, unknown>,
  ): void => {
    const event: ClusterEvent = { seq: ++seq, time: clock(), node, kind, message };
    if (data) event.data = data;
    events.push(event);
    if (events.length > 5000) events.splice(0, events.length - 5000);
    if (node !== null)
      log(node, kind === 'fault' || kind === 'process' ? 'warn' : 'info', message, data);
    recording.addEvent(event);
    for (const cb of eventSubs) cb(event);
    changed();
  };

  // ------------------------------------------------------------------ the network, traced

  const counts = (from: NodeId, to: NodeId, type: string): LinkCounts => {
    const key = linkKey(from, to);
    let byType = linkCounts.get(key);
    if (!byType) linkCounts.set(key, (byType = new Map()));
    let c = byType.get(type);
    if (!c) byType.set(type, (c = emptyCounts()));
    return c;
  };

  /** ruleFor: the link rules (of either end) that apply to message m. */
  const rulesFor = (m: Message): LinkRule[] => {
    const out: LinkRule[] = [];
    const match = (r: LinkRule): boolean => r.types === undefined || r.types.includes(m.type);
    for (const r of procs.get(m.from)?.rules ?? [])
      if (r.to !== undefined && (r.to === '*' || r.to === m.to) && match(r)) out.push(r);
    for (const r of procs.get(m.to)?.rules ?? [])
      if (r.from !== undefined && (r.from === '*' || r.from === m.from) && match(r)) out.push(r);
    return out;
  };
  sim.dropIf = (m) => {
    for (const r of rulesFor(m)) {
      const p = r.drop ?? 0;
      if (p >= 1 || (p > 0 && ruleRng() < p)) return true;
    }
    return false;
  };
  sim.extraDelay = (m) => {
    // At a pace above 1 every message is held on its way, as the real nodes hold theirs.
    let ms = messageDelayMs(pace.pace);
    for (const r of rulesFor(m)) {
      ms += r.delayMs ?? 0;
      if (r.jitterMs) ms += ruleRng() * r.jitterMs;
    }
    return ms;
  };
  // The snapshot's life in the event stream, in the real cluster's words (narration.ts): taken and
  // compacted, sent, resent, finished, installed. Elections, roles and leaders the lab narrates
  // itself from what it watches (watch).
  sim.onRaftEvent = (id, ev) => {
    if (!NARRATED_RAFT_EVENTS.has(ev.type)) return;
    const l = narrate(id, { ...ev, seq: 0, time: clock(), node: id } as Parameters<
      typeof narrate
    >[1]);
    if (l) emit(l.kind, id, l.message, { ...ev });
  };
  /** sampleWindowStart, sampledInWindow: the messages push's budget (TRACES_PER_LINK_TYPE_HZ). */
  let sampleWindowStart = -Infinity;
  const sampledInWindow = new Map<string, number>();
  sim.onSend = (m, fate) => {
    const c = counts(m.from, m.to, m.type);
    const bytes = bytesOf(m);
    c.sent++;
    c.sentBytes += bytes;
    let delayMs = 0;
    if (fate.fate === 'dropped') c.faultDropped++;
    else {
      delayMs = fate.deliverAt - sim.now;
      if (rulesFor(m).some((r) => (r.delayMs ?? 0) > 0 || (r.jitterMs ?? 0) > 0)) c.faultDelayed++;
    }
    const s = (traceSeq.get(m.from) ?? 0) + 1;
    traceSeq.set(m.from, s);
    const trace: MessageTrace = {
      ...headerOf(m),
      seq: s,
      time: clock(),
      dir: 'out',
      fate: fate.fate === 'dropped' ? 'dropped' : 'sent',
      delayMs,
      bytes,
    };
    const key = linkKey(m.from, m.to);
    let recent = recentOnLink.get(key);
    if (!recent) recentOnLink.set(key, (recent = []));
    recent.push(trace);
    if (recent.length > RECENT_ON_LINK) recent.shift();
    // Sampled as the real nodes sample theirs: the exact messages are the view's in-flight list;
    // this push feeds the message inspector and the recording, and every message of a busy
    // nine-node lab would cost the page more than it shows.
    const real = host.now();
    if (real - sampleWindowStart >= 1000) {
      sampleWindowStart = real;
      sampledInWindow.clear();
    }
    const slot = `${key}/${m.type}`;
    const taken = sampledInWindow.get(slot) ?? 0;
    if (taken < TRACES_PER_LINK_TYPE_HZ && pendingTraces.length < MAX_BATCH_TRACES) {
      sampledInWindow.set(slot, taken + 1);
      pendingTraces.push(trace);
    } else pendingSkipped[key] = (pendingSkipped[key] ?? 0) + 1;
  };
  sim.onDeliver = (m) => {
    const c = counts(m.from, m.to, m.type);
    c.received++;
    c.receivedBytes += bytesOf(m);
  };

  const flushMessages = (): void => {
    if (pendingTraces.length === 0 && Object.keys(pendingSkipped).length === 0) return;
    const batch: MessageBatch = { traces: pendingTraces, skipped: pendingSkipped };
    pendingTraces = [];
    pendingSkipped = {};
    recording.addMessages(batch, clock());
    for (const cb of messageSubs) cb(batch);
  };

  const feedTraffic = (): void => {
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
    for (const [from, sent] of byFrom)
      if (sim.nodes.get(from)?.alive) traffic.feed(from, clock(), sent);
  };

  // ------------------------------------------------------------------ clients

  const finishPending = (
    p: Pending,
    out: Omit<KvOutcome, 'ms' | 'servedBy'>,
    result: LabKvResult | { value: string | null } | null,
  ): void => {
    const i = pending.indexOf(p);
    if (i >= 0) pending.splice(i, 1);
    p.done(
      {
        ...out,
        servedBy: out.ok || out.error?.startsWith('compare') ? p.node : null,
        ms: +(sim.now - p.invoke).toFixed(2),
      },
      result,
    );
  };

  sim.onApply = (n, e, result) => {
    if (!result) return;
    for (const p of [...pending]) {
      if (p.ctx !== 0 || p.node !== n.id || p.index !== e.index || p.term !== e.term) continue;
      const op = p.op;
      if (result.ok)
        finishPending(
          p,
          { ok: true, value: null, prev: op.op === 'cas' ? null : result.prev, error: null },
          result,
        );
      else
        finishPending(
          p,
          {
            ok: false,
            value: result.current,
            prev: null,
            error: 'compare failed: the key holds another value',
          },
          result,
        );
    }
    answerReads(n);
  };

  /** answerReads completes the reads of node n whose read index it has applied. */
  const answerReads = (n: SimNode): void => {
    for (const p of [...pending]) {
      if (p.ctx === 0 || p.node !== n.id || p.readIndex === 0 || n.sm.index < p.readIndex) continue;
      const value = n.kv.get(p.op.key);
      finishPending(p, { ok: true, value, prev: null, error: null }, { value });
    }
  };

  sim.onRead = (n, rs) => {
    const p = pending.find((x) => x.ctx === rs.ctx && x.node === n.id);
    if (!p) return;
    if (!rs.ok) {
      p.ctx = -1; // refused: retried by the client's timer
      return;
    }
    p.readIndex = Math.max(1, rs.index);
    answerReads(n);
  };

  /** leaderGuess: where a client sends: the live leader of the highest term, else node 1.. */
  const leaderGuess = (): NodeId => sim.leader();

  /**
   * submit sends one client operation to the leader (retrying every RETRY_MS of virtual time
   * while there is none, or it refuses), and calls done when it completes, fails or times out.
   */
  const submit = (client: string, op: Pending['op'], done: Pending['done']): void => {
    const p: Pending = {
      client,
      op,
      node: 0,
      index: 0,
      term: 0,
      ctx: 0,
      readIndex: 0,
      invoke: sim.now,
      deadline: sim.now + CLIENT_TIMEOUT_MS,
      done,
    };
    pending.push(p);
    const s = (clientSeq.get(client) ?? 0) + 1;
    if (op.op !== 'get') clientSeq.set(client, s);
    const attempt = (): void => {
      if (!pending.includes(p)) return;
      if (sim.now >= p.deadline) {
        finishPending(
          p,
          {
            ok: false,
            value: null,
            prev: null,
            error: `outcome unknown: no answer within ${CLIENT_TIMEOUT_MS} ms`,
          },
          null,
        );
        return;
      }
      const l = leaderGuess();
      if (l === 0) {
        sim.at(RETRY_MS, attempt);
        return;
      }
      p.node = l;
      if (op.op === 'get') {
        p.readIndex = 0;
        p.ctx = sim.read(l);
        if (p.ctx === 0) p.ctx = -1;
      } else {
        const payload = new TextDecoder().decode(encodeLabCommand({ client, seq: s, cmd: op }));
        const r = sim.propose(l, payload);
        if (r.ok) {
          p.index = r.index;
          p.term = r.term;
          p.ctx = 0;
        }
      }
      // Retry if nothing answered by then (a refused read, a lost leader); a proposal already
      // made is kept (at most once: the session answers a retried command with its first result).
      sim.at(Math.min(1000, p.deadline - sim.now), () => {
        if (!pending.includes(p)) return;
        const n = sim.nodes.get(p.node);
        const stillLeading = n?.alive && n.raft.role === 'leader' && n.raft.term === p.term;
        if (op.op !== 'get' && p.index > 0 && stillLeading) {
          sim.at(Math.min(1000, Math.max(1, p.deadline - sim.now)), () => {
            if (pending.includes(p)) attempt();
          });
          return;
        }
        attempt();
      });
    };
    attempt();
  };

  // ------------------------------------------------------------------ the workload

  const recordOp = (op: HistoryOp): void => {
    history.push(op);
    if (history.length > 20000) history.splice(0, history.length - 20000);
  };

  const startClient = (name: string, run: number): void => {
    const w = workload;
    if (!w?.running || run !== workloadRun) return;
    const o = w.options;
    const key = `k${Math.floor(ruleRng() * o.keys)}`;
    const draw = ruleRng();
    const value = `v${opId + 1}-${'x'.repeat(Math.max(0, o.valueBytes - 4))}`.slice(
      0,
      Math.max(2, o.valueBytes),
    );
    let op: Pending['op'];
    if (draw < o.readRatio) op = { op: 'get', key };
    else if (draw < o.readRatio + o.casRatio) {
      const cur = sim.nodes.get(leaderGuess() || 1)?.kv.get(key) ?? null;
      op = { op: 'cas', key, expected: cur, value };
    } else op = { op: 'put', key, value };
    const id = ++opId;
    const invoke = clock();
    submit(name, op, (out, result) => {
      const h: HistoryOp = { id, client: name, op: op.op, key, invoke, outcome: 'ok' };
      if (op.op === 'put' || op.op === 'cas') h.value = op.value;
      if (op.op === 'cas') h.expected = op.expected;
      const lat = sim.now + epoch - invoke;
      if (result === null) {
        h.outcome = 'unknown';
        if (w.running) w.totals.unknown++;
        windowUnknown++;
      } else {
        h.complete = clock();
        if (op.op === 'get') h.output = { value: (result as { value: string | null }).value };
        if (op.op === 'cas') h.output = { casOk: out.ok };
        w.totals.ok++;
        if (op.op === 'get') w.totals.reads++;
        else w.totals.writes++;
        windowLatencies.push(lat);
      }
      recordOp(h);
      const rate = o.rate > 0 ? o.rate / o.clients : 0;
      const think = rate > 0 ? Math.max(0, 1000 / rate - lat) : 0;
      sim.at(think, () => startClient(name, run));
    });
  };

  const sampleWorkload = (): void => {
    const w = workload;
    if (!w?.running) return;
    const lats = windowLatencies.slice().sort((a, b) => a - b);
    const q = (f: number): number =>
      lats.length ? +lats[Math.min(lats.length - 1, Math.floor(f * lats.length))]!.toFixed(2) : 0;
    w.samples.push({
      time: clock(),
      opsPerSec: lats.length,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      errors: windowErrors,
      unknown: windowUnknown,
    });
    if (w.samples.length > 300) w.samples.splice(0, w.samples.length - 300);
    windowLatencies = [];
    windowErrors = 0;
    windowUnknown = 0;
    if (w.options.seconds > 0 && clock() - w.startedAt >= w.options.seconds * 1000)
      stopWorkloadNow();
  };

  const stopWorkloadNow = (): void => {
    if (!workload?.running) return;
    workload.running = false;
    workload.stoppedAt = clock();
    workloadRun++;
    emit(
      'workload',
      null,
      `workload stopped: ${workload.totals.ok} ok, ${workload.totals.failed} failed, ${workload.totals.unknown} unknown`,
      { ...workload.totals },
    );
  };

  // ------------------------------------------------------------------ after every step

  const snapshotOf = (n: SimNode): string =>
    n.alive ? `${n.raft.role}/${n.raft.term}/${n.raft.leader}` : 'down';
  /** votes: the vote each node last held (term/vote), to tell of new ones. */
  const votes = new Map<NodeId, string>();
  /**
   * downAt: when each node that is down was last seen up (virtual ms on the view's clock): its
   * last report, as a real node's status stops when its process dies.
   */
  const downAt = new Map<NodeId, number>();

  /** watch turns what changed in the nodes since the last step into events. */
  const watch = (): void => {
    const next = new Map<NodeId, string>();
    for (const n of sim.nodes.values()) {
      const now = snapshotOf(n);
      next.set(n.id, now);
      const before = glance.get(n.id);
      if (now === 'down' && before !== 'down') downAt.set(n.id, clock());
      if (before === now || !n.alive) continue;
      const [role, term, leader] = now.split('/');
      const [brole, bterm] = (before ?? 'down//').split('/');
      if (role !== brole) {
        if (role === 'candidate')
          emit('election', n.id, `node ${n.id} starts an election for term ${term}`, {
            term: Number(term),
          });
        if (role === 'leader')
          emit('leader', n.id, `node ${n.id} is leader of term ${term}`, { term: Number(term) });
        else
          emit('role', n.id, `node ${n.id} is now ${role} (term ${term})`, {
            role,
            term: Number(term),
          });
      } else if (term !== bterm) {
        log(n.id, 'info', `term ${term}`, { leader: Number(leader) });
        changed();
      } else changed();
    }
    glance = next;
    for (const n of sim.nodes.values()) {
      if (!n.alive) continue;
      const st = { term: n.durableTerm, vote: n.durableVote };
      const key = `${st.term}/${st.vote}`;
      if (votes.get(n.id) === key) continue;
      votes.set(n.id, key);
      if (st.vote !== 0 && st.vote !== n.id)
        emit('vote', n.id, `node ${n.id} votes for node ${st.vote} in term ${st.term}`, {
          term: st.term,
          candidate: st.vote,
        });
    }
    const l = sim.leader();
    if (l) {
      const c = sim.node(l).raft.log.conf();
      const key = `${c.voters.join(',')}|${c.learners.join(',')}`;
      if (confSeen && key !== confSeen)
        emit(
          'config',
          l,
          `config: voters [${c.voters.join(', ')}]${c.learners.length ? `, learners [${c.learners.join(', ')}]` : ''}`,
          {
            voters: [...c.voters],
            learners: [...c.learners],
          },
        );
      confSeen = key;
    }
    // A node that exited on its own (removed, or a fatal error) shows as exited.
    for (const [id, p] of procs) {
      const n = sim.nodes.get(id);
      if (!n || p.removed) continue;
      if ((p.state === 'running' || p.state === 'paused') && !n.alive) {
        p.state = 'exited';
        p.pid = null;
        p.exitCode = n.exited ? 0 : 1;
        emit(
          'process',
          id,
          n.exited ? `node ${id} exited cleanly (removed)` : `node ${id} exited`,
          { exitCode: p.exitCode },
        );
      } else if (p.state === 'exited' && n.alive) {
        p.state = 'running';
        p.pid = pidNext++;
        p.startedAt = clock();
        p.restarts++;
        emit('process', id, `node ${id} restarted (pid ${p.pid})`, { pid: p.pid });
      }
    }
  };

  /** afterStep: what the lab does after every event of the agenda (the same live and replayed). */
  const afterStep = (): boolean => {
    watch();
    for (const job of [...workflowJobs.values()]) job();
    if (sim.now >= nextTrafficAt) {
      nextTrafficAt = sim.now + TRAFFIC_EVERY_MS;
      feedTraffic();
    }
    if (workload?.running && sim.now >= nextSampleAt) {
      nextSampleAt = sim.now + SAMPLE_EVERY_MS;
      sampleWorkload();
    }
    if (failure === null && sim.failures.length > 0) {
      // The checks name the invariant and the nodes themselves (SimCluster.failures); the step
      // and time are where the lab noticed, which is the step that broke it.
      const first = sim.failures[0]!;
      const text = sim.violations[0] ?? first.text;
      failure = { ...first, nodes: [...first.nodes] };
      playing = false;
      lastStep = `stopped: ${failure.invariant} broken`;
      emit('fault', failure.nodes[0] ?? null, `invariant broken at step ${failure.step}: ${text}`, {
        invariant: failure.invariant,
      });
      return true;
    }
    return false;
  };

  /** advanceTo runs the run to virtual time `t` (stopping at a failure). */
  const advanceTo = (t: number): void => {
    if (failure) return;
    sim.runTo(t, afterStep);
    resolveWaiters();
  };

  const resolveWaiters = (): void => {
    for (const w of [...waiters]) {
      if (sim.now >= w.at) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  /** waitVirtual resolves once virtual time has moved ms on (a scenario's pause). */
  const waitVirtual = (ms: number): Promise<void> =>
    new Promise((resolve) => waiters.push({ at: sim.now + ms, resolve }));

  // ------------------------------------------------------------------ the view

  const memberOf = (id: NodeId, p: Proc): MemberInput => {
    const n = sim.nodes.get(id);
    const alive = (p.state === 'running' || p.state === 'paused') && n?.alive === true;
    const addresses = { peer: `sim:${id}`, client: `sim:${id}/client`, admin: `sim:${id}/admin` };
    let report: MemberReport | null = null;
    if (alive && n) {
      const st = n.raft.status();
      const stats = n.storage;
      report = {
        ...st,
        addresses: { [id]: addresses.peer },
        storage: {
          walBytes: Math.max(0, n.raft.log.lastIndex() - n.raft.log.prevIndex) * 64,
          segments: 1,
          snapshotBytes: n.raft.snapshot?.data.length ?? 0,
          fsyncDelayMs: stats.fsyncDelayMs,
        },
        kv: { keys: n.kv.map.size, bytes: n.kv.bytes() },
        transport: {
          malformed: 0,
          dropped: 0,
          peers: Object.fromEntries(
            [...sim.nodes.keys()]
              .filter((o) => o !== id)
              .map((o) => [String(o), { connected: sim.nodes.get(o)!.alive && !sim.isCut(id, o) }]),
          ),
        },
        timing: { tickMs: sim.opts.tickMs, pace: pace.pace },
      };
    }
    return {
      id,
      founding: p.founding,
      removed: p.removed,
      running: alive,
      process: {
        state: p.state,
        pid: p.pid,
        exitCode: p.exitCode,
        signal: p.signal,
        restarts: p.restarts,
        startedAt: p.startedAt,
        autoRestart: p.autoRestart,
        lastLines: p.logs.slice(-3).map((l) => String(l.msg)),
        commandLine: ['lab', `--seed=${seed}`, `--node=${id}`],
      },
      addresses,
      dataDir: `${dataDir}/node-${id}`,
      startRefused: null,
      report,
      reportAt: alive ? clock() : (downAt.get(id) ?? 0),
    };
  };

  const labView = (): LabView => {
    const all = sim.inFlight();
    return {
      seed,
      playing,
      speed,
      now: sim.now,
      steps: sim.steps,
      inFlight: all.slice(0, LAB_IN_FLIGHT_MAX).map((m) => ({
        ...m.header,
        id: m.id,
        sentAt: m.sentAt,
        deliverAt: m.deliverAt,
      })),
      inFlightTotal: all.length,
      lastStep,
      failure: failure ? { ...failure, nodes: [...failure.nodes] } : null,
      source,
    };
  };

  const buildView = (): ClusterView => {
    const shown = [...procs.entries()].filter(([, p]) => !p.removed || p.state === 'running');
    return projectView({
      clusterId,
      dataDir,
      version: version + sim.steps,
      now: clock(),
      state: 'running',
      pace: { ...pace },
      traffic: traffic.rates(clock()),
      members: shown.map(([id, p]) => memberOf(id, p)),
      faults: {
        partitions: partitions ? partitions.map((g) => [...g]) : null,
        nodes: new Map(
          shown.map(([id, p]) => [
            id,
            {
              isolated: p.isolated,
              customRules: p.rules.map((r) => ({ ...r })),
              fsyncDelayMs: p.fsyncDelayMs,
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
      lab: labView(),
      engine: LAB_ENGINE,
    });
  };

  const push = (): void => {
    if (disposed) return;
    flushMessages();
    const view = buildView();
    recording.addView(view);
    lastPushReal = host.now();
    for (const cb of viewSubs) cb(view);
  };

  // ------------------------------------------------------------------ faults onto the network

  /** applyCuts sets the simulated network's cuts from the partition and the isolated nodes. */
  const applyCuts = (): void => {
    sim.heal();
    if (partitions) sim.partition(partitions);
    for (const [id, p] of procs) if (p.isolated && !p.removed) sim.isolate(id);
  };

  const mustNode = (id: NodeId): Proc => {
    const p = procs.get(id);
    if (!p || p.removed) throw new Error(`no node ${id} in the lab cluster`);
    return p;
  };

  const up = (p: Proc): boolean => p.state === 'running' || p.state === 'paused';

  const endProcess = (
    id: NodeId,
    state: ProcessState,
    signal: string | null,
    code: number | null,
    unsynced: 'kept' | 'lost' = 'kept',
  ) => {
    const p = procs.get(id)!;
    sim.crashNode(id, unsynced);
    p.state = state;
    p.signal = signal;
    p.exitCode = code;
    p.pid = null;
    traffic.forget(id);
    glance.set(id, 'down');
    downAt.set(id, clock());
    if (p.autoRestart && state === 'crashed') {
      sim.at(AUTO_RESTART_MS, () => {
        if (p.state === 'crashed' && p.autoRestart) startProcess(id, 'restarted automatically');
      });
    }
  };

  const startProcess = (id: NodeId, why: string): void => {
    const p = procs.get(id)!;
    sim.restart(id);
    p.state = 'running';
    p.pid = pidNext++;
    p.exitCode = null;
    p.signal = null;
    p.startedAt = clock();
    p.restarts++;
    emit('process', id, `node ${id} ${why} (pid ${p.pid})`, { pid: p.pid });
  };

  // ------------------------------------------------------------------ workflows

  const startWorkflow = (kind: WorkflowKind, node: NodeId, steps: string[]): WorkflowView => {
    const wf: WorkflowView = {
      id: `wf-${workflows.length + 1}`,
      kind,
      node,
      state: 'running',
      startedAt: clock(),
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

  const finish = (wf: WorkflowView, error: string | null): void => {
    wf.state = error ? 'failed' : 'done';
    wf.finishedAt = clock();
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
      { workflow: wf.id },
    );
  };

  const advanceWf = (wf: WorkflowView, detail = ''): void => {
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

  const activeIndex = (wf: WorkflowView): number => wf.steps.findIndex((s) => s.state === 'active');

  const membershipBusy = (): boolean =>
    workflows.some((w) => w.state === 'running' && w.kind !== 'transfer-leader');

  /**
   * confJob: a workflow step that proposes a configuration change to the leader (again after a
   * leader change) and is done once the leader has committed a configuration where `holds`.
   */
  const confStep = (
    change: () => Parameters<SimCluster['confChange']>[1],
    holds: (voters: NodeId[], learners: NodeId[]) => boolean,
  ): (() => 'done' | 'waiting') => {
    let proposedAt = -Infinity;
    let proposedTerm = -1;
    return () => {
      const l = sim.leader();
      if (!l) return 'waiting';
      const log = sim.node(l).raft.log;
      const committed = log.confPointAt(log.commit).conf;
      if (holds(committed.voters, committed.learners)) return 'done';
      const latest = log.conf();
      const term = sim.node(l).raft.term;
      if (
        !holds(latest.voters, latest.learners) &&
        (term !== proposedTerm || sim.now - proposedAt > 1000)
      ) {
        const r = sim.confChange(l, change());
        if (r.ok) {
          proposedAt = sim.now;
          proposedTerm = term;
        }
      }
      return 'waiting';
    };
  };

  /** addJob: the steps of bringing node `id` in: spawn, learner, catch up, promote, committed. */
  const joinSteps = (
    wf: WorkflowView,
    id: NodeId,
    first: number,
    asVoter: boolean,
  ): (() => boolean) => {
    const addLearner = confStep(
      () => ({ type: 'add-learner', node: id, address: `sim:${id}` }),
      (v, l) => l.includes(id) || v.includes(id),
    );
    const promote = confStep(
      () => ({ type: 'promote', node: id }),
      (v) => v.includes(id),
    );
    return () => {
      const step = activeIndex(wf) - first;
      if (step === 0) {
        if (sim.nodes.has(id)) sim.reuseNode(id);
        else sim.addNode(id);
        const p = makeProc(false);
        procs.set(id, p);
        emit('process', id, `node ${id} spawned (pid ${p.pid})`, { pid: p.pid });
        advanceWf(wf, `pid ${p.pid}`);
      } else if (step === 1) {
        if (addLearner() === 'done')
          advanceWf(wf, `config index ${sim.node(sim.leader()).raft.log.commit}`);
      } else if (step === 2) {
        const l = sim.leader();
        if (!l) return false;
        const last = sim.node(l).raft.log.lastIndex();
        const match = sim.node(id).raft.log.lastIndex();
        wf.steps[first + 2]!.progress = Math.min(1, match / Math.max(1, last));
        wf.steps[first + 2]!.detail = `match ${match} / ${last}`;
        if (last - match <= 100 && sim.node(id).raft.log.commit > 0) {
          advanceWf(wf, `caught up at ${match}`);
          if (!asVoter) {
            wf.steps[first + 3]!.state = 'skipped';
            wf.steps[first + 3]!.detail = 'it replaces a learner';
            wf.steps[first + 4]!.state = 'active';
          }
        }
      } else if (step === 3) {
        if (promote() === 'done') advanceWf(wf, `node ${id} is a voter`);
      } else if (step === 4) {
        const l = sim.leader();
        if (!l) return false;
        const log = sim.node(l).raft.log;
        const c = log.confPointAt(log.commit).conf;
        if (isMember(c, id)) {
          advanceWf(wf, `committed at ${log.commit}`);
          return true;
        }
      }
      return false;
    };
  };

  /** leaveSteps: the steps of taking node `id` out: config without it, committed, exit, data removed. */
  const leaveSteps = (
    wf: WorkflowView,
    id: NodeId,
    first: number,
    proposeStep: boolean,
  ): (() => boolean) => {
    const remove = confStep(
      () => ({ type: 'remove', node: id }),
      (v, l) => !v.includes(id) && !l.includes(id),
    );
    return () => {
      // Steps: [propose,] committed, exits, data removed (replaceNode has no propose step).
      const step = activeIndex(wf) - first + (proposeStep ? 0 : 1);
      const l = sim.leader();
      if (step === 0) {
        if (!l) return false;
        const done = remove() === 'done';
        if (done || !isMember(sim.node(l).raft.log.conf(), id))
          advanceWf(wf, `proposed to leader ${l}`);
      } else if (step === 1) {
        if (l && remove() === 'done') advanceWf(wf, `committed at ${sim.node(l).raft.log.commit}`);
      } else if (step === 2) {
        const n = sim.nodes.get(id);
        const p = procs.get(id)!;
        if (n?.alive) {
          // It exits on its own once it applies its removal; one that cannot learn of it is stopped.
          if (sim.now - (wf.startedAt - epoch) > 3000) sim.crash(id);
          else return false;
        }
        const was = p.state;
        p.removed = true;
        p.state = 'exited';
        p.pid = null;
        p.exitCode = 0;
        advanceWf(
          wf,
          was === 'running' || was === 'paused' ? 'exit code 0' : `was not running (${was})`,
        );
      } else if (step === 3) {
        advanceWf(wf, `${dataDir}/node-${id} removed`);
        return true;
      }
      return false;
    };
  };

  // ------------------------------------------------------------------ scenarios

  const waitLeader = async (timeoutMs = 10_000): Promise<NodeId> => {
    const until = sim.now + timeoutMs * pace.pace;
    for (;;) {
      const l = sim.leader();
      if (l) return l;
      if (sim.now >= until) throw new Error('no leader elected in time');
      await waitVirtual(50);
    }
  };

  const scenarioPlans = (): Record<string, { text: string; run: () => Promise<string> }[]> => ({
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
        run: async () => {
          const l = await waitLeader();
          return `node ${l} leads term ${sim.node(l).raft.term}`;
        },
      },
      {
        text: 'Restart the old leader; it rejoins as a follower',
        run: async () => {
          const down = [...procs.entries()].find(([, p]) => p.state === 'crashed');
          if (down) await api.restartNode(down[0]);
          await waitVirtual(1500);
          return down ? `node ${down[0]} is ${sim.node(down[0]).raft.role}` : 'nothing to restart';
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
          const members = sim.node(l).raft.log.conf().voters;
          const f = members.find((v) => v !== l)!;
          await api.partition([members.filter((v) => v !== f), [f]]);
          return `node ${f} alone`;
        },
      },
      {
        text: 'The majority keeps committing',
        run: async () => {
          const l = await waitLeader();
          const c = sim.node(l).raft.log.commit;
          await api.kvPut('scenario', 'majority');
          return `commit ${c} → ${sim.node(sim.leader() || l).raft.log.commit}`;
        },
      },
      {
        text: 'Heal; the follower catches up',
        run: async () => {
          await api.healNetwork();
          await waitVirtual(1200);
          return 'network healed';
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
          const old = procs.size ? ([...procs.entries()].find(([, p]) => p.isolated)?.[0] ?? 0) : 0;
          await waitVirtual(ELECTION_TICKS * TICK_MS * pace.pace * 2);
          const l = await waitLeader();
          return `new leader node ${l}${old && sim.node(old).raft.role !== 'leader' ? `, node ${old} stepped down` : ''}`;
        },
      },
      {
        text: 'Heal; terms stay stable thanks to PreVote',
        run: async () => {
          await api.healNetwork();
          await waitVirtual(800);
          const l = await waitLeader();
          return `term ${sim.node(l).raft.term}`;
        },
      },
    ],
    'split-vote': [
      {
        text: 'A healthy cluster with one leader',
        run: async () => `leader is node ${await waitLeader()}`,
      },
      {
        text: 'Align the followers’ election timers',
        run: async () => (await api.labControl({ kind: 'timers', how: 'align' })).summary,
      },
      {
        text: 'Cut the leader off: the followers time out together',
        run: async () => {
          const l = await waitLeader();
          await api.isolateNode(l);
          await waitVirtual(ELECTION_TICKS * TICK_MS * pace.pace * 3);
          return `node ${l} isolated`;
        },
      },
      {
        text: 'Heal; one leader in the end',
        run: async () => {
          await api.healNetwork();
          const l = await waitLeader();
          return `node ${l} leads term ${sim.node(l).raft.term}`;
        },
      },
    ],
  });

  const runScenarioSteps = async (name: string): Promise<void> => {
    const plan = scenarioPlans()[name]!;
    const run: ScenarioRun = {
      name,
      state: 'running',
      startedAt: clock(),
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
          await waitVirtual(600 * pace.pace);
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
      push();
    }
  };

  const runningControl = (): ScenarioControl => {
    if (!control) throw new Error('no scenario is running');
    return control;
  };

  // ------------------------------------------------------------------ the actions themselves

  const doKill = (id: NodeId, unsynced: 'kept' | 'lost' = 'kept'): void => {
    const p = mustNode(id);
    if (!up(p)) throw new Error(`node ${id} is not running`);
    endProcess(id, 'crashed', 'SIGKILL', null, unsynced);
    emit(
      'process',
      id,
      `node ${id} killed (SIGKILL${unsynced === 'lost' ? ', unsynced writes lost' : ''})`,
      { signal: 'SIGKILL' },
    );
    emit('fault', id, `fault: kill node ${id}`);
  };
  const doRestart = (id: NodeId): void => {
    const p = mustNode(id);
    if (up(p)) endProcess(id, 'stopped', null, 0);
    startProcess(id, 'restarted');
  };
  const doPartition = (groups: NodeId[][]): void => {
    for (const g of groups) for (const id of g) mustNode(id);
    const listed = new Set(groups.flat());
    const rest = [...procs.keys()].filter((id) => !listed.has(id) && !procs.get(id)!.removed);
    partitions = rest.length ? [...groups.map((g) => [...g]), rest] : groups.map((g) => [...g]);
    applyCuts();
    emit(
      'fault',
      null,
      `fault: partition ${partitions.map((g) => `{${g.join(',')}}`).join(' | ')}`,
      { groups: partitions },
    );
  };
  const doIsolate = (id: NodeId): void => {
    mustNode(id).isolated = true;
    applyCuts();
    emit('fault', id, `fault: isolate node ${id}`);
  };
  const doHeal = (): void => {
    partitions = null;
    for (const p of procs.values()) {
      p.isolated = false;
      p.rules = [];
    }
    applyCuts();
    emit('fault', null, 'fault cleared: network healed');
  };

  const kvOp = (op: Pending['op']): Promise<KvOutcome> =>
    new Promise((resolve) => {
      const id = ++opId;
      const invoke = clock();
      submit('console', op, (out, result) => {
        const h: HistoryOp = {
          id,
          client: 'console',
          op: op.op,
          key: op.key,
          invoke,
          outcome: result === null ? 'unknown' : 'ok',
        };
        if (op.op === 'put' || op.op === 'cas') h.value = op.value;
        if (op.op === 'cas') h.expected = op.expected;
        if (result !== null) {
          h.complete = clock();
          h.output =
            op.op === 'get' ? { value: out.value } : op.op === 'cas' ? { casOk: out.ok } : {};
        }
        recordOp(h);
        emit(
          'client',
          out.servedBy,
          `${op.op} ${JSON.stringify(op.key)}: ${out.ok ? 'ok' : out.error} (node ${out.servedBy ?? '?'}, ${out.ms} ms)`,
        );
        resolve(out);
      });
    });

  const labAct = (action: LabAction): string => {
    switch (action.kind) {
      case 'play':
        if (failure)
          throw new Error(
            `the run stopped at step ${failure.step}: ${failure.invariant} was broken`,
          );
        playing = true;
        lastReal = host.now();
        return `playing at ${speed}×`;
      case 'pause':
        playing = false;
        return `paused at step ${sim.steps} (t=${sim.now.toFixed(1)} ms)`;
      case 'speed':
        if (!(action.speed >= LAB_MIN_SPEED && action.speed <= LAB_MAX_SPEED))
          throw new Error(`speed ${action.speed} is outside ${LAB_MIN_SPEED}..${LAB_MAX_SPEED}`);
        speed = action.speed;
        return `speed ${speed}×`;
      case 'step': {
        playing = false;
        if (failure)
          throw new Error(
            `the run stopped at step ${failure.step}: ${failure.invariant} was broken`,
          );
        const before = [...sim.nodes.values()].map(snapshotOf).join(' ');
        const end = sim.now + 60_000;
        const ran: LabStep[] = [];
        /** sentBefore: messages put on the network before this step (see 'message' below). */
        const sentBefore = sim.messagesSent;
        let held = false;
        for (;;) {
          if (sim.nextAt() > end) break;
          const s = sim.next();
          if (!s) break;
          ran.push(s);
          const stop = afterStep();
          if (stop) break;
          if (action.until === 'message' && s.kind === 'message') break;
          // A message sent during this step stops it before it is delivered: every message is in
          // flight (listed, drawn, droppable) for at least one step.
          const next = action.until === 'message' ? sim.nextDelivery() : undefined;
          if (next && next.id > sentBefore) {
            held = true;
            break;
          }
          if (action.until === 'tick' && s.kind === 'tick' && s.ticked) break;
          if (
            action.until === 'event' &&
            [...sim.nodes.values()].map(snapshotOf).join(' ') !== before
          )
            break;
        }
        resolveWaiters();
        const last = ran.at(-1);
        const what = last ? describeStep(last) : 'nothing left to run';
        const sent = sim.messagesSent - sentBefore;
        const tail = held ? `; ${sent} message${sent === 1 ? '' : 's'} now on the network` : '';
        return (ran.length > 1 ? `ran ${ran.length} steps; the last ${what}` : what) + tail;
      }
      case 'drop': {
        const m = sim.inFlight().find((x) => x.id === action.id);
        if (!m || !sim.dropMessage(action.id))
          throw new Error(`message #${action.id} is not in flight`);
        counts(m.from, m.to, m.header.type).faultDropped++;
        return `dropped ${m.header.type} ${m.from}→${m.to} (term ${m.header.term})`;
      }
      case 'duplicate': {
        const m = sim.inFlight().find((x) => x.id === action.id);
        const copy = m ? sim.duplicateMessage(action.id) : undefined;
        if (!m || copy === undefined) throw new Error(`message #${action.id} is not in flight`);
        return `duplicated ${m.header.type} ${m.from}→${m.to} (term ${m.header.term}) as #${copy}`;
      }
      case 'delay': {
        if (!(action.ms >= 0 && action.ms <= LAB_MAX_DELAY_MS))
          throw new Error(`a delay of ${action.ms} ms is outside 0..${LAB_MAX_DELAY_MS}`);
        const m = sim.inFlight().find((x) => x.id === action.id);
        if (!m || !sim.delayMessage(action.id, action.ms))
          throw new Error(`message #${action.id} is not in flight`);
        return `delayed ${m.header.type} ${m.from}→${m.to} (term ${m.header.term}) by ${action.ms} ms`;
      }
      case 'crash':
        doKill(action.node, action.unsynced);
        return `crashed node ${action.node} (unsynced writes ${action.unsynced})`;
      case 'timers': {
        const moved = action.how === 'align' ? sim.alignTimers() : sim.spreadTimers();
        emit(
          'fault',
          null,
          `lab: ${action.how} the election timers of nodes ${moved.join(', ') || 'none'}`,
        );
        return moved.length
          ? `${action.how === 'align' ? 'aligned' : 'spread'} the election timers of nodes ${moved.join(', ')}`
          : 'no follower to set';
      }
    }
  };

  // ------------------------------------------------------------------ the API

  /** input: a call that changes the run: caught up to the present, recorded, applied, pushed. */
  const input = <T>(call: string, args: unknown[], fn: () => T): T => {
    if (disposed) throw new Error('the lab cluster is closed');
    if (!replaying && playing && !failure) {
      const real = host.now();
      advanceTo(sim.now + Math.min(LAB_MAX_FRAME_VIRTUAL_MS, (real - lastReal) * speed));
      lastReal = real;
    }
    actions.push({
      step: sim.steps,
      at: sim.now,
      call,
      args: JSON.parse(JSON.stringify(args)) as unknown[],
    });
    changed();
    try {
      return fn();
    } finally {
      if (!replaying) push();
    }
  };

  const api: LabDashboard = {
    async getView() {
      return buildView();
    },
    async getEvents(sinceSeq) {
      return events.filter((e) => e.seq > sinceSeq);
    },
    async killNode(id) {
      input('killNode', [id], () => doKill(id));
    },
    async stopNode(id) {
      input('stopNode', [id], () => {
        const p = mustNode(id);
        if (!up(p)) throw new Error(`node ${id} is not running`);
        endProcess(id, 'stopped', null, 0);
        emit('process', id, `node ${id} stopped (exit 0)`, { exitCode: 0 });
      });
    },
    async restartNode(id) {
      input('restartNode', [id], () => doRestart(id));
    },
    async pauseNode(id) {
      input('pauseNode', [id], () => {
        const p = mustNode(id);
        if (p.state !== 'running') throw new Error(`node ${id} is not running`);
        sim.pauseNode(id);
        p.state = 'paused';
        emit('fault', id, `fault: pause node ${id} (SIGSTOP)`);
      });
    },
    async resumeNode(id) {
      input('resumeNode', [id], () => {
        const p = mustNode(id);
        if (p.state !== 'paused') throw new Error(`node ${id} is not paused`);
        sim.resumeNode(id);
        p.state = 'running';
        emit('fault', id, `fault cleared: resume node ${id} (SIGCONT)`);
      });
    },
    async setAutoRestart(id, on) {
      input('setAutoRestart', [id, on], () => {
        mustNode(id).autoRestart = on;
      });
    },
    async isolateNode(id) {
      input('isolateNode', [id], () => doIsolate(id));
    },
    async partition(groups) {
      input('partition', [groups], () => doPartition(groups));
    },
    async healNetwork() {
      input('healNetwork', [], () => doHeal());
    },
    async setLinkRules(id, rules) {
      input('setLinkRules', [id, rules], () => {
        mustNode(id).rules = rules.map((r) => ({ ...r }));
        emit(
          'fault',
          id,
          rules.length
            ? `fault: ${rules.length} link rule(s) on node ${id}`
            : `fault cleared: link rules on node ${id}`,
          { rules },
        );
      });
    },
    async setSlowDisk(id, fsyncDelayMs) {
      input('setSlowDisk', [id, fsyncDelayMs], () => {
        mustNode(id).fsyncDelayMs = fsyncDelayMs;
        sim.slowDisk(id, fsyncDelayMs);
        emit(
          'fault',
          id,
          fsyncDelayMs
            ? `fault: slow disk on node ${id} (+${fsyncDelayMs} ms per fsync)`
            : `fault cleared: disk on node ${id}`,
          { fsyncDelayMs },
        );
      });
    },
    async clearAllFaults() {
      return input('clearAllFaults', [], () => {
        const did: string[] = [];
        if (partitions) did.push('healed the partition');
        partitions = null;
        for (const [id, p] of procs) {
          if (p.removed) continue;
          if (p.isolated) did.push(`reconnected node ${id}`);
          if (p.rules.length) did.push(`cleared the link rules of node ${id}`);
          if (p.fsyncDelayMs) did.push(`restored the disk of node ${id}`);
          p.isolated = false;
          p.rules = [];
          p.fsyncDelayMs = 0;
          if (p.state === 'paused') {
            sim.resumeNode(id);
            p.state = 'running';
            did.push(`resumed node ${id}`);
          }
          if (!up(p)) {
            startProcess(id, 'started again');
            did.push(`started node ${id} again`);
          }
        }
        sim.calmDisks();
        applyCuts();
        const summary = describeCleared(did, []);
        emit('fault', null, `cleared all faults: ${summary}`);
        return { summary };
      });
    },
    async addNode() {
      return input('addNode', [], () => {
        if (membershipBusy()) throw new Error('another membership change is in progress');
        if (!sim.leader()) throw new Error('no leader: cannot change membership now');
        const id = Math.max(...procs.keys()) + 1;
        const wf = startWorkflow('add-node', id, [
          'spawn process',
          'add as learner',
          'catch up',
          'promote to voter',
          'config committed',
        ]);
        const job = joinSteps(wf, id, 0, true);
        workflowJobs.set(wf.id, () => void job());
        return { workflowId: wf.id };
      });
    },
    async removeNode(id) {
      return input('removeNode', [id], () => {
        mustNode(id);
        if (membershipBusy()) throw new Error('another membership change is in progress');
        const l = sim.leader();
        if (!l) throw new Error('no leader: cannot change membership now');
        const voters = sim.node(l).raft.log.conf().voters;
        if (voters.length <= 1 && voters.includes(id))
          throw new Error('cannot remove the last voter');
        const wf = startWorkflow('remove-node', id, [
          'propose config without node',
          'config committed',
          'node exits',
          'data cleaned up',
        ]);
        const job = leaveSteps(wf, id, 0, true);
        workflowJobs.set(wf.id, () => void job());
        return { workflowId: wf.id };
      });
    },
    async replaceNode(id) {
      return input('replaceNode', [id], () => {
        mustNode(id);
        if (membershipBusy()) throw new Error('another membership change is in progress');
        const l = sim.leader();
        if (!l) throw new Error('no leader: cannot change membership now');
        const conf = sim.node(l).raft.log.conf();
        const wasVoter = conf.voters.includes(id);
        const rest = conf.voters.filter((v) => v !== id);
        const live = rest.filter((v) => sim.nodes.get(v)?.alive).length;
        const fresh = Math.max(id, ...procs.keys()) + 1;
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
        if (wasVoter && live < Math.floor(rest.length / 2) + 1) {
          finish(
            wf,
            `removing node ${id} would lose quorum: only ${live} of the ${rest.length} remaining voters are running`,
          );
          return { workflowId: wf.id };
        }
        advanceWf(wf, wasVoter ? 'a majority of the remaining voters is running' : 'a learner');
        const leave = leaveSteps(wf, id, 1, false);
        const join = joinSteps(wf, fresh, 4, wasVoter);
        let left = false;
        workflowJobs.set(wf.id, () => {
          if (!left) left = leave();
          else join();
        });
        return { workflowId: wf.id };
      });
    },
    async transferLeader(id) {
      return input('transferLeader', [id], () => {
        mustNode(id);
        const l = sim.leader();
        if (!l) throw new Error('no leader to transfer from');
        if (l === id) throw new Error(`node ${id} is already the leader`);
        if (!sim.node(l).raft.log.conf().voters.includes(id))
          throw new Error(`node ${id} is not a voter`);
        const wf = startWorkflow('transfer-leader', id, [
          'catch up target',
          'send TimeoutNow',
          'target elected',
        ]);
        let asked = false;
        workflowJobs.set(wf.id, () => {
          const step = activeIndex(wf);
          const cur = sim.leader();
          if (!sim.nodes.get(id)?.alive) return finish(wf, `node ${id} is down`);
          if (step === 0 && cur) {
            const behind = sim.node(cur).raft.log.lastIndex() - sim.node(id).raft.log.lastIndex();
            if (behind <= 0) advanceWf(wf, `match ${sim.node(id).raft.log.lastIndex()}`);
            else wf.steps[0]!.detail = `${behind} entries behind`;
          } else if (step === 1 && cur && !asked) {
            const r = sim.transfer(cur, id);
            asked = true;
            if (!r.ok) return finish(wf, `leader ${cur} refused: ${r.error}`);
            emit('leader', cur, `node ${cur} hands leadership to node ${id} (TimeoutNow)`);
            advanceWf(wf, `from node ${cur}`);
          } else if (step === 2) {
            if (cur === id) advanceWf(wf, `node ${id} leads term ${sim.node(id).raft.term}`);
            else if (clock() - wf.startedAt > 5000) finish(wf, 'target did not win the election');
          }
        });
        return { workflowId: wf.id };
      });
    },
    kvPut(key, value) {
      return input('kvPut', [key, value], () => kvOp({ op: 'put', key, value }));
    },
    kvGet(key) {
      return input('kvGet', [key], () => kvOp({ op: 'get', key }));
    },
    kvDel(key) {
      return input('kvDel', [key], () => kvOp({ op: 'del', key }));
    },
    kvCas(key, expected, value) {
      return input('kvCas', [key, expected, value], () =>
        kvOp({ op: 'cas', key, expected, value }),
      );
    },
    async startWorkload(opts: WorkloadOptions) {
      input('startWorkload', [opts], () => {
        if (workload?.running) throw new Error('a workload is already running; stop it first');
        workload = {
          running: true,
          options: { ...opts },
          startedAt: clock(),
          stoppedAt: null,
          totals: { ok: 0, failed: 0, unknown: 0, reads: 0, writes: 0 },
          samples: [],
        };
        history.length = 0;
        checker = { ...IDLE_CHECKER };
        workloadRun++;
        nextSampleAt = sim.now + SAMPLE_EVERY_MS;
        const run = workloadRun;
        for (let c = 1; c <= opts.clients; c++) startClient(`c${c}`, run);
        emit(
          'workload',
          null,
          `workload started: ${opts.clients} clients, ${opts.rate ? `${opts.rate} ops/s` : 'closed loop'}, ${opts.keys} keys`,
          { ...opts },
        );
      });
    },
    async stopWorkload() {
      input('stopWorkload', [], () => stopWorkloadNow());
    },
    async checkHistory() {
      return input('checkHistory', [], () => {
        if (history.length === 0) throw new Error('no history to check: run the workload first');
        const ops = history.map((h) => ({ ...h }));
        const r = check(ops, { timeoutMs: 30_000 });
        checker = checkerView(ops.length, r);
        emit(
          'checker',
          null,
          `history of ${ops.length} operations on ${checker.keys} keys: ${r.result}`,
        );
        return { ...checker };
      });
    },
    async exportHistory() {
      return { json: historyToJson(history) };
    },
    async exportEvents() {
      return { json: JSON.stringify({ clusterId, lab: source, events }, null, 2) };
    },
    async listScenarios() {
      return SCENARIOS.map((s) => ({ ...s }));
    },
    async runScenario(name) {
      input('runScenario', [name], () => {
        if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`no scenario named ${name}`);
        if (scenario?.state === 'running') throw new Error(`scenario ${scenario.name} is running`);
        void runScenarioSteps(name).catch(() => undefined);
      });
    },
    async pauseScenario() {
      input('pauseScenario', [], () => runningControl().pause());
    },
    async resumeScenario() {
      input('resumeScenario', [], () => runningControl().resume());
    },
    async stepScenario() {
      input('stepScenario', [], () => runningControl().step());
    },
    async setPace(p, fastFailover) {
      input('setPace', [p, fastFailover], () => {
        checkPace(p);
        const before = pace;
        pace = { pace: p, fastFailover };
        sim.tickScale = p;
        sim.fastFailover = fastFailover;
        if (before.pace !== p || before.fastFailover !== fastFailover)
          emit('process', null, describePace(pace));
      });
    },
    async linkDetail(from, to): Promise<LinkDetail> {
      if (from === to) throw new Error(`a link joins two nodes, not node ${from} to itself`);
      const sender = mustNode(from);
      mustNode(to);
      const link = buildView().links.find((l) => l.from === from && l.to === to);
      if (!link) throw new Error(`no link ${from} → ${to}: both must be members`);
      if (!up(sender))
        throw new Error(
          `node ${from} is ${sender.state}: its messages to node ${to} are not reachable`,
        );
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
    async nodeLogs(id, lines) {
      const p = procs.get(id);
      if (!p) throw new Error(`no node ${id} in the lab cluster`);
      return p.logs.slice(-lines).map((l) => ({ ...l }));
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
    async logEntries(query: LogQuery) {
      const members = [...procs.entries()]
        .filter(([, p]) => !p.removed)
        .sort((a, b) => a[0] - b[0]);
      const leaderId = sim.leader();
      const ask = (id: NodeId, q: ReadQuery): NodeAnswer => {
        const n = sim.nodes.get(id);
        return n?.alive
          ? { id, read: readLog(n, q), error: null }
          : { id, read: null, error: `node ${id} is ${procs.get(id)!.state}` };
      };
      const first = members.map(([id]) => ask(id, query));
      if (query.key === undefined) return mergeLog(query, leaderId, first);
      const inspected = mergeLog(query, leaderId, first);
      const indexes = inspected.rows.map((r) => r.index);
      if (indexes.length === 0) return inspected;
      const answers = members.map(([id], i) =>
        id === inspected.reference ? first[i]! : ask(id, { indexes }),
      );
      return mergeLog(query, leaderId, answers, inspected.reference);
    },
    async labControl(action: LabAction) {
      return input('labControl', [action], () => {
        const summary = labAct(action);
        lastStep = summary;
        return { summary };
      });
    },
    async exportLabSchedule() {
      if (from) {
        throw new CallRefused(
          `this lab opened ${from.source}: its run is the simulator's, replayed by its seed (npm run sim -- --seed ${seed}), not by a lab schedule`,
        );
      }
      const s: LabSchedule = {
        format: LAB_SCHEDULE_FORMAT,
        version: LAB_SCHEDULE_VERSION,
        seed,
        nodes: count,
        options: { mutation },
        actions: actions.map((a) => ({ ...a })),
        steps: sim.steps,
        now: sim.now,
      };
      return { json: JSON.stringify(s, null, 2) };
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
    dispose() {
      disposed = true;
      stopFrames();
      stopWorkloadNow();
      void recording.close();
      viewSubs.clear();
      eventSubs.clear();
      messageSubs.clear();
    },
  };

  /**
   * SCENARIO_CALLS: calls a replay does not repeat: a scenario's own actions go through the API
   * and are in the schedule as calls of their own.
   */
  const SCENARIO_CALLS = new Set([
    'runScenario',
    'pauseScenario',
    'resumeScenario',
    'stepScenario',
  ]);

  // ------------------------------------------------------------------ replay, then the frames

  emit('process', null, `lab cluster started: ${count} nodes, ${source}`);
  glance = new Map([...sim.nodes.values()].map((n) => [n.id, snapshotOf(n)]));
  if (schedule) {
    replaying = true;
    try {
      for (const [i, a] of schedule.actions.entries()) {
        runToStep(a.step, a.at, i + 1);
        if (SCENARIO_CALLS.has(a.call)) {
          actions.push({ ...a });
          continue;
        }
        const fn = (api as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
          a.call
        ];
        if (typeof fn !== 'function')
          throw new Error(`schedule action ${i + 1}: no call named ${a.call}`);
        void fn(...a.args).catch(() => undefined);
      }
      runToStep(schedule.steps, schedule.now, schedule.actions.length + 1);
    } finally {
      replaying = false;
    }
    // A replay ends paused where the schedule ended (or where an invariant broke), and says what
    // its last action said.
    playing = false;
  }
  if (from) {
    // A simulator run opens paused where it stopped; its failure (if any) is found by the same
    // check as the lab's own, at once.
    playing = false;
    afterStep();
    lastStep = from.failure
      ? `opened at step ${from.steps}, right after ${from.failure.invariant} broke`
      : `opened at step ${from.steps}, the end of the seed's run`;
  }

  /** runToStep runs the agenda to `step` events, then the clock to `at` (a replayed action's moment). */
  function runToStep(step: number, at: number, which: number): void {
    while (sim.steps < step && !failure) {
      if (!sim.next()) break;
      afterStep();
    }
    if (failure) return;
    if (sim.steps !== step || sim.now > at || sim.nextAt() < at)
      throw new Error(
        `schedule action ${which}: the run does not reach step ${step} at ${at} ms (it is at step ${sim.steps}, t=${sim.now} ms): not this seed's run`,
      );
    if (at > sim.now) sim.now = at;
    resolveWaiters();
  }

  const frame = (): void => {
    if (disposed) return;
    const real = host.now();
    const moved = playing && !failure;
    if (moved) advanceTo(sim.now + Math.min(LAB_MAX_FRAME_VIRTUAL_MS, (real - lastReal) * speed));
    lastReal = real;
    if (pendingTraces.length >= MAX_BATCH_TRACES / 2 || real - lastPushReal >= LAB_VIEW_MS / 2)
      flushMessages();
    if ((moved || (failure && !failureShown)) && real - lastPushReal >= LAB_VIEW_MS) {
      failureShown = failure !== null;
      push();
    }
  };
  const stopFrames = host.every(LAB_FRAME_MS, frame);
  push();
  return { lab: api, sim };
}

type ReadQuery = { from: number; count: number; key?: string } | { indexes: number[] };
type LogReadResult = NonNullable<NodeAnswer['read']>;
type EntryInfo = LogReadResult['entries'][number];

/** LOG_SCAN_MAX: a key search looks at most this many entries (as the node's log-entries does). */
const LOG_SCAN_MAX = 65_536;

/** entryInfo: one entry of a lab node's log, decoded for the log inspector. */
function entryInfo(e: Entry): EntryInfo {
  const base = {
    index: e.index,
    term: e.term,
    bytes: e.data.length,
    appendedAt: null,
    committedAt: null,
    appliedAt: null,
  };
  if (e.type !== 'normal') {
    try {
      const ce = decodeConfEntry(e.data);
      const c = ce.change;
      const members = `voters [${ce.conf.voters.join(', ')}]${ce.conf.learners.length ? `, learners [${ce.conf.learners.join(', ')}]` : ''}`;
      const what =
        c.type === 'bootstrap'
          ? 'bootstrap'
          : `${c.type === 'add-learner' ? 'add learner' : c.type} ${c.node}`;
      return {
        ...base,
        kind: 'config',
        config: `${what}: ${members}`,
        summary: `config ${what}: ${members}`,
      };
    } catch (err) {
      return {
        ...base,
        kind: 'unknown',
        summary: 'config entry that does not decode',
        error: (err as Error).message,
      };
    }
  }
  if (e.data.length === 0) return { ...base, kind: 'noop', summary: 'no-op (new leader)' };
  const c = decodeLabCommand(e.data);
  if (!c)
    return {
      ...base,
      kind: 'unknown',
      summary: `${e.data.length} bytes`,
      error: 'not a key-value command',
    };
  const k = c.cmd;
  const common = { ...base, kind: k.op, key: k.key, client: c.client, seq: c.seq };
  if (k.op === 'del') return { ...common, summary: `del ${JSON.stringify(k.key)}` };
  if (k.op === 'put')
    return {
      ...common,
      value: k.value,
      valueBytes: new TextEncoder().encode(k.value).length,
      summary: `put ${JSON.stringify(k.key)} = ${JSON.stringify(k.value)}`,
    };
  return {
    ...common,
    value: k.value,
    valueBytes: new TextEncoder().encode(k.value).length,
    expected: k.expected,
    summary: `cas ${JSON.stringify(k.key)} ${JSON.stringify(k.expected)} → ${JSON.stringify(k.value)}`,
  };
}

/** readLog answers a log query from a lab node's log, as a real node answers `log-entries`. */
function readLog(n: SimNode, q: ReadQuery): LogReadResult {
  const log = n.raft.log;
  const firstIndex = log.prevIndex + 1;
  const lastIndex = log.lastIndex();
  const entries: EntryInfo[] = [];
  let scannedTo: number;
  if ('indexes' in q) {
    for (const i of q.indexes) {
      const e = i >= firstIndex && i <= lastIndex ? log.entry(i) : undefined;
      if (e) entries.push(entryInfo(e));
    }
    scannedTo = Math.max(0, ...q.indexes);
  } else if (q.key === undefined) {
    const from = Math.max(q.from, firstIndex);
    const to = Math.min(q.from + q.count - 1, lastIndex);
    for (let i = from; i <= to; i++) entries.push(entryInfo(log.entry(i)!));
    scannedTo = q.from + q.count - 1;
  } else {
    let i = Math.max(q.from, firstIndex);
    let looked = 0;
    for (; i <= lastIndex && entries.length < q.count && looked < LOG_SCAN_MAX; i++, looked++) {
      const e = entryInfo(log.entry(i)!);
      if (e.key === q.key) entries.push(e);
    }
    scannedTo = i - 1;
  }
  return {
    firstIndex,
    lastIndex,
    snapshotIndex: n.raft.snapshot?.meta.index ?? log.prevIndex,
    commit: log.commit,
    applied: n.sm.index,
    term: n.raft.term,
    entries,
    scannedTo,
    stop: null,
  };
}

/**
 * replaySchedule runs a schedule in the lab, with no host (pure: for the simulator), and returns
 * the invariants it broke and the steps it ran.
 */
export function replaySchedule(schedule: LabSchedule): { violations: string[]; steps: number } {
  const still: LabHost = { now: () => 0, every: () => () => undefined };
  const { lab, sim } = openLab({ schedule, host: still });
  lab.dispose();
  return { violations: [...sim.violations], steps: sim.steps };
}
