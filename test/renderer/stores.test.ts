// @vitest-environment happy-dom
// The stores: views and events arrive by push, the derived leader, health, divergence and faults
// follow, and every action reaches the transport as exactly one call with the right arguments.
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStores } from '../../renderer/src/stores';
import { useClusterStore } from '../../renderer/src/stores/cluster';
import { useConfirmStore } from '../../renderer/src/stores/confirm';
import { useConnectionStore } from '../../renderer/src/stores/connection';
import { EVENT_GROUPS, useEventsStore } from '../../renderer/src/stores/events';
import { useFaultsStore } from '../../renderer/src/stores/faults';
import { useKvStore } from '../../renderer/src/stores/kv';
import { useMembershipStore } from '../../renderer/src/stores/membership';
import { toLine } from '../../renderer/src/stores/node-logs';
import { useToastStore } from '../../renderer/src/stores/toasts';
import { useWorkloadStore } from '../../renderer/src/stores/workload';
import { fakeTransport, flush, node, raft, view } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let t: FakeTransport;

beforeEach(async () => {
  pinia = createPinia();
  setActivePinia(pinia);
  t = fakeTransport();
  startStores(pinia, t);
  await flush();
});

describe('useClusterStore', () => {
  it('fetches the view on connect and derives the leader', () => {
    const cluster = useClusterStore();
    expect(t.calls.map((c) => c.name)).toContain('getView');
    expect(cluster.leaderId).toBe(1);
    expect(cluster.leader?.id).toBe(1);
    expect(cluster.voters).toEqual([1, 2, 3]);
    expect(cluster.healthCounts.healthy).toBe(3);
  });

  it('takes pushed views and ignores an older one', () => {
    const cluster = useClusterStore();
    t.push('view', view({ version: 5, leader: 2, term: 3 }));
    expect(cluster.leaderId).toBe(2);
    t.push('view', view({ version: 4, leader: 3 }));
    expect(cluster.leaderId).toBe(2);
  });

  it('derives health counts, divergence, lag and active faults', () => {
    const cluster = useClusterStore();
    t.push(
      'view',
      view({
        version: 2,
        nodes: [
          node(1, 'leader', {
            raft: raft({ role: 'leader', term: 3, lastIndex: 200 }),
          }),
          node(2, 'follower', {
            health: 'unreachable',
            raft: raft({ term: 2, leader: 0, lastIndex: 150 }),
            faults: { isolated: true, rules: [], custom: [], fsyncDelayMs: 0 },
            lagBehindLeader: 50,
          }),
          node(3, null, {
            health: 'down',
            process: { ...node(3, null).process, state: 'crashed', signal: 'SIGKILL', pid: null },
          }),
        ],
        partitions: [[1, 3], [2]],
      }),
    );
    expect(cluster.healthCounts).toMatchObject({ healthy: 1, unreachable: 1, down: 1 });
    expect(cluster.divergenceById.get(1)).toEqual([]);
    expect(cluster.divergenceById.get(2)).toEqual([
      "term 2 behind the leader's 3",
      'knows no leader',
    ]);
    expect(cluster.lagById.get(2)).toBe(50);
    expect(cluster.faults.map((f) => f.kind)).toEqual(['partition', 'isolated', 'down']);
    expect(cluster.faults[0]!.label).toBe('partition {1, 3} | {2}');
  });
});

describe('useEventsStore', () => {
  it('appends pushed events in order, drops repeats and filters', async () => {
    const events = useEventsStore();
    const e = (seq: number, kind: 'fault' | 'vote', message: string) => ({
      seq,
      time: seq * 1000,
      node: 1,
      kind,
      message,
    });
    t.push('event', e(1, 'fault', 'fault: kill node 1'));
    t.push('event', e(2, 'vote', 'node 2 votes for node 3'));
    t.push('event', e(2, 'vote', 'again'));
    expect(events.events.map((x) => x.seq)).toEqual([1, 2]);
    events.toggleGroup('votes');
    expect(events.filtered.map((x) => x.seq)).toEqual([1]);
    events.toggleGroup('votes');
    events.search = 'votes';
    expect(events.filtered.map((x) => x.seq)).toEqual([2]);
    events.search = '';
    // A recorded moment shows the recorded events instead, with the same filters.
    events.showRecorded([e(1, 'fault', 'fault: kill node 1')]);
    expect(events.filtered.map((x) => x.seq)).toEqual([1]);
    events.showRecorded(null);
    expect(events.filtered.map((x) => x.seq)).toEqual([1, 2]);
  });

  it('counts process start-ups under Processes, not under Faults', () => {
    const faults = EVENT_GROUPS.find((g) => g.id === 'faults')!;
    const processes = EVENT_GROUPS.find((g) => g.id === 'processes')!;
    expect(faults.kinds).toEqual(['fault']);
    expect(processes.kinds).toContain('process');
    const events = useEventsStore();
    t.push('event', { seq: 1, time: 1, node: 1, kind: 'process', message: 'node 1 started' });
    events.groups = ['faults'];
    expect(events.filtered).toEqual([]);
    events.groups = ['processes'];
    expect(events.filtered.map((e) => e.seq)).toEqual([1]);
  });

  it('catches up from the last seq on reconnect', async () => {
    const events = useEventsStore();
    t.push('event', { seq: 7, time: 1, node: null, kind: 'fault', message: 'x' });
    t.answers.getEvents = () => [{ seq: 8, time: 2, node: null, kind: 'fault', message: 'y' }];
    t.setStatus({ state: 'reconnecting' });
    t.setStatus({ state: 'connected' });
    await flush();
    const last = t.calls.filter((c) => c.name === 'getEvents').pop();
    expect(last?.args).toEqual([7]);
    expect(events.lastSeq).toBe(8);
  });
});

