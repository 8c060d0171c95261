import { describe, expect, it } from 'vitest';
import { MESSAGE_FLIGHT_MS } from '../../main/contract/view';
import {
  checkPace,
  defaultFastFailover,
  describePace,
  messageDelayMs,
  reportedPace,
} from '../../main/view/pace';

describe('the rules of the pace', () => {
  it('fast failover is on by default at real time and off slowed down', () => {
    expect(defaultFastFailover(1)).toBe(true);
    expect(defaultFastFailover(2)).toBe(false);
    expect(defaultFastFailover(50)).toBe(false);
  });

  it('holds every message MESSAGE_FLIGHT_MS × pace when slowed down, none at real time', () => {
    expect(messageDelayMs(1)).toBe(0);
    expect(messageDelayMs(20)).toBe(20 * MESSAGE_FLIGHT_MS);
  });

  it('accepts a whole pace from 1 to 100, naming the bounds otherwise', () => {
    expect(checkPace(1)).toBe(1);
    expect(checkPace(100)).toBe(100);
    for (const bad of [0, 101, 2.5, NaN]) {
      expect(() => checkPace(bad)).toThrow(/pace must be a whole number from 1 to 100/);
    }
  });

  it('words the pace for the events and the command line', () => {
    expect(describePace({ pace: 1, fastFailover: true })).toBe(
      "pace 1× (real time); fast failover on (followers campaign at once when the leader's process is gone)",
    );
    expect(describePace({ pace: 20, fastFailover: false })).toBe(
      'pace 20×: ticks, heartbeats and election timeouts 20 times longer, every message held 200 ms on its way; fast failover off (followers wait for their election timeout)',
    );
  });

  it('reads the pace the nodes report, from the first that gives it', () => {
    expect(reportedPace([undefined, {}])).toBeNull();
    expect(reportedPace([{}, { pace: 5, fastFailover: true }, { pace: 5 }])).toEqual({
      pace: 5,
      fastFailover: true,
    });
    expect(reportedPace([{ pace: 5 }])).toEqual({ pace: 5, fastFailover: false });
  });
});
