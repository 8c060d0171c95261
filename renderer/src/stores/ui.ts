import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { Router } from 'vue-router';
import type { NodeId } from '../../../main/contract/view';
import { locationOf, whereOf } from '../router/routes';
import type { Page } from '../router/routes';

export { PAGES } from '../router/routes';
export type { Page } from '../router/routes';

export type ThemeChoice = 'system' | 'light' | 'dark';

const THEME_KEY = 'raftdeck.theme';

function storedTheme(): ThemeChoice {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
}

/**
 * useUiStore: which page is shown, which node is selected, and the theme (the system's by
 * default, or chosen; the choice is remembered). Page and node live in the URL (`#/faults`,
 * `#/node/3`), kept by the router the store is attached to, so links, reloads, back/forward and
 * screenshots land where they point; `go` and `openNode` navigate through it. The node last
 * shown stays selected when another page is open, and the node page opens on it again.
 */
export const useUiStore = defineStore('ui', () => {
  const router = shallowRef<Router | null>(null);
  const where = computed(() => whereOf(router.value?.currentRoute.value ?? null));
  const page = computed<Page>(() => where.value.page);
  /** at: the instant the URL names (`?at=`), carried from page to page; null = live. */
  const at = computed(() => where.value.at);
  const lastNode = ref<NodeId | null>(null);
  watch(
    () => where.value.node,
    (id) => {
      if (id !== null) lastNode.value = id;
    },
    { immediate: true },
  );
  const selectedNode = computed<NodeId | null>({
    get: () => where.value.node ?? lastNode.value,
    set: (id) => {
      if (id !== null) void openNode(id);
    },
  });
  const themeChoice = ref<ThemeChoice>(storedTheme());
  const systemDark = ref(
    typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)').matches : true,
  );

  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', (e) => {
      systemDark.value = e.matches;
    });
  }

  const theme = computed<'light' | 'dark'>(() =>
    themeChoice.value === 'system' ? (systemDark.value ? 'dark' : 'light') : themeChoice.value,
  );

  watch(themeChoice, (t) => {
    try {
      if (t === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, t);
    } catch {
      // Storage may be unavailable; the choice then lasts for this session.
    }
  });

  /** attach: the router whose URL holds the page and node; navigation needs one. */
  function attach(r: Router): void {
    router.value = r;
  }

  function navigator(): Router {
    if (!router.value) throw new Error('ui store: no router attached (call attach(router) first)');
    return router.value;
  }

  /** go opens a page (the node page on the node last shown), keeping the instant. */
  async function go(p: Page): Promise<void> {
    await navigator().push(locationOf({ page: p, node: lastNode.value, at: at.value }));
  }

  /**
   * openNode opens a node's page, keeping the instant; `replace` swaps the history entry
   * instead of adding one (to correct a link, not to go somewhere).
   */
  async function openNode(id: NodeId, opts: { replace?: boolean } = {}): Promise<void> {
    lastNode.value = id;
    const to = locationOf({ page: 'node', node: id, at: at.value });
    await (opts.replace ? navigator().replace(to) : navigator().push(to));
  }

  /**
   * setAt names an instant in the URL (null removes it), replacing the history entry: the page
   * stays, only the moment shown changes. Without a router it does nothing.
   */
  async function setAt(t: number | null): Promise<void> {
    const r = router.value;
    if (!r || at.value === t) return;
    const w = where.value;
    await r.replace(locationOf({ page: w.page, node: w.node, at: t }));
  }

  function toggleTheme(): void {
    themeChoice.value = theme.value === 'dark' ? 'light' : 'dark';
  }

  return {
    page,
    at,
    selectedNode,
    themeChoice,
    theme,
    attach,
    go,
    openNode,
    setAt,
    toggleTheme,
  };
});
