// @vitest-environment happy-dom
// The Topology page and its parts, mounted with real stores over a fake transport.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from 'vue-router';
import type {
  ClusterView,
  LinkDetail,
  LinkView,
  MessageTrace,
  ScenarioRun,
} from '../../main/contract/view';
import PaceControl from '../../renderer/src/components/common/PaceControl.vue';
import TopBar from '../../renderer/src/components/common/TopBar.vue';
import NarrationOverlay from '../../renderer/src/components/topology/NarrationOverlay.vue';
import TopologyCanvas from '../../renderer/src/components/topology/TopologyCanvas.vue';
import { arcLength, TIMER_GAP } from '../../renderer/src/lib/topology-layout';
import { MAX_DOTS } from '../../renderer/src/lib/topology-motion';
import TopologyPage from '../../renderer/src/pages/TopologyPage.vue';
import { useConfirmStore } from '../../renderer/src/stores/confirm';
import { useMessagesStore } from '../../renderer/src/stores/messages';
import { useTimeTravelStore } from '../../renderer/src/stores/time-travel';
import { fakeTransport, flush, follower, node, raft, view, startDeck } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let t: FakeTransport;
let router: Router;
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

function open<C>(component: C, props: Record<string, unknown> = {}): VueWrapper {
  const w = mount(component as never, {
    props: props as never,
    global: { plugins: [pinia, router] },
    attachTo: document.body,
  });
  mounted.push(w);
  return w;
}

const link = (from: number, to: number, over: Partial<LinkView> = {}): LinkView => ({
  from,
  to,
  state: 'up',
  rule: null,
  drop: 0,
  delayMs: 0,
  oneWay: false,
  msgsPerSec: 0,
  bytesPerSec: 0,
  connected: true,
  ...over,
});

const trace = (over: Partial<MessageTrace> = {}): MessageTrace => ({
  from: 1,
  to: 2,
  type: 'app',
  term: 2,
  seq: 1,
  time: 1000,
  dir: 'out',
  fate: 'sent',
  delayMs: 0,
  bytes: 64,
  ...over,
});

async function show(v: ClusterView): Promise<void> {
  t.push('view', v);
  await flush();
}

const now = (): number => performance.now();

