/**
 * validate: the argument check every dashboard call passes before it reaches the supervisor,
 * shared by main/app (IPC) and main/web (WebSocket and HTTP). Arguments come from an untrusted
 * renderer or browser: each call has a fixed list of arguments, each with a shape and bounds, and
 * anything else (missing, extra, wrong type, out of range, unknown keys) is refused with a message
 * that names the call and the argument.
 */
import { MESSAGE_TYPES } from '../raft/types';
import { CALLS } from './api';
import {
  LAB_MAX_DELAY_MS,
  LAB_MAX_SPEED,
  LAB_MIN_SPEED,
  LOG_QUERY_MAX,
  MAX_PACE,
  RECORDED_LIMIT,
} from './view';
import type { CallName } from './api';

/** LIMITS: the bounds the validator enforces; forms in the renderer use the same numbers. */
export const LIMITS = {
  maxNodeId: 1_000_000,
  maxNodes: 64,
  maxGroups: 16,
  keyLength: 256,
  valueLength: 64 * 1024,
  scenarioNameLength: 128,
  maxEventSeq: Number.MAX_SAFE_INTEGER,
  maxLogLines: 5000,
  maxRules: 64,
  maxDelayMs: 60_000,
  maxFsyncDelayMs: 10_000,
  /** maxTime: the latest instant (ms since the epoch) a call may name: the year 2286. */
  maxTime: 10_000_000_000_000,
  /** maxLogIndex: the highest log index a query may name. */
  maxLogIndex: Number.MAX_SAFE_INTEGER,
  workload: {
    clients: { min: 1, max: 256 },
    rate: { min: 0, max: 100_000 },
    keys: { min: 1, max: 1_000_000 },
    valueBytes: { min: 1, max: 64 * 1024 },
    seconds: { min: 0, max: 86_400 },
  },
} as const;

/** LINK_MESSAGE_TYPES: the message types a link rule may name (the Raft messages). */
export const LINK_MESSAGE_TYPES: readonly string[] = MESSAGE_TYPES;

export type Validation = { ok: true } | { ok: false; error: string };

/** Check returns null when the value is acceptable, else what it must be. */
type Check = (v: unknown) => string | null;

interface ArgSpec {
  name: string;
  check: Check;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length}` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a ${typeof v}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const nodeId: Check = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= LIMITS.maxNodeId
    ? null
    : `must be a node id (an integer in 1..${LIMITS.maxNodeId})`;

const int =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
      ? null
      : `must be an integer in ${min}..${max}`;

const num =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? null
      : `must be a number in [${min}, ${max}]`;

const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');

const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`;

const str =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length >= min && v.length <= max
      ? null
      : `must be a string of ${min}..${max} characters`;

const nullable =
  (inner: Check): Check =>
  (v) => {
    if (v === null) return null;
    const problem = inner(v);
    return problem === null ? null : `${problem}, or null`;
  };

const groups: Check = (v) => {
  if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.maxGroups) {
    return `must be an array of 1..${LIMITS.maxGroups} groups`;
  }
  const seen = new Set<number>();
  for (let g = 0; g < v.length; g++) {
    const group: unknown = v[g];
    if (!Array.isArray(group) || group.length < 1 || group.length > LIMITS.maxNodes) {
      return `group ${g + 1} must be a non-empty array of at most ${LIMITS.maxNodes} node ids`;
    }
    for (const id of group) {
      if (nodeId(id) !== null) return `group ${g + 1} holds ${describe(id)}, not a node id`;
      if (seen.has(id as number)) return `node ${String(id)} is in more than one group`;
      seen.add(id as number);
    }
  }
  return null;
};

const RULE_KEYS = new Set(['to', 'from', 'drop', 'delayMs', 'jitterMs', 'types', 'snapshotOffset']);
const KNOWN_TYPES = new Set(LINK_MESSAGE_TYPES);

