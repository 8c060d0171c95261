// A scenario run's waits at the cluster's pace, and its steps held by pause, on a stand-in
// supervisor (only what a Runner reads of it: the timing, the view, the pace, the narration).
import { describe, expect, it } from 'vitest';
import { ScenarioControl } from '../../main/cluster/scenarios/control';
import type { Scenario } from '../../main/cluster/scenarios/context';
import { Runner } from '../../main/cluster/scenarios/runner';
import type { ClusterEngine } from '../../main/cluster/engine';
import type { ClusterView, ScenarioRun } from '../../main/contract/view';

function standIn(pace: number): ClusterEngine {
  return {
    timing: { heartbeatMs: 50, electionMs: 500 },
    view: () => ({ nodes: [], leader: 0 }) as unknown as ClusterView,
    pace: { pace, fastFailover: false },
    setScenario: () => undefined,
    event: () => undefined,
  } as unknown as ClusterEngine;
}

const sc: Scenario = {
  name: 'test',
  title: 'Test',
  description: 'Expect: nothing.',
  run: async () => undefined,
};
const run = (): ScenarioRun => ({
  name: 'test',
  state: 'running',
  startedAt: 0,
  paused: false,
  steps: [],
});

describe('a scenario run at a pace', () => {
  it('waits pace times longer than the limit it states', async () => {
    const r = new Runner(standIn(4), sc, run());
    const at = Date.now();
    await expect(r.ctx.waitFor('something', () => false, 150)).rejects.toThrow(
      /timed out after 0\.60 s waiting for something/,
    );
    expect(Date.now() - at).toBeGreaterThanOrEqual(590);
    expect(r.ctx.pace()).toBe(4);
  });

  it('checks that something holds for pace times as long', async () => {
    const r = new Runner(standIn(3), sc, run());
    let polls = 0;
    const at = Date.now();
    await r.ctx.holds('quiet', () => ++polls > 0, 100);
    expect(Date.now() - at).toBeGreaterThanOrEqual(290);
  });

  it('holds its next step while paused, runs one when stepped, and the rest when resumed', async () => {
    const control = new ScenarioControl();
    const r = new Runner(standIn(1), sc, run(), control);
    const ran: string[] = [];
    control.pause();
    const steps = (async () => {
      for (const name of ['one', 'two', 'three']) {
        await r.ctx.step(name, async () => {
          ran.push(name);
        });
      }
    })();
    await new Promise((res) => setTimeout(res, 100));
    expect(ran).toEqual([]);
    control.step();
    await new Promise((res) => setTimeout(res, 100));
    expect(ran).toEqual(['one']);
    control.resume();
    await steps;
    expect(ran).toEqual(['one', 'two', 'three']);
  });
});
