// @vitest-environment happy-dom
// A lab cluster's controls: the lab store's calls and keys, the lab bar and its failure banner,
// the messages in flight listed and drawn (exactly, moving with the lab's speed), and the crashes.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Router } from 'vue-router';
import type { LabAction, LabMessageView, LabView, LinkView } from '../../main/contract/view';
import { LAB_MAX_DELAY_MS, LAB_SPEEDS } from '../../main/contract/view';
import NodeActions from '../../renderer/src/components/faults/NodeActions.vue';
import LabBar from '../../renderer/src/components/lab/LabBar.vue';
import LabInFlight from '../../renderer/src/components/lab/LabInFlight.vue';
import TopologyCanvas from '../../renderer/src/components/topology/TopologyCanvas.vue';
import { messageWords } from '../../renderer/src/lib/lab-messages';
import { useClusterStore } from '../../renderer/src/stores/cluster';
import { useConnectionStore } from '../../renderer/src/stores/connection';
import { useLabStore } from '../../renderer/src/stores/lab';
import { useToastStore } from '../../renderer/src/stores/toasts';
import { fakeTransport, flush, startDeck, view } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let t: FakeTransport;
let router: Router;
let mounted: VueWrapper[] = [];

const msg = (id: number, over: Partial<LabMessageView> = {}): LabMessageView => ({
  id,
  from: 1,
  to: 2,
  type: 'heartbeat',
  term: 3,
  sentAt: 1000,
  deliverAt: 1100,
  ...over,
});

/** IN_FLIGHT: one of each kind a lesson points at, by delivery time. */
const IN_FLIGHT: LabMessageView[] = [
  msg(11, { from: 2, to: 1, type: 'vote', index: 12, logTerm: 3, sentAt: 1000, deliverAt: 1200 }),
  msg(12, { from: 1, to: 3, type: 'app', index: 12, logTerm: 3, entries: 3, commit: 12 }),
  msg(13, { from: 3, to: 2, type: 'vote-resp', reject: false, sentAt: 1100, deliverAt: 1300 }),
  msg(14, { from: 2, to: 1, type: 'app-resp', reject: true, hint: 9, deliverAt: 1400 }),
];
const WORDS = [
  'vote request, last log 12 (term 3)',
  'append 13–15 (term 3), commit 12',
  'vote granted',
  'append rejected, hint 9',
];

function labView(over: Partial<LabView> = {}): LabView {
  return {
    seed: 7,
    playing: false,
    speed: 1,
    now: 1050,
    steps: 1234,
    inFlight: IN_FLIGHT,
    inFlightTotal: IN_FLIGHT.length,
    lastStep: 'delivered heartbeat 1→2 (term 3)',
    failure: null,
    source: 'seed 7',
    ...over,
  };
}

const link = (from: number, to: number): LinkView => ({
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
});
const LINKS = [1, 2, 3].flatMap((a) => [1, 2, 3].filter((b) => b !== a).map((b) => link(a, b)));

let version = 1;
/** showLab: the cluster's view now has `lab` (null: a real cluster). */
async function showLab(lab: LabView | null): Promise<void> {
  useClusterStore().apply(view({ version: ++version, lab, links: LINKS }));
  await flush();
}

beforeEach(async () => {
  t = fakeTransport(view({ lab: null }));
  t.answers.labControl = (a) => ({ summary: `did ${(a as LabAction).kind}` });
  t.answers.exportLabSchedule = () => ({ json: '{"seed":7}' });
  ({ pinia, router } = startDeck(t));
  await flush();
});

afterEach(() => {
  for (const w of mounted) w.unmount();
  mounted = [];
  vi.useRealTimers();
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

const labCalls = () => t.calls.filter((c) => c.name === 'labControl').map((c) => c.args[0]);
const key = (k: string, target: EventTarget = window) =>
  target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));

