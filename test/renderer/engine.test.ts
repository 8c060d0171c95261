// @vitest-environment happy-dom
// What an engine cannot do shows as unavailable with its reason: the top bar's engine badge, and
// every control and panel of a feature the view's engine names unavailable — disabled, its title
// the reason, a note in place of a whole panel, and no call made. With raftdeck's own nodes, and
// with a view recorded before engines were named, everything is there as before.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from 'vue-router';
import { RAFTDECK_ENGINE } from '../../main/contract/view';
import type { ClusterView, EngineFeature, EngineView } from '../../main/contract/view';
import KvConsole from '../../renderer/src/components/client/KvConsole.vue';
import PaceControl from '../../renderer/src/components/common/PaceControl.vue';
import TopBar from '../../renderer/src/components/common/TopBar.vue';
import FaultStrip from '../../renderer/src/components/faults/FaultStrip.vue';
import LinkRuleForm from '../../renderer/src/components/faults/LinkRuleForm.vue';
import NodeActions from '../../renderer/src/components/faults/NodeActions.vue';
import LogInspector from '../../renderer/src/components/log/LogInspector.vue';
import NodeLogViewer from '../../renderer/src/components/node/NodeLogViewer.vue';
import LinkPanel from '../../renderer/src/components/topology/LinkPanel.vue';
import TopologyLegend from '../../renderer/src/components/topology/TopologyLegend.vue';
import WorkloadForm from '../../renderer/src/components/workload/WorkloadForm.vue';
import { engineBadge } from '../../renderer/src/lib/engine';
import FaultsPage from '../../renderer/src/pages/FaultsPage.vue';
import MembershipPage from '../../renderer/src/pages/MembershipPage.vue';
import MessagesPage from '../../renderer/src/pages/MessagesPage.vue';
import ScenariosPage from '../../renderer/src/pages/ScenariosPage.vue';
import { useConnectionStore } from '../../renderer/src/stores/connection';
import { useLogInspectorStore } from '../../renderer/src/stores/log-inspector';
import { fakeTransport, flush, startDeck, view } from './helpers';
import type { FakeTransport } from './helpers';

const TYPES =
  "message-type rules need raftdeck's own transport; etcd's peer links are proxied as byte streams";
const DISK = 'etcd fsyncs its WAL itself; raftdeck cannot slow its disk';
const LOGS = "raftdeck cannot read etcd's WAL entries";
const MESSAGES = "etcd's peer traffic is proxied as byte streams: no messages to show";
const DETAIL = 'no per-type counters on a proxied etcd link';
const PACE = "etcd's ticks are its own";
const NOT_OURS = 'raftdeck did not start this cluster';

/** ETCD_LOCAL: an etcd cluster raftdeck started: faults through proxies, no Raft-level views. */
const ETCD_LOCAL: EngineView = {
  kind: 'etcd',
  version: '3.4.23',
  mode: 'local',
  unavailable: {
    typeRules: TYPES,
    slowDisk: DISK,
    logEntries: LOGS,
    messages: MESSAGES,
    linkDetail: DETAIL,
    pace: PACE,
  },
  endpoints: [],
};

const ENDPOINTS = ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'];
const CHANGES: EngineFeature[] = ['addNode', 'removeNode', 'replaceNode', 'transferLeader'];
const NO_FAULTS: EngineFeature[] = [
  'kill',
  'stop',
  'restart',
  'pause',
  'autoRestart',
  'isolate',
  'partition',
  'linkRules',
  'typeRules',
  'slowDisk',
  'kv',
  'workload',
  'scenarios',
  'nodeLogs',
];

/** attached: someone else's etcd cluster; read-only unless `changes` were allowed. */
function attached(changes: boolean): EngineView {
  const off = [...NO_FAULTS, ...(changes ? [] : CHANGES)];
  return {
    kind: 'etcd',
    version: '3.5.17',
    mode: 'attached',
    unavailable: {
      ...ETCD_LOCAL.unavailable,
      ...Object.fromEntries(off.map((f) => [f, NOT_OURS])),
    },
    endpoints: ENDPOINTS,
  };
}

let pinia: Pinia;
let router: Router;
let t: FakeTransport;
let version = 10;
let mounted: VueWrapper[] = [];

beforeEach(async () => {
  t = fakeTransport();
  ({ pinia, router } = startDeck(t));
  await flush();
});

