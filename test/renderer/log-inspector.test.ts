// @vitest-environment happy-dom
// The log inspector, mounted with real stores over a fake transport: picking an index on a
// replication strip (pointer and keyboard) or typing one asks for it; the entry, every node's
// copy (holding, conflicting, compacted) and their times are shown; the checker's "show in log"
// searches the operation's key page after page until it finds the value it wrote.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Router } from 'vue-router';
import type {
  EntryHolder,
  HistoryOp,
  LogEntryView,
  LogInspection,
  LogQuery,
  LogRow,
} from '../../main/contract/view';
import LogInspector from '../../renderer/src/components/log/LogInspector.vue';
import CheckerPanel from '../../renderer/src/components/workload/CheckerPanel.vue';
import ReplicationPage from '../../renderer/src/pages/ReplicationPage.vue';
import { previewMatches, useLogInspectorStore } from '../../renderer/src/stores/log-inspector';
import { fakeTransport, flush, view, startDeck } from './helpers';
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

function open<C>(component: C): VueWrapper {
  const w = mount(component as never, {
    global: { plugins: [pinia, router] },
    attachTo: document.body,
  });
  mounted.push(w);
  return w;
}

const put = (index: number, value: string, term = 2, key = 'k-inspect'): LogEntryView => ({
  index,
  term,
  kind: 'put',
  bytes: 30,
  summary: `put ${key} = ${value}`,
  key,
  value,
  valueBytes: value.length,
  client: 'console',
  seq: 7,
});

const holder = (node: number, over: Partial<EntryHolder> = {}): EntryHolder => ({
  node,
  state: 'holds',
  term: 2,
  entry: null,
  appendedAt: 1_700_000_000_000,
  committedAt: 1_700_000_000_004,
  appliedAt: 1_700_000_000_006,
  snapshotIndex: null,
  error: null,
  ...over,
});

function answer(rows: LogRow[], over: Partial<LogInspection> = {}): LogInspection {
  return {
    reference: 1,
    nodes: [1, 2, 3].map((id) => ({
      id,
      firstIndex: 1,
      lastIndex: 100,
      snapshotIndex: 0,
      commit: 100,
      applied: 100,
      error: null,
    })),
    rows,
    scannedTo: rows.at(-1)?.index ?? 0,
    note: null,
    ...over,
  };
}

const queries = (): LogQuery[] =>
  t.calls.filter((c) => c.name === 'logEntries').map((c) => c.args[0] as LogQuery);

