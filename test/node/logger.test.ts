/**
 * JsonLog's bounds: a burst of one kind of line is written up to the repeat limit and then
 * collapsed into one count line, in the file and in the memory ring alike; the file rotates at
 * its size limit and keeps the configured number of rotated files; readLogTail reads across a
 * rotation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLog, logKind, readLogTail, type LogLine } from '../../main/node/logger';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftdeck-log-'));
  dirs.push(d);
  return d;
}

function lines(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine);
}

describe('JsonLog repeat limit', () => {
  it('treats lines that differ only in numbers or quoted strings as one kind', () => {
    const a = logKind('warn', 'refused connection from 127.0.0.1:50123: cluster "abc" unknown');
    const b = logKind('warn', 'refused connection from 127.0.0.1:61000: cluster "zz" unknown');
    expect(a).toBe(b);
    expect(logKind('info', 'refused connection from 127.0.0.1:1: cluster "a" unknown')).not.toBe(a);
  });

  it('collapses a burst into a count line once its window has passed', async () => {
    const file = join(tmp(), 'node.log');
    let now = 1_000_000;
    const log = new JsonLog(
      file,
      { node: 3 },
      { repeatLimit: 5, repeatWindowMs: 10_000, now: () => now },
    );
    for (let i = 0; i < 100_000; i++) {
      log.warn(`refused connection from 127.0.0.1:${10_000 + (i % 50_000)}: bad-hello`, { i });
    }
    log.info('something else');
    expect(log.recent(100).map((l) => l.msg)).toHaveLength(6);
    now += 10_000;
    log.flushRepeats();
    await log.close();

    const got = lines(file);
    expect(got).toHaveLength(7);
    expect(got.slice(0, 5).map((l) => l.i)).toEqual([0, 1, 2, 3, 4]);
    expect(got[5]!.msg).toBe('something else');
    const summary = got[6]!;
    expect(summary).toMatchObject({
      level: 'warn',
      node: 3,
      msg: '…repeated 99,995 times: refused connection from 127.0.0.1:59999: bad-hello',
      repeated: 99_995,
      windowMs: 10_000,
      i: 99_999,
    });
    expect(log.suppressed).toBe(99_995);
    // The ring that admin log streaming reads holds the same lines as the file.
    expect(log.recent(100).map((l) => l.msg)).toEqual(got.map((l) => l.msg));
  });

  it('writes the count when the same kind comes back after the window, then allows a new burst', async () => {
    const file = join(tmp(), 'node.log');
    let now = 0;
    const log = new JsonLog(file, {}, { repeatLimit: 2, repeatWindowMs: 1000, now: () => now });
    for (let i = 0; i < 5; i++) log.error(`disk ${i} failed`);
    now = 1500;
    log.error('disk 9 failed');
    await log.close();
    expect(lines(file).map((l) => l.msg)).toEqual([
      'disk 0 failed',
      'disk 1 failed',
      '…repeated 3 times: disk 4 failed',
      'disk 9 failed',
    ]);
  });
});

describe('JsonLog rotation', () => {
  it('rotates before the file would pass the size limit and keeps the configured number of files', async () => {
    const dir = tmp();
    const file = join(dir, 'node.log');
    const log = new JsonLog(file, {}, { maxFileBytes: 10_000, keepFiles: 2, repeatLimit: 0 });
    for (let i = 0; i < 1000; i++) log.info(`line ${i}`, { pad: 'x'.repeat(60) });
    await log.close();

    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) {
      expect(statSync(f).size).toBeLessThanOrEqual(10_000);
    }
    expect(log.rotations).toBeGreaterThan(5);
    // Lines are in order across the files, and the newest are all there.
    const kept = [...lines(`${file}.2`), ...lines(`${file}.1`), ...lines(file)].map((l) => l.msg);
    const first = Number(kept[0]!.split(' ')[1]);
    expect(kept).toEqual(Array.from({ length: 1000 - first }, (_, k) => `line ${first + k}`));
    // readLogTail reads the newest lines across a rotation (node.log holds fewer than 100).
    expect(lines(file).length).toBeLessThan(100);
    const tail = readLogTail(file, 100).map((l) => (JSON.parse(l) as LogLine).msg);
    expect(tail).toEqual(Array.from({ length: 100 }, (_, k) => `line ${900 + k}`));
  });

  it('appends to an existing file and counts its size', async () => {
    const file = join(tmp(), 'node.log');
    const first = new JsonLog(file, {}, { maxFileBytes: 1000 });
    first.info('x'.repeat(700));
    await first.close();
    const second = new JsonLog(file, {}, { maxFileBytes: 1000 });
    second.info('y'.repeat(700));
    await second.close();
    expect(lines(`${file}.1`).map((l) => l.msg[0])).toEqual(['x']);
    expect(lines(file).map((l) => l.msg[0])).toEqual(['y']);
  });
});
