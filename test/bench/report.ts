/**
 * report: the machine and commit a run measured, the targets of the benchmark issue, and the two
 * outputs: bench-results.json at the project root and a dated section appended to
 * docs/benchmarks.md (both formatted with the project's prettier settings).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { format, resolveConfig } from 'prettier';
import type { System } from './clients';
import type { FailoverResult } from './failover';
import type { LevelResult } from './load';
import type { RecoveryResult } from './recovery';
import type { SnapshotResult } from './snapshot';
import { soakSection, type SoakResult } from './soak';
import { stateSection, type StateResult } from './state';

export interface Machine {
  cpus: number;
  model: string;
  memGB: number;
  os: string;
  node: string;
  /** loadAvg: the 1-minute load average when the run started (other work on the machine). */
  loadAvg: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  machine: Machine;
  commit: string;
  /** dirty: the working tree had uncommitted changes to tracked files. */
  dirty: boolean;
  etcdVersion: string | null;
  /** raftdeckNodes: how the nodes ran: a bundle of the current sources under plain node, or tsx. */
  raftdeckNodes: 'bundle' | 'tsx';
  stages: string[];
  /** settings: how the throughput and scale stages ran (absent in runs before they were kept). */
  settings?: BenchSettings;
  /** throughput: every system's figures at each level (the floor's too); see rows. */
  throughput: LevelResult[];
  /** scale: every system's figures at one concurrency for each cluster size. */
  scale?: LevelResult[];
  /**
   * rows: the throughput and scale figures in one list, with the efficiency and, on raftdeck's
   * rows, the ratio to the floor (benchRows).
   */
  rows?: BenchRow[];
  /** floors: the machine's disk and loopback floors, measured with the snapshot stage. */
  floors?: Floors | null;
  failover: { raftdeck: FailoverResult | null; etcd: FailoverResult | null };
  snapshotMBps: number | null;
  snapshot: SnapshotResult | null;
  recoverySeconds: number | null;
  recovery: RecoveryResult | null;
  idleRssMB: number | null;
  /** state: the state-size stage (state.ts); soak: the long run (soak.ts). */
  state: StateResult | null;
  soak: SoakResult | null;
}

export interface BenchSettings {
  /** seconds: per throughput level and system (the floor and raftdeck split it into trials). */
  seconds: number;
  trialsPerLevel: number;
  scaleConcurrency: number;
}

/** Floors: the machine's limits for moving a snapshot (MB = 10^6 bytes). */
export interface Floors {
  /** diskMBps: sequential write + fdatasync in the bench's temp folder (diskFloorMBps). */
  diskMBps: number;
  /** loopbackMBps: one TCP connection between two processes on 127.0.0.1 (loopbackFloorMBps). */
  loopbackMBps: number;
}

/** BenchRow is one system at one concurrency and cluster size, in bench-results.json's rows. */
export interface BenchRow {
  stage: 'throughput' | 'scale';
  system: System;
  concurrency: number;
  members: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuCoreSeconds: number;
  opsPerCoreSecond: number;
  /** floorRatio: raftdeck's ops/s ÷ the floor's at the same stage, concurrency and size. */
  floorRatio?: number;
  /** floorP50DiffMs: raftdeck's p50 minus the floor's (ms), beside floorRatio. */
  floorP50DiffMs?: number;
}

/**
 * benchRows lists the throughput rows, then the scale rows, each as the stage gave them; a
 * raftdeck row gets floorRatio and floorP50DiffMs when the floor ran at the same stage,
 * concurrency and size (and completed puts).
 */
