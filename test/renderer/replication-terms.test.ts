// @vitest-environment happy-dom
// The Replication page colours each node's log by the terms its own status reports, from the
// first view it gets: entries written long before the page opened show their real term, and a
// follower's suffix that conflicts with the leader's log shows in its own term's colour.
import { mount } from '@vue/test-utils';
import type { DOMWrapper, VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from 'vue-router';
import ReplicationPage from '../../renderer/src/pages/ReplicationPage.vue';
import { fakeTransport, flush, follower, node, raft, view, startDeck } from './helpers';
import type { FakeTransport } from './helpers';

let pinia: Pinia;
let router: Router;
let t: FakeTransport;
let w: VueWrapper | null = null;

// Leader 1 of term 5 and follower 2 hold terms 1, 2 and 5; follower 3 kept entries of term 3
// from a leader that was deposed before it could replicate them, where the leader has term 5.
const common = [
  { start: 1, term: 1 },
  { start: 20, term: 2 },
];
const cluster = view({
  term: 5,
  commit: 90,
  nodes: [
    node(1, 'leader', {
      raft: raft({
        role: 'leader',
        term: 5,
        leader: 1,
        lastIndex: 100,
        commit: 90,
        termRuns: [...common, { start: 60, term: 5 }],
        progress: [follower(2, { match: 100 }), follower(3, { match: 59, state: 'probe' })],
      }),
    }),
    node(2, 'follower', {
      raft: raft({
        term: 5,
        lastIndex: 100,
        commit: 90,
        termRuns: [...common, { start: 60, term: 5 }],
      }),
    }),
    node(3, 'follower', {
      raft: raft({
        term: 5,
        lastIndex: 96,
        commit: 59,
        termRuns: [...common, { start: 60, term: 3 }],
      }),
    }),
  ],
});

beforeEach(async () => {
  t = fakeTransport(cluster);
  ({ pinia, router } = startDeck(t));
  await flush();
});

afterEach(() => {
  w?.unmount();
  w = null;
});

async function page(): Promise<VueWrapper> {
  w = mount(ReplicationPage, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await flush();
  return w;
}

/** drawnAt: the term segment of node `id`'s strip that draws entry `index` (title "term t: entries a…b"). */
function drawnAt(p: VueWrapper, id: number, index: number): DOMWrapper<Element> | undefined {
  return p.findAll(`[data-test="log-strip"][data-node="${id}"] .seg.term`).find((s) => {
    const m = /entries (\d+)…(\d+)/.exec(s.attributes('title') ?? '');
    return m !== null && Number(m[1]) <= index && index <= Number(m[2]);
  });
}

describe('the Replication page’s term colours', () => {
  it('colours an entry from before the page opened with its real term, on every node', async () => {
    const p = await page();
    for (const id of [1, 2, 3]) {
      const s = drawnAt(p, id, 5);
      expect(s?.attributes('title')).toBe('term 1: entries 1…19');
      expect(s?.attributes('style')).toContain('var(--term-1)');
      expect(drawnAt(p, id, 30)?.attributes('style')).toContain('var(--term-2)');
    }
    expect(p.findAll('[data-test="log-strip"] .seg.earlier')).toHaveLength(0);
    const legend = p.findAll('[data-test="legend-term"]').map((l) => l.text());
    expect(legend).toEqual([
      'term 1 from 1',
      'term 2 from 20',
      'term 3 not in the leader’s log',
      'term 5 from 60',
    ]);
  });

  it('draws a diverging follower’s suffix in its own term’s colour, outlined as a conflict', async () => {
    const p = await page();
    expect(drawnAt(p, 1, 70)?.attributes('style')).toContain('var(--term-5)');
    expect(drawnAt(p, 2, 70)?.attributes('style')).toContain('var(--term-5)');
    const own = drawnAt(p, 3, 70);
    expect(own?.attributes('title')).toBe('term 3: entries 60…96');
    expect(own?.attributes('style')).toContain('var(--term-3)');
    const conflict = p.findAll('[data-test="log-strip"][data-node="3"] .seg.divergent');
    expect(conflict.map((s) => s.attributes('title'))).toEqual([
      "conflicts with the leader's log from 60: term 3 here, 5 on the leader",
    ]);
    expect(p.findAll('[data-test="log-strip"][data-node="2"] .seg.divergent')).toHaveLength(0);
  });

  it('says a run at the leader’s first index may have begun in what it compacted', async () => {
    const p = await page();
    const compacted = raft({
      role: 'leader',
      term: 5,
      leader: 1,
      firstIndex: 41,
      snapshotIndex: 40,
      lastIndex: 100,
      commit: 100,
      termRuns: [
        { start: 41, term: 2 },
        { start: 60, term: 5 },
      ],
    });
    t.push('view', view({ version: 2, term: 5, nodes: [node(1, 'leader', { raft: compacted })] }));
    await flush();
    expect(p.findAll('[data-test="legend-term"]').map((l) => l.text())).toEqual([
      'term 2 from 41 or before',
      'term 5 from 60',
    ]);
  });
});
