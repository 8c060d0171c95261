/**
 * chromium: what the end-to-end test, the screenshots script and the dashboard benchmark share
 * about driving Debian's Chromium through playwright-core.
 */
import type { Page } from 'playwright-core';

/** CHROMIUM_PATH: the browser binary (CHROMIUM_PATH, default Debian's /usr/bin/chromium). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** CHROMIUM_ARGS: headless, no sandbox (CI runs as root), no GPU and nothing reaching out. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** leaderOnScreen: the ids of the overview's node cards that show the Leader badge. */
export async function leaderOnScreen(page: Page): Promise<number[]> {
  const cards = page.locator('.card', { hasText: /Node \d+/ });
  const ids: number[] = [];
  for (let i = 0; i < (await cards.count()); i++) {
    const c = cards.nth(i);
    if ((await c.getByText('Leader', { exact: true }).count()) > 0) {
      const m = /Node (\d+)/.exec(await c.innerText());
      if (m) ids.push(Number(m[1]));
    }
  }
  return ids;
}
