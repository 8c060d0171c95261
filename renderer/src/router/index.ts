import { createRouter } from 'vue-router';
import type { Router, RouteRecordRaw, RouterHistory } from 'vue-router';
import type { Component } from 'vue';
import ClientPage from '../pages/ClientPage.vue';
import EventsPage from '../pages/EventsPage.vue';
import FaultsPage from '../pages/FaultsPage.vue';
import MembershipPage from '../pages/MembershipPage.vue';
import MessagesPage from '../pages/MessagesPage.vue';
import NodePage from '../pages/NodePage.vue';
import OverviewPage from '../pages/OverviewPage.vue';
import ReplicationPage from '../pages/ReplicationPage.vue';
import ScenariosPage from '../pages/ScenariosPage.vue';
import SnapshotsPage from '../pages/SnapshotsPage.vue';
import TopologyPage from '../pages/TopologyPage.vue';
import { HOME, PAGES } from './routes';
import type { Page } from './routes';

export { HOME, PAGES, locationOf, whereOf } from './routes';
export type { Page, Where } from './routes';

// The workload page is loaded when first opened: its charts bring uPlot, which no other page needs.
const WorkloadPage = () => import('../pages/WorkloadPage.vue');

const COMPONENTS: Record<Page, Component | (() => Promise<unknown>)> = {
  topology: TopologyPage,
  overview: OverviewPage,
  node: NodePage,
  replication: ReplicationPage,
  snapshots: SnapshotsPage,
  membership: MembershipPage,
  faults: FaultsPage,
  client: ClientPage,
  workload: WorkloadPage,
  events: EventsPage,
  messages: MessagesPage,
  scenarios: ScenariosPage,
};

/**
 * ROUTES: one route per page, named as the page; the node page takes an optional node id
 * (`/node/3`). The root and any unknown path lead to the home page (the topology), keeping the
 * query (`?at=`).
 */
export const ROUTES: RouteRecordRaw[] = [
  { path: '/', redirect: (to) => ({ path: `/${HOME}`, query: to.query }) },
  ...PAGES.map((p): RouteRecordRaw => ({
    path: p.id === 'node' ? '/node/:id(\\d+)?' : `/${p.id}`,
    name: p.id,
    component: COMPONENTS[p.id],
  })),
  { path: '/:unknown(.*)*', redirect: (to) => ({ path: `/${HOME}`, query: to.query }) },
];

/**
 * createDeckRouter: the dashboard's router over a history: hash history in the app and the
 * browser (the page loads from file:// in Electron), memory history in tests.
 */
export function createDeckRouter(history: RouterHistory): Router {
  return createRouter({ history, routes: ROUTES });
}
