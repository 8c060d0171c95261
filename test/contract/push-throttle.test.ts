// The view throttle: at most one view per interval, always the newest, never dropping the last.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterView } from '../../main/contract/view';
import { createViewThrottle } from '../../main/contract/push-throttle';

const v = (version: number) => ({ version }) as ClusterView;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('createViewThrottle', () => {
  it('sends at most 20 Hz and always ends on the latest view', () => {
    const sent: number[] = [];
    const t = createViewThrottle((view) => sent.push(view.version));
    for (let i = 1; i <= 100; i++) {
      t.push(v(i));
      vi.advanceTimersByTime(10); // the source changes at 100 Hz for one second
    }
    vi.advanceTimersByTime(100);
    expect(sent.length).toBeGreaterThanOrEqual(19);
    expect(sent.length).toBeLessThanOrEqual(21);
    expect(sent.at(-1)).toBe(100);
  });

  it('passes a 10 Hz source through unchanged and skips repeats', () => {
    const sent: number[] = [];
    const t = createViewThrottle((view) => sent.push(view.version));
    for (let i = 1; i <= 10; i++) {
      t.push(v(i));
      t.push(v(i));
      vi.advanceTimersByTime(100);
    }
    expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('sends nothing after dispose', () => {
    const sent: number[] = [];
    const t = createViewThrottle((view) => sent.push(view.version));
    t.push(v(1));
    t.push(v(2));
    t.dispose();
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([1]);
  });
});