afterEach(() => {
  for (const w of mounted) w.unmount();
  mounted = [];
});

/** show pushes a view of the default cluster run by `engine` (absent: a view from before engines). */
async function show(engine: EngineView | undefined): Promise<void> {
  const v = view({ version: ++version });
  if (engine === undefined) delete (v as Partial<ClusterView>).engine;
  else v.engine = engine;
  t.push('view', v);
  await flush();
}

function open<C>(component: C, props: Record<string, unknown> = {}): VueWrapper {
  const w = mount(component as never, {
    props: props as never,
    global: { plugins: [pinia, router] },
    attachTo: document.body,
  });
  mounted.push(w);
  return w;
}

const unavailable = (why: string) => `Unavailable on etcd: ${why}`;
const called = (name: string) => t.calls.filter((c) => c.name === name).length;

describe('the engine badge', () => {
  it('names etcd, its version and how it is held; nothing for raftdeck or an old recording', async () => {
    const bar = open(TopBar);
    await show(ETCD_LOCAL);
    expect(bar.get('[data-test=engine-badge]').text()).toBe('etcd 3.4.23 · local');

    await show(attached(false));
    const badge = bar.get('[data-test=engine-badge]');
    expect(badge.text()).toBe('etcd 3.5.17 · attached · read-only');
    expect(badge.attributes('title')).toContain(`endpoints: ${ENDPOINTS.join(', ')}`);

    await show(attached(true));
    expect(bar.get('[data-test=engine-badge]').text()).toBe('etcd 3.5.17 · attached');

    await show(RAFTDECK_ENGINE);
    expect(bar.find('[data-test=engine-badge]').exists()).toBe(false);
    await show(undefined);
    expect(bar.find('[data-test=engine-badge]').exists()).toBe(false);
    expect(bar.get('h1').text()).toBe('raftdeck');
  });

  it('is read-only only when adding, removing and moving the leader are all unavailable', () => {
    const some = { ...attached(true), unavailable: { addNode: NOT_OURS, removeNode: NOT_OURS } };
    expect(engineBadge(some)?.readOnly).toBe(false);
    expect(engineBadge(attached(false))?.readOnly).toBe(true);
    expect(engineBadge({ ...ETCD_LOCAL, version: '' })?.text).toBe('etcd · local');
    expect(engineBadge({ ...RAFTDECK_ENGINE, mode: 'lab' })).toBeNull();
  });
});

describe('node actions', () => {
  const node2 = () => view().nodes[1]!;

  it('are disabled with the reason on an attached cluster, and enabled on raftdeck', async () => {
    await show(attached(false));
    const w = open(NodeActions, { node: node2() });
    for (const a of ['kill', 'stop', 'restart', 'pause', 'isolate']) {
      const b = w.get(`[data-action=${a}-2]`);
      expect(b.attributes('disabled'), a).toBeDefined();
      expect(b.attributes('title'), a).toBe(unavailable(NOT_OURS));
      expect(b.attributes('data-unavailable'), a).toBeDefined();
    }
    await w.get('[data-action=kill-2]').trigger('click');
    expect(called('killNode')).toBe(0);

    // The same buttons come back as the component made them once the engine can.
    await show(RAFTDECK_ENGINE);
    const kill = w.get('[data-action=kill-2]');
    expect(kill.attributes('disabled')).toBeUndefined();
    expect(kill.attributes('title')).toBe('Kill node 2');
    expect(kill.attributes('data-unavailable')).toBeUndefined();
    // …and their own reasons still hold.
    expect(w.get('[data-action=resume-2]').attributes('title')).toBe(
      'Resume: node 2 is not paused',
    );
  });

  it('a view recorded before engines were named has every action', async () => {
    await show(undefined);
    const w = open(NodeActions, { node: node2() });
    expect(w.get('[data-action=kill-2]').attributes('disabled')).toBeUndefined();
    expect(w.get('[data-action=isolate-2]').attributes('title')).toBe('Isolate node 2');
    expect(w.find('[data-unavailable]').exists()).toBe(false);
  });

  it('the engine reason comes before a replay refusal, which still holds on raftdeck', async () => {
    const conn = useConnectionStore();
    conn.refuseChanges('Replaying: nothing can be changed');
    await show(RAFTDECK_ENGINE);
    const w = open(NodeActions, { node: node2() });
    const kill = () => w.get('[data-action=kill-2]');
    expect(kill().attributes('title')).toBe('Replaying: nothing can be changed');
    expect(kill().attributes('data-refused')).toBeDefined();

    await show(attached(false));
    expect(kill().attributes('title')).toBe(unavailable(NOT_OURS));
    expect(kill().attributes('data-unavailable')).toBeDefined();
    expect(kill().attributes('data-refused')).toBeUndefined();

    conn.refuseChanges(null);
    await show(RAFTDECK_ENGINE);
    expect(kill().attributes('disabled')).toBeUndefined();
    expect(kill().attributes('title')).toBe('Kill node 2');
  });
});

