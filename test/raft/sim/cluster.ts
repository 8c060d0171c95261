import { decodeConfEntry, isMember } from '../../../main/raft/conf';
import { Raft } from '../../../main/raft/raft';
import { seededRng } from '../../../main/raft/rng';
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
  Snapshot,
} from '../../../main/raft/types';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Disk is what a simulated node has made durable: exactly what Ready told it to persist. */
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

export interface SimNode {
  id: NodeId;
  raft: Raft;
  disk: Disk;
  sm: SimStateMachine;
  alive: boolean;
  /** exited: the node applied its own removal and shut down for good. */
  exited: boolean;
  maxCommit: number;
  readStates: ReadState[];
  events: RaftEvent[];
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
  /** delay: [min, max] simulated ms a message spends in flight. */
  delay?: [number, number];
  /** keepEvents: keep every node's Raft events (tests read them). */
  keepEvents?: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
}

/** MinHeap orders in-flight messages by delivery time, then by send order. */
class MinHeap {
  private a: InFlight[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): InFlight | undefined {
    return this.a[0];
  }
  push(x: InFlight): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): InFlight | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.a = [];
  }
}

function less(x: InFlight, y: InFlight): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
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

/**
 * SimCluster runs Raft nodes on a simulated network and clock, entirely deterministically for a
 * seed. It can isolate, cut, partition, drop, duplicate and delay messages, crash a node and
 * restart it from what it persisted, and it checks Raft's safety properties after every step:
 * one leader per term, log matching, leader completeness, state-machine safety, commit
 * monotonicity and never-stale reads. Violations are collected in `violations`.
 */
