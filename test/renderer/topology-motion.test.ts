// What moves on the Topology view: timers between views, dots in flight, transfer rates.
import { describe, expect, it } from 'vitest';
import type { MessageTrace, TimerView } from '../../main/contract/view';
import {
  addSample,
  DOT_R,
  DotQueue,
  dotAt,
  dotFrame,
  dotsOf,
  DROP_HOLD_MS,
  formatTransfer,
  kindOf,
  MAX_SPREAD_MS,
  MIN_FLIGHT_MS,
  NOT_DRAWN_WINDOW_MS,
  showsTimer,
  timerFraction,
  transferRate,
} from '../../renderer/src/lib/topology-motion';

const timer = (over: Partial<TimerView> = {}): TimerView => ({
  kind: 'election',
  elapsedMs: 300,
  timeoutMs: 1500,
  fraction: 0.2,
  at: 10_000,
  ...over,
});

const trace = (over: Partial<MessageTrace> = {}): MessageTrace => ({
  from: 1,
  to: 2,
  type: 'app',
  term: 2,
  seq: 1,
  time: 5000,
  dir: 'out',
  fate: 'sent',
  delayMs: 0,
  bytes: 100,
  ...over,
});

describe('timerFraction', () => {
  it('advances 1 ms per ms from the report: its age in the view, then time since arrival', () => {
    // 300 elapsed + 200 old when the view was made + 250 since it arrived = 750 of 1500
    expect(timerFraction(timer(), 10_200, 250, true)).toBeCloseTo(0.5, 6);
    expect(timerFraction(timer(), 10_000, 0, true)).toBeCloseTo(0.2, 6);
  });

  it('an election timer stops at full; a heartbeat timer comes round again', () => {
    expect(timerFraction(timer(), 10_000, 5000, true)).toBe(1);
    const hb = timer({ kind: 'heartbeat', elapsedMs: 50, timeoutMs: 1000, fraction: 0.05 });
    expect(timerFraction(hb, 10_000, 1000 + 450, true)).toBeCloseTo(0.5, 6);
  });

  it('a paused, down or stale node keeps its reported fraction', () => {
    expect(timerFraction(timer(), 10_200, 5000, false)).toBe(0.2);
  });

  it('a new view whose timer dropped starts the arc over from its own figure', () => {
    const before = timerFraction(timer({ elapsedMs: 1200 }), 10_000, 100, true);
    const after = timerFraction(timer({ elapsedMs: 10, at: 10_100 }), 10_100, 0, true);
    expect(after).toBeLessThan(before);
    expect(after).toBeCloseTo(10 / 1500, 6);
  });

  it('a leader whose heartbeat comes round too fast to read gets a steady ring', () => {
    expect(showsTimer(timer())).toBe(true);
    expect(showsTimer(timer({ kind: 'heartbeat', timeoutMs: 100 }))).toBe(false);
    expect(showsTimer(timer({ kind: 'heartbeat', timeoutMs: 2000 }))).toBe(true);
    expect(showsTimer(null)).toBe(false);
  });
});

