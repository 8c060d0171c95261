/**
 * The trace ring (every message type read back as headerOf gives it, bounded, read by seq and
 * peer) and the sampler (a budget per link and message type per one-second window, counts for
 * the rest), on a fake clock; and the per-type counters of a CounterTable.
 */
import { describe, expect, it } from 'vitest';
import { FATE, IN, OUT, TraceRing, TraceSampler } from '../../../main/node/transport/message-trace';
import { MESSAGE_TYPE_CODES } from '../../../main/node/transport/codec';
import { CounterTable, TC } from '../../../main/node/transport/stats';
import { headerOf } from '../../../main/raft/message-header';
import type { Message, MessageType } from '../../../main/raft/types';
import { heartbeat, sampleMessages, vote } from './helpers';

function app(from: number, to: number, n = 2): Message {
  return {
    type: 'app',
    from,
    to,
    term: 3,
    prevIndex: 10,
    prevTerm: 2,
    entries: Array.from({ length: n }, (_, i) => ({
      index: 11 + i,
      term: 3,
      type: 'normal' as const,
      data: new Uint8Array(5),
    })),
    commit: 9,
  };
}

describe('TraceRing', () => {
  it('reads back every message type with the header headerOf gives, and what became of it', () => {
    const ring = new TraceRing(64);
    const msgs = sampleMessages();
    msgs.forEach((m, i) =>
      ring.record(i % 2 === 0 ? OUT : IN, i % 4, m, i * 10, 100 + i, 1_000_000 + i),
    );
    const { traces, nextSeq } = ring.read();
    expect(nextSeq).toBe(msgs.length + 1);
    expect(traces).toEqual(
      msgs.map((m, i) => ({
        ...headerOf(m),
        seq: i + 1,
        time: 1_000_000 + i,
        dir: i % 2 === 0 ? 'out' : 'in',
        fate: (['sent', 'delayed', 'dropped', 'received'] as const)[i % 4],
        delayMs: i * 10,
        bytes: 100 + i,
      })),
    );
    // A rejected app-resp carries its hint, an accepted one none.
    const resp = traces.filter((t) => t.type === 'app-resp');
    expect(resp.map((t) => [t.reject, t.hint])).toEqual([
      [false, undefined],
      [true, 7],
    ]);
  });

  it('keeps only the latest `capacity` traces, in seq order', () => {
    const ring = new TraceRing(8);
    for (let i = 0; i < 20; i++) ring.record(OUT, FATE.sent, heartbeat(1, 2, i), 0, 20, i);
    expect(ring.oldestSeq).toBe(13);
    const all = ring.read({ since: 1 });
    expect(all.traces.map((t) => t.seq)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(all.nextSeq).toBe(21);
    expect(ring.trace(12)).toBeUndefined();
    expect(ring.trace(21)).toBeUndefined();
    expect(ring.trace(20)?.time).toBe(19);
  });

  it('reads from a seq, for one peer, up to a limit, and says where to go on', () => {
    const ring = new TraceRing(100);
    for (let i = 0; i < 10; i++) {
      ring.record(OUT, FATE.sent, heartbeat(1, 2 + (i % 3), i), 0, 20, i);
    }
    ring.record(IN, FATE.received, vote(4, 1), 0, 30, 10);
    const to3 = ring.read({ peer: 3 });
    expect(to3.traces.map((t) => t.seq)).toEqual([2, 5, 8]);
    const first = ring.read({ peer: 4, limit: 2 });
    expect(first.traces.map((t) => [t.seq, t.from, t.to])).toEqual([
      [3, 1, 4],
      [6, 1, 4],
    ]);
    expect(first.nextSeq).toBe(7);
    const rest = ring.read({ peer: 4, since: first.nextSeq });
    expect(rest.traces.map((t) => t.seq)).toEqual([9, 11]);
    expect(rest.nextSeq).toBe(12);
    // Nothing new: nextSeq stays where it was asked.
    expect(ring.read({ since: 12 })).toEqual({ traces: [], nextSeq: 12 });
    expect(ring.read({ since: 40 })).toEqual({ traces: [], nextSeq: 40 });
    expect(ring.read({ limit: 100_000 }).traces).toHaveLength(11);
  });

  it('tells listeners of out traces only', () => {
    const ring = new TraceRing(16);
    const heard: number[] = [];
    const stop = ring.listen({ offer: (_, seq) => heard.push(seq) });
    ring.record(OUT, FATE.sent, heartbeat(1, 2, 0), 0, 20, 0);
    ring.record(IN, FATE.received, heartbeat(2, 1, 0), 0, 20, 0);
    ring.record(OUT, FATE.dropped, heartbeat(1, 3, 0), 0, 0, 0);
    stop();
    ring.record(OUT, FATE.sent, heartbeat(1, 2, 1), 0, 20, 0);
    expect(heard).toEqual([1, 3]);
    expect(ring.listening).toBe(0);
  });
});

describe('TraceSampler', () => {
  it('passes at most N per link and message type per second, and counts the rest per link', () => {
    let now = 5000;
    const ring = new TraceRing(4096);
    const sampler = new TraceSampler(3, () => now);
    ring.listen(sampler);
    // 10 heartbeats and 10 appends to each of 2 and 3, and two votes to 2, in one second.
    for (let i = 0; i < 10; i++) {
      for (const to of [2, 3]) {
        ring.record(OUT, FATE.sent, heartbeat(1, to, i), 0, 20, now);
        ring.record(OUT, FATE.delayed, app(1, to), 200, 90, now);
      }
      now += 50;
    }
    ring.record(OUT, FATE.sent, vote(1, 2), 0, 30, now);
    ring.record(OUT, FATE.dropped, vote(1, 2, 'pre-vote'), 0, 0, now);
    // In traces are never sampled.
    ring.record(IN, FATE.received, heartbeat(2, 1, 0), 0, 20, now);
    const a = sampler.drain();
    const count = (to: number, type: MessageType): number =>
      a.traces.filter((t) => t.to === to && t.type === type).length;
    expect([
      count(2, 'heartbeat'),
      count(2, 'app'),
      count(3, 'heartbeat'),
      count(3, 'app'),
    ]).toEqual([3, 3, 3, 3]);
    expect([count(2, 'vote'), count(2, 'pre-vote')]).toEqual([1, 1]);
    expect(a.traces.find((t) => t.type === 'pre-vote')?.fate).toBe('dropped');
    expect(a.traces.every((t) => t.dir === 'out')).toBe(true);
    expect(a.skipped).toEqual({ '1-2': 14, '1-3': 14 });
    // Picked traces come in seq order, built as the ring had them.
    const seqs = a.traces.map((t) => t.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(a.traces[1]).toEqual(ring.trace(a.traces[1].seq));
    expect(sampler.empty).toBe(true);
    expect(sampler.drain()).toEqual({ traces: [], skipped: {} });

    // Still in the same window (started at 5000): the budget is spent.
    now = 5999;
    ring.record(OUT, FATE.sent, heartbeat(1, 2, 99), 0, 20, now);
    expect(sampler.drain()).toEqual({ traces: [], skipped: { '1-2': 1 } });
    // A new window: the budget is back.
    now = 6000;
    for (let i = 0; i < 4; i++) ring.record(OUT, FATE.sent, heartbeat(1, 2, i), 0, 20, now);
    const b = sampler.drain();
    expect(b.traces).toHaveLength(3);
    expect(b.skipped).toEqual({ '1-2': 1 });
  });

  it('keeps the traces it picked even when the ring wraps before the drain', () => {
    const ring = new TraceRing(4);
    const sampler = new TraceSampler(100, () => 0);
    ring.listen(sampler);
    for (let i = 0; i < 10; i++) ring.record(OUT, FATE.sent, heartbeat(1, 2, i), 0, 20, i);
    expect(sampler.drain().traces.map((t) => t.time)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('holds a bounded number of picked traces between drains', () => {
    const ring = new TraceRing(64);
    const sampler = new TraceSampler(1000, () => 0, 5);
    ring.listen(sampler);
    for (let i = 0; i < 8; i++) ring.record(OUT, FATE.sent, heartbeat(1, 2, i), 0, 20, i);
    const d = sampler.drain();
    expect(d.traces).toHaveLength(5);
    expect(d.skipped).toEqual({ '1-2': 3 });
  });
});

describe('CounterTable per message type', () => {
  it('counts per peer and type, and lists only the types seen', () => {
    const c = new CounterTable();
    const hb = MESSAGE_TYPE_CODES.heartbeat;
    const snap = MESSAGE_TYPE_CODES.snap;
    c.countType(2, hb, TC.sent);
    c.countType(2, hb, TC.sentBytes, 21);
    c.countTypeBytes(2, hb, TC.sent, 21);
    c.countTypeBytes(2, snap, TC.received, 4096);
    c.countType(3, hb, TC.faultDropped);
    c.countType(3, hb, TC.faultDelayed, 2);
    const zero = {
      sent: 0,
      sentBytes: 0,
      received: 0,
      receivedBytes: 0,
      faultDropped: 0,
      faultDelayed: 0,
    };
    expect(c.types(2)).toEqual({
      heartbeat: { ...zero, sent: 2, sentBytes: 42 },
      snap: { ...zero, received: 1, receivedBytes: 4096 },
    });
    expect(c.types(3)).toEqual({ heartbeat: { ...zero, faultDropped: 1, faultDelayed: 2 } });
    expect(c.types(4)).toEqual({});
  });
});
