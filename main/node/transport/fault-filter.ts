/**
 * fault-filter injects network faults on the directed links of one node: drop everything
 * (partition), drop with a probability, delay (ms ± jitter), limited to some message types, and
 * lose one InstallSnapshot chunk at a given byte offset. Rules are set at run time.
 *
 * Evaluation, for each message, over the rules in order: a rule matches when its link matches
 * (`to` for messages this node sends, `from` for messages it receives; '*' is every peer), the
 * message type is in `types` (if given), and, for a `snapshotOffset` rule, the message is a
 * snapshot chunk at exactly that offset and the rule has not fired yet. The first matching rule
 * that drops wins. Otherwise the message is delayed by the largest delay (and jitter) of the
 * matching rules. Delayed messages without jitter keep their order on the link: a message is
 * never released before one delayed earlier on the same link. Jitter lets them reorder.
 * Messages no rule delays are not held behind delayed ones.
 */
import type { Message, MessageType, NodeId } from '../../raft/types';
import { MESSAGE_TYPES } from '../../raft/types';

/** FaultRule is one fault on one or all links of this node. Set exactly one of `to` and `from`. */
export interface FaultRule {
  /** to: applies to messages this node sends to that peer ('*' = any peer). */
  to?: NodeId | '*';
  /** from: applies to messages this node receives from that peer ('*' = any peer). */
  from?: NodeId | '*';
  /** drop: probability in [0, 1] of losing a matching message; 1 partitions the link. */
  drop?: number;
  /** delayMs: hold matching messages this long before passing them on. */
  delayMs?: number;
  /** jitterMs: add a uniform random amount in [-jitterMs, +jitterMs] to the delay. */
  jitterMs?: number;
  /** types: match only these message types. */
  types?: MessageType[];
  /** snapshotOffset: lose the snapshot chunk starting at this byte offset, once. */
  snapshotOffset?: number;
}

/** FaultRuleStatus is a rule with what it has done so far. */
export interface FaultRuleStatus extends FaultRule {
  matched: number;
  dropped: number;
  delayed: number;
  /** spent: a snapshotOffset rule that has fired. */
  spent: boolean;
}

export type FaultDirection = 'send' | 'receive';

/** FaultVerdict says what apply() did with a message. */
export type FaultVerdict = 'pass' | 'drop' | 'delay';

/** InvalidFaultRuleError: setRules was given a rule it cannot apply. */
export class InvalidFaultRuleError extends Error {
  constructor(index: number, reason: string) {
    super(`fault rule ${index}: ${reason}`);
    this.name = 'InvalidFaultRuleError';
  }
}

export interface FaultFilterOptions {
  /** rng returns a uniform number in [0, 1); inject a seeded one for reproducible runs. */
  rng?: () => number;
}

interface ActiveRule {
  rule: FaultRule;
  direction: FaultDirection;
  peer: NodeId | '*';
  types: ReadonlySet<MessageType> | undefined;
  drop: number;
  delayMs: number;
  jitterMs: number;
  matched: number;
  dropped: number;
  delayed: number;
  spent: boolean;
}

/** Deliver passes a message on; `heldMs` is how long the filter held it (0: not at all). */
export type Deliver = (m: Message, heldMs: number) => void;

interface Held {
  at: number;
  since: number;
  m: Message;
  deliver: Deliver;
}

/** DelayLine releases one link's delayed messages in order. */
interface DelayLine {
  queue: Held[];
  head: number;
  last: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(MESSAGE_TYPES);

function validateRule(r: FaultRule, i: number): void {
  if (r === null || typeof r !== 'object') throw new InvalidFaultRuleError(i, 'not an object');
  const hasTo = r.to !== undefined;
  const hasFrom = r.from !== undefined;
  if (hasTo === hasFrom) throw new InvalidFaultRuleError(i, 'set exactly one of to and from');
  const peer = hasTo ? r.to : r.from;
  if (peer !== '*' && !(typeof peer === 'number' && Number.isSafeInteger(peer) && peer > 0)) {
    throw new InvalidFaultRuleError(i, `peer must be a node id or '*', got ${String(peer)}`);
  }
  if (r.drop !== undefined && !(typeof r.drop === 'number' && r.drop >= 0 && r.drop <= 1)) {
    throw new InvalidFaultRuleError(i, `drop must be a probability in [0, 1]`);
  }
  for (const k of ['delayMs', 'jitterMs'] as const) {
    const v = r[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new InvalidFaultRuleError(i, `${k} must be a non-negative number`);
    }
  }
  if (r.types !== undefined) {
    if (!Array.isArray(r.types)) throw new InvalidFaultRuleError(i, 'types must be an array');
    for (const t of r.types) {
      if (!KNOWN_TYPES.has(t)) throw new InvalidFaultRuleError(i, `unknown message type ${t}`);
    }
  }
  if (
    r.snapshotOffset !== undefined &&
    !(Number.isSafeInteger(r.snapshotOffset) && r.snapshotOffset >= 0)
  ) {
    throw new InvalidFaultRuleError(i, 'snapshotOffset must be a non-negative integer');
  }
}

/** FaultFilter applies fault rules to the messages of one node. */
export class FaultFilter {
  private rules: ActiveRule[] = [];
  private readonly rng: () => number;
  private readonly lines = new Map<string, DelayLine>();
  private readonly jittered = new Set<ReturnType<typeof setTimeout>>();
  private disposed = false;
  /** lastDelayMs: after apply() answered 'delay', how long the message is to be held. */
  lastDelayMs = 0;

