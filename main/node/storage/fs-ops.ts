import {
  close,
  fdatasync,
  fsync,
  ftruncate,
  open,
  rename,
  unlink,
  write,
  writeSync,
  writev,
  type NoParamCallback,
} from 'node:fs';

/**
 * StorageFs is the file-system surface FileStorage writes through: plain fds, positional writes.
 * Tests replace single calls to inject I/O errors or count fsyncs.
 */
export interface StorageFs {
  open(path: string, flags: string): Promise<number>;
  /** write writes buf at `position`; it may write fewer bytes than asked (the caller loops). */
  write(fd: number, buf: Uint8Array, position: number): Promise<number>;
  /** writev writes the buffers back to back at `position` in one call; it may write fewer bytes. */
  writev(fd: number, bufs: Uint8Array[], position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

function done(resolve: () => void, reject: (e: Error) => void): NoParamCallback {
  return (err) => (err ? reject(err) : resolve());
}

/**
 * INLINE_WRITE_BYTES: a write this small (a typical WAL batch) is made on the calling thread. It
 * only copies into the page cache, which takes less than handing it to the thread pool and being
 * woken when it is done; the fdatasync that follows still goes to the thread pool.
 */
const INLINE_WRITE_BYTES = 64 * 1024;

/**
 * nodeFs is StorageFs over node:fs callbacks (no FileHandle objects, one libuv request per call;
 * small writes inline).
 */
export const nodeFs: StorageFs = {
  open: (path, flags) =>
    new Promise((resolve, reject) => {
      open(path, flags, 0o600, (err, fd) => (err ? reject(err) : resolve(fd)));
    }),
  write: (fd, buf, position) => {
    if (buf.length <= INLINE_WRITE_BYTES) {
      try {
        return Promise.resolve(writeSync(fd, buf, 0, buf.length, position));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return new Promise((resolve, reject) => {
      write(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
    });
  },
  writev: (fd, bufs, position) =>
    new Promise((resolve, reject) => {
      writev(fd, bufs as NodeJS.ArrayBufferView[], position, (err, n) =>
        err ? reject(err) : resolve(n),
      );
    }),
  fdatasync: (fd) => new Promise((resolve, reject) => fdatasync(fd, done(resolve, reject))),
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, done(resolve, reject))),
  ftruncate: (fd, length) =>
    new Promise((resolve, reject) => ftruncate(fd, length, done(resolve, reject))),
  close: (fd) => new Promise((resolve, reject) => close(fd, done(resolve, reject))),
  rename: (from, to) => new Promise((resolve, reject) => rename(from, to, done(resolve, reject))),
  unlink: (path) => new Promise((resolve, reject) => unlink(path, done(resolve, reject))),
};

/** writeFully writes all of b at `position` through `fs`, looping over short writes. */
export async function writeFully(
  fs: StorageFs,
  fd: number,
  b: Uint8Array,
  position: number,
): Promise<void> {
  let pos = position;
  let rest = b;
  while (rest.length > 0) {
    const n = await fs.write(fd, rest, pos);
    pos += n;
    rest = rest.subarray(n);
  }
}
