// Builders for view tests: nodes and their Raft state with sensible defaults (a healthy member of
// a 3-node cluster led by node 1 in term 2), overridden per test.
import type { FollowerStatus, NodeView, RaftView, Role } from '../../main/contract/view';

export function raft(overrides: Partial<RaftView> = {}): RaftView {
  return {
    role: 'follower',
    term: 2,
    vote: 1,
    leader: 1,
    commit: 100,
    applied: 100,
    firstIndex: 1,
    lastIndex: 100,
    persistedIndex: 100,
    snapshotIndex: 0,
    snapshotTerm: 0,
    voters: [1, 2, 3],
    learners: [],
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
    termRuns: [{ start: 1, term: 2 }],
    ...overrides,
  };
}

export function follower(id: number, overrides: Partial<FollowerStatus> = {}): FollowerStatus {
  return {
    id,
    learner: false,
    match: 100,
    next: 101,
    state: 'replicate',
    inflight: 0,
    active: true,
    lag: 0,
    snapshot: undefined,
    ...overrides,
  };
}

export function node(id: number, role: Role | null, overrides: Partial<NodeView> = {}): NodeView {
  return {
    id,
    process: {
      state: 'running',
      pid: 1000 + id,
      exitCode: null,
      signal: null,
      restarts: 0,
      startedAt: 0,
      autoRestart: false,
      lastLines: [],
      commandLine: ['node', 'out/main/node.js', `--id=${id}`],
    },
    addresses: { peer: `127.0.0.1:${7000 + id}`, client: '', admin: '' },
    dataDir: `/data/node-${id}`,
    startRefused: null,
    membership: 'voter',
    role,
    health: 'healthy',
    raft: role ? raft({ role, leader: 1 }) : null,
    statusAgeMs: 10,
    statusStale: false,
    lagBehindLeader: 0,
    divergence: [],
    probing: false,
    storage: null,
    kv: null,
    faults: { isolated: false, rules: [], custom: [], fsyncDelayMs: 0 },
    transport: null,
    timer: role
      ? {
          kind: role === 'leader' ? 'heartbeat' : 'election',
          elapsedMs: 0,
          timeoutMs: role === 'leader' ? 100 : 1500,
          fraction: 0,
          at: 0,
        }
      : null,
    ...overrides,
  };
}