describe('actions forward one call each', () => {
  // These check the calls; confirmations (on by default) are covered below.
  beforeEach(() => useConfirmStore().setEnabled(false));
  afterEach(() => useConfirmStore().setEnabled(true));

  it('faults', async () => {
    const faults = useFaultsStore();
    await faults.nodeAction('kill', 2);
    await faults.nodeAction('pause', 3);
    await faults.nodeAction('isolate', 1);
    await faults.setSlowDisk(2, 25);
    await faults.setLinkRules(1, [{ to: 2, drop: 1 }]);
    await faults.partition([[1, 2], [], [3]]);
    await faults.heal();
    await faults.clearAll();
    expect(
      t.calls.filter(
        (c) => c.name !== 'getView' && c.name !== 'getEvents' && c.name !== 'listScenarios',
      ),
    ).toEqual([
      { name: 'killNode', args: [2] },
      { name: 'pauseNode', args: [3] },
      { name: 'isolateNode', args: [1] },
      { name: 'setSlowDisk', args: [2, 25] },
      { name: 'setLinkRules', args: [1, [{ to: 2, drop: 1 }]] },
      { name: 'partition', args: [[[1, 2], [3]]] },
      { name: 'healNetwork', args: [] },
      { name: 'clearAllFaults', args: [] },
    ]);
  });

  it('refuses a partition with a single group without calling', async () => {
    const faults = useFaultsStore();
    const before = t.calls.length;
    expect(await faults.partition([[1, 2, 3]])).toBe(false);
    expect(t.calls.length).toBe(before);
    expect(useToastStore().toasts[0]?.message).toMatch(/two groups/);
  });

  it('membership shows the latest change when none runs, not "none yet" above a list', () => {
    const membership = useMembershipStore();
    const wf = (id: string, startedAt: number) => ({
      id,
      kind: 'add-node' as const,
      node: 4,
      state: 'done' as const,
      startedAt,
      finishedAt: startedAt + 1000,
      steps: [],
      error: null,
    });
    expect(membership.focused).toBeNull();
    t.push('view', view({ version: 20, workflows: [wf('older', 1000), wf('newer', 5000)] }));
    expect(membership.focused?.id).toBe('newer');
  });

  it('membership follows the workflow a button started', async () => {
    const membership = useMembershipStore();
    t.answers.addNode = () => ({ workflowId: 'wf-9' });
    await membership.addNode();
    expect(membership.focusedId).toBe('wf-9');
    await membership.transferLeader(3);
    await membership.removeNode(2);
    t.answers.replaceNode = () => ({ workflowId: 'wf-10' });
    await membership.replaceNode(3);
    expect(membership.focusedId).toBe('wf-10');
    const names = t.calls.map((c) => [c.name, ...c.args]);
    expect(names).toContainEqual(['transferLeader', 3]);
    expect(names).toContainEqual(['removeNode', 2]);
    expect(names).toContainEqual(['replaceNode', 3]);
  });

  it('kv console records outcome and errors', async () => {
    const kv = useKvStore();
    t.answers.kvPut = () => ({
      ok: true,
      value: null,
      prev: null,
      error: null,
      servedBy: 1,
      ms: 2,
    });
    t.answers.kvCas = () => {
      throw new Error('kvCas: no leader');
    };
    await kv.execute('put', 'k', 'v');
    await kv.execute('cas', 'k', 'w', null);
    expect(t.calls.find((c) => c.name === 'kvPut')?.args).toEqual(['k', 'v']);
    expect(t.calls.find((c) => c.name === 'kvCas')?.args).toEqual(['k', null, 'w']);
    expect(kv.records[1]!.outcome?.servedBy).toBe(1);
    expect(kv.records[0]!.error).toBe('kvCas: no leader');
  });

  it('workload starts with the form options', async () => {
    const workload = useWorkloadStore();
    workload.options.clients = 3;
    workload.options.rate = 50;
    await workload.start();
    await workload.stop();
    const start = t.calls.find((c) => c.name === 'startWorkload');
    expect(start?.args[0]).toMatchObject({ clients: 3, rate: 50 });
    expect(t.calls.some((c) => c.name === 'stopWorkload')).toBe(true);
  });

  it('a failed call becomes a toast with its message and clears busy', async () => {
    useConfirmStore().setEnabled(false);
    const conn = useConnectionStore();
    let release: (v: unknown) => void = () => undefined;
    t.answers.killNode = () =>
      new Promise(
        (_, reject) => (release = () => reject(new Error('killNode: node 9 is not running'))),
      );
    const p = useFaultsStore().nodeAction('kill', 9);
    expect(conn.isBusy('killNode', 9)).toBe(true);
    release(undefined);
    await p;
    expect(conn.isBusy('killNode', 9)).toBe(false);
    expect(useToastStore().toasts.map((x) => x.message)).toContain(
      'killNode: node 9 is not running',
    );
    useConfirmStore().setEnabled(true);
  });
});

