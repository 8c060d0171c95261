/**
 * End-to-end: an etcd cluster raftdeck did not start — three etcd processes started separately,
 * serving clients over TLS with client certificates made for the test — attached by one client
 * URL (the app's attached backend), its dashboard served in browser mode and opened in Chromium.
 * The page shows the three members and the leader etcd reports, the top bar says "attached ·
 * read-only", the Remove button is disabled with the reason, and the same removal asked of the
 * web API from the page is refused (409) and changes nothing. Frames go to test-results/attach/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAttachedBackend, type AttachedBackend } from '../../main/web/backends';
import { createSessionToken, startWebServer, type WebServer } from '../../main/web/server';
import { leaderOnScreen } from '../chromium';
import { startEtcdCluster, type TestEtcdCluster } from '../cluster/etcd/etcd-harness';
import { goTo, haveChromium, openPage, root, shotsDir, sleep, stopAll, until } from './e2e-harness';

const shots = shotsDir('attach');

let cluster: TestEtcdCluster | undefined;
let backend: AttachedBackend | undefined;
let server: WebServer | undefined;
let browser: Browser | undefined;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

describe.skipIf(!haveChromium)(
  'an attached etcd cluster (TLS, client certificates) in Chromium',
  () => {
    beforeAll(async () => {
      cluster = await startEtcdCluster({ members: 3, tls: true, name: 'e2e-attach' });
      backend = await openAttachedBackend({
        endpoints: [cluster.endpoints[1]!],
        tls: cluster.tls!,
      });
      server = await startWebServer({
        api: backend.api,
        pushes: backend.api,
        port: 0,
        token: createSessionToken(),
        staticDir: join(root, 'out', 'renderer'),
      });
      ({ browser, page } = await openPage(server.url));
    }, 90_000);

    afterAll(async () => {
      await stopAll({
        browser,
        close: [() => server?.close(), () => backend?.dispose()],
        pids: cluster?.pids() ?? [],
      });
      await cluster?.stop();
    }, 60_000);

    it('shows the three members, the leader etcd reports, and "attached · read-only"', async () => {
      const engine = backend!.engine;
      await goTo(page, 'overview');
      const leaders = await until('one leader on screen', async () => {
        const l = await leaderOnScreen(page);
        return l.length === 1 ? l : undefined;
      });
      expect(leaders[0]).toBe(engine.view().leader);
      const cards = page.locator('[data-test=node-card]');
      expect(await cards.count()).toBe(3);
      expect((await cards.allInnerTexts()).map((t) => /Node (\d+)/.exec(t)?.[1])).toEqual([
        '1',
        '2',
        '3',
      ]);
      const badge = page.locator('[data-test=engine-badge]');
      expect(await badge.innerText()).toMatch(/^etcd 3\.\d+\.\d+ · attached · read-only$/);
      await shot('overview');

      // Watching writes nothing: across three polls of every member the log does not grow, and
      // nothing happens that would make an event.
      const commit = engine.view().commit;
      const events = engine.allEvents().length;
      await sleep(3000);
      expect(engine.view().commit).toBe(commit);
      expect(engine.allEvents().length).toBe(events);
    });

    it('disables Remove with the reason, and the web API refuses the removal', async () => {
      const v = backend!.engine.view();
      const follower = v.nodes.find((n) => n.id !== v.leader)!.id;
      await goTo(page, 'membership');
      const remove = page.locator(`[data-action=remove-${follower}]`);
      await until('the Remove button', async () => (await remove.count()) > 0);
      expect(await remove.isDisabled()).toBe(true);
      expect(await remove.getAttribute('title')).toBe(
        'Unavailable on etcd: the cluster is attached read-only: changes need --allow-changes (and a confirmation)',
      );
      await shot('membership');

      // The same call from the page's own session, past the disabled button.
      const answer = await page.evaluate(async (id) => {
        const here = new URL(
          (globalThis as unknown as { location: { href: string } }).location.href,
        );
        const res = await fetch(`${here.origin}/api/call/removeNode`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${here.searchParams.get('token')}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify([id]),
        });
        return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string } };
      }, follower);
      expect(answer.status).toBe(409);
      expect(answer.body.ok).toBe(false);
      expect(answer.body.error).toMatch(/read-only: changes need --allow-changes/);
      const after = backend!.engine.view();
      expect(after.config.voters).toEqual([1, 2, 3]);
      expect(after.workflows).toEqual([]);

      await goTo(page, 'faults');
      await shot('faults');
    });
  },
);
