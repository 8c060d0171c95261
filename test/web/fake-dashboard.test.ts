// The FAKE cluster used for development and screenshots behaves plausibly: a leader is elected,
// killing it elects another in a higher term, and adding a node walks learner → voter.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MESSAGE_FLIGHT_MS,
  type ClusterEvent,
  type MessageBatch,
  type MessageTrace,
} from '../../main/contract/view';
import { createFakeDashboard } from '../../main/web/fake-dashboard';
import type { FakeDashboard } from '../../main/web/fake-dashboard';

let fake: FakeDashboard;

beforeEach(() => {
  vi.useFakeTimers();
  fake = createFakeDashboard({ seed: 3 });
});
afterEach(() => {
  fake.dispose();
  vi.useRealTimers();
});

describe('fake dashboard', () => {
  it('reports follower timers that fill over an election timeout, not at once', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    const v = await fake.getView();
    const followers = v.nodes.filter((n) => n.id !== v.leader && n.role === 'follower');
    expect(followers.length).toBeGreaterThan(0);
    for (const f of followers) {
      expect(f.timer).toMatchObject({ kind: 'election' });
      expect(f.timer!.timeoutMs).toBeGreaterThanOrEqual(800);
      expect(f.timer!.fraction).toBeLessThan(1);
    }
  });

  it('elects a leader, and a new one in a higher term when the leader is killed', async () => {
    const events: ClusterEvent[] = [];
    fake.onEvent((e) => events.push(e));
    await vi.advanceTimersByTimeAsync(3000);
    const first = await fake.getView();
    expect(first.leader).not.toBe(0);
    await fake.killNode(first.leader);
    await vi.advanceTimersByTimeAsync(4000);
    const second = await fake.getView();
    expect(second.leader).not.toBe(0);
    expect(second.leader).not.toBe(first.leader);
    expect(second.term).toBeGreaterThan(first.term);
    expect(events.some((e) => e.kind === 'election')).toBe(true);
    expect(second.nodes.find((n) => n.id === first.leader)?.health).toBe('down');
  });

  it('reports term runs that agree with the terms of the entries it inspects, across a new leader', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    const first = await fake.getView();
    await fake.killNode(first.leader);
    await vi.advanceTimersByTimeAsync(4000);
    const v = await fake.getView();
    expect(v.term).toBeGreaterThan(first.term);
    const leader = v.nodes.find((n) => n.id === v.leader)!.raft!;
    const runs = leader.termRuns;
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs[0]!.start).toBe(leader.firstIndex);
    expect(runs.at(-1)!.term).toBe(v.term);
    for (let k = 1; k < runs.length; k++) {
      expect(runs[k]!.start).toBeGreaterThan(runs[k - 1]!.start);
      expect(runs[k]!.term).toBeGreaterThan(runs[k - 1]!.term);
    }
    // Each run's first entry and the entry before it, as the inspector reads them.
    for (const r of runs) {
      const ins = await fake.logEntries({ from: r.start - 1, count: 2 });
      const termAt = (i: number) =>
        ins.rows.find((row) => row.index === i)?.holders.find((h) => h.node === v.leader)?.term;
      expect(termAt(r.start)).toBe(r.term);
      if (r.start > leader.firstIndex) expect(termAt(r.start - 1)).toBeLessThan(r.term);
    }
  });

  it('adds a node through learner, catch-up and promotion', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    const { workflowId } = await fake.addNode();
    const states = new Set<string>();
    for (let i = 0; i < 100; i++) {
      await vi.advanceTimersByTimeAsync(100);
      const v = await fake.getView();
      const wf = v.workflows.find((w) => w.id === workflowId)!;
      states.add(wf.steps.find((s) => s.state === 'active')?.name ?? wf.state);
      if (wf.state !== 'running') break;
    }
    const v = await fake.getView();
    expect(v.workflows.find((w) => w.id === workflowId)?.state).toBe('done');
    expect(states).toContain('catch up');
    const leader = v.nodes.find((n) => n.id === v.leader)!;
    expect(leader.raft?.voters).toContain(4);
    expect(v.nodes.find((n) => n.id === 4)?.membership).toBe('voter');
  });

  it('refuses to restart a node whose data folder is gone, and replaces it by a fresh one', async () => {
    fake.dispose();
    fake = createFakeDashboard({ seed: 3, lostData: [2] });
    await vi.advanceTimersByTimeAsync(3000);
    const before = await fake.getView();
    const lost = before.nodes.find((n) => n.id === 2)!;
    expect(lost.startRefused).toMatch(/node 2 has run before, but its data folder .* is gone/);
    expect(lost.health).toBe('down');
    expect(before.nodes.filter((n) => n.id !== 2).every((n) => n.startRefused === null)).toBe(true);
    await expect(fake.restartNode(2)).rejects.toThrow(/Replace it instead/);
    const { workflowId } = await fake.replaceNode(2);
    for (let i = 0; i < 200; i++) {
      await vi.advanceTimersByTimeAsync(100);
      const wf = (await fake.getView()).workflows.find((w) => w.id === workflowId)!;
      if (wf.state !== 'running') break;
    }
    const v = await fake.getView();
    const wf = v.workflows.find((w) => w.id === workflowId)!;
    expect(wf.state, wf.error ?? '').toBe('done');
    expect(wf.kind).toBe('replace-node');
    expect(wf.steps.map((x) => x.state)).toEqual(Array(9).fill('done'));
    expect(wf.steps[4]!.detail).toMatch(/^node 4, pid \d+$/);
    expect(v.nodes.map((n) => n.id)).toEqual([1, 3, 4]);
    expect(v.nodes.find((n) => n.id === v.leader)!.raft?.voters.sort()).toEqual([1, 3, 4]);
  });

  it('pushes views while it runs', async () => {
    const versions: number[] = [];
    fake.onView((v) => versions.push(v.version));
    await vi.advanceTimersByTimeAsync(2000);
    expect(versions.length).toBeGreaterThanOrEqual(10);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });
});