describe('the Faults page on a local etcd cluster', () => {
  it('says why there is no slow disk and no message-type rules; the rest works', async () => {
    await show(ETCD_LOCAL);
    const w = open(FaultsPage);
    const row = w.get('[data-node="2"]');
    expect(row.get('[data-test=disk-unavailable]').text()).toBe(unavailable(DISK));
    expect(row.find('#disk-2').exists()).toBe(false);

    const types = w.get('[data-test=rule-types]');
    expect((types.element as HTMLFieldSetElement).disabled).toBe(true);
    expect(types.attributes('title')).toBe(unavailable(TYPES));
    expect(w.get('[data-test=types-unavailable]').text()).toBe(unavailable(TYPES));
    expect(w.get('[data-test=snapshot-offset]').attributes('disabled')).toBeDefined();

    // Partitions and drop/delay rules go through the proxies: enabled.
    expect(w.get('[data-action=kill-2]').attributes('disabled')).toBeUndefined();
    expect(w.get('[data-test=heal]').attributes('disabled')).toBeUndefined();
    expect(w.find('[data-feature=partition]').exists()).toBe(false);
    expect(w.find('[data-feature=linkRules]').exists()).toBe(false);
    expect(w.find('[data-feature=faults]').exists()).toBe(false);
  });

  it('on raftdeck the slow disk and the message types are there', async () => {
    await show(RAFTDECK_ENGINE);
    const w = open(FaultsPage);
    expect(w.find('[data-test=disk-unavailable]').exists()).toBe(false);
    expect(w.find('#disk-2').exists()).toBe(true);
    expect((w.get('[data-test=rule-types]').element as HTMLFieldSetElement).disabled).toBe(false);
    expect(w.find('[data-test=types-unavailable]').exists()).toBe(false);
  });

  it('a rule built on etcd carries no message types, even ones ticked before', async () => {
    await show(RAFTDECK_ENGINE);
    const w = open(LinkRuleForm);
    await w.get('[data-test=rule-types] input[value=vote]').setValue(true);
    await show(ETCD_LOCAL);
    const add = w.findAll('button').find((b) => b.text() === '+ Add rule')!;
    await add.trigger('click'); // drop 100 %
    const apply = w.findAll('button').find((b) => b.text().startsWith('Apply'))!;
    await apply.trigger('click');
    await flush();
    const call = t.calls.find((c) => c.name === 'setLinkRules');
    expect(call?.args[1]).toEqual([{ to: '*', drop: 1 }]);
  });

  it('on an attached cluster the partition and rule panels are notes, and Clear all is off', async () => {
    await show(attached(false));
    const w = open(FaultsPage);
    expect(w.get('[data-feature=faults]').text()).toBe(unavailable(NOT_OURS));
    expect(w.get('[data-feature=partition]').text()).toBe(unavailable(NOT_OURS));
    expect(w.get('[data-feature=linkRules]').text()).toBe(unavailable(NOT_OURS));
    expect(w.find('[data-test=apply-partition]').exists()).toBe(false);
    const clear = w.findAll('button').find((b) => b.text() === 'Clear all faults')!;
    expect(clear.attributes('disabled')).toBeDefined();
    expect(clear.attributes('title')).toBe(unavailable(NOT_OURS));
  });

  it("the fault strip's Clear all is there while any fault is possible", async () => {
    await show(ETCD_LOCAL);
    const v = view({ version: ++version, partitions: [[1, 2], [3]] });
    v.engine = ETCD_LOCAL;
    t.push('view', v);
    await flush();
    const w = open(FaultStrip);
    const clear = () => w.findAll('button').find((b) => b.text() === 'Clear all')!;
    expect(clear().attributes('disabled')).toBeUndefined();
    const a = view({ version: ++version, partitions: [[1, 2], [3]] });
    a.engine = attached(false);
    t.push('view', a);
    await flush();
    expect(clear().attributes('disabled')).toBeDefined();
  });
});