describe('the Topology page', () => {
  it('is the home page and draws every member with its role word, term and log', async () => {
    await router.push('/');
    expect(router.currentRoute.value.path).toBe('/topology');
    const w = open(TopologyPage);
    await flush();
    const nodes = w.findAll('[data-node]');
    expect(nodes.map((n) => n.attributes('data-node'))).toEqual(['1', '2', '3']);
    expect(w.get('[data-node="1"] [data-test=role-word]').text()).toBe('LEADER');
    expect(w.get('[data-node="2"] [data-test=role-word]').text()).toBe('FOLLOWER');
    expect(w.get('[data-node="2"]').text()).toContain('term 2');
    expect(w.get('[data-node="2"]').text()).toContain('log 100 · commit 100');
    expect(w.get('[data-test=commit-quorum]').text()).toContain('3 of 3 acked entry 100');
    // the acked followers are ticked, the leader is not
    expect(w.findAll('[data-test=acked]')).toHaveLength(2);
    expect(w.find('[data-node="1"] [data-test=acked]').exists()).toBe(false);
    // a follower behind the leader's last entry is not
    await show(
      view({
        version: 2,
        nodes: [
          node(1, 'leader', {
            raft: raft({ role: 'leader', progress: [follower(2), follower(3, { match: 90 })] }),
          }),
          node(2, 'follower'),
          node(3, 'follower', { raft: raft({ lastIndex: 90, commit: 90 }) }),
        ],
      }),
    );
    expect(w.get('[data-test=commit-quorum]').text()).toContain('2 of 3 acked entry 100');
    expect(w.find('[data-node="2"] [data-test=acked]').exists()).toBe(true);
    expect(w.find('[data-node="3"] [data-test=acked]').exists()).toBe(false);
  });

  it('shows pre-candidates and candidates, with each voter’s answer around the candidate', async () => {
    const w = open(TopologyPage);
    await show(
      view({
        version: 2,
        leader: 0,
        nodes: [
          node(1, 'candidate', {
            raft: raft({
              role: 'candidate',
              term: 3,
              leader: 0,
              campaign: { kind: 'vote', term: 3, granted: [1, 2], rejected: [3] },
            }),
          }),
          node(2, 'follower', { raft: raft({ leader: 0, term: 3 }) }),
          node(3, 'pre-candidate', {
            raft: raft({
              role: 'pre-candidate',
              leader: 0,
              campaign: { kind: 'pre-vote', term: 3, granted: [3], rejected: [] },
            }),
          }),
        ],
        config: { voters: [1, 2, 3], learners: [], from: 1 },
      }),
    );
    expect(w.get('[data-node="1"] [data-test=role-word]').text()).toBe('CANDIDATE');
    expect(w.get('[data-node="3"] [data-test=role-word]').text()).toBe('PRE-CANDIDATE');
    expect(w.get('[data-node="1"]').text()).toContain('vote: 2 of 3 granted');
    expect(w.get('[data-node="3"]').text()).toContain('pre-vote: 1 of 3 granted');
    // its own vote is not drawn; node 2 granted, node 3 refused
    expect(w.get('[data-vote="1-g2"]').classes()).toContain('granted');
    expect(w.get('[data-vote="1-g2"] text').text()).toBe('✓');
    expect(w.get('[data-vote="1-r3"] text').text()).toBe('✗');
    expect(w.findAll('[data-vote]')).toHaveLength(2);
  });

  it('shows a killed node as such, without a timer, and its links as down', async () => {
    const w = open(TopologyPage);
    await show(
      view({
        version: 2,
        nodes: [
          node(1, 'leader', { raft: raft({ role: 'leader', progress: [follower(2)] }) }),
          node(2, 'follower'),
          node(3, null, {
            health: 'down',
            timer: null,
            process: { ...node(3, null).process, state: 'crashed', signal: 'SIGKILL', pid: null },
          }),
        ],
      }),
    );
    const n3 = w.get('[data-node="3"]');
    expect(n3.classes()).toContain('down');
    expect(n3.get('[data-test=role-word]').text()).toBe('KILLED (SIGKILL)');
    expect(w.find('circle[data-timer="3"]').exists()).toBe(false);
    expect(w.find('circle[data-timer="2"]').exists()).toBe(true);
    expect(w.get('[data-link="1-3"]').attributes('data-state')).toBe('down');
    expect(w.get('[data-link="1-2"]').attributes('data-state')).toBe('up');
  });

  it('says loudly when the quorum is lost', async () => {
    const w = open(TopologyPage);
    expect(w.find('[data-test=quorum-lost]').exists()).toBe(false);
    const down = (id: number) =>
      node(id, null, {
        health: 'down',
        timer: null,
        process: { ...node(id, null).process, state: 'crashed', pid: null },
      });
    await show(view({ version: 2, leader: 0, nodes: [node(1, 'follower'), down(2), down(3)] }));
    await show(
      view({
        version: 3,
        leader: 0,
        nodes: [node(1, 'follower'), down(2), down(3)],
        config: { voters: [1, 2, 3], learners: [], from: 1 },
      }),
    );
    expect(w.get('[data-test=quorum-lost]').text()).toContain('Quorum lost');
  });
});

