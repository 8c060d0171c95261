/**
 * End-to-end: a lab cluster (`raftdeck lab`, browser mode) in Chromium, driven with its own
 * controls as a teacher would: paused at once, stepped to the first election, then message by
 * message until a granted vote is on its way to the candidate, which becomes leader one event
 * later; then every message from the leader to one follower dropped from the in-flight list until
 * that follower's election timer runs out and it campaigns; and a simulator seed run with a
 * test-only mutation of the core, opened on the step where it broke durability, named on the
 * banner, with Play refused. Frames go to test-results/lab/.
 *
 * Determinism: the lab runs seed 1 and is paused through the dashboard API right after it starts
 * (within a few virtual ms, long before any election timeout of 1–2 s), so every later step is
 * the seed's own; each click waits for the view it asked for (the step count or the list
 * changes), never for a fixed time.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveLab, type LabServer } from '../../main/cli/commands/lab';
import type { NodeId } from '../../main/contract/view';
import { simSeedOptions } from '../../main/lab/sim-replay';
import { haveChromium, openPage, root, shotsDir, stopAll, until } from './e2e-harness';

const shots = shotsDir('lab');
const staticDir = join(root, 'out', 'renderer');

/** Row: one row of the in-flight list as the page shows it. */
interface Row {
  id: number;
  from: NodeId;
  to: NodeId;
  type: string;
  words: string;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** stepsOnScreen: the lab bar's step count ("step 1234"). */
async function stepsOnScreen(page: Page): Promise<number> {
  const text = (await page.locator('[data-test=lab-steps]').textContent()) ?? '';
  const m = /step (\d+)/.exec(text);
  if (!m) throw new Error(`the lab bar shows no step count: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** lastStepOnScreen: the lab bar's last step in words ('' when it shows none). */
async function lastStepOnScreen(page: Page): Promise<string> {
  const el = page.locator('[data-test=lab-last-step]');
  return (await el.count()) ? ((await el.textContent()) ?? '') : '';
}

/** ScreenState: what the Topology page shows of the lab at one moment. */
interface ScreenState {
  steps: number;
  roles: Record<number, string>;
  fills: Record<number, number>;
  rows: Row[];
  /** lastStep: the lab bar's last step in words ('' when it shows none). */
  lastStep: string;
}

/**
 * screenState reads, in one go, the step count, every node's role as the Topology draws it, how
 * far each timer arc is drawn (in [0, 1], from its dash offset), the in-flight list and the last
 * step in words.
 */
async function screenState(page: Page): Promise<ScreenState> {
  return page.$eval('body', (body) => {
    const document = body.ownerDocument;
    const m = /step (\d+)/.exec(document.querySelector('[data-test=lab-steps]')?.textContent ?? '');
    const roles: Record<number, string> = {};
    for (const el of document.querySelectorAll('[data-node][data-role]'))
      roles[Number(el.getAttribute('data-node'))] ??= el.getAttribute('data-role') ?? '';
    const fills: Record<number, number> = {};
    for (const el of document.querySelectorAll('circle[data-timer]')) {
      const dash = Number(el.getAttribute('stroke-dasharray'));
      const off = Number(el.getAttribute('stroke-dashoffset') ?? dash);
      fills[Number(el.getAttribute('data-timer'))] = dash > 0 ? 1 - off / dash : 0;
    }
    const rows = [...document.querySelectorAll('[data-test=lab-msg-row]')].map((el) => {
      const head = el.querySelector('[data-test=lab-msg-select] strong')?.textContent ?? '';
      const [from, to] = head.split('→').map((x: string) => Number(x.trim()));
      return {
        id: Number(el.getAttribute('data-msg-id')),
        from: from!,
        to: to!,
        type: el.querySelector('.type')?.textContent?.trim() ?? '',
        words: el.querySelector('[data-test=lab-msg-words]')?.textContent?.trim() ?? '',
      };
    });
    const lastStep = document.querySelector('[data-test=lab-last-step]')?.textContent ?? '';
    return { steps: m ? Number(m[1]) : -1, roles, fills, rows, lastStep };
  });
}

/** rowsOnScreen: the in-flight list, top to bottom (by delivery time). */
async function rowsOnScreen(page: Page): Promise<Row[]> {
  return (await screenState(page)).rows;
}

/** nodesWithRole: the ids the Topology view draws in `role`. */
async function nodesWithRole(page: Page, role: string): Promise<NodeId[]> {
  const { roles } = await screenState(page);
  return Object.keys(roles)
    .map(Number)
    .filter((id) => roles[id] === role);
}

/**
 * step clicks one of the lab bar's step buttons and waits until the bar shows a later step
 * count, returning the last step in words.
 */
async function step(page: Page, until_: 'message' | 'tick' | 'event'): Promise<string> {
  const before = await stepsOnScreen(page);
  await page.locator(`[data-test=lab-step-${until_}]`).click();
  await until(
    `the lab bar to show a step after ${before} (Next ${until_})`,
    async () => (await stepsOnScreen(page)) > before,
    10_000,
    20,
  );
  return lastStepOnScreen(page);
}

describe.skipIf(!haveChromium)('a lab cluster in Chromium, stepped by hand', () => {
  let lab: LabServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let leader: NodeId = 0;

  beforeAll(async () => {
    lab = await serveLab({ start: { kind: 'seed', seed: 1, nodes: 3 }, port: 0, staticDir });
    // Paused at once: a few virtual ms have passed, no election timeout (1–2 s) is near.
    await lab.dashboard.labControl({ kind: 'pause' });
    const paused = await lab.dashboard.getView();
    if (paused.lab!.now >= 1000 || paused.nodes.some((n) => n.role !== 'follower'))
      throw new Error(
        `the lab ran to t=${paused.lab!.now} ms before it was paused (roles ${paused.nodes.map((n) => n.role).join(', ')}): too late to pause before the first election`,
      );
    ({ browser, page } = await openPage(`${lab.server.url}#/topology`, {
      viewport: { width: 1440, height: 900 },
    }));
    await until('the lab bar', () => page.locator('[data-test=lab-bar]').isVisible(), 20_000);
    await until(
      'three nodes drawn',
      async () => (await page.locator('[data-node][data-role]').count()) >= 3,
    );
  }, 60_000);

  afterAll(async () => {
    await stopAll({ browser, close: [() => lab?.close()], pids: [] });
  }, 60_000);

  it('pauses during the first election and steps message by message until a vote is granted; the candidate then leads', async () => {
    expect(await page.locator('[data-test=lab-play]').getAttribute('aria-pressed')).toBe('false');
    expect(await page.locator('[data-test=lab-source]').textContent()).toContain('seed 1');
    expect(await nodesWithRole(page, 'leader')).toEqual([]);

    // Next event until a node's timer runs out and it campaigns (pre-vote first).
    let campaigner: NodeId | undefined;
    for (let i = 0; i < 20 && campaigner === undefined; i++) {
      await step(page, 'event');
      campaigner = [
        ...(await nodesWithRole(page, 'pre-candidate')),
        ...(await nodesWithRole(page, 'candidate')),
      ][0];
    }
    expect(campaigner, 'a node campaigns within 20 events').toBeDefined();
    expect(await nodesWithRole(page, 'leader')).toEqual([]);
    await until('its requests listed in flight', async () =>
      (await rowsOnScreen(page)).some((r) => r.from === campaigner && /vote/.test(r.type)),
    );
    await shot(page, '1-campaign-paused');

    // Next message until a granted vote (not a pre-vote) is on its way to the campaigner: its
    // row in the in-flight list has type vote-resp and says "vote granted".
    let granted: Row | undefined;
    const seen = new Set<string>();
    for (let i = 0; i < 40 && granted === undefined; i++) {
      await step(page, 'message');
      const rows = await rowsOnScreen(page);
      for (const r of rows) seen.add(`${r.type}: ${r.words}`);
      granted = rows.find(
        (r) => r.type === 'vote-resp' && r.words === 'vote granted' && r.to === campaigner,
      );
    }
    expect(granted, `a granted vote in flight; seen: ${[...seen].join('; ')}`).toBeDefined();
    // It went through a pre-vote first, and a candidate asked for the vote.
    expect(seen).toContain('pre-vote-resp: pre-vote granted');
    expect([...seen].some((s) => s.startsWith('vote: vote request'))).toBe(true);
    expect(await nodesWithRole(page, 'candidate')).toEqual([campaigner]);
    // The vote is drawn on its lane, as an answer.
    await expect
      .poll(() => page.locator(`[data-lab-msg="${granted!.id}"]`).getAttribute('data-type'))
      .toBe('vote-resp');
    await page
      .locator(`[data-test=lab-msg-row][data-msg-id="${granted!.id}"]`)
      .scrollIntoViewIfNeeded();
    await shot(page, '2-vote-granted-in-flight');

    // Next event: the granted vote arrives and the candidate becomes leader.
    const last = await step(page, 'event');
    expect(last).toContain(`delivered vote-resp ${granted!.from}→${granted!.to}`);
    expect(last).toContain(`#${granted!.id})`);
    await until(
      `node ${campaigner} drawn as leader`,
      async () => (await nodesWithRole(page, 'leader')).join() === String(campaigner),
    );
    await until('the top bar names the leader', async () =>
      ((await page.locator('[data-test=top-leader]').textContent()) ?? '').includes(
        `node ${campaigner}`,
      ),
    );
    leader = campaigner!;
    expect(await page.locator('[data-test=lab-play]').getAttribute('aria-pressed')).toBe('false');
    await shot(page, '3-leader-elected');
  }, 60_000);

  it('drops the leader’s heartbeats to one follower until that follower’s timer runs out and it campaigns', async () => {
    expect(leader, 'the first test elected a leader').not.toBe(0);
    const follower = ([1, 2, 3] as NodeId[]).find((id) => id !== leader)!;
    const other = ([1, 2, 3] as NodeId[]).find((id) => id !== leader && id !== follower)!;

    // Next message until a heartbeat from the leader to the follower is in flight.
    let beat: Row | undefined;
    for (let i = 0; i < 60 && beat === undefined; i++) {
      await step(page, 'message');
      beat = (await rowsOnScreen(page)).find(
        (r) => r.type === 'heartbeat' && r.from === leader && r.to === follower,
      );
    }
    expect(beat, `a heartbeat ${leader}→${follower} in flight`).toBeDefined();
    const row = page.locator(`[data-test=lab-msg-row][data-msg-id="${beat!.id}"]`);
    const dot = page.locator(`[data-lab-msg="${beat!.id}"]`);
    expect(await dot.getAttribute('data-type')).toBe('heartbeat');
    await row.locator('[data-test=lab-msg-select]').click();
    await shot(page, '4-heartbeat-in-flight');

    // Drop it: gone from the list and the drawing, and the lab says what it dropped.
    await row.locator('[data-test=lab-drop]').click();
    await until('the dropped heartbeat gone from the list', async () => (await row.count()) === 0);
    await until(
      'the dropped heartbeat gone from the drawing',
      async () => (await dot.count()) === 0,
    );
    await until('the toast naming the drop', async () =>
      (await page.locator('.toast').allTextContents()).some((t) =>
        t.includes(`dropped heartbeat ${leader}→${follower}`),
      ),
    );
    await shot(page, '5-heartbeat-dropped');

    // Every later message from the leader to the follower is dropped too, as soon as it is
    // listed; the other follower hears the leader as usual. The lab is stepped with its keys:
    // 'n' (next message) while something is on the network, 't' (next tick) while nothing is, so
    // that a message from the leader is listed (sent at the leader's tick) before it can arrive.
    // The follower's arc fills until its election timer runs out and it campaigns (a pre-vote:
    // the term stays, and the others, hearing their leader, refuse it).
    let drops = 1;
    const fills: number[] = [];
    let halfShot = false;
    let s = await screenState(page);
    for (let i = 0; i < 1500; i++) {
      if (s.roles[follower] !== 'follower') break;
      fills.push(s.fills[follower] ?? 0);
      if (!halfShot && (s.fills[follower] ?? 0) >= 0.5) {
        halfShot = true;
        await shot(page, '6-follower-timer-filling');
      }
      const toFollower = s.rows.find((r) => r.from === leader && r.to === follower);
      const before = s.steps;
      if (toFollower) {
        await page
          .locator(`[data-test=lab-msg-row][data-msg-id="${toFollower.id}"] [data-test=lab-drop]`)
          .click();
        s = await until(`message #${toFollower.id} gone from the list`, async () => {
          const now = await screenState(page);
          return now.rows.every((r) => r.id !== toFollower.id) ? now : undefined;
        });
        expect(s.lastStep).toMatch(
          new RegExp(`^dropped ${toFollower.type} ${leader}→${follower} \\(term \\d+\\)$`),
        );
        drops++;
        continue;
      }
      const key = s.rows.length ? 'n' : 't';
      await page.keyboard.press(key);
      s = await until(
        `the lab bar to show a step after ${before} (key ${key})`,
        async () => {
          const now = await screenState(page);
          return now.steps > before ? now : undefined;
        },
        10_000,
        10,
      );
      // Nothing from the leader reached the follower.
      expect(s.lastStep).not.toContain(`delivered heartbeat ${leader}→${follower}`);
      expect(s.lastStep).not.toContain(`delivered app ${leader}→${follower}`);
    }
    expect(await nodesWithRole(page, 'pre-candidate')).toEqual([follower]);
    // The arc filled as it waited: it was past half and grew to near full.
    expect(halfShot, `arc fills seen: ${fills.join(', ')}`).toBe(true);
    expect(Math.max(...fills)).toBeGreaterThan(0.9);
    expect(drops).toBeGreaterThan(5);
    // The leader and the other follower kept their roles.
    expect(await nodesWithRole(page, 'leader')).toEqual([leader]);
    expect(await nodesWithRole(page, 'follower')).toEqual([other]);
    await until('the follower’s pre-vote requests listed', async () =>
      (await rowsOnScreen(page)).some((r) => r.from === follower && r.type === 'pre-vote'),
    );
    await shot(page, '7-follower-campaigns');
  }, 180_000);
});

