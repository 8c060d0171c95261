/**
 * porcupine is the linearizability checker for key-value histories: the Wing & Gong search with
 * Lowe's memoization, as Porcupine implements it, run on each key separately (a history is
 * linearizable iff each key's sub-history is, because keys are independent objects).
 *
 * Real-time order: operation A precedes B iff A completed strictly before B was invoked. Two
 * operations whose timestamps touch (A.complete === B.invoke) are concurrent: with millisecond
 * clocks we cannot tell which came first, so the checker never reports a violation that depends
 * on an order inside one clock tick. In the entry list this means that at equal times every call
 * comes before every return.
 *
 * Outcomes: 'fail' operations did not take effect and are dropped. 'unknown' operations may take
 * effect at any point after their invoke: their return is at +infinity and their output is not
 * compared (Porcupine's treatment of Jepsen's :info). An unknown get changes nothing and
 * constrains nothing, so it is dropped too.
 */
import type { CheckerView, HistoryOp } from '../../contract/view';
import { validateHistory } from './history';
import type { KvState, Operation } from './history';

/** Verdict is a check's answer; 'unknown' means the time bound ran out before an answer. */
export type Verdict = 'ok' | 'not-linearizable' | 'unknown';

/** CheckOptions bound the work a check may do. */
export interface CheckOptions {
  /** timeoutMs bounds the whole check (all keys); default 60 000. Past it the answer is 'unknown'. */
  timeoutMs?: number;
  /** maxWindow is the most operations a failure window shows; default 20. */
  maxWindow?: number;
}

/**
 * CheckFailure describes why one key's history is not linearizable, at the deepest point the
 * search reached: the partial linearization it had built and the operations that could not go next.
 */
export interface CheckFailure {
  key: string;
  /** window is the operations around the failure point, sorted by invoke (at most maxWindow). */
  window: Operation[];
  /** linearized is the window's operations that are in that prefix, in linearization order. */
  linearized: Operation[];
  /** linearizedCount is the length of the longest linearizable prefix found. */
  linearizedCount: number;
  /** pending is the operations that were invoked but none of which could be linearized next. */
  pending: Operation[];
  /** state is the key's value after the prefix (null: absent). */
  state: KvState;
  /** deadline is when the first pending operation completed: it had to take effect by then. */
  deadline: number;
  explanation: string;
}

/** KeyResult is the verdict for one key. */
export interface KeyResult {
  key: string;
  result: Verdict;
  /** operations is how many operations were checked (failed ones and unknown gets are dropped). */
  operations: number;
  /** dropped is how many operations on the key did not need checking. */
  dropped: number;
  /** steps is how many search steps the check took. */
  steps: number;
  elapsedMs: number;
  failure?: CheckFailure;
}

/** CheckResult is the verdict for a whole history: 'not-linearizable' if any key is. */
export interface CheckResult {
  result: Verdict;
  perKey: KeyResult[];
  /** failure is the key failure with the earliest deadline, when the result is not-linearizable. */
  failure?: CheckFailure;
  elapsedMs: number;
}

/**
 * checkerView: the dashboard's view of a finished check of `operations` operations (the real
 * cluster's and the lab's checker panel): the verdict, the keys, the time taken and the failing
 * window, its clients named as strings.
 */
export function checkerView(operations: number, r: CheckResult): CheckerView {
  return {
    state: 'done',
    result: r.result,
    operations,
    keys: r.perKey.length,
    ms: Math.round(r.elapsedMs),
    failure: r.failure
      ? {
          key: r.failure.key,
          explanation: r.failure.explanation,
          window: r.failure.window.map((o) => ({ ...o, client: String(o.client) }) as HistoryOp),
        }
      : null,
  };
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_WINDOW = 20;
/** MAX_PENDING_SHOWN caps the pending operations in a window, leaving room for context. */
const MAX_PENDING_SHOWN = 12;
const CLOCK_EVERY = 1023;

const K_GET = 0;
const K_PUT = 1;
const K_DEL = 2;
const K_CAS = 3;

/**
 * check decides whether a history is linearizable with respect to the key-value model, per key.
 * Keys are checked in order of their first operation; all share one time bound. It throws a
 * HistoryError if an operation is malformed (see validateOperation). The failure's operations are
 * the caller's own objects.
 */
export function check(ops: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const start = performance.now();
  validateHistory(ops);
  const deadline = start + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxWindow = Math.max(2, options.maxWindow ?? DEFAULT_MAX_WINDOW);

  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }

  const perKey: KeyResult[] = [];
  for (const [key, keyOps] of byKey) perKey.push(checkKey(key, keyOps, deadline, maxWindow));

  let failure: CheckFailure | undefined;
  for (const r of perKey)
    if (r.failure && (!failure || r.failure.deadline < failure.deadline)) failure = r.failure;
  const result: Verdict = failure
    ? 'not-linearizable'
    : perKey.some((r) => r.result === 'unknown')
      ? 'unknown'
      : 'ok';
  const out: CheckResult = { result, perKey, elapsedMs: performance.now() - start };
  if (failure) out.failure = failure;
  return out;
}

