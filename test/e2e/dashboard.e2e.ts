/**
 * End-to-end: the real dashboard (the built renderer, browser mode) against a real 3-node cluster,
 * driven in Debian's Chromium. Screenshots of every view go to test-results/e2e/.
 * Needs `npm run build` and /usr/bin/chromium (or CHROMIUM_PATH); run with `npm run test:e2e`.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDashboard } from '../../main/cluster/dashboard';
import { leaderOnScreen } from '../chromium';
import {
  haveChromium,
  shotsDir,
  until,
  openClusterPage,
  goTo,
  type ClusterPage,
} from './e2e-harness';

const shots = shotsDir('e2e');

let local: LocalDashboard;
let deck: ClusterPage | undefined;
let page: Page;

const go = (view: string): Promise<void> => goTo(page, view);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

describe.skipIf(!haveChromium)('the dashboard in Chromium against a real cluster', () => {
  beforeAll(async () => {
    deck = await openClusterPage('raftdeck-e2e-');
    ({ local, page } = deck);
  }, 60_000);

  afterAll(async () => {
    await deck?.stop();
  }, 60_000);

  it('shows 3 nodes and one leader', async () => {
    await go('overview');
    const leaders = await until('one leader on screen', async () => {
      const l = await leaderOnScreen(page);
      return l.length === 1 ? l : undefined;
    });
    expect(await page.locator('.card', { hasText: /Node [123]\b/ }).count()).toBeGreaterThanOrEqual(
      3,
    );
    expect(leaders[0]).toBe(local.sup.view().leader);
    await shot('overview');
  }, 60_000);

  it('pressing Kill on the leader leads to a new leader on screen', async () => {
    const old = local.sup.view().leader;
    await go('faults');
    await page
      .getByRole('group', { name: `Node ${old} actions` })
      .getByRole('button', { name: 'Kill' })
      .click();
    // Kill asks first, naming the node and that it is the leader.
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain(`Kill node ${old}, the leader?`);
    await shot('confirm-kill');
    await page.locator('[data-test=confirm-yes]').click();
    await until(
      'the leader process to be killed',
      () => local.sup.view().nodes.find((n) => n.id === old)!.process.state === 'crashed',
    );
    await go('overview');
    const fresh = await until('a new leader on screen', async () => {
      const l = await leaderOnScreen(page);
      return l.length === 1 && l[0] !== old ? l[0] : undefined;
    });
    expect(fresh).toBe(local.sup.view().leader);
    await shot('overview-after-kill');
    await go('faults');
    await page
      .getByRole('group', { name: `Node ${old} actions` })
      .getByRole('button', { name: 'Restart' })
      .click();
    await until(
      'the old leader back as a follower',
      () => local.sup.view().nodes.find((n) => n.id === old)!.raft?.role === 'follower',
    );
  }, 60_000);

  it('add node walks through learner to voter', async () => {
    await go('membership');
    await page.locator('[data-test="add-node"]').click();
    await expect
      .poll(async () => page.getByText('add as learner').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await shot('membership-adding');
    const wf = await until(
      'the add-node workflow to finish',
      () => {
        const w = local.sup.view().workflows.find((x) => x.kind === 'add-node');
        return w && w.state !== 'running' ? w : undefined;
      },
      60_000,
    );
    expect(wf.state, wf.error ?? '').toBe('done');
    expect(local.sup.view().nodes.find((n) => n.id === wf.node)!.membership).toBe('voter');
    await expect
      .poll(async () => page.getByText('promote to voter').count(), { timeout: 5000 })
      .toBeGreaterThan(0);
    await shot('membership-done');
  }, 90_000);

  it('isolating the leader makes it step down and the others elect', async () => {
    const old = local.sup.view().leader;
    await go('faults');
    await page
      .getByRole('group', { name: `Node ${old} actions` })
      .getByRole('button', { name: 'Isolate' })
      .click();
    await go('overview');
    const fresh = await until(
      'a new leader on screen',
      async () => {
        const l = await leaderOnScreen(page);
        return l.length === 1 && l[0] !== old ? l[0] : undefined;
      },
      30_000,
    );
    expect(fresh).not.toBe(old);
    await until(
      'the isolated node to step down',
      () => local.sup.view().nodes.find((n) => n.id === old)!.raft?.role !== 'leader',
    );
    await shot('overview-isolated');
    await go('faults');
    await shot('faults');
    await page.getByRole('button', { name: 'Clear all' }).first().click();
    await until('the network to heal', () =>
      local.sup.view().nodes.every((n) => !n.faults.isolated),
    );
  }, 60_000);

  it('a partition and quorum loss read right on screen, and Clear all brings everything back', async () => {
    await until('a leader', () => local.sup.view().leader !== 0, 30_000);
    const leader = local.sup.view().leader;
    const others = local.sup
      .view()
      .nodes.filter((n) => n.membership === 'voter' && n.id !== leader)
      .map((n) => n.id);
    const alone = others[0]!;
    await local.api.partition([
      local.sup
        .view()
        .nodes.map((n) => n.id)
        .filter((id) => id !== alone),
      [alone],
    ]);
    await go('overview');
    await until('the cut-off node badged cut-off', async () =>
      (
        await page.locator('[data-test=node-card]', { hasText: `Node ${alone}` }).textContent()
      )?.includes('cut-off'),
    );
    // One partition is one fault, not a list of per-link rules.
    const strip = (await page.locator('section[aria-label="Active faults"]').textContent()) ?? '';
    expect(strip).toContain('1 active fault');
    expect(strip).toContain('partition');
    await shot('partition');

    // Quorum lost: every voter but one killed; the top bar says so in words, and keeps the commit.
    const voters = local.sup.view().config.voters;
    const survivor = voters.find((v) => v !== leader) ?? voters[0]!;
    await local.api.healNetwork();
    for (const v of voters) if (v !== survivor) await local.api.killNode(v);
    const quorum = page.locator('[data-test=top-quorum]');
    await until('the top bar to say the quorum is lost', async () =>
      (await quorum.textContent())?.includes('no quorum:'),
    );
    expect(await page.locator('[data-test=top-commit]').textContent()).not.toMatch(/^\s*0\s*$/);
    await shot('quorum-lost');

    await go('faults');
    await page.getByRole('button', { name: 'Clear all faults' }).click();
    await until(
      'every node back and a leader',
      () => {
        const v = local.sup.view();
        return v.leader !== 0 && v.nodes.every((n) => n.process.state === 'running');
      },
      40_000,
    );
    await until(
      'the quorum back on screen',
      async () => !(await quorum.textContent())?.includes('no quorum'),
    );
    await until(
      'the toast saying what Clear all did',
      async () => (await page.getByText(/Cleared all faults: .*started node/).count()) > 0,
    );
  }, 120_000);

  it('starting the workload moves the charts and the checker reports ok', async () => {
    await go('workload');
    await page.locator('[data-test="start-workload"]').click();
    await until(
      'throughput samples',
      () => (local.sup.view().workload?.samples.filter((s) => s.opsPerSec > 0).length ?? 0) >= 3,
      30_000,
    );
    await shot('workload-running');
    const ok = await page
      .getByRole('group', { name: 'Totals' })
      .innerText()
      .catch(async () => page.locator('.totals').innerText());
    expect(ok).toMatch(/\d/);
    await page.locator('[data-test="stop-workload"]').click();
    await until('the workload to stop', () => local.sup.view().workload?.running === false);
    await page.locator('[data-test="check-history"]').click();
    const verdict = page.locator('[data-test="verdict"]');
    await expect
      .poll(async () => (await verdict.count()) > 0 && (await verdict.innerText()), {
        timeout: 30_000,
      })
      .toMatch(/Linearizable/);
    expect(await verdict.innerText()).toContain('✓ Linearizable');
    await shot('workload-checked');
  }, 90_000);

  it('every other view renders', async () => {
    for (const v of ['node', 'replication', 'snapshots', 'client', 'events', 'scenarios']) {
      await go(v);
      await shot(v);
    }
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await go('overview');
    expect(errors).toEqual([]);
  }, 60_000);
});