describe('links', () => {
  it('draws each state: a cut with a gap, a fault dashed with its rule, one-way as two lanes', async () => {
    const w = open(TopologyCanvas);
    await show(
      view({
        version: 2,
        links: [
          link(1, 2, { msgsPerSec: 42, bytesPerSec: 64 * 1024 }),
          link(2, 1, { msgsPerSec: 40, bytesPerSec: 2048 }),
          link(1, 3, { state: 'cut', rule: 'partition' }),
          link(3, 1, { state: 'cut', rule: 'partition' }),
          link(2, 3, { state: 'faulty', rule: 'on 2: drop 30%', oneWay: true }),
          link(3, 2),
        ],
      }),
    );
    const up = w.get('[data-link="1-2"]');
    expect(up.attributes('data-state')).toBe('up');
    expect(Number(up.attributes('stroke-width'))).toBeGreaterThan(3);
    expect(w.get('[data-label="1-2"]').text()).toBe('82 msg/s');
    // a cut is two pieces with a gap, and has no label
    const cut = w.get('[data-link="1-3"]');
    expect(cut.attributes('d')!.match(/M/g)).toHaveLength(2);
    expect(w.find('[data-label="1-3"]').exists()).toBe(false);
    // one-way: each direction its own lane, with an arrow, the faulty one labelled with its rule
    expect(w.get('[data-link="2-3"]').attributes('data-state')).toBe('faulty');
    expect(w.get('[data-link="3-2"]').attributes('data-state')).toBe('up');
    expect(w.get('[data-link="2-3"]').attributes('marker-end')).toBe('url(#arrow-faulty)');
    expect(w.get('[data-label="2-3"]').text()).toBe('2→3: on 2: drop 30%');
  });

  it('clicking a link opens its detail, refreshed while open', async () => {
    let served = 0;
    t.answers.linkDetail = (from, to): LinkDetail => {
      served++;
      return {
        link: link(from as number, to as number, { msgsPerSec: 10 }),
        byType: [
          {
            type: 'heartbeat',
            sent: 120 + served,
            sentBytes: 4000,
            received: 119,
            receivedBytes: 3900,
            faultDropped: 3,
            faultDelayed: 0,
          },
        ],
        recent: [trace({ type: 'heartbeat', commit: 100, seq: 7 })],
      };
    };
    const w = open(TopologyPage);
    await flush();
    await w.get('[data-pair="1-2"]').trigger('click');
    await flush();
    const panel = w.get('[data-test=link-panel]');
    expect(panel.text()).toContain('1 → 2');
    expect(panel.get('[data-type=heartbeat]').text()).toContain(String(120 + served));
    expect(panel.get('[data-test=link-recent]').text()).toContain('commit 100');
    expect(t.calls.filter((c) => c.name === 'linkDetail')[0]!.args).toEqual([1, 2]);
    const before = served;
    await new Promise((r) => setTimeout(r, 1100));
    await flush();
    expect(served).toBeGreaterThan(before);
    await panel.get('[data-test=reverse]').trigger('click');
    await flush();
    expect(t.calls.filter((c) => c.name === 'linkDetail').at(-1)!.args).toEqual([2, 1]);
    await panel.get('[aria-label=Close]').trigger('click');
    await flush();
    expect(w.find('[data-test=link-panel]').exists()).toBe(false);
    const calls = t.calls.length;
    await new Promise((r) => setTimeout(r, 1100));
    expect(t.calls.length).toBe(calls);
  });
});

