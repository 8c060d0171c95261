/** load: a client workload against a running cluster, with live numbers and an optional check. */
import { resolve } from 'node:path';
import type { WorkloadSample } from '../../contract/view';
import type { Operation } from '../../cluster/checker/history';
import type { Workload } from '../../cluster/workload';
import { CliError, EXIT, UsageError, type ParsedArgs, type Command } from '../args';
import { dataOption, endpointsOption, jsonOption } from '../options';
import { clientEndpoints, kvOpener, writePrivate } from '../cluster-files';
import { verdictCode, verdictJson, verdictText } from '../verdict';

const pct = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

async function run(args: ParsedArgs): Promise<number> {
  const reads = args.number('reads')!;
  const cas = args.number('cas')!;
  if (reads + cas > 1)
    throw new UsageError(`--reads (${reads}) plus --cas (${cas}) must be at most 1`);
  const [{ historyToJson }, { check }, { Workload }, { KvError }] = await Promise.all([
    import('../../cluster/checker/history'),
    import('../../cluster/checker/porcupine'),
    import('../../cluster/workload'),
    import('../../node/client'),
  ]);
  const historyFile = args.string('history');
  const json = args.flag('json');
  const ep = clientEndpoints(args);
  const seconds = args.number('seconds')!;
  const say = (text: string, o: Record<string, unknown>): void => {
    process.stdout.write(json ? `${JSON.stringify(o)}\n` : `${text}\n`);
  };

  // Make sure the cluster answers before recording a history full of failures.
  const open = await kvOpener(ep);
  const probe = open(undefined, 5000);
  try {
    await probe.get('raftdeck/load-probe');
  } catch (e) {
    const tried =
      e instanceof KvError && e.code === 'unreachable'
        ? ''
        : ` (endpoints ${ep.addresses.join(', ')})`;
    throw new CliError(`the cluster does not answer: ${(e as Error).message}${tried}`);
  } finally {
    await probe.close();
  }

  const lines = new SampleLines();
  const wl: Workload = new Workload(
    (clientId, timeoutMs) => open(clientId, timeoutMs),
    {
      clients: args.number('clients')!,
      seconds,
      keys: args.number('keys')!,
      readRatio: reads,
      casRatio: cas,
      rate: args.number('rate')!,
    },
    () => {
      for (const l of lines.take(wl.view().samples, wl.isRunning)) say(l.text, l.event);
    },
  );
  const o = wl.options;
  say(
    `load: ${o.clients} clients, ${o.rate ? `${o.rate} ops/s` : 'closed loop'}, ${o.keys} keys, ${Math.round(o.readRatio * 100)}% reads, ${Math.round(o.casRatio * 100)}% cas, ${seconds} s against ${ep.addresses.join(', ')}`,
    { event: 'load-started', options: o, endpoints: ep.addresses },
  );
  const stop = (): void => void wl.stop();
  process.once('SIGINT', stop);
  const started = performance.now();
  wl.start();
  await wl.done();
  const loadEnded = performance.now();
  await wl.stop();
  process.off('SIGINT', stop);
  const elapsed = (performance.now() - started) / 1000;
  // Operations in flight when the time is up are waited for (up to their timeout), and say so.
  const tail = (performance.now() - loadEnded) / 1000;

  const history = wl.history as Operation[];
  const lat = history
    .filter((op) => op.outcome === 'ok' && op.complete !== undefined)
    .map((op) => op.complete! - op.invoke)
    .sort((a, b) => a - b);
  const tot = wl.totals;
  say(
    `total: ${history.length} operations in ${elapsed.toFixed(1)} s${tail >= 0.1 ? ` (${(elapsed - tail).toFixed(1)} s of load, ${tail.toFixed(1)} s for the last operations to finish)` : ''} (${Math.round(tot.ok / elapsed)} ok/s): ${tot.ok} ok, ${tot.failed} failed, ${tot.unknown} unknown; ${tot.reads} reads, ${tot.writes} writes; latency p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms`,
    {
      event: 'load-done',
      operations: history.length,
      seconds: Number(elapsed.toFixed(2)),
      ...tot,
      p50Ms: Number(pct(lat, 50).toFixed(2)),
      p99Ms: Number(pct(lat, 99).toFixed(2)),
    },
  );
  if (historyFile !== undefined) {
    const file = resolve(historyFile);
    writePrivate(file, historyToJson(history));
    say(`history: ${history.length} operations written to ${file}`, { event: 'history', file });
  }
  if (tot.ok === 0) throw new CliError('no operation succeeded');
  if (!args.flag('check')) return EXIT.ok;

  const r = check(history, { timeoutMs: args.number('check-timeout-ms') });
  if (json)
    process.stdout.write(
      `${JSON.stringify({ event: 'check', ...verdictJson(r, history.length) })}\n`,
    );
  else process.stdout.write(`check: ${verdictText(r, history.length)}`);
  return verdictCode(r);
}

