import { describe, expect, it } from 'vitest';
import { failoverPath, leaderGone } from '../../main/cluster/scenarios/context';
import { ScenarioControl } from '../../main/cluster/scenarios/control';
import type { ClusterView, ProcessState } from '../../main/contract/view';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** steps: a run of `n` steps through the control's gate, recording each step it starts. */
function steps(control: ScenarioControl, n: number): { started: number[]; done: Promise<void> } {
  const started: number[] = [];
  const done = (async () => {
    for (let i = 1; i <= n; i++) {
      await control.gate();
      started.push(i);
      await tick();
    }
  })();
  return { started, done };
}

describe('ScenarioControl', () => {
  it('lets an unpaused run through every step', async () => {
    const c = new ScenarioControl();
    const run = steps(c, 3);
    await run.done;
    expect(run.started).toEqual([1, 2, 3]);
  });

  it('pause holds the run before its next step; step lets one through; resume lets it finish', async () => {
    const c = new ScenarioControl();
    const told: boolean[] = [];
    c.bind((p) => told.push(p));
    c.pause();
    const run = steps(c, 4);
    for (let i = 0; i < 10; i++) await tick();
    expect(run.started).toEqual([]);
    c.step();
    for (let i = 0; i < 10; i++) await tick();
    expect(run.started).toEqual([1]);
    expect(c.paused).toBe(true);
    c.step();
    c.step();
    for (let i = 0; i < 10; i++) await tick();
    expect(run.started).toEqual([1, 2, 3]);
    c.resume();
    await run.done;
    expect(run.started).toEqual([1, 2, 3, 4]);
    expect(told).toEqual([true, false]);
  });

  it('refuses to step a run that is not paused, and pausing twice is one pause', () => {
    const c = new ScenarioControl();
    const told: boolean[] = [];
    c.bind((p) => told.push(p));
    expect(() => c.step()).toThrow(/not paused: pause it before stepping/);
    c.pause();
    c.pause();
    c.resume();
    c.resume();
    expect(told).toEqual([true, false]);
  });
});

describe('the failover path in the narration', () => {
  const viewWith = (state: ProcessState): ClusterView =>
    ({ nodes: [{ id: 1, process: { state } }] }) as unknown as ClusterView;

  it('a killed, stopped or exited leader is gone; a paused or running (cut-off) one is not', () => {
    for (const s of ['crashed', 'stopped', 'exited'] as const)
      expect(leaderGone(viewWith(s), 1)).toBe(true);
    for (const s of ['paused', 'running'] as const) expect(leaderGone(viewWith(s), 1)).toBe(false);
  });

  it('says which path the followers took', () => {
    expect(failoverPath(true, true)).toBe(
      "followers campaigned at once: the leader's port refused connections (fast failover)",
    );
    expect(failoverPath(false, true)).toMatch(
      /^followers campaigned after the election timeout \(fast failover is off\)/,
    );
    expect(failoverPath(true, false)).toMatch(
      /after the election timeout: a paused or cut-off leader's port does not refuse connections/,
    );
  });
});
