/**
 * scenarios: scripted sequences of faults and expectations against a live cluster, for demos (the
 * dashboard narrates them step by step) and as tests. Each scenario is data (a name, a title, what
 * it expects, the plan of its steps) plus code that carries the steps out and checks every
 * expectation, in its own file here; context.ts holds what they share, runner.ts one run. A
 * scenario restores the cluster when it ends (network healed, paused nodes resumed, stopped nodes
 * restarted, as many voters as before), so scenarios can run back to back.
 */
import type { EngineKind, ScenarioInfo, ScenarioRun, StepState } from '../../contract/view';
import type { ClusterEngine } from '../engine';
import { addRemoveUnderLoad } from './add-remove-under-load';
import { publishRun, secs, type Scenario } from './context';
import type { ScenarioControl } from './control';
import { laggingSnapshot } from './lagging-snapshot';
import { leaderCrash } from './leader-crash';
import { leaderIsolated } from './leader-isolated';
import { leadershipTransfer } from './leadership-transfer';
import { minorityPartition } from './minority-partition';
import { prevoteStableTerm } from './prevote-stable-term';
import { removeLeader } from './remove-leader';
import { RESTORE, Runner } from './runner';

/** SCENARIOS: every scenario, in the order they are listed and run by the tests. */
export const SCENARIOS: Scenario[] = [
  leaderCrash,
  minorityPartition,
  leaderIsolated,
  prevoteStableTerm,
  laggingSnapshot,
  addRemoveUnderLoad,
  removeLeader,
  leadershipTransfer,
];

/** scenariosFor: the scenarios that make sense on `engine` (every one when not given). */
const scenariosFor = (engine?: EngineKind): Scenario[] =>
  SCENARIOS.filter((s) => engine === undefined || !s.engines || s.engines.includes(engine));

/** listScenarios describes every scenario for `engine` (name, title, what it expects). */
export function listScenarios(engine?: EngineKind): ScenarioInfo[] {
  return scenariosFor(engine).map((s) => ({
    name: s.name,
    title: s.title,
    description: s.description,
  }));
}

/**
 * runScenario runs one scenario against the supervisor's cluster, narrating its steps in the
 * cluster view's scenario (publishRun) and the event stream, and resolves with the finished run
 * ('passed' or 'failed'; a failed expectation never throws). The cluster is restored afterwards
 * either way. An unknown name throws, listing the known ones, and so does a cluster that is not
 * running. `control`, when given, pauses, steps and resumes the run between its steps; every wait
 * of the run is stated for real time and lasts `pace` times longer on a slowed-down cluster.
 */
export async function runScenario(
  sup: ClusterEngine,
  name: string,
  control?: ScenarioControl,
): Promise<ScenarioRun> {
  const kind = sup.engineView().kind;
  const known = scenariosFor(kind);
  const sc = known.find((s) => s.name === name);
  if (!sc) {
    const elsewhere = SCENARIOS.find((s) => s.name === name);
    if (elsewhere)
      throw new Error(
        `scenario '${name}' needs ${elsewhere.engines!.join(' or ')}; on ${kind}: ${known.map((s) => s.name).join(', ')}`,
      );
    throw new Error(`no scenario named '${name}'; known: ${known.map((s) => s.name).join(', ')}`);
  }
  if (sup.state !== 'running') throw new Error(`the cluster is ${sup.state}; start it first`);
  const run: ScenarioRun = {
    name,
    state: 'running',
    startedAt: Date.now(),
    paused: control?.paused ?? false,
    steps: [...(sc.plan ?? []), RESTORE].map((text) => ({
      text,
      state: 'pending' as StepState,
      detail: '',
    })),
  };
  control?.bind((paused) => {
    run.paused = paused;
    publishRun(sup, run);
    sup.event(null, 'scenario', `${name}: ${paused ? 'paused before the next step' : 'resumed'}`);
  });
  publishRun(sup, run);
  sup.event(null, 'scenario', `scenario ${name} started: ${sc.description}`);
  const r = new Runner(sup, sc, run, control);
  let failure: Error | undefined;
  try {
    await sc.run(r.ctx);
  } catch (e) {
    failure = e as Error;
  }
  for (const s of run.steps) if (s.state === 'pending' && s.text !== RESTORE) s.state = 'skipped';
  publishRun(sup, run);
  await r.cleanup();
  try {
    await r.ctx.step(RESTORE, () => r.restore());
  } catch (e) {
    failure ??= e as Error;
  }
  await r.close();
  control?.bind(() => undefined);
  run.paused = false;
  run.state = failure ? 'failed' : 'passed';
  publishRun(sup, run);
  sup.event(
    null,
    'scenario',
    failure
      ? `scenario ${name} failed: ${failure.message}`
      : `scenario ${name} passed in ${secs(Date.now() - run.startedAt)}`,
  );
  return run;
}
