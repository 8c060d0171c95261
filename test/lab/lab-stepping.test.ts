import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../main/lab/lab-cluster';
import type { LabStep } from '../../main/lab/lab-cluster';
import type { NodeId } from '../../main/raft/types';

const dec = new TextDecoder();

/** whole: everything one node is, as far as another node could change it: its core and its disk. */
function whole(c: SimCluster, id: NodeId): string {
  const n = c.node(id);
  return JSON.stringify({
    up: n.alive,
    status: n.raft.status(),
    disk: n.files.hardState,
    applied: n.sm,
  });
}

/**
 * session drives a lab cluster through a fixed sequence of the lab's controls and records, after
 * each, the virtual time, every node's role, term, leader and commit, and the messages in flight
 * (ids and headers) and the events each step ran.
 */
function session(seed: number): string[] {
  const c = new SimCluster({ ids: [1, 2, 3], seed, host: 'real', delay: [1, 8], tickSkew: 0.05 });
  const seen: string[] = [];
  const look = (what: string, steps: LabStep[] = []): void => {
    seen.push(
      JSON.stringify({
        what,
        time: c.now,
        seed: c.seed,
        nodes: c.nodeStates(),
        inFlight: c.inFlight().map((m) => [m.id, m.deliverAt, m.header]),
        steps,
      }),
    );
  };
  for (let i = 0; i < 30; i++) look('message', c.step('message'));
  look('event', c.step('event'));
  for (let i = 0; i < 5; i++) look('tick', c.step('tick'));
  const [a, b, d] = c.inFlight();
  if (a) look(`drop ${a.id} ${c.dropMessage(a.id)}`);
  if (b) look(`duplicate ${b.id} as ${c.duplicateMessage(b.id)}`);
  if (d) look(`delay ${d.id} ${c.delayMessage(d.id, 7)}`);
  for (let i = 0; i < 3; i++) look('event', c.step('event'));
  c.crashNode(1, 'lost');
  look('crash 1, unsynced lost');
  for (let i = 0; i < 20; i++) look('message', c.step('message'));
  c.restart(1);
  const leader = c.leader();
  if (leader) c.propose(leader, 'x');
  c.crashNode(2, 'kept');
  c.restart(2);
  look('propose, crash 2 keeping unsynced, restart');
  for (let i = 0; i < 200; i++) look('message', c.step('message'));
  expect(c.violations).toEqual([]);
  return seen;
}

describe('the lab cluster steps deterministically', () => {
  it('the same seed and the same controls give the same run; another seed another', () => {
    const a = session(7);
    expect(session(7)).toEqual(a);
    expect(a.length).toBeGreaterThan(250);
    // The run did something: a leader was elected and messages were listed.
    const last = JSON.parse(a[a.length - 1]!) as { nodes: { role: string }[] };
    expect(last.nodes.some((n) => n.role === 'leader')).toBe(true);
    expect(session(8)).not.toEqual(a);
  });
});