describe('log inspector', () => {
  it('a click on a strip asks for the index under the pointer', async () => {
    t.answers.logEntries = (q) =>
      answer([{ index: (q as LogQuery).from, entry: null, holders: [] }]);
    const w = open(ReplicationPage);
    await flush();
    const strip = w.find('[data-test="log-strip"][data-node="2"]');
    expect(strip.attributes('role')).toBe('slider');
    (strip.element as HTMLElement).getBoundingClientRect = () =>
      ({ left: 10, width: 200, top: 0, height: 30, right: 210, bottom: 30 }) as DOMRect;
    await strip.trigger('mousemove', { clientX: 110 });
    expect(w.find('[data-test="strip-cursor"]').text()).toBe('#50');
    await strip.trigger('click', { clientX: 60 });
    await flush();
    // 50 px of 200 over the window 0…100: entry 25 spans 24…25.
    expect(queries()).toEqual([{ from: 25, count: 1 }]);
  });

  it('from the keyboard the strip is a slider: arrows move, Enter picks', async () => {
    t.answers.logEntries = (q) =>
      answer([{ index: (q as LogQuery).from, entry: null, holders: [] }]);
    const w = open(ReplicationPage);
    await flush();
    const strip = w.find('[data-test="log-strip"][data-node="1"]');
    await strip.trigger('focus');
    expect(strip.attributes('aria-valuenow')).toBe('100');
    await strip.trigger('keydown', { key: 'ArrowLeft' });
    await strip.trigger('keydown', { key: 'ArrowLeft' });
    await strip.trigger('keydown', { key: 'PageDown' });
    expect(strip.attributes('aria-valuetext')).toBe('index 88');
    await strip.trigger('keydown', { key: 'Enter' });
    await flush();
    await strip.trigger('keydown', { key: 'Home' });
    await strip.trigger('keydown', { key: ' ' });
    await flush();
    expect(queries()).toEqual([
      { from: 88, count: 1 },
      { from: 1, count: 1 },
    ]);
  });

  it('shows the entry, who holds it and when, a conflict side by side, and what was compacted', async () => {
    const entry = put(42, 'v-42');
    t.answers.logEntries = () =>
      answer([
        {
          index: 42,
          entry,
          holders: [
            holder(1),
            holder(2, {
              state: 'conflict',
              term: 1,
              entry: put(42, 'stale', 1),
              committedAt: 1_700_000_000_000 - 3,
            }),
            holder(3, {
              state: 'compacted',
              term: null,
              snapshotIndex: 60,
              appendedAt: null,
              committedAt: null,
              appliedAt: null,
            }),
          ],
        },
      ]);
    const w = open(LogInspector);
    await w.find('[data-test="insp-index"]').setValue('42');
    await w.find('form').trigger('submit');
    await flush();
    expect(queries()).toEqual([{ from: 42, count: 1 }]);
    expect(w.find('[data-test="insp-title"]').text()).toBe('Index 42');
    expect(w.find('[data-test="insp-kind"]').text()).toBe('put');
    expect(w.find('[data-test="insp-key-value"]').text()).toBe('k-inspect');
    expect(w.find('[data-test="insp-value"]').text()).toContain('v-42');
    expect(w.find('[data-test="insp-entry"]').text()).toContain('console · seq 7');
    const rows = w.findAll('[data-test="insp-holders"] tbody tr');
    expect(rows.map((r) => r.attributes('data-state') ?? 'side')).toEqual([
      'holds',
      'conflict',
      'side',
      'compacted',
    ]);
    expect(rows[0]!.text()).toContain('+4 ms');
    expect(rows[0]!.text()).toContain('+6 ms');
    expect(rows[1]!.text()).toContain('−3 ms');
    expect(rows[2]!.text()).toContain('put k-inspect = v-42');
    expect(rows[2]!.text()).toContain('put k-inspect = stale');
    expect(rows[3]!.text()).toContain('into snapshot at 60');
    // next → asks for the following index
    await w.find('button[aria-label="Next entry"]').trigger('click');
    await flush();
    expect(queries().at(-1)).toEqual({ from: 43, count: 1 });
  });

  it('says an index compacted on every node is in the snapshot', async () => {
    t.answers.logEntries = () =>
      answer(
        [
          {
            index: 3,
            entry: null,
            holders: [1, 2, 3].map((n) =>
              holder(n, { state: 'compacted', term: null, snapshotIndex: 40 + n }),
            ),
          },
        ],
        { note: 'node 1 compacted the entries below 30 into its snapshot at 41' },
      );
    const w = open(LogInspector);
    await w.find('[data-test="insp-index"]').setValue('3');
    await w.find('form').trigger('submit');
    await flush();
    expect(w.find('[data-test="insp-empty"]').text()).toMatch(
      /^Compacted into their snapshots \(node 1 at 41, node 2 at 42, node 3 at 43\) on every node/,
    );
    // Beyond every log: no row, the note says why.
    t.answers.logEntries = () =>
      answer([], { note: '500 is beyond the end of every log (the longest ends at 100)' });
    await w.find('[data-test="insp-index"]').setValue('500');
    await w.find('form').trigger('submit');
    await flush();
    expect(w.find('[data-test="insp-note"]').text()).toBe(
      '500 is beyond the end of every log (the longest ends at 100)',
    );
    expect(w.find('[data-test="insp-holders"]').exists()).toBe(false);
  });

  it("the checker's show in log searches the key until it finds the operation's value", async () => {
    const op: HistoryOp = {
      id: 9,
      client: 'c1',
      op: 'put',
      key: 'k3',
      value: 'v-77',
      invoke: 1,
      complete: 2,
      outcome: 'ok',
    };
    t.push(
      'view',
      view({
        checker: {
          state: 'done',
          result: 'not-linearizable',
          operations: 10,
          keys: 1,
          ms: 3,
          failure: {
            key: 'k3',
            explanation: 'no order',
            window: [op, { ...op, id: 10, op: 'get' }],
          },
        },
      }),
    );
    await flush();
    t.answers.logEntries = (q) => {
      const { from } = q as LogQuery;
      const rows =
        from === 1
          ? [10, 20].map((i) => ({
              index: i,
              entry: put(i, `v-${i}`, 2, 'k3'),
              holders: [holder(1)],
            }))
          : [{ index: 260, entry: put(260, 'v-77', 2, 'k3'), holders: [holder(1)] }];
      const a = answer(rows, { scannedTo: from === 1 ? 250 : 300, note: null });
      return { ...a, nodes: a.nodes.map((n) => ({ ...n, lastIndex: 300 })) };
    };
    const panel = open(CheckerPanel);
    const buttons = panel.findAll('[data-test="show-in-log"]');
    expect(buttons).toHaveLength(1); // the get wrote nothing
    await buttons[0]!.trigger('click');
    for (let i = 0; i < 10 && queries().length < 2; i++) await flush();
    await flush();
    expect(router.currentRoute.value.name).toBe('replication');
    expect(queries()).toEqual([
      { from: 1, count: 200, key: 'k3' },
      { from: 251, count: 200, key: 'k3' },
    ]);
    // The inspector, shown on the page it went to, scrolls itself into view once.
    const scrolled = vi.fn();
    HTMLElement.prototype.scrollIntoView = scrolled;
    expect(useLogInspectorStore(pinia).revealPending).toBe(true);
    const insp = open(LogInspector);
    await flush();
    expect(scrolled).toHaveBeenCalledTimes(1);
    expect(useLogInspectorStore(pinia).revealPending).toBe(false);
    expect(insp.find('[data-test="insp-title"]').text()).toBe('Index 260');
    expect(insp.find('[data-test="insp-found"]').text()).toContain('v-77');
    const results = insp.findAll('[data-test="insp-results"] button');
    expect(results.map((b) => b.text())).toEqual(['#10put v-10', '#20put v-20', '#260put v-77']);
    expect(results[2]!.classes()).toContain('hit');
    // prev moves to the result before
    await insp.find('button[aria-label="Previous entry"]').trigger('click');
    expect(insp.find('[data-test="insp-title"]').text()).toBe('Index 20');
  });

  it('matches a long value by its preview', () => {
    const long = 'x'.repeat(300);
    expect(previewMatches(`${'x'.repeat(120)}…`, long)).toBe(true);
    expect(previewMatches('x'.repeat(120), long)).toBe(false);
    expect(previewMatches('v1', 'v1')).toBe(true);
    expect(previewMatches(null, 'v1')).toBe(false);
  });
});