describe('what moves', () => {
  it('at a recorded moment the timer arcs stand still, and move at the rate while it plays', async () => {
    const w = open(TopologyCanvas);
    const v0 = view();
    const recorded = view({
      version: 2,
      nodes: v0.nodes.map((n) =>
        n.id === 2
          ? {
              ...n,
              timer: {
                kind: 'election',
                elapsedMs: 200,
                timeoutMs: 1000,
                fraction: 0.2,
                at: v0.now,
              },
            }
          : n,
      ),
    });
    t.answers.viewAt = (time) => ({ time, view: recorded, viewTime: v0.now });
    t.answers.recordedEvents = () => [];
    t.answers.recordedMessages = () => [];
    const tt = useTimeTravelStore(pinia);
    tt.seek(v0.now);
    await flush();
    await flush();
    const canvas = w.vm as unknown as { paint(now: number): void };
    const arc = w.get('circle[data-timer="2"]');
    const c = arcLength(Number(arc.attributes('r')));
    const t0 = now();
    canvas.paint(t0);
    const still = Number(arc.attributes('stroke-dashoffset'));
    expect(still).toBeCloseTo(c * 0.8, 0);
    canvas.paint(t0 + 400);
    expect(Number(arc.attributes('stroke-dashoffset'))).toBe(still);
    // Playing at 2×: 200 ms of the page's time is 400 ms of the recording's.
    tt.setRate(2);
    tt.play();
    canvas.paint(t0 + 200);
    expect(Number(arc.attributes('stroke-dashoffset'))).toBeLessThan(still - c * 0.3);
    tt.stop();
  });

  it('the election timer arc advances from the report and starts over when a view says so', async () => {
    const w = open(TopologyCanvas);
    const v0 = view();
    const withTimer = (version: number, elapsedMs: number) =>
      view({
        version,
        nodes: v0.nodes.map((n) =>
          n.id === 2
            ? {
                ...n,
                timer: {
                  kind: 'election',
                  elapsedMs,
                  timeoutMs: 1000,
                  fraction: elapsedMs / 1000,
                  at: v0.now,
                },
              }
            : n,
        ),
      });
    await show(withTimer(2, 500));
    const canvas = w.vm as unknown as { paint(now: number): void };
    const arc = w.get('circle[data-timer="2"]');
    const c = arcLength(Number(arc.attributes('r')));
    canvas.paint(now());
    const at0 = Number(arc.attributes('stroke-dashoffset'));
    expect(at0).toBeGreaterThan(c * 0.45);
    expect(at0).toBeLessThanOrEqual(c * 0.5 + 1);
    canvas.paint(now() + 300);
    expect(Number(arc.attributes('stroke-dashoffset'))).toBeLessThan(c * 0.25);
    canvas.paint(now() + 5000);
    expect(Number(arc.attributes('stroke-dashoffset'))).toBe(0);
    expect(arc.classes()).toContain('late');
    await show(withTimer(3, 0));
    canvas.paint(now());
    expect(Number(arc.attributes('stroke-dashoffset'))).toBeGreaterThan(c * 0.95);
    expect(w.get('circle[data-timer="2"]').classes()).not.toContain('late');
    // a leader at real time shows a steady ring, no timer
    expect(w.find('circle[data-timer="1"]').exists()).toBe(false);
    expect(w.find('[data-node="1"] .arc.steady').exists()).toBe(true);
    expect(Number(arc.attributes('r'))).toBe(
      Number(w.get('[data-node="2"] .body').attributes('r')) + TIMER_GAP,
    );
  });

  /** circles: the dots drawn, as [style, x, y] from the dot paths' data. */
  const circles = (w: VueWrapper): [string, number, number][] =>
    w
      .findAll('path.topo-dots')
      .flatMap((p) =>
        [...(p.attributes('d') ?? '').matchAll(/M([-\d.]+) ([-\d.]+)/g)].map(
          (m): [string, number, number] => [p.classes().join(' '), Number(m[1]), Number(m[2])],
        ),
      );

  it('a message becomes a dot that flies from its sender to its receiver, coloured by type', async () => {
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as { paint(now: number): void };
    t.push('messages', {
      traces: [
        trace({ type: 'vote', from: 2, to: 3 }),
        trace({ type: 'vote-resp', from: 3, to: 2, time: 1000 }),
      ],
      skipped: {},
    });
    const start = now();
    canvas.paint(start + 1);
    const first = circles(w);
    expect(first.map((c) => c[0]).sort()).toEqual([
      'topo-dots f-vote req',
      'topo-dots f-vote resp',
    ]);
    canvas.paint(start + 350);
    const later = circles(w);
    const req = (cs: [string, number, number][]) => cs.find((c) => c[0].endsWith('req'))!;
    // node 2 is lower right, node 3 lower left: the request moves left towards 3
    expect(req(later)[1]).toBeLessThan(req(first)[1] - 50);
    canvas.paint(start + 2000);
    expect(circles(w)).toHaveLength(0);
  });

  it('a dropped message stops mid-way with a ×', async () => {
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as { paint(now: number): void };
    t.push('messages', { traces: [trace({ fate: 'dropped' })], skipped: {} });
    const start = now();
    canvas.paint(start + 100);
    expect(w.get('path.topo-x').attributes('d')).toBe('');
    canvas.paint(start + 300);
    expect(w.get('path.topo-x').attributes('d')).toMatch(/^M/);
    expect(circles(w)).toHaveLength(1);
  });

  it('caps the dots drawn at once and says how many it left out', async () => {
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as { paint(now: number): void };
    const traces = Array.from({ length: MAX_DOTS + 10 }, (_, i) =>
      trace({ seq: i, time: 1000 + i }),
    );
    t.push('messages', { traces, skipped: {} });
    canvas.paint(now() + 200);
    expect(circles(w)).toHaveLength(MAX_DOTS);
    expect(w.get('[data-test=not-drawn]').text()).toBe('+10 not drawn');
  });

  it('a snapshot transfer is a band along its link with its progress and rate', async () => {
    const w = open(TopologyCanvas);
    const MiB = 1024 * 1024;
    const withSnap = (version: number, at: number, sent: number) =>
      view({
        version,
        now: at,
        nodes: [
          node(1, 'leader', {
            raft: raft({
              role: 'leader',
              progress: [
                follower(2),
                follower(3, {
                  state: 'snapshot',
                  snapshot: { index: 90, total: 8 * MiB, acked: sent, sent, chunks: 1, retries: 0 },
                }),
              ],
            }),
          }),
          node(2, 'follower'),
          node(3, 'follower'),
        ],
      });
    await show(withSnap(2, 1_000_000, 1 * MiB));
    expect(w.find('[data-band="1-3"]').exists()).toBe(true);
    expect(w.text()).toContain('snapshot 1.0 of 8.0 MiB');
    await show(withSnap(3, 1_000_500, 2 * MiB));
    expect(w.text()).toContain('snapshot 2.0 of 8.0 MiB · 2.0 MiB/s');
    const done = w.get('[data-band="1-3"] .band-done').attributes('d')!;
    const track = w.get('[data-band="1-3"] .band-track').attributes('d')!;
    expect(done).not.toBe(track);
  });
});