export function benchRows(throughput: LevelResult[], scale: LevelResult[] = []): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const [stage, list] of [
    ['throughput', throughput],
    ['scale', scale],
  ] as const) {
    for (const t of list) {
      const row: BenchRow = {
        stage,
        system: t.system as System,
        concurrency: t.concurrency,
        members: t.members ?? 3,
        opsPerSec: t.opsPerSec,
        p50Ms: t.p50Ms,
        p99Ms: t.p99Ms,
        serverCpuCoreSeconds: t.serverCpuCoreSeconds,
        opsPerCoreSecond: t.opsPerCoreSecond,
      };
      if (t.system === 'raftdeck') {
        const f = list.find(
          (u) =>
            u.system === 'floor' &&
            u.concurrency === t.concurrency &&
            (u.members ?? 3) === row.members,
        );
        if (f && f.opsPerSec > 0) {
          row.floorRatio = Number((t.opsPerSec / f.opsPerSec).toFixed(3));
          row.floorP50DiffMs = Number((t.p50Ms - f.p50Ms).toFixed(2));
        }
      }
      rows.push(row);
    }
  }
  return rows;
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) return `${pretty[1]} (${type()} ${release()})`;
  } catch {
    // not Linux, or no os-release
  }
  return `${type()} ${release()}`;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpus: c.length,
    model: c[0]?.model.trim() ?? 'unknown',
    memGB: Number((totalmem() / 2 ** 30).toFixed(1)),
    os: osName(),
    node: process.version,
    loadAvg: Number(loadavg()[0]!.toFixed(2)),
  };
}

