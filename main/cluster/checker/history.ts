/**
 * history describes one recorded client history of the cluster's key-value store, the sequential
 * model the checker holds it against, and the JSON file format histories are exported in. The
 * format is documented in docs/checker.md.
 */

/** OpKind is a key-value operation: read, write, delete, or compare-and-set. */
export type OpKind = 'get' | 'put' | 'del' | 'cas';

/**
 * Outcome is what the client learned: 'ok' (it completed and the output is what the store
 * answered), 'fail' (it definitely did not take effect, so the checker drops it) or 'unknown' (it
 * may or may not have taken effect, at any time after its invoke: a timeout, a lost connection).
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** OpOutput is what a completed operation returned. */
export interface OpOutput {
  /** value is a get's result; null means the key was absent. */
  value?: string | null;
  /** casOk is a cas's result: true if the value was swapped, false if `expected` did not match. */
  casOk?: boolean;
}

/** Operation is one client call, from invoke to completion, on one key. */
export interface Operation {
  /** id identifies the operation within its history (unique, a safe integer). */
  id: number;
  client: string | number;
  op: OpKind;
  key: string;
  /** value is the value a put writes or a cas writes when it succeeds. */
  value?: string | null;
  /** expected is the value a cas compares against; null means the key must be absent. */
  expected?: string | null;
  /** invoke is when the client sent the call, in milliseconds on a monotonic clock. */
  invoke: number;
  /** complete is when the client got the answer; absent means it never completed. */
  complete?: number;
  outcome: Outcome;
  output?: OpOutput;
}

/** KvState is the model's state for one key: its value, or null when the key is absent. */
export type KvState = string | null;

/** StepResult is one model transition: whether the output is allowed, and the state after it. */
export interface StepResult {
  ok: boolean;
  state: KvState;
}

/**
 * stepKv applies an operation to the sequential model of one key. get returns the state; put sets
 * it; del sets it to null; cas(expected, value) sets it to value and answers casOk true when the
 * state equals expected, else leaves it and answers casOk false. With `unconstrained` the output
 * is not compared (an operation whose outcome is unknown may have answered anything).
 */
export function stepKv(state: KvState, op: Operation, unconstrained = false): StepResult {
  switch (op.op) {
    case 'get':
      return { ok: unconstrained || op.output?.value === state, state };
    case 'put':
      return { ok: true, state: op.value ?? null };
    case 'del':
      return { ok: true, state: null };
    case 'cas': {
      const matches = state === (op.expected ?? null);
      const ok = unconstrained || op.output?.casOk === matches;
      return { ok, state: matches ? (op.value ?? null) : state };
    }
  }
}

/** HISTORY_FORMAT is the `format` field of an exported history file. */
export const HISTORY_FORMAT = 'raftdeck-history';
/** HISTORY_VERSION is the version of the history file format this build writes and reads. */
export const HISTORY_VERSION = 1;

/** HistoryError is a malformed history; `line` (1-based) and `field` locate the problem. */
export class HistoryError extends Error {
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, field?: string, line?: number) {
    const where = [line !== undefined ? `line ${line}` : '', field ?? '']
      .filter(Boolean)
      .join(', ');
    super(where ? `history ${where}: ${message}` : `history: ${message}`);
    this.name = 'HistoryError';
    this.line = line;
    this.field = field;
  }
}

const OP_FIELDS = new Set([
  'id',
  'client',
  'op',
  'key',
  'value',
  'expected',
  'invoke',
  'complete',
  'outcome',
  'output',
]);
const OUTPUT_FIELDS = new Set(['value', 'casOk']);
const TOP_FIELDS = new Set(['format', 'version', 'operations']);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

/** Where locates an operation in a history, to name it in errors. */
class Where {
  constructor(
    readonly index: number | undefined,
    readonly line: number | undefined,
  ) {}

