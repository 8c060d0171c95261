/**
 * soak: a long run at concurrency 64 against a 3-member raftdeck cluster that snapshots every
 * 100,000 entries, reported minute by minute (ops/s, p50, p99, each member's RSS, snapshots
 * taken), so that drift over time and memory growth show. The writers overwrite a fixed set of
 * SOAK_KEYS keys: the state keeps its size, and what the members hold beyond it is what the run
 * leaves behind. The writers run on the bench's main thread, one client with 64 writers (as a
 * throughput level of 64 does in one load thread), each put's latency counted in the minute it
 * completes in; the first SOAK_WARM_MS are warm-up and not counted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../../main/raft/types';
import { KEY_BYTES, VALUE_BYTES, percentile } from './load';
import { rssMB } from './recovery';
import { memberIds, raftdeckPutter, startRaftdeck, statusOf } from './raftdeck-cluster';
import { isInterrupted } from './teardown';
import type { StageContext } from './throughput';

export const SOAK_CONCURRENCY = 64;
export const SOAK_SNAPSHOT_ENTRIES = 100_000;
/** SOAK_KEYS: the keys the writers overwrite in turn (the state: SOAK_KEYS × 144 bytes). */
export const SOAK_KEYS = 100_000;
export const SOAK_WARM_MS = 2000;
/**
 * Drift thresholds, last minute against the first: ops/s falling by more than
 * DRIFT_OPS_PCT %, p99 growing by more than DRIFT_P99_PCT %, a member's RSS growing by more
 * than RSS_GROWTH_MB.
 */
export const DRIFT_OPS_PCT = 10;
export const DRIFT_P99_PCT = 50;
export const RSS_GROWTH_MB = 32;

/** SoakMinute is one minute of the run. */
export interface SoakMinute {
  minute: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** rssMB: each member's RSS at the end of the minute (MB = 2^20 bytes), by member order. */
  rssMB: number[];
  /** snapshots: snapshots each member took (or installed) during the minute. */
  snapshots: number[];
}

export interface SoakResult {
  minutes: number;
  concurrency: number;
  snapshotEntries: number;
  keys: number;
  /** members: the member ids, in the order of rssMB and snapshots. */
  members: NodeId[];
  rows: SoakMinute[];
  drift: SoakDrift;
  /** flags: what drifted or grew beyond the thresholds (empty: nothing). */
  flags: string[];
}

export interface SoakDrift {
  /** opsPct, p99Pct: the last minute against the first, in % (positive: higher). */
  opsPct: number;
  p99Pct: number;
  /** rssGrowthMB: each member's RSS at the end of the last minute minus the first. */
  rssGrowthMB: number[];
}

const round1 = (n: number): number => Number(n.toFixed(1));
const round2 = (n: number): number => Number(n.toFixed(2));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** minuteFigures: ops/s, p50 and p99 of the latencies (ms) of the puts done in `seconds`. */
export function minuteFigures(
  lat: number[],
  seconds: number,
): { opsPerSec: number; p50Ms: number; p99Ms: number } {
  const sorted = Float64Array.from(lat).sort();
  return {
    opsPerSec: Math.round(lat.length / seconds),
    p50Ms: sorted.length ? round2(percentile(sorted, 50)) : 0,
    p99Ms: sorted.length ? round2(percentile(sorted, 99)) : 0,
  };
}

/** soakDrift compares the last minute with the first. */
export function soakDrift(rows: SoakMinute[]): SoakDrift {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last) return { opsPct: 0, p99Pct: 0, rssGrowthMB: [] };
  const pct = (a: number, b: number): number => (b === 0 ? 0 : round1(((a - b) / b) * 100));
  return {
    opsPct: pct(last.opsPerSec, first.opsPerSec),
    p99Pct: pct(last.p99Ms, first.p99Ms),
    rssGrowthMB: last.rssMB.map((r, k) => round1(r - (first.rssMB[k] ?? r))),
  };
}

/** soakFlags names what drifted or grew beyond the thresholds (see DRIFT_OPS_PCT). */
export function soakFlags(d: SoakDrift, members: NodeId[]): string[] {
  const out: string[] = [];
  if (d.opsPct < -DRIFT_OPS_PCT)
    out.push(`throughput fell ${-d.opsPct} % from the first minute to the last`);
  if (d.p99Pct > DRIFT_P99_PCT)
    out.push(`p99 grew ${d.p99Pct} % from the first minute to the last`);
  d.rssGrowthMB.forEach((g, k) => {
    if (g > RSS_GROWTH_MB)
      out.push(`node ${members[k] ?? k + 1}: RSS grew ${g} MB from the first minute to the last`);
  });
  return out;
}

