import { describe, expect, it } from 'vitest';
import {
  HistoryError,
  historyFromJson,
  historyToJson,
  stepKv,
} from '../../../main/cluster/checker/history';
import type { Operation } from '../../../main/cluster/checker/history';
import { cas, del, get, history, put } from './helpers';

const sample = (): Operation[] =>
  history(
    put('a', 'x', '1', [0, 3]),
    get('b', 'x', '1', [1, 4]),
    cas('a', 'x', '1', '2', true, [5, 9]),
    cas('b', 'x', null, '3', false, [6, 8]),
    del('c', 'x', [10, 11], 'fail'),
    put('c', 'y', 'z', [12], 'unknown'),
  );

function errorOf(text: string): HistoryError {
  try {
    historyFromJson(text);
  } catch (err) {
    if (err instanceof HistoryError) return err;
    throw err;
  }
  throw new Error('expected a HistoryError');
}

/** replaceOp rewrites operation i of a file written by historyToJson. */
function replaceOp(text: string, i: number, edit: (op: Record<string, unknown>) => void): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith(`{"id":${i},`));
  const trailing = lines[at].endsWith(',') ? ',' : '';
  const op = JSON.parse(lines[at].trim().replace(/,$/, '')) as Record<string, unknown>;
  edit(op);
  lines[at] = `    ${JSON.stringify(op)}${trailing}`;
  return lines.join('\n');
}

describe('stepKv', () => {
  it('implements get, put, del and cas', () => {
    const [p, g, c1, c2, d] = sample();
    expect(stepKv(null, p)).toEqual({ ok: true, state: '1' });
    expect(stepKv('1', g)).toEqual({ ok: true, state: '1' });
    expect(stepKv('7', g)).toEqual({ ok: false, state: '7' });
    expect(stepKv('7', g, true)).toEqual({ ok: true, state: '7' });
    expect(stepKv('1', c1)).toEqual({ ok: true, state: '2' });
    expect(stepKv('5', c1)).toEqual({ ok: false, state: '5' });
    expect(stepKv('5', c2)).toEqual({ ok: true, state: '5' });
    expect(stepKv(null, c2)).toEqual({ ok: false, state: '3' });
    expect(stepKv('5', d)).toEqual({ ok: true, state: null });
  });
});

describe('history JSON', () => {
  it('round-trips, one operation per line, with format and version', () => {
    const ops = sample();
    const text = historyToJson(ops);
    expect(historyFromJson(text)).toEqual(ops);
    const doc = JSON.parse(text) as { format: string; version: number; operations: unknown[] };
    expect(doc.format).toBe('raftdeck-history');
    expect(doc.version).toBe(1);
    expect(text.split('\n')).toHaveLength(ops.length + 7);
  });

  it('round-trips an empty history', () => {
    expect(historyFromJson(historyToJson([]))).toEqual([]);
  });

  it('reads a hand-written file', () => {
    const text = `{
      "format": "raftdeck-history", "version": 1,
      "operations": [
        { "id": 1, "client": 7, "op": "get", "key": "k", "invoke": 0.5, "complete": 2.25,
          "outcome": "ok", "output": { "value": null } }
      ]
    }`;
    expect(historyFromJson(text)).toEqual([
      {
        id: 1,
        client: 7,
        op: 'get',
        key: 'k',
        invoke: 0.5,
        complete: 2.25,
        outcome: 'ok',
        output: { value: null },
      },
    ]);
  });

  it('names the line and field of a bad operation', () => {
    const text = replaceOp(historyToJson(sample()), 2, (op) => (op.invoke = 'soon'));
    const err = errorOf(text);
    expect(err.line).toBe(7);
    expect(err.field).toBe('operations[2].invoke');
    expect(err.message).toBe(
      'history line 7, operations[2].invoke: expected a finite number of milliseconds, got "soon"',
    );
  });

  it.each<[string, (op: Record<string, unknown>) => void, string, string]>([
    ['op', (op) => (op.op = 'append'), 'operations[1].op', 'expected one of get, put, del, cas'],
    ['outcome', (op) => (op.outcome = 'maybe'), 'operations[1].outcome', 'expected one of ok'],
    ['output', (op) => delete op.output, 'operations[1].output.value', "a get with outcome 'ok'"],
    ['value type', (op) => (op.output = { value: 5 }), 'operations[1].output.value', 'got 5'],
    ['complete', (op) => (op.complete = -1), 'operations[1].complete', 'is before invoke 1'],
    ['ok without complete', (op) => delete op.complete, 'operations[1].complete', 'missing'],
    ['unknown field', (op) => (op.reslut = 1), 'operations[1].reslut', 'unknown field'],
    ['id', (op) => (op.id = 0), 'operations[1].id', 'duplicate id 0 (also operations[0])'],
    ['client', (op) => (op.client = null), 'operations[1].client', 'expected a string or a number'],
    ['key', (op) => (op.key = 3), 'operations[1].key', 'expected a string'],
    ['value on get', (op) => (op.value = 'a'), 'operations[1].value', 'not allowed for get'],
  ])('rejects a bad %s', (_name, edit, field, message) => {
    const err = errorOf(replaceOp(historyToJson(sample()), 1, edit));
    expect(err.field).toBe(field);
    expect(err.line).toBe(6);
    expect(err.message).toContain(message);
  });

  it('rejects a cas without casOk or expected', () => {
    const text = historyToJson(sample());
    expect(errorOf(replaceOp(text, 2, (op) => delete op.output)).field).toBe(
      'operations[2].output.casOk',
    );
    expect(errorOf(replaceOp(text, 2, (op) => delete op.expected)).field).toBe(
      'operations[2].expected',
    );
  });

  it('names the line of a JSON syntax error', () => {
    const text = historyToJson(sample()).replace('"op":"del"', '"op":"del",,');
    const err = errorOf(text);
    expect(err.line).toBe(9);
    expect(err.message).toMatch(/^history line 9: not valid JSON/);
  });

  it('rejects another format or version', () => {
    const text = historyToJson(sample());
    expect(errorOf(text.replace('"version": 1', '"version": 2')).message).toBe(
      'history version: unsupported version 2 (this build reads version 1)',
    );
    expect(errorOf(text.replace('raftdeck-history', 'other')).field).toBe('format');
    expect(errorOf('[]').message).toContain('expected an object');
    expect(errorOf('{"format":"raftdeck-history","version":1}').field).toBe('operations');
  });

  it('refuses to write an invalid history', () => {
    const bad = sample();
    bad[3].complete = -5;
    expect(() => historyToJson(bad)).toThrow(/operations\[3\]\.complete/);
  });
});