export const loadCommand: Command = {
  name: 'load',
  summary: 'run a client workload; optionally check linearizability',
  usage: [
    'load [--clients 8] [--seconds 30] [--keys 20] [--reads 0.5] [--cas 0.1] [--rate 0] [--check] [--history FILE]',
  ],
  description: `Runs N concurrent clients against a running cluster, each with one operation in flight, over a key
space with a read / write / compare-and-set mix, and prints throughput and latency every second and
totals at the end. Every operation is recorded; --check runs the linearizability checker on the
history, --history writes it to FILE (JSON, readable by \`raftdeck check\`).`,
  positionals: [],
  options: [
    {
      name: 'clients',
      type: 'int',
      value: 'N',
      help: 'concurrent clients',
      default: 8,
      min: 1,
      max: 256,
    },
    {
      name: 'seconds',
      type: 'number',
      value: 'S',
      help: 'how long to run',
      default: 30,
      min: 0.1,
      max: 86_400,
    },
    {
      name: 'keys',
      type: 'int',
      value: 'N',
      help: 'size of the key space',
      default: 20,
      min: 1,
      max: 1_000_000,
    },
    {
      name: 'reads',
      type: 'number',
      value: 'R',
      help: 'fraction of reads',
      default: 0.5,
      min: 0,
      max: 1,
    },
    {
      name: 'cas',
      type: 'number',
      value: 'C',
      help: 'fraction of compare-and-sets (the rest are puts)',
      default: 0.1,
      min: 0,
      max: 1,
    },
    {
      name: 'rate',
      type: 'number',
      value: 'OPS',
      help: 'target operations per second over all clients (0: as fast as possible)',
      default: 0,
      min: 0,
      max: 1_000_000,
    },
    {
      name: 'check',
      type: 'boolean',
      help: 'check the history for linearizability at the end',
    },
    {
      name: 'check-timeout-ms',
      type: 'int',
      value: 'N',
      help: 'time allowed for the check',
      default: 60_000,
      min: 100,
      max: 3_600_000,
    },
    {
      name: 'history',
      type: 'string',
      value: 'FILE',
      help: 'write the recorded history to FILE',
    },
    endpointsOption,
    dataOption('the cluster folder whose cluster.json lists the nodes'),
    jsonOption,
  ],
  examples: [
    'raftdeck load --clients 8 --seconds 30 --check',
    'raftdeck load --seconds 10 --rate 500 --history run.json',
  ],
  exitCodes: [
    '0  done (and linearizable, with --check)',
    '1  no node reachable, or not linearizable',
    '2  bad arguments',
    '3  the check was undecided in the time allowed',
  ],
  run,
};

/**
 * SampleLines turns the workload's samples into the lines `load` prints, each sample once: one a
 * second while the load runs, and the last, partial window (taken as it stops, with what the
 * operations still in flight then did) labelled with its length, so the lines add up to the
 * totals.
 */
export class SampleLines {
  private printed = 0;
  private seconds = 0;
  private last = 0;

  take(
    samples: readonly WorkloadSample[],
    running: boolean,
  ): { text: string; event: Record<string, unknown> }[] {
    const out: { text: string; event: Record<string, unknown> }[] = [];
    const fresh = samples.filter((s) => s.time > this.printed);
    fresh.forEach((s, i) => {
      const final = !running && i === fresh.length - 1;
      const span = this.last ? (s.time - this.last) / 1000 : 1;
      this.printed = s.time;
      this.last = s.time;
      const tail = `p50 ${s.p50Ms.toFixed(1).padStart(6)} ms  p99 ${s.p99Ms.toFixed(1).padStart(6)} ms  errors ${s.errors}  unknown ${s.unknown}`;
      if (final && span < 0.95) {
        out.push({
          text: `${`+${span.toFixed(1)}`.padStart(4)} s  ${String(s.opsPerSec).padStart(6)} ops    ${tail}  (last ${span.toFixed(1)} s)`,
          event: { event: 'sample', second: this.seconds + span, partial: true, ...s },
        });
        return;
      }
      this.seconds++;
      out.push({
        text: `${String(this.seconds).padStart(4)} s  ${String(s.opsPerSec).padStart(6)} ops/s  ${tail}`,
        event: { event: 'sample', second: this.seconds, ...s },
      });
    });
    return out;
  }
}
