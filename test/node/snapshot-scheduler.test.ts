import { describe, expect, it } from 'vitest';
import { JsonLog } from '../../main/node/logger';
import {
  decideSnapshot,
  SnapshotScheduler,
  type SnapshotCounts,
  type SnapshotHost,
  type SnapshotImage,
} from '../../main/node/snapshot-scheduler';
import type { Snapshot, SnapshotMeta } from '../../main/raft/types';

describe('decideSnapshot', () => {
  const base: SnapshotCounts = {
    applied: 100,
    snapshotIndex: 0,
    bytesSince: 500,
    stateBytes: 1000,
    every: 100,
    requested: false,
  };

  it.each<[string, string, Partial<SnapshotCounts>]>([
    ['every entries, holding half the state in bytes', 'take', {}],
    ['more than half the state', 'take', { bytesSince: 900 }],
    ['one entry short', 'none', { applied: 99 }],
    ['entries counted from the last snapshot', 'none', { applied: 150, snapshotIndex: 60 }],
    ['enough entries but too few bytes to be worth it', 'none', { bytesSince: 499 }],
    ['a state still empty', 'take', { bytesSince: 0, stateBytes: 0 }],
    ['only on request (every 0)', 'none', { every: 0, applied: 10_000, bytesSince: 1e9 }],
    [
      'asked for, with entries since',
      'take',
      { requested: true, every: 0, applied: 61, snapshotIndex: 60 },
    ],
    [
      'asked for, too few bytes',
      'take',
      { requested: true, applied: 61, snapshotIndex: 60, bytesSince: 1 },
    ],
    [
      'asked for, nothing applied since',
      'answer',
      { requested: true, applied: 60, snapshotIndex: 60 },
    ],
    [
      'asked for, a received snapshot ahead',
      'answer',
      { requested: true, applied: 60, snapshotIndex: 80 },
    ],
  ])('%s: %s', (_, want, over) => {
    expect(decideSnapshot({ ...base, ...over })).toBe(want);
  });
});

/** FakeHost records what the scheduler asks of its node; images take `steps` steps. */
class FakeHost implements SnapshotHost {
  log = new JsonLog(undefined, { node: 1 });
  applied = 0;
  bytes = 0;
  steps = 1;
  currentImage = 0;
  stop: Error | undefined;
  compactTo: ((index: number) => SnapshotMeta | undefined) | undefined;
  saveError: Error | undefined;
  readonly calls: string[] = [];
  readonly saved: Snapshot[] = [];
  readonly fatals: Error[] = [];

