/**
 * lab-schedule: a lab run as a file. A LabSchedule holds the seed, the number of nodes, the run's
 * options and every input the run had (each lab control and each dashboard call that changes
 * something, with its arguments) at the step (SimCluster.steps) and virtual time it was taken.
 * The same seed and the same inputs at the same steps give the same run, so the file replays it
 * exactly: `createLabDashboard({ schedule })` opens it in the lab, `replaySchedule` (pure) runs it
 * for the simulator (`npm run sim -- --schedule FILE`).
 */
import { MUTATIONS } from './lab-cluster';
import type { Mutation } from './lab-cluster';

/** LAB_SCHEDULE_FORMAT, LAB_SCHEDULE_VERSION: what a schedule file says it is. */
export const LAB_SCHEDULE_FORMAT = 'raftdeck-lab-schedule';
export const LAB_SCHEDULE_VERSION = 1;

/** LabRunOptions: how the run was set up beyond seed and nodes. */
export interface LabRunOptions {
  /** mutation: a deliberate bug in the simulated host or store (see Mutation), or null. */
  mutation: Mutation | null;
}

/**
 * LabScheduleAction: one input: the dashboard call `call` (a DashboardApi method name, e.g.
 * "labControl", "killNode", "kvPut") with its arguments, taken when the run had taken `step`
 * events and its virtual clock read `at` ms. Actions are in the order they were taken; steps and
 * times never decrease.
 */
export interface LabScheduleAction {
  step: number;
  at: number;
  call: string;
  args: unknown[];
}

/** LabSchedule: a lab run, version 1; `steps` and `now` are where the run was when exported. */
export interface LabSchedule {
  format: typeof LAB_SCHEDULE_FORMAT;
  version: typeof LAB_SCHEDULE_VERSION;
  seed: number;
  nodes: number;
  options: LabRunOptions;
  actions: LabScheduleAction[];
  steps: number;
  now: number;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * parseLabSchedule reads a schedule file's text; it throws an error naming `name` and what is
 * wrong (the field, the action's position) on anything that is not a version 1 schedule.
 */
export function parseLabSchedule(text: string, name = 'schedule'): LabSchedule {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new Error(`${name}: not a schedule object`);
  if (o.format !== LAB_SCHEDULE_FORMAT)
    throw new Error(`${name}: format is ${JSON.stringify(o.format)}, not "${LAB_SCHEDULE_FORMAT}"`);
  if (o.version !== LAB_SCHEDULE_VERSION)
    throw new Error(`${name}: version ${JSON.stringify(o.version)} is not supported (only 1)`);
  if (!isNum(o.seed) || !Number.isInteger(o.seed) || o.seed < 0)
    throw new Error(`${name}: seed must be an integer >= 0`);
  if (!isNum(o.nodes) || !Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 9)
    throw new Error(`${name}: nodes must be an integer in 1..9`);
  if (!isNum(o.steps) || o.steps < 0) throw new Error(`${name}: steps must be a number >= 0`);
  if (!isNum(o.now) || o.now < 0) throw new Error(`${name}: now must be a number >= 0`);
  const opts = o.options as Record<string, unknown> | undefined;
  if (typeof opts !== 'object' || opts === null) throw new Error(`${name}: options missing`);
  const mutation = opts.mutation ?? null;
  if (mutation !== null && !(MUTATIONS as readonly unknown[]).includes(mutation))
    throw new Error(
      `${name}: options.mutation ${JSON.stringify(mutation)} is not one of ${MUTATIONS.join(', ')}`,
    );
  if (!Array.isArray(o.actions)) throw new Error(`${name}: actions must be an array`);
  let step = 0;
  let at = 0;
  const actions = o.actions.map((a: unknown, i: number): LabScheduleAction => {
    const x = a as Record<string, unknown>;
    const where = `${name}: action ${i + 1}`;
    if (typeof x !== 'object' || x === null) throw new Error(`${where}: not an object`);
    if (!isNum(x.step) || !Number.isInteger(x.step) || x.step < step)
      throw new Error(`${where}: step must be an integer >= ${step}`);
    if (!isNum(x.at) || x.at < at) throw new Error(`${where}: at must be a number >= ${at}`);
    if (typeof x.call !== 'string' || x.call === '') throw new Error(`${where}: call missing`);
    if (!Array.isArray(x.args)) throw new Error(`${where}: args must be an array`);
    step = x.step;
    at = x.at;
    return { step: x.step, at: x.at, call: x.call, args: x.args };
  });
  if (o.steps < step)
    throw new Error(`${name}: steps ${o.steps} is before the last action's ${step}`);
  return {
    format: LAB_SCHEDULE_FORMAT,
    version: LAB_SCHEDULE_VERSION,
    seed: o.seed,
    nodes: o.nodes,
    options: { mutation: mutation as Mutation | null },
    actions,
    steps: o.steps,
    now: o.now,
  };
}
