import { encodeConfEntry } from '../../main/raft/conf';
import { Raft } from '../../main/raft/raft';
import { seededRng } from '../../main/raft/rng';
import type { Entry, Message, NodeId, RaftConfig, Ready } from '../../main/raft/types';

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

/** rawNode builds a Raft from persisted state, with etcd-like test defaults. */
export function rawNode(
  id: NodeId,
  voters: NodeId[],
  opts: Partial<RaftConfig> & {
    terms?: number[];
    term?: number;
    vote?: NodeId;
    commit?: number;
  } = {},
): Raft {
  const entries = logWithTerms(voters, opts.terms ?? []);
  const term = opts.term ?? Math.max(1, ...(opts.terms ?? []));
  return new Raft({
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    rng: seededRng(id),
    ...opts,
    state: { hardState: { term, vote: opts.vote ?? 0, commit: opts.commit ?? 1 }, entries },
  });
}

/** drain runs the Ready cycle once (persist is implicit) and returns the messages to send. */
export function drain(r: Raft): Message[] {
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

/** ackApp has follower `from` acknowledge the leader's log through `index` (a successful appResp). */
export function ackApp(r: Raft, from: NodeId, index: number, term = r.term): void {
  r.step({
    type: 'appResp',
    from,
    to: r.id,
    term,
    index,
    reject: false,
    hintIndex: 0,
    hintTerm: 0,
  });
}
