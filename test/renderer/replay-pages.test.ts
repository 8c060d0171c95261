// @vitest-environment happy-dom
// Every page while a recorded moment is shown: the whole app mounted over a recording, on each
// page, showing the recorded moment (not the live cluster), marked as replaying; and no control
// on any page gets a call that changes the cluster through.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryHistory } from 'vue-router';
import type { Router } from 'vue-router';
import { changesCluster } from '../../main/contract/api';
import type { CallName } from '../../main/contract/api';
import App from '../../renderer/src/App.vue';
import { formatTime } from '../../renderer/src/lib/derive';
import { createDeckRouter, PAGES } from '../../renderer/src/router';
import { startStores } from '../../renderer/src/stores';
import { useConnectionStore } from '../../renderer/src/stores/connection';
import { useTimeTravelStore } from '../../renderer/src/stores/time-travel';
import { useUiStore } from '../../renderer/src/stores/ui';
import { flush } from './helpers';
import { leaderView, recordElection, replayTransport, T0 } from './replay';
import type { ReplayTransport } from './replay';

let pinia: Pinia;
let t: ReplayTransport;
let router: Router;
let w: VueWrapper | undefined;

const AT = T0 + 12_000;

// happy-dom has no canvas: the workload charts draw on one that does nothing.
beforeAll(() => {
  const noop = () => undefined;
  const context = () =>
    new Proxy({} as Record<string | symbol, unknown>, {
      get: (o, k) => (k in o ? o[k] : k === 'measureText' ? () => ({ width: 10 }) : noop),
      set: (o, k, v) => ((o[k] = v), true),
    });
  HTMLCanvasElement.prototype.getContext = context as never;
  (globalThis as { Path2D?: unknown }).Path2D = class {
    moveTo = noop;
    lineTo = noop;
    rect = noop;
    arc = noop;
    closePath = noop;
    bezierCurveTo = noop;
    addPath = noop;
  };
});

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  // Live: node 3 leads term 9. Recorded at AT: node 2 leads term 3.
  t = replayTransport(leaderView(3, 9, T0 + 60_000, 5000));
  recordElection(t);
  // At AT a scenario is paused between steps, a workload runs and a node is being added: every
  // control those bring (Step, Resume, Stop) is on screen too.
  t.recording.addView({
    ...leaderView(2, 3, AT, 9000),
    scenario: {
      name: 'leader-failover',
      state: 'running',
      startedAt: AT - 5000,
      paused: true,
      steps: [
        { text: 'kill the leader', state: 'done', detail: '' },
        { text: 'wait for a new leader', state: 'pending', detail: '' },
      ],
    },
    workload: {
      running: true,
      options: {
        clients: 1,
        rate: 10,
        keys: 4,
        readRatio: 0.5,
        casRatio: 0,
        valueBytes: 8,
        seconds: 0,
      },
      startedAt: AT - 8000,
      stoppedAt: null,
      totals: { ok: 10, failed: 0, unknown: 0, reads: 5, writes: 5 },
      samples: [{ time: AT - 1000, opsPerSec: 10, p50Ms: 1, p99Ms: 3, errors: 0, unknown: 0 }],
    },
    // A lab's moment: its bar on every page, its messages and crashes on Topology and Node.
    lab: {
      seed: 7,
      playing: false,
      speed: 1,
      now: 4000,
      steps: 321,
      inFlight: [
        {
          id: 5,
          from: 2,
          to: 1,
          type: 'heartbeat',
          term: 3,
          commit: 8,
          sentAt: 3990,
          deliverAt: 4010,
        },
        { id: 6, from: 1, to: 2, type: 'heartbeat-resp', term: 3, sentAt: 3995, deliverAt: 4015 },
      ],
      inFlightTotal: 2,
      lastStep: 'delivered append 2→3 (term 3)',
      failure: null,
      source: 'seed 7',
    },
    workflows: [
      {
        id: 'w1',
        kind: 'add-node',
        node: 4,
        state: 'running',
        startedAt: AT - 2000,
        finishedAt: null,
        steps: [{ name: 'start node 4', state: 'active', detail: '', progress: null }],
        error: null,
      },
    ],
  });
  t.answers.listScenarios = () => [
    { name: 'leader-failover', title: 'Leader failover', description: 'kill the leader', steps: 3 },
  ];
});

afterEach(() => {
  w?.unmount();
  w = undefined;
});

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await flush();
}

async function open(path: string): Promise<VueWrapper> {
  router = createDeckRouter(createMemoryHistory());
  useUiStore(pinia).attach(router);
  startStores(pinia, t);
  await router.push(path);
  w = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await router.isReady();
  await settle();
  return w;
}

const pagePath = (id: string) => (id === 'node' ? '/node/2' : `/${id}`);

describe('every page shows the recorded moment', () => {
  for (const p of PAGES) {
    it(`${p.label}: the moment's leader and term, marked as replaying`, async () => {
      const app = await open(`${pagePath(p.id)}?at=${AT}`);
      expect(app.get('[data-test=top-leader]').text()).toContain('node 2');
      expect(app.get('[data-test=top-term]').text()).toBe('3');
      expect(app.get('[data-test=top-replaying]').text()).toContain(formatTime(AT));
      expect(app.find('[data-test=top-conn]').exists()).toBe(false);
      expect(app.get('header').text()).not.toMatch(/\blive\b/);
      expect(app.get('[data-test=replay-state]').text()).toContain(`replaying ${formatTime(AT)}`);
      expect(app.find('[data-test=back-to-live]').exists()).toBe(true);
      expect(app.get('main').text()).not.toContain('term 9');
      // Events pushed live are not the moment's.
      t.push('event', {
        seq: 50,
        time: T0 + 60_000,
        node: 3,
        kind: 'leader',
        message: 'live only',
      });
      await settle();
      expect(app.get('main').text()).not.toContain('live only');
      if (p.id === 'overview') expect(app.get('main').text()).toContain('node 2 leads term 3');
    });
  }
});

