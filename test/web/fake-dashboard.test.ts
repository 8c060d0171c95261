// The FAKE cluster used for development and screenshots behaves plausibly: a leader is elected,
// killing it elects another in a higher term, and adding a node walks learner → voter.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterEvent } from '../../main/contract/view';
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