/** mix32 is a 32-bit integer hash (a murmur3 finalizer) used for Zobrist keys and states. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Linearized is the bitset of linearized operations, with an incremental Zobrist hash and the
 * bounds of its compact form (see ConfigCache) kept up to date on every set and clear.
 */
class Linearized {
  readonly words: Uint32Array;
  /** full is the number of leading words with every bit set. */
  full = 0;
  /** top is the index of the last non-zero word, -1 when empty. */
  top = -1;
  /** hash is the xor of the Zobrist keys of the operations in the set. */
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(n: number) {
    this.words = new Uint32Array((n + 31) >>> 5);
    this.zobrist = new Int32Array(n);
    for (let i = 0; i < n; i++) this.zobrist[i] = mix32(i + 0x9e3779b9);
  }

  set(i: number): void {
    const w = i >>> 5;
    const words = this.words;
    words[w] |= 1 << (i & 31);
    this.hash ^= this.zobrist[i];
    if (w > this.top) this.top = w;
    while (this.full < words.length && words[this.full] === 0xffffffff) this.full++;
  }

  clear(i: number): void {
    const w = i >>> 5;
    const words = this.words;
    words[w] &= ~(1 << (i & 31));
    this.hash ^= this.zobrist[i];
    if (w < this.full) this.full = w;
    while (this.top >= 0 && words[this.top] === 0) this.top--;
  }
}

/**
 * ConfigCache is the memo of configurations already explored, (linearized set, state) pairs, in a
 * chained hash table held in typed arrays. A set is stored compactly as the count of its leading
 * all-ones words plus the words after them up to its last non-zero word: a search linearizes
 * operations roughly in time order, so what is stored grows with the concurrency, not the history.
 */
class ConfigCache {
  private buckets = new Int32Array(1 << 12).fill(-1);
  private hashes = new Int32Array(1 << 10);
  private states = new Int32Array(1 << 10);
  private fulls = new Int32Array(1 << 10);
  private offsets = new Int32Array(1 << 10);
  private lengths = new Int32Array(1 << 10);
  private chain = new Int32Array(1 << 10);
  private arena = new Uint32Array(1 << 12);
  private arenaUsed = 0;
  /** size is the number of configurations recorded. */
  size = 0;

  /** addIfAbsent records (set, state) and answers true, or answers false if it was there. */
  addIfAbsent(lin: Linearized, state: number): boolean {
    const h = lin.hash ^ mix32(state + 0x632be5ab);
    const full = lin.full;
    const len = Math.max(0, lin.top - full + 1);
    const words = lin.words;
    const arena = this.arena;
    const bucket = h & (this.buckets.length - 1);
    for (let e = this.buckets[bucket]; e !== -1; e = this.chain[e]) {
      if (this.hashes[e] !== h || this.states[e] !== state) continue;
      if (this.fulls[e] !== full || this.lengths[e] !== len) continue;
      const off = this.offsets[e];
      let j = 0;
      while (j < len && arena[off + j] === words[full + j]) j++;
      if (j === len) return false;
    }
    if (this.size === this.hashes.length) this.growEntries();
    if (this.arenaUsed + len > this.arena.length) this.growArena(len);
    const e = this.size++;
    this.hashes[e] = h;
    this.states[e] = state;
    this.fulls[e] = full;
    this.lengths[e] = len;
    this.offsets[e] = this.arenaUsed;
    for (let j = 0; j < len; j++) this.arena[this.arenaUsed + j] = words[full + j];
    this.arenaUsed += len;
    this.chain[e] = this.buckets[bucket];
    this.buckets[bucket] = e;
    if (this.size * 2 > this.buckets.length) this.rehash();
    return true;
  }