/** soakLine: one minute as a console line. */
export function soakLine(r: SoakMinute): string {
  return `  minute ${String(r.minute).padStart(2)}: ${String(r.opsPerSec).padStart(6)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, RSS ${r.rssMB.join(' / ')} MB, snapshots ${r.snapshots.join(' / ')}${r.errors ? `, ${r.errors} errors` : ''}`;
}

export async function soak(ctx: StageContext, minutes: number): Promise<SoakResult> {
  const c = await startRaftdeck(ctx, 'soak-raftdeck', {
    snapshotEntries: SOAK_SNAPSHOT_ENTRIES,
  });
  const sup = c.sup;
  const members = memberIds(sup);
  const putter = raftdeckPutter(sup, { timeoutMs: 10_000 });
  const value = Buffer.alloc(VALUE_BYTES, 120);
  let lat: number[] = [];
  let errors = 0;
  let stop = false;
  let next = 0;
  const t0 = performance.now();
  const measureFrom = t0 + SOAK_WARM_MS;
  const writer = async (): Promise<void> => {
    while (!stop && !isInterrupted()) {
      const key = `s${(next++ % SOAK_KEYS).toString().padStart(KEY_BYTES - 1, '0')}`;
      const s = performance.now();
      try {
        await putter.put(key, value);
        if (s >= measureFrom) lat.push(performance.now() - s);
      } catch {
        if (s >= measureFrom) errors++;
      }
    }
  };
  // Snapshots: each member's snapshot index, polled every second; a change is one snapshot.
  const snapIndex = new Map<NodeId, number>();
  const taken = new Map<NodeId, number>(members.map((id) => [id, 0]));
  const poll = async (): Promise<void> => {
    await Promise.all(
      members.map(async (id) => {
        const s = await statusOf(sup, id);
        const i = s?.snapshotIndex;
        if (i === undefined) return;
        const before = snapIndex.get(id);
        if (before !== undefined && i !== before) taken.set(id, taken.get(id)! + 1);
        snapIndex.set(id, i);
      }),
    );
  };
  const rows: SoakMinute[] = [];
  const writers = Array.from({ length: SOAK_CONCURRENCY }, () => writer());
  try {
    await poll();
    await sleep(measureFrom - performance.now());
    for (let m = 1; m <= minutes && !isInterrupted(); m++) {
      const end = measureFrom + m * 60_000;
      while (performance.now() < end - 1000 && !isInterrupted()) {
        await sleep(1000);
        await poll();
      }
      await sleep(end - performance.now());
      const done = lat;
      const errs = errors;
      lat = [];
      errors = 0;
      const row: SoakMinute = {
        minute: m,
        ...minuteFigures(done, 60),
        errors: errs,
        rssMB: members.map((id) => {
          const pid = sup.get(id).proc.pid;
          return pid ? rssMB(pid) : 0;
        }),
        snapshots: members.map((id) => taken.get(id)!),
      };
      for (const id of members) taken.set(id, 0);
      rows.push(row);
      ctx.log(soakLine(row));
    }
  } finally {
    stop = true;
    await Promise.allSettled(writers);
    await putter.close();
    await c.stop();
  }
  const drift = soakDrift(rows);
  return {
    minutes: rows.length,
    concurrency: SOAK_CONCURRENCY,
    snapshotEntries: SOAK_SNAPSHOT_ENTRIES,
    keys: SOAK_KEYS,
    members,
    rows,
    drift,
    flags: soakFlags(drift, members),
  };
}

// ---------------------------------------------------------------- the chart

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

/** niceMax: a round upper bound for an axis (1, 2 or 5 × a power of ten, at least `v`). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 5, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}

interface Series {
  name: string;
  color: string;
  values: number[];
}

/**
 * soakChartSvg draws the run as three panels sharing the minute axis: ops/s, p50 and p99 (ms),
 * and each member's RSS (MB). Each series is a polyline with a dot per minute; each panel's axis
 * runs from 0 to a round bound above its largest value.
 */
