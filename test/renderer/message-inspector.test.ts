// @vitest-environment happy-dom
// The message inspector: the Messages page over live and recorded messages, its filters, pause,
// follow, export and highlights, and the rules that pick the highlighted messages.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Router } from 'vue-router';
import type { MessageTrace } from '../../main/contract/view';
import { significanceOf } from '../../renderer/src/lib/message-rows';
import MessagesPage from '../../renderer/src/pages/MessagesPage.vue';
import { FOLLOW_POLL_MS, REFRESH_MS } from '../../renderer/src/stores/message-inspector';
import { MESSAGE_RING, useMessagesStore } from '../../renderer/src/stores/messages';
import { useTimeTravelStore } from '../../renderer/src/stores/time-travel';
import { startDeck } from './helpers';
import { recordElection, replayTransport, T0, trace } from './replay';
import type { ReplayTransport } from './replay';

let pinia: Pinia;
let t: ReplayTransport;
let router: Router;
let w: VueWrapper | undefined;

beforeEach(async () => {
  vi.useFakeTimers();
  t = replayTransport();
  recordElection(t);
  ({ pinia, router } = startDeck(t));
  await vi.advanceTimersByTimeAsync(0);
});

afterEach(() => {
  w?.unmount();
  w = undefined;
  useTimeTravelStore(pinia).stop();
  vi.useRealTimers();
});

