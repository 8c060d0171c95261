import type { SnapshotMeta } from '../../raft/types';
import { writeFully, type StorageFs } from './fs-ops';
import { snapCrcUpdate, snapshotFileHeader, snapshotFileTrailer } from './snapshot-file';

/**
 * SPOOL_SYNC_BYTES: a spool makes what it has written durable every this many bytes, so that
 * finishing the file leaves little for its final fsync.
 */
export const SPOOL_SYNC_BYTES = 16 << 20;

const noop = (): void => undefined;

/**
 * SnapshotSpool writes a snapshot image that is still arriving to `<file>.tmp`, beside the Ready
 * loop: the header, then every part as it is handed over (checksummed on the way), each written
 * at its own offset as soon as it comes, with an fdatasync after every SPOOL_SYNC_BYTES.
 * finish() waits for the writes, adds the trailer and completes the file (fsync, rename);
 * abort() removes it. The file is byte for byte what writing the whole snapshot at once
 * produces. An I/O error stops the writing and is reported by finish().
 */
export class SnapshotSpool {
  /** received: image bytes handed over so far. */
  received = 0;
  /** metaJson: the meta as written in the header. */
  readonly metaJson: string;
  private crc: number;
  private pos: number;
  private unsynced = 0;
  private readonly fd: Promise<number>;
  /** writes: the writes not yet known to be done (positional, so they may run side by side). */
  private writes: Promise<void>[] = [];
  private error: unknown;
  private ended = false;

  constructor(
    private readonly fs: StorageFs,
    readonly file: string,
    readonly meta: SnapshotMeta,
    readonly total: number,
    /** after: the file operations of an earlier spool, which must end before this one begins. */
    after: Promise<void>,
  ) {
    this.metaJson = JSON.stringify(meta);
    const header = snapshotFileHeader(meta, total);
    this.crc = snapCrcUpdate(0, header);
    this.pos = header.length;
    this.fd = after.then(() => fs.open(this.tmp, 'w'));
    this.writeAt(header, 0);
  }

  get tmp(): string {
    return `${this.file}.tmp`;
  }

  /** isFor: the spool holds the image of the snapshot at meta's index and term. */
  isFor(meta: SnapshotMeta): boolean {
    return this.meta.index === meta.index && this.meta.term === meta.term;
  }

  /** complete: every byte of the image was handed over. */
  get complete(): boolean {
    return this.received === this.total;
  }

  /** write queues the next `data.length` bytes of the image; it returns at once. */
  write(data: Uint8Array): void {
    if (this.ended) throw new Error('snapshot spool: write after the end');
    if (this.received + data.length > this.total) {
      throw new RangeError(
        `snapshot spool: ${this.received + data.length} bytes exceed the image's ${this.total}`,
      );
    }
    this.crc = snapCrcUpdate(this.crc, data);
    this.received += data.length;
    const at = this.pos;
    this.pos += data.length;
    this.unsynced += data.length;
    this.writeAt(data, at);
    if (this.unsynced >= SPOOL_SYNC_BYTES) {
      this.unsynced = 0;
      // Flush what is written so far while the rest arrives; later writes need not wait for it.
      const before = this.writes;
      this.writes = [
        Promise.all(before)
          .then(async () => {
            if (this.error === undefined) await this.fs.fdatasync(await this.fd);
          })
          .catch((e) => this.fault(e)),
      ];
    }
  }

  private writeAt(data: Uint8Array, at: number): void {
    this.writes.push(
      this.fd
        .then((fd) => (this.error === undefined ? writeFully(this.fs, fd, data, at) : undefined))
        .catch((e) => this.fault(e)),
    );
  }

  /** settle waits until no write is running. */
  private async settle(): Promise<void> {
    while (this.writes.length > 0) await Promise.all(this.writes.splice(0));
  }

  /**
   * finish completes the file once every byte was handed over: trailer, fsync, close, rename.
   * It returns the file's size. The directory is not synced (the caller does that).
   */
  async finish(): Promise<number> {
    this.ended = true;
    await this.settle();
    const fd = await this.fd;
    try {
      if (this.error !== undefined) throw this.error;
      if (!this.complete) {
        throw new Error(`snapshot spool: ${this.received} of ${this.total} bytes received`);
      }
      await writeFully(this.fs, fd, snapshotFileTrailer(this.crc), this.pos);
      await this.fs.fsync(fd);
    } finally {
      await this.fs.close(fd).catch(noop);
    }
    await this.fs.rename(this.tmp, this.file);
    return this.pos + 4;
  }

  /** abort stops writing and removes the partial file; it never rejects. */
  async abort(): Promise<void> {
    this.ended = true;
    await this.settle();
    const fd = await this.fd.catch(() => undefined);
    if (fd !== undefined) await this.fs.close(fd).catch(noop);
    await this.fs.unlink(this.tmp).catch(noop);
  }

  private fault(e: unknown): void {
    this.error ??= e;
  }
}