describe('lab store', () => {
  it('sends one LabAction per control and toasts what acting on a message, node or timers did', async () => {
    await showLab(labView());
    const lab = useLabStore();
    await lab.play();
    await lab.pause();
    await lab.step('message');
    await lab.step('tick');
    await lab.step('event');
    await lab.setSpeed(0.1);
    await lab.drop(11);
    expect(useToastStore().toasts.at(-1)?.message).toBe('did drop');
    await lab.duplicate(12);
    await lab.delay(13);
    await lab.delay(14, 2000);
    await lab.crash(2, 'kept');
    await lab.crash(3, 'lost');
    await lab.timers('align');
    await lab.timers('spread');
    expect(labCalls()).toEqual([
      { kind: 'play' },
      { kind: 'pause' },
      { kind: 'step', until: 'message' },
      { kind: 'step', until: 'tick' },
      { kind: 'step', until: 'event' },
      { kind: 'speed', speed: 0.1 },
      { kind: 'drop', id: 11 },
      { kind: 'duplicate', id: 12 },
      { kind: 'delay', id: 13, ms: 500 },
      { kind: 'delay', id: 14, ms: 2000 },
      { kind: 'crash', node: 2, unsynced: 'kept' },
      { kind: 'crash', node: 3, unsynced: 'lost' },
      { kind: 'timers', how: 'align' },
      { kind: 'timers', how: 'spread' },
    ]);
    // Play, pause, steps and speed are seen in the bar, not announced.
    const said = useToastStore().toasts.map((x) => x.message);
    expect(said).toContain('did timers');
    expect(said).not.toContain('did play');
    expect(said).not.toContain('did step');
  });

  it('refuses a speed it does not offer and a delay out of bounds, without a call', async () => {
    await showLab(labView());
    const lab = useLabStore();
    await lab.setSpeed(3);
    await lab.delay(11, 0);
    await lab.delay(11, LAB_MAX_DELAY_MS + 1);
    await lab.delay(11, 12.5);
    expect(labCalls()).toEqual([]);
    const errors = useToastStore().toasts.filter((x) => x.kind === 'error');
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('Speed 3×'),
      expect.stringContaining(`1 to ${LAB_MAX_DELAY_MS} (got 0)`),
      expect.stringContaining(`(got ${LAB_MAX_DELAY_MS + 1})`),
      expect.stringContaining('(got 12.5)'),
    ]);
    await lab.delay(11, LAB_MAX_DELAY_MS);
    expect(labCalls()).toEqual([{ kind: 'delay', id: 11, ms: LAB_MAX_DELAY_MS }]);
  });

  it('an error from the lab becomes a toast', async () => {
    await showLab(labView());
    t.answers.labControl = () => {
      throw new Error('message 99 is not in flight');
    };
    expect(await useLabStore().drop(99)).toBeUndefined();
    expect(useToastStore().toasts.at(-1)).toMatchObject({
      kind: 'error',
      message: 'message 99 is not in flight',
    });
  });

  it('keys: space plays or pauses, ./n the next message, t a tick, e an event; not in fields, not without a lab', async () => {
    open(LabBar);
    // No lab: the keys do nothing.
    key(' ');
    key('n');
    await flush();
    expect(labCalls()).toEqual([]);

    await showLab(labView({ playing: false }));
    key(' ');
    key('.');
    key('n');
    key('t');
    key('e');
    key('x');
    await flush();
    await showLab(labView({ playing: true }));
    key(' ');
    await flush();
    expect(labCalls()).toEqual([
      { kind: 'play' },
      { kind: 'step', until: 'message' },
      { kind: 'step', until: 'message' },
      { kind: 'step', until: 'tick' },
      { kind: 'step', until: 'event' },
      { kind: 'pause' },
    ]);

    // Typing in a field, or a modifier, is not a lab key.
    const input = document.createElement('input');
    document.body.append(input);
    key('n', input);
    key(' ', input);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'e', ctrlKey: true }));
    await flush();
    input.remove();
    expect(labCalls()).toHaveLength(6);

    // While a recorded moment is shown, a key says why it does nothing.
    useConnectionStore().refuseChanges('Replaying a recorded moment');
    key('n');
    key(' ');
    await flush();
    expect(labCalls()).toHaveLength(6);
    expect(useConnectionStore().refused).toEqual([]);
    expect(useToastStore().toasts.at(-1)?.message).toBe('Replaying a recorded moment');
  });

  it('export saves the schedule as raftdeck-lab-seed-N.json', async () => {
    await showLab(labView({ seed: 42 }));
    const names: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      names.push(this.download);
    });
    await useLabStore().exportSchedule();
    click.mockRestore();
    expect(t.calls.map((c) => c.name)).toContain('exportLabSchedule');
    expect(names).toEqual(['raftdeck-lab-seed-42.json']);
  });
});