describe('the messages store', () => {
  it('passes each pushed batch to whoever listens, until they stop', () => {
    const store = useMessagesStore();
    const got: number[] = [];
    const stop = store.listen((b) => got.push(b.traces.length));
    t.push('messages', { traces: [trace(), trace()], skipped: {} });
    stop();
    t.push('messages', { traces: [trace()], skipped: {} });
    expect(got).toEqual([2]);
    expect(store.batches).toBe(2);
  });

  it('a Topology view that is closed stops drawing: no dots are kept for it', async () => {
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as { queue: { dots: unknown[] } };
    t.push('messages', { traces: [trace()], skipped: {} });
    expect(canvas.queue.dots).toHaveLength(1);
    w.unmount();
    mounted = mounted.filter((m) => m !== w);
    t.push('messages', { traces: [trace()], skipped: {} });
    expect(canvas.queue.dots).toHaveLength(0);
  });
});

describe('dragging a node partitions', () => {
  it('dropping a node into empty space asks, then cuts it off; Cancel sends nothing', async () => {
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as {
      dropNode(id: number, p: { x: number; y: number }): Promise<void>;
      layout: { cx: number; cy: number; nodes: Map<number, { x: number; y: number }> };
    };
    const confirm = useConfirmStore();
    confirm.setEnabled(true);
    const l = canvas.layout;
    const centre = { x: l.cx, y: l.cy };
    let done = canvas.dropNode(3, centre);
    await flush();
    expect(confirm.open?.text).toContain('{1,2} | {3}');
    confirm.reply(false);
    await done;
    expect(t.calls.some((c) => c.name === 'partition')).toBe(false);

    done = canvas.dropNode(3, centre);
    await flush();
    confirm.reply(true);
    await done;
    expect(t.calls.find((c) => c.name === 'partition')!.args).toEqual([[[1, 2], [3]]]);
  });

  it("dropping a node onto another moves it to that node's side; rejoining all heals", async () => {
    await show(view({ version: 2, partitions: [[1, 2], [3]] }));
    const w = open(TopologyCanvas);
    await flush();
    const canvas = w.vm as unknown as {
      dropNode(id: number, p: { x: number; y: number }): Promise<void>;
      layout: { nodes: Map<number, { x: number; y: number }> };
    };
    useConfirmStore().setEnabled(false);
    const at = (id: number) => canvas.layout.nodes.get(id)!;
    await canvas.dropNode(2, at(3));
    expect(t.calls.find((c) => c.name === 'partition')!.args).toEqual([[[1], [2, 3]]]);
    await canvas.dropNode(3, at(1));
    expect(t.calls.some((c) => c.name === 'healNetwork')).toBe(true);
    // a drop next to where the node was does nothing
    const calls = t.calls.length;
    await canvas.dropNode(1, { x: at(1).x + 10, y: at(1).y });
    expect(t.calls.length).toBe(calls);
  });
});

