// The shared argument validator: every call accepts good arguments and refuses bad ones with a
// message that names the call and the argument.
import { describe, expect, it } from 'vitest';
import { CALLS } from '../../main/contract/api';
import type { CallName } from '../../main/contract/api';
import { argumentNames, isCallName, validateCall } from '../../main/contract/validate';

const workload = {
  clients: 4,
  rate: 100,
  keys: 10,
  readRatio: 0.5,
  casRatio: 0.1,
  valueBytes: 16,
  seconds: 0,
};

/** GOOD: acceptable arguments for every call. */
const GOOD: Record<CallName, unknown[]> = {
  getView: [],
  getEvents: [0],
  killNode: [1],
  stopNode: [2],
  restartNode: [3],
  pauseNode: [1],
  resumeNode: [1],
  setAutoRestart: [1, true],
  isolateNode: [2],
  partition: [[[1, 2], [3]]],
  healNetwork: [],
  setLinkRules: [
    1,
    [
      { to: 2, drop: 1 },
      { from: '*', delayMs: 50, jitterMs: 5, types: ['app'] },
    ],
  ],
  setSlowDisk: [1, 20],
  clearAllFaults: [],
  addNode: [],
  removeNode: [4],
  replaceNode: [2],
  transferLeader: [2],
  kvPut: ['k', 'v'],
  kvGet: ['k'],
  kvDel: ['k'],
  kvCas: ['k', null, 'v'],
  startWorkload: [workload],
  stopWorkload: [],
  checkHistory: [],
  exportHistory: [],
  exportEvents: [],
  listScenarios: [],
  runScenario: ['leader-crash'],
  pauseScenario: [],
  resumeScenario: [],
  stepScenario: [],
  setPace: [20, false],
  linkDetail: [1, 2],
  nodeLogs: [1, 200],
  recordingInfo: [],
  viewAt: [1_765_000_000_000],
  recordedEvents: [0, 1_765_000_000_000, 500],
  recordedMessages: [1_765_000_000_000, 1_765_000_001_000, 10_000],
  logEntries: [{ from: 1, count: 50, key: 'k1' }],
  labControl: [{ kind: 'delay', id: 12, ms: 500 }],
  exportLabSchedule: [],
};

