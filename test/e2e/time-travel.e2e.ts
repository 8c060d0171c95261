/**
 * End-to-end: time travel and the message inspector in Chromium against a real 3-node cluster.
 * The leader is killed; scrubbing the replay bar back to a second before the kill shows the old
 * leader on the top bar, marked "replaying"; forward past the election, the new one; the
 * message inspector at that moment shows that election's vote messages; "Back to live" follows
 * the cluster again. Screenshots go to test-results/e2e/time-travel-*.png.
 * Needs `npm run build` and /usr/bin/chromium (or CHROMIUM_PATH); run with `npm run test:e2e`.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDashboard } from '../../main/cluster/dashboard';
import {
  haveChromium,
  shotsDir,
  sleep,
  until,
  openClusterPage,
  type ClusterPage,
} from './e2e-harness';

const shots = shotsDir('e2e');

let local: LocalDashboard;
let deck: ClusterPage | undefined;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `time-travel-${name}.png`) });
}

/** scrub drags the replay bar's slider to instant `t` (as a person's drag does: input events). */
async function scrub(t: number): Promise<void> {
  await page.locator('[data-test=replay-slider]').evaluate((el, v) => {
    const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, t);
}

const topLeader = () => page.locator('[data-test=top-leader]').innerText();
const topTerm = () => page.locator('[data-test=top-term]').innerText();

describe.skipIf(!haveChromium)('time travel in Chromium against a real cluster', () => {
  beforeAll(async () => {
    deck = await openClusterPage('raftdeck-e2e-tt-', {
      viewport: { width: 1440, height: 900 },
    });
    ({ local, page } = deck);
  }, 60_000);

  afterAll(async () => {
    await deck?.stop();
  }, 60_000);

  it('scrubs back to the old leader, forward to the new one, shows the election’s votes, and goes back to live', async () => {
    const old = await until('a leader', () => local.sup.view().leader || undefined);
    const oldTerm = local.sup.view().term;
    await until('the leader on the top bar', async () =>
      (await topLeader()).includes(`node ${old}`),
    );
    await sleep(1500); // a stretch of recording with the old leader
    const killedAt = Date.now();
    await local.api.killNode(old);
    const fresh = await until('a new leader', () => {
      const l = local.sup.view().leader;
      return l !== 0 && l !== old ? l : undefined;
    });
    const electedAt = Date.now();
    const freshTerm = local.sup.view().term;
    expect(freshTerm).toBeGreaterThan(oldTerm);
    await until('the new leader on the top bar', async () =>
      (await topLeader()).includes(`node ${fresh}`),
    );
    // The replay bar's range reaches past the election (it is asked for every 2 s).
    await until(
      'the recording to reach past the election',
      async () =>
        Number(await page.locator('[data-test=replay-slider]').getAttribute('max')) > electedAt,
    );
    await shot('1-live');

    // Back to one second before the kill: the old leader, marked as replaying.
    await scrub(killedAt - 1000);
    await until('the old leader on the top bar', async () =>
      (await topLeader()).includes(`node ${old}`),
    );
    expect(await topTerm()).toBe(String(oldTerm));
    expect(await page.locator('[data-test=top-replaying]').innerText()).toMatch(
      /replaying\s+\d\d:\d\d:\d\d\.\d{3}/,
    );
    expect(await page.locator('[data-test=top-conn]').count()).toBe(0);
    expect(await page.locator('[data-test=replay-state]').innerText()).toContain('replaying');
    expect(await page.locator('header').innerText()).not.toMatch(/\blive\b/);
    await shot('2-before-kill');

    // Forward past the election: the new leader.
    const after = electedAt + 500;
    await scrub(after);
    await until('the new leader on the top bar while replaying', async () =>
      (await topLeader()).includes(`node ${fresh}`),
    );
    expect(await topTerm()).toBe(String(freshTerm));
    expect(await page.locator('[data-test=top-replaying]').count()).toBe(1);
    await shot('3-after-election');

    // Nothing can be changed at a recorded moment.
    await page.locator('nav [data-page="faults"]').click();
    const kill = page.locator(`[data-action="kill-${fresh}"]`);
    await kill.waitFor();
    expect(await kill.isDisabled()).toBe(true);
    expect(await kill.getAttribute('title')).toContain('Replaying a recorded moment');

    // The message inspector at that moment: the election's votes.
    await page.locator('nav [data-page="messages"]').click();
    await page.locator('[data-test=messages-table]').waitFor();
    expect(new URL(page.url()).hash).toContain(`at=${after}`);
    await page.locator('[data-type="vote"]').click();
    await page.locator('[data-type="vote-resp"]').click();
    const votes = await until('the vote messages of the election', async () => {
      const rows = await page.locator('[data-test=message-row]').allInnerTexts();
      return rows.length > 0 ? rows : undefined;
    });
    const requests = votes.filter((r) => /\bvote\b/.test(r) && !r.includes('vote-resp'));
    expect(requests.some((r) => r.includes(`${fresh} → `) && r.includes(String(freshTerm)))).toBe(
      true,
    );
    const granted = page.locator('[data-test=message-row][data-sig=vote-granted]');
    expect(await granted.count()).toBeGreaterThan(0);
    expect(await granted.first().innerText()).toContain(`→ ${fresh}`);
    await shot('4-votes');

    // Back to live.
    await page.locator('[data-test=back-to-live]').click();
    await until(
      'live again',
      async () => (await page.locator('[data-test=top-conn]').count()) === 1,
    );
    expect(await page.locator('[data-test=top-conn]').innerText()).toContain('live');
    expect(await topLeader()).toContain(`node ${fresh}`);
    expect(new URL(page.url()).hash).not.toContain('at=');
    await shot('5-back-to-live');
  }, 60_000);
});
