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
      let locked = 0;
      // Three passes: a control may open others (the pace menu, a confirmation).
      for (let pass = 0; pass < 3; pass++) {
        const controls = [...document.querySelectorAll<Control>('button, input, select')];
        for (const el of controls) {
          if (!el.isConnected || el.matches(SKIP)) continue;
          if (el.hasAttribute('data-refused')) locked++;
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
      if (['node', 'membership', 'faults', 'client', 'workload', 'scenarios'].includes(p.id))
        expect(locked).toBeGreaterThan(0);
      expect(useTimeTravelStore().replaying).toBe(true);
    });
  }
});
