// Screenshots of the log inspector on a real 3-node cluster (snapshots every 200 entries): a
// key's entries after a workload, the put found, an index compacted into the snapshots, a long
// log picked from its strip, and a cut-off leader's write conflicting with the new leader's
// entry, each in light and dark, into test-results/log-inspector/.
// Needs `npm run build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// Run: npx tsx scripts/log-inspector-screenshots.ts
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { ClusterDashboard } from '../main/cluster/dashboard';
import { KvClient } from '../main/node/client';
import type { LogReadResult } from '../main/node/log-inspect';
import { createSessionToken, startWebServer } from '../main/web/server';
import { startCluster } from '../test/cluster/cluster-harness';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';
import { root, shotsDir, sleep, until } from '../test/e2e/e2e-harness';

const out = shotsDir('log-inspector');

async function main(): Promise<void> {
  const cluster = await startCluster('log-shots');
  const api = new ClusterDashboard(cluster.engine);
  const server = await startWebServer({
    api,
    pushes: api,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await until('a leader', () => cluster.sup.view().leader !== 0);
    await api.startWorkload({
      clients: 4,
      rate: 0,
      keys: 5,
      readRatio: 0.2,
      casRatio: 0.1,
      valueBytes: 24,
      seconds: 0,
    });
    await until(
      'every log compacted',
      () => cluster.sup.view().nodes.every((n) => (n.raft?.firstIndex ?? 0) > 5),
      60_000,
    );
    await api.stopWorkload();
    // A key the workload wrote (its keys carry the run's prefix).
    const last = cluster.sup.view().nodes.find((n) => n.id === cluster.sup.view().leader)!.raft!;
    const tail = await api.logEntries({ from: last.lastIndex - 20, count: 20 });
    const workloadKey = tail.rows.find((r) => r.entry?.key !== undefined)?.entry?.key;
    if (workloadKey === undefined) throw new Error('no workload write in the last 20 entries');
    const put = await api.kvPut('k-inspect', `v-inspect-${Date.now()}`);
    if (put.error) throw new Error(`put failed: ${put.error}`);

    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    const shoot = async (
      name: string,
      act: (p: Page) => Promise<void>,
      full = true,
    ): Promise<void> => {
      for (const theme of ['light', 'dark'] as const) {
        await page.evaluate((t) => {
          const g = globalThis as unknown as {
            localStorage: { setItem(k: string, v: string): void };
          };
          g.localStorage.setItem('raftdeck.theme', t);
        }, theme);
        await page.goto(`${server.url.split('#')[0]}#/replication`);
        await page.reload();
        await sleep(700);
        await act(page);
        await sleep(600);
        await page.screenshot({ path: join(out, `${name}-${theme}.png`), fullPage: full });
      }
      console.log(`log-inspector-screenshots: ${name}`);
    };
    await shoot('key-search', async (p) => {
      await p.locator('[data-test=insp-key]').fill(workloadKey);
      await p.locator('[data-test=insp-key]').press('Enter');
    });
    await shoot('put-found', async (p) => {
      await p.locator('[data-test=insp-key]').fill('k-inspect');
      await p.locator('[data-test=insp-key]').press('Enter');
    });
    await shoot('compacted', async (p) => {
      await p.locator('[data-test=insp-index]').fill('2');
      await p.locator('[data-test=insp-index]').press('Enter');
    });
    await shoot(
      'strip-hover',
      async (p) => {
        const strip = p.locator('[data-test=log-strip][data-node="1"]');
        const box = (await strip.boundingBox())!;
        await p.mouse.click(box.x + box.width * 0.4, box.y + box.height / 2);
        await sleep(300);
        await p.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
      },
      false,
    );

    // A conflict: the leader cut off takes a write; the others elect and write over its index.
    const old = cluster.sup.view().leader;
    await cluster.sup.isolate(old);
    const client = new KvClient({
      endpoints: [cluster.sup.get(old).rec.client],
      timeoutMs: 400,
      maxRetries: 0,
    });
    await client.put('k-lost', 'written-on-the-cut-off-leader').catch(() => undefined);
    await client.close();
    const lost = await cluster.sup
      .admin(old)
      .call<LogReadResult>('log-entries', { from: 1, count: 10, key: 'k-lost' });
    const at = lost.entries[0]?.index;
    if (at === undefined) throw new Error('the cut-off leader did not take the write');
    await until('a new leader', () => ![0, old].includes(cluster.sup.view().leader));
    await api.kvPut('k-won', 'on-the-new-leader');
    await sleep(500);
    await shoot('conflict', async (p) => {
      await p.locator('[data-test=insp-index]').fill(String(at));
      await p.locator('[data-test=insp-index]').press('Enter');
      await sleep(300);
      await p.locator('[data-test=log-inspector]').scrollIntoViewIfNeeded();
    });
    await cluster.sup.heal();
  } finally {
    await browser.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    await api.close().catch(() => undefined);
    await cluster.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
