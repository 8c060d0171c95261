import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { NodeId } from '../../../main/contract/view';

export type Page =
  | 'overview'
  | 'node'
  | 'replication'
  | 'snapshots'
  | 'membership'
  | 'faults'
  | 'client'
  | 'workload'
  | 'events'
  | 'scenarios';

export const PAGES: { id: Page; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'node', label: 'Node detail' },
  { id: 'replication', label: 'Replication' },
  { id: 'snapshots', label: 'Snapshots' },
  { id: 'membership', label: 'Membership' },
  { id: 'faults', label: 'Faults' },
  { id: 'client', label: 'Client console' },
  { id: 'workload', label: 'Workload' },
  { id: 'events', label: 'Events' },
  { id: 'scenarios', label: 'Scenarios' },
];

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
 * default, or chosen; the choice is remembered). The page can also come from the URL hash
 * (`#faults`), which keeps links and screenshots reproducible.
 */
export const useUiStore = defineStore('ui', () => {
  const page = ref<Page>('overview');
  const selectedNode = ref<NodeId | null>(null);
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

  function go(p: Page): void {
    page.value = p;
  }

  function openNode(id: NodeId): void {
    selectedNode.value = id;
    page.value = 'node';
  }

  function toggleTheme(): void {
    themeChoice.value = theme.value === 'dark' ? 'light' : 'dark';
  }

  return { page, selectedNode, themeChoice, theme, go, openNode, toggleTheme };
});