export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly rng: () => number;
  readonly opts: Required<Omit<SimOptions, 'ids'>>;
  now = 0;
  private seq = 0;
  private readonly queue = new MinHeap();
  private nextTick = new Map<NodeId, number>();

  // faults
  private cutLinks = new Set<string>();
  dropRate = 0;
  dupRate = 0;
  /** dropIf: a custom rule; a message for which it returns true is lost. */
  dropIf: ((m: Message) => boolean) | undefined;

  // checker state
  readonly violations: string[] = [];
  private leaderOfTerm = new Map<number, NodeId>();
  /** committed[i] = term of the entry known committed at i. */
  private committed: number[] = [];
  maxCommitted = 0;
  /** appliedKey[i] = identity of the entry applied at i; appliedHash[i] = state hash after it. */
  private appliedKey: string[] = [];
  private appliedHash: number[] = [];
  private entryAt = new Map<string, string>();
  /** pending proposals by (index/term) -> payload; acked once the proposer applies it. */
  private pendingProps = new Map<string, { node: NodeId; key: string }>();
  readonly acked: { index: number; key: string; at: number }[] = [];
  maxAckedIndex = 0;
  private readsInFlight = new Map<string, { minIndex: number; at: number }>();
  readsServed = 0;
  private readCtx = 0;
  stats = { delivered: 0, dropped: 0, elections: 0, snapshotsInstalled: 0, compactions: 0 };

  constructor(o: SimOptions) {
    this.rng = seededRng(o.seed);
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
      delay: o.delay ?? [0, 0],
      keepEvents: o.keepEvents ?? true,
    };
    const voters = o.ids.map((id) => ({ id, address: `sim:${id}` }));
    for (const id of o.ids) this.startNode(id, voters);
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

  private startNode(id: NodeId, initialVoters?: { id: NodeId; address: string }[]): SimNode {
    const raft = new Raft({ ...this.raftConfig(id), initialVoters });
    const n: SimNode = {
      id,
      raft,
      disk: { hardState: { term: 0, vote: 0, commit: 0 }, entries: [], snapshot: undefined },
      sm: { index: 0, hash: 0 },
      alive: true,
      exited: false,
      maxCommit: 0,
      readStates: [],
      events: [],
    };
    this.nodes.set(id, n);
    this.nextTick.set(id, this.now + Math.floor(this.rng() * this.opts.tickMs));
    this.process(n);
    return n;
  }

  /** addNode starts an empty node that will join as a learner (the leader must add it). */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    return this.startNode(id);
  }

  /** crash stops a node at once; everything not persisted is lost. */
  crash(id: NodeId): void {
    const n = this.node(id);
    n.alive = false;
  }

  /** restart brings a crashed node back from its disk alone. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.alive || n.exited) return;
    const disk = n.disk;
    n.raft = new Raft({
      ...this.raftConfig(id),
      state: {
        hardState: { ...disk.hardState },
        snapshot: disk.snapshot,
        entries: disk.entries.slice(),
      },
    });
    n.sm = disk.snapshot ? decodeSnapshot(disk.snapshot.data) : { index: 0, hash: 0 };
    if (disk.snapshot) this.checkStateAt(n, 'restart');
    n.alive = true;
    if (n.raft.log.commit < n.maxCommit) {
      // Commit is persisted with every Ready here, so it must come back whole.
      this.violate(`node ${id} restarted with commit ${n.raft.log.commit} < ${n.maxCommit}`);
    }
    this.nextTick.set(id, this.now + Math.floor(this.rng() * this.opts.tickMs));
    this.process(n);
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
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

  // ------------------------------------------------------------ driving

  private delayMs(): number {
    const [lo, hi] = this.opts.delay;
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  private send(m: Message): void {
    if (this.cutLinks.has(this.linkKey(m.from, m.to))) {
      this.stats.dropped++;
      return;
    }
    if (this.dropIf?.(m)) {
      this.stats.dropped++;
      return;
    }
    if (this.dropRate > 0 && this.rng() < this.dropRate) {
      this.stats.dropped++;
      return;
    }
    this.queue.push({ at: this.now + this.delayMs(), seq: this.seq++, msg: m });
    if (this.dupRate > 0 && this.rng() < this.dupRate) {
      this.queue.push({ at: this.now + this.delayMs(), seq: this.seq++, msg: m });
    }
  }

  private deliver(m: Message): void {
    const n = this.nodes.get(m.to);
    if (!n || !n.alive) return;
    this.stats.delivered++;
    n.raft.step(m);
    this.process(n);
  }

  /** tick advances one node by one tick. */
  tick(id: NodeId): void {
    const n = this.node(id);
    if (!n.alive) return;
    n.raft.tick();
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

  /** stabilize delivers every message in flight, and those they cause, ignoring time. */
  stabilize(limit = 1_000_000): void {
    for (let i = 0; i < limit; i++) {
      const f = this.queue.pop();
      if (!f) return;
      this.deliver(f.msg);
    }
    throw new Error('stabilize: did not settle');
  }

  /** runFor advances simulated time by ms: nodes tick every tickMs, messages arrive when due. */
  runFor(ms: number, onStep?: () => void): void {
    const end = this.now + ms;
    for (;;) {
      let nextId = 0;
      let nextAt = Infinity;
      for (const [id, at] of this.nextTick) {
        if (at < nextAt) {
          nextAt = at;
          nextId = id;
        }
      }
      const q = this.queue.peek();
      if (q && q.at <= nextAt) {
        if (q.at > end) break;
        this.queue.pop();
        this.now = Math.max(this.now, q.at);
        this.deliver(q.msg);
      } else {
        if (nextAt > end) break;
        this.now = Math.max(this.now, nextAt);
        this.nextTick.set(nextId, nextAt + this.opts.tickMs);
        this.tick(nextId);
      }
      onStep?.();
    }
    this.now = end;
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
        key: `${r.term}/normal/${payload}`,
      });
    this.process(n);
    return r;
  }

  confChange(id: NodeId, cc: ConfChange): ProposeResult {
    const n = this.node(id);
    const r = n.raft.proposeConfChange(cc);
    this.process(n);
    return r;
  }

  transfer(id: NodeId, target: NodeId): ProposeResult {
    const n = this.node(id);
    const r = n.raft.transferLeader(target);
    this.process(n);
    return r;
  }

  /** read issues a ReadIndex at a node; the checker verifies the index it gets is never stale. */
  read(id: NodeId): number {
    const n = this.node(id);
    const ctx = ++this.readCtx;
    const r = n.raft.readIndex(ctx);
    if (r.ok) this.readsInFlight.set(`${id}/${ctx}`, { minIndex: this.maxCommitted, at: this.now });
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

  /** process is the host's Ready loop: persist, then send, then apply, then advance. */
  process(n: SimNode): void {
    const r = n.raft;
    let guard = 0;
    while (n.alive && r.hasReady()) {
      if (++guard > 10000) throw new Error(`node ${n.id}: Ready loop does not settle`);
      const prevCommit = r.log.commit;
      const rd = r.ready();
      // 1. persist
      const disk = n.disk;
      if (rd.hardState) disk.hardState = { ...rd.hardState };
      if (rd.snapshot) {
        disk.snapshot = rd.snapshot;
        disk.entries = disk.entries.filter((e) => e.index > rd.snapshot!.meta.index);
        if (disk.entries.length && disk.entries[0]!.index !== rd.snapshot.meta.index + 1)
          disk.entries = [];
      }
      if (rd.entries.length) {
        const first = rd.entries[0]!.index;
        let k = disk.entries.length;
        while (k > 0 && disk.entries[k - 1]!.index >= first) k--;
        disk.entries.length = k;
        for (const e of rd.entries) {
          this.checkEntryIdentity(n, e);
          disk.entries.push(e);
        }
      }
      // 2. send
      for (const m of rd.messages) this.send(m);
      // 3. apply
      if (rd.snapshot) {
        n.sm = decodeSnapshot(rd.snapshot.data);
        if (n.sm.index !== rd.snapshot.meta.index) {
          this.violate(
            `node ${n.id}: snapshot image index ${n.sm.index} != meta ${rd.snapshot.meta.index}`,
          );
        }
        this.checkStateAt(n, 'snapshot');
        this.stats.snapshotsInstalled++;
      }
      for (const e of rd.committedEntries) this.apply(n, e);
      for (const rs of rd.readStates) this.onReadState(n, rs);
      if (this.opts.keepEvents) n.events.push(...rd.events);
      for (const ev of rd.events) this.onEvent(n, ev);
      r.advance();
      this.afterStep(n, prevCommit);
      if (n.exited) return;
      this.maybeCompact(n);
    }
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.index + 1) {
      this.violate(`node ${n.id} applied ${e.index} after ${n.sm.index}`);
      return;
    }
    const key = entryKey(e);
    const prior = this.appliedKey[e.index];
    if (prior !== undefined && prior !== key) {
      this.violate(
        `state machine safety: index ${e.index} applied as ${prior} and as ${key} (node ${n.id})`,
      );
    }
    n.sm.hash = fnv(n.sm.hash, e.data);
    n.sm.index = e.index;
    if (prior === undefined) {
      this.appliedKey[e.index] = key;
      this.appliedHash[e.index] = n.sm.hash;
    } else if (this.appliedHash[e.index] !== n.sm.hash) {
      this.violate(`node ${n.id} state hash differs at ${e.index}`);
    }
    const p = this.pendingProps.get(`${e.index}/${e.term}`);
    if (p && p.node === n.id) {
      this.pendingProps.delete(`${e.index}/${e.term}`);
      if (p.key !== key) this.violate(`proposal at ${e.index} applied with other data`);
      this.acked.push({ index: e.index, key, at: this.now });
      this.maxAckedIndex = Math.max(this.maxAckedIndex, e.index);
    }
    if (e.type === 'conf') {
      const ce = decodeConfEntry(e.data);
      if (ce.change.type === 'remove' && ce.change.node === n.id) {
        // The host exits once its own removal is committed and applied.
        n.alive = false;
        n.exited = true;
      }
    }
  }

  private checkStateAt(n: SimNode, what: string): void {
    const h = this.appliedHash[n.sm.index];
    if (h !== undefined && h !== n.sm.hash) {
      this.violate(`node ${n.id} ${what} state at ${n.sm.index} differs from what others applied`);
    }
  }

  private maybeCompact(n: SimNode): void {
    const every = this.opts.compactEvery;
    if (every <= 0) return;
    const r = n.raft;
    const snapIndex = r.snapshot?.meta.index ?? 0;
    if (r.log.applied - snapIndex < every) return;
    const data = encodeSnapshot(n.sm, this.opts.snapshotPad);
    const meta = r.compact(r.log.applied, data, this.opts.compactKeep);
    if (!meta) return;
    n.disk.snapshot = { meta, data };
    n.disk.entries = n.disk.entries.filter((e) => e.index > meta.index);
    this.stats.compactions++;
  }

  private onReadState(n: SimNode, rs: ReadState): void {
    n.readStates.push(rs);
    const key = `${n.id}/${rs.ctx}`;
    const inv = this.readsInFlight.get(key);
    if (!inv) return;
    this.readsInFlight.delete(key);
    if (!rs.ok) return;
    this.readsServed++;
    if (rs.index < inv.minIndex) {
      this.violate(
        `stale read at node ${n.id}: read index ${rs.index} < ${inv.minIndex} committed before the read began`,
      );
    }
  }

  private onEvent(n: SimNode, ev: RaftEvent): void {
    if (ev.type === 'role' && ev.role === 'leader') {
      this.stats.elections++;
      const prior = this.leaderOfTerm.get(ev.term);
      if (prior !== undefined && prior !== n.id) {
        this.violate(`election safety: term ${ev.term} has leaders ${prior} and ${n.id}`);
      }
      this.leaderOfTerm.set(ev.term, n.id);
      // Leader completeness: every committed entry is in the new leader's log.
      const log = n.raft.log;
      for (let i = log.prevIndex + 1; i <= this.maxCommitted; i++) {
        const t = this.committed[i];
        if (t !== undefined && log.term(i) !== t) {
          this.violate(
            `leader completeness: leader ${n.id} of term ${ev.term} lacks committed entry ${i}`,
          );
          break;
        }
      }
    }
  }

  private checkEntryIdentity(n: SimNode, e: Entry): void {
    const k = `${e.index}/${e.term}`;
    const key = entryKey(e);
    const prior = this.entryAt.get(k);
    if (prior === undefined) this.entryAt.set(k, key);
    else if (prior !== key)
      this.violate(`log matching: ${k} holds ${prior} and ${key} (node ${n.id})`);
  }

  private afterStep(n: SimNode, prevCommit: number): void {
    const log = n.raft.log;
    if (log.commit < prevCommit || log.commit < n.maxCommit) {
      this.violate(
        `node ${n.id} commit decreased from ${Math.max(prevCommit, n.maxCommit)} to ${log.commit}`,
      );
    }
    for (let i = Math.max(prevCommit, log.prevIndex) + 1; i <= log.commit; i++) {
      const t = log.term(i);
      if (t === undefined) continue;
      const prior = this.committed[i];
      if (prior !== undefined && prior !== t) {
        this.violate(`committed entry ${i} has term ${prior} and ${t} (node ${n.id})`);
      }
      this.committed[i] = t;
    }
    if (log.commit > this.maxCommitted) this.maxCommitted = log.commit;
    n.maxCommit = Math.max(n.maxCommit, log.commit);
    if (n.raft.role === 'leader') {
      // Single-server changes are safe only one at a time (thesis §4.1).
      let uncommitted = 0;
      for (const cp of log.confs) if (cp.index > log.commit && cp.change) uncommitted++;
      if (uncommitted > 1)
        this.violate(`leader ${n.id} has ${uncommitted} uncommitted config entries`);
    }
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
              `log matching: nodes ${ns[a]!.id} and ${ns[b]!.id} agree at ${h} but differ at ${i}`,
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

  violate(s: string): void {
    if (this.violations.length < 50) this.violations.push(`t=${this.now}ms ${s}`);
  }

  /** appliedKeyAt exposes the cluster-wide applied entry identity at an index (tests). */
  appliedAt(index: number): string | undefined {
    return this.appliedKey[index];
  }
}

/** encodeSnapshot writes the simulated state machine image: index, hash, then filler bytes. */
export function encodeSnapshot(sm: SimStateMachine, pad: number): Uint8Array {
  const b = new Uint8Array(16 + pad);
  const v = new DataView(b.buffer);
  v.setFloat64(0, sm.index);
  v.setUint32(8, sm.hash);
  v.setUint32(12, pad);
  for (let i = 0; i < pad; i++) b[16 + i] = (sm.index + i) & 0xff;
  return b;
}

export function decodeSnapshot(b: Uint8Array): SimStateMachine {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pad = v.getUint32(12);
  if (b.length !== 16 + pad)
    throw new Error(`snapshot image has ${b.length} bytes, expected ${16 + pad}`);
  const index = v.getFloat64(0);
  for (let i = 0; i < pad; i++) {
    if (b[16 + i] !== ((index + i) & 0xff))
      throw new Error(`snapshot image corrupt at byte ${16 + i}`);
  }
  return { index, hash: v.getUint32(8) };
}
