/**
 * End-to-end: the Topology view in Chromium against a real 3-node cluster slowed down 20 times,
 * as a presenter would show it: a killed leader, the followers' election timers filling, a
 * pre-candidate and a candidate with votes in flight, a new leader; a partition drawn as cut
 * links while the cut-off node's timer keeps expiring; an added node receiving a snapshot with its
 * progress band moving. Frames go to test-results/topology-e2e/ (1920×1080 dark, and 1280×800
 * light at the end).
 *
 * The nodes run with short timeouts (heartbeat 50 ms, election 300 ms at real time) so that at
 * 20× an election timeout lasts 6–12 s, not 20–40 s: the same mechanism, within CI's time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAdmin } from '../../main/cluster/admin-link';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { Supervisor } from '../../main/cluster/supervisor';
import { RaftdeckEngine } from '../../main/cluster/raftdeck-engine';
import type { NodeId } from '../../main/contract/view';
import { createSessionToken, startWebServer } from '../../main/web/server';
import type { WebServer } from '../../main/web/server';
import {
  haveChromium,
  nodePids,
  openPage,
  shotsDir,
  sleep,
  stopAll,
  until,
  root,
} from './e2e-harness';

const shots = shotsDir('topology-e2e');

const PACE = 20;

let dir: string;
let sup: Supervisor;
let api: ClusterDashboard;
let server: WebServer;
let browser: Browser;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** roleOnScreen: the role the Topology view draws for node `id` ('none' when it has none). */
async function roleOnScreen(id: NodeId): Promise<string | null> {
  return page.locator(`[data-node="${id}"]`).first().getAttribute('data-role');
}

/** nodesWithRole: the ids the Topology view draws in `role`. */
async function nodesWithRole(role: string): Promise<NodeId[]> {
  return page.$$eval(`[data-node][data-role="${role}"]`, (els) =>
    els.map((e) => Number(e.getAttribute('data-node'))),
  );
}

/** arcFill: how far node `id`'s timer arc is drawn, in [0, 1] (from its dash offset). */
async function arcFill(id: NodeId): Promise<number> {
  return page.$eval(`circle[data-timer="${id}"]`, (el) => {
    const dash = Number(el.getAttribute('stroke-dasharray'));
    const off = Number(el.getAttribute('stroke-dashoffset') ?? dash);
    return dash > 0 ? 1 - off / dash : 0;
  });
}

/** voteDotsInFlight: a pre-vote or vote request or answer is drawn on a link now. */
async function voteDotsInFlight(): Promise<boolean> {
  return page.$$eval('path.topo-dots', (els) =>
    els.some(
      (e) =>
        /\bf-(pre-vote|vote)\b/.test(e.getAttribute('class') ?? '') &&
        (e.getAttribute('d') ?? '').length > 0,
    ),
  );
}