async function page(): Promise<VueWrapper> {
  w = mount(MessagesPage, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await vi.advanceTimersByTimeAsync(0);
  return w;
}

async function push(traces: MessageTrace[]): Promise<void> {
  t.push('messages', { traces, skipped: {} });
  await vi.advanceTimersByTimeAsync(REFRESH_MS + 10);
}

const types = () => w!.findAll('[data-test=message-type]').map((e) => e.text());
const rows = () => w!.findAll('[data-test=message-row]');

/** A little election: node 2 asks 1 and 3 for votes in term 3; 1 refuses, 3 grants. */
const election = (at: number): MessageTrace[] => [
  trace(at, { type: 'heartbeat', term: 2, from: 1, to: 2, seq: 1, commit: 100 }),
  trace(at + 1, { type: 'pre-vote', term: 3, from: 2, to: 3, seq: 2, index: 100, logTerm: 2 }),
  trace(at + 2, { type: 'pre-vote-resp', term: 3, from: 3, to: 2, seq: 3, reject: false }),
  trace(at + 3, { type: 'vote', term: 3, from: 2, to: 1, seq: 4, index: 100, logTerm: 2 }),
  trace(at + 4, { type: 'vote', term: 3, from: 2, to: 3, seq: 5, index: 100, logTerm: 2 }),
  trace(at + 5, { type: 'vote-resp', term: 3, from: 1, to: 2, seq: 6, reject: true }),
  trace(at + 6, { type: 'vote-resp', term: 3, from: 3, to: 2, seq: 7, reject: false }),
  trace(at + 7, {
    type: 'app-resp',
    term: 3,
    from: 1,
    to: 2,
    seq: 8,
    index: 90,
    reject: true,
    hint: 42,
  }),
];

describe('significanceOf', () => {
  it('marks vote answers, the first message of a higher term (not a pre-vote), and rejections', () => {
    expect(significanceOf(election(T0))).toEqual([
      null, // the first message: nothing before it to be higher than
      null, // a pre-vote carries the term its sender would take, not one it has
      'pre-vote-granted',
      'new-term',
      null, // the same term again
      'vote-refused',
      'vote-granted',
      'rejected',
    ]);
    expect(
      significanceOf([trace(1, { term: 4 }), trace(2, { type: 'timeout-now', term: 4 })]),
    ).toEqual([null, 'timeout-now']);
  });
});

describe('the Messages page', () => {
  it('shows live messages newest first with their fields, and highlights what changes a role or term', async () => {
    await page();
    await push(election(T0));
    expect(types()).toEqual([
      'app-resp',
      'vote-resp',
      'vote-resp',
      'vote',
      'vote',
      'pre-vote-resp',
      'pre-vote',
      'heartbeat',
    ]);
    const first = rows()[0]!;
    expect(first.attributes('data-sig')).toBe('rejected');
    expect(first.text()).toContain('1 → 2');
    expect(first.text()).toContain('reject · hint 42');
    expect(first.text()).toContain('90');
    expect(rows()[1]!.attributes('data-sig')).toBe('vote-granted');
    expect(rows()[2]!.attributes('data-sig')).toBe('vote-refused');
    expect(rows()[4]!.attributes('data-sig')).toBe('new-term');
    expect(rows()[4]!.text()).toContain('100/2');
    expect(rows()[7]!.attributes('data-sig')).toBeUndefined();
    expect(w!.text()).toContain('vote granted');
    expect(w!.text()).toContain('append rejected');
  });

  it('filters by sender, receiver, type and term', async () => {
    await page();
    await push(election(T0));
    await w!.get('[data-test=messages-from]').setValue('2');
    expect(types()).toEqual(['vote', 'vote', 'pre-vote']);
    await w!.get('[data-test=messages-to]').setValue('3');
    expect(types()).toEqual(['vote', 'pre-vote']);
    await w!.get('[data-type=vote]').trigger('click');
    expect(types()).toEqual(['vote']);
    await w!.get('button.ghost').trigger('click'); // clear filters
    await w!.get('[data-test=messages-term]').setValue('2');
    expect(types()).toEqual(['heartbeat']);
    // Filtering keeps each message's highlight as judged over the whole list.
    await w!.get('button.ghost').trigger('click');
    await w!.get('[data-type=vote]').trigger('click');
    expect(rows().map((r) => r.attributes('data-sig') ?? null)).toEqual([null, 'new-term']);
  });

  it('pause freezes the table while messages go on arriving; resume shows them', async () => {
    await page();
    await push(election(T0).slice(0, 2));
    await w!.get('[data-test=messages-pause]').trigger('click');
    await push([trace(T0 + 50, { type: 'snap', seq: 9 })]);
    expect(types()).toEqual(['pre-vote', 'heartbeat']);
    expect(w!.text()).toContain('paused');
    await w!.get('[data-test=messages-pause]').trigger('click');
    await vi.advanceTimersByTimeAsync(0);
    expect(types()).toEqual(['snap', 'pre-vote', 'heartbeat']);
  });

  it('follows one link live with the exact last messages its sender recorded, polled', async () => {
    const recent = [
      trace(T0 + 1, { type: 'app', seq: 41 }),
      trace(T0 + 2, { type: 'heartbeat', seq: 42 }),
    ];
    t.answers.linkDetail = (from, to) => ({ link: { from, to }, byType: [], recent });
    await page();
    await push(election(T0));
    expect(w!.get('[data-test=messages-follow]').attributes('disabled')).toBeDefined();
    await w!.get('[data-test=messages-from]').setValue('1');
    await w!.get('[data-test=messages-to]').setValue('2');
    await w!.get('[data-test=messages-follow]').trigger('click');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.calls.filter((c) => c.name === 'linkDetail').map((c) => c.args)).toEqual([[1, 2]]);
    expect(types()).toEqual(['heartbeat', 'app']);
    expect(w!.get('[data-test=messages-following]').text()).toBe('following 1 → 2');
    await vi.advanceTimersByTimeAsync(FOLLOW_POLL_MS * 2);
    expect(t.calls.filter((c) => c.name === 'linkDetail')).toHaveLength(3);
    // Closing the page stops the polling.
    w!.unmount();
    w = undefined;
    await vi.advanceTimersByTimeAsync(FOLLOW_POLL_MS * 3);
    expect(t.calls.filter((c) => c.name === 'linkDetail')).toHaveLength(3);
  });

  it('exports the rows through the filters as JSON Lines, oldest first', async () => {
    const blobs: Blob[] = [];
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blobs.push(b as Blob);
      return 'blob:x';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    await page();
    await push(election(T0));
    await w!.get('[data-type=vote]').trigger('click');
    await w!.get('[data-test=messages-export]').trigger('click');
    expect(create).toHaveBeenCalledTimes(1);
    const lines = (await blobs[0]!.text()).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as MessageTrace).map((m) => [m.type, m.to])).toEqual([
      ['vote', 1],
      ['vote', 3],
    ]);
    create.mockRestore();
  });

  it('while replaying, shows the messages recorded before the moment, and follows a link among them', async () => {
    await page();
    await push([trace(T0 + 60_000, { type: 'snap', term: 9, seq: 99 })]);
    const tt = useTimeTravelStore();
    await tt.refreshInfo();
    tt.seek(T0 + 11_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(types()).toEqual(['vote-resp', 'vote', 'heartbeat']);
    expect(rows()[0]!.attributes('data-sig')).toBe('vote-granted');
    expect(w!.find('[data-test=messages-pause]').exists()).toBe(false);
    expect(w!.get('[data-test=messages-summary]').text()).toContain('recorded in the 5 s up to');
    await w!.get('[data-test=messages-from]').setValue('2');
    await w!.get('[data-test=messages-to]').setValue('3');
    await w!.get('[data-test=messages-follow]').trigger('click');
    expect(types()).toEqual(['vote']);
    expect(t.calls.filter((c) => c.name === 'linkDetail')).toEqual([]);
    tt.backToLive();
    await vi.advanceTimersByTimeAsync(0);
    await w!.get('[data-test=messages-unfollow]').trigger('click');
    await w!.get('button.ghost').trigger('click');
    expect(types()).toEqual(['snap']);
  });

  it('keeps at most MESSAGE_RING live messages, and renders at most the newest few hundred', async () => {
    await page();
    const many = Array.from({ length: MESSAGE_RING + 700 }, (_, i) =>
      trace(T0 + i, { seq: i, type: 'heartbeat' }),
    );
    await push(many);
    const live = useMessagesStore().live();
    expect(live).toHaveLength(MESSAGE_RING);
    expect(live[0]!.seq).toBe(700);
    expect(rows().length).toBe(300);
    expect(w!.get('[data-test=messages-summary]').text()).toContain(`${MESSAGE_RING} messages`);
  });
});
