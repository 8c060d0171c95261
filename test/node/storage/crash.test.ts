import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../../main/node/storage/file-storage';
import { entry, plain } from './fixtures/entries';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

/** runChild writes until SIGKILLed ~300 ms after it starts writing; returns the last synced index it reported. */
async function runChild(dir: string, segmentBytes: number, track: Set<ChildProcess>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(segmentBytes)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track.add(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  let err = '';
  let synced = 0;
  let killer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('ready')) {
        killer ??= setTimeout(() => child.kill('SIGKILL'), 300);
      } else if (line !== '') {
        synced = Math.max(synced, Number(line));
      }
    }
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    await exited;
  } finally {
    clearTimeout(guard);
    clearTimeout(killer);
    track.delete(child);
  }
  expect(child.signalCode, `child stderr: ${err}`).toBe('SIGKILL');
  expect(killer, 'the child never became ready').toBeDefined();
  return synced;
}

describe('FileStorage crash safety', () => {
  let dir: string;
  const children = new Set<ChildProcess>();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-crash-'));
  });

  afterEach(async () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGKILL');
      }
    }
    children.clear();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['64 KiB segments', 64 * 1024],
    ['4 KiB segments', 4096],
  ])('keeps every index a SIGKILLed writer reported as synced (%s)', async (_name, bytes) => {
    let reported = 0;
    for (let round = 0; round < 3; round++) {
      reported = Math.max(reported, await runChild(dir, bytes, children));
      expect(reported).toBeGreaterThan(0);
      const s = new FileStorage({ dir, segmentBytes: bytes });
      try {
        const state = await s.load();
        const last = state.entries.at(-1)?.index ?? 0;
        expect(last).toBeGreaterThanOrEqual(reported);
        const expected = [];
        for (let i = 1; i <= last; i++) expected.push(entry(i, 1));
        expect(plain(state.entries)).toEqual(plain(expected));
        expect(state.hardState.commit).toBeLessThanOrEqual(last);
        expect(state.hardState.commit).toBeGreaterThanOrEqual(Math.max(0, reported - 7));
      } finally {
        await s.close();
      }
    }
  });
});
