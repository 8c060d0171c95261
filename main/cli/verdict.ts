/** verdict: how a linearizability check is reported, shared by `check` and `load --check`. */
import type { Operation } from '../cluster/checker/history';
import type { CheckResult } from '../cluster/checker/porcupine';
import { EXIT } from './args';
import { table } from './format';

const show = (v: string | null | undefined): string => (v === null || v === undefined ? '∅' : v);

/** opCells describes one operation in a failure window's table. */
function opCells(op: Operation): [string, string] {
  const unknown = op.outcome === 'unknown';
  switch (op.op) {
    case 'get':
      return ['get', unknown ? '?' : `→ ${show(op.output?.value)}`];
    case 'put':
      return [`put ${show(op.value)}`, unknown ? '?' : 'ok'];
    case 'del':
      return ['del', unknown ? '?' : 'ok'];
    case 'cas':
      return [
        `cas ${show(op.expected)} → ${show(op.value)}`,
        unknown ? '?' : op.output?.casOk ? 'swapped' : 'not swapped',
      ];
  }
}

/** failureTable renders the failing window: each operation, when it ran, and where the search got stuck. */
export function failureTable(r: CheckResult): string {
  const f = r.failure;
  if (!f) return '';
  const lin = new Map(f.linearized.map((op, i) => [op, i + 1]));
  const pending = new Set(f.pending);
  const rows = f.window.map((op) => {
    const [call, result] = opCells(op);
    const order = lin.get(op);
    const where = order !== undefined ? `linearized #${order}` : pending.has(op) ? 'stuck' : '';
    return [
      op.id,
      String(op.client),
      call,
      result,
      op.invoke,
      op.complete === undefined ? '…' : op.complete,
      where,
    ];
  });
  return table(['ID', 'CLIENT', 'CALL', 'RESULT', 'INVOKE', 'COMPLETE', 'SEARCH'], rows, [
    'right',
    'left',
    'left',
    'left',
    'right',
    'right',
    'left',
  ]);
}

/** verdictCode is the exit code of a check: 0 linearizable, 1 not, 3 undecided. */
export function verdictCode(r: CheckResult): number {
  return r.result === 'ok' ? EXIT.ok : r.result === 'not-linearizable' ? EXIT.failed : EXIT.unknown;
}

/** verdictText reports a check in words, with the failing window when there is one. */
export function verdictText(r: CheckResult, operations: number): string {
  const keys = r.perKey.length;
  const ms = Math.round(r.elapsedMs);
  const scope = `${operations} operations on ${keys} key${keys === 1 ? '' : 's'}, ${ms} ms`;
  if (r.result === 'ok') return `linearizable (${scope})\n`;
  if (r.result === 'unknown') {
    const open = r.perKey.filter((k) => k.result === 'unknown').map((k) => k.key);
    return `undecided: the check ran out of time (${scope}); keys not decided: ${open.slice(0, 10).join(', ')}${open.length > 10 ? ', …' : ''}\n`;
  }
  const f = r.failure!;
  return [
    `NOT linearizable (${scope})`,
    `key: ${f.key}`,
    `explanation: ${f.explanation}`,
    '',
    'failing window:',
    failureTable(r),
    '',
  ].join('\n');
}

/** verdictJson is the check as one JSON object. */
export function verdictJson(r: CheckResult, operations: number): Record<string, unknown> {
  return {
    result: r.result,
    linearizable: r.result === 'ok' ? true : r.result === 'not-linearizable' ? false : null,
    operations,
    keys: r.perKey.length,
    ms: Math.round(r.elapsedMs),
    ...(r.failure
      ? {
          failure: {
            key: r.failure.key,
            explanation: r.failure.explanation,
            linearizedCount: r.failure.linearizedCount,
            window: r.failure.window,
            pending: r.failure.pending.map((o) => o.id),
          },
        }
      : {}),
  };
}