describe('fake dashboard: messages, pace and links', () => {
  /** watch collects every batch the fake pushes, with when it came. */
  function watch(f: FakeDashboard): {
    batches: MessageBatch[];
    at: number[];
    traces: () => MessageTrace[];
  } {
    const batches: MessageBatch[] = [];
    const at: number[] = [];
    f.onMessages((b) => {
      batches.push(b);
      at.push(Date.now());
    });
    return { batches, at, traces: () => batches.flatMap((b) => b.traces) };
  }

  it('pushes the votes and heartbeats its simulation implies, sampled and at most 20 batches a second', async () => {
    const w = watch(fake);
    await vi.advanceTimersByTimeAsync(5000);
    const v = await fake.getView();
    const all = w.traces();
    const votes = all.filter((t) => t.type === 'vote' && t.to !== t.from);
    expect(votes.length).toBeGreaterThan(0);
    expect(all.some((t) => t.type === 'vote-resp' && t.reject === false)).toBe(true);
    const beats = all.filter((t) => t.type === 'heartbeat' && t.from === v.leader);
    expect(beats.length).toBeGreaterThan(10);
    for (const t of all) {
      expect(t).toMatchObject({ dir: 'out', fate: 'sent', delayMs: 0 });
      expect(t.bytes).toBeGreaterThan(0);
    }
    expect(beats.every((t) => t.term === v.term && typeof t.commit === 'number')).toBe(true);
    // Each sender numbers its traces; sampled ones skip numbers but never go back.
    for (const id of [1, 2, 3]) {
      const seqs = all.filter((t) => t.from === id).map((t) => t.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    }
    // At most 10 per link, type and second; batches at least 50 ms apart.
    const perSecond = new Map<string, number>();
    for (const t of all) {
      const k = `${t.from}-${t.to}-${t.type}-${Math.floor(t.time / 1000)}`;
      perSecond.set(k, (perSecond.get(k) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
    for (let i = 1; i < w.at.length; i++)
      expect(w.at[i]! - w.at[i - 1]!).toBeGreaterThanOrEqual(50);
  });

  it('setPace stretches its timers, holds its messages and shows in the view', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    const v0 = await fake.getView();
    expect(v0.pace).toEqual({ pace: 1, fastFailover: true });
    expect(v0.nodes.find((n) => n.id === v0.leader)?.timer?.timeoutMs).toBe(100);
    await fake.setPace(20, false);
    const w = watch(fake);
    await vi.advanceTimersByTimeAsync(10_000);
    const v = await fake.getView();
    expect(v.pace).toEqual({ pace: 20, fastFailover: false });
    expect(v.nodes.find((n) => n.id === v.leader)?.timer?.timeoutMs).toBe(2000);
    const beats = w.traces().filter((t) => t.type === 'heartbeat' && t.from === v.leader);
    // One round per 100 ms × 20 = 2 s: about 5 per follower in 10 s, each held 10 ms × 20.
    expect(beats.length).toBeGreaterThanOrEqual(8);
    expect(beats.length).toBeLessThanOrEqual(12);
    expect(beats.every((t) => t.delayMs === MESSAGE_FLIGHT_MS * 20 && t.fate === 'delayed')).toBe(
      true,
    );
    const events = await fake.getEvents(0);
    expect(events.some((e) => /^pace 20×/.test(e.message))).toBe(true);
    expect(v.links.find((l) => l.from === v.leader)!.msgsPerSec).toBeLessThan(3);
  });

  it('at a slow pace without fast failover a killed leader is replaced only after the stretched election timeout; with it at once', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    await fake.setPace(20, false);
    const first = await fake.getView();
    await fake.killNode(first.leader);
    // The shortest election timeout is 800 ms × 20 = 16 s.
    await vi.advanceTimersByTimeAsync(14_000);
    expect((await fake.getView()).leader).toBe(0);
    await vi.advanceTimersByTimeAsync(40_000);
    const second = await fake.getView();
    expect(second.leader).not.toBe(0);
    await fake.restartNode(first.leader);
    await vi.advanceTimersByTimeAsync(5000);
    expect((await fake.getView()).nodes.find((n) => n.id === first.leader)?.raft?.leader).toBe(
      second.leader,
    );
    await fake.setPace(20, true);
    await fake.killNode(second.leader);
    await vi.advanceTimersByTimeAsync(500);
    const third = await fake.getView();
    expect(third.leader).not.toBe(0);
    expect(third.leader).not.toBe(second.leader);
  });

  it('linkDetail answers from what it simulated; refuses unknown and down senders', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    const v = await fake.getView();
    const f = [1, 2, 3].find((id) => id !== v.leader)!;
    const d = await fake.linkDetail(v.leader, f);
    expect(d.link).toMatchObject({ from: v.leader, to: f, state: 'up' });
    const hb = d.byType.find((c) => c.type === 'heartbeat')!;
    expect(hb.sent).toBeGreaterThan(5);
    expect(hb.received).toBe(hb.sent);
    expect(d.recent.length).toBeGreaterThan(0);
    expect(d.recent.length).toBeLessThanOrEqual(50);
    expect(d.recent.every((t) => t.from === v.leader && t.to === f)).toBe(true);
    // Across a partition the leader's heartbeats are dropped, and counted so.
    await fake.partition([[1, 2, 3].filter((id) => id !== f), [f]]);
    await vi.advanceTimersByTimeAsync(1000);
    const cut = await fake.linkDetail(v.leader, f);
    expect(cut.link.state).toBe('cut');
    expect(cut.byType.find((c) => c.type === 'heartbeat')!.faultDropped).toBeGreaterThan(0);
    expect(cut.recent.at(-1)!.fate).toBe('dropped');
    await expect(fake.linkDetail(v.leader, 9)).rejects.toThrow(/no node 9/);
    await fake.killNode(f);
    await expect(fake.linkDetail(f, v.leader)).rejects.toThrow(/node \d is crashed/);
  });

  it('sends a snapshot to a new node in chunks, with offsets growing to the total', async () => {
    fake.dispose();
    fake = createFakeDashboard({
      seed: 3,
      snapshotEvery: 50,
      snapshotBytes: 256 * 1024,
      chunkBytes: 32 * 1024,
    });
    const w = watch(fake);
    await vi.advanceTimersByTimeAsync(2000);
    await fake.startWorkload({
      clients: 2,
      rate: 400,
      keys: 10,
      readRatio: 0,
      casRatio: 0,
      valueBytes: 8,
      seconds: 0,
    });
    await vi.advanceTimersByTimeAsync(3000);
    await fake.addNode();
    await vi.advanceTimersByTimeAsync(3000);
    const all = w.traces().filter((t) => t.type === 'snap' && t.to === 4);
    // The first transfer, up to its last chunk (the log may be compacted again and another sent).
    const chunks = all.slice(0, all.findIndex((t) => t.done) + 1);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]!.snapOffset).toBe(0);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]!.snapOffset!).toBeGreaterThan(chunks[i - 1]!.snapOffset!);
    }
    expect(chunks.every((t) => t.snapTotal === 256 * 1024)).toBe(true);
    expect(chunks.at(-1)!.done).toBe(true);
  });

  it('pause, step and resume hold its scenario between steps', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    await fake.runScenario('minority-partition');
    await fake.pauseScenario();
    await vi.advanceTimersByTimeAsync(5000);
    const held = (await fake.getView()).scenario!;
    expect(held.paused).toBe(true);
    const done = held.steps.filter((s) => s.state === 'done').length;
    expect(held.steps.some((s) => s.state === 'active')).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect((await fake.getView()).scenario!.steps.filter((s) => s.state === 'done').length).toBe(
      done,
    );
    await fake.stepScenario();
    await vi.advanceTimersByTimeAsync(5000);
    expect((await fake.getView()).scenario!.steps.filter((s) => s.state === 'done').length).toBe(
      done + 1,
    );
    await fake.resumeScenario();
    await vi.advanceTimersByTimeAsync(20_000);
    const end = (await fake.getView()).scenario!;
    expect(end).toMatchObject({ state: 'passed', paused: false });
    await expect(fake.stepScenario()).rejects.toThrow(/no scenario is running/);
  });
});