describe('node log lines', () => {
  it('read the node’s own time field, so lines show a wall-clock time, not t=…', () => {
    const line = toLine({ t: 1_796_542_083_203, level: 'warn', msg: 'slow fsync', ms: 40 });
    expect(line.time).toBe(1_796_542_083_203);
    expect(line.fields).toEqual({ ms: 40 });
    expect(line.level).toBe('warn');
  });
});

describe('confirmations before Kill and Remove', () => {
  it('Kill asks, naming the node and its role; Cancel sends nothing, confirming sends the call', async () => {
    const confirm = useConfirmStore();
    expect(confirm.enabled).toBe(true);
    const faults = useFaultsStore();
    const cancelled = faults.nodeAction('kill', 1);
    expect(confirm.open?.text).toMatch(/^Kill node 1, the leader\?/);
    confirm.reply(false);
    await cancelled;
    expect(t.calls.filter((c) => c.name === 'killNode')).toEqual([]);
    const confirmed = faults.nodeAction('kill', 1);
    confirm.reply(true);
    await confirmed;
    expect(t.calls.filter((c) => c.name === 'killNode')).toEqual([{ name: 'killNode', args: [1] }]);
  });

  it('Remove says the data folder is deleted; with confirmations off it asks nothing', async () => {
    const confirm = useConfirmStore();
    const membership = useMembershipStore();
    t.answers.removeNode = () => ({ workflowId: 'wf-rm' });
    const asked = membership.removeNode(2);
    expect(confirm.open?.text).toBe(
      'Remove node 2, a follower? It leaves the configuration and its data folder is deleted.',
    );
    confirm.reply(false);
    await asked;
    expect(t.calls.some((c) => c.name === 'removeNode')).toBe(false);
    confirm.setEnabled(false);
    await membership.removeNode(2);
    expect(confirm.open).toBeNull();
    expect(t.calls.filter((c) => c.name === 'removeNode')).toHaveLength(1);
    confirm.setEnabled(true);
  });
});

describe('the timeline node filter', () => {
  it('keeps a node that was removed, as long as the stream names it', () => {
    const events = useEventsStore();
    t.push('event', { seq: 1, time: 1, node: 4, kind: 'workflow', message: 'remove-node 4: done' });
    t.push('event', { seq: 2, time: 2, node: null, kind: 'fault', message: 'healed' });
    expect(events.nodeIds([1, 2, 3])).toEqual([1, 2, 3, 4]);
  });
});

describe('the client console', () => {
  it('a put that fails while the quorum is lost says so, not only "no leader is known"', async () => {
    const kv = useKvStore();
    t.push(
      'view',
      view({
        version: 40,
        leader: 0,
        nodes: [
          node(1, null, { health: 'down' }),
          node(2, null, { health: 'down' }),
          node(3, 'pre-candidate'),
        ],
        config: { voters: [1, 2, 3], learners: [], from: 3 },
      }),
    );
    t.answers.kvPut = () => ({
      ok: false,
      value: null,
      prev: null,
      error: 'no leader is known',
      servedBy: null,
      ms: 5000,
    });
    const r = await kv.execute('put', 'k', 'v');
    expect(r.outcome?.error).toBe('no leader is known');
    expect(r.why).toBe('no quorum: 2 of 3 voters down or cut off — writes cannot commit');
    t.push('view', view({ version: 41 }));
    t.answers.kvPut = () => ({
      ok: false,
      value: null,
      prev: null,
      error: 'boom',
      servedBy: 1,
      ms: 1,
    });
    expect((await kv.execute('put', 'k', 'v')).why).toBeNull();
  });
});
