// @vitest-environment happy-dom
// The main components, mounted with real stores over a fake transport.
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryHistory } from 'vue-router';
import TopBar from '../../renderer/src/components/common/TopBar.vue';
import NodeActions from '../../renderer/src/components/faults/NodeActions.vue';
import ConnectionBanner from '../../renderer/src/components/common/ConnectionBanner.vue';
import EventList from '../../renderer/src/components/events/EventList.vue';
import LagBar from '../../renderer/src/components/node/LagBar.vue';
import NodeCard from '../../renderer/src/components/node/NodeCard.vue';
import PartitionEditor from '../../renderer/src/components/faults/PartitionEditor.vue';
import WorkflowStepper from '../../renderer/src/components/membership/WorkflowStepper.vue';
import CheckerPanel from '../../renderer/src/components/workload/CheckerPanel.vue';
import LogStrip from '../../renderer/src/components/log/LogStrip.vue';
import MembershipPage from '../../renderer/src/pages/MembershipPage.vue';
import { createDeckRouter } from '../../renderer/src/router';
import { useUiStore } from '../../renderer/src/stores/ui';
import { useClusterStore } from '../../renderer/src/stores/cluster';
import type { NodeView, RaftView, WorkflowView } from '../../main/contract/view';
import { fakeTransport, flush, node, raft, view, startDeck } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let t: FakeTransport;

beforeEach(async () => {
  t = fakeTransport();
  ({ pinia } = startDeck(t));
  await flush();
});

const cluster = () => useClusterStore();

describe('NodeCard', () => {
  it('shows role, term, the leader mark and health', () => {
    const leader = cluster().node(1)!;
    const w = mount(NodeCard, { props: { node: leader }, global: { plugins: [pinia] } });
    expect(w.get('[data-test=role]').text()).toContain('Leader');
    expect(w.find('[aria-label=leader]').exists()).toBe(true);
    expect(w.get('[data-test=term]').text()).toBe('2');
    expect(w.get('[data-test=health]').text()).toContain('healthy');
    expect(w.classes()).toContain('leader');

    const f = mount(NodeCard, {
      props: { node: cluster().node(2)! },
      global: { plugins: [pinia] },
    });
    expect(f.get('[data-test=role]').text()).toContain('Follower');
    expect(f.find('[aria-label=leader]').exists()).toBe(false);
  });

  it('highlights divergence from the leader', async () => {
    t.push(
      'view',
      view({
        version: 3,
        nodes: [
          node(1, 'leader', { raft: raft({ role: 'leader', term: 5, lastIndex: 120 }) }),
          node(2, 'leader', {
            raft: raft({ role: 'leader', term: 4, leader: 2, lastIndex: 130 }),
            health: 'unreachable',
          }),
        ],
      }),
    );
    const w = mount(NodeCard, {
      props: { node: cluster().node(2)! },
      global: { plugins: [pinia] },
    });
    expect(w.classes()).toContain('diverges');
    const text = w.get('[data-test=divergence]').text();
    expect(text).toContain('also claims leadership');
    expect(text).toContain("term 4 behind the leader's 5");
    expect(text).toContain("10 entries beyond the leader's log");
    expect(w.get('[data-test=term]').classes()).toContain('off');
    expect(w.get('[data-test=health]').text()).toContain('unreachable');
  });

  it('says why a down node has no status', () => {
    const down = node(3, null, {
      health: 'down',
      process: { ...node(3, null).process, state: 'crashed', signal: 'SIGKILL', pid: null },
    });
    const w = mount(NodeCard, { props: { node: down }, global: { plugins: [pinia] } });
    expect(w.text()).toContain('Killed by SIGKILL');
    expect(w.get('[data-test=process]').text()).toContain('crashed');
  });
});