function ruleProblem(r: unknown): string | null {
  if (!isPlainObject(r)) return 'is not an object';
  for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) return `has an unknown field '${k}'`;
  const hasTo = r.to !== undefined;
  const hasFrom = r.from !== undefined;
  if (hasTo === hasFrom) return "must set exactly one of 'to' and 'from'";
  const peer = hasTo ? r.to : r.from;
  if (peer !== '*' && nodeId(peer) !== null) {
    return `'${hasTo ? 'to' : 'from'}' must be a node id or '*' (got ${describe(peer)})`;
  }
  if (r.drop !== undefined && num(0, 1)(r.drop) !== null) {
    return `'drop' must be a probability in [0, 1] (got ${describe(r.drop)})`;
  }
  for (const k of ['delayMs', 'jitterMs'] as const) {
    if (r[k] !== undefined && num(0, LIMITS.maxDelayMs)(r[k]) !== null) {
      return `'${k}' must be a number in [0, ${LIMITS.maxDelayMs}] (got ${describe(r[k])})`;
    }
  }
  if (r.types !== undefined) {
    if (!Array.isArray(r.types) || r.types.length > KNOWN_TYPES.size) {
      return `'types' must be an array of message types`;
    }
    for (const t of r.types) {
      if (typeof t !== 'string' || !KNOWN_TYPES.has(t)) {
        return `'types' holds ${describe(t)}, not one of ${LINK_MESSAGE_TYPES.join(', ')}`;
      }
    }
  }
  if (
    r.snapshotOffset !== undefined &&
    int(0, Number.MAX_SAFE_INTEGER)(r.snapshotOffset) !== null
  ) {
    return `'snapshotOffset' must be a non-negative integer (got ${describe(r.snapshotOffset)})`;
  }
  if (r.drop === undefined && r.delayMs === undefined && r.snapshotOffset === undefined) {
    return "does nothing: set 'drop', 'delayMs' or 'snapshotOffset'";
  }
  return null;
}

const rules: Check = (v) => {
  if (!Array.isArray(v) || v.length > LIMITS.maxRules) {
    return `must be an array of at most ${LIMITS.maxRules} rules`;
  }
  for (let i = 0; i < v.length; i++) {
    const problem = ruleProblem(v[i]);
    if (problem !== null) return `rule ${i + 1} ${problem}`;
  }
  return null;
};

const WORKLOAD_KEYS = [
  'clients',
  'rate',
  'keys',
  'readRatio',
  'casRatio',
  'valueBytes',
  'seconds',
] as const;

const workloadOptions: Check = (v) => {
  if (!isPlainObject(v)) return 'must be an object';
  for (const k of Object.keys(v)) {
    if (!(WORKLOAD_KEYS as readonly string[]).includes(k)) return `has an unknown field '${k}'`;
  }
  const w = LIMITS.workload;
  const checks: [(typeof WORKLOAD_KEYS)[number], Check][] = [
    ['clients', int(w.clients.min, w.clients.max)],
    ['rate', num(w.rate.min, w.rate.max)],
    ['keys', int(w.keys.min, w.keys.max)],
    ['readRatio', num(0, 1)],
    ['casRatio', num(0, 1)],
    ['valueBytes', int(w.valueBytes.min, w.valueBytes.max)],
    ['seconds', num(w.seconds.min, w.seconds.max)],
  ];
  for (const [k, check] of checks) {
    const problem = check(v[k]);
    if (problem !== null) return `field '${k}' ${problem} (got ${describe(v[k])})`;
  }
  if ((v.readRatio as number) + (v.casRatio as number) > 1) {
    return "fields 'readRatio' + 'casRatio' must not exceed 1";
  }
  return null;
};

const LOG_QUERY_KEYS = new Set(['from', 'count', 'key']);

const logQuery: Check = (v) => {
  if (!isPlainObject(v)) return 'must be an object { from, count, key? }';
  for (const k of Object.keys(v)) if (!LOG_QUERY_KEYS.has(k)) return `has an unknown field '${k}'`;
  const from = int(1, LIMITS.maxLogIndex)(v.from);
  if (from !== null) return `field 'from' ${from} (got ${describe(v.from)})`;
  const count = int(1, LOG_QUERY_MAX)(v.count);
  if (count !== null) return `field 'count' ${count} (got ${describe(v.count)})`;
  if (v.key !== undefined) {
    const key = str(1, LIMITS.keyLength)(v.key);
    if (key !== null) return `field 'key' ${key} (got ${describe(v.key)})`;
  }
  return null;
};

/** LAB_ACTION_FIELDS: the fields each kind of lab action has besides `kind`, with their checks. */
const LAB_ACTION_FIELDS: Record<string, Record<string, Check>> = {
  play: {},
  pause: {},
  step: { until: oneOf(['message', 'tick', 'event']) },
  speed: { speed: num(LAB_MIN_SPEED, LAB_MAX_SPEED) },
  drop: { id: int(0, Number.MAX_SAFE_INTEGER) },
  duplicate: { id: int(0, Number.MAX_SAFE_INTEGER) },
  delay: { id: int(0, Number.MAX_SAFE_INTEGER), ms: int(1, LAB_MAX_DELAY_MS) },
  crash: { node: nodeId, unsynced: oneOf(['kept', 'lost']) },
  timers: { how: oneOf(['align', 'spread']) },
};