describe('dots', () => {
  it('every message type has a family; requests and responses differ', () => {
    expect(kindOf('vote')).toEqual({ family: 'vote', request: true });
    expect(kindOf('vote-resp')).toEqual({ family: 'vote', request: false });
    expect(kindOf('pre-vote-resp')).toEqual({ family: 'pre-vote', request: false });
    expect(kindOf('snap')).toEqual({ family: 'snapshot', request: true });
    expect(kindOf('heartbeat-resp').request).toBe(false);
  });

  it('a batch plays out in its recorded rhythm from its arrival, only sent messages', () => {
    const dots = dotsOf(
      [
        trace({ time: 5100, type: 'app-resp', from: 2, to: 1 }),
        trace({ time: 5000 }),
        trace({ time: 5050, dir: 'in' }),
      ],
      1000,
    );
    expect(dots.map((d) => d.start)).toEqual([1000, 1100]);
    expect(dots[1]!.request).toBe(false);
    expect(dots[0]!.dur).toBe(MIN_FLIGHT_MS);
  });

  it('a held message flies for as long as it was held; a long batch is squeezed', () => {
    const [d] = dotsOf([trace({ delayMs: 1000, fate: 'delayed' })], 0);
    expect(d!.dur).toBe(1000);
    const spread = dotsOf([trace({ time: 0 }), trace({ time: 10_000 })], 0);
    expect(spread[1]!.start).toBe(MAX_SPREAD_MS);
  });

  it('a dot flies from 0 to 1 over its duration; a dropped one stops mid-way, then goes', () => {
    const [d] = dotsOf([trace({ delayMs: 800 })], 0);
    expect(dotAt(d!, -1).phase).toBe('waiting');
    expect(dotAt(d!, 400)).toEqual({ phase: 'flying', t: 0.5 });
    expect(dotAt(d!, 800).phase).toBe('gone');
    const [x] = dotsOf([trace({ delayMs: 800, fate: 'dropped' })], 0);
    expect(dotAt(x!, 200)).toEqual({ phase: 'flying', t: 0.25 });
    expect(dotAt(x!, 400 + DROP_HOLD_MS - 1)).toEqual({ phase: 'stopped', t: 0.5 });
    expect(dotAt(x!, 400 + DROP_HOLD_MS).phase).toBe('gone');
  });

  it('the queue keeps at most its cap, the newest, and counts what it did not draw', () => {
    const q = new DotQueue(5);
    q.add(
      dotsOf(
        [1, 2, 3, 4].map((i) => trace({ time: i, seq: i })),
        0,
      ),
      0,
    );
    q.add(
      dotsOf(
        [5, 6, 7].map((i) => trace({ time: i, seq: i })),
        10,
      ),
      10,
    );
    expect(q.dots).toHaveLength(5);
    expect(q.dots[0]!.start).toBe(2);
    expect(q.notDrawn(10)).toBe(2);
    expect(q.notDrawn(10 + NOT_DRAWN_WINDOW_MS + 1)).toBe(0);
    expect(q.prune(10_000)).toBe(0);
  });
});

describe('a frame of dots', () => {
  const lane = { x1: 0, y1: 0, x2: 100, y2: 0 };
  it('draws each dot in flight as a circle in its style, a × where it was dropped', () => {
    const dots = dotsOf(
      [
        trace({ type: 'vote' }),
        trace({ type: 'vote-resp', from: 2, to: 1 }),
        trace({ type: 'app', fate: 'dropped' }),
        trace({ type: 'app', from: 1, to: 9 }),
      ],
      0,
    );
    const f = dotFrame(dots, 300, (from, to) => (to === 9 ? undefined : lane));
    expect(f.shown).toBe(3);
    // a quarter-circle arc pair per dot, centred on its point
    expect(f.paths.get('vote req')).toBe(
      `M${75 - DOT_R} 0a${DOT_R} ${DOT_R} 0 1 0 ${2 * DOT_R} 0a${DOT_R} ${DOT_R} 0 1 0 ${-2 * DOT_R} 0`,
    );
    expect(f.paths.get('vote resp')).toMatch(/^M/);
    expect(f.paths.has('append req')).toBe(true);
    expect(f.crosses).toMatch(new RegExp(`^M${50 - DOT_R} ${-DOT_R}l`));
    expect(dotFrame(dots, -1, () => lane).shown).toBe(0);
  });
});

describe('snapshot transfer rate', () => {
  it('is bytes over time across the samples of the window; a new image starts over', () => {
    let s = addSample([], { index: 9, at: 0, sent: 0 });
    expect(transferRate(s)).toBe(null);
    s = addSample(s, { index: 9, at: 500, sent: 1024 * 1024 });
    s = addSample(s, { index: 9, at: 1000, sent: 2 * 1024 * 1024 });
    expect(transferRate(s)).toBe(2 * 1024 * 1024);
    s = addSample(s, { index: 9, at: 1000, sent: 9 });
    expect(s).toHaveLength(3);
    s = addSample(s, { index: 9, at: 4000, sent: 5 * 1024 * 1024 });
    expect(s.map((x) => x.at)).toEqual([1000, 4000]);
    expect(transferRate(s)).toBe(1024 * 1024);
    s = addSample(s, { index: 12, at: 4100, sent: 0 });
    expect(s).toHaveLength(1);
  });

  it('is worded in MiB', () => {
    expect(formatTransfer(1.25 * 1024 * 1024, 4 * 1024 * 1024, 3.1 * 1024 * 1024)).toBe(
      '1.3 of 4.0 MiB · 3.1 MiB/s',
    );
    expect(formatTransfer(0, 4 * 1024 * 1024, null)).toBe('0.0 of 4.0 MiB');
    // A small snapshot (a lab's) in KiB, not "0.0 of 0.0 MiB".
    expect(formatTransfer(512, 1946, 800)).toBe('0.5 of 1.9 KiB · 0.8 KiB/s');
  });
});
