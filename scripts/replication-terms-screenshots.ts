// Screenshots of the Replication page's term colours on a real 3-node cluster: entries written
// in three terms (two leadership transfers), then the leader cut off with writes nobody else
// holds while the others elect and write over those indexes, so its strip shows its own term
// where the new leader has another; light and dark, into test-results/replication-terms/. The
// page is opened only at the end: every term it shows comes from the nodes' own reports.
// Needs `npm run build` and Chromium (/usr/bin/chromium or CHROMIUM_PATH).
//
// Run: npx tsx scripts/replication-terms-screenshots.ts
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ClusterDashboard } from '../main/cluster/dashboard';
import { KvClient } from '../main/node/client';
import { createSessionToken, startWebServer } from '../main/web/server';
import { startCluster } from '../test/cluster/cluster-harness';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/chromium';
import { root, shotsDir, sleep, until } from '../test/e2e/e2e-harness';

const out = shotsDir('replication-terms');

async function main(): Promise<void> {
  const cluster = await startCluster('term-shots');
  const api = new ClusterDashboard(cluster.engine);
  const server = await startWebServer({
    api,
    pushes: api,
    port: 0,
    token: createSessionToken(),
    staticDir: join(root, 'out', 'renderer'),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const leader = (): number => cluster.sup.view().leader;
  const writes = async (n: number, tag: string): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const r = await api.kvPut(`k-${tag}-${i % 4}`, `${tag}-${i}`);
      if (r.error) throw new Error(`put failed: ${r.error}`);
    }
  };
  try {
    await until('a leader', () => leader() !== 0);
    await writes(20, 'a');
    for (let round = 0; round < 2; round++) {
      const from = leader();
      const to = [1, 2, 3].find((id) => id !== from)!;
      await api.transferLeader(to);
      await until(`node ${to} leading`, () => leader() === to);
      await writes(15, `t${round}`);
    }
    // The leader cut off takes writes nobody else sees; the others elect and write over them.
    const old = leader();
    await cluster.sup.isolate(old);
    const client = new KvClient({
      endpoints: [cluster.sup.get(old).rec.client],
      timeoutMs: 300,
      maxRetries: 0,
    });
    for (let i = 0; i < 6; i++) {
      await client.put(`k-lost-${i}`, 'written-on-the-cut-off-leader').catch(() => undefined);
    }
    await client.close();
    await until('a new leader', () => ![0, old].includes(leader()));
    await writes(10, 'won');
    await sleep(500);

    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    for (const theme of ['light', 'dark'] as const) {
      await page.goto(server.url);
      await page.evaluate((t) => {
        const g = globalThis as unknown as {
          localStorage: { setItem(k: string, v: string): void };
        };
        g.localStorage.setItem('raftdeck.theme', t);
      }, theme);
      await page.goto(`${server.url.split('#')[0]}#/replication`);
      await page.reload();
      await sleep(1200);
      await page.screenshot({ path: join(out, `replication-${theme}.png`) });
      console.log(`replication-terms-screenshots: replication-${theme}`);
    }
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
