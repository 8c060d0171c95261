/**
 * scenario: runs one scripted scenario and narrates its steps. Without --data it starts its own
 * temporary cluster with short timeouts (and removes it afterwards); with --data it runs the
 * cluster in DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClusterEvent, ScenarioRun } from '../../contract/view';
import { EXIT, UsageError, type ParsedArgs, type Command } from '../args';
import { jsonOption, paceOf, paceOptions } from '../options';
import { eventLine, table } from '../format';
import type { HostedCluster } from '../host';

const MARK: Record<string, string> = {
  pending: ' ',
  active: '…',
  done: '✓',
  failed: '✗',
  skipped: '-',
};

/** narrator prints each step of a run as its state or detail changes. */
function narrator(json: boolean): (run: ScenarioRun) => void {
  const seen: string[] = [];
  return (run) => {
    run.steps.forEach((s, i) => {
      const key = `${s.state}|${s.detail}`;
      if (s.state === 'pending' || seen[i] === key) return;
      const first = seen[i] === undefined;
      seen[i] = key;
      if (!first && s.state === 'active' && !s.detail) return;
      if (json) process.stdout.write(`${JSON.stringify({ event: 'step', index: i, ...s })}\n`);
      else process.stdout.write(`  ${MARK[s.state]} ${s.text}${s.detail ? `: ${s.detail}` : ''}\n`);
    });
  };
}

async function run(args: ParsedArgs): Promise<number> {
  const { listScenarios, runScenario } = await import('../../cluster/scenarios');
  const json = args.flag('json');
  const scenarios = listScenarios();
  if (args.flag('list')) {
    if (args.positionals.length) throw new UsageError('give NAME or --list, not both');
    if (json) process.stdout.write(`${JSON.stringify(scenarios)}\n`);
    else {
      process.stdout.write(
        `${table(
          ['NAME', 'TITLE'],
          scenarios.map((s) => [s.name, s.title]),
        )}\n\n`,
      );
      for (const s of scenarios) process.stdout.write(`${s.name}: ${s.description}\n`);
    }
    return EXIT.ok;
  }
  const name = args.positionals[0];
  if (name === undefined) throw new UsageError('missing NAME (or --list)');
  const info = scenarios.find((s) => s.name === name);
  if (!info)
    throw new UsageError(
      `no scenario '${name}' (one of ${scenarios.map((s) => s.name).join(', ')})`,
    );

  const pace = paceOf(args);
  const { forceKill, hostCluster } = await import('../host');
  const given = args.string('data');
  const dir =
    given !== undefined ? resolve(given) : mkdtempSync(join(tmpdir(), 'raftdeck-scenario-'));
  const temporary = given === undefined;
  const cleanup = (): void => {
    if (temporary && !args.flag('keep')) rmSync(dir, { recursive: true, force: true });
  };
  let hosted: HostedCluster | undefined;
  const onSignal = (): void => {
    process.stderr.write('raftdeck scenario: interrupted; stopping the cluster\n');
    const pids = hosted?.pids() ?? [];
    void (hosted?.stop() ?? Promise.resolve()).finally(() => {
      forceKill(pids);
      cleanup();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let offEvent = (): void => undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!json) {
      process.stdout.write(`scenario ${info.name}: ${info.title}\n${info.description}\n\n`);
      process.stdout.write(`starting a cluster in ${dir}${temporary ? ' (temporary)' : ''} ...\n`);
    }
    hosted = await hostCluster(
      temporary
        ? {
            dir,
            nodes: args.number('nodes'),
            timing: { heartbeatMs: 50, electionMs: 500 },
            snapshotEntries: 300,
            snapshotChunkBytes: 8192,
            pace,
          }
        : { dir, pace },
    );
    const sup = hosted.engine;
    if (json)
      process.stdout.write(
        `${JSON.stringify({ event: 'started', scenario: info.name, dir, clusterId: sup.clusterId })}\n`,
      );
    if (args.flag('verbose')) {
      const print = (e: ClusterEvent): void => {
        if (json) process.stdout.write(`${JSON.stringify({ event: 'cluster-event', ...e })}\n`);
        else process.stdout.write(`      ${eventLine(e)}\n`);
      };
      offEvent = sup.onEvent(print);
    }
    const narrate = narrator(json);
    timer = setInterval(() => {
      const r = sup.parts.scenario;
      if (r && r.name === info.name) narrate(r);
    }, 100);
    const result = await runScenario(sup, info.name);
    clearInterval(timer);
    narrate(result);
    const secs = ((Date.now() - result.startedAt) / 1000).toFixed(1);
    const failed = result.steps.find((s) => s.state === 'failed');
    if (json)
      process.stdout.write(
        `${JSON.stringify({ event: 'done', scenario: info.name, state: result.state, seconds: Number(secs), ...(failed ? { failed: failed.text, reason: failed.detail } : {}) })}\n`,
      );
    else
      process.stdout.write(
        result.state === 'passed'
          ? `\nscenario ${info.name} passed in ${secs} s\n`
          : `\nscenario ${info.name} FAILED after ${secs} s${failed ? ` at "${failed.text}": ${failed.detail}` : ''}\n`,
      );
    return result.state === 'passed' ? EXIT.ok : EXIT.failed;
  } finally {
    if (timer) clearInterval(timer);
    offEvent();
    await hosted?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
    if (temporary && args.flag('keep') && !json) process.stdout.write(`kept ${dir}\n`);
  }
}

export const scenarioCommand: Command = {
  name: 'scenario',
  summary: 'run a scripted scenario on a temporary cluster',
  usage: [
    'scenario NAME [--data DIR] [--keep] [--pace N] [--fast-failover on|off]',
    'scenario --list',
  ],
  description: `Runs a scripted sequence of faults and expectations (a leader crash, a partition, a membership
change under load, ...) and narrates each step. Without --data it starts its own temporary cluster
with short timeouts in a temporary folder and removes it afterwards; with --data it runs the
cluster in DIR (which must not be running already). With --pace N every node runs N times slower and
every wait of the scenario lasts N times longer; the narration says which failover path happened.`,
  positionals: [{ name: 'NAME', optional: true }],
  options: [
    { name: 'list', type: 'boolean', help: 'list the scenarios' },
    {
      name: 'data',
      type: 'string',
      value: 'DIR',
      help: 'run on the cluster in DIR instead of a temporary one',
    },
    {
      name: 'nodes',
      type: 'int',
      value: 'N',
      help: 'voters of the temporary cluster',
      default: 3,
      min: 1,
      max: 9,
    },
    { name: 'keep', type: 'boolean', help: 'keep the temporary folder (its path is printed)' },
    { name: 'verbose', type: 'boolean', help: 'also print the cluster events' },
    ...paceOptions,
    jsonOption,
  ],
  examples: [
    'raftdeck scenario --list',
    'raftdeck scenario leader-crash',
    'raftdeck scenario leader-crash --pace 5',
  ],
  exitCodes: ['0  passed', '1  failed', '2  bad arguments (or an unknown scenario)'],
  run,
};
