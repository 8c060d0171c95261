/**
 * What a TcpTransport reports of its traffic over real sockets: counters per peer and message
 * type (bytes are the encoded frames' sizes), the trace of every message sent and received with
 * its fate, and the pace's hold (delayed, in order, traced but not counted as a fault).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageCodec } from '../../../main/node/transport/codec';
import { outFrameBytes } from '../../../main/node/transport/framing';
import type { TcpTransportOptions } from '../../../main/node/transport/transport';
import { MESSAGE_FLIGHT_MS } from '../../../main/node/transport/pace';
import { headerOf } from '../../../main/raft/message-header';
import type { Message } from '../../../main/raft/types';
import {
  heartbeat,
  heartbeatSeqs,
  sampleMessages,
  snapChunk,
  startTransport,
  vote,
  waitFor,
  type TestTransport,
} from './helpers';

const closers: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function pair(
  options: Partial<TcpTransportOptions> = {},
): Promise<[TestTransport, TestTransport]> {
  const a = await startTransport(1, closers, options);
  const b = await startTransport(2, closers, options);
  a.t.setPeers({ '2': b.addr });
  b.t.setPeers({ '1': a.addr });
  // Connected both ways before anything is measured.
  a.t.send([heartbeat(1, 2, 0)]);
  b.t.send([heartbeat(2, 1, 0)]);
  await waitFor('both links', () => a.received.length === 1 && b.received.length === 1);
  a.received.length = 0;
  b.received.length = 0;
  return [a, b];
}

const codec = new MessageCodec();
const frameBytes = (m: Message): number => outFrameBytes(codec.encodeOutFrame(m));

describe('TcpTransport traffic', () => {
  it('counts messages and frame bytes per peer and message type, both ways', async () => {
    const [a, b] = await pair();
    const before = a.t.stats().peers['2'].types;
    const out = sampleMessages();
    a.t.send(out);
    await waitFor('every message', () => b.received.length === out.length);
    const sent = a.t.stats().peers['2'].types;
    const got = b.t.stats().peers['1'].types;
    const want: Record<string, { n: number; bytes: number }> = {};
    for (const m of out) {
      const w = (want[m.type] ??= { n: 0, bytes: 0 });
      w.n += 1;
      w.bytes += frameBytes(m);
    }
    for (const [type, w] of Object.entries(want)) {
      const base = type === 'heartbeat' ? 1 : 0;
      const baseBytes = type === 'heartbeat' ? (before.heartbeat?.sentBytes ?? 0) : 0;
      expect(sent[type as Message['type']], type).toMatchObject({
        sent: w.n + base,
        sentBytes: w.bytes + baseBytes,
        faultDropped: 0,
        faultDelayed: 0,
      });
      expect(got[type as Message['type']], type).toMatchObject({
        received: w.n + base,
        receivedBytes: w.bytes + baseBytes,
      });
    }
    // Only the types seen appear.
    expect(Object.keys(sent).sort()).toEqual(Object.keys(want).sort());
  });

  it('counts what fault rules drop and delay per type, and traces every message with its fate', async () => {
    const [a, b] = await pair();
    const start = a.t.traces.nextSeq;
    a.t.faults.setRules([
      { to: 2, drop: 1, types: ['vote'] },
      { to: 2, delayMs: 60, types: ['snap'] },
    ]);
    const t0 = Date.now();
    a.t.send([vote(1, 2), heartbeat(1, 2, 1), snapChunk(1, 2, 0)]);
    await waitFor('the delayed chunk', () => b.received.some((m) => m.type === 'snap'));
    const types = a.t.stats().peers['2'].types;
    expect(types.vote).toMatchObject({ sent: 0, faultDropped: 1, faultDelayed: 0 });
    expect(types.snap).toMatchObject({ sent: 1, faultDropped: 0, faultDelayed: 1 });
    expect(types.heartbeat?.faultDropped).toBe(0);

    const { traces } = a.t.traces.read({ since: start });
    expect(traces.map((t) => [t.type, t.dir, t.fate])).toEqual([
      ['vote', 'out', 'dropped'],
      ['heartbeat', 'out', 'sent'],
      ['snap', 'out', 'delayed'],
    ]);
    const [v, hb, snap] = traces;
    expect(v).toMatchObject({ ...headerOf(vote(1, 2)), delayMs: 0, bytes: 0 });
    expect(hb).toMatchObject({ ...headerOf(heartbeat(1, 2, 1)), delayMs: 0 });
    expect(hb.bytes).toBe(frameBytes(heartbeat(1, 2, 1)));
    // Traced when it left the filter, with the time it was given to send().
    expect(snap.delayMs).toBeGreaterThanOrEqual(55);
    expect(snap.time).toBeGreaterThanOrEqual(t0);
    expect(snap.time).toBeLessThan(t0 + 50);
    expect(snap.bytes).toBe(frameBytes(snapChunk(1, 2, 0)));

    // The receiver traced what it read, a fault rule on its side included.
    b.t.faults.setRules([{ from: 1, drop: 1, types: ['heartbeat'] }]);
    const bStart = b.t.traces.nextSeq;
    a.t.send([heartbeat(1, 2, 2), vote(1, 2, 'pre-vote')]);
    await waitFor('the pre-vote', () => b.received.some((m) => m.type === 'pre-vote'));
    const inb = b.t.traces.read({ since: bStart }).traces;
    expect(inb.map((t) => [t.type, t.dir, t.fate, t.from, t.to])).toEqual([
      ['heartbeat', 'in', 'dropped', 1, 2],
      ['pre-vote', 'in', 'received', 1, 2],
    ]);
    expect(inb[1].bytes).toBe(frameBytes(vote(1, 2, 'pre-vote')));
    expect(b.t.stats().peers['1'].types.heartbeat?.faultDropped).toBe(1);
  });

  it('holds every message MESSAGE_FLIGHT_MS × pace at a pace above 1, in order', async () => {
    const [a, b] = await pair();
    a.t.setPace(10);
    const hold = MESSAGE_FLIGHT_MS * 10;
    const start = a.t.traces.nextSeq;
    const t0 = Date.now();
    a.t.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    await waitFor('the held heartbeats', () => b.received.length === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(hold - 5);
    const traces = a.t.traces.read({ since: start }).traces;
    expect(traces.map((t) => t.fate)).toEqual(['delayed', 'delayed']);
    for (const t of traces) {
      expect(t.delayMs).toBeGreaterThanOrEqual(hold - 1);
      expect(t.delayMs).toBeLessThanOrEqual(hold + 20);
    }
    // The pace's hold is not a fault.
    expect(a.t.stats().peers['2'].types.heartbeat?.faultDelayed).toBe(0);
    expect(a.t.stats().faultDelayed).toBe(0);

    // Back to pace 1 while messages are held: newer ones wait behind them.
    a.t.send([heartbeat(1, 2, 3)]);
    a.t.setPace(1);
    a.t.send([heartbeat(1, 2, 4)]);
    await waitFor('both', () => b.received.length === 4);
    expect(heartbeatSeqs(b)).toEqual([1, 2, 3, 4]);
    const after = a.t.traces.read({ since: start + 2 }).traces;
    expect(after[0].fate).toBe('delayed');
    // Held behind the third, so traced as delayed too, by the time left of its hold.
    expect(after[1].fate).toBe('delayed');
    expect(after[1].delayMs).toBeLessThanOrEqual(hold + 20);

    // At pace 1 with nothing held, messages are not held at all.
    const s2 = a.t.traces.nextSeq;
    a.t.send([heartbeat(1, 2, 5)]);
    await waitFor('the fifth', () => b.received.length === 5);
    expect(a.t.traces.read({ since: s2 }).traces.map((t) => [t.fate, t.delayMs])).toEqual([
      ['sent', 0],
    ]);
    expect(() => a.t.setPace(0)).toThrow(/pace must be an integer in 1..100, got 0/);
    expect(() => a.t.setPace(101)).toThrow(RangeError);
  });

  it("adds a fault rule's delay and the pace's hold", async () => {
    const [a, b] = await pair();
    a.t.setPace(5);
    a.t.faults.setRules([{ to: 2, delayMs: 60 }]);
    const start = a.t.traces.nextSeq;
    const t0 = Date.now();
    a.t.send([heartbeat(1, 2, 1)]);
    await waitFor('the heartbeat', () => b.received.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60 + MESSAGE_FLIGHT_MS * 5 - 5);
    const [t] = a.t.traces.read({ since: start }).traces;
    expect(t.fate).toBe('delayed');
    expect(t.delayMs).toBeGreaterThanOrEqual(60 + MESSAGE_FLIGHT_MS * 5 - 1);
    expect(t.delayMs).toBeLessThanOrEqual(60 + MESSAGE_FLIGHT_MS * 5 + 30);
    expect(t.time).toBeLessThan(t0 + 30);
    // Only the rule's delay is a fault.
    expect(a.t.stats().peers['2'].types.heartbeat?.faultDelayed).toBe(1);
  });

  it('holds no more frames than the queue may hold, dropping the ones beyond', async () => {
    const [a, b] = await pair({ queue: { maxMessages: 3 } });
    a.t.setPace(10);
    const start = a.t.traces.nextSeq;
    const dropped0 = a.t.stats().peers['2'].dropped;
    a.t.send([1, 2, 3, 4, 5].map((i) => heartbeat(1, 2, i)));
    await waitFor('the held heartbeats', () => b.received.length === 3);
    await new Promise((r) => setTimeout(r, MESSAGE_FLIGHT_MS * 10 + 50));
    expect(b.received.length).toBe(3);
    const fates = a.t.traces.read({ since: start }).traces.map((t) => t.fate);
    expect(fates).toEqual(['delayed', 'delayed', 'delayed', 'dropped', 'dropped']);
    expect(a.t.stats().peers['2'].dropped - dropped0).toBe(2);
  });

  it('starts at the pace it is given', async () => {
    const [a, b] = await pair({ pace: 5 });
    const t0 = Date.now();
    a.t.send([heartbeat(1, 2, 1)]);
    await waitFor('the heartbeat', () => b.received.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(MESSAGE_FLIGHT_MS * 5 - 5);
    expect(a.t.currentPace).toBe(5);
  });
});