  private growEntries(): void {
    const cap = this.hashes.length * 2;
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes);
    this.states = grow(this.states);
    this.fulls = grow(this.fulls);
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
    this.chain = grow(this.chain);
  }

  private growArena(need: number): void {
    const b = new Uint32Array(Math.max(this.arena.length * 2, this.arenaUsed + need));
    b.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = b;
  }

  private rehash(): void {
    const buckets = new Int32Array(this.buckets.length * 2).fill(-1);
    const mask = buckets.length - 1;
    for (let e = 0; e < this.size; e++) {
      const b = this.hashes[e] & mask;
      this.chain[e] = buckets[b];
      buckets[b] = e;
    }
    this.buckets = buckets;
  }
}

/** Prepared is one key's operations in the form the search runs on. */
interface Prepared {
  ops: Operation[];
  kind: Uint8Array;
  /** arg is the interned value a put or cas writes. */
  arg: Int32Array;
  /** exp is the interned value a cas expects. */
  exp: Int32Array;
  /** out is the interned value a get read, or 1/0 for a cas that did/did not swap. */
  out: Int32Array;
  /** free marks operations whose output is unconstrained (outcome unknown). */
  free: Uint8Array;
  values: (string | null)[];
}

function prepare(ops: Operation[]): Prepared {
  const n = ops.length;
  const ids = new Map<string, number>();
  const values: (string | null)[] = [null];
  const intern = (v: string | null | undefined): number => {
    if (v === null || v === undefined) return 0;
    let id = ids.get(v);
    if (id === undefined) {
      id = values.length;
      ids.set(v, id);
      values.push(v);
    }
    return id;
  };
  const p: Prepared = {
    ops,
    kind: new Uint8Array(n),
    arg: new Int32Array(n),
    exp: new Int32Array(n),
    out: new Int32Array(n),
    free: new Uint8Array(n),
    values,
  };
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    p.free[i] = op.outcome === 'unknown' ? 1 : 0;
    switch (op.op) {
      case 'get':
        p.kind[i] = K_GET;
        // An absent output on a get that must be checked never matches any state.
        p.out[i] = op.output?.value === undefined ? -1 : intern(op.output.value);
        break;
      case 'put':
        p.kind[i] = K_PUT;
        p.arg[i] = intern(op.value);
        break;
      case 'del':
        p.kind[i] = K_DEL;
        break;
      case 'cas':
        p.kind[i] = K_CAS;
        p.arg[i] = intern(op.value);
        p.exp[i] = intern(op.expected);
        p.out[i] = op.output?.casOk === true ? 1 : op.output?.casOk === false ? 0 : -1;
        break;
    }
  }
  return p;
}

/** step is the key-value model on interned states: the next state, or -1 if the output is wrong. */
function step(p: Prepared, state: number, i: number): number {
  switch (p.kind[i]) {
    case K_GET:
      return p.free[i] || p.out[i] === state ? state : -1;
    case K_PUT:
      return p.arg[i];
    case K_DEL:
      return 0;
    default: {
      const matches = state === p.exp[i];
      if (!p.free[i] && p.out[i] !== (matches ? 1 : 0)) return -1;
      return matches ? p.arg[i] : state;
    }
  }
}

/** Deepest is the furthest point the search reached before it had to backtrack. */
interface Deepest {
  /** sequence is the linearized operation indexes, in order. */
  sequence: Int32Array;
  state: number;
  /** pending is the indexes of the calls in the list before the first return. */
  pending: number[];
  /** blocking is the operation whose return the search ran into. */
  blocking: number;
}

/**
 * checkKey runs the search on one key. Entries are numbered 2i (call of operation i) and 2i+1
 * (its return); the doubly linked list holds them in time order behind a head sentinel. Linearizing
 * a call lifts it and its return out of the list; backtracking unlifts them in reverse order.
 */
