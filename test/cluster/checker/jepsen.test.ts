import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JepsenParseError, parseJepsenLog } from '../../../main/cluster/checker/jepsen';
import { check } from '../../../main/cluster/checker/porcupine';

const dir = fileURLToPath(new URL('../../fixtures/jepsen-etcd/', import.meta.url));
const BOUND_MS = 10_000;

const verdicts = readFileSync(`${dir}verdicts.txt`, 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.trim().split(/\s+/) as [string, string]);

const log = (...lines: string[]): string =>
  lines.map((l) => `INFO  jepsen.util - ${l.replaceAll(' ', '\t')}`).join('\n');

describe('Jepsen etcd histories agree with their verdicts', () => {
  it('has all 60 histories', () => {
    expect(verdicts).toHaveLength(60);
  });

  it.each(verdicts)(
    '%s is %s',
    (file, verdict) => {
      const ops = parseJepsenLog(readFileSync(dir + file, 'utf8'));
      const start = performance.now();
      const r = check(ops, { timeoutMs: BOUND_MS });
      expect(performance.now() - start).toBeLessThan(BOUND_MS);
      expect(r.result).toBe(verdict === 'linearizable' ? 'ok' : 'not-linearizable');
      if (r.failure) {
        expect(r.failure.key).toBe('register');
        expect(r.failure.window.length).toBeGreaterThan(0);
        expect(r.failure.window.length).toBeLessThanOrEqual(20);
      }
    },
    BOUND_MS + 5_000,
  );
});

describe('parseJepsenLog', () => {
  it('maps read, write and cas to get, put and cas on one key, times being line numbers', () => {
    const ops = parseJepsenLog(
      log(
        '0 :invoke :write 3',
        '1 :invoke :read nil',
        '0 :ok :write 3',
        '1 :ok :read 3',
        '2 :invoke :cas [3 4]',
        '2 :ok :cas [3 4]',
        '1 :invoke :read nil',
        '1 :ok :read nil',
      ),
    );
    expect(ops).toEqual([
      {
        id: 0,
        client: 0,
        op: 'put',
        key: 'register',
        value: '3',
        invoke: 1,
        complete: 3,
        outcome: 'ok',
      },
      {
        id: 1,
        client: 1,
        op: 'get',
        key: 'register',
        invoke: 2,
        complete: 4,
        outcome: 'ok',
        output: { value: '3' },
      },
      {
        id: 2,
        client: 2,
        op: 'cas',
        key: 'register',
        expected: '3',
        value: '4',
        invoke: 5,
        complete: 6,
        outcome: 'ok',
        output: { casOk: true },
      },
      {
        id: 3,
        client: 1,
        op: 'get',
        key: 'register',
        invoke: 7,
        complete: 8,
        outcome: 'ok',
        output: { value: null },
      },
    ]);
  });

  it('reads a failed cas as one that ran and did not swap', () => {
    const [op] = parseJepsenLog(log('0 :invoke :cas [1 2]', '0 :fail :cas [1 2]'));
    expect(op).toMatchObject({
      outcome: 'ok',
      output: { casOk: false },
      expected: '1',
      value: '2',
    });
  });

  it('reads a failed write as one that did not happen', () => {
    const [op] = parseJepsenLog(log('0 :invoke :write 1', '0 :fail :write 1'));
    expect(op.outcome).toBe('fail');
  });

  it('reads :info, a timed-out read and a missing completion as unknown', () => {
    const ops = parseJepsenLog(
      log(
        '0 :invoke :write 1',
        '1 :invoke :read nil',
        '2 :invoke :cas [1 2]',
        '0 :info :write :timed-out',
        '1 :fail :read :timed-out',
        '5 :invoke :write 4',
      ),
    );
    expect(ops.map((op) => [op.client, op.outcome, op.complete])).toEqual([
      [0, 'unknown', 4],
      [1, 'unknown', 5],
      [2, 'unknown', undefined],
      [5, 'unknown', undefined],
    ]);
    expect(ops[1].output).toBeUndefined();
  });

  it('follows a crashed process into its new id', () => {
    const ops = parseJepsenLog(
      log(
        '3 :invoke :write 1',
        '3 :info :write :timed-out',
        '8 :invoke :read nil',
        '8 :ok :read 1',
      ),
    );
    expect(check(ops).result).toBe('ok');
    expect(ops.map((op) => op.client)).toEqual([3, 8]);
  });

  it('skips lines that are not jepsen.util events and uses the key given', () => {
    const text = `INFO  jepsen.core - Running test\n\n${log('0 :invoke :read nil', '0 :ok :read nil')}`;
    const ops = parseJepsenLog(text, { key: 'r' });
    expect(ops).toMatchObject([{ key: 'r', invoke: 3, complete: 4 }]);
  });

  it.each([
    [log('0 :invoke :read nil', '0 :ok :write 1'), 2, 'completes a write, but invoked a read'],
    [log('0 :ok :read 1'), 1, 'completes nothing it invoked'],
    [log('0 :invoke :read nil', '0 :invoke :read nil'), 2, 'invokes again'],
    [log('0 :invoke :write 1', '0 :ok :write 2'), 2, 'was invoked with 1'],
    [log('0 :invoke :cas [1]'), 1, 'bad cas arguments'],
    ['INFO  jepsen.util - 0\t:invoke\t:append\t1', 1, 'not a jepsen.util event'],
  ])('rejects a bad log (%#) naming the line', (text, line, message) => {
    let error: unknown;
    try {
      parseJepsenLog(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JepsenParseError);
    expect((error as JepsenParseError).line).toBe(line);
    expect((error as Error).message).toContain(`line ${line}:`);
    expect((error as Error).message).toContain(message);
  });
});
