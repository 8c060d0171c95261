/**
 * The supervisor's pace, messages, traffic and link details, against stand-in node processes (a
 * few lines of Node that report ready and record their arguments) behind fake admin links: the
 * test plays each node's admin server, so it sees every call the supervisor makes and pushes the
 * statuses and message batches a node would. Every stand-in is killed by pid afterwards.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminLink, LinkSubscribeOptions, NodeMessages } from '../../main/cluster/admin-link';
import {
  MAX_BATCH_TRACES,
  Supervisor,
  type SupervisorOptions,
} from '../../main/cluster/supervisor';
import { transferLeader } from '../../main/cluster/workflows';
import type { MessageBatch } from '../../main/contract/view';
import type { NodeStatus } from '../../main/node/node-api';
import type { MessageTrace } from '../../main/raft/message-header';
import type { NodeId } from '../../main/raft/types';
import { FakeNode } from '../node/fake-node';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * STAND_IN: a node process that reports ready at its flags' addresses, records its argv and
 * leaves a node.json as a node that has run does.
 */
const STAND_IN = `
const a = process.argv.slice(1);
const get = (f) => a[a.indexOf(f) + 1];
const fs = require('fs');
const path = require('path');
fs.writeFileSync(path.join(get('--data'), 'argv.json'), JSON.stringify(a));
// A started node keeps its identity in node.json; the supervisor restarts only such a node.
fs.writeFileSync(path.join(get('--data'), 'node.json'), '{}');
console.log(JSON.stringify({ event: 'ready', peer: get('--peer-addr'), client: get('--client-addr'), admin: get('--admin-addr') }));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
setInterval(() => {}, 1000);
`;

type Handlers = Parameters<AdminLink['subscribe']>[1];

/** FakeLink plays one node's admin server: it records calls and lets the test push. */
class FakeLink implements AdminLink {
  readonly calls: { op: string; args: Record<string, unknown> }[] = [];
  handlers: Handlers = {};
  opts: LinkSubscribeOptions | undefined;
  readonly refuse = new Set<string>();
  readonly answers = new Map<string, (args: Record<string, unknown>) => unknown>();
  closed = false;

  async call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    this.calls.push({ op, args });
    if (this.refuse.has(op)) throw new Error(`${op} refused`);
    return (this.answers.get(op)?.(args) ?? {}) as T;
  }

  subscribe(opts: LinkSubscribeOptions, handlers: Handlers): void {
    this.opts = opts;
    this.handlers = handlers;
  }

  close(): void {
    this.closed = true;
  }

  ops(op: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args);
  }
}

let sup: Supervisor | undefined;
let dir: string | undefined;
const pids = new Set<number>();
/** links: every link the supervisor opened, by admin address, newest last. */
const links = new Map<string, FakeLink[]>();

afterEach(async () => {
  for (const m of sup?.nodes.values() ?? []) if (m.proc.pid !== null) pids.add(m.proc.pid);
  await sup?.stop().catch(() => undefined);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
  links.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
  sup = undefined;
  dir = undefined;
});

async function started(options: Partial<SupervisorOptions> = {}): Promise<Supervisor> {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-pace-'));
  sup = new Supervisor({
    dir,
    nodes: 3,
    command: { exe: process.execPath, args: ['-e', STAND_IN, '--'], env: {} },
    connect: async (address) => {
      const l = new FakeLink();
      links.set(address, [...(links.get(address) ?? []), l]);
      return l;
    },
    ...options,
  });
  await sup.start();
  for (const m of sup.nodes.values()) if (m.proc.pid !== null) pids.add(m.proc.pid);
  return sup;
}

/** link: the newest admin link to node `id`. */
function link(s: Supervisor, id: NodeId): FakeLink {
  const l = links.get(s.get(id).rec.admin)?.at(-1);
  if (!l) throw new Error(`no admin link to node ${id}`);
  return l;
}