export function soakChartSvg(r: SoakResult, title: string): string {
  const W = 720;
  const PH = 150;
  const left = 60;
  const right = 130;
  const top = 36;
  const gap = 40;
  const plotW = W - left - right;
  const n = r.rows.length;
  const x = (i: number): number => left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const panels: { label: string; series: Series[] }[] = [
    {
      label: 'ops/s',
      series: [{ name: 'ops/s', color: COLORS[0]!, values: r.rows.map((m) => m.opsPerSec) }],
    },
    {
      label: 'latency ms',
      series: [
        { name: 'p50', color: COLORS[2]!, values: r.rows.map((m) => m.p50Ms) },
        { name: 'p99', color: COLORS[1]!, values: r.rows.map((m) => m.p99Ms) },
      ],
    },
    {
      label: 'RSS MB',
      series: r.members.map((id, k) => ({
        name: `node ${id}`,
        color: COLORS[(k + 3) % COLORS.length]!,
        values: r.rows.map((m) => m.rssMB[k] ?? 0),
      })),
    },
  ];
  const H = top + panels.length * (PH + gap) + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  panels.forEach((p, k) => {
    const y0 = top + k * (PH + gap);
    const max = niceMax(Math.max(0, ...p.series.flatMap((s) => s.values)));
    const y = (v: number): number => y0 + PH - (v / max) * PH;
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${PH}" fill="none" stroke="#999"/>`,
    );
    for (const f of [0, 0.5, 1]) {
      const yy = fmt(y(max * f));
      out.push(
        `<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`,
        `<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${max * f}</text>`,
      );
    }
    out.push(
      `<text x="12" y="${y0 + PH / 2}" transform="rotate(-90 12 ${y0 + PH / 2})" text-anchor="middle">${esc(p.label)}</text>`,
    );
    p.series.forEach((s, j) => {
      const pts = s.values.map((v, i) => `${fmt(x(i))},${fmt(y(v))}`);
      out.push(
        `<polyline data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`,
      );
      for (const pt of pts) {
        const [cx, cy] = pt.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
      }
      const ly = y0 + 14 + j * 16;
      out.push(
        `<line x1="${left + plotW + 12}" y1="${ly}" x2="${left + plotW + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
        `<text x="${left + plotW + 36}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
      );
    });
    if (k === panels.length - 1) {
      r.rows.forEach((m, i) => {
        out.push(
          `<text x="${fmt(x(i))}" y="${y0 + PH + 16}" text-anchor="middle">${m.minute}</text>`,
        );
      });
      out.push(
        `<text x="${left + plotW / 2}" y="${y0 + PH + 32}" text-anchor="middle">minute</text>`,
      );
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** soakChartName: the chart's path under docs/ for a run at ISO date `date`. */
export function soakChartName(date: string): string {
  return `bench/soak-${date.slice(0, 10)}.svg`;
}

/** writeSoakChart writes the chart to docs/bench/soak-YYYY-MM-DD.svg; it returns the file. */
export function writeSoakChart(root: string, date: string, r: SoakResult): string {
  const file = join(root, 'docs', soakChartName(date));
  mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
  writeFileSync(
    file,
    soakChartSvg(
      r,
      `raftdeck soak: c=${r.concurrency}, snapshot every ${r.snapshotEntries.toLocaleString('en-US')} entries, ${date.slice(0, 16).replace('T', ' ')} UTC`,
    ),
  );
  return file;
}

function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** soakSection renders the run as markdown: the chart, the table and what drifted. */
export function soakSection(r: SoakResult, date: string): string {
  const parts: string[] = [];
  parts.push(
    `### Soak (raftdeck): ${r.minutes} minutes at concurrency ${r.concurrency}, a snapshot every ${r.snapshotEntries.toLocaleString('en-US')} entries`,
  );
  parts.push(`![soak chart](${soakChartName(date)})`);
  const ids = r.members.join(' / ');
  parts.push(
    mdTable(
      ['minute', 'ops/s', 'p50 ms', 'p99 ms', `RSS MB (nodes ${ids})`, `snapshots (${ids})`],
      r.rows.map((m) => [
        String(m.minute),
        String(m.opsPerSec),
        m.p50Ms.toFixed(2),
        m.p99Ms.toFixed(2),
        m.rssMB.join(' / '),
        m.snapshots.join(' / '),
      ]),
    ),
  );
  const d = r.drift;
  parts.push(
    `Last minute against the first: ops/s ${signed(d.opsPct)} %, p99 ${signed(d.p99Pct)} %, RSS ${d.rssGrowthMB.map((g) => `${signed(g)} MB`).join(' / ')} (the state: ${r.keys.toLocaleString('en-US')} keys overwritten in turn). ${r.flags.length === 0 ? 'No drift or growth beyond the thresholds.' : `Flagged: ${r.flags.join('; ')}.`}`,
  );
  return parts.join('\n\n');
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