describe('the scenario narration', () => {
  const run = (over: Partial<ScenarioRun> = {}): ScenarioRun => ({
    name: 'leader-crash',
    state: 'running',
    startedAt: 5,
    paused: false,
    steps: [
      { text: 'A healthy cluster', state: 'done', detail: 'leader 1' },
      { text: 'Kill the leader', state: 'active', detail: 'expect a new leader within 3 s' },
      { text: 'The old leader rejoins', state: 'pending', detail: '' },
    ],
    ...over,
  });

  it('shows the current step and its expectation, with ✓ for steps done; Pause, Step, Resume', async () => {
    const w = open(NarrationOverlay);
    expect(w.find('[data-test=narration]').exists()).toBe(false);
    await show(view({ version: 2, scenario: run() }));
    expect(w.get('[data-test=narration-current]').text()).toContain('Kill the leader');
    expect(w.get('[data-test=narration-current]').text()).toContain('expect a new leader');
    expect(w.get('[data-test=narration-steps] li.done').text()).toContain('✓');
    // each step's mark names its step (the marks stand alone when the narration is a band)
    expect(w.get('[data-test=narration-steps] li.pending .mark').attributes('title')).toBe(
      'The old leader rejoins',
    );
    expect(w.get('[data-test=scenario-step]').attributes('disabled')).toBeDefined();
    await w.get('[data-test=scenario-pause]').trigger('click');
    expect(t.calls.at(-1)!.name).toBe('pauseScenario');

    await show(view({ version: 3, scenario: run({ paused: true }) }));
    expect(w.get('[data-test=narration-state]').text()).toBe('paused');
    await w.get('[data-test=scenario-step]').trigger('click');
    expect(t.calls.at(-1)!.name).toBe('stepScenario');
    await w.get('[data-test=scenario-resume]').trigger('click');
    expect(t.calls.at(-1)!.name).toBe('resumeScenario');
  });

  it('a failed step is marked ✗, and the finished run has no controls', async () => {
    const w = open(NarrationOverlay);
    await show(
      view({
        version: 2,
        scenario: run({
          state: 'failed',
          steps: [
            { text: 'A healthy cluster', state: 'done', detail: '' },
            { text: 'Kill the leader', state: 'failed', detail: 'no leader after 3 s' },
          ],
        }),
      }),
    );
    expect(w.get('[data-test=narration-current]').text()).toContain('no leader after 3 s');
    expect(w.get('[data-test=narration-steps] li.failed').text()).toContain('✗');
    expect(w.find('[data-test=scenario-pause]').exists()).toBe(false);
  });
});

describe('the pace control', () => {
  it('sets the pace with fast failover off when slower, on at 1×, unless the person chose', async () => {
    const w = open(PaceControl);
    await w.get('[data-test=pace-button]').trigger('click');
    await w.get('[data-pace="20"]').trigger('click');
    expect(t.calls.at(-1)).toEqual({ name: 'setPace', args: [20, false] });
    await w.get('[data-pace="1"]').trigger('click');
    expect(t.calls.at(-1)).toEqual({ name: 'setPace', args: [1, true] });

    await show(view({ version: 2, pace: { pace: 5, fastFailover: false } }));
    const box = w.get('[data-test=fast-failover]');
    (box.element as HTMLInputElement).checked = true;
    await box.trigger('change');
    expect(t.calls.at(-1)).toEqual({ name: 'setPace', args: [5, true] });
    await w.get('[data-pace="50"]').trigger('click');
    expect(t.calls.at(-1)).toEqual({ name: 'setPace', args: [50, true] });
  });

  it('names the pace on the top bar when it is not 1×', async () => {
    const w = open(TopBar);
    expect(w.get('[data-test=pace-button]').text()).toContain('Pace 1×');
    expect(w.get('[data-test=pace-button]').classes()).not.toContain('slowed');
    await show(view({ version: 2, pace: { pace: 20, fastFailover: false } }));
    expect(w.get('[data-test=pace-button]').text()).toContain('20× slower');
    expect(w.get('[data-test=pace-button]').classes()).toContain('slowed');
  });

  it('is disabled, saying why, while not connected', async () => {
    const w = open(PaceControl);
    t.setStatus({ state: 'reconnecting', attempt: 1 });
    await flush();
    await w.get('[data-test=pace-button]').trigger('click');
    expect(w.get('[data-pace="20"]').attributes('disabled')).toBeDefined();
    expect(w.get('[data-test=fast-failover]').attributes('disabled')).toBeDefined();
    expect(w.get('[data-test=pace-reason]').text()).toContain('Not connected');
    await w.get('[data-pace="20"]').trigger('click');
    expect(t.calls.some((c) => c.name === 'setPace')).toBe(false);
  });
});
