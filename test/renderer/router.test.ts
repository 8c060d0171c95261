// @vitest-environment happy-dom
// Routing: the whole app mounted over a fake transport, with the router in memory (as in Electron
// and the browser, but without a URL bar) and with hash history (the URL bar itself).
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryHistory, createWebHashHistory } from 'vue-router';
import type { Router, RouterHistory } from 'vue-router';
import App from '../../renderer/src/App.vue';
import { createDeckRouter } from '../../renderer/src/router';
import { startStores } from '../../renderer/src/stores';
import { useUiStore } from '../../renderer/src/stores/ui';
import { fakeTransport, flush } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let t: FakeTransport;
let router: Router;
let w: VueWrapper | undefined;

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  t = fakeTransport();
});

afterEach(() => {
  w?.unmount();
  w = undefined;
});

/** open mounts the app on a router over `history`, first at `path` when one is given. */
async function open(path: string | null, history: RouterHistory = createMemoryHistory()) {
  router = createDeckRouter(history);
  useUiStore(pinia).attach(router);
  startStores(pinia, t);
  await flush();
  if (path !== null) await router.push(path);
  w = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await router.isReady();
  await flush();
  return w;
}

const title = () => w!.get('main h2').text();
const shownNode = () => w!.get('main .head strong.big').text();
const navItem = (page: string) => w!.get(`nav [data-page="${page}"]`);
const path = () => router.currentRoute.value.fullPath;

describe('deep links', () => {
  it('#/node/3 opens the node page on node 3', async () => {
    await open('/node/3');
    expect(title()).toBe('Node detail');
    expect(shownNode()).toBe('Node 3');
    expect(useUiStore().selectedNode).toBe(3);
    expect(navItem('node').attributes('aria-current')).toBe('page');
    expect(path()).toBe('/node/3');
  });

  it('a link to each page opens that page', async () => {
    await open('/replication');
    expect(title()).toBe('Log replication');
    expect(navItem('replication').attributes('aria-current')).toBe('page');
    await router.push('/events');
    await flush();
    expect(title()).toBe('Event timeline');
    expect(useUiStore().page).toBe('events');
  });

  it('the root and unknown paths open the topology, and the overview keeps its own page', async () => {
    await open('/');
    expect(title()).toBe('Topology');
    expect(path()).toBe('/topology');
    expect(navItem('topology').text()).toContain('Topology');
    await router.push('/no-such-page');
    await flush();
    expect(title()).toBe('Topology');
    expect(path()).toBe('/topology');
    await navItem('overview').trigger('click');
    await flush();
    expect(title()).toBe('Cluster overview');
    expect(path()).toBe('/overview');
  });

  it('a link to a node the cluster does not have shows the leader, and says so in the URL', async () => {
    await open('/overview');
    await router.push('/node/9');
    await flush();
    expect(shownNode()).toBe('Node 1');
    expect(path()).toBe('/node/1');
    // The correction replaced the entry: back returns to the page before, not the missing node.
    router.back();
    await flush();
    expect(path()).toBe('/overview');
  });

  it('the node page without a node shows the leader and names it in the URL', async () => {
    await open('/node');
    expect(shownNode()).toBe('Node 1');
    expect(path()).toBe('/node/1');
  });

  it('an instant (?at=) is read and kept from page to page', async () => {
    await open('/events?at=1700000000000');
    expect(useUiStore().at).toBe(1_700_000_000_000);
    await navItem('faults').trigger('click');
    await flush();
    expect(path()).toBe('/faults?at=1700000000000');
    await useUiStore().openNode(2);
    expect(path()).toBe('/node/2?at=1700000000000');
  });
});

describe('navigation goes through the router', () => {
  it('a nav item changes the route; back and forward return', async () => {
    await open('/overview');
    await navItem('events').trigger('click');
    await flush();
    expect(path()).toBe('/events');
    expect(title()).toBe('Event timeline');
    router.back();
    await flush();
    expect(path()).toBe('/overview');
    expect(title()).toBe('Cluster overview');
    router.forward();
    await flush();
    expect(path()).toBe('/events');
  });

  it('the node picker and the nav item remember the node', async () => {
    await open('/node/2');
    await w!.get('[role=tablist] [role=tab]:nth-child(3)').trigger('click');
    await flush();
    expect(path()).toBe('/node/3');
    expect(shownNode()).toBe('Node 3');
    await navItem('overview').trigger('click');
    await flush();
    expect(navItem('node').attributes('href')).toBe('/node/3');
    await navItem('node').trigger('click');
    await flush();
    expect(path()).toBe('/node/3');
  });

  it('Alt+digit jumps to a page', async () => {
    await open('/overview');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '0', altKey: true }));
    await flush();
    expect(path()).toBe('/events');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '4', altKey: true }));
    await flush();
    expect(path()).toBe('/replication');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '1', altKey: true }));
    await flush();
    expect(path()).toBe('/topology');
  });

  it("an event's node links to that node's page", async () => {
    await open('/events');
    t.push('event', { seq: 1, time: 1_000_000, node: 2, kind: 'fault', message: 'isolated' });
    t.push('event', { seq: 2, time: 1_000_001, node: null, kind: 'fault', message: 'healed' });
    await flush();
    const links = w!.findAll('[data-test=event-node]');
    expect(links).toHaveLength(1);
    await links[0]!.trigger('click');
    await flush();
    expect(path()).toBe('/node/2');
    expect(shownNode()).toBe('Node 2');
  });

  it('the overview buttons open their pages', async () => {
    await open('/overview');
    const button = (text: string) => w!.findAll('main button').find((b) => b.text() === text)!;
    await button('Timeline →').trigger('click');
    await flush();
    expect(path()).toBe('/events');
    router.back();
    await flush();
    await button('Log view →').trigger('click');
    await flush();
    expect(path()).toBe('/replication');
  });
});

describe('the URL bar (hash history)', () => {
  afterEach(() => history.replaceState(null, '', '/'));

  it('opens the page and node of the hash, and navigation writes the hash', async () => {
    history.replaceState(null, '', '/#/node/2');
    await open(null, createWebHashHistory());
    expect(shownNode()).toBe('Node 2');
    await navItem('replication').trigger('click');
    await flush();
    expect(location.hash).toBe('#/replication');
    await useUiStore().go('membership');
    expect(location.hash).toBe('#/membership');
  });

  it('a hash without the slash (#faults) still opens its page', async () => {
    history.replaceState(null, '', '/#faults');
    await open(null, createWebHashHistory());
    expect(title()).toBe('Faults');
  });
});