function argv(s: Supervisor, id: NodeId): string[] {
  return JSON.parse(readFileSync(join(s.nodeDir(s.get(id).rec), 'argv.json'), 'utf8')) as string[];
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** status: a node's report, led by node 1 in term 2, with its per-peer, per-type counters. */
function status(
  id: NodeId,
  over: Partial<NodeStatus> = {},
  types: Record<number, Record<string, Record<string, number>>> = {},
): NodeStatus {
  const s = new FakeNode(id).status();
  const peers: Record<string, unknown> = {};
  for (const [peer, t] of Object.entries(types)) peers[peer] = { connected: true, types: t };
  return {
    ...s,
    role: id === 1 ? 'leader' : 'follower',
    leader: 1,
    voters: [1, 2, 3],
    transport: { ...s.transport, peers: peers as NodeStatus['transport']['peers'] },
    ...over,
  };
}

function trace(
  from: NodeId,
  to: NodeId,
  seq: number,
  time: number,
  over: Partial<MessageTrace> = {},
): MessageTrace {
  return {
    from,
    to,
    type: 'heartbeat',
    term: 2,
    commit: 5,
    seq,
    time,
    dir: 'out',
    fate: 'sent',
    delayMs: 0,
    bytes: 40,
    ...over,
  };
}

describe('the pace of a supervised cluster', () => {
  it('starts nodes with no pace flags at real time, and with them at a slower pace', async () => {
    const s = await started();
    expect(argv(s, 1)).not.toContain('--pace');
    await s.stop();
    rmSync(dir!, { recursive: true, force: true });
    const slow = await started({ pace: { pace: 5, fastFailover: false } });
    const a = argv(slow, 2);
    expect(a.slice(a.indexOf('--pace'), a.indexOf('--pace') + 4)).toEqual([
      '--pace',
      '5',
      '--fast-failover',
      'off',
    ]);
    expect(slow.view().pace).toEqual({ pace: 5, fastFailover: false });
    // A node started at the pace is not told it again when its admin link comes up.
    expect(link(slow, 2).ops('set-pace')).toEqual([]);
  });

  it('setPace tells every running node, shows in the view and the events, and restarts join at it', async () => {
    const s = await started();
    await s.setPace(20, false);
    for (const id of [1, 2, 3]) {
      expect(link(s, id).ops('set-pace')).toEqual([{ pace: 20, fastFailover: false }]);
    }
    expect(s.view().pace).toEqual({ pace: 20, fastFailover: false });
    expect(s.allEvents().at(-1)?.message).toMatch(
      /^pace 20×: .*every message held 200 ms.*fast failover off/,
    );
    // The same pace again changes nothing and says nothing.
    const events = s.allEvents().length;
    await s.setPace(20, false);
    expect(s.allEvents().length).toBe(events);
    expect(link(s, 1).ops('set-pace')).toHaveLength(1);

    await s.restart(3);
    pids.add(s.get(3).proc.pid!);
    expect(argv(s, 3)).toEqual(expect.arrayContaining(['--pace', '20', '--fast-failover', 'off']));
    expect(link(s, 3).ops('set-pace')).toEqual([]);
    await expect(s.setPace(0, true)).rejects.toThrow(
      /pace must be a whole number from 1 to 100, not 0/,
    );
    await expect(s.setPace(101, true)).rejects.toThrow(/not 101/);
  });

  it('a node that did not take the pace gets it when its admin link comes back', async () => {
    const s = await started();
    link(s, 2).refuse.add('set-pace');
    await s.setPace(5, true);
    expect(s.allEvents().at(-1)?.message).toMatch(
      /some nodes did not take the new pace: node 2: set-pace refused/,
    );
    const old = link(s, 2);
    old.handlers.close?.();
    const fresh = await until('a new admin link to node 2', () => link(s, 2) !== old && link(s, 2));
    await until('set-pace on the new link', () => fresh.ops('set-pace').length > 0);
    expect(fresh.ops('set-pace')).toEqual([{ pace: 5, fastFailover: true }]);
    // The others took it the first time and are not told again.
    expect(link(s, 1).ops('set-pace')).toHaveLength(1);
  });

  it('a paused node is not waited for; it is told the pace when it is resumed', async () => {
    const s = await started();
    s.pause(3);
    // Its link would answer nothing while it is stopped; the call must not wait on it.
    link(s, 3).answers.set('set-pace', () => new Promise(() => undefined));
    const at = Date.now();
    await s.setPace(5, false);
    expect(Date.now() - at).toBeLessThan(1000);
    expect(link(s, 3).ops('set-pace')).toEqual([]);
    link(s, 3).answers.delete('set-pace');
    s.resume(3);
    await until('set-pace on the resumed node', () => link(s, 3).ops('set-pace').length > 0);
    expect(link(s, 3).ops('set-pace')).toEqual([{ pace: 5, fastFailover: false }]);
  });

  it('workflow limits stretch with the pace', async () => {
    const s = await started();
    await s.setPace(2, true);
    for (const id of [1, 2, 3]) link(s, id).handlers.status?.(status(id));
    await until('a leader', () => s.leaderId() === 1);
    const { run } = await transferLeader(s, 2);
    let ended = false;
    void run.then(() => (ended = true));
    // At real time the wait for node 2 to lead gives up after 5 s; at 2× it is still waiting.
    await sleep(5600);
    expect(ended).toBe(false);
    for (const id of [1, 2, 3]) {
      link(s, id).handlers.status?.(
        status(id, { role: id === 2 ? 'leader' : 'follower', leader: 2, term: 3 }),
      );
    }
    const wf = await run;
    expect(wf.state).toBe('done');
  }, 15_000);
});

describe('messages, traffic and link details of a supervised cluster', () => {
  it('subscribes every node to sampled messages and pushes them merged, oldest first, out only', async () => {
    const s = await started();
    for (const id of [1, 2, 3]) {
      expect(link(s, id).opts).toMatchObject({
        status: true,
        events: true,
        messages: true,
        messagesPerLinkHz: 10,
      });
    }
    const batches: MessageBatch[] = [];
    s.onMessages((b) => batches.push(b));
    const t0 = Date.now();
    link(s, 1).handlers.messages?.({
      traces: [
        trace(1, 2, 8, t0 + 5),
        trace(1, 3, 9, t0 + 6),
        { ...trace(2, 1, 3, t0), dir: 'in' },
      ],
      skipped: { '1-2': 4 },
    });
    link(s, 2).handlers.messages?.({
      traces: [trace(2, 1, 1, t0 + 1, { type: 'heartbeat-resp' })],
      skipped: { '1-2': 1, '2-1': 2 },
    });
    await until('a batch', () => batches.length > 0, 1000);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.traces.map((t) => `${t.from}-${t.to}#${t.seq}`)).toEqual([
      '2-1#1',
      '1-2#8',
      '1-3#9',
    ]);
    expect(batches[0]!.skipped).toEqual({ '1-2': 5, '2-1': 2 });
  });

  it('bounds a batch and sends at most 20 a second however fast the nodes push', async () => {
    const s = await started();
    const batches: MessageBatch[] = [];
    s.onMessages((b) => batches.push(b));
    const flood: NodeMessages = {
      traces: Array.from({ length: MAX_BATCH_TRACES + 500 }, (_, i) => trace(1, 2, i, Date.now())),
      skipped: {},
    };
    link(s, 1).handlers.messages?.(flood);
    const t0 = Date.now();
    while (Date.now() - t0 < 1000) {
      link(s, 1).handlers.messages?.({ traces: [trace(1, 3, 1, Date.now())], skipped: {} });
      await sleep(2);
    }
    await sleep(100);
    const elapsed = Date.now() - t0;
    expect(batches[0]!.traces.length).toBe(MAX_BATCH_TRACES);
    expect(batches[0]!.skipped['1-2']).toBe(500);
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    expect(batches.length).toBeGreaterThan(5);
  });

  it('measures each link from the per-type counters of the statuses', async () => {
    const s = await started();
    for (let i = 0; i <= 10; i++) {
      link(s, 1).handlers.status?.(
        status(
          1,
          {},
          {
            2: {
              heartbeat: { sent: 10 * i, sentBytes: 400 * i },
              app: { sent: 2 * i, sentBytes: 2000 * i },
            },
            3: { heartbeat: { sent: 10 * i, sentBytes: 400 * i } },
          },
        ),
      );
      await sleep(100);
    }
    const links = s.view().links;
    const l12 = links.find((l) => l.from === 1 && l.to === 2)!;
    const l13 = links.find((l) => l.from === 1 && l.to === 3)!;
    // 12 messages and 2400 bytes per 100 ms on 1 → 2; timers are not exact, so within 25 %.
    expect(l12.msgsPerSec).toBeGreaterThan(90);
    expect(l12.msgsPerSec).toBeLessThan(150);
    expect(l12.bytesPerSec).toBeGreaterThan(18_000);
    expect(l12.bytesPerSec).toBeLessThan(30_000);
    expect(l13.msgsPerSec / l12.msgsPerSec).toBeCloseTo(10 / 12, 1);
    expect(links.find((l) => l.from === 2 && l.to === 1)!.msgsPerSec).toBe(0);
  });

  it('linkDetail: counters by type from both ends, the latest messages on the link, and clear refusals', async () => {
    const s = await started();
    link(s, 1).handlers.status?.(
      status(
        1,
        {},
        { 2: { heartbeat: { sent: 30, sentBytes: 1200, faultDropped: 3, faultDelayed: 1 } } },
      ),
    );
    link(s, 2).handlers.status?.(
      status(
        2,
        {},
        {
          1: {
            heartbeat: { received: 27, receivedBytes: 1080 },
            'heartbeat-resp': { sent: 27, sentBytes: 540 },
          },
        },
      ),
    );
    const ring = [
      ...Array.from({ length: 60 }, (_, i) => trace(1, 2, 2 * i, 1000 + i)),
      ...Array.from({ length: 5 }, (_, i) => trace(1, 3, 2 * i + 1, 2000 + i)),
      { ...trace(2, 1, 500, 3000), dir: 'in' as const },
    ];
    link(s, 1).answers.set('messages', () => ({ traces: ring, nextSeq: 501 }));
    const d = await s.linkDetail(1, 2);
    expect(link(s, 1).ops('messages')).toEqual([{ peer: 2, limit: 1024 }]);
    expect(d.link).toMatchObject({ from: 1, to: 2, state: 'up' });
    expect(d.byType).toEqual([
      {
        type: 'heartbeat',
        sent: 30,
        sentBytes: 1200,
        received: 27,
        receivedBytes: 1080,
        faultDropped: 3,
        faultDelayed: 1,
      },
    ]);
    expect(d.recent).toHaveLength(50);
    expect(d.recent.every((t) => t.from === 1 && t.to === 2 && t.dir === 'out')).toBe(true);
    expect(d.recent.at(-1)!.seq).toBe(118);

    await expect(s.linkDetail(1, 9)).rejects.toThrow(/no node 9/);
    await expect(s.linkDetail(2, 2)).rejects.toThrow(/not node 2 to itself/);
    await s.kill(3);
    await expect(s.linkDetail(3, 1)).rejects.toThrow(
      /node 3 is crashed: its messages to node 1 are not reachable/,
    );
  });
});
