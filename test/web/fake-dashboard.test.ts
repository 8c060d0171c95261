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

  it('pushes views while it runs', async () => {
    const versions: number[] = [];
    fake.onView((v) => versions.push(v.version));
    await vi.advanceTimersByTimeAsync(2000);
    expect(versions.length).toBeGreaterThanOrEqual(10);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });
});
