import type { Progress } from './progress';
import type { Outgoing, RaftEvent, Snapshot, SnapRespMsg } from './types';

/** SnapshotSendConfig: chunk size, chunks in flight, and heartbeat ticks without progress before a resend. */
export interface SnapshotSendConfig {
  chunkBytes: number;
  window: number;
  retryTicks: number;
}

/** SnapshotSendHost is what snapshot sending needs from the leader it belongs to. */
export interface SnapshotSendHost {
  /** latest: the newest local state-machine image, if any. */
  latest(): Snapshot | undefined;
  send(m: Outgoing): void;
  event(e: RaftEvent): void;
}

/**
 * SnapshotSender sends InstallSnapshot to followers that fell behind the log, in chunks: up to
 * `window` chunks in flight from the first byte the follower has not confirmed (cornerstone's
 * offset/done scheme). A reported gap rewinds to the follower's offset once per gap; a transfer
 * that makes no progress for `retryTicks` heartbeat ticks resends from the confirmed offset. The
 * state of each transfer lives in the follower's Progress (`snap`).
 */
export class SnapshotSender {
  constructor(
    private readonly cfg: SnapshotSendConfig,
    private readonly host: SnapshotSendHost,
  ) {}

  /** start begins sending the latest image to `pr`; false when there is none to send. */
  start(pr: Progress): boolean {
    const s = this.host.latest();
    if (!s) return false;
    pr.becomeSnapshot({
      image: s,
      index: s.meta.index,
      term: s.meta.term,
      total: s.data.length,
      acked: 0,
      sent: 0,
      chunks: 0,
      retries: 0,
      idleTicks: 0,
      lastGap: -1,
    });
    this.host.event({
      type: 'snapshot-send',
      to: pr.id,
      index: s.meta.index,
      total: s.data.length,
    });
    this.sendChunks(pr);
    return true;
  }

  /** sendChunks keeps up to `window` chunks in flight from the first unconfirmed byte. */
  sendChunks(pr: Progress): void {
    const t = pr.snap;
    if (!t) return;
    const latest = this.host.latest();
    if (t.acked === 0 && latest && latest.meta.index > t.index) {
      // Nothing of the image it has is confirmed yet: it may as well get the newest one. Once
      // bytes are confirmed, the transfer keeps its image to the end, whatever we take meanwhile.
      this.start(pr);
      return;
    }
    const s = t.image;
    const chunk = this.cfg.chunkBytes;
    const limit = t.acked + this.cfg.window * chunk;
    let first = true;
    while ((t.sent < t.total && t.sent < limit) || (t.total === 0 && t.sent === 0 && first)) {
      first = false;
      const end = Math.min(t.sent + chunk, t.total);
      this.host.send({
        type: 'snap',
        to: pr.id,
        meta: s.meta,
        offset: t.sent,
        total: t.total,
        data: s.data.subarray(t.sent, end),
        done: end === t.total,
      });
      t.chunks++;
      if (t.total === 0) break;
      t.sent = end;
    }
  }

  /** tick counts a heartbeat tick for `pr`; a transfer idle for retryTicks resends from its confirmed offset. */
  tick(pr: Progress): void {
    if (pr.state === 'snapshot' && pr.snap && ++pr.snap.idleTicks >= this.cfg.retryTicks) {
      const t = pr.snap;
      t.idleTicks = 0;
      t.retries++;
      t.sent = t.acked;
      t.lastGap = -1;
      this.host.event({
        type: 'snapshot-retry',
        to: pr.id,
        index: t.index,
        offset: t.acked,
        retries: t.retries,
      });
      this.sendChunks(pr);
    }
  }

  /**
   * onResp takes the follower's answer to a chunk. It returns true when the follower installed
   * the image: `pr` is then back in probe from the snapshot's index on, and the caller resumes
   * replication with an append.
   */
  onResp(pr: Progress, m: SnapRespMsg): boolean {
    const t = pr.snap;
    if (pr.state !== 'snapshot' || !t || m.snapIndex !== t.index) return false;
    t.idleTicks = 0;
    if (m.done) {
      this.host.event({
        type: 'snapshot-sent',
        to: pr.id,
        index: t.index,
        total: t.total,
        chunks: t.chunks,
        retries: t.retries,
      });
      pr.match = Math.max(pr.match, t.index);
      pr.becomeProbe();
      return true;
    }
    if (m.gap) {
      t.acked = m.nextOffset;
      if (t.lastGap === m.nextOffset) return false;
      t.lastGap = m.nextOffset;
      t.sent = m.nextOffset;
      t.retries++;
      this.host.event({
        type: 'snapshot-retry',
        to: pr.id,
        index: t.index,
        offset: m.nextOffset,
        retries: t.retries,
      });
    } else if (m.nextOffset > t.acked) {
      t.acked = m.nextOffset;
      if (t.sent < t.acked) t.sent = t.acked;
    }
    this.sendChunks(pr);
    return false;
  }
}
