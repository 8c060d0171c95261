/**
 * chart: what the time-series charts draw, as plain data: lines aligned on one list of times,
 * shaded time ranges (bands), the visible window and the y scale's round top. Times are epoch
 * milliseconds, the cluster's clock.
 */

/** Line: one line of a TimeChart: a value per time of its ChartData (null leaves a gap). */
export interface Line {
  name: string;
  /** color: any CSS colour, `var(--token)` included (resolved against the chart's element). */
  color: string;
  values: (number | null)[];
}

/** ChartData: increasing times and the lines, each with one value per time. */
export interface ChartData {
  times: number[];
  lines: Line[];
}

/**
 * Band: a time range shaded behind the lines: `fault` while a fault was in force, `errors`
 * while operations failed or ended unknown. `to` null = still going on.
 */
export interface Band {
  kind: 'fault' | 'errors';
  from: number;
  to: number | null;
}

/** TimeRange: a closed range of times, from ≤ to. */
export interface TimeRange {
  from: number;
  to: number;
}

/** niceMax: the top of a y axis over values up to `max`: four steps of a round size. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 4;
  // Four grid steps of a round size (1, 2, 2.5 or 5 times a power of ten), 10% headroom.
  const raw = (max * 1.1) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  return step * 4;
}

/**
 * visibleWindow: the x range a chart shows: the zoom when there is one, else the last `spanMs`
 * before the newest time (everything when `spanMs` is null), else the `spanMs` before `now`.
 */
export function visibleWindow(
  times: number[],
  spanMs: number | null,
  zoom: TimeRange | null,
  now: number,
): TimeRange {
  if (zoom) return zoom;
  const last = times[times.length - 1];
  const first = times[0];
  if (last === undefined || first === undefined) return { from: now - (spanMs ?? 60_000), to: now };
  if (spanMs === null)
    return first < last ? { from: first, to: last } : { from: last - 1000, to: last };
  return { from: last - spanMs, to: last };
}

/**
 * periodsWhere: the time ranges over which `when` holds for consecutive samples. A sample at
 * time t stands for the interval since the sample before it (or one interval of the series when
 * it is the first), so a single bad sample is a band of one interval, not a line.
 */
export function periodsWhere<T extends { time: number }>(
  samples: readonly T[],
  when: (s: T) => boolean,
): TimeRange[] {
  const out: TimeRange[] = [];
  const step = samples.length > 1 ? samples[1]!.time - samples[0]!.time : 1000;
  let open: TimeRange | null = null;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (when(s)) {
      const from = i > 0 ? samples[i - 1]!.time : s.time - step;
      if (open) open.to = s.time;
      else out.push((open = { from, to: s.time }));
    } else {
      open = null;
    }
  }
  return out;
}

/**
 * trackPeriods: the ranges over which a condition held, extended by one observation (the
 * condition at `now`). An open range (to = null) grows while the condition holds and closes at
 * the first observation without it. Observations come in time order; at most `keep` ranges are
 * kept, the newest. Returns the same array when nothing changed.
 */
export function trackPeriods(
  ranges: readonly { from: number; to: number | null }[],
  active: boolean,
  now: number,
  keep = 200,
): { from: number; to: number | null }[] {
  const last = ranges[ranges.length - 1];
  const open = last !== undefined && last.to === null;
  if (active === open) return ranges as { from: number; to: number | null }[];
  const next = active
    ? [...ranges, { from: now, to: null }]
    : [...ranges.slice(0, -1), { from: last!.from, to: now }];
  return next.length > keep ? next.slice(next.length - keep) : next;
}

/** formatValue: a value for an axis or a legend: 1.2k, 35, 4.5. */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  return v >= 1000
    ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`
    : v >= 10
      ? v.toFixed(0)
      : v.toFixed(1);
}