describe('a member whose data folder is gone', () => {
  const REFUSED =
    'node 2 has run before, but its data folder /data/node-2 is gone: started again it would ' +
    'come back as member 2 with an empty log, which could elect a leader that lacks committed ' +
    'entries. Replace it instead: remove node 2 and add a fresh node';
  const lost = () =>
    node(2, null, {
      health: 'down',
      startRefused: REFUSED,
      process: { ...node(2, null).process, state: 'exited', exitCode: null, pid: null },
    });

  beforeEach(async () => {
    t.push('view', view({ version: 5, nodes: [cluster().node(1)!, lost(), node(3, 'follower')] }));
    t.answers.replaceNode = () => ({ workflowId: 'wf-replace' });
    await flush();
  });

  it('its card says so and offers Replace, which starts the workflow and shows it', async () => {
    const w = mount(NodeCard, { props: { node: lost() }, global: { plugins: [pinia] } });
    expect(w.get('[data-test=refused]').text()).toContain('Its data folder is gone');
    expect(w.get('[data-test=refused] p').attributes('title')).toBe(REFUSED);
    expect(w.find('[data-test=divergence]').exists()).toBe(false);
    await w.get('[data-test=replace]').trigger('click');
    await flush();
    expect(t.calls.map((c) => [c.name, ...c.args])).toContainEqual(['replaceNode', 2]);
    expect(useUiStore().page).toBe('membership');
    // A member that can start has no such note.
    const ok = mount(NodeCard, {
      props: { node: cluster().node(3)! },
      global: { plugins: [pinia] },
    });
    expect(ok.find('[data-test=refused]').exists()).toBe(false);
  });

  it('the Membership page explains it, and Replace is there for every member', async () => {
    const w = mount(MembershipPage, { global: { plugins: [pinia] } });
    const alert = w.get('[data-test=refused-2]');
    expect(alert.attributes('role')).toBe('alert');
    expect(alert.text()).toContain('Node 2 cannot start again: its data is gone');
    expect(alert.text()).toContain(REFUSED);
    expect(w.find('[data-test=refused-1]').exists()).toBe(false);
    expect(w.find('[data-action=replace-3]').exists()).toBe(true);
    expect(w.get('[data-action=transfer-2]').attributes('disabled')).toBeDefined();
    expect(w.get('[data-action=transfer-3]').attributes('disabled')).toBeUndefined();
    await w.get('[data-action=replace-refused-2]').trigger('click');
    await flush();
    expect(t.calls.map((c) => [c.name, ...c.args])).toContainEqual(['replaceNode', 2]);
    await w.get('[data-action=replace-3]').trigger('click');
    await flush();
    expect(t.calls.map((c) => [c.name, ...c.args])).toContainEqual(['replaceNode', 3]);
  });
});

describe('PartitionEditor', () => {
  it('clicking nodes cycles their group; apply sends the groups', async () => {
    const w = mount(PartitionEditor, { global: { plugins: [pinia] } });
    const chip = (id: number) => w.get(`[data-node="${id}"]`);
    await chip(1).trigger('click'); // 1 → A
    await chip(2).trigger('click'); // 2 → A
    await chip(2).trigger('click'); // 2 → B
    expect(w.get('[data-test=partition-preview]').text()).toBe('{1} | {2} | {3}');
    await chip(3).trigger('click'); // 3 → A
    expect(w.get('[data-test=partition-preview]').text()).toBe('{1,3} | {2}');
    await w.get('[data-test=apply-partition]').trigger('click');
    await flush();
    expect(t.calls.find((c) => c.name === 'partition')?.args).toEqual([[[1, 3], [2]]]);
  });

  it('drag and drop moves a node into a group', async () => {
    const w = mount(PartitionEditor, { global: { plugins: [pinia] } });
    await w.get('[data-node="2"]').trigger('dragstart');
    await w.get('[data-group="C"]').trigger('drop');
    expect(w.get('[data-test=partition-preview]').text()).toBe('{2} | {1,3}');
  });

  it('needs two groups before it can apply, and heal calls healNetwork', async () => {
    const w = mount(PartitionEditor, { global: { plugins: [pinia] } });
    expect(w.get('[data-test=apply-partition]').attributes('disabled')).toBeDefined();
    await w.get('[data-test=heal]').trigger('click');
    await flush();
    expect(t.calls.some((c) => c.name === 'healNetwork')).toBe(true);
  });

  it('starts from the partition in force', async () => {
    t.push('view', view({ version: 4, partitions: [[2], [1, 3]] }));
    const w = mount(PartitionEditor, { global: { plugins: [pinia] } });
    await w.vm.$nextTick();
    expect(w.get('[data-group="A"]').text()).toContain('2');
    expect(w.get('[data-test=partition-preview]').text()).toBe('{2} | {1,3}');
  });
});

