/**
 * Scenarios on a local etcd cluster: every scenario that makes sense on etcd runs there through the
 * engine seam and passes, with its cluster restored; the one that needs raftdeck's own nodes
 * (it watches the leader's first log index) is not offered, and asking for it says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listScenarios, runScenario, SCENARIOS } from '../../../main/cluster/scenarios';
import type { ScenarioRun } from '../../../main/contract/view';
import { haveEtcd } from '../../etcd';
import { startEtcdEngine, type TestEtcdEngine } from './engine-harness';

const failed = (r: ScenarioRun): string =>
  r.steps.map((x) => `${x.state} ${x.text}: ${x.detail}`).join('\n');

describe.skipIf(!haveEtcd)('scenarios on a local etcd cluster', () => {
  let c: TestEtcdEngine;

  beforeAll(async () => {
    c = await startEtcdEngine('etcd-scenarios');
  }, 60_000);
  afterAll(async () => {
    await c?.teardown();
  }, 60_000);

  it('offers every scenario but the one that needs raftdeck’s own nodes', async () => {
    const names = listScenarios('etcd').map((s) => s.name);
    expect(names).toEqual(
      SCENARIOS.filter((s) => !s.engines || s.engines.includes('etcd')).map((s) => s.name),
    );
    expect(names).toContain('leader-crash');
    expect(names).not.toContain('lagging-snapshot');
    await expect(runScenario(c.engine, 'lagging-snapshot')).rejects.toThrow(/needs raftdeck/);
  });

  for (const name of [
    'leader-crash',
    'minority-partition',
    'leader-isolated',
    'add-remove-under-load',
  ]) {
    it(`${name} passes on etcd`, async () => {
      const run = await runScenario(c.engine, name);
      expect(run.state, failed(run)).toBe('passed');
      expect(run.steps.every((x) => x.state === 'done')).toBe(true);
    }, 120_000);
  }
});
