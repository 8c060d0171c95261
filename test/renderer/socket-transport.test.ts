// @vitest-environment happy-dom
// The browser transport over a fake WebSocket: calls and replies match by id, pushes reach their
// handlers, a lost connection fails calls in flight and reconnects with backoff, reporting each
// state so the page can show its banner.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { socketUrl } from '../../renderer/src/api';
import { createSocketTransport } from '../../renderer/src/api/socket-transport';
import type { ConnectionStatus } from '../../renderer/src/api';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(reason = 'gone') {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason });
  }
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

const make = () =>
  createSocketTransport('ws://127.0.0.1:1/ws?token=t', {
    WebSocketImpl: FakeSocket as unknown as new (url: string) => WebSocket,
  });

describe('socket transport', () => {
  it('builds the socket URL from the page URL and its token', () => {
    expect(socketUrl({ protocol: 'http:', host: '127.0.0.1:8080', search: '?token=a%2Bb' })).toBe(
      'ws://127.0.0.1:8080/ws?token=a%2Bb',
    );
  });

  it('matches replies to calls by id', async () => {
    const t = make();
    const ws = FakeSocket.all[0]!;
    ws.open();
    const a = t.call('kvGet', 'a');
    const b = t.call('killNode', 2);
    const [ma, mb] = ws.sent.map((s) => JSON.parse(s));
    expect(ma).toEqual({ type: 'call', id: 1, name: 'kvGet', args: ['a'] });
    expect(mb).toEqual({ type: 'call', id: 2, name: 'killNode', args: [2] });
    ws.receive({ type: 'reply', id: 2, ok: false, status: 500, error: 'killNode: nope' });
    ws.receive({ type: 'reply', id: 1, ok: true, value: { ok: true, value: 'x' } });
    await expect(b).rejects.toThrow('killNode: nope');
    await expect(a).resolves.toEqual({ ok: true, value: 'x' });
  });

  it('delivers pushes to their handlers', () => {
    const t = make();
    const ws = FakeSocket.all[0]!;
    ws.open();
    const seen: number[] = [];
    const off = t.on('event', (e) => seen.push(e.seq));
    ws.receive({ type: 'push', push: 'event', payload: { seq: 3 } });
    off();
    ws.receive({ type: 'push', push: 'event', payload: { seq: 4 } });
    expect(seen).toEqual([3]);
  });

  it('fails calls in flight on a drop, refuses calls while down, and reconnects', async () => {
    const t = make();
    const states: ConnectionStatus[] = [];
    t.onStatus((s) => states.push(s));
    const ws = FakeSocket.all[0]!;
    ws.open();
    const pending = t.call('getView');
    ws.drop();
    await expect(pending).rejects.toThrow(/connection was lost/);
    await expect(t.call('getView')).rejects.toThrow(/disconnected/);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'connected', 'reconnecting']);
    expect(states[2]!.attempt).toBe(1);

    vi.advanceTimersByTime(250);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.drop();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 2 });
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2]!.open();
    expect(states.at(-1)).toMatchObject({ state: 'connected', attempt: 0 });
    t.close();
  });
});
