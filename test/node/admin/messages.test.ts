/**
 * The admin ops and pushes for traffic and pace against a fake node: `messages` reads the trace
 * ring, a `messages` subscription pushes samples within its budget per link and type, at most
 * every 50 ms, and `set-pace` passes through and answers with what was before; bad arguments are
 * refused with a precise detail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../../main/node/admin-client';
import { AdminServer } from '../../../main/node/admin-server';
import { FATE, IN, OUT, type SampledTraces } from '../../../main/node/transport/message-trace';
import type { Message } from '../../../main/raft/types';
import { FakeNode } from '../fake-node';
import { sleep, waitFor } from '../raw-conn';

const TOKEN = 'a-token-of-some-length';
const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function setup(node: FakeNode): Promise<AdminClient> {
  const server = new AdminServer({ node, token: TOKEN });
  closers.push(() => server.close());
  const { port } = await server.listen();
  const c = await AdminClient.connect(`127.0.0.1:${port}`, TOKEN, { connectTimeoutMs: 1000 });
  closers.push(() => c.close());
  return c;
}

function hb(from: number, to: number): Message {
  return { type: 'heartbeat', from, to, term: 4, commit: 7, readSeq: 0 };
}

function voteTo(to: number): Message {
  return { type: 'vote', from: 1, to, term: 5, lastIndex: 9, lastTerm: 4, transfer: false };
}

async function failure(p: Promise<unknown>): Promise<AdminError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AdminError);
  return e as AdminError;
}

describe('admin: messages, set-pace', () => {
  it('reads the trace ring through `messages`, by seq and peer', async () => {
    const node = new FakeNode(1);
    const a = await setup(node);
    for (let i = 0; i < 5; i++)
      node.traces.record(OUT, FATE.delayed, hb(1, 2 + (i % 2)), 200, 21, 1000 + i);
    node.traces.record(IN, FATE.received, hb(3, 1), 0, 21, 2000);
    const all = await a.messages();
    expect(all.nextSeq).toBe(7);
    expect(all.traces[0]).toEqual({
      from: 1,
      to: 2,
      type: 'heartbeat',
      term: 4,
      commit: 7,
      seq: 1,
      time: 1000,
      dir: 'out',
      fate: 'delayed',
      delayMs: 200,
      bytes: 21,
    });
    const to3 = await a.messages({ peer: 3, limit: 2 });
    expect(to3.traces.map((t) => t.seq)).toEqual([2, 4]);
    const rest = await a.messages({ peer: 3, since: to3.nextSeq });
    expect(rest.traces.map((t) => [t.seq, t.dir])).toEqual([[6, 'in']]);
    expect(rest.nextSeq).toBe(7);
  });

  it('passes set-pace to the node and answers with what was before', async () => {
    const node = new FakeNode();
    const a = await setup(node);
    expect(await a.setPace({ pace: 20, fastFailover: false })).toEqual({
      pace: 20,
      fastFailover: false,
      previous: { pace: 1, fastFailover: true },
    });
    expect((await a.status()).timing).toMatchObject({ pace: 20, fastFailover: false });
    expect(node.calls).toEqual([{ op: 'setPace', args: [{ pace: 20, fastFailover: false }] }]);
  });

  it('refuses bad arguments with a precise detail, without calling the node', async () => {
    const node = new FakeNode();
    const a = await setup(node);
    const cases: [Promise<unknown>, string][] = [
      [a.setPace({ pace: 0, fastFailover: true }), 'pace must be an integer in 1..100, got int 0'],
      [
        a.setPace({ pace: 101, fastFailover: true }),
        'pace must be an integer in 1..100, got int 101',
      ],
      [
        a.setPace({ pace: 2.5, fastFailover: true }),
        'pace must be an integer in 1..100, got float 2.5',
      ],
      [a.call('set-pace', { pace: 2 } as never), 'missing field fastFailover for set-pace'],
      [
        a.setPace({ pace: 2, fastFailover: 'yes' as never }),
        'fastFailover must be a bool, got str',
      ],
      [a.messages({ limit: 5000 }), 'limit must be an integer in 1..4096, got int 5000'],
      [a.messages({ limit: 0 }), 'limit must be an integer in 1..4096, got int 0'],
      [a.messages({ since: -1 }), 'since must be an unsigned integer, got int -1'],
      [a.messages({ peer: 0 }), 'peer must be a positive integer, got int 0'],
      [
        a.subscribe({ messages: true, messagesPerLinkHz: 0 }, {}),
        'messagesPerLinkHz must be an integer in 1..1000, got int 0',
      ],
      [
        a.subscribe({ messages: true, messagesPerLinkHz: 1001 }, {}),
        'messagesPerLinkHz must be an integer in 1..1000, got int 1001',
      ],
      [a.subscribe({ messages: 'yes' as never }, {}), 'messages must be a bool, got str'],
    ];
    for (const [p, detail] of cases) {
      const e = await failure(p);
      expect({ code: e.code, detail: e.detail }).toEqual({ code: 'bad-request', detail });
    }
    expect(node.calls).toEqual([]);
  });

  it('pushes sampled out traces within the budget per link and type, at most every 50 ms', async () => {
    const node = new FakeNode(1);
    let now = 10_000;
    node.now = () => now;
    const a = await setup(node);
    const batches: { at: number; batch: SampledTraces }[] = [];
    const subscribed = performance.now();
    const opts = await a.subscribe(
      { messages: true, messagesPerLinkHz: 4 },
      { messages: (batch) => batches.push({ at: performance.now(), batch }) },
    );
    expect(opts).toMatchObject({ messages: true, messagesPerLinkHz: 4 });
    // One fake second: 30 heartbeats to each of 2 and 3, two votes to 2, and what 2 sent us.
    for (let i = 0; i < 30; i++) {
      node.traces.record(OUT, FATE.sent, hb(1, 2), 0, 21, now);
      node.traces.record(OUT, FATE.sent, hb(1, 3), 0, 21, now);
      node.traces.record(IN, FATE.received, hb(2, 1), 0, 21, now);
      if (i === 10) node.traces.record(OUT, FATE.sent, voteTo(2), 0, 30, now);
      if (i === 20) node.traces.record(OUT, FATE.dropped, voteTo(2), 0, 0, now);
      now += 30;
      if (i % 10 === 0) await sleep(20);
    }
    await sleep(200);
    const traces = batches.flatMap((b) => b.batch.traces);
    const skipped: Record<string, number> = {};
    for (const b of batches) {
      for (const [k, n] of Object.entries(b.batch.skipped)) skipped[k] = (skipped[k] ?? 0) + n;
    }
    const n = (to: number, type: string): number =>
      traces.filter((t) => t.to === to && t.type === type).length;
    // 30 × 30 ms = 900 ms of fake time: one window.
    expect([n(2, 'heartbeat'), n(3, 'heartbeat'), n(2, 'vote')]).toEqual([4, 4, 2]);
    expect(traces.every((t) => t.dir === 'out')).toBe(true);
    expect(traces.filter((t) => t.type === 'vote').map((t) => t.fate)).toEqual(['sent', 'dropped']);
    expect(skipped).toEqual({ '1-2': 26, '1-3': 26 });
    const seqs = traces.map((t) => t.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Batched: at most one push per 50 ms (counted, not timed on arrival: TCP may hand two over
    // at once).
    const span = batches[batches.length - 1].at - subscribed;
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(span / 50) + 2);
    // Nothing new: nothing pushed.
    const count = batches.length;
    await sleep(150);
    expect(batches.length).toBe(count);

    // Unsubscribing stops the sampler.
    expect(node.traces.listening).toBe(1);
    await a.unsubscribe();
    expect(node.traces.listening).toBe(0);
  });

  it('a second subscribe with another budget replaces the sampler; without messages it stops', async () => {
    const node = new FakeNode(1);
    const a = await setup(node);
    await a.subscribe({ messages: true }, {});
    expect(node.traces.listening).toBe(1);
    await a.subscribe({ messages: true, messagesPerLinkHz: 50 }, {});
    expect(node.traces.listening).toBe(1);
    expect(node.calls.map((c) => c.args)).toEqual([[10], [50]]);
    await a.subscribe({ events: true }, {});
    expect(node.traces.listening).toBe(0);
    await a.subscribe({ messages: true, messagesPerLinkHz: 50 }, {});
    await a.close();
    await waitFor(() => node.traces.listening === 0);
  });
});