describe('WorkflowStepper', () => {
  const wf: WorkflowView = {
    id: 'wf-1',
    kind: 'add-node',
    node: 4,
    state: 'running',
    startedAt: 0,
    finishedAt: null,
    steps: [
      { name: 'spawn process', state: 'done', detail: 'pid 7', progress: null },
      { name: 'add as learner', state: 'done', detail: '', progress: null },
      { name: 'catch up', state: 'active', detail: 'match 40 / 100', progress: 0.4 },
      { name: 'promote to voter', state: 'pending', detail: '', progress: null },
    ],
    error: null,
  };

  it('renders every step with its state and the active progress', () => {
    const w = mount(WorkflowStepper, {
      props: { workflow: wf, now: 2500 },
      global: { plugins: [pinia] },
    });
    const steps = w.findAll('[data-test=step]');
    expect(steps.map((s) => s.classes().find((c) => c !== 'step'))).toEqual([
      'done',
      'done',
      'active',
      'pending',
    ]);
    expect(w.text()).toContain('Add node 4');
    expect(w.text()).toContain('match 40 / 100');
    expect(w.text()).toContain('40%');
    expect(w.get('[role=progressbar]').attributes('aria-valuenow')).toBe('40');
    expect(w.text()).toContain('2.5 s');
  });

  it('shows the error of a failed workflow', () => {
    const failed: WorkflowView = {
      ...wf,
      state: 'failed',
      finishedAt: 1000,
      error: 'node 4 exited',
      steps: wf.steps.map((s) => (s.state === 'active' ? { ...s, state: 'failed' } : s)),
    };
    const w = mount(WorkflowStepper, { props: { workflow: failed }, global: { plugins: [pinia] } });
    expect(w.text()).toContain('node 4 exited');
    expect(w.findAll('.step.failed')).toHaveLength(1);
  });

  it('says "outcome unknown" with the reason, never "failed", when a change may still commit', () => {
    const reason =
      'add-learner on node 1: adding learner 4 (entry 9) was not committed within 10000 ms';
    const unknown: WorkflowView = {
      ...wf,
      state: 'unknown',
      finishedAt: 11_000,
      error: reason,
      steps: [
        { name: 'spawn process', state: 'done', detail: 'pid 7', progress: null },
        {
          name: 'add as learner',
          state: 'unknown',
          detail: `outcome unknown: ${reason}`,
          progress: null,
        },
        { name: 'catch up', state: 'skipped', detail: '', progress: null },
        { name: 'promote to voter', state: 'skipped', detail: '', progress: null },
      ],
    };
    const w = mount(WorkflowStepper, {
      props: { workflow: unknown },
      global: { plugins: [pinia] },
    });
    expect(w.get('[data-test=workflow-state]').text()).toBe('outcome unknown');
    expect(w.get('[data-test=workflow-state]').classes()).toContain('warn');
    const step = w.get('.step.unknown');
    expect(step.text()).toContain('add as learner');
    expect(step.text()).toContain(`outcome unknown: ${reason}`);
    expect(step.get('.marker').text()).toBe('?');
    expect(w.get('[data-test=workflow-error]').classes()).toContain('unknown');
    expect(w.text()).not.toMatch(/failed/);
  });
});

