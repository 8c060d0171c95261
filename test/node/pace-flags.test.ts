import { describe, expect, it } from 'vitest';
import { FlagError, parseNodeFlags } from '../../main/node/flags';

const base = ['--id', '1', '--cluster-id', 'c', '--data', '/tmp/x'];

describe('the pace flags', () => {
  it('default to pace 1 with fast failover on', () => {
    const f = parseNodeFlags(base);
    expect([f.pace, f.fastFailover]).toEqual([1, true]);
  });

  it('set the pace and switch fast failover off or on', () => {
    const f = parseNodeFlags([...base, '--pace', '20', '--fast-failover', 'off']);
    expect([f.pace, f.fastFailover]).toEqual([20, false]);
    expect(parseNodeFlags([...base, '--pace', '100', '--fast-failover', 'on'])).toMatchObject({
      pace: 100,
      fastFailover: true,
    });
  });

  it('refuse a pace outside 1..100 and anything but on or off', () => {
    for (const [args, msg] of [
      [['--pace', '0'], "--pace: expected an integer in 1..100, got '0'"],
      [['--pace', '101'], "--pace: expected an integer in 1..100, got '101'"],
      [['--pace', '2.5'], "--pace: expected an integer in 1..100, got '2.5'"],
      [['--fast-failover', 'yes'], "--fast-failover: expected on or off, got 'yes'"],
      [['--fast-failover'], '--fast-failover needs a value'],
    ] as [string[], string][]) {
      expect(() => parseNodeFlags([...base, ...args])).toThrow(new FlagError(msg));
    }
  });
});
