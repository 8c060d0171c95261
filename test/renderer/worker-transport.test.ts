// The static lab build's transport over a fake worker: it asks for the lab first, is connecting
// until the worker says it runs, matches replies to calls by id, hands pushes to their handlers
// in order, and turns a worker that cannot start or fails into errors that name the reason.
import { describe, expect, it } from 'vitest';
import type { LabWorkerInbound, LabWorkerOutbound } from '../../main/contract/lab-worker';
import { labStartOf } from '../../main/contract/lab-worker';
import { createWorkerTransport, type WorkerPort } from '../../renderer/src/api/worker-transport';
import type { ConnectionStatus } from '../../renderer/src/api';

class FakeWorker implements WorkerPort {
  posted: LabWorkerInbound[] = [];
  terminated = false;
  private onMessage: ((e: { data: unknown }) => void)[] = [];
  private onError: ((e: { message?: string }) => void)[] = [];
  postMessage(message: LabWorkerInbound): void {
    this.posted.push(message);
  }
  addEventListener(type: 'message' | 'error', fn: (e: never) => void): void {
    if (type === 'message') this.onMessage.push(fn as (e: { data: unknown }) => void);
    else this.onError.push(fn as (e: { message?: string }) => void);
  }
  terminate(): void {
    this.terminated = true;
  }
  send(data: LabWorkerOutbound): void {
    for (const f of this.onMessage) f({ data });
  }
  fail(message: string): void {
    for (const f of this.onError) f({ message });
  }
}

function open(): {
  worker: FakeWorker;
  states: ConnectionStatus[];
  t: ReturnType<typeof createWorkerTransport>;
} {
  const worker = new FakeWorker();
  const t = createWorkerTransport(worker, { type: 'start', seed: 7, nodes: 5 });
  const states: ConnectionStatus[] = [];
  t.onStatus((s) => states.push(s));
  return { worker, states, t };
}

describe('the worker transport', () => {
  it('starts the lab named in the page, then connects when the worker is ready', () => {
    const { worker, states } = open();
    expect(worker.posted[0]).toEqual({ type: 'start', seed: 7, nodes: 5 });
    expect(states.at(-1)?.state).toBe('connecting');
    worker.send({ type: 'ready' });
    expect(states.at(-1)?.state).toBe('connected');
  });

  it('answers calls by id, in whatever order the replies come', async () => {
    const { worker, t } = open();
    worker.send({ type: 'ready' });
    const a = t.call('kvGet', 'a');
    const b = t.call('killNode', 9);
    const calls = worker.posted.slice(1) as Extract<LabWorkerInbound, { type: 'call' }>[];
    expect(calls.map((c) => [c.name, c.args])).toEqual([
      ['kvGet', ['a']],
      ['killNode', [9]],
    ]);
    worker.send({
      type: 'reply',
      id: calls[1]!.id,
      ok: false,
      status: 400,
      error: 'killNode: no node 9',
    });
    worker.send({ type: 'reply', id: calls[0]!.id, ok: true, value: { ok: true, value: 'x' } });
    await expect(a).resolves.toEqual({ ok: true, value: 'x' });
    await expect(b).rejects.toThrow('killNode: no node 9');
  });

  it('hands pushes to their handlers in order, and stops after unsubscribing', () => {
    const { worker, t } = open();
    const seen: number[] = [];
    const off = t.on('event', (e) => seen.push(e.seq));
    for (const seq of [1, 2, 3]) {
      worker.send({ type: 'push', push: 'event', payload: { seq } as never });
    }
    off();
    worker.send({ type: 'push', push: 'event', payload: { seq: 4 } as never });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('fails the calls in flight and every later call with the reason the lab could not run', async () => {
    const { worker, states, t } = open();
    const inFlight = t.call('getView');
    worker.send({ type: 'failed', error: 'nodes must be 1..9' });
    await expect(inFlight).rejects.toThrow('getView: the lab could not run: nodes must be 1..9');
    await expect(t.call('kvGet', 'k')).rejects.toThrow('the lab could not run');
    expect(states.at(-1)).toMatchObject({
      state: 'connecting',
      error: 'the lab could not run: nodes must be 1..9',
    });
    worker.send({ type: 'ready' });
    expect(states.at(-1)?.state).toBe('connecting');
  });

  it('reports a worker that threw, and terminates the worker when closed', async () => {
    const { worker, states, t } = open();
    worker.send({ type: 'ready' });
    worker.fail('out of memory');
    expect(states.at(-1)?.error).toBe('the lab stopped: out of memory');
    await expect(t.call('getView')).rejects.toThrow('the lab stopped: out of memory');
    t.close();
    expect(worker.terminated).toBe(true);
  });
});

describe('the lab a page asks for', () => {
  it('reads seed and nodes from the query, with defaults', () => {
    expect(labStartOf('?seed=42&nodes=5')).toEqual({ type: 'start', seed: 42, nodes: 5 });
    expect(labStartOf('')).toEqual({ type: 'start', seed: 1, nodes: 3 });
  });

  it.each([
    ['?seed=-1', /seed must be an integer from 0 to 4294967295 \(got "-1"\)/],
    ['?seed=abc', /seed must be an integer/],
    ['?seed=1.5', /seed must be an integer/],
    ['?nodes=0', /nodes must be an integer from 1 to 9 \(got "0"\)/],
    ['?nodes=10', /nodes must be an integer from 1 to 9/],
  ])('refuses %s with a message naming it', (search, message) => {
    const r = labStartOf(search);
    expect('error' in r && r.error).toMatch(message);
  });
});
