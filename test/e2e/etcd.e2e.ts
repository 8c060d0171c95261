/**
 * End-to-end: the real dashboard (built renderer, browser mode) on a local etcd cluster raftdeck
 * started, in Chromium: the top bar names etcd; a kill of the leader from the Faults page shows a
 * new leader; a partition through the peer proxies shows the minority without a leader while
 * the majority keeps one; Add node walks a learner to voter; what etcd cannot do is disabled with
 * the reason. Screenshots go to test-results/etcd/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { MemoryRecording } from '../../main/cluster/recording/memory-recording';
import { createSessionToken, startWebServer, type WebServer } from '../../main/web/server';
import { leaderOnScreen } from '../chromium';
import { startEtcdEngine, type TestEtcdEngine } from '../cluster/etcd/engine-harness';
import { haveEtcd } from '../etcd';
import { goTo, haveChromium, openPage, root, shotsDir, stopAll, until } from './e2e-harness';

const shots = shotsDir('etcd');

describe.skipIf(!haveChromium || !haveEtcd)(
  'the dashboard in Chromium on a local etcd cluster',
  () => {
    let c: TestEtcdEngine | undefined;
    let api: ClusterDashboard | undefined;
    let server: WebServer | undefined;
    let browser: Browser | undefined;
    let page: Page;

    const shot = (name: string): Promise<Buffer> =>
      page.screenshot({ path: join(shots, `${name}.png`) });
    const view = () => c!.engine.view();

    beforeAll(async () => {
      c = await startEtcdEngine('etcd-e2e');
      api = new ClusterDashboard(c.engine, new MemoryRecording());
      server = await startWebServer({
        api,
        pushes: api,
        port: 0,
        token: createSessionToken(),
        staticDir: join(root, 'out', 'renderer'),
      });
      ({ browser, page } = await openPage(server.url));
    }, 60_000);

    afterAll(async () => {
      await stopAll({
        browser,
        close: [() => server?.close(), () => api?.close(), () => c?.teardown()],
        pids: c?.engine.pids() ?? [],
      });
    }, 60_000);

    it('names etcd in the top bar and shows three members with one leader', async () => {
      await goTo(page, 'overview');
      const leaders = await until('one leader on screen', async () => {
        const l = await leaderOnScreen(page);
        return l.length === 1 ? l : undefined;
      });
      expect(leaders[0]).toBe(view().leader);
      const top = (await page.locator('header').first().textContent()) ?? '';
      expect(top).toMatch(/etcd 3\.[45]\.\d+ · local/);
      await shot('overview');
    }, 60_000);

    it('Kill on the leader leads to a new leader on screen', async () => {
      const old = view().leader;
      await goTo(page, 'faults');
      await page
        .getByRole('group', { name: `Node ${old} actions` })
        .getByRole('button', { name: 'Kill' })
        .click();
      await page.locator('[data-test=confirm-yes]').click();
      await goTo(page, 'overview');
      const fresh = await until(
        'a new leader on screen',
        async () => {
          const l = await leaderOnScreen(page);
          return l.length === 1 && l[0] !== old ? l[0] : undefined;
        },
        30_000,
      );
      expect(fresh).toBe(view().leader);
      await shot('overview-after-kill');
      await api!.restartNode(old);
      await until('every member running', () =>
        view().nodes.every((n) => n.process.state === 'running' && n.health === 'healthy'),
      );
    }, 90_000);

    it('a partition through the proxies leaves the minority without a leader', async () => {
      await until('a leader', () => view().leader !== 0);
      const leader = view().leader;
      const alone = view().nodes.find((n) => n.id !== leader)!.id;
      const rest = view()
        .nodes.map((n) => n.id)
        .filter((id) => id !== alone);
      await api!.partition([rest, [alone]]);
      await goTo(page, 'overview');
      await until('the minority member badged cut-off', async () =>
        (
          await page.locator('[data-test=node-card]', { hasText: `Node ${alone}` }).textContent()
        )?.includes('cut-off'),
      );
      // the minority has no leader of its own; the majority keeps one
      const minority = view().nodes.find((n) => n.id === alone)!;
      expect(minority.raft?.leader ?? 0).not.toBe(alone);
      expect(minority.role).not.toBe('leader');
      expect(rest).toContain(view().leader);
      const onScreen = await leaderOnScreen(page);
      expect(onScreen).toEqual([view().leader]);
      await shot('partition');
      await api!.healNetwork();
      await until('the member back', () =>
        view().nodes.every((n) => n.health === 'healthy' && n.process.state === 'running'),
      );
    }, 90_000);

    it('Add node walks a learner to voter', async () => {
      await goTo(page, 'membership');
      await page.locator('[data-test="add-node"]').click();
      const wf = await until(
        'the add-node workflow to finish',
        () => {
          const w = view().workflows.find((x) => x.kind === 'add-node');
          return w && w.state !== 'running' ? w : undefined;
        },
        90_000,
      );
      expect(wf.state, wf.error ?? '').toBe('done');
      expect(view().nodes.find((n) => n.id === wf.node)!.membership).toBe('voter');
      await expect
        .poll(async () => page.getByText('promote to voter').count(), { timeout: 5000 })
        .toBeGreaterThan(0);
      await shot('membership-done');
    }, 120_000);

    it('shows what etcd cannot do as unavailable, with the reason', async () => {
      await goTo(page, 'faults');
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toMatch(/etcd has no hook to slow its fsync/);
      await shot('faults');
      await goTo(page, 'topology');
      await shot('topology');
    }, 60_000);

    it("shows what etcd reports about a member on the node's page", async () => {
      const id = view().leader;
      await goTo(page, `node/${id}`);
      const panel = page.locator('[data-test=engine-stats]');
      await until('the etcd figures on the node page', async () =>
        /WAL fsync/.test((await panel.textContent()) ?? ''),
      );
      const text = (await panel.textContent()) ?? '';
      expect(text).toContain('etcd reports');
      expect(text).toMatch(/DB size\s*[\d.]+ (B|KiB|MiB)/);
      expect(text).toMatch(/proposals\s*\d+ pending/);
      expect(text).toMatch(/peer node \d+\s*connected/);
      await shot('node');
    }, 60_000);
  },
);