describe('lab bar', () => {
  it('appears only when the view has a lab, and its controls send their actions', async () => {
    const w = open(LabBar);
    expect(w.find('[data-test=lab-bar]').exists()).toBe(false);
    await showLab(labView());
    expect(w.get('[data-test=lab-source]').text()).toContain('seed 7');
    expect(w.get('[data-test=lab-time]').text()).toBe('t = 1.050 s');
    expect(w.get('[data-test=lab-steps]').text()).toBe('step 1234');
    expect(w.get('[data-test=lab-last-step]').text()).toBe('delivered heartbeat 1→2 (term 3)');
    expect(w.get('[data-test=lab-play]').attributes('aria-label')).toBe('Play');
    const options = w.findAll('[data-test=lab-speed] option').map((o) => o.text());
    expect(options).toEqual(LAB_SPEEDS.map((s) => `${s}×`));
    expect(w.find('[data-test=lab-failure]').exists()).toBe(false);

    await w.get('[data-test=lab-play]').trigger('click');
    await w.get('[data-test=lab-step-message]').trigger('click');
    await w.get('[data-test=lab-step-tick]').trigger('click');
    await w.get('[data-test=lab-step-event]').trigger('click');
    await w.get('[data-test=lab-speed]').setValue('25');
    await w.get('[data-test=lab-align-timers]').trigger('click');
    await w.get('[data-test=lab-spread-timers]').trigger('click');
    await flush();
    expect(labCalls()).toEqual([
      { kind: 'play' },
      { kind: 'step', until: 'message' },
      { kind: 'step', until: 'tick' },
      { kind: 'step', until: 'event' },
      { kind: 'speed', speed: 25 },
      { kind: 'timers', how: 'align' },
      { kind: 'timers', how: 'spread' },
    ]);

    await showLab(labView({ playing: true }));
    expect(w.get('[data-test=lab-play]').attributes('aria-label')).toBe('Pause');
    await showLab(null);
    expect(w.find('[data-test=lab-bar]').exists()).toBe(false);
  });

  it('a broken invariant is a banner naming it, the nodes and the step', async () => {
    const w = open(LabBar);
    await showLab(
      labView({
        failure: {
          invariant: 'election safety',
          nodes: [2, 3],
          step: 1234,
          at: 5210,
          text: 'two leaders in term 4',
        },
      }),
    );
    const banner = w.get('[data-test=lab-failure]');
    expect(banner.attributes('role')).toBe('alert');
    expect(banner.text()).toBe(
      'Invariant broken at step 1234 (t = 5.210 s): election safety — nodes 2, 3: two leaders in term 4',
    );
    // The run cannot go on: Play and the steps are disabled, saying why.
    for (const c of ['lab-play', 'lab-step-message', 'lab-step-tick', 'lab-step-event']) {
      const b = w.get(`[data-test=${c}]`);
      expect(b.attributes('disabled'), c).toBeDefined();
      expect(b.attributes('title'), c).toMatch(/stopped at step 1234: election safety was broken/);
    }
    await showLab(labView({ failure: null }));
    expect(w.get('[data-test=lab-play]').attributes('disabled')).toBeUndefined();
  });
  it('the source badge is cut to its width; its title says the whole source', async () => {
    const w = open(LabBar);
    const source = 'simulator seed 1 with mutation send-before-fsync, stopped at step 46';
    await showLab(labView({ seed: 1, source }));
    const badge = w.get('[data-test=lab-source]');
    expect(badge.text()).toBe(`lab · ${source}`);
    expect(badge.attributes('title')).toBe(`lab · ${source}`);
  });
});

