import { describe, expect, it } from 'vitest';
import { TrafficMeter, sentToPeers } from '../../main/view/traffic';

const sent = (entries: [number, number, number][]) =>
  new Map(entries.map(([to, msgs, bytes]) => [to, { msgs, bytes }]));

describe('TrafficMeter', () => {
  it('gives msgs/s and bytes/s per directed link over the last second', () => {
    const m = new TrafficMeter();
    for (let i = 0; i <= 20; i++) {
      // 1 → 2: 10 msgs and 1000 bytes per second; 1 → 3: twice that.
      m.feed(
        1,
        i * 100,
        sent([
          [2, i, i * 100],
          [3, 2 * i, i * 200],
        ]),
      );
    }
    const r = m.rates(2000);
    expect(r.get('1-2')).toEqual({ msgsPerSec: 10, bytesPerSec: 1000 });
    expect(r.get('1-3')).toEqual({ msgsPerSec: 20, bytesPerSec: 2000 });
    expect(r.has('2-1')).toBe(false);
  });

  it('follows a change of rate within about a second', () => {
    const m = new TrafficMeter();
    let msgs = 0;
    for (let i = 0; i <= 50; i++) {
      msgs += i <= 30 ? 1 : 5; // 10/s, then 50/s from 3 s on
      m.feed(1, i * 100, sent([[2, msgs, msgs * 10]]));
    }
    expect(m.rates(5000).get('1-2')?.msgsPerSec).toBe(50);
  });

  it('starts a link over when its counters go down (the sender restarted)', () => {
    const m = new TrafficMeter();
    m.feed(1, 0, sent([[2, 1000, 100_000]]));
    m.feed(1, 500, sent([[2, 1005, 100_500]]));
    m.feed(1, 600, sent([[2, 2, 200]]));
    expect(m.rates(600).has('1-2')).toBe(false);
    m.feed(1, 1100, sent([[2, 7, 700]]));
    expect(m.rates(1100).get('1-2')).toEqual({ msgsPerSec: 10, bytesPerSec: 1000 });
  });

  it('has no figures for a sender that went silent, nor after forget', () => {
    const m = new TrafficMeter({ staleMs: 2000 });
    m.feed(
      1,
      0,
      sent([
        [2, 0, 0],
        [3, 0, 0],
      ]),
    );
    m.feed(
      1,
      1000,
      sent([
        [2, 10, 100],
        [3, 10, 100],
      ]),
    );
    m.feed(2, 0, sent([[1, 0, 0]]));
    m.feed(2, 1000, sent([[1, 10, 100]]));
    expect(m.rates(2500).get('1-2')?.msgsPerSec).toBe(10);
    expect(m.rates(3500).has('1-2')).toBe(false);
    m.forget(2);
    expect(m.rates(1000).has('2-1')).toBe(false);
    expect(m.rates(1000).has('1-2')).toBe(false);
    expect(m.rates(1000).has('1-3')).toBe(true);
  });

  it('keeps a bounded history however often it is fed', () => {
    const m = new TrafficMeter();
    for (let i = 0; i < 100_000; i++) m.feed(1, i, sent([[2, i, i]]));
    const size = (m as unknown as { links: Map<string, unknown[]> }).links.get('1-2')!.length;
    expect(size).toBeLessThanOrEqual(1002);
    expect(m.rates(99_999).get('1-2')).toEqual({ msgsPerSec: 1000, bytesPerSec: 1000 });
  });
});

describe('sentToPeers', () => {
  it('sums sent and sentBytes over every message type, per peer', () => {
    const peers = {
      '2': {
        types: {
          heartbeat: { sent: 10, sentBytes: 300, received: 9 },
          app: { sent: 2, sentBytes: 4000 },
        },
      },
      '3': {},
    };
    expect(sentToPeers(peers)).toEqual(new Map([[2, { msgs: 12, bytes: 4300 }]]));
  });
});