describe('CheckerPanel', () => {
  it('shows the verdict and the failing window', () => {
    t.push(
      'view',
      view({
        version: 7,
        checker: {
          state: 'done',
          result: 'not-linearizable',
          operations: 120,
          keys: 4,
          ms: 12,
          failure: {
            key: 'k1',
            explanation: 'get returned "a" after put "b" completed',
            window: [
              {
                id: 10,
                client: 'c1',
                op: 'put',
                key: 'k1',
                value: 'b',
                invoke: 100,
                complete: 105,
                outcome: 'ok',
              },
              {
                id: 11,
                client: 'c2',
                op: 'get',
                key: 'k1',
                invoke: 106,
                complete: 110,
                outcome: 'ok',
                output: { value: 'a' },
              },
            ],
          },
        },
      }),
    );
    const w = mount(CheckerPanel, { global: { plugins: [pinia] } });
    expect(w.get('[data-test=verdict]').text()).toContain('Not linearizable');
    expect(w.get('[data-test=verdict]').text()).toContain('120 operations on 4 keys');
    expect(w.get('[data-test=failure]').text()).toContain(
      'get returned "a" after put "b" completed',
    );
    const rows = w.findAll('[data-test=failure-window] tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.text()).toContain('put(k1, b)');
    expect(rows[1]!.text()).toContain('get(k1)');
    expect(rows[1]!.text()).toContain('→ a');
    expect(rows[1]!.text()).toContain('+6.0');
  });

  it('check history calls checkHistory', async () => {
    const w = mount(CheckerPanel, { global: { plugins: [pinia] } });
    expect(w.text()).toContain('Not checked yet');
    await w.get('[data-test=check-history]').trigger('click');
    await flush();
    expect(t.calls.some((c) => c.name === 'checkHistory')).toBe(true);
  });
});

describe('LogStrip', () => {
  const strip = (n: NodeView, leader: RaftView | null = null) =>
    mount(LogStrip, {
      props: { node: n, domain: { lo: 0, hi: 100 }, confirmedUpTo: null, leaderLast: 100, leader },
    });
  const segs = (w: ReturnType<typeof strip>) =>
    w.findAll('.seg').map((s) => [s.classes()[1], s.attributes('title')]);

  it('draws compacted prefix, the node’s own term runs, the uncommitted tail and the marks', () => {
    const n = node(1, 'leader', {
      raft: raft({
        role: 'leader',
        term: 3,
        firstIndex: 41,
        lastIndex: 100,
        commit: 90,
        applied: 85,
        snapshotIndex: 40,
        termRuns: [
          { start: 41, term: 2 },
          { start: 70, term: 3 },
        ],
      }),
    });
    const w = strip(n);
    expect(segs(w)).toEqual([
      ['compacted', 'compacted: entries up to 40'],
      ['term', 'term 2: entries 41…69'],
      ['term', 'term 3: entries 70…100'],
      ['uncommitted', 'not committed: 91…100'],
    ]);
    expect(w.findAll('.seg.term').map((s) => s.attributes('style'))).toEqual([
      expect.stringContaining('var(--term-2)'),
      expect.stringContaining('var(--term-3)'),
    ]);
    expect(w.findAll('.mark').map((m) => m.attributes('title'))).toEqual([
      'snapshot 40',
      'applied 85',
      'commit 90',
    ]);
  });

  it('draws entries before the first run a node names as of earlier terms', () => {
    const n = node(2, 'follower', {
      raft: raft({
        firstIndex: 1,
        lastIndex: 100,
        commit: 100,
        termRuns: [{ start: 60, term: 9 }],
      }),
    });
    expect(segs(strip(n))).toEqual([
      ['earlier', 'entries of earlier terms: 1…59'],
      ['term', 'term 9: entries 60…100'],
    ]);
  });

  it('draws a suffix that conflicts with the leader’s log in its own terms, outlined', () => {
    const leader = raft({
      role: 'leader',
      term: 4,
      lastIndex: 100,
      commit: 87,
      termRuns: [
        { start: 1, term: 1 },
        { start: 50, term: 2 },
        { start: 88, term: 4 },
      ],
    });
    const n = node(3, 'follower', {
      raft: raft({
        term: 4,
        lastIndex: 95,
        commit: 87,
        termRuns: [
          { start: 1, term: 1 },
          { start: 50, term: 2 },
          { start: 90, term: 3 },
        ],
      }),
    });
    const w = strip(n, leader);
    expect(segs(w)).toEqual([
      ['term', 'term 1: entries 1…49'],
      ['term', 'term 2: entries 50…89'],
      ['term', 'term 3: entries 90…95'],
      ['uncommitted', 'not committed: 88…95'],
      ['divergent', "conflicts with the leader's log from 88: term 2 here, 4 on the leader"],
    ]);
    // The same node agreeing with its leader shows no conflict.
    const agreeing = strip(n, { ...leader, termRuns: n.raft!.termRuns });
    expect(agreeing.findAll('.seg.divergent')).toHaveLength(0);
  });
});

describe('LagBar', () => {
  const tone = (lag: number | null) =>
    mount(LagBar, { props: { lag }, global: { plugins: [pinia] } })
      .get('.lag')
      .classes();

  it('turns red where the threshold in the view makes the node lagging, not at a number of its own', () => {
    expect(cluster().lagEntries).toBe(100);
    expect(tone(null)).toContain('unknown');
    expect(tone(40)).toContain('ok');
    expect(tone(90)).toContain('warn');
    expect(tone(150)).toContain('bad');
    t.push('view', view({ version: 7, thresholds: { lagEntries: 400, staleStatusMs: 2000 } }));
    expect(cluster().lagEntries).toBe(400);
    expect(tone(150)).toContain('ok');
    expect(tone(350)).toContain('warn');
  });

  it('says when the leader is still probing, instead of a number it does not know', () => {
    const text = (lag: number | null, probing: boolean) =>
      mount(LagBar, { props: { lag, probing }, global: { plugins: [pinia] } })
        .get('.value')
        .text();
    expect(text(null, true)).toBe('probing…');
    expect(text(1, true)).toBe('1 behind · probing');
    expect(text(1, false)).toBe('1 behind');
  });
});

describe('TopBar at the edges', () => {
  const mountBar = () => mount(TopBar, { global: { plugins: [pinia] } });

  it('names the quorum while healthy', () => {
    expect(mountBar().get('[data-test=top-quorum]').text()).toBe(
      '3 voters · quorum 2 · tolerates 1 failure · 3 reachable',
    );
  });

  it('says the leader is silent rather than "electing", and keeps the commit with whose it is', async () => {
    t.push(
      'view',
      view({
        version: 12,
        leader: 0,
        leadership: { state: 'silent', leader: 2, silentMs: 400 },
        commit: 57,
        commitBy: 3,
        config: { voters: [1, 2, 3], learners: [], from: 3 },
        nodes: [node(1, 'follower'), node(3, 'follower')],
      }),
    );
    await flush();
    const w = mountBar();
    expect(w.get('[data-test=top-leader]').text()).toBe('leader 2 silent for 0.4 s');
    expect(w.get('[data-test=top-commit]').text()).toBe('57 (node 3)');
  });

  it('says "electing" with the candidates once a node campaigns, and when quorum is lost', async () => {
    t.push(
      'view',
      view({
        version: 13,
        leader: 0,
        leadership: { state: 'electing', candidates: [3] },
        config: { voters: [1, 2, 3], learners: [], from: 3 },
        nodes: [
          node(1, null, { health: 'down' }),
          node(2, null, { health: 'down' }),
          node(3, 'pre-candidate', { health: 'cut-off' }),
        ],
      }),
    );
    await flush();
    const w = mountBar();
    expect(w.get('[data-test=top-leader]').text()).toBe('electing (node 3)');
    const q = w.get('[data-test=top-quorum]');
    expect(q.text()).toBe('no quorum: 2 of 3 voters down or cut off — writes cannot commit');
    expect(q.classes()).toContain('lost');
  });
});

describe('MembershipPage says what adding a voter does, and why it cannot', () => {
  it('an even count tolerates no more failures than before, and the page says so', () => {
    const w = mount(MembershipPage, { global: { plugins: [pinia] } });
    expect(w.get('[data-test=add-hint]').text()).toBe(
      'As a voter it makes 4: quorum 3, tolerates 1 failure — no more than now, and one more node must be up.',
    );
    expect(w.get('[data-test=quorum]').text()).toBe(
      '3 voters · quorum 2 · tolerates 1 failure · 3 reachable',
    );
  });

  it('without a leader, Add node is disabled and says why', async () => {
    t.push(
      'view',
      view({ version: 30, leader: 0, nodes: [node(1, 'follower'), node(2, 'follower')] }),
    );
    await flush();
    const w = mount(MembershipPage, { global: { plugins: [pinia] } });
    expect(w.get('[data-test=add-node]').attributes('disabled')).toBeDefined();
    expect(w.get('[data-test=add-hint]').text()).toBe('Add node: needs a leader');
  });

  it('shows a learner that still calls itself follower as a learner', async () => {
    t.push(
      'view',
      view({
        version: 31,
        nodes: [
          node(1, 'leader', { raft: raft({ role: 'leader', voters: [1, 2, 3], learners: [4] }) }),
          node(2, 'follower'),
          node(3, 'follower'),
          node(4, 'follower', { membership: 'learner', role: 'learner' }),
        ],
      }),
    );
    await flush();
    const w = mount(MembershipPage, { global: { plugins: [pinia] } });
    const row = w.findAll('tbody tr').find((r) => r.text().includes('Node 4'))!;
    expect(row.text()).toContain('Learner');
    const make = row.get('[data-action=transfer-4]');
    expect(make.attributes('disabled')).toBeDefined();
    expect(make.attributes('title')).toBe('Make leader: node 4 is a learner');
  });

  it('Remove without a leader is disabled and says why', async () => {
    t.push(
      'view',
      view({ version: 32, leader: 0, nodes: [node(1, 'follower'), node(2, 'follower')] }),
    );
    await flush();
    const w = mount(MembershipPage, { global: { plugins: [pinia] } });
    const remove = w.get('[data-action=remove-2]');
    expect(remove.attributes('disabled')).toBeDefined();
    expect(remove.attributes('title')).toBe('Remove: needs a leader');
  });
});

describe('EventList', () => {
  it('shows a long event message whole, as text and as its tooltip', () => {
    const message =
      'node 3 applies config at 41: add-learner 4 → voters [1,2,3] learners [4] (a line longer than any row at 1280 px)';
    const router = createDeckRouter(createMemoryHistory());
    const w = mount(EventList, {
      props: { events: [{ seq: 1, time: 1, node: 3, kind: 'config', message }], compact: true },
      global: { plugins: [pinia, router] },
    });
    const m = w.get('[data-test=event-message]');
    expect(m.text()).toBe(message);
    expect(m.attributes('title')).toBe(message);
  });
});

describe('ConnectionBanner', () => {
  it('after several failed attempts, says the server may have moved and how to get back', async () => {
    const w = mount(ConnectionBanner, { global: { plugins: [pinia] } });
    t.setStatus({ state: 'reconnecting', attempt: 1, retryAt: null, error: 'closed' });
    await flush();
    expect(w.find('[data-test=server-moved]').exists()).toBe(false);
    t.setStatus({ state: 'reconnecting', attempt: 3, retryAt: null, error: 'closed' });
    await flush();
    expect(w.get('[data-test=server-moved]').text()).toContain(
      'it listens on a new port with a new token: open the URL it printed',
    );
  });

  it('shows why a source that will not retry stopped (the static lab worker failed)', async () => {
    const w = mount(ConnectionBanner, { global: { plugins: [pinia] } });
    t.setStatus({ state: 'connecting', attempt: 0, retryAt: null, error: null });
    await flush();
    expect(w.find('[data-test=source-stopped]').exists()).toBe(false);
    t.setStatus({ state: 'connecting', attempt: 0, retryAt: null, error: 'the lab stopped: boom' });
    await flush();
    expect(w.get('[data-test=source-stopped]').text()).toContain('the lab stopped: boom');
  });
});

describe('NodeActions', () => {
  it('disabled actions say why', () => {
    const w = mount(NodeActions, {
      props: { node: cluster().node(2)! },
      global: { plugins: [pinia] },
    });
    const resume = w.get('[data-action=resume-2]');
    expect(resume.attributes('disabled')).toBeDefined();
    expect(resume.attributes('title')).toBe('Resume: node 2 is not paused');
    expect(w.get('[data-action=kill-2]').attributes('title')).toBe('Kill node 2');
  });
});