/** SKIP: the controls of time travel itself that leave the moment (they change nothing). */
const SKIP = '[data-test=back-to-live], [data-test=play]';

type Control = HTMLButtonElement | HTMLInputElement | HTMLSelectElement;

describe('no control on any page changes the cluster while replaying', () => {
  for (const p of PAGES) {
    it(`${p.label}: every enabled control clicked or changed, no changing call made or refused`, async () => {
      await open(`${pagePath(p.id)}?at=${AT}`);
      const conn = useConnectionStore();
      const before = t.calls.length;
      let tried = 0;
      // Counted before anything is clicked (the replay bar's marks and steps move the moment).
      const locked = document.querySelectorAll('[data-refused]').length;
      // The lab's controls are locked on every page; its messages and crashes where shown.
      const refused = (sel: string) => document.querySelector(`${sel}[data-refused]`) !== null;
      for (const c of ['play', 'step-message', 'step-tick', 'step-event', 'speed', 'align-timers'])
        expect(refused(`[data-test=lab-${c}]`), c).toBe(true);
      if (p.id === 'topology')
        for (const c of ['drop', 'duplicate', 'delay'])
          expect(refused(`[data-test=lab-${c}]`), c).toBe(true);
      if (p.id === 'node' || p.id === 'topology')
        expect(refused('[data-action=crash-kept-2]') && refused('[data-action=crash-lost-2]')).toBe(
          true,
        );
      // Three passes: a control may open others (the pace menu, a confirmation).
      for (let pass = 0; pass < 3; pass++) {
        const controls = [...document.querySelectorAll<Control>('button, input, select')];
        for (const el of controls) {
          if (!el.isConnected || el.matches(SKIP)) continue;
          if (el.disabled) continue;
          tried++;
          if (el instanceof HTMLButtonElement) el.click();
          else if (
            el instanceof HTMLInputElement &&
            (el.type === 'checkbox' || el.type === 'radio')
          )
            el.click();
          else {
            el.dispatchEvent(new Event('input', { bubbles: true }));
            el.dispatchEvent(new Event('change', { bubbles: true }));
          }
          await flush();
        }
      }
      await settle();
      const changing: CallName[] = t.calls
        .slice(before)
        .map((c) => c.name)
        .filter(changesCluster);
      expect(changing).toEqual([]);
      // Refused by the connection store means a control was enabled that should not have been.
      expect(conn.refused).toEqual([]);
      expect(tried).toBeGreaterThan(0);
      // The pages with controls that change the cluster show them disabled.
      if (
        ['topology', 'node', 'membership', 'faults', 'client', 'workload', 'scenarios'].includes(
          p.id,
        )
      )
        expect(locked).toBeGreaterThan(0);
      expect(useTimeTravelStore().replaying).toBe(true);
    });
  }
});

describe('the replay bar and the timeline drive the moment', () => {
  it('the slider, ←/→ (not while typing), a timeline row’s jump, and back to live', async () => {
    const app = await open('/events');
    const tt = useTimeTravelStore();
    expect(app.get('[data-test=replay-live]').text()).toContain('live');
    expect(app.get('[data-test=top-conn]').text()).toContain('live');
    expect(app.find('[data-test=back-to-live]').exists()).toBe(false);

    // The slider: a drag asks for the moment once it rests.
    const slider = app.get('[data-test=replay-slider]');
    expect(slider.attributes('min')).toBe(String(T0));
    expect(slider.attributes('max')).toBe(String(AT + 8_000));
    (slider.element as HTMLInputElement).value = String(T0 + 5_000);
    await slider.trigger('input');
    await new Promise((r) => setTimeout(r, 150));
    await settle();
    expect(tt.instant).toBe(T0 + 5_000);
    expect(app.get('[data-test=top-leader]').text()).toContain('node 1');
    expect(app.get('[data-test=replay-time]').text()).toBe(formatTime(T0 + 5_000));

    // → and ← step from marked event to marked event.
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    expect(tt.instant).toBe(T0 + 10_000);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    expect(tt.instant).toBe(T0 + 10_500);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft' }));
    expect(tt.instant).toBe(T0 + 10_000);
    // Not while typing in a text field.
    const search = app.get('#ev-search').element as HTMLInputElement;
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(tt.instant).toBe(T0 + 10_000);
    await settle();

    // The timeline holds the events up to the moment; a row's jump shows that event's moment.
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    await settle();
    expect(tt.instant).toBe(T0 + 11_000);
    expect(app.get('[data-test=top-leader]').text()).toContain('node 2');
    const rows = app.findAll('[data-test=event-list] li');
    expect(rows.map((r) => r.get('[data-test=event-message]').text())).toEqual([
      'node 2 leads term 3',
      'node 2 campaigns',
      'kill node 1',
      'node 1 leads term 2',
    ]);
    const kill = rows.find((r) => r.text().includes('kill node 1'))!;
    await kill.get('[data-test=jump-to-event]').trigger('click');
    await settle();
    expect(tt.instant).toBe(T0 + 10_000);
    expect(app.get('[data-test=top-leader]').text()).toContain('node 1');
    expect(router.currentRoute.value.query.at).toBe(String(T0 + 10_000));
    expect(app.findAll('[data-test=event-list] li')).toHaveLength(2);

    await app.get('[data-test=back-to-live]').trigger('click');
    await settle();
    expect(tt.replaying).toBe(false);
    expect(app.get('[data-test=top-leader]').text()).toContain('node 3');
    expect(router.currentRoute.value.query.at).toBeUndefined();
  });
});
