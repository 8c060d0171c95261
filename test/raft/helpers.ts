import { encodeConfEntry } from '../../main/raft/conf';
import type { RaftLog } from '../../main/raft/log';
import { Raft } from '../../main/raft/raft';
import type { HandlerTable } from '../../main/raft/raft';
import { RawNode } from '../../main/raft/raw-node';
import { seededRng } from '../../main/raft/rng';
import type {
  Entry,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  RaftEvent,
  ReadState,
  Ready,
  Role,
} from '../../main/raft/types';
import type { SimCluster } from '../../main/lab/lab-cluster';

const enc = new TextEncoder();

export function data(s: string): Uint8Array {
  return enc.encode(s);
}

/** bootstrapEntry is the conf entry every initial member has at index 1, term 1. */
export function bootstrapEntry(voters: NodeId[]): Entry {
  const addresses: Record<string, string> = {};
  for (const v of voters) addresses[String(v)] = `sim:${v}`;
  return {
    index: 1,
    term: 1,
    type: 'conf',
    data: encodeConfEntry({
      change: { type: 'bootstrap' },
      conf: { voters, learners: [], addresses },
    }),
  };
}

/** logWithTerms builds [bootstrap, then one entry per term given] starting at index 2. */
export function logWithTerms(voters: NodeId[], terms: number[]): Entry[] {
  return [
    bootstrapEntry(voters),
    ...terms.map((t, i) => ({
      index: i + 2,
      term: t,
      type: 'normal' as const,
      data: data(`e${i + 2}@${t}`),
    })),
  ];
}

/** rawNode builds a node from persisted state, with etcd-like test defaults. */
export function rawNode(
  id: NodeId,
  voters: NodeId[],
  opts: Partial<RaftConfig> & {
    terms?: number[];
    term?: number;
    vote?: NodeId;
    commit?: number;
  } = {},
): RawNode {
  const entries = logWithTerms(voters, opts.terms ?? []);
  const term = opts.term ?? Math.max(1, ...(opts.terms ?? []));
  return new RawNode({
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    rng: seededRng(id),
    ...opts,
    state: { hardState: { term, vote: opts.vote ?? 0, commit: opts.commit ?? 1 }, entries },
  });
}

/** drain runs the Ready cycle once (persist is implicit) and returns the messages to send. */
export function drain(r: RawNode): Message[] {
  const out: Message[] = [];
  while (r.hasReady()) {
    const rd: Ready = r.ready();
    out.push(...rd.messages);
    r.advance();
  }
  return out;
}

/** MessageOf picks the union members whose type field admits T. */
type MessageOf<T, M = Message> = M extends { type: infer X } ? (T extends X ? M : never) : never;

export function ofType<T extends Message['type']>(ms: Message[], t: T): MessageOf<T>[] {
  return ms.filter((m) => m.type === t) as MessageOf<T>[];
}

/** ackApp has follower `from` acknowledge the leader's log through `index` (a successful app-resp). */
export function ackApp(r: RawNode, from: NodeId, index: number, term = r.term): void {
  r.step({
    type: 'app-resp',
    from,
    to: r.id,
    term,
    index,
    reject: false,
    hintIndex: 0,
    hintTerm: 0,
  });
}

/** drainEvents runs the Ready cycle until nothing is left and returns the events reported. */
export function drainEvents(r: RawNode): RaftEvent[] {
  const out: RaftEvent[] = [];
  while (r.hasReady()) {
    out.push(...r.ready().events);
    r.advance();
  }
  return out;
}

/** drainReadStates runs the Ready cycle until nothing is left and returns the ReadStates given. */
export function drainReadStates(r: RawNode): ReadState[] {
  const out: ReadState[] = [];
  while (r.hasReady()) {
    out.push(...r.ready().readStates);
    r.advance();
  }
  return out;
}

/** elect runs the cluster until it has a leader (at most `limit` rounds), then 3 rounds more; 0: none. */
export function elect(c: SimCluster, limit = 500): number {
  for (let i = 0; i < limit && !c.leader(); i++) c.rounds(1);
  c.rounds(3);
  return c.leader();
}

/**
 * Internals are the parts of the core that only tests reach: forcing a campaign or a step-down,
 * the vote, the refusal count, batch proposals, and the log itself (to corrupt it on purpose).
 * Production code never uses them; hosts see a node only through RawNode.
 */
export interface Internals {
  /** log is the node's own log, writable (the façade hands out a read-only view). */
  readonly log: RaftLog;
  readonly vote: NodeId;
  readonly refused: number;
  campaign(kind: 'pre' | 'election' | 'transfer'): void;
  becomeFollower(term: number, leader: NodeId): void;
  promotable(): boolean;
  proposeMany(datas: Uint8Array[]): ProposeResult;
}

/** internals opens a node's core for a test (see Internals). */
export function internals(n: RawNode): Internals {
  const r = n['raft'];
  return {
    get log() {
      return r['raftLog'];
    },
    get vote() {
      return r.vote;
    },
    get refused() {
      return r['refused'];
    },
    campaign: (kind) => r['campaign'](kind),
    becomeFollower: (term, leader) => r['becomeFollower'](term, leader),
    promotable: () => r['promotable'](),
    proposeMany: (datas) => r['proposeMany'](datas),
  };
}

/** HANDLERS is the core's (role, message type) handler table, for the test that checks it is complete. */
export const HANDLERS: Readonly<Record<Role, HandlerTable>> = Raft['handlers'];