  /** error is a HistoryError about `field` of this operation. */
  error(field: string, message: string): HistoryError {
    const path = this.index === undefined ? 'operation' : `operations[${this.index}]`;
    return new HistoryError(message, field ? `${path}.${field}` : path, this.line);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringOrNull(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

/**
 * validateOperation checks one operation's shape and internal consistency and returns a clean
 * copy; it throws a HistoryError naming the field (as `operations[index].field` when the index is
 * given) and the line, when known, of the first problem.
 */
export function validateOperation(raw: unknown, index?: number, line?: number): Operation {
  const at = new Where(index, line);
  if (!isRecord(raw)) throw at.error('', `expected an object, got ${describe(raw)}`);
  for (const k of Object.keys(raw)) if (!OP_FIELDS.has(k)) throw at.error(k, 'unknown field');

  const { id, client, op, key, value, expected, invoke, complete, outcome, output } = raw;
  const ms = 'expected a finite number of milliseconds';
  if (typeof id !== 'number' || !Number.isSafeInteger(id))
    throw at.error('id', `expected an integer, got ${describe(id)}`);
  if (typeof client !== 'string' && (typeof client !== 'number' || !Number.isFinite(client)))
    throw at.error('client', `expected a string or a number, got ${describe(client)}`);
  if (op !== 'get' && op !== 'put' && op !== 'del' && op !== 'cas')
    throw at.error('op', `expected one of get, put, del, cas, got ${describe(op)}`);
  if (typeof key !== 'string') throw at.error('key', `expected a string, got ${describe(key)}`);
  if (typeof invoke !== 'number' || !Number.isFinite(invoke))
    throw at.error('invoke', `${ms}, got ${describe(invoke)}`);
  if (complete !== undefined) {
    if (typeof complete !== 'number' || !Number.isFinite(complete))
      throw at.error('complete', `${ms}, got ${describe(complete)}`);
    if (complete < invoke) throw at.error('complete', `${complete} is before invoke ${invoke}`);
  }
  if (outcome !== 'ok' && outcome !== 'fail' && outcome !== 'unknown')
    throw at.error('outcome', `expected one of ok, fail, unknown, got ${describe(outcome)}`);
  if (outcome === 'ok' && complete === undefined)
    throw at.error('complete', "missing: an operation with outcome 'ok' has a complete time");

  const writes = op === 'put' || op === 'cas';
  if (writes && !isStringOrNull(value))
    throw at.error('value', `expected a string or null, got ${describe(value)}`);
  if (!writes && value !== undefined) throw at.error('value', `not allowed for ${op}`);
  if (op === 'cas' && !isStringOrNull(expected))
    throw at.error('expected', `expected a string or null, got ${describe(expected)}`);
  if (op !== 'cas' && expected !== undefined) throw at.error('expected', `not allowed for ${op}`);

  let out: OpOutput | undefined;
  if (output !== undefined) {
    if (!isRecord(output)) throw at.error('output', `expected an object, got ${describe(output)}`);
    for (const k of Object.keys(output))
      if (!OUTPUT_FIELDS.has(k)) throw at.error(`output.${k}`, 'unknown field');
    const { value: read, casOk } = output;
    if (read !== undefined && op !== 'get') throw at.error('output.value', `not allowed for ${op}`);
    if (casOk !== undefined && op !== 'cas')
      throw at.error('output.casOk', `not allowed for ${op}`);
    if (read !== undefined && !isStringOrNull(read))
      throw at.error('output.value', `expected a string or null, got ${describe(read)}`);
    if (casOk !== undefined && typeof casOk !== 'boolean')
      throw at.error('output.casOk', `expected a boolean, got ${describe(casOk)}`);
    out = {};
    if (read !== undefined) out.value = read;
    if (casOk !== undefined) out.casOk = casOk;
  }
  if (outcome === 'ok' && op === 'get' && out?.value === undefined)
    throw at.error(
      'output.value',
      "missing: a get with outcome 'ok' must say what it read (null: absent)",
    );
  if (outcome === 'ok' && op === 'cas' && out?.casOk === undefined)
    throw at.error('output.casOk', "missing: a cas with outcome 'ok' must say whether it swapped");

  // Fields in the documented order, which is also the order historyToJson writes them in.
  const result = { id, client, op, key } as Operation;
  if (writes) result.value = value as string | null;
  if (op === 'cas') result.expected = expected as string | null;
  result.invoke = invoke;
  if (complete !== undefined) result.complete = complete;
  result.outcome = outcome;
  if (out !== undefined) result.output = out;
  return result;
}

/**
 * validateHistory checks every operation and that ids are unique, and returns clean copies; it
 * throws a HistoryError. `lines` gives each operation's line in the file it was read from.
 */
export function validateHistory(ops: readonly unknown[], lines?: readonly number[]): Operation[] {
  const seen = new Map<number, number>();
  const out: Operation[] = new Array<Operation>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = validateOperation(ops[i], i, lines?.[i]);
    const first = seen.get(op.id);
    if (first !== undefined)
      throw new HistoryError(
        `duplicate id ${op.id} (also operations[${first}])`,
        `operations[${i}].id`,
        lines?.[i],
      );
    seen.set(op.id, i);
    out[i] = op;
  }
  return out;
}

/**
 * historyToJson writes a history in the documented file format (version HISTORY_VERSION): one
 * object with `format`, `version` and `operations`, one operation per line so that files diff well
 * and errors point at a line.
 */
export function historyToJson(ops: readonly Operation[]): string {
  const valid = validateHistory(ops);
  const lines = valid.map((op) => `    ${JSON.stringify(op)}`);
  const body = lines.length > 0 ? `\n${lines.join(',\n')}\n  ` : '';
  return (
    `{\n  "format": ${JSON.stringify(HISTORY_FORMAT)},\n  "version": ${HISTORY_VERSION},\n` +
    `  "operations": [${body}]\n}\n`
  );
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * operationLines finds the line on which each element of the top-level "operations" array starts,
 * by a scan that tracks strings and nesting depth; the text is already known to be valid JSON.
 */
function operationLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastString = '';
  let key = '';
  let inOperations = false;
  let expectValue = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 1) lastString = text.slice(stringStart, i);
      }
      continue;
    }
    if (c === '"') {
      if (inOperations && depth === 2 && expectValue) lines.push(line);
      expectValue = false;
      inString = true;
      stringStart = i + 1;
    } else if (c === ':') {
      if (depth === 1) key = lastString;
      expectValue = true;
    } else if (c === ',') {
      expectValue = true;
    } else if (c === '{' || c === '[') {
      if (inOperations && depth === 2 && expectValue) lines.push(line);
      if (depth === 1 && c === '[' && key === 'operations') inOperations = true;
      depth++;
      expectValue = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 1) inOperations = false;
      expectValue = false;
    } else if (c > ' ' && inOperations && depth === 2 && expectValue) {
      lines.push(line);
      expectValue = false;
    }
  }
  return lines;
}

/**
 * historyFromJson reads a history file written by historyToJson (or by hand, in the same format)
 * and validates it. It throws a HistoryError naming the line and the field of the first problem.
 */
export function historyFromJson(text: string): Operation[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    throw new HistoryError(
      `not valid JSON: ${message}`,
      undefined,
      pos ? lineAt(text, Number(pos[1])) : undefined,
    );
  }
  if (!isRecord(doc))
    throw new HistoryError(`expected an object with format, version and operations`, undefined, 1);
  for (const k of Object.keys(doc))
    if (!TOP_FIELDS.has(k)) throw new HistoryError('unknown field', k);
  if (doc.format !== HISTORY_FORMAT)
    throw new HistoryError(
      `expected ${JSON.stringify(HISTORY_FORMAT)}, got ${describe(doc.format)}`,
      'format',
    );
  if (doc.version !== HISTORY_VERSION)
    throw new HistoryError(
      `unsupported version ${describe(doc.version)} (this build reads version ${HISTORY_VERSION})`,
      'version',
    );
  if (!Array.isArray(doc.operations))
    throw new HistoryError(`expected an array, got ${describe(doc.operations)}`, 'operations');
  return validateHistory(doc.operations, operationLines(text));
}