  appliedIndex(): number {
    return this.applied;
  }
  stateBytes(): number {
    return this.bytes;
  }
  startImage(): SnapshotImage {
    const index = this.applied;
    let left = this.steps;
    this.calls.push(`image ${index}`);
    return {
      index,
      step: (keys) => {
        this.calls.push(`step ${keys}`);
        return --left > 0 ? undefined : new Uint8Array(index);
      },
      abort: () => void this.calls.push('abort'),
    };
  }
  compact(index: number, data: Uint8Array, keep: number): SnapshotMeta | undefined {
    this.calls.push(`compact ${index} keep ${keep}`);
    if (this.compactTo) return this.compactTo(index);
    return { index, term: 1, conf: { voters: [1], learners: [], addresses: {} } } as SnapshotMeta;
  }
  currentBytes(): number {
    return this.currentImage;
  }
  async save(snap: Snapshot): Promise<void> {
    this.calls.push(`save ${snap.meta.index}`);
    if (this.saveError) throw this.saveError;
    this.saved.push(snap);
  }
  stopped(): Error | undefined {
    return this.stop;
  }
  compacted(): void {
    this.calls.push('compacted');
  }
  finished(): void {
    this.calls.push('finished');
  }
  fatal(err: Error): void {
    this.fatals.push(err);
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function scheduler(host: FakeHost, every = 10): SnapshotScheduler {
  return new SnapshotScheduler(host, { every, keep: 5, stepKeys: 64 });
}

describe('SnapshotScheduler', () => {
  it('takes a snapshot once due, and counts entries and bytes again from it', async () => {
    const h = new FakeHost();
    const s = scheduler(h);
    h.bytes = 100;
    for (let i = 1; i <= 9; i++) {
      h.applied = i;
      s.applied(10);
      s.maybeStart();
    }
    expect(s.task).toBeUndefined();
    h.applied = 10;
    s.applied(10);
    s.maybeStart();
    expect(s.task).toBeDefined();
    await s.task;
    expect(h.calls).toEqual([
      'image 10',
      'step 64',
      'compact 10 keep 5',
      'compacted',
      'save 10',
      'finished',
    ]);
    // Ten more entries, but the bytes since were reset when the snapshot began.
    h.applied = 20;
    s.maybeStart();
    expect(s.task).toBeUndefined();
    s.applied(50);
    s.maybeStart();
    expect(s.task).toBeDefined();
    await s.task;
    expect(h.saved.map((x) => x.meta.index)).toEqual([10, 20]);
  });

  it('a received snapshot counts as the last one', () => {
    const h = new FakeHost();
    const s = scheduler(h);
    h.applied = 25;
    s.installed(20);
    s.applied(1000);
    s.maybeStart();
    expect(s.task).toBeUndefined();
    h.applied = 30;
    s.maybeStart();
    expect(s.task).toBeDefined();
  });

  it('answers a request at once when nothing was applied since the last snapshot', async () => {
    const h = new FakeHost();
    const s = scheduler(h, 0);
    h.applied = 40;
    s.installed(40);
    h.currentImage = 123;
    const r = s.request();
    s.maybeStart();
    expect(await r).toEqual({ index: 40, bytes: 123 });
    expect(h.calls).toEqual([]);
  });

  it('writes in steps with turns between; a request meanwhile is served by the next snapshot', async () => {
    const h = new FakeHost();
    const s = scheduler(h, 0);
    h.applied = 7;
    h.steps = 3;
    const first = s.request();
    s.maybeStart();
    const writing = s.task;
    expect(h.calls).toEqual(['image 7', 'step 64']);
    await turn();
    expect(h.calls).toEqual(['image 7', 'step 64', 'step 64']);
    h.applied = 9;
    const second = s.request();
    s.maybeStart(); // one is being written: nothing starts
    expect(s.task).toBe(writing);
    expect(await first).toEqual({ index: 7, bytes: 7 });
    await writing;
    expect(h.calls.at(-1)).toBe('finished');
    s.maybeStart(); // what the node does when told the task finished
    expect(await second).toEqual({ index: 9, bytes: 9 });
  });

  it('a snapshot from the leader that replaced the log meanwhile answers with its index', async () => {
    const h = new FakeHost();
    const s = scheduler(h, 0);
    h.applied = 7;
    h.steps = 2;
    h.compactTo = () => undefined;
    const r = s.request();
    s.maybeStart();
    s.installed(50); // while the image is written
    expect(await r).toEqual({ index: 50, bytes: 0 });
    expect(h.calls).not.toContain('compacted');
    expect(h.saved).toEqual([]);
  });

  it('a failed save rejects the requests and is fatal', async () => {
    const h = new FakeHost();
    const s = scheduler(h, 0);
    h.applied = 7;
    h.saveError = new Error('disk full');
    const r = s.request().catch((e: Error) => e);
    s.maybeStart();
    expect(((await r) as Error).message).toBe('disk full');
    expect(h.fatals.map((e) => e.message)).toEqual(['disk full']);
  });

  it('a node that stops while the image is written aborts it, without a fatal error', async () => {
    const h = new FakeHost();
    const s = scheduler(h, 0);
    h.applied = 7;
    h.steps = 5;
    const r = s.request().catch((e: Error) => e);
    s.maybeStart();
    h.stop = new Error('node is shutting down');
    expect(((await r) as Error).message).toBe('node is shutting down');
    expect(h.calls).toEqual(['image 7', 'step 64', 'abort', 'finished']);
    expect(h.fatals).toEqual([]);
    // Stopped: nothing starts, and the requests left are failed by the node.
    const late = s.request().catch((e: Error) => e);
    s.maybeStart();
    expect(s.task).toBeUndefined();
    s.failRequests(h.stop);
    expect(((await late) as Error).message).toBe('node is shutting down');
  });
});