  constructor(options: FaultFilterOptions = {}) {
    this.rng = options.rng ?? Math.random;
  }

  /** setRules replaces every rule (and their counters). Throws InvalidFaultRuleError. */
  setRules(rules: readonly FaultRule[]): void {
    rules.forEach(validateRule);
    this.rules = rules.map((r) => ({
      rule: { ...r, ...(r.types ? { types: [...r.types] } : {}) },
      direction: r.to !== undefined ? 'send' : 'receive',
      peer: (r.to ?? r.from) as NodeId | '*',
      types: r.types ? new Set(r.types) : undefined,
      drop: r.drop ?? 0,
      delayMs: r.delayMs ?? 0,
      jitterMs: r.jitterMs ?? 0,
      matched: 0,
      dropped: 0,
      delayed: 0,
      spent: false,
    }));
  }

  /** clear removes every rule. Messages already delayed are still delivered on time. */
  clear(): void {
    this.rules = [];
  }

  /** list returns the rules with their counters. */
  list(): FaultRuleStatus[] {
    return this.rules.map((a) => ({
      ...a.rule,
      ...(a.rule.types ? { types: [...a.rule.types] } : {}),
      matched: a.matched,
      dropped: a.dropped,
      delayed: a.delayed,
      spent: a.spent,
    }));
  }

  /** held: messages currently delayed. */
  get held(): number {
    let n = this.jittered.size;
    for (const line of this.lines.values()) n += line.queue.length - line.head;
    return n;
  }

  /**
   * apply passes `m` to `deliver` now, later, or never, and says which. `deliver` is called at
   * most once, with how long the message was held; exceptions it throws from a timer are
   * swallowed. After a 'delay', lastDelayMs says how long the message is to be held.
   */
  apply(direction: FaultDirection, m: Message, deliver: Deliver): FaultVerdict {
    if (this.rules.length === 0 || this.disposed) {
      if (this.disposed) return 'drop';
      deliver(m, 0);
      return 'pass';
    }
    const peer = direction === 'send' ? m.to : m.from;
    let delay = 0;
    let jitter = 0;
    let delaying: ActiveRule[] | undefined;
    for (const r of this.rules) {
      if (r.direction !== direction || (r.peer !== '*' && r.peer !== peer)) continue;
      if (r.types !== undefined && !r.types.has(m.type)) continue;
      if (r.rule.snapshotOffset !== undefined) {
        if (r.spent || m.type !== 'snap' || m.offset !== r.rule.snapshotOffset) continue;
        r.matched += 1;
        r.dropped += 1;
        r.spent = true;
        return 'drop';
      }
      r.matched += 1;
      if (r.drop > 0 && (r.drop >= 1 || this.rng() < r.drop)) {
        r.dropped += 1;
        return 'drop';
      }
      if (r.delayMs > 0 || r.jitterMs > 0) {
        delay = Math.max(delay, r.delayMs);
        jitter = Math.max(jitter, r.jitterMs);
        (delaying ??= []).push(r);
      }
    }
    if (delaying === undefined) {
      deliver(m, 0);
      return 'pass';
    }
    for (const r of delaying) r.delayed += 1;
    if (jitter > 0) {
      const ms = Math.max(0, delay + (this.rng() * 2 - 1) * jitter);
      const timer = setTimeout(() => {
        this.jittered.delete(timer);
        safely(deliver, m, ms);
      }, ms);
      this.jittered.add(timer);
      this.lastDelayMs = ms;
    } else {
      const now = Date.now();
      this.lastDelayMs = this.holdInOrder(`${direction}:${peer}`, now, now + delay, m, deliver);
    }
    return 'delay';
  }

  /** dispose cancels every delayed message and makes apply drop everything. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.jittered) clearTimeout(t);
    this.jittered.clear();
    for (const line of this.lines.values()) if (line.timer) clearTimeout(line.timer);
    this.lines.clear();
    this.rules = [];
  }

  /** holdInOrder queues `m` on its link's delay line and returns how long it will be held. */
  private holdInOrder(key: string, now: number, at: number, m: Message, deliver: Deliver): number {
    let line = this.lines.get(key);
    if (line === undefined) {
      line = { queue: [], head: 0, last: 0, timer: undefined };
      this.lines.set(key, line);
    }
    const when = Math.max(at, line.last);
    line.last = when;
    line.queue.push({ at: when, since: now, m, deliver });
    if (line.timer === undefined) this.arm(key, line);
    return when - now;
  }

  private arm(key: string, line: DelayLine): void {
    const wait = Math.max(0, line.queue[line.head].at - Date.now());
    line.timer = setTimeout(() => this.release(key, line), wait);
  }

  private release(key: string, line: DelayLine): void {
    line.timer = undefined;
    const now = Date.now();
    while (line.head < line.queue.length && line.queue[line.head].at <= now) {
      const h = line.queue[line.head];
      line.queue[line.head] = undefined as unknown as Held;
      line.head += 1;
      safely(h.deliver, h.m, now - h.since);
      if (this.disposed) return;
    }
    if (line.head < line.queue.length) {
      if (line.head >= 1024) {
        line.queue = line.queue.slice(line.head);
        line.head = 0;
      }
      this.arm(key, line);
    } else {
      this.lines.delete(key);
    }
  }
}

function safely(deliver: Deliver, m: Message, heldMs: number): void {
  try {
    deliver(m, heldMs);
  } catch {
    // A delivery callback must not break the timer that released it.
  }
}