function checkKey(key: string, all: Operation[], deadline: number, maxWindow: number): KeyResult {
  const start = performance.now();
  const ops = all.filter(
    (op) => op.outcome === 'ok' || (op.outcome === 'unknown' && op.op !== 'get'),
  );
  const n = ops.length;
  const base = { key, operations: n, dropped: all.length - n };
  const p = prepare(ops);

  // Entry list in time order; at equal times calls come first (touching operations overlap).
  const m = 2 * n;
  const time = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    time[2 * i] = op.invoke;
    time[2 * i + 1] = op.outcome === 'unknown' ? Infinity : (op.complete ?? Infinity);
  }
  const order = Array.from({ length: m }, (_, e) => e);
  order.sort((a, b) => time[a] - time[b] || (a & 1) - (b & 1) || a - b);

  const head = m;
  const next = new Int32Array(m + 1);
  const prev = new Int32Array(m + 1);
  let last = head;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = -1;

  const lift = (call: number): void => {
    const ret = call + 1;
    next[prev[call]] = next[call];
    prev[next[call]] = prev[call];
    next[prev[ret]] = next[ret];
    if (next[ret] !== -1) prev[next[ret]] = prev[ret];
  };
  const unlift = (call: number): void => {
    const ret = call + 1;
    next[prev[ret]] = ret;
    if (next[ret] !== -1) prev[next[ret]] = ret;
    next[prev[call]] = call;
    prev[next[call]] = call;
  };

  // An observer (a get, or a cas that did not swap, with a known outcome) never changes the state.
  // If one is enabled at the current state with its call before the first return, putting it next
  // loses nothing: any linearization that places it later stays valid with it moved here, since
  // everything that must precede it is already linearized and no one else sees a difference. So
  // the search takes it without branching, and when that fails the configuration fails.
  const observer = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    observer[i] =
      !p.free[i] && (p.kind[i] === K_GET || (p.kind[i] === K_CAS && p.out[i] === 0)) ? 1 : 0;

  const linearized = new Linearized(n);
  const cache = new ConfigCache();
  const stackCall = new Int32Array(n);
  const stackState = new Int32Array(n);
  const stackForced = new Uint8Array(n);
  let depth = 0;
  let state = 0;
  let steps = 0;
  let deepest: Deepest | undefined;
  let entry = next[head];
  let fresh = true;

  const push = (call: number, after: number, forced: number): void => {
    stackCall[depth] = call;
    stackState[depth] = state;
    stackForced[depth] = forced;
    depth++;
    state = after;
    lift(call);
    fresh = true;
  };
  // backtrack undoes the newest choice that had alternatives, popping forced steps on the way;
  // it answers false when none is left, which refutes the whole history.
  const backtrack = (): boolean => {
    while (depth > 0) {
      depth--;
      const call = stackCall[depth];
      state = stackState[depth];
      linearized.clear(call >>> 1);
      unlift(call);
      if (!stackForced[depth]) {
        entry = next[call];
        return true;
      }
    }
    return false;
  };
  const refuted = (): KeyResult => ({
    ...base,
    result: 'not-linearizable',
    steps,
    elapsedMs: performance.now() - start,
    failure: describeFailure(
      key,
      p,
      deepest ?? { sequence: new Int32Array(0), state: 0, pending: [], blocking: 0 },
      maxWindow,
    ),
  });

  while (next[head] !== -1) {
    if ((++steps & CLOCK_EVERY) === 0 && performance.now() > deadline)
      return { ...base, result: 'unknown', steps, elapsedMs: performance.now() - start };
    if (fresh) {
      fresh = false;
      entry = next[head];
      let forced = -1;
      for (let e = entry; (e & 1) === 0; e = next[e]) {
        if (observer[e >>> 1] && step(p, state, e >>> 1) === state) {
          forced = e;
          break;
        }
      }
      if (forced >= 0) {
        linearized.set(forced >>> 1);
        if (cache.addIfAbsent(linearized, state)) {
          push(forced, state, 1);
          continue;
        }
        // Refuted before with this observer taken, so refuted now.
        linearized.clear(forced >>> 1);
        if (!backtrack()) return refuted();
        continue;
      }
    }
    if ((entry & 1) === 0) {
      const i = entry >>> 1;
      const after = step(p, state, i);
      if (after >= 0) {
        linearized.set(i);
        if (cache.addIfAbsent(linearized, after)) {
          push(entry, after, 0);
          continue;
        }
        linearized.clear(i);
      }
      entry = next[entry];
    } else {
      // A return whose call is still in the list: that operation had to be linearized by now.
      if (!deepest || depth > deepest.sequence.length) {
        const pending: number[] = [];
        for (let e = next[head]; e !== entry; e = next[e]) pending.push(e >>> 1);
        const sequence = new Int32Array(depth);
        for (let d = 0; d < depth; d++) sequence[d] = stackCall[d] >>> 1;
        deepest = { sequence, state, pending, blocking: entry >>> 1 };
      }
      if (!backtrack()) return refuted();
    }
  }
  return { ...base, result: 'ok', steps, elapsedMs: performance.now() - start };
}

