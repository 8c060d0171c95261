import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFs } from '../../../main/node/storage/fs-ops';

describe('nodeFs.write', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-fsops-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes small buffers inline and large ones through the thread pool, at their positions', async () => {
    const file = join(dir, 'f');
    const fd = openSync(file, 'w');
    const small = Buffer.alloc(100, 1);
    const large = Buffer.alloc(200 * 1024, 2);
    try {
      const both = [nodeFs.write(fd, large, 100), nodeFs.write(fd, small, 0)];
      expect(await Promise.all(both)).toEqual([large.length, small.length]);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).equals(Buffer.concat([small, large]))).toBe(true);
  });

  it('reports an error of either kind of write as a rejection, never a throw', async () => {
    const fd = openSync(join(dir, 'g'), 'w');
    closeSync(fd);
    for (const size of [10, 200 * 1024]) {
      let p: Promise<number> | undefined;
      expect(() => (p = nodeFs.write(fd, Buffer.alloc(size), 0))).not.toThrow();
      await expect(p).rejects.toThrow(/EBADF/);
    }
  });
});