describe('membership on an attached cluster', () => {
  it('read-only: add, make leader, replace and remove are disabled with the reason', async () => {
    await show(attached(false));
    const w = open(MembershipPage);
    const add = w.get('[data-test=add-node]');
    expect(add.attributes('disabled')).toBeDefined();
    expect(add.attributes('title')).toBe(unavailable(NOT_OURS));
    expect(w.get('[data-test=add-hint]').text()).toBe(unavailable(NOT_OURS));
    for (const a of ['transfer-2', 'replace-2', 'remove-2']) {
      expect(w.get(`[data-action=${a}]`).attributes('disabled'), a).toBeDefined();
      expect(w.get(`[data-action=${a}]`).attributes('title'), a).toBe(unavailable(NOT_OURS));
    }
  });

  it('with changes allowed, they are as on raftdeck', async () => {
    await show(attached(true));
    const w = open(MembershipPage);
    expect(w.get('[data-test=add-node]').attributes('disabled')).toBeUndefined();
    expect(w.get('[data-test=add-hint]').text()).toContain('As a voter it makes 4');
    expect(w.get('[data-action=remove-2]').attributes('disabled')).toBeUndefined();
    expect(w.get('[data-action=transfer-2]').attributes('title')).toBe('Make node 2 the leader');
  });
});

describe('panels the engine cannot fill', () => {
  it('the log inspector says why instead of an empty table, and asks for nothing', async () => {
    await show(ETCD_LOCAL);
    const w = open(LogInspector);
    expect(w.get('[data-test=unavailable]').text()).toBe(unavailable(LOGS));
    expect(w.find('[data-test=insp-index]').exists()).toBe(false);
    await useLogInspectorStore().showIndex(5);
    await useLogInspectorStore().search('k');
    expect(called('logEntries')).toBe(0);

    await show(RAFTDECK_ENGINE);
    expect(w.find('[data-test=unavailable]').exists()).toBe(false);
    expect(w.find('[data-test=insp-index]').exists()).toBe(true);
  });

  it('node logs: a note, and no polling', async () => {
    await show(attached(false));
    const w = open(NodeLogViewer, { node: 2 });
    await flush();
    expect(w.get('[data-test=unavailable]').text()).toBe(unavailable(NOT_OURS));
    expect(w.find('[data-test=log-lines]').exists()).toBe(false);
    expect(called('nodeLogs')).toBe(0);

    await show(RAFTDECK_ENGINE);
    await flush();
    expect(w.find('[data-test=log-lines]').exists()).toBe(true);
    expect(called('nodeLogs')).toBeGreaterThan(0);
  });

  it('link detail: the link as the view has it, a note, and no linkDetail call', async () => {
    await show(ETCD_LOCAL);
    const w = open(LinkPanel, { a: 1, b: 2 });
    await flush();
    expect(w.get('[data-test=link-state]').text()).toContain('up');
    expect(w.get('[data-test=unavailable]').text()).toBe(unavailable(DETAIL));
    expect(w.find('[data-test=link-counts]').exists()).toBe(false);
    expect(called('linkDetail')).toBe(0);
  });

  it('the Messages page says why and shows no table', async () => {
    await show(ETCD_LOCAL);
    const w = open(MessagesPage);
    expect(w.get('[data-test=unavailable]').text()).toBe(unavailable(MESSAGES));
    expect(w.find('[data-test=messages-table]').exists()).toBe(false);
    expect(w.find('[data-test=messages-pause]').exists()).toBe(false);
  });

  it("the Topology's legend names the messages' colours only where messages are drawn", async () => {
    await show(ETCD_LOCAL);
    const w = open(TopologyLegend);
    expect(w.find('[data-test=legend-messages]').exists()).toBe(false);
    expect(w.text()).toContain('election timer');
    await show(RAFTDECK_ENGINE);
    expect(w.find('[data-test=legend-messages]').exists()).toBe(true);
  });

  it('on raftdeck the Messages page has its table', async () => {
    await show(RAFTDECK_ENGINE);
    const w = open(MessagesPage);
    expect(w.find('[data-test=unavailable]').exists()).toBe(false);
    expect(w.find('[data-test=messages-table]').exists()).toBe(true);
  });
});