describe('messages in flight', () => {
  it('the list shows every message in words; its buttons act on that message by id', async () => {
    const w = open(LabInFlight);
    await showLab(labView());
    expect(w.get('#lab-inflight-title').text()).toBe('In flight (4)');
    const rows = w.findAll('[data-test=lab-msg-row]');
    expect(rows.map((r) => Number(r.attributes('data-msg-id')))).toEqual([11, 12, 13, 14]);
    expect(rows.map((r) => r.get('[data-test=lab-msg-words]').text())).toEqual(WORDS);
    expect(rows[0]!.text()).toContain('2 → 1');
    expect(rows[0]!.text()).toContain('term 3');
    expect(rows[0]!.get('[data-test=lab-msg-eta]').text()).toBe('arrives in 150 ms');

    await rows[1]!.get('[data-test=lab-drop]').trigger('click');
    await rows[2]!.get('[data-test=lab-duplicate]').trigger('click');
    await w.get('[data-test=lab-delay-ms]').setValue('1500');
    await w.get('[data-test=lab-delay-ms]').trigger('change');
    await rows[3]!.get('[data-test=lab-delay]').trigger('click');
    await flush();
    expect(labCalls()).toEqual([
      { kind: 'drop', id: 12 },
      { kind: 'duplicate', id: 13 },
      { kind: 'delay', id: 14, ms: 1500 },
    ]);

    // Selecting a row highlights it.
    await rows[2]!.get('[data-test=lab-msg-select]').trigger('click');
    expect(useLabStore().selectedId).toBe(13);
    expect(w.get('[data-msg-id="13"]').classes()).toContain('selected');
    expect(w.findAll('li.selected')).toHaveLength(1);

    // More in flight than the view lists: the list says so.
    await showLab(labView({ inFlightTotal: 600 }));
    expect(w.get('[data-test=lab-inflight-title]').text()).toBe('In flight (600)');
    expect(w.text()).toContain('The first 4 by delivery time are listed.');

    // Each node's crashes are under the list.
    await w.get('[data-action=crash-lost-3]').trigger('click');
    await flush();
    expect(labCalls().at(-1)).toEqual({ kind: 'crash', node: 3, unsynced: 'lost' });
    expect(w.get('[data-action=crash-kept-1]').attributes('aria-label')).toBe(
      'Crash (keep unsynced writes): node 1',
    );
  });

  it('the words for each kind of message', () => {
    expect(IN_FLIGHT.map(messageWords)).toEqual(WORDS);
    expect(messageWords(msg(1, { type: 'heartbeat', commit: 12 }))).toBe('heartbeat, commit 12');
    expect(messageWords(msg(1, { type: 'vote-resp', reject: true }))).toBe('vote refused');
    expect(messageWords(msg(1, { type: 'app', index: 4, entries: 1, logTerm: 2 }))).toBe(
      'append 5 (term 2)',
    );
  });

  it('the drawing places each at (now − sentAt)/(deliverAt − sentAt), moves with speed while playing, not while paused', async () => {
    // The clock and the drawing's timer are held; promises settle as usual.
    vi.useFakeTimers({ now: 5_000_000, toFake: ['Date', 'setInterval', 'clearInterval'] });
    const w = open(TopologyCanvas);
    await showLab(labView({ playing: false, now: 1050, speed: 1 }));
    await vi.advanceTimersByTimeAsync(0);
    const at = (id: number) => Number(w.get(`[data-lab-msg="${id}"]`).attributes('data-t'));
    const where = (id: number) => w.get(`[data-lab-msg="${id}"]`).attributes('transform');
    expect(w.findAll('[data-lab-msg]')).toHaveLength(4);
    // vote 2→1: sent 1000, due 1200; at 1050 a quarter along.
    expect(at(11)).toBe(0.25);
    expect(at(12)).toBe(0.5);
    expect(at(13)).toBe(0);
    expect(at(14)).toBe(0.125);
    const paused = where(11);

    // Paused: a second later, nothing has moved.
    await vi.advanceTimersByTimeAsync(1000);
    expect(at(11)).toBe(0.25);
    expect(where(11)).toBe(paused);

    // Playing at 0.1×: 500 real ms are 50 virtual ms.
    await showLab(labView({ playing: true, now: 1050, speed: 0.1 }));
    await vi.advanceTimersByTimeAsync(500);
    // (The drawing moves FRAME_MS apart: within one frame of 50 virtual ms.)
    expect(at(11)).toBeGreaterThan(0.48);
    expect(at(11)).toBeLessThanOrEqual(0.5);
    expect(at(12)).toBeGreaterThan(0.96);
    expect(where(11)).not.toBe(paused);
    // It never passes its receiver.
    await vi.advanceTimersByTimeAsync(5000);
    expect(at(11)).toBe(1);

    // A new state places them from its own now.
    await showLab(labView({ playing: false, now: 1100 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(at(11)).toBe(0.5);
  });

  it('a message on the drawing is selected by click or key and highlighted in both places', async () => {
    const list = open(LabInFlight);
    const canvas = open(TopologyCanvas);
    await showLab(labView());
    const dot = canvas.get('[data-lab-msg="12"]');
    expect(dot.attributes('role')).toBe('button');
    expect(dot.attributes('tabindex')).toBe('0');
    expect(dot.attributes('aria-label')).toContain('append 13–15 (term 3), commit 12');
    await dot.trigger('click');
    expect(useLabStore().selectedId).toBe(12);
    expect(canvas.get('[data-lab-msg="12"]').classes()).toContain('selected');
    expect(canvas.get('[data-lab-msg="12"]').attributes('aria-pressed')).toBe('true');
    expect(list.get('[data-msg-id="12"]').classes()).toContain('selected');
    await canvas.get('[data-lab-msg="14"]').trigger('keydown', { key: 'Enter' });
    expect(useLabStore().selectedId).toBe(14);
    expect(list.get('[data-msg-id="14"]').classes()).toContain('selected');
    expect(list.get('[data-msg-id="12"]').classes()).not.toContain('selected');
  });

  it('timer arcs stand still while the lab is paused and move at its speed while it plays', async () => {
    const w = open(TopologyCanvas);
    const timed = (lab: LabView) => {
      const v = view({ version: ++version, lab, links: LINKS });
      return {
        ...v,
        nodes: v.nodes.map((n) =>
          n.id === 2
            ? {
                ...n,
                timer: {
                  kind: 'election' as const,
                  elapsedMs: 200,
                  timeoutMs: 1000,
                  fraction: 0.2,
                  at: v.now,
                },
              }
            : n,
        ),
      };
    };
    useClusterStore().apply(timed(labView({ playing: false })));
    await flush();
    const canvas = w.vm as unknown as { paint(now: number): void };
    const arc = w.get('circle[data-timer="2"]');
    const t0 = performance.now();
    canvas.paint(t0);
    const still = Number(arc.attributes('stroke-dashoffset'));
    canvas.paint(t0 + 400);
    expect(Number(arc.attributes('stroke-dashoffset'))).toBe(still);
    // At 0.25×, 400 ms of the page's time is 100 ms of the lab's: a tenth of the timeout.
    useClusterStore().apply(timed(labView({ playing: true, speed: 0.25 })));
    await flush();
    const c = still / 0.8;
    const t1 = performance.now();
    canvas.paint(t1);
    const start = Number(arc.attributes('stroke-dashoffset'));
    canvas.paint(t1 + 400);
    expect(start - Number(arc.attributes('stroke-dashoffset'))).toBeCloseTo(c * 0.1, 0);
  });

  it('without a lab, the drawing has no lab messages', async () => {
    const w = open(TopologyCanvas);
    await showLab(null);
    expect(w.find('[data-test=lab-messages]').exists()).toBe(false);
  });
});

describe('crashes', () => {
  it('keep or lose unsynced writes, only on a lab, each with its own title', async () => {
    const n = () => useClusterStore().node(2)!;
    await showLab(null);
    const w = open(NodeActions, { node: n() });
    expect(w.find('[data-action=crash-kept-2]').exists()).toBe(false);
    expect(w.find('[data-action=crash-lost-2]').exists()).toBe(false);
    await showLab(labView());
    await w.setProps({ node: n() });
    const keep = w.get('[data-action=crash-kept-2]');
    const lose = w.get('[data-action=crash-lost-2]');
    expect(keep.text()).toBe('Crash (keep unsynced writes)');
    expect(lose.text()).toBe('Crash (lose unsynced writes)');
    expect(keep.attributes('title')).toContain('page cache');
    expect(lose.attributes('title')).toContain('loses power');
    await keep.trigger('click');
    await lose.trigger('click');
    await flush();
    expect(labCalls()).toEqual([
      { kind: 'crash', node: 2, unsynced: 'kept' },
      { kind: 'crash', node: 2, unsynced: 'lost' },
    ]);
  });
});
