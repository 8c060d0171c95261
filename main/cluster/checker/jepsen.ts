/**
 * jepsen reads the event log of a Jepsen register test (one line per event, as jepsen.util logs
 * it) into Operations on one key, so that the checker can be run on Jepsen's published histories.
 *
 *   INFO  jepsen.util - PROCESS<TAB>:invoke|:ok|:fail|:info<TAB>:read|:write|:cas<TAB>VALUE
 *
 * VALUE is `nil`, an integer, `[expected new]` for a cas, or `:timed-out`. Times are line numbers
 * (1-based), so real-time order is the order of the lines. Mapping of completions:
 *   :ok            the operation completed: a read's value is its output, a cas swapped;
 *   :fail :cas     the cas ran and did not swap (the register did not hold `expected`): outcome
 *                  'ok' with casOk false, which constrains the state as Porcupine's parser does;
 *   :fail :write   the write did not happen: outcome 'fail';
 *   :fail :read    a read that failed or timed out tells nothing: outcome 'unknown';
 *   :info          the client does not know (timeout, crash): outcome 'unknown';
 *   no completion  by the end of the log: outcome 'unknown', no complete time.
 * A process whose operation ended in :info is never reused; Jepsen starts a new process id instead.
 */
import type { Operation } from './history';

/** JepsenOptions configure parseJepsenLog. */
export interface JepsenOptions {
  /** key is the key every operation is on; default 'register'. */
  key?: string;
}

/** JepsenParseError is a malformed or inconsistent log line. */
export class JepsenParseError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`jepsen log line ${line}: ${message}`);
    this.name = 'JepsenParseError';
    this.line = line;
  }
}

const EVENT =
  /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.+?)\s*$/;
const CAS_ARGS = /^\[(-?\d+)\s+(-?\d+)\]$/;
const INTEGER = /^-?\d+$/;
const OPS = { read: 'get', write: 'put', cas: 'cas' } as const;

interface Open {
  op: Operation;
  kind: 'read' | 'write' | 'cas';
  arg: string;
  line: number;
}

/**
 * parseJepsenLog turns a Jepsen log into operations with ids in invoke order, on one key. Lines
 * that are not jepsen.util events (other log output, blank lines) are skipped; an event line that
 * does not parse, or does not fit the process's open operation, throws a JepsenParseError.
 */
export function parseJepsenLog(text: string, options: JepsenOptions = {}): Operation[] {
  const key = options.key ?? 'register';
  const ops: Operation[] = [];
  const open = new Map<number, Open>();
  const lines = text.split(/\r?\n/);

  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const line = lines[n];
    if (!/\bjepsen\.util\s+-/.test(line)) continue;
    const m = EVENT.exec(line);
    if (!m) throw new JepsenParseError(lineNo, `not a jepsen.util event: ${JSON.stringify(line)}`);
    const proc = Number(m[1]);
    const type = m[2];
    const kind = m[3] as Open['kind'];
    const value = m[4];

    if (type === 'invoke') {
      const pending = open.get(proc);
      if (pending)
        throw new JepsenParseError(
          lineNo,
          `process ${proc} invokes again before its call on line ${pending.line} completed`,
        );
      const op: Operation = {
        id: ops.length,
        client: proc,
        op: OPS[kind],
        key,
        invoke: lineNo,
        outcome: 'unknown',
      };
      if (kind === 'read') {
        if (value !== 'nil')
          throw new JepsenParseError(lineNo, `a read is invoked with nil, got ${value}`);
      } else if (kind === 'write') {
        if (!INTEGER.test(value)) throw new JepsenParseError(lineNo, `bad write value ${value}`);
        op.value = value;
      } else {
        const cas = CAS_ARGS.exec(value);
        if (!cas) throw new JepsenParseError(lineNo, `bad cas arguments ${value}`);
        op.expected = cas[1];
        op.value = cas[2];
      }
      ops.push(op);
      open.set(proc, { op, kind, arg: value, line: lineNo });
      continue;
    }

    const call = open.get(proc);
    if (!call) throw new JepsenParseError(lineNo, `process ${proc} completes nothing it invoked`);
    if (call.kind !== kind)
      throw new JepsenParseError(
        lineNo,
        `process ${proc} completes a ${kind}, but invoked a ${call.kind} on line ${call.line}`,
      );
    const timedOut = value === ':timed-out';
    if (kind !== 'read' && !timedOut && value !== call.arg)
      throw new JepsenParseError(
        lineNo,
        `${kind} completes with ${value}, but was invoked with ${call.arg} on line ${call.line}`,
      );
    open.delete(proc);
    const op = call.op;
    op.complete = lineNo;

    if (type === 'info') {
      op.outcome = 'unknown';
    } else if (type === 'ok') {
      if (timedOut) throw new JepsenParseError(lineNo, ':ok with :timed-out');
      op.outcome = 'ok';
      if (kind === 'read') {
        if (value !== 'nil' && !INTEGER.test(value))
          throw new JepsenParseError(lineNo, `bad read result ${value}`);
        op.output = { value: value === 'nil' ? null : value };
      } else if (kind === 'cas') {
        op.output = { casOk: true };
      }
    } else if (kind === 'read') {
      op.outcome = 'unknown';
    } else if (kind === 'cas' && !timedOut) {
      op.outcome = 'ok';
      op.output = { casOk: false };
    } else if (kind === 'cas') {
      op.outcome = 'unknown';
    } else {
      op.outcome = timedOut ? 'unknown' : 'fail';
    }
  }
  return ops;
}
