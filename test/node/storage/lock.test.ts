import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, releaseLock } from '../../../main/node/storage/data-dir-lock';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/lock-child.ts', import.meta.url));

/** deadPid is the pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('data dir lock', () => {
  let dir: string;
  const children = new Set<ChildProcess>();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftdeck-lock-'));
  });

  afterEach(async () => {
    for (const c of children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        process.kill(c.pid, 'SIGKILL');
      }
    }
    children.clear();
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken once, refused while held, and free again after release', () => {
    const file = acquireLock(dir);
    expect(file).toBe(join(dir, 'LOCK.0000000000000001'));
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    expect(() => acquireLock(dir)).toThrow(`data dir ${dir} is in use by pid ${process.pid}`);
    expect(() => acquireLock(dir, 'cluster folder')).toThrow(`cluster folder ${dir} is in use`);
    releaseLock(file);
    expect(readFileSync(file, 'utf8')).toBe('');
    const again = acquireLock(dir);
    // Generations only grow; the older one is removed by the new holder.
    expect(again).toBe(join(dir, 'LOCK.0000000000000002'));
    expect(existsSync(file)).toBe(false);
    releaseLock(again);
  });

  it('takes over a lock left by a dead process, and one of the previous format', async () => {
    const pid = await deadPid();
    writeFileSync(join(dir, 'LOCK.0000000000000007'), `${pid}\n`);
    writeFileSync(join(dir, 'LOCK'), `${pid}\n`);
    const file = acquireLock(dir);
    expect(file).toBe(join(dir, 'LOCK.0000000000000008'));
    expect(readdirSync(dir).sort()).toEqual(['LOCK.0000000000000008']);
    releaseLock(file);
    // A live holder of the previous format's lock is honoured.
    writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
    expect(() => acquireLock(dir)).toThrow(`is in use by pid ${process.pid}`);
  });

  it('lets exactly one of many processes racing for it win, fresh or stale', async () => {
    const PROCESSES = 6;
    const ROUNDS = 40;
    const PERIOD = 120;
    const stale = await deadPid();
    for (let r = 0; r < ROUNDS; r++) {
      mkdirSync(join(dir, String(r)));
      // Every other round starts from a lock its dead owner left behind.
      if (r % 2 === 1) writeFileSync(join(dir, String(r), 'LOCK'), `${stale}\n`);
      if (r % 4 === 3) writeFileSync(join(dir, String(r), 'LOCK.0000000000000003'), `${stale}\n`);
    }
    const exits: Promise<number | null>[] = [];
    const ready: Promise<void>[] = [];
    for (let k = 0; k < PROCESSES; k++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', CHILD, dir, String(ROUNDS), String(PERIOD)],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
      );
      children.add(child);
      exits.push(new Promise((resolve) => child.on('exit', (code) => resolve(code))));
      ready.push(new Promise((resolve) => child.stdout!.once('data', () => resolve())));
    }
    await Promise.all(ready);
    const start = Date.now() + 200;
    for (const c of children) c.stdin!.end(`${start}\n`);
    expect(await Promise.all(exits)).toEqual(Array(PROCESSES).fill(0));
    const winners: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const lines = readFileSync(join(dir, String(r), 'results'), 'utf8')
        .trim()
        .split('\n');
      expect(lines, `round ${r}`).toHaveLength(PROCESSES);
      const won = lines.filter((l) => l.startsWith('won'));
      winners.push(won.length);
      for (const l of lines.filter((x) => x.startsWith('lost')))
        expect(l).toMatch(/is in use by pid \d+$/);
    }
    expect(winners).toEqual(Array(ROUNDS).fill(1));
  }, 60_000);
});