export function gitCommit(root: string): { commit: string; dirty: boolean } {
  const git = (args: string[]): string =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git(['rev-parse', 'HEAD']).trim();
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

export interface Target {
  what: string;
  figure: string;
  /** met: true / false, or null when the run did not measure it. */
  met: boolean | null;
}

const level = (r: BenchResults, system: string, c: number): LevelResult | undefined =>
  r.throughput.find((t) => t.system === system && t.concurrency === c);

/** atSize: one system's scale-stage result for a cluster of `members`. */
const atSize = (r: BenchResults, system: string, members: number): LevelResult | undefined =>
  (r.scale ?? []).find((t) => t.system === system && (t.members ?? 3) === members);

/** ratio: raftdeck's ops/s over etcd's at one concurrency (undefined if either is missing). */
export function ratio(r: BenchResults, c: number): number | undefined {
  const a = level(r, 'raftdeck', c);
  const b = level(r, 'etcd', c);
  if (!a || !b || b.opsPerSec === 0) return undefined;
  return a.opsPerSec / b.opsPerSec;
}

/** floorRatio: raftdeck's ops/s over the floor's at one concurrency of the throughput stage. */
export function floorRatio(r: BenchResults, c: number): number | undefined {
  const a = level(r, 'raftdeck', c);
  const f = level(r, 'floor', c);
  if (!a || !f || f.opsPerSec === 0) return undefined;
  return a.opsPerSec / f.opsPerSec;
}

/** efficiencyRatio: raftdeck's puts per server core-second over etcd's at one concurrency. */
export function efficiencyRatio(r: BenchResults, c: number): number | undefined {
  const a = level(r, 'raftdeck', c);
  const b = level(r, 'etcd', c);
  if (!a || !b || !(b.opsPerCoreSecond > 0)) return undefined;
  return a.opsPerCoreSecond / b.opsPerCoreSecond;
}

const x = (n: number): string => `${n.toFixed(2)}×`;
const pct = (q: number): string => `${(q * 100).toFixed(1)} %`;
const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(2)}`;
const ms = (n: number): string => n.toFixed(2);

/** targets evaluates the issue's targets against the results. */
export function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  for (const [c, want] of [
    [1, 2],
    [64, 3],
    [256, 3],
  ] as const) {
    const q = ratio(r, c);
    out.push({
      what: `throughput ≥ ${want}× etcd at concurrency ${c}`,
      figure: q === undefined ? 'not measured' : x(q),
      met: q === undefined ? null : q >= want,
    });
  }
  const concurrencies = [...new Set(r.throughput.map((t) => t.concurrency))].sort((a, b) => a - b);
  const p99 = concurrencies.flatMap((c) => {
    const a = level(r, 'raftdeck', c);
    const b = level(r, 'etcd', c);
    return a && b ? [{ c, a: a.p99Ms, b: b.p99Ms }] : [];
  });
  out.push({
    what: 'p99 latency ≤ etcd’s at every concurrency',
    figure:
      p99.length === 0
        ? 'not measured'
        : p99.map((p) => `${p.c}: ${p.a.toFixed(1)} vs ${p.b.toFixed(1)} ms`).join('; '),
    met: p99.length === 0 ? null : p99.every((p) => p.a <= p.b),
  });
  const fq = floorRatio(r, 1);
  const a1 = level(r, 'raftdeck', 1);
  const f1 = level(r, 'floor', 1);
  out.push({
    what: 'throughput at concurrency 1 ≥ 85 % of the floor’s',
    figure:
      fq === undefined || !a1 || !f1
        ? 'not measured'
        : `${pct(fq)} (${a1.opsPerSec} vs ${f1.opsPerSec} ops/s)`,
    met: fq === undefined ? null : fq >= 0.85,
  });
  out.push({
    what: 'p50 at concurrency 1 within 0.1 ms of the floor’s',
    figure:
      !a1 || !f1
        ? 'not measured'
        : `${signed(a1.p50Ms - f1.p50Ms)} ms (${ms(a1.p50Ms)} vs ${ms(f1.p50Ms)} ms)`,
    met: !a1 || !f1 ? null : a1.p50Ms - f1.p50Ms <= 0.1 + 1e-9,
  });
  const eff = concurrencies
    .filter((c) => c >= 16)
    .flatMap((c) => {
      const q = efficiencyRatio(r, c);
      return q === undefined ? [] : [{ c, q }];
    });
  out.push({
    what: 'puts per server core-second ≥ 3× etcd’s at concurrency ≥ 16',
    figure: eff.length === 0 ? 'not measured' : eff.map((e) => `${e.c}: ${x(e.q)}`).join('; '),
    met: eff.length === 0 ? null : eff.every((e) => e.q >= 3),
  });
  const a5 = atSize(r, 'raftdeck', 5);
  const e5 = atSize(r, 'etcd', 5);
  out.push({
    what: 'throughput ≥ 3× etcd at 5 members',
    figure:
      a5 && e5 && e5.opsPerSec > 0
        ? `${x(a5.opsPerSec / e5.opsPerSec)} (${a5.opsPerSec} vs ${e5.opsPerSec} ops/s at concurrency ${a5.concurrency})`
        : 'not measured',
    met: a5 && e5 && e5.opsPerSec > 0 ? a5.opsPerSec / e5.opsPerSec >= 3 : null,
  });
  const a3 = atSize(r, 'raftdeck', 3);
  const a7 = atSize(r, 'raftdeck', 7);
  out.push({
    what: 'throughput at 7 members ≥ 60 % of 3 members’',
    figure:
      a3 && a7 && a3.opsPerSec > 0
        ? `${pct(a7.opsPerSec / a3.opsPerSec)} (${a7.opsPerSec} vs ${a3.opsPerSec} ops/s)`
        : 'not measured',
    met: a3 && a7 && a3.opsPerSec > 0 ? a7.opsPerSec / a3.opsPerSec >= 0.6 : null,
  });
  const fr = r.failover.raftdeck;
  const fe = r.failover.etcd;
  out.push({
    what: 'failover median ≤ etcd’s',
    figure: fr && fe ? `${fr.medianMs} vs ${fe.medianMs} ms` : 'not measured',
    met: fr && fe ? fr.medianMs <= fe.medianMs : null,
  });
  out.push({
    what: 'snapshot install ≥ 200 MB/s',
    figure: r.snapshotMBps === null ? 'not measured' : `${r.snapshotMBps} MB/s`,
    met: r.snapshotMBps === null ? null : r.snapshotMBps >= 200,
  });
  const disk = r.floors?.diskMBps;
  out.push({
    what: 'snapshot install (100 MB state) ≥ 50 % of the disk floor',
    figure:
      r.snapshotMBps === null || !disk
        ? 'not measured'
        : `${pct(r.snapshotMBps / disk)} (${r.snapshotMBps} vs ${disk} MB/s)`,
    met: r.snapshotMBps === null || !disk ? null : r.snapshotMBps / disk >= 0.5,
  });
  const rec = r.recovery;
  out.push({
    what: 'restart with 1,000,000 WAL entries ≤ 3 s',
    figure:
      r.recoverySeconds === null || !rec
        ? 'not measured'
        : `${r.recoverySeconds} s${rec.entries !== 1_000_000 ? ` (${rec.entries.toLocaleString('en-US')} entries)` : ''}`,
    met:
      r.recoverySeconds === null || !rec || rec.entries < 1_000_000 ? null : r.recoverySeconds <= 3,
  });
  const st = r.state;
  const big = st !== null && st.stateBytes >= 2 ** 30 && st.restart.walEntries >= 1_000_000;
  out.push({
    what: 'restart with a 1 GiB snapshot + 1,000,000 WAL entries ≤ 3 s',
    figure: st
      ? `${st.restart.caughtUpSeconds} s${big ? '' : ` (${(st.stateBytes / 2 ** 20).toFixed(0)} MiB, ${st.restart.walEntries.toLocaleString('en-US')} entries)`}`
      : 'not measured',
    met: st && big ? st.restart.caughtUpSeconds <= 3 : null,
  });
  // The state stage measures an empty node's idle RSS too; the recovery stage's figure stands in
  // when it did not run.
  const idle = st ? st.rss.emptyIdleMB : r.idleRssMB;
  out.push({
    what: 'idle RSS of an empty node ≤ 50 MB',
    figure: idle === null ? 'not measured' : `${idle} MB`,
    met: idle === null ? null : idle <= 50,
  });
  out.push({
    what: 'install of the 1 GiB state ≥ 50 % of the disk floor',
    figure: st
      ? `${Math.round(st.install.floorRatio * 100)} % (${st.install.mbPerSec} of ${st.install.diskFloorMBps} MB/s)`
      : 'not measured',
    met: st ? st.install.floorRatio >= 0.5 : null,
  });
  return out;
}

const verdict = (t: Target): string =>
  t.met === null ? 'not measured' : t.met ? 'met' : 'not met';

/** targetLines: the targets as console lines. */
export function targetLines(r: BenchResults): string[] {
  const ts = targets(r);
  const w = Math.max(...ts.map((t) => t.what.length));
  return ts.map((t) => `  ${t.what.padEnd(w)}  ${verdict(t).padEnd(12)}  ${t.figure}`);
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const na = '–';

/** section renders one run as a dated markdown section. */
export function section(r: BenchResults): string {
  const m = r.machine;
  const when = r.date.replace('T', ' ').slice(0, 16);
  const parts: string[] = [];
  parts.push(`## ${when} UTC${r.quick ? ' (quick run)' : ''}`);
  parts.push(
    [
      `- Machine: ${m.cpus} × ${m.model}, ${m.memGB} GB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAvg} when the run started`,
      `- Commit: \`${r.commit.slice(0, 12)}\`${r.dirty ? ' with uncommitted changes' : ''}`,
      `- etcd: ${r.etcdVersion ?? 'not run'}; raftdeck nodes: ${r.raftdeckNodes === 'bundle' ? 'bundled from the sources, plain node' : 'from sources through tsx'}`,
      `- Stages: ${r.stages.join(', ')}`,
    ].join('\n'),
  );
  const cell = (t: LevelResult | undefined, f: (t: LevelResult) => string): string =>
    t ? f(t) : na;
  const cpu = (t: LevelResult | undefined): string =>
    cell(t, (u) => `${u.clientCpu} / ${u.serverCpu}`);
  const eff = (t: LevelResult | undefined): string =>
    cell(t, (u) => (u.serverCpuCoreSeconds === undefined ? na : String(u.opsPerCoreSecond)));
  const coreS = (t: LevelResult | undefined): string =>
    cell(t, (u) => (u.serverCpuCoreSeconds === undefined ? na : u.serverCpuCoreSeconds.toFixed(2)));
  const vsFloor = (a: LevelResult | undefined, f: LevelResult | undefined): string[] =>
    a && f && f.opsPerSec > 0
      ? [pct(a.opsPerSec / f.opsPerSec), signed(a.p50Ms - f.p50Ms)]
      : [na, na];
  const st = r.settings;
  if (r.throughput.length > 0) {
    const cs = [...new Set(r.throughput.map((t) => t.concurrency))].sort((a, b) => a - b);
    const rows = cs.map((c) => {
      const f = level(r, 'floor', c);
      const a = level(r, 'raftdeck', c);
      const b = level(r, 'etcd', c);
      const q = ratio(r, c);
      return [
        String(c),
        cell(f, (t) => String(t.opsPerSec)),
        cell(f, (t) => ms(t.p50Ms)),
        cell(f, (t) => ms(t.p99Ms)),
        cell(a, (t) => String(t.opsPerSec)),
        cell(a, (t) => ms(t.p50Ms)),
        cell(a, (t) => ms(t.p99Ms)),
        ...vsFloor(a, f),
        cell(b, (t) => String(t.opsPerSec)),
        cell(b, (t) => ms(t.p50Ms)),
        cell(b, (t) => ms(t.p99Ms)),
        q === undefined ? na : x(q),
      ];
    });
    const secs = st?.seconds ?? (r.quick ? 3 : 10);
    const trials = st?.trialsPerLevel ?? 1;
    parts.push(
      `### Throughput (${secs} s per level and system${trials > 1 ? `; floor and raftdeck interleaved in ${trials} trials of ${Number((secs / trials).toFixed(2))} s, medians` : ''})`,
    );
    parts.push(
      table(
        [
          'concurrency',
          'floor ops/s',
          'p50 ms',
          'p99 ms',
          'raftdeck ops/s',
          'p50 ms',
          'p99 ms',
          'raftdeck/floor',
          'p50 − floor ms',
          'etcd ops/s',
          'p50 ms',
          'p99 ms',
          'raftdeck/etcd',
        ],
        rows,
      ),
    );
    parts.push('### Efficiency (puts per server core-second; CPU of all members together)');
    parts.push(
      table(
        [
          'concurrency',
          'floor puts/core-s',
          'raftdeck puts/core-s',
          'etcd puts/core-s',
          'raftdeck/etcd',
          'server core-s floor / raftdeck / etcd',
          'CPU % client / servers: floor',
          'raftdeck',
          'etcd',
        ],
        cs.map((c) => {
          const f = level(r, 'floor', c);
          const a = level(r, 'raftdeck', c);
          const b = level(r, 'etcd', c);
          const q = efficiencyRatio(r, c);
          return [
            String(c),
            eff(f),
            eff(a),
            eff(b),
            q === undefined ? na : x(q),
            `${coreS(f)} / ${coreS(a)} / ${coreS(b)}`,
            cpu(f),
            cpu(a),
            cpu(b),
          ];
        }),
      ),
    );
  }
  const sc = r.scale ?? [];
  if (sc.length > 0) {
    const sizes = [...new Set(sc.map((t) => t.members ?? 3))].sort((a, b) => a - b);
    const conc = st?.scaleConcurrency ?? sc[0]!.concurrency;
    parts.push(`### Cluster size (concurrency ${conc})`);
    parts.push(
      table(
        [
          'members',
          'floor ops/s',
          'p99 ms',
          'puts/core-s',
          'raftdeck ops/s',
          'p50 ms',
          'p99 ms',
          'puts/core-s',
          'raftdeck/floor',
          'etcd ops/s',
          'p50 ms',
          'p99 ms',
          'puts/core-s',
          'raftdeck/etcd',
        ],
        sizes.map((n) => {
          const f = atSize(r, 'floor', n);
          const a = atSize(r, 'raftdeck', n);
          const b = atSize(r, 'etcd', n);
          return [
            String(n),
            cell(f, (t) => String(t.opsPerSec)),
            cell(f, (t) => ms(t.p99Ms)),
            eff(f),
            cell(a, (t) => String(t.opsPerSec)),
            cell(a, (t) => ms(t.p50Ms)),
            cell(a, (t) => ms(t.p99Ms)),
            eff(a),
            vsFloor(a, f)[0]!,
            cell(b, (t) => String(t.opsPerSec)),
            cell(b, (t) => ms(t.p50Ms)),
            cell(b, (t) => ms(t.p99Ms)),
            eff(b),
            a && b && b.opsPerSec > 0 ? x(a.opsPerSec / b.opsPerSec) : na,
          ];
        }),
      ),
    );
  }
  const fo = (['raftdeck', 'etcd'] as const).flatMap((s) => {
    const f = r.failover[s];
    return f ? [[s, String(f.medianMs), String(f.maxMs), f.trials.join(', ')]] : [];
  });
  if (fo.length > 0) {
    parts.push('### Failover (SIGKILL the leader)');
    parts.push(table(['system', 'median ms', 'max ms', 'trials ms'], fo));
  }
  const rows: string[][] = [];
  const s = r.snapshot;
  if (s) {
    rows.push([
      'snapshot transfer to a new member',
      `${r.snapshotMBps} MB/s${r.floors ? ` (${pct(r.snapshotMBps! / r.floors.diskMBps)} of the disk floor)` : ''}, the median of ${s.trialsMBps.length} new members (${s.trialsMBps.join(', ')} MB/s); that one: ${(s.bytes / 1e6).toFixed(1)} MB (${s.values.toLocaleString('en-US')} values of 1 KiB) in ${s.seconds.toFixed(2)} s, ${s.chunks} chunks, ${s.retries} retries; installed after ${s.installSeconds === null ? '?' : s.installSeconds.toFixed(2)} s; add-node workflow ${s.addNodeSeconds} s`,
    ]);
  }
  if (r.floors) {
    rows.push([
      'disk floor',
      `${r.floors.diskMBps} MB/s: sequential 1 MiB writes, fdatasync every 16 MiB, fsync and rename at the end, in the bench's temp folder`,
    ]);
    rows.push([
      'loopback floor',
      `${r.floors.loopbackMBps} MB/s: one TCP connection between two processes on 127.0.0.1`,
    ]);
  }
  const rec = r.recovery;
  if (rec) {
    rows.push([
      `restart with ${rec.entries.toLocaleString('en-US')} WAL entries`,
      `${rec.caughtUpSeconds} s to applied ≥ commit (ready line after ${rec.readySeconds} s; ${rec.recoveredEntries?.toLocaleString('en-US') ?? '?'} entries recovered); with an empty WAL ready after ${rec.emptyReadySeconds} s`,
    ]);
    rows.push([
      'idle node RSS',
      `${rec.idleRssMB} MB (nodes: ${rec.idleRssByNodeMB.join(', ')}); ${rec.rssAfterMB} MB with the WAL above`,
    ]);
  }
  if (rows.length > 0) {
    parts.push(
      r.floors
        ? '### Snapshot, floors, restart and memory (raftdeck)'
        : '### Snapshot, restart and memory (raftdeck)',
    );
    parts.push(table(['figure', 'result'], rows));
  }
  if (r.state) parts.push(stateSection(r.state));
  if (r.soak) parts.push(soakSection(r.soak, r.date));
  // A run of stages that measure no target (the soak alone) has no targets table.
  const measured = targets(r).filter((t) => t.figure !== 'not measured');
  if (measured.length > 0) {
    parts.push('### Targets');
    parts.push(
      table(
        ['target', 'figure', 'verdict'],
        targets(r).map((t) => [t.what, t.figure, verdict(t)]),
      ),
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/**
 * DOC_INTRO: the head of a new docs/benchmarks.md (how to run the bench and what each figure
 * means is documented in the project's copy of that file, which runs append to).
 */
export const DOC_INTRO = `# Benchmarks

\`npm run bench\` measures raftdeck side by side with etcd and the floor on the same machine, in
one run, and records the results here. Each run appends a dated section below and writes
\`bench-results.json\` at the project root.
`;

/** writeResults writes bench-results.json and appends the section to docs/benchmarks.md. */
export async function writeResults(root: string, r: BenchResults): Promise<string[]> {
  const json = `${root}/bench-results.json`;
  const doc = `${root}/docs/benchmarks.md`;
  const jsonText = await format(JSON.stringify(r, null, 2), {
    ...(await resolveConfig(json)),
    parser: 'json',
  });
  writeFileSync(json, jsonText);
  const before = existsSync(doc) ? readFileSync(doc, 'utf8').trimEnd() : DOC_INTRO.trimEnd();
  const md = await format(`${before}\n\n${section(r)}`, {
    ...(await resolveConfig(doc)),
    parser: 'markdown',
  });
  writeFileSync(doc, md);
  return [json, doc];
}