describe('the client, workload, scenarios and pace', () => {
  it('are disabled with the reason where the engine cannot run them', async () => {
    await show(attached(false));
    const kv = open(KvConsole);
    expect(kv.get('[data-feature=kv]').text()).toBe(unavailable(NOT_OURS));
    const run = kv.get('button[type=submit]');
    expect(run.attributes('disabled')).toBeDefined();
    expect(run.attributes('title')).toBe(unavailable(NOT_OURS));

    const wl = open(WorkloadForm);
    const start = wl.findAll('button').find((b) => b.text().includes('Start'))!;
    expect(start.attributes('disabled')).toBeDefined();
    expect(start.attributes('title')).toBe(unavailable(NOT_OURS));

    t.answers.listScenarios = () => [
      { name: 'leader-crash', title: 'Leader crash', description: 'kill the leader' },
    ];
    const sc = open(ScenariosPage);
    await flush();
    expect(sc.get('[data-feature=scenarios]').text()).toBe(unavailable(NOT_OURS));

    const pace = open(PaceControl);
    const btn = pace.get('[data-test=pace-button]');
    expect(btn.attributes('disabled')).toBeDefined();
    expect(btn.attributes('title')).toBe(unavailable(PACE));
  });

  it('are there on raftdeck', async () => {
    await show(RAFTDECK_ENGINE);
    const kv = open(KvConsole);
    expect(kv.find('[data-feature=kv]').exists()).toBe(false);
    const pace = open(PaceControl);
    expect(pace.get('[data-test=pace-button]').attributes('disabled')).toBeUndefined();
    const wl = open(WorkloadForm);
    const start = wl.findAll('button').find((b) => b.text().includes('Start'))!;
    expect(start.attributes('title') ?? '').not.toContain('Unavailable');
  });
});

describe("an engine's own figures on the node page", () => {
  it("shows what etcd reports about a member in place of raftdeck's storage panel", async () => {
    const { default: NodePage } = await import('../../renderer/src/pages/NodePage.vue');
    const v = view({ version: ++version });
    v.engine = ETCD_LOCAL;
    v.nodes[0]!.engineStats = [
      { name: 'DB size', value: '20.0 KiB (in use 16.0 KiB)' },
      { name: 'WAL fsync', value: 'p50 0.84 ms · p99 3.10 ms · 120 in all' },
      { name: 'alarms', value: 'NOSPACE (node 1)', warn: true },
    ];
    t.push('view', v);
    await flush();
    await router.push('/node/1');
    const w = open(NodePage);
    await flush();
    const panel = w.find('[data-test=engine-stats]');
    expect(panel.exists()).toBe(true);
    expect(panel.text()).toContain('etcd reports');
    expect(panel.text()).toContain('WAL fsync');
    expect(panel.text()).toContain('p99 3.10 ms');
    expect(panel.find('dd.warn').text()).toBe('NOSPACE (node 1)');
    const headings = (): string[] => w.findAll('h3').map((h) => h.text());
    expect(headings()).not.toContain('Storage');
    // raftdeck's own node: no engine panel, its storage panel as before
    const r = view({ version: ++version });
    t.push('view', r);
    await flush();
    expect(w.find('[data-test=engine-stats]').exists()).toBe(false);
    expect(headings()).toContain('Storage');
  });
});

describe('whose replication figures the overview shows', () => {
  it("says the leader's on raftdeck's nodes and each follower's own on etcd", async () => {
    const { default: OverviewPage } = await import('../../renderer/src/pages/OverviewPage.vue');
    await show(RAFTDECK_ENGINE);
    const w = open(OverviewPage);
    await flush();
    expect(w.find('[data-test=lag-source]').text()).toBe('as the leader sees it');
    await show(ETCD_LOCAL);
    expect(w.find('[data-test=lag-source]').text()).toBe('as each follower reports it');
  });

  it("titles the replication page's followers table the same way", async () => {
    const { default: ReplicationPage } =
      await import('../../renderer/src/pages/ReplicationPage.vue');
    await show(RAFTDECK_ENGINE);
    const w = open(ReplicationPage);
    await flush();
    expect(w.find('[data-test=followers-source]').text()).toMatch(/^as leader node \d+ sees them$/);
    await show(ETCD_LOCAL);
    expect(w.find('[data-test=followers-source]').text()).toMatch(/^as each follower reports it/);
  });
});
