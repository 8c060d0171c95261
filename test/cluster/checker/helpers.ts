/**
 * helpers build hand-made key-value histories for the checker tests. Each builder returns an
 * operation without an id; history() numbers them in the order given.
 */
import type { Operation, Outcome } from '../../../main/cluster/checker/history';

/** Draft is an operation before history() gives it an id. */
export type Draft = Omit<Operation, 'id'>;

/** Span is [invoke, complete]; complete undefined means the call never completed. */
export type Span = [number, number?];

function timed(draft: Omit<Draft, 'invoke'>, [invoke, complete]: Span): Draft {
  const d: Draft = { ...draft, invoke };
  if (complete !== undefined) d.complete = complete;
  return d;
}

/** put writes value; outcome 'ok' unless told. */
export function put(
  client: string,
  key: string,
  value: string,
  span: Span,
  outcome: Outcome = 'ok',
): Draft {
  return timed({ client, op: 'put', key, value, outcome }, span);
}

/** get read `value` (null: absent); an 'unknown' get carries no output. */
export function get(
  client: string,
  key: string,
  value: string | null,
  span: Span,
  outcome: Outcome = 'ok',
): Draft {
  const d = timed({ client, op: 'get', key, outcome }, span);
  if (outcome === 'ok') d.output = { value };
  return d;
}

/** del removes the key. */
export function del(client: string, key: string, span: Span, outcome: Outcome = 'ok'): Draft {
  return timed({ client, op: 'del', key, outcome }, span);
}

/** cas swaps expected for value; casOk is what the store answered (ignored unless 'ok'). */
export function cas(
  client: string,
  key: string,
  expected: string | null,
  value: string,
  casOk: boolean,
  span: Span,
  outcome: Outcome = 'ok',
): Draft {
  const d = timed({ client, op: 'cas', key, expected, value, outcome }, span);
  if (outcome === 'ok') d.output = { casOk };
  return d;
}

/** history numbers drafts 0, 1, 2, … in the order given. */
export function history(...drafts: Draft[]): Operation[] {
  return drafts.map((d, id) => ({ id, ...d }));
}
