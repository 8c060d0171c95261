/**
 * generate builds random concurrent key-value histories that are linearizable by construction:
 * clients issue calls one after another with random gaps and latencies, each call takes effect at
 * a random instant inside its [invoke, complete] interval, and the outputs are what the sequential
 * model answers when the effects are applied in the order of those instants.
 */
import { stepKv } from '../../../main/cluster/checker/history';
import type { KvState, OpKind, Operation } from '../../../main/cluster/checker/history';

/** Rng returns a float in [0, 1). */
export type Rng = () => number;

/** GenerateOptions shape a generated history. */
export interface GenerateOptions {
  clients: number;
  keys: number;
  /** ops is the total number of operations, spread over the clients. */
  ops: number;
  /** values is how many distinct values each key's writes choose from; default 4. */
  values?: number;
  /** unknownRate is the share of calls whose outcome is unknown (half of them take effect). */
  unknownRate?: number;
  /** failRate is the share of writes that fail (and do not take effect). */
  failRate?: number;
  /** maxLatency bounds a call's duration in ms; default 10. */
  maxLatency?: number;
}

interface Effect {
  at: number;
  op: Operation;
}

/** generateHistory returns a linearizable history; the same rng seed gives the same history. */
export function generateHistory(rng: Rng, o: GenerateOptions): Operation[] {
  const values = o.values ?? 4;
  const unknownRate = o.unknownRate ?? 0;
  const failRate = o.failRate ?? 0;
  const maxLatency = o.maxLatency ?? 10;
  const int = (n: number): number => Math.floor(rng() * n);
  const pickValue = (): string => `v${int(values)}`;

  const ops: Operation[] = [];
  const effects: Effect[] = [];
  const clock = new Array<number>(o.clients).fill(0);
  for (let k = 0; k < o.ops; k++) {
    // The least advanced client calls next, so all of them stay busy over the same span of time.
    let client = int(o.clients);
    for (let c = 0; c < o.clients; c++) if (clock[c] < clock[client]) client = c;
    const invoke = clock[client] + int(3);
    const complete = invoke + int(maxLatency + 1);
    const r = rng();
    const kind: OpKind = r < 0.45 ? 'get' : r < 0.75 ? 'put' : r < 0.85 ? 'del' : 'cas';
    const op: Operation = {
      id: k,
      client: `c${client}`,
      op: kind,
      key: `k${int(o.keys)}`,
      invoke,
      complete,
      outcome: 'ok',
    };
    if (kind === 'put') op.value = pickValue();
    if (kind === 'cas') {
      op.value = pickValue();
      op.expected = rng() < 0.2 ? null : pickValue();
    }
    clock[client] = complete;

    const fate = rng();
    if (fate < unknownRate) {
      op.outcome = 'unknown';
      // The client gave up at `complete` (or never heard back); the call may still land later.
      if (rng() < 0.3) delete op.complete;
      if (rng() < 0.5) effects.push({ at: invoke + rng() * (3 * maxLatency + 1), op });
    } else if (fate < unknownRate + failRate && kind !== 'get') {
      op.outcome = 'fail';
    } else {
      effects.push({ at: invoke + rng() * (complete - invoke), op });
    }
    ops.push(op);
  }

  effects.sort((a, b) => a.at - b.at);
  const state = new Map<string, KvState>();
  for (const { op } of effects) {
    const before = state.get(op.key) ?? null;
    const after = stepKv(before, op, true).state;
    state.set(op.key, after);
    if (op.outcome !== 'ok') continue;
    if (op.op === 'get') op.output = { value: before };
    if (op.op === 'cas') op.output = { casOk: before === (op.expected ?? null) };
  }
  return ops;
}