function showValue(v: string | null | undefined): string {
  return v === null || v === undefined ? 'nothing (absent)' : JSON.stringify(v);
}

/** describeOp names an operation the way a failure explanation shows it. */
export function describeOp(op: Operation): string {
  let what: string;
  switch (op.op) {
    case 'get':
      what =
        op.outcome === 'unknown'
          ? 'get (result unknown)'
          : `get read ${showValue(op.output?.value)}`;
      break;
    case 'put':
      what = `put ${showValue(op.value)}`;
      break;
    case 'del':
      what = 'del';
      break;
    case 'cas': {
      const result =
        op.outcome === 'unknown' ? 'result unknown' : op.output?.casOk ? 'swapped' : 'did not swap';
      what = `cas ${showValue(op.expected)} → ${showValue(op.value)} (${result})`;
      break;
    }
  }
  const end = op.outcome === 'unknown' ? '…' : showTime(op.complete);
  return `#${op.id} ${what} by client ${op.client} [${showTime(op.invoke)}, ${end}]`;
}

/**
 * showTime writes a time of the history (ms, often a float from performance.now()) with at most
 * one decimal: 22.18144000000001 reads 22.2, 50 reads 50.
 */
export function showTime(t: number | undefined): string {
  if (t === undefined) return '…';
  if (!Number.isFinite(t)) return String(t);
  return String(Math.round(t * 10) / 10);
}

/** writes reports whether operation i, if it takes effect, leaves the value v. */
function writes(p: Prepared, i: number, v: number): boolean {
  switch (p.kind[i]) {
    case K_PUT:
      return p.arg[i] === v;
    case K_DEL:
      return v === 0;
    case K_CAS:
      return p.arg[i] === v && (p.free[i] === 1 || p.out[i] === 1);
    default:
      return false;
  }
}

/**
 * sourceOf finds, for a pending operation that cannot go next, the latest operation invoked
 * before `until` that could have produced the value it saw (the value a get read, the value a
 * successful cas expected): -1 if there is none, or undefined if the operation saw nothing
 * specific (a cas that did not swap is explained by the state alone).
 */
function sourceOf(p: Prepared, i: number, until: number): number | undefined {
  let wanted: number;
  if (p.kind[i] === K_GET) wanted = p.out[i];
  else if (p.kind[i] === K_CAS && p.out[i] === 1) wanted = p.exp[i];
  else return undefined;
  let best = -1;
  for (let j = 0; j < p.ops.length; j++) {
    if (j === i || p.ops[j].invoke > until || !writes(p, j, wanted)) continue;
    if (best === -1 || p.ops[j].invoke >= p.ops[best].invoke) best = j;
  }
  return best;
}

function whyNot(p: Prepared, state: number, i: number, until: number): string {
  const op = p.ops[i];
  const value = showValue(p.values[state]);
  if (step(p, state, i) >= 0)
    return `${describeOp(op)} could go next, but then no order of the remaining operations works`;
  let why: string;
  if (op.op === 'get') why = `the value was ${value}`;
  else
    why = `the value was ${value}, so it would ${op.output?.casOk ? 'not have swapped' : 'have swapped'}`;
  const src = sourceOf(p, i, until);
  if (src !== undefined) {
    const seen = showValue(p.values[op.op === 'get' ? p.out[i] : p.exp[i]]);
    why +=
      src >= 0
        ? `; the latest operation invoked by then that leaves ${seen} is ${describeOp(p.ops[src])}`
        : `; no operation invoked by then leaves ${seen}`;
  }
  return `${describeOp(op)} cannot go next: ${why}`;
}