describe('step', () => {
  it('delivering the next message changes only its receiver, and takes it off the network', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 3, host: 'real', delay: [1, 4] });
    let alone = 0;
    let receiverChanged = 0;
    for (let i = 0; i < 400; i++) {
      const before = new Map([...c.nodes.keys()].map((id) => [id, whole(c, id)]));
      const next = c.inFlight()[0];
      const ran = c.step('message');
      const last = ran[ran.length - 1];
      expect(last?.kind).toBe('message');
      if (ran.length !== 1 || last?.kind !== 'message') continue; // ticks or timers ran first
      // Nothing else was due first: the message run is the one listed first.
      expect(last.message.id).toBe(next?.id);
      expect(c.inFlight().some((m) => m.id === last.message.id)).toBe(false);
      alone++;
      const to = last.message.to;
      for (const id of c.nodes.keys()) {
        if (id !== to)
          expect(whole(c, id), `node ${id} after message ${last.message.id}`).toBe(before.get(id));
      }
      if (whole(c, to) !== before.get(to)) receiverChanged++;
    }
    expect(alone).toBeGreaterThan(50);
    expect(receiverChanged).toBeGreaterThan(10);
    expect(c.leader()).not.toBe(0);
  });

  it("'tick' stops after one tick of a node that is up; 'event' after a role, term or leader change", () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 4, host: 'real', delay: [1, 4] });
    const ran = c.step('tick');
    expect(ran.filter((s) => s.kind === 'tick')).toHaveLength(1);
    expect(ran[ran.length - 1]).toMatchObject({ kind: 'tick', ticked: true });
    const glance = JSON.stringify(c.nodeStates().map((s) => [s.role, s.term, s.leader]));
    const t0 = c.now;
    c.step('event');
    expect(c.now).toBeGreaterThan(t0);
    expect(JSON.stringify(c.nodeStates().map((s) => [s.role, s.term, s.leader]))).not.toBe(glance);
  });

  it('a dropped vote request never reaches its receiver, which then never grants that vote', () => {
    const election = (drop: boolean) => {
      const c = new SimCluster({ ids: [1, 2, 3], seed: 11, preVote: false, delay: [1, 4] });
      // The sync host persists at once: the campaign's vote requests are in flight after its tick.
      c.step('event');
      const req = c.inFlight().find((m) => m.header.type === 'vote');
      if (!req) throw new Error('no vote request in flight after the first campaign');
      if (drop) {
        expect(c.dropMessage(req.id)).toBe(true);
        expect(c.dropMessage(req.id)).toBe(false); // gone: nothing left to drop
      }
      const ran: LabStep[] = [];
      for (let i = 0; i < 300; i++) ran.push(...c.step('message'));
      const reached = ran.some(
        (s) => s.kind === 'message' && s.message.id === req.id && s.delivered,
      );
      const granted = ran.some(
        (s) =>
          s.kind === 'message' &&
          s.message.header.type === 'vote-resp' &&
          s.message.from === req.to &&
          s.message.to === req.from &&
          s.message.header.term === req.header.term &&
          !s.message.header.reject,
      );
      return { reached, granted, violations: c.violations };
    };
    // Without the drop the request arrives and is granted; with it, neither.
    expect(election(false)).toEqual({ reached: true, granted: true, violations: [] });
    expect(election(true)).toEqual({ reached: false, granted: false, violations: [] });
  });

  it('duplicating and delaying a message in flight', () => {
    const c = new SimCluster({ ids: [1, 2, 3], seed: 12, delay: [1, 4] });
    c.step('event');
    const [first, second] = c.inFlight();
    if (!first || !second) throw new Error('fewer than two messages in flight');
    const copy = c.duplicateMessage(first.id);
    expect(copy).toBeGreaterThan(second.id);
    const listed = c.inFlight();
    const original = listed.findIndex((m) => m.id === first.id);
    expect(listed[original + 1]).toEqual({ ...first, id: copy });
    expect(c.delayMessage(second.id, 50)).toBe(true);
    expect(c.inFlight().find((m) => m.id === second.id)?.deliverAt).toBe(second.deliverAt + 50);
    expect(() => c.delayMessage(second.id, -1)).toThrow(/-1 ms is not a finite number >= 0/);
    expect(c.delayMessage(9999, 5)).toBe(false);
    expect(c.duplicateMessage(9999)).toBeUndefined();
    // Both the original and its copy arrive; the delayed one arrives no earlier than it was told.
    const ran: LabStep[] = [];
    for (let i = 0; i < 40; i++) ran.push(...c.step('message'));
    const arrived = (id: number) =>
      ran.find((s) => s.kind === 'message' && s.message.id === id) as
        Extract<LabStep, { kind: 'message' }> | undefined;
    expect(arrived(first.id)).toBeDefined();
    expect(arrived(copy!)).toBeDefined();
    expect(arrived(second.id)?.at).toBe(second.deliverAt + 50);
  });
});

describe('crashNode', () => {
  /**
   * crashedFollower: a follower crashed just after an append carrying a proposal reached it, while
   * its flush is on the way to the disk; what it has after a restart.
   */
  const crashedFollower = (unsynced: 'kept' | 'lost') => {
    const c = new SimCluster({
      ids: [1, 2, 3],
      seed: 5,
      host: 'real',
      delay: [1, 3],
      disk: { syncMs: [5, 5], snapshotMs: [1, 1] },
    });
    c.runFor(3000);
    const leader = c.leader();
    expect(leader).not.toBe(0);
    c.propose(leader, 'precious');
    let follower: NodeId = 0;
    for (let i = 0; i < 100 && !follower; i++) {
      const ran = c.step('message');
      const s = ran[ran.length - 1];
      if (
        s?.kind === 'message' &&
        s.delivered &&
        s.message.header.type === 'app' &&
        (s.message.header.entries ?? 0) > 0 &&
        c.node(s.message.to).storage.writeSteps > 0
      )
        follower = s.message.to;
    }
    expect(follower).not.toBe(0);
    const inMemory = c.node(follower).raft.log.lastIndex();
    c.crashNode(follower, unsynced);
    expect(c.node(follower).alive).toBe(false);
    c.restart(follower);
    const log = c.node(follower).raft.log;
    const payloads: string[] = [];
    for (let i = log.prevIndex + 1; i <= log.lastIndex(); i++)
      payloads.push(dec.decode(log.entry(i)!.data));
    return { inMemory, last: log.lastIndex(), payloads, violations: c.violations };
  };

  it("'kept' comes back with what it wrote but had not fsynced; 'lost' without it", () => {
    const kept = crashedFollower('kept');
    const lost = crashedFollower('lost');
    expect(kept.violations).toEqual([]);
    expect(lost.violations).toEqual([]);
    // The same run up to the crash (same seed, same calls).
    expect(kept.inMemory).toBe(lost.inMemory);
    expect(kept.last).toBe(kept.inMemory);
    expect(kept.payloads).toContain('precious');
    expect(lost.last).toBeLessThan(kept.inMemory);
    expect(lost.payloads).not.toContain('precious');
  });
});
