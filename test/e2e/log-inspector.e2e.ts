/**
 * End-to-end: the log inspector (the built renderer, browser mode) against a real 3-node cluster
 * in Debian's Chromium. A put made through the dashboard API is found by its key, by its typed
 * index and by a click on a replication strip, each showing the key, the value and the three
 * nodes holding it with their times. Screenshots go to test-results/e2e/log-*.png.
 * Needs `npm run build` and /usr/bin/chromium (or CHROMIUM_PATH); run with `npm run test:e2e`.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDashboard } from '../../main/cluster/dashboard';
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
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** holders: each node row of the inspector's table as [node, state]. */
async function holders(): Promise<[string, string][]> {
  const rows = page.locator('[data-test=insp-holders] tbody tr[data-node]');
  const out: [string, string][] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const r = rows.nth(i);
    out.push([(await r.getAttribute('data-node'))!, (await r.getAttribute('data-state'))!]);
  }
  return out;
}

/** expectPut: the inspector shows the put of `value` on k-inspect at `index`, held by 1, 2, 3. */
async function expectPut(index: number, value: string): Promise<void> {
  const title = page.locator('[data-test=insp-title]');
  await until(`index ${index} in the inspector`, async () =>
    (await title.textContent())?.includes(`Index ${index}`),
  );
  await until('the put in the inspector', async () =>
    (await page.locator('[data-test=insp-value]').textContent())?.includes(value),
  );
  expect(await page.locator('[data-test=insp-kind]').textContent()).toContain('put');
  expect(await page.locator('[data-test=insp-key-value]').textContent()).toBe('k-inspect');
  await until('three nodes holding it', async () => {
    const h = await holders();
    return h.length === 3 && h.every(([, s]) => s === 'holds');
  });
  expect((await holders()).map(([n]) => n)).toEqual(['1', '2', '3']);
  // Every node says when it appended, committed and applied the entry.
  const text = await page.locator('[data-test=insp-holders]').innerText();
  expect(text.match(/\d\d:\d\d:\d\d\.\d\d\d/g)?.length).toBe(3);
  expect(text.match(/[+−]\d+ ms/g)?.length).toBe(6);
}

describe.skipIf(!haveChromium)('the log inspector in Chromium against a real cluster', () => {
  let value: string;
  let index: number;

  beforeAll(async () => {
    deck = await openClusterPage('raftdeck-e2e-log-');
    ({ local, page } = deck);
    await until('a leader', () => local.sup.view().leader !== 0, 30_000);
    value = `v-inspect-${Date.now()}`;
    const put = await local.api.kvPut('k-inspect', value);
    expect(put.error).toBeNull();
    // Its index, as the cluster reports it (the UI must find the same).
    const r = await local.api.logEntries({ from: 1, count: 10, key: 'k-inspect' });
    index = r.rows[0]!.index;
    await until('every node to apply it', () =>
      local.sup.view().nodes.every((n) => (n.raft?.applied ?? 0) >= index),
    );
  }, 90_000);

  afterAll(async () => {
    await deck?.stop();
  }, 60_000);

  it('finds the put by its key', async () => {
    await go('replication');
    await page.locator('[data-test=insp-key]').fill('k-inspect');
    await page.locator('[data-test=insp-key]').press('Enter');
    await until('the search result', async () =>
      (await page.locator('[data-test=insp-results]').textContent())?.includes(`#${index}`),
    );
    await expectPut(index, value);
    await page.locator('[data-test=log-inspector]').scrollIntoViewIfNeeded();
    await shot('log-inspector-key');
  });

  it('shows the put by its typed index', async () => {
    await page.locator('[data-test=insp-index]').fill(String(index));
    await page.locator('[data-test=insp-index]').press('Enter');
    await expectPut(index, value);
    await shot('log-inspector-index');
  });

  it('a click at the end of a replication strip opens the last entry, the put', async () => {
    await go('overview');
    await go('replication');
    // Nothing was written after the put: it is the last index on every strip.
    const strip = page.locator('[data-test=log-strip][data-node="2"]');
    const box = (await strip.boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await until('the cursor on the last index', async () =>
      (await page.locator('[data-test=strip-cursor]').textContent())?.includes(`#${index}`),
    );
    await shot('log-strip-hover');
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    await expectPut(index, value);
    // And from the keyboard: focus, one step back, Enter: the entry before it.
    await strip.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await until('the entry before the put', async () =>
      (await page.locator('[data-test=insp-title]').textContent())?.includes(`Index ${index - 1}`),
    );
    await shot('log-inspector-before');
  });
});
