import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvent, ScenarioRun } from '../../main/contract/view';
import { SCENARIOS, listScenarios, runScenario } from '../../main/cluster/scenarios';
import { agreedLeader } from '../../main/cluster/scenarios/context';
import { startCluster, type TestCluster } from './cluster-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** failed describes the failed steps of a run, so an assertion message says what went wrong. */
function failed(run: ScenarioRun): string {
  return run.steps
    .filter((s) => s.state === 'failed')
    .map((s) => `${s.text}: ${s.detail}`)
    .join('\n');
}

/** FAILOVER: how the narration must say the followers came to campaign, at real time. */
const FAILOVER: Record<string, RegExp> = {
  'leader-crash':
    /followers campaigned at once: the leader's port refused connections \(fast failover\)/,
  'leader-isolated':
    /followers campaigned after the election timeout: a paused or cut-off leader's port does not refuse connections/,
};

describe('scenario list', () => {
  it('lists every scenario with a title and what it expects', () => {
    const list = listScenarios();
    expect(list.map((s) => s.name)).toEqual([
      'leader-crash',
      'minority-partition',
      'leader-isolated',
      'prevote-stable-term',
      'lagging-snapshot',
      'add-remove-under-load',
      'remove-leader',
      'leadership-transfer',
    ]);
    for (const s of list) {
      expect(s.title.length).toBeGreaterThan(3);
      expect(s.description).toMatch(/Expect/);
    }
  });
});

describe.sequential('every scenario on one real 3-node cluster', () => {
  let c: TestCluster;
  const events: ClusterEvent[] = [];

  beforeAll(async () => {
    c = await startCluster('scenarios');
    c.sup.onEvent((e) => {
      if (e.kind === 'scenario') events.push(e);
    });
    const end = Date.now() + 30_000;
    while (!agreedLeader(c.sup.view())) {
      if (Date.now() > end) throw new Error('no leader within 30 s');
      await sleep(25);
    }
  }, 60_000);

  afterAll(async () => {
    await c?.teardown();
  }, 60_000);

  it('refuses an unknown scenario, naming the known ones', async () => {
    await expect(runScenario(c.engine, 'no-such')).rejects.toThrow(
      /no scenario named 'no-such'; known: leader-crash, minority-partition/,
    );
  });

  for (const s of SCENARIOS) {
    it(`${s.name} passes`, async () => {
      const seen: string[] = [];
      const off = c.sup.onView((v) => seen.push(`${v.scenario?.name}:${v.scenario?.state}`));
      const before = events.length;
      const run = await runScenario(c.engine, s.name);
      off();
      expect(run.state, failed(run)).toBe('passed');
      expect(run.steps.every((x) => x.state === 'done')).toBe(true);
      expect(run.steps.length).toBeGreaterThanOrEqual((s.plan?.length ?? 0) + 1);
      // The run was narrated: through the view while it ran, and one event per step.
      expect(c.sup.parts.scenario).toEqual(run);
      expect(seen).toContain(`${s.name}:running`);
      const mine = events.slice(before).filter((e) => e.message.startsWith(`${s.name}: `));
      for (const step of run.steps) {
        expect(mine.some((e) => e.message.startsWith(`${s.name}: ${step.text} — `))).toBe(true);
      }
      expect(events.at(-1)!.message).toMatch(new RegExp(`scenario ${s.name} passed`));
      const path = FAILOVER[s.name];
      if (path) expect(run.steps.map((x) => x.detail).join('\n')).toMatch(path);
    }, 120_000);
  }
});