/**
 * describeFailure builds the failure report from the deepest point the search reached. The window
 * holds, in this order of priority and at most maxWindow operations: the pending operations that
 * could not be linearized next (the one whose completion forced the issue first); the operation
 * that wrote the value they saw; for each that saw a value the state did not hold, the latest
 * operation that could have written it; then, from the time span these cover up to the failure
 * point, the operations with a known outcome (newest first) and those with an unknown outcome
 * invoked within it. Operations from long before, or unknown ones from any time, are left out.
 */
function describeFailure(key: string, p: Prepared, d: Deepest, maxWindow: number): CheckFailure {
  const ops = p.ops;
  const n = ops.length;
  const blocking = ops[d.blocking];
  const deadline = blocking.complete ?? Infinity;
  const others = d.pending
    .filter((i) => i !== d.blocking)
    .sort((a, b) => ops[a].invoke - ops[b].invoke || ops[a].id - ops[b].id);
  const pendingIdx = [d.blocking, ...others].slice(0, Math.min(MAX_PENDING_SHOWN, maxWindow - 1));

  // Position of each operation in the prefix, and which operation wrote the final state.
  const position = new Int32Array(n).fill(-1);
  let s = 0;
  let writer = -1;
  for (let k = 0; k < d.sequence.length; k++) {
    const i = d.sequence[k];
    position[i] = k;
    const kind = p.kind[i];
    if (kind === K_PUT || kind === K_DEL || (kind === K_CAS && s === p.exp[i])) writer = i;
    s = step(p, s, i);
  }

  const picked: number[] = [];
  const pick = (i: number): void => {
    if (i >= 0 && picked.length < maxWindow && !picked.includes(i)) picked.push(i);
  };
  pendingIdx.forEach(pick);
  pick(writer);
  let from = Math.min(...pendingIdx.map((i) => ops[i].invoke));
  for (const i of pendingIdx) {
    if (step(p, d.state, i) >= 0) continue;
    const src = sourceOf(p, i, deadline);
    if (src === undefined || src < 0) continue;
    pick(src);
    from = Math.min(from, ops[src].invoke);
  }
  const end = (i: number): number => (p.free[i] ? Infinity : (ops[i].complete ?? Infinity));
  const span: number[] = [];
  for (let i = 0; i < n; i++) if (ops[i].invoke <= deadline && end(i) >= from) span.push(i);
  const known = span.filter((i) => !p.free[i]).sort((a, b) => end(b) - end(a) || b - a);
  const unknown = span
    .filter((i) => p.free[i] && ops[i].invoke >= from)
    .sort((a, b) => ops[b].invoke - ops[a].invoke || b - a);
  known.forEach(pick);
  unknown.forEach(pick);

  const window = picked.map((i) => ops[i]).sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  const linearized = picked
    .filter((i) => position[i] >= 0)
    .sort((a, b) => position[a] - position[b])
    .map((i) => ops[i]);
  const pending = pendingIdx.map((i) => ops[i]);

  const wrote = writer >= 0 ? `, written by ${describeOp(ops[writer])}` : ' (never written)';
  const lines = [
    `key ${JSON.stringify(key)} is not linearizable.`,
    `The longest linearizable prefix found has ${d.sequence.length} of ${n} operations ` +
      `and leaves the value ${showValue(p.values[d.state])}${wrote}.`,
    `${describeOp(blocking)} had to take effect before it completed at ${showTime(deadline)}, ` +
      `but none of the ${d.pending.length} operation(s) invoked by then can go next:`,
    ...pendingIdx.map((i) => `  - ${whyNot(p, d.state, i, deadline)}`),
  ];
  if (d.pending.length > pendingIdx.length)
    lines.push(`  (and ${d.pending.length - pendingIdx.length} more)`);

  return {
    key,
    window,
    linearized,
    linearizedCount: d.sequence.length,
    pending,
    state: p.values[d.state],
    deadline,
    explanation: lines.join('\n'),
  };
}
