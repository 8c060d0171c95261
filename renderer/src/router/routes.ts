import type { RouteLocationNormalizedLoaded, RouteLocationRaw } from 'vue-router';
import type { NodeId } from '../../../main/contract/view';

export type Page =
  | 'topology'
  | 'overview'
  | 'node'
  | 'replication'
  | 'snapshots'
  | 'membership'
  | 'faults'
  | 'client'
  | 'workload'
  | 'events'
  | 'messages'
  | 'scenarios';

/**
 * PAGES: every page in the order of the side navigation (and of Alt+1 … Alt+0, for the first
 * ten). The first is the home page.
 */
export const PAGES: { id: Page; label: string }[] = [
  { id: 'topology', label: 'Topology' },
  { id: 'overview', label: 'Overview' },
  { id: 'node', label: 'Node detail' },
  { id: 'replication', label: 'Replication' },
  { id: 'snapshots', label: 'Snapshots' },
  { id: 'membership', label: 'Membership' },
  { id: 'faults', label: 'Faults' },
  { id: 'client', label: 'Client console' },
  { id: 'workload', label: 'Workload' },
  { id: 'events', label: 'Events' },
  { id: 'messages', label: 'Messages' },
  { id: 'scenarios', label: 'Scenarios' },
];

/**
 * Where: what a dashboard URL names. `#/<page>` is a page, `#/node/<id>` one node's page, and an
 * `?at=<ms>` query on any of them an instant (epoch milliseconds, the clock of events and views):
 * every page then shows the cluster as recorded at that instant (see stores/time-travel.ts), and
 * the instant is carried from page to page.
 */
export interface Where {
  page: Page;
  node: NodeId | null;
  at: number | null;
}

const isPage = (name: unknown): name is Page => PAGES.some((p) => p.id === name);

/** HOME: the page the root and unknown paths open. */
export const HOME: Page = 'topology';

/** whereOf reads a resolved route; an unnamed or unknown route is the home page. */
export function whereOf(route: RouteLocationNormalizedLoaded | null): Where {
  if (!route) return { page: HOME, node: null, at: null };
  const page = isPage(route.name) ? route.name : HOME;
  const id = page === 'node' ? route.params.id : undefined;
  const node = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : null;
  const q = route.query.at;
  const at = typeof q === 'string' && /^\d+$/.test(q) ? Number(q) : null;
  return { page, node, at };
}

/** locationOf is the route of a page; the node page names its node when one is given. */
export function locationOf(where: Where): RouteLocationRaw {
  return {
    name: where.page,
    params: where.page === 'node' && where.node !== null ? { id: String(where.node) } : {},
    query: where.at !== null ? { at: String(where.at) } : {},
  };
}
