// The floor system (test/bench/floor.ts, floor-node.ts) with real processes: it replicates every
// put to the followers' log files, answers only once a majority (the leader's own sync among it)
// holds the put, and leaves no process behind, also when starting fails.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildFloorBundle,
  diskFloorMBps,
  loopbackFloorMBps,
  readFloorTimelines,
  startFloor,
  type FloorCluster,
  type FloorCommand,
} from './floor';
import { openPutter } from './clients';
import { FloorClient } from './floor-client';
import { FLOOR_LOG, FrameReader, MAX_FRAME_BYTES } from './floor-node';

let root: string;
let cmd: FloorCommand;
let cluster: FloorCluster | undefined;
let client: FloorClient | undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const value = Buffer.alloc(128, 120);

/** processesUnder: pids of live processes whose command line names `dir`. */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** settled reports whether the promise settles within ms (without failing on a rejection). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(ms);
  return done;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'raftdeck-floor-test-'));
  cmd = await buildFloorBundle(root);
});

afterEach(async () => {
  const c = cluster;
  cluster = undefined;
  // Continue any paused member first, so that it can take the SIGTERM.
  for (const pid of c?.pids() ?? []) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  await client?.close();
  client = undefined;
  await c?.stop();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the floor cluster', () => {
  it('stamps each put on the leader and the followers when started with a timeline', async () => {
    cluster = await startFloor({ root, floorCommand: cmd }, 'timeline', 3, { timeline: 64 });
    client = new FloorClient(cluster.client);
    for (let i = 0; i < 10; i++) await client.put(`tl-${i}`.padEnd(16, '0'), value);
    const [leader, ...followers] = await readFloorTimelines(cluster);
    expect(leader!.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const s of leader!) {
      // received ≤ sent to the followers ≤ own sync; the ack came from a follower
      expect(s.received).toBeGreaterThan(0);
      expect(s.appended).toBeGreaterThanOrEqual(s.received);
      expect(s.synced).toBeGreaterThanOrEqual(s.appended);
      expect([2, 3]).toContain(s.ackFrom);
      expect(s.acked).toBeGreaterThanOrEqual(s.appended);
      // a majority: the leader's own sync and one follower, or both followers before it
      expect(s.committed).toBeGreaterThanOrEqual(s.acked);
      const f = followers[s.ackFrom - 2]!.find((x) => x.index === s.index)!;
      expect(f.appended).toBeGreaterThanOrEqual(s.appended);
      expect(f.synced).toBeGreaterThanOrEqual(f.appended);
      expect(s.acked).toBeGreaterThanOrEqual(f.synced);
    }
  });

  it('replicates every put to each member’s log file', async () => {
    cluster = await startFloor({ root, floorCommand: cmd }, 'replicates', 3);
    // The putter the load threads open for the floor.
    const putter = openPutter({ system: 'floor', endpoints: [cluster.client] });
    const keys = Array.from({ length: 20 }, (_, i) => `floor-key-${String(i).padStart(6, '0')}`);
    try {
      // Pipelined: all twenty in flight at once.
      await Promise.all(keys.map((k) => putter.put(k, value)));
    } finally {
      await putter.close();
    }
    const [, ...followers] = cluster.dirs;
    expect(followers).toHaveLength(2);
    // The leader answered once one follower acknowledged; the other may still be writing.
    const holding = (dir: string): number => {
      const log = readFileSync(join(dir, FLOOR_LOG));
      return keys.filter((k) => log.includes(Buffer.from(k))).length;
    };
    expect(holding(cluster.dirs[0]!)).toBe(keys.length);
    expect(Math.max(...followers.map(holding))).toBe(keys.length);
    for (let i = 0; i < 100 && !followers.every((d) => holding(d) === keys.length); i++)
      await sleep(20);
    for (const d of followers) expect(holding(d)).toBe(keys.length);
  });

  it('does not answer a put until a follower acknowledges it', async () => {
    cluster = await startFloor({ root, floorCommand: cmd }, 'waits', 3);
    client = new FloorClient(cluster.client);
    await client.put('before-pause', value);
    const [, f2, f3] = cluster.procs;
    process.kill(f2!.proc.pid!, 'SIGSTOP');
    process.kill(f3!.proc.pid!, 'SIGSTOP');
    const put = client.put('while-paused-key', value);
    expect(await settledWithin(put, 500)).toBe(false);
    // The leader's own copy is on disk: it waits for the acknowledgement, not for itself.
    expect(readFileSync(join(cluster.dirs[0]!, FLOOR_LOG)).includes('while-paused-key')).toBe(true);
    process.kill(f3!.proc.pid!, 'SIGCONT');
    await put;
    expect(readFileSync(join(cluster.dirs[2]!, FLOOR_LOG)).includes('while-paused-key')).toBe(true);
  });

  it('needs a majority of five: the leader and two followers', async () => {
    cluster = await startFloor({ root, floorCommand: cmd }, 'five', 5);
    client = new FloorClient(cluster.client);
    await client.put('warm', value);
    const followers = cluster.procs.slice(1).map((p) => p.proc.pid!);
    expect(followers).toHaveLength(4);
    for (const pid of followers.slice(1)) process.kill(pid, 'SIGSTOP');
    // The leader and one follower are two of five: not enough.
    const put = client.put('needs-three', value);
    expect(await settledWithin(put, 500)).toBe(false);
    process.kill(followers[1]!, 'SIGCONT');
    await put;
  });

  it('stops the members it started when the leader cannot start', async () => {
    // A floor program whose leader exits at once; followers run as usual.
    const script = join(root, 'broken-floor-node.mjs');
    writeFileSync(
      script,
      `if (JSON.parse(process.argv[2]).role === 'leader') process.exit(3);\nawait import(${JSON.stringify(cmd.script)});\n`,
    );
    const dir = join(root, 'broken');
    await expect(
      startFloor({ root, floorCommand: { exe: cmd.exe, script } }, 'broken', 3),
    ).rejects.toThrow(/leader .* exited with 3/);
    const left = processesUnder(dir);
    // Whatever the outcome, nothing of this test outlives it.
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left).toEqual([]);
  });
});

describe('the machine floors', () => {
  it('measures the disk floor in the folder and leaves no file', async () => {
    const dir = join(root, 'disk');
    const mbps = await diskFloorMBps(dir, 4 << 20);
    expect(mbps).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('measures the loopback floor between two processes that are gone after', async () => {
    const before = processesUnder(cmd.script);
    const mbps = await loopbackFloorMBps(cmd, 8 << 20);
    expect(mbps).toBeGreaterThan(0);
    expect(processesUnder(cmd.script)).toEqual(before);
  });
});

describe('FrameReader', () => {
  const frame = (body: string): Buffer => {
    const b = Buffer.from(body);
    const f = Buffer.alloc(4 + b.length);
    f.writeUInt32BE(b.length, 0);
    b.copy(f, 4);
    return f;
  };

  it('cuts frames split anywhere across chunks', () => {
    const bytes = Buffer.concat([frame('one'), frame(''), frame('three!')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = new FrameReader('test');
      const got = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))].map((b) =>
        b.toString(),
      );
      expect(got).toEqual(['one', '', 'three!']);
    }
  });

  it('refuses a frame over the limit as soon as its length arrives', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new FrameReader('peer 1234').push(head)).toThrow(
      /peer 1234: frame of 67108865 bytes at offset 0/,
    );
  });
});