const labAction: Check = (v) => {
  if (!isPlainObject(v)) return 'must be an object { kind, … }';
  const kind = v.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(LAB_ACTION_FIELDS, kind)) {
    return `field 'kind' must be one of ${Object.keys(LAB_ACTION_FIELDS).join(', ')} (got ${describe(kind)})`;
  }
  const fields = LAB_ACTION_FIELDS[kind]!;
  for (const k of Object.keys(v)) {
    if (k !== 'kind' && !Object.hasOwn(fields, k))
      return `has an unknown field '${k}' for '${kind}'`;
  }
  for (const [k, check] of Object.entries(fields)) {
    const problem = check(v[k]);
    if (problem !== null) return `field '${k}' ${problem} (got ${describe(v[k])})`;
  }
  return null;
};

const id: ArgSpec = { name: 'id', check: nodeId };
const key: ArgSpec = { name: 'key', check: str(1, LIMITS.keyLength) };
const value: ArgSpec = { name: 'value', check: str(0, LIMITS.valueLength) };

/** SPECS: the arguments of every call, in order. A missing or extra call is a compile error. */
const SPECS: { readonly [K in CallName]: readonly ArgSpec[] } = {
  getView: [],
  getEvents: [{ name: 'sinceSeq', check: int(0, LIMITS.maxEventSeq) }],
  killNode: [id],
  stopNode: [id],
  restartNode: [id],
  pauseNode: [id],
  resumeNode: [id],
  setAutoRestart: [id, { name: 'on', check: bool }],
  isolateNode: [id],
  partition: [{ name: 'groups', check: groups }],
  healNetwork: [],
  setLinkRules: [id, { name: 'rules', check: rules }],
  setSlowDisk: [id, { name: 'fsyncDelayMs', check: int(0, LIMITS.maxFsyncDelayMs) }],
  clearAllFaults: [],
  addNode: [],
  removeNode: [id],
  replaceNode: [id],
  transferLeader: [id],
  kvPut: [key, value],
  kvGet: [key],
  kvDel: [key],
  kvCas: [key, { name: 'expected', check: nullable(str(0, LIMITS.valueLength)) }, value],
  startWorkload: [{ name: 'options', check: workloadOptions }],
  stopWorkload: [],
  checkHistory: [],
  exportHistory: [],
  exportEvents: [],
  listScenarios: [],
  runScenario: [{ name: 'name', check: str(1, LIMITS.scenarioNameLength) }],
  pauseScenario: [],
  resumeScenario: [],
  stepScenario: [],
  setPace: [
    { name: 'pace', check: int(1, MAX_PACE) },
    { name: 'fastFailover', check: bool },
  ],
  linkDetail: [
    { name: 'from', check: nodeId },
    { name: 'to', check: nodeId },
  ],
  nodeLogs: [id, { name: 'lines', check: int(1, LIMITS.maxLogLines) }],
  recordingInfo: [],
  viewAt: [{ name: 'time', check: int(0, LIMITS.maxTime) }],
  recordedEvents: [
    { name: 'from', check: int(0, LIMITS.maxTime) },
    { name: 'to', check: int(0, LIMITS.maxTime) },
    { name: 'limit', check: int(1, RECORDED_LIMIT) },
  ],
  recordedMessages: [
    { name: 'from', check: int(0, LIMITS.maxTime) },
    { name: 'to', check: int(0, LIMITS.maxTime) },
    { name: 'limit', check: int(1, RECORDED_LIMIT) },
  ],
  logEntries: [{ name: 'query', check: logQuery }],
  labControl: [{ name: 'action', check: labAction }],
  exportLabSchedule: [],
};

const CALL_SET: ReadonlySet<string> = new Set(CALLS);

/** isCallName reports whether name is one of the dashboard's calls. */
export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && CALL_SET.has(name);
}

/**
 * validateCall checks one call's name and arguments. On failure the message names the call, the
 * argument (by position and name) and what it must be.
 */
export function validateCall(name: unknown, args: unknown): Validation {
  if (!isCallName(name)) return { ok: false, error: `unknown call ${describe(name)}` };
  if (!Array.isArray(args)) return { ok: false, error: `${name}: arguments must be an array` };
  const specs = SPECS[name];
  if (args.length > specs.length) {
    return {
      ok: false,
      error: `${name}: takes ${specs.length} argument${specs.length === 1 ? '' : 's'}, got ${args.length}`,
    };
  }
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const problem = spec.check(args[i]);
    if (problem !== null) {
      const arg: unknown = args[i];
      const composite = typeof arg === 'object' && arg !== null;
      const got = args.length <= i ? ' (missing)' : composite ? '' : ` (got ${describe(arg)})`;
      return { ok: false, error: `${name}: argument ${i + 1} '${spec.name}' ${problem}${got}` };
    }
  }
  return { ok: true };
}

/** argumentNames lists a call's argument names in order (for documentation and forms). */
export function argumentNames(name: CallName): string[] {
  return SPECS[name].map((s) => s.name);
}