describe.skipIf(!haveChromium)('the Topology view at 20× pace against real nodes', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftdeck-topology-e2e-'));
    sup = new Supervisor({
      dir,
      nodes: 3,
      connect: connectAdmin,
      timing: { tickMs: 10, heartbeatMs: 50, electionMs: 300 },
      // Small chunks: the snapshot below takes several round trips, each slowed down.
      snapshotChunkBytes: 256 * 1024,
    });
    await sup.start();
    api = new ClusterDashboard(new RaftdeckEngine(sup));
    server = await startWebServer({
      api,
      pushes: api,
      port: 0,
      token: createSessionToken(),
      staticDir: join(root, 'out', 'renderer'),
    });
    ({ browser, page } = await openPage(server.url, {
      viewport: { width: 1920, height: 1080 },
      colorScheme: 'dark',
    }));
    await until('a leader at real time', () => sup.view().leader !== 0, 30_000);
    // Data for the snapshot later, written at real time: about 6 MiB in the image.
    const value = 'v'.repeat(24 * 1024);
    for (let i = 0; i < 256; i += 16) {
      await Promise.all(
        Array.from({ length: 16 }, (_, j) => api.kvPut(`blob-${i + j}`, value)).map(async (p) => {
          const r = await p;
          if (!r.ok) throw new Error(`put failed: ${r.error}`);
        }),
      );
    }
    // Nodes keep 1000 entries behind a snapshot: write more, so that one leaves node 4 behind.
    for (let i = 0; i < 1200; i += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, j) => api.kvPut(`small-${i + j}`, 'x')));
    }
    await api.setPace(PACE, false);
    await until('every node at 20×', () => sup.view().pace.pace === PACE, 10_000);
  }, 120_000);

  afterAll(async () => {
    await stopAll({
      browser,
      close: [() => server?.close(), () => api?.close(), () => sup?.stop()],
      pids: nodePids(sup),
      dir,
    });
  }, 60_000);

  it('opens on the Topology view, with the pace on the top bar', async () => {
    await until('the ring', () => page.locator('[data-test="topology"]').isVisible(), 20_000);
    const leader = sup.view().leader;
    await until('the leader drawn', async () => (await roleOnScreen(leader)) === 'leader', 10_000);
    expect(await page.locator('header.topbar').innerText()).toContain(`${PACE}×`);
    await shot('1-steady');
  }, 60_000);

  it('kill -9 of the leader: timers fill, a pre-candidate and a candidate ask for votes, a new leader', async () => {
    const old = sup.view().leader;
    const followers = sup
      .view()
      .nodes.map((n) => n.id)
      .filter((id) => id !== old);
    await api.killNode(old);

    // With fast failover off, the followers hear nothing and their arcs fill.
    const fills: number[] = [];
    for (let i = 0; i < 3; i++) {
      fills.push(Math.max(...(await Promise.all(followers.map(arcFill)))));
      await shot(`2-timers-${i + 1}`);
      if (i < 2) await sleep(1000);
    }
    expect(fills[2]!).toBeGreaterThan(fills[0]!);
    expect(fills[2]!).toBeGreaterThan(0.05);

    // Watch closely until a new leader: the campaign's stages and its messages.
    const seen = { preCandidate: 0, candidate: 0, voteDots: false };
    const newLeader = await until(
      'a new leader on screen',
      async () => {
        const pre = await nodesWithRole('pre-candidate');
        const cand = await nodesWithRole('candidate');
        if (pre.length && !seen.preCandidate) {
          seen.preCandidate = pre[0]!;
          await shot('3-pre-candidate');
        }
        if (cand.length && !seen.candidate) {
          seen.candidate = cand[0]!;
          await shot('4-candidate');
        }
        if (!seen.voteDots && (await voteDotsInFlight())) {
          seen.voteDots = true;
          await shot('5-votes-in-flight');
        }
        const leaders = (await nodesWithRole('leader')).filter((id) => id !== old);
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      60_000,
      50,
    );
    await shot('6-new-leader');
    expect(followers).toContain(newLeader);
    expect(seen.preCandidate).not.toBe(0);
    expect(seen.candidate).not.toBe(0);
    expect(seen.voteDots).toBe(true);
    // The old leader is drawn down.
    expect(await page.locator(`[data-node="${old}"]`).first().getAttribute('class')).toMatch(
      /down|crashed|stopped/,
    );
    await api.restartNode(old);
    await until(
      'the old leader back as a follower in the new term',
      async () =>
        (await roleOnScreen(old)) === 'follower' &&
        sup.view().nodes.find((n) => n.id === old)?.raft?.term === sup.view().term,
      60_000,
    );
  }, 150_000);

  it('a partition is drawn as cut links while the cut-off node keeps timing out', async () => {
    const v = sup.view();
    const alone = v.nodes.find((n) => n.id !== v.leader)!.id;
    const rest = v.nodes.map((n) => n.id).filter((id) => id !== alone);
    const termBefore = v.nodes.find((n) => n.id === alone)!.raft!.term;
    await api.partition([rest, [alone]]);
    try {
      await cutOffNodeTimesOut(alone, termBefore);
    } finally {
      await api.healNetwork();
    }
    await until(
      'the links up again',
      async () => (await page.locator('[data-link][data-state="cut"]').count()) === 0,
      20_000,
    );
  }, 120_000);

  /** cutOffNodeTimesOut: the partition of `alone` on screen, and its timer expiring. */
  async function cutOffNodeTimesOut(alone: NodeId, termBefore: number): Promise<void> {
    const cut = await until(
      'cut links on screen',
      async () => {
        const keys = await page.$$eval('[data-link][data-state="cut"]', (els) =>
          els.map((e) => e.getAttribute('data-link') ?? ''),
        );
        return keys.length >= 2 ? keys : undefined;
      },
      20_000,
    );
    for (const k of cut) expect(k.split('-').map(Number)).toContain(alone);
    // Its timer fills, expires (it turns pre-candidate, and cannot win), and starts again.
    let peak = 0;
    let expired = false;
    await until(
      'the cut-off node timing out and starting again',
      async () => {
        const f = await arcFill(alone);
        if (f > peak) peak = f;
        if (peak > 0.5 && f < 0.2) expired = true;
        return expired && (await roleOnScreen(alone)) === 'pre-candidate';
      },
      60_000,
      100,
    );
    await shot('7-partition');
    // PreVote: the cut-off node never raised its term.
    expect(sup.view().nodes.find((n) => n.id === alone)!.raft!.term).toBe(termBefore);
  }

  it('an added node receives a snapshot, its band moving along the link', async () => {
    const leader = sup.view().leader;
    const r = await sup.admin(leader).call<{ index: number }>('snapshot');
    expect(r.index).toBeGreaterThan(0);
    await api.addNode();
    const sentFrames: number[] = [];
    await until(
      'the snapshot transfer seen in three frames',
      async () => {
        const label = page.locator('.band-label').first();
        if ((await label.count()) === 0) return sentFrames.length >= 3;
        const m = /snapshot ([\d.]+) of ([\d.]+) MiB/.exec((await label.textContent()) ?? '');
        if (m && (sentFrames.length === 0 || Number(m[1]) > sentFrames.at(-1)!)) {
          sentFrames.push(Number(m[1]));
          await shot(`8-snapshot-${sentFrames.length}`);
        }
        return sentFrames.length >= 3;
      },
      90_000,
      150,
    );
    expect(sentFrames.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < sentFrames.length; i++) {
      expect(sentFrames[i]!).toBeGreaterThan(sentFrames[i - 1]!);
    }
    await until(
      'node 4 on the ring',
      () => sup.view().nodes.some((n) => n.id === 4 && n.raft && n.raft.snapshotIndex > 0),
      90_000,
    );
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    await sleep(500);
    await shot('9-after-join-1280-light');
  }, 200_000);
});