/** BAD: for every call with arguments, bad values and the argument the message must name. */
const BAD: [CallName, unknown[], RegExp][] = [
  [
    'viewAt',
    [-5],
    /viewAt: argument 1 'time' must be an integer in 0\.\.10000000000000 \(got -5\)/,
  ],
  ['viewAt', [1e14], /viewAt: argument 1 'time'/],
  [
    'recordedEvents',
    [0, 10, 10_001],
    /recordedEvents: argument 3 'limit' must be an integer in 1\.\.10000/,
  ],
  ['recordedMessages', [0, 'x', 5], /recordedMessages: argument 2 'to'.*\(got "x"\)/],
  [
    'logEntries',
    [{ from: 0, count: 5 }],
    /logEntries: argument 1 'query' field 'from' must be an integer in 1\.\./,
  ],
  [
    'logEntries',
    [{ from: 1, count: 201 }],
    /'query' field 'count' must be an integer in 1\.\.200 \(got 201\)/,
  ],
  [
    'logEntries',
    [{ from: 1, count: 5, key: '' }],
    /'query' field 'key' must be a string of 1\.\.256/,
  ],
  ['logEntries', [{ from: 1, count: 5, term: 2 }], /'query' has an unknown field 'term'/],
  ['logEntries', [7], /'query' must be an object/],
  [
    'labControl',
    [{ kind: 'rewind' }],
    /labControl: argument 1 'action' field 'kind' must be one of play, pause, step, .* \(got "rewind"\)/,
  ],
  ['labControl', [{ kind: 'speed', speed: 500 }], /'action' field 'speed' must be a number/],
  ['labControl', [{ kind: 'speed', speed: 0.01 }], /'action' field 'speed'/],
  [
    'labControl',
    [{ kind: 'step', until: 'forever' }],
    /field 'until' must be one of message, tick, event/,
  ],
  ['labControl', [{ kind: 'drop', id: -1 }], /'action' field 'id' must be an integer/],
  [
    'labControl',
    [{ kind: 'delay', id: 3, ms: 0 }],
    /'action' field 'ms' must be an integer in 1\.\.60000/,
  ],
  [
    'labControl',
    [{ kind: 'crash', node: 2, unsynced: 'maybe' }],
    /field 'unsynced' must be one of kept, lost/,
  ],
  ['labControl', [{ kind: 'pause', evil: 1 }], /has an unknown field 'evil' for 'pause'/],
  ['labControl', [{ kind: 'timers', how: 'align' }, 1], /labControl: takes 1 argument, got 2/],
  ['labControl', ['play'], /'action' must be an object/],
  ['getEvents', [-1], /getEvents: argument 1 'sinceSeq' must be an integer/],
  ['getEvents', [1.5], /'sinceSeq'/],
  ['killNode', [0], /killNode: argument 1 'id' must be a node id .*\(got 0\)/],
  ['killNode', ['1'], /'id' must be a node id .*\(got "1"\)/],
  ['killNode', [], /'id' .*\(missing\)/],
  ['killNode', [1, 2], /killNode: takes 1 argument, got 2/],
  ['stopNode', [Number.MAX_SAFE_INTEGER + 2], /stopNode: argument 1 'id'/],
  ['restartNode', [null], /restartNode: argument 1 'id'.*\(got null\)/],
  ['pauseNode', [NaN], /pauseNode: argument 1 'id'/],
  ['resumeNode', [{}], /resumeNode: argument 1 'id'/],
  ['setAutoRestart', [1, 'yes'], /setAutoRestart: argument 2 'on' must be true or false/],
  ['isolateNode', [-3], /isolateNode: argument 1 'id'/],
  ['partition', [[]], /partition: argument 1 'groups' must be an array of 1\.\.16 groups/],
  ['partition', [[[1], []]], /'groups' group 2 must be a non-empty array/],
  ['partition', [[[1, 2], [2]]], /'groups' node 2 is in more than one group/],
  ['partition', [[[1, 'x']]], /'groups' group 1 holds "x", not a node id/],
  [
    'setLinkRules',
    [1, [{ drop: 1 }]],
    /setLinkRules: argument 2 'rules' rule 1 must set exactly one of 'to' and 'from'/,
  ],
  ['setLinkRules', [1, [{ to: 2, from: 3, drop: 1 }]], /rule 1 must set exactly one/],
  ['setLinkRules', [1, [{ to: 2, drop: 2 }]], /'rules' rule 1 'drop' must be a probability/],
  ['setLinkRules', [1, [{ to: 2, delayMs: -1 }]], /'rules' rule 1 'delayMs' must be a number/],
  ['setLinkRules', [1, [{ to: 2, drop: 1, types: ['bogus'] }]], /'types' holds "bogus"/],
  ['setLinkRules', [1, [{ to: 2, drop: 1, evil: true }]], /rule 1 has an unknown field 'evil'/],
  ['setLinkRules', [1, [{ to: 0, drop: 1 }]], /'to' must be a node id or '\*'/],
  ['setLinkRules', [1, [{ to: 2 }]], /rule 1 does nothing/],
  ['setLinkRules', [1, {}], /'rules' must be an array/],
  [
    'setSlowDisk',
    [1, 99_999],
    /setSlowDisk: argument 2 'fsyncDelayMs' must be an integer in 0\.\.10000/,
  ],
  ['removeNode', ['a'], /removeNode: argument 1 'id'/],
  ['replaceNode', [0], /replaceNode: argument 1 'id'/],
  ['transferLeader', [0], /transferLeader: argument 1 'id'/],
  ['kvPut', ['', 'v'], /kvPut: argument 1 'key' must be a string of 1\.\.256/],
  ['kvPut', ['k', 5], /kvPut: argument 2 'value' must be a string/],
  ['kvPut', ['k', 'x'.repeat(70_000)], /kvPut: argument 2 'value' .*\(got a string of 70000\)/],
  ['kvGet', ['k'.repeat(300)], /kvGet: argument 1 'key'/],
  ['kvDel', [undefined], /kvDel: argument 1 'key'/],
  ['kvCas', ['k', 5, 'v'], /kvCas: argument 2 'expected' must be a string .*, or null/],
  ['kvCas', ['k', null], /kvCas: argument 3 'value' .*\(missing\)/],
  [
    'startWorkload',
    [{ ...workload, clients: 0 }],
    /startWorkload: argument 1 'options' field 'clients' must be an integer in 1\.\.256 \(got 0\)/,
  ],
  ['startWorkload', [{ ...workload, readRatio: 1.5 }], /field 'readRatio'/],
  [
    'startWorkload',
    [{ ...workload, readRatio: 0.8, casRatio: 0.5 }],
    /'readRatio' \+ 'casRatio' must not exceed 1/,
  ],
  ['startWorkload', [{ ...workload, extra: 1 }], /'options' has an unknown field 'extra'/],
  ['startWorkload', [{ ...workload, rate: Infinity }], /field 'rate'/],
  ['startWorkload', ['fast'], /startWorkload: argument 1 'options' must be an object/],
  ['runScenario', [''], /runScenario: argument 1 'name' must be a string of 1\.\.128/],
  ['setPace', [0, false], /setPace: argument 1 'pace' must be an integer in 1\.\.100 \(got 0\)/],
  ['setPace', [101, true], /setPace: argument 1 'pace'/],
  ['setPace', [2.5, true], /setPace: argument 1 'pace'/],
  ['setPace', [5, 'off'], /setPace: argument 2 'fastFailover' must be true or false/],
  ['linkDetail', [0, 2], /linkDetail: argument 1 'from' must be a node id/],
  ['linkDetail', [1], /linkDetail: argument 2 'to' .*\(missing\)/],
  ['nodeLogs', [1, 0], /nodeLogs: argument 2 'lines' must be an integer in 1\.\.5000/],
  ['nodeLogs', [1, 10_000], /nodeLogs: argument 2 'lines'/],
];

describe('validateCall', () => {
  it.each(CALLS.map((c) => [c]))('%s accepts good arguments', (name) => {
    expect(validateCall(name, GOOD[name])).toEqual({ ok: true });
  });

  it.each(BAD)('%s refuses %j', (name, args, message) => {
    const r = validateCall(name, args);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('every call that takes arguments has a refusal above', () => {
    const tested = new Set(BAD.map(([n]) => n));
    for (const name of CALLS) {
      if (argumentNames(name).length > 0) expect(tested.has(name), name).toBe(true);
    }
  });

  it('calls without arguments refuse extra ones', () => {
    for (const name of CALLS) {
      if (argumentNames(name).length > 0) continue;
      const r = validateCall(name, [1]);
      expect(r).toEqual({ ok: false, error: `${name}: takes 0 arguments, got 1` });
    }
  });

  it('refuses unknown calls and non-array arguments', () => {
    expect(isCallName('toString')).toBe(false);
    expect(isCallName('__proto__')).toBe(false);
    expect(validateCall('constructor', [])).toEqual({
      ok: false,
      error: 'unknown call "constructor"',
    });
    expect(validateCall('killNode', { 0: 1 })).toEqual({
      ok: false,
      error: 'killNode: arguments must be an array',
    });
  });
});