describe.skipIf(!haveChromium)('a broken simulator seed opened in the lab', () => {
  let lab: LabServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    lab = await serveLab({
      start: {
        kind: 'sim-seed',
        request: { seed: 1, options: simSeedOptions({ mutation: 'send-before-fsync' }) },
      },
      port: 0,
      staticDir,
    });
    ({ browser, page } = await openPage(`${lab.server.url}#/topology`, {
      viewport: { width: 1440, height: 900 },
    }));
  }, 60_000);

  afterAll(async () => {
    await stopAll({ browser, close: [() => lab?.close()], pids: [] });
  }, 60_000);

  it('lands on the failing step with the invariant and the nodes named, and refuses to play', async () => {
    const banner = page.locator('[data-test=lab-failure]');
    await until('the failure banner', () => banner.isVisible(), 20_000);
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(await banner.getAttribute('data-invariant')).toBe('durability');
    const text = (await banner.textContent()) ?? '';
    const m = /Invariant broken at step (\d+) \(t = [\d.]+ s\): durability — nodes ([\d, ]+):/.exec(
      text,
    );
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBe(46);
    expect(m![2]).toBe('3, 1');
    // The lab stands on that step.
    expect(await stepsOnScreen(page)).toBe(46);
    expect(await lastStepOnScreen(page)).toContain('right after durability broke');
    // The badge is cut to its width; its title names the seed and its mutation whole.
    expect(await page.locator('[data-test=lab-source]').getAttribute('title')).toBe(
      `lab · ${lab!.source}`,
    );
    expect(lab!.source).toContain('simulator seed 1 with mutation send-before-fsync');
    expect(await page.locator('[data-test=lab-play]').getAttribute('aria-pressed')).toBe('false');
    await shot(page, '8-broken-seed');

    // Play and the steps are disabled with the reason; the lab refuses them through the API too.
    for (const c of ['lab-play', 'lab-step-message', 'lab-step-tick', 'lab-step-event']) {
      const b = page.locator(`[data-test=${c}]`);
      expect(await b.isDisabled(), c).toBe(true);
      expect(await b.getAttribute('title'), c).toContain(
        'The run stopped at step 46: durability was broken',
      );
    }
    await expect(lab!.dashboard.labControl({ kind: 'play' })).rejects.toThrow(
      'the run stopped at step 46: durability was broken',
    );
    await expect(lab!.dashboard.labControl({ kind: 'step', until: 'message' })).rejects.toThrow(
      'the run stopped at step 46',
    );
    await page.keyboard.press('n');
    expect(await page.locator('[data-test=lab-play]').getAttribute('aria-pressed')).toBe('false');
    expect(await stepsOnScreen(page)).toBe(46);
    const view = await lab!.dashboard.getView();
    expect(view.lab?.steps).toBe(46);
    expect(view.lab?.playing).toBe(false);
    await shot(page, '9-play-refused');
  }, 60_000);
});
