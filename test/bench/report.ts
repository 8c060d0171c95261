/**
 * report: the machine and commit a run measured, the targets of the benchmark issue, and the two
 * outputs: bench-results.json at the project root and a dated section appended to
 * docs/benchmarks.md (both formatted with the project's prettier settings).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { format, resolveConfig } from 'prettier';
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
  throughput: LevelResult[];
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

/** ratio: raftdeck's ops/s over etcd's at one concurrency (undefined if either is missing). */
export function ratio(r: BenchResults, c: number): number | undefined {
  const a = level(r, 'raftdeck', c);
  const b = level(r, 'etcd', c);
  if (!a || !b || b.opsPerSec === 0) return undefined;
  return a.opsPerSec / b.opsPerSec;
}

const x = (n: number): string => `${n.toFixed(2)}×`;

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
  out.push({
    what: 'idle node RSS ≤ 60 MB',
    figure: r.idleRssMB === null ? 'not measured' : `${r.idleRssMB} MB`,
    met: r.idleRssMB === null ? null : r.idleRssMB <= 60,
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
  out.push({
    what: 'idle RSS of an empty node ≤ 50 MB',
    figure: st ? `${st.rss.emptyIdleMB} MB` : 'not measured',
    met: st ? st.rss.emptyIdleMB <= 50 : null,
  });
  out.push({
    what: 'snapshot install ≥ 50 % of the disk floor',
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

const ms = (n: number): string => n.toFixed(2);
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
  if (r.throughput.length > 0) {
    const cs = [...new Set(r.throughput.map((t) => t.concurrency))].sort((a, b) => a - b);
    const rows = cs.map((c) => {
      const a = level(r, 'raftdeck', c);
      const b = level(r, 'etcd', c);
      const q = ratio(r, c);
      const cpu = (t: LevelResult | undefined): string =>
        t ? `${t.clientCpu} / ${t.serverCpu}` : na;
      return [
        String(c),
        a ? String(a.opsPerSec) : na,
        a ? ms(a.p50Ms) : na,
        a ? ms(a.p99Ms) : na,
        cpu(a),
        b ? String(b.opsPerSec) : na,
        b ? ms(b.p50Ms) : na,
        b ? ms(b.p99Ms) : na,
        cpu(b),
        q === undefined ? na : x(q),
      ];
    });
    const secs = r.quick ? 3 : 10;
    parts.push(`### Throughput (${secs} s per level)`);
    parts.push(
      table(
        [
          'concurrency',
          'raftdeck ops/s',
          'p50 ms',
          'p99 ms',
          'CPU % client / servers',
          'etcd ops/s',
          'p50 ms',
          'p99 ms',
          'CPU % client / servers',
          'raftdeck/etcd',
        ],
        rows,
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
      `${r.snapshotMBps} MB/s, the median of ${s.trialsMBps.length} new members (${s.trialsMBps.join(', ')} MB/s); that one: ${(s.bytes / 1e6).toFixed(1)} MB (${s.values.toLocaleString('en-US')} values of 1 KiB) in ${s.seconds.toFixed(2)} s, ${s.chunks} chunks, ${s.retries} retries; installed after ${s.installSeconds === null ? '?' : s.installSeconds.toFixed(2)} s; add-node workflow ${s.addNodeSeconds} s`,
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
    parts.push('### Snapshot, restart and memory (raftdeck)');
    parts.push(table(['figure', 'result'], rows));
  }
  if (r.state) parts.push(stateSection(r.state));
  if (r.soak) parts.push(soakSection(r.soak, r.date));
  parts.push('### Targets');
  parts.push(
    table(
      ['target', 'figure', 'verdict'],
      targets(r).map((t) => [t.what, t.figure, verdict(t)]),
    ),
  );
  return `${parts.join('\n\n')}\n`;
}

export const DOC_INTRO = `# Benchmarks

\`npm run bench\` measures raftdeck side by side with etcd on the same machine, in one run, and
records the results here. Each run appends a dated section below and writes
\`bench-results.json\` at the project root.

## Running it

\`\`\`
npm run bench                          # full run: 10 s per throughput level
npm run bench -- --quick               # smoke check: 3 s per level, fewer trials, smaller data
npm run bench -- --only failover,recovery --no-etcd --no-write
\`\`\`

| option            | effect                                                                 |
| ----------------- | ---------------------------------------------------------------------- |
| \`--quick\`         | 3 s per level, 3 failover trials, 20 MB snapshot, 100,000-entry WAL    |
| \`--only LIST\`     | run only these stages: throughput, failover, snapshot, recovery        |
| \`--no-etcd\`       | leave etcd out even if it is installed                                 |
| \`--no-write\`      | print only; do not write bench-results.json or this file               |
| \`--levels LIST\`   | throughput concurrencies (default 1,16,64,256)                         |
| \`--seconds N\`     | seconds per throughput level                                           |
| \`--trials N\`      | failover trials per system (default 10)                                |
| \`--threads N\`     | load threads per throughput level (default one per 4 CPUs, at most 4)  |
| \`--source-nodes\`  | run raftdeck nodes from sources through tsx instead of a bundle        |

etcd runs only when an \`etcd\` binary is on PATH; without it the bench prints
\`etcd: skipped (no etcd on PATH; apt-get install etcd-server)\` and measures raftdeck alone. On
Debian or Ubuntu: \`sudo apt-get install etcd-server\` (Debian 12 ships etcd 3.4). etcd is reached
through the npm \`etcd3\` client (a dev dependency). Ctrl-C stops every cluster the bench started.

## What is measured

Both systems run as 3 members on 127.0.0.1 with a 100 ms heartbeat and a 1000 ms election
timeout, each member with its own data dir in a temp folder, and both fsync their logs: etcd with
its default settings (\`--heartbeat-interval 100 --election-timeout 1000\`), raftdeck through the
Supervisor (\`tickMs 10, heartbeatMs 100, electionMs 1000\`). Only one system runs at a time.
The raftdeck nodes run under plain \`node\` from a bundle of the current sources that the bench
builds first with esbuild (as the app's build makes \`out/main/node.js\`), so that no TypeScript
loader counts in their start time and memory; \`--source-nodes\` runs them through tsx instead.

- **Throughput**: a closed-loop put generator: \`concurrency\` writers, each sending its next put
  when the previous one is answered, 16-byte keys and 128-byte values, for 10 s per level (the
  first second is warm-up and not counted). ops/s are completed puts per second; p50 and p99 are
  the latencies of single puts. The writers run in load worker threads (one per 4 CPUs, at most 4;
  one on a 2-core machine, where a second one only takes CPU from the servers) and are spread over
  one client per 64 writers (4 clients at 256): raftdeck's \`KvClient\` (one pipelined connection
  per node) and \`etcd3\` clients (one HTTP/2 gRPC connection each, multiplexed; without the
  library's retry and circuit-breaker policies, which the bench does not need). The etcd clients
  talk to the leader, as raftdeck's client does once it has found it. More etcd connections or
  threads than that made etcd slower on a 2-core machine, not faster. The CPU columns are the CPU
  used by the bench process (all its threads) and by the three servers together, in % of one
  core. The \`etcd3\` client needs far more CPU per put than raftdeck's (gRPC over Node's HTTP/2):
  where its column nears 100 %, the client thread limits etcd's figure.
- **Failover**: SIGKILL the leader of an idle, healthy cluster; the time until a surviving member
  reports a new leader and a put through a client that knows all three members succeeds (the
  later of the two). Status is polled every 10 ms and puts are retried with 250 ms per-attempt
  deadlines. The killed member is restarted and the cluster made healthy between trials.
  Both use the same timeouts; raftdeck's followers also notice that the killed leader's port
  refuses connections and campaign after a short random wait instead of a whole election timeout
  (docs/raft.md, \`leaderGone\`).
- **Snapshot transfer** (raftdeck): about 100 MB of state (100,000 values of 1 KiB) in a cluster
  that snapshots every 10,000 entries; once every member has taken a fresh snapshot (so that none
  is still writing one of its own, as the followers otherwise may be right after the fill), a 4th
  member is added (the add-node workflow). The rate is the snapshot's size over the time from the
  leader's \`snapshot-send\` event to its \`snapshot-sent\` event (every chunk acknowledged, which the
  new member does for the last one only once the image is durable on its disk). The member is
  then removed again and another one added, three in all; the figure is the median.
  MB = 10^6 bytes.
- **Restart** (raftdeck): 1,000,000 puts (128-byte values) written through a cluster with
  snapshots off (\`--snapshot-entries 0\`), so a follower's WAL holds them all; the follower is
  stopped and started again. The figure is the time from the spawn until its status reports
  applied ≥ the commit index at the time it was stopped; the time to its ready line, and the same
  restart with an empty WAL (the fixed cost of starting a node process), are shown too.
- **Idle RSS** (raftdeck): VmRSS of each node of a fresh cluster after 5 s idle; the largest.

The machine's other load shows in the results: the load average when the run started is recorded
with each run, and a busy machine lowers every figure.
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
