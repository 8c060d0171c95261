import type { Snapshot, SnapshotMeta } from '../raft/types';
import type { JsonLog } from './logger';
import { done, failed, Waiters } from './waiters';

/** SnapshotTaken is what a caller of snapshotNow() learns: the snapshot's index and image size. */
export interface SnapshotTaken {
  index: number;
  bytes: number;
}

/** SnapshotCounts are the figures the decision to take a snapshot is made from. */
export interface SnapshotCounts {
  /** applied: the state machine's applied index. */
  applied: number;
  /** snapshotIndex: the index of the last snapshot (taken or installed). */
  snapshotIndex: number;
  /** bytesSince: entry bytes applied after the last snapshot's index. */
  bytesSince: number;
  /** stateBytes: the size of the state the snapshot would write. */
  stateBytes: number;
  /** every: the snapshotEntries option (0: only on request). */
  every: number;
  /** requested: someone asked for a snapshot (snapshotNow). */
  requested: boolean;
}

/**
 * SnapshotDecision: 'none' (nothing to do), 'answer' (asked for, but the last snapshot already
 * covers everything applied: answer with it) or 'take' (write a new one).
 */
export type SnapshotDecision = 'none' | 'answer' | 'take';

/**
 * decideSnapshot says whether a snapshot is due. It is due after `every` entries, once they also
 * hold half as many bytes as the state: a snapshot rewrites the whole state, so that keeps its
 * cost in proportion to what was written. A request makes one due at once.
 */
export function decideSnapshot(c: SnapshotCounts): SnapshotDecision {
  const due =
    c.every > 0 && c.applied - c.snapshotIndex >= c.every && c.bytesSince * 2 >= c.stateBytes;
  if (!due && !c.requested) return 'none';
  if (c.applied <= c.snapshotIndex) return 'answer';
  return 'take';
}

/** SnapshotImage writes one state-machine image in steps (KvSnapshotJob). */
export interface SnapshotImage {
  /** index: the applied index the image is taken at. */
  readonly index: number;
  /** step writes up to `keys` more keys; the whole image once it is finished. */
  step(keys: number): Uint8Array | undefined;
  abort(): void;
}

/** SnapshotHost is what the scheduler needs of the node that hosts it. */
export interface SnapshotHost {
  log: JsonLog;
  /** appliedIndex: the state machine's applied index. */
  appliedIndex(): number;
  /** stateBytes: the state machine's size. */
  stateBytes(): number;
  /** startImage starts an image of the state as of now. */
  startImage(): SnapshotImage;
  /** compact hands the image to the core, which compacts its log (undefined: it is stale). */
  compact(index: number, data: Uint8Array, keep: number): SnapshotMeta | undefined;
  /** currentBytes: the size of the core's current snapshot image (0: none). */
  currentBytes(): number;
  /** save writes the snapshot durably. */
  save(snap: Snapshot): Promise<void>;
  /** stopped: why the node stopped, or undefined while it runs. */
  stopped(): Error | undefined;
  /** compacted: the core's log changed; the Ready loop should run. */
  compacted(): void;
  /** finished: the snapshot being written is done (or failed); the loop should look again. */
  finished(): void;
  /** fatal: an unrecoverable error while the node runs; it must stop. */
  fatal(err: Error): void;
}

/** SnapshotSchedulerOptions are the node's snapshot options. */
export interface SnapshotSchedulerOptions {
  /** every: snapshotEntries (see decideSnapshot). */
  every: number;
  /** keep: entries kept in the log behind a snapshot, for followers a little behind. */
  keep: number;
  /** stepKeys: keys written per step before other work gets a turn. */
  stepKeys: number;
}

/**
 * SnapshotScheduler decides when a node takes a snapshot of its own and writes it beside the Ready
 * loop: the image is taken as of now and encoded stepKeys keys at a time, yielding to other work
 * (setImmediate) between steps while entries go on being applied; then the core compacts its log
 * and the file is saved. At most one snapshot is written at a time. Requests (snapshotNow) that
 * come while one is written are served by the next one, never by the one already started.
 */
export class SnapshotScheduler {
  private snapshotIndex = 0;
  private bytesSince = 0;
  private writing: Promise<void> | undefined;
  /** requests: callers waiting for a snapshot, keyed by the round that will serve them. */
  private readonly requests = new Waiters<number, SnapshotTaken>(
    () => new Error('a snapshot request never times out'),
  );
  /** round: the round new requests join; it is taken when a snapshot starts. */
  private round = 0;

  constructor(
    private readonly host: SnapshotHost,
    private readonly o: SnapshotSchedulerOptions,
  ) {}

  /** task: the snapshot being written, if any (a received snapshot is saved after it). */
  get task(): Promise<void> | undefined {
    return this.writing;
  }

  /** installed records a snapshot restored at start or received from the leader. */
  installed(index: number): void {
    this.snapshotIndex = index;
    this.bytesSince = 0;
  }

  /** applied counts the bytes of an applied entry. */
  applied(bytes: number): void {
    this.bytesSince += bytes;
  }

  /** request waits for a snapshot taken from now on (the caller then runs maybeStart). */
  request(): Promise<SnapshotTaken> {
    return this.requests.wait(this.round, Infinity, undefined);
  }

  /** failRequests rejects the requests no snapshot will serve (the node stopped). */
  failRequests(err: Error): void {
    this.requests.failAll(err);
  }

  /** maybeStart starts writing a snapshot when one is due (or asked for) and none is written. */
  maybeStart(): void {
    const h = this.host;
    if (this.writing !== undefined || h.stopped()) return;
    const applied = h.appliedIndex();
    const decision = decideSnapshot({
      applied,
      snapshotIndex: this.snapshotIndex,
      bytesSince: this.bytesSince,
      stateBytes: h.stateBytes(),
      every: this.o.every,
      requested: this.requests.has(this.round),
    });
    if (decision === 'none') return;
    const round = this.round++;
    if (decision === 'answer') {
      this.requests.settle(round, done({ index: this.snapshotIndex, bytes: h.currentBytes() }));
      return;
    }
    this.bytesSince = 0;
    this.writing = this.write(h.startImage(), round).finally(() => {
      this.writing = undefined;
      // Requests that came meanwhile, or a snapshot due again under heavy load.
      h.finished();
    });
  }

  private async write(job: SnapshotImage, round: number): Promise<void> {
    const h = this.host;
    const started = Date.now();
    try {
      let data: Uint8Array | undefined;
      while ((data = job.step(this.o.stepKeys)) === undefined) {
        await new Promise((r) => setImmediate(r));
        const stopped = h.stopped();
        if (stopped) {
          job.abort();
          throw stopped;
        }
      }
      const meta = h.compact(job.index, data, this.o.keep);
      if (!meta) {
        // A snapshot from the leader replaced the log meanwhile.
        this.requests.settle(round, done({ index: this.snapshotIndex, bytes: 0 }));
        return;
      }
      h.compacted();
      await h.save({ meta, data });
      this.snapshotIndex = meta.index;
      h.log.info('snapshot taken', {
        index: meta.index,
        bytes: data.length,
        ms: Date.now() - started,
      });
      this.requests.settle(round, done({ index: meta.index, bytes: data.length }));
    } catch (e) {
      this.requests.settle(round, failed(e as Error));
      if (!h.stopped()) h.fatal(e as Error);
    }
  }
}
