// The lab cluster through the dashboard API, on a manual host: determinism (same seed and
// actions, same views), schedules that replay a run, the lab controls and the client calls.
import { describe, expect, it } from 'vitest';
import type { ClusterView, LabView, MessageBatch, NodeId } from '../../main/contract/view';
import {
  createLabDashboard,
  replaySchedule,
  type LabDashboard,
} from '../../main/lab/lab-dashboard';
import { parseLabSchedule, type LabSchedule } from '../../main/lab/lab-schedule';
import { ManualHost } from '../../main/web/lab-host';

const lab = (v: ClusterView): LabView => v.lab!;

/** settle: let the host run ms of real time (frames), then let promise callbacks run. */
async function settle(host: ManualHost, ms: number): Promise<void> {
  host.advance(ms);
  await Promise.resolve();
}

/** steadyLab: a lab of seed `seed` that has elected a leader. */
async function steadyLab(seed: number): Promise<{ host: ManualHost; api: LabDashboard }> {
  const host = new ManualHost();
  const api = createLabDashboard({ seed, host });
  for (let i = 0; i < 40 && (await api.getView()).leader === 0; i++) await settle(host, 250);
  expect((await api.getView()).leader).not.toBe(0);
  return { host, api };
}

/**
 * session: one scripted lab session: steps, a dropped message, a crash losing unsynced state, a
 * partition, a put, a short workload, healing and a restart. It returns every view pushed and
 * every view read after an action, the events and the schedule.
 */
async function session(seed: number) {
  const host = new ManualHost();
  const api = createLabDashboard({ seed, host });
  const pushed: string[] = [];
  api.onView((v) => pushed.push(JSON.stringify(v)));
  const read: string[] = [];
  const snap = async () => read.push(JSON.stringify(await api.getView()));
  await settle(host, 2000);
  await api.labControl({ kind: 'pause' });
  for (let i = 0; i < 3; i++) await api.labControl({ kind: 'step', until: 'message' });
  await api.labControl({ kind: 'step', until: 'tick' });
  let v = await api.getView();
  while (lab(v).inFlight.length === 0) {
    await api.labControl({ kind: 'step', until: 'tick' });
    v = await api.getView();
  }
  await api.labControl({ kind: 'drop', id: lab(v).inFlight[0]!.id });
  await snap();
  await api.labControl({ kind: 'play' });
  await settle(host, 500);
  const leader = (await api.getView()).leader;
  const follower = ([1, 2, 3] as NodeId[]).find((id) => id !== leader)!;
  await api.labControl({ kind: 'crash', node: follower, unsynced: 'lost' });
  await snap();
  await api.partition([[leader], [1, 2, 3].filter((id) => id !== leader)]);
  await settle(host, 1500);
  const put = api.kvPut('k', 'v');
  await settle(host, 6000);
  await put;
  await api.healNetwork();
  await api.restartNode(follower);
  await api.startWorkload({
    clients: 2,
    rate: 40,
    keys: 3,
    readRatio: 0.3,
    casRatio: 0.1,
    valueBytes: 8,
    seconds: 0,
  });
  await settle(host, 1000);
  await api.stopWorkload();
  await settle(host, 300);
  await api.labControl({ kind: 'pause' });
  await snap();
  const schedule = (await api.exportLabSchedule()).json;
  const events = JSON.stringify(await api.getEvents(0));
  const final = JSON.stringify(await api.getView());
  api.dispose();
  return { pushed, read, schedule, events, final };
}

describe('the lab cluster through the dashboard API', () => {
  it('is deterministic: the same seed and actions give the same views; another seed differs', async () => {
    const a = await session(5);
    const b = await session(5);
    expect(a.pushed.length).toBeGreaterThan(10);
    expect(b.pushed).toEqual(a.pushed);
    expect(b.read).toEqual(a.read);
    expect(b.events).toEqual(a.events);
    const c = await session(6);
    expect(c.final).not.toEqual(a.final);
  }, 60_000);

  it('replays an exported schedule to the same run: the same events and the same final view', async () => {
    const a = await session(7);
    const schedule = parseLabSchedule(a.schedule, 'session.json');
    expect(schedule.actions.map((x) => x.call)).toContain('kvPut');
    expect(schedule.actions.map((x) => x.call)).toContain('labControl');
    const host = new ManualHost();
    const replayed = createLabDashboard({ schedule, host });
    // The replay says where it comes from; everything else is the same run.
    const from = (s: string) => s.replaceAll('schedule of seed 7', 'seed 7');
    expect(from(JSON.stringify(await replayed.getEvents(0)))).toEqual(a.events);
    expect(from(JSON.stringify(await replayed.getView()))).toEqual(a.final);
    expect(lab(await replayed.getView()).source).toBe('schedule of seed 7');
    // The replayed session exports the same schedule again.
    expect(JSON.parse((await replayed.exportLabSchedule()).json)).toEqual(JSON.parse(a.schedule));
    replayed.dispose();
  }, 60_000);

  it('replaySchedule runs a schedule for the simulator: its steps, and the invariants it broke', async () => {
    const a = await session(7);
    const schedule = parseLabSchedule(a.schedule);
    expect(replaySchedule(schedule)).toEqual({ violations: [], steps: schedule.steps });
    const broken = replaySchedule({
      ...schedule,
      options: { mutation: 'send-before-fsync' },
      actions: [],
    });
    expect(broken.violations.length).toBeGreaterThan(0);
    expect(broken.violations[0]).toMatch(/before its term was durable/);
    expect(broken.steps).toBeLessThan(schedule.steps);
    expect(() =>
      parseLabSchedule('{"format":"raftdeck-lab-schedule","version":2}', 'x.json'),
    ).toThrow(/x\.json: version 2 is not supported/);
  }, 60_000);

  it('a scenario’s actions are in the schedule: its replay is the same run', async () => {
    const { host, api } = await steadyLab(14);
    await api.runScenario('leader-crash');
    for (let i = 0; i < 100 && (await api.getView()).scenario?.state === 'running'; i++)
      await settle(host, 200);
    expect((await api.getView()).scenario!.state).toBe('passed');
    await api.labControl({ kind: 'pause' });
    const schedule = parseLabSchedule((await api.exportLabSchedule()).json);
    expect(schedule.actions.map((a) => a.call)).toEqual([
      'runScenario',
      'killNode',
      'restartNode',
      'labControl',
    ]);
    const replayed = createLabDashboard({ schedule, host: new ManualHost() });
    // The scenario's narration (its run in the view, its events, which count in `version`) is
    // not replayed; the cluster is.
    const strip = (v: ClusterView) => ({
      ...v,
      version: 0,
      scenario: null,
      lab: { ...v.lab!, source: '' },
    });
    expect(strip(await replayed.getView())).toEqual(strip(await api.getView()));
    api.dispose();
    replayed.dispose();
  }, 60_000);

  it('refuses a schedule whose actions are not on its seed’s run, naming the action', async () => {
    const a = await session(7);
    const schedule = parseLabSchedule(a.schedule);
    const moved = schedule.actions.map((x, i) => (i === 2 ? { ...x, step: x.step + 3 } : x));
    expect(() =>
      createLabDashboard({ schedule: { ...schedule, actions: moved }, host: new ManualHost() }),
    ).toThrow(/schedule action 3: the run does not reach step \d+ at/);
  }, 60_000);

  it('keeps the key-value store in snapshots: a node that joins after compaction holds every key', async () => {
    const { host, api } = await steadyLab(13);
    await api.startWorkload({
      clients: 4,
      rate: 0,
      keys: 7,
      readRatio: 0,
      casRatio: 0,
      valueBytes: 8,
      seconds: 0,
    });
    for (
      let i = 0;
      i < 50 && !(await api.getView()).nodes.every((n) => n.raft!.firstIndex > 3);
      i++
    )
      await settle(host, 200);
    await api.stopWorkload();
    await settle(host, 500);
    const { workflowId } = await api.addNode();
    await settle(host, 4000);
    const v = await api.getView();
    expect(v.workflows.find((w) => w.id === workflowId)!.state).toBe('done');
    const events = await api.getEvents(0);
    const joined = v.nodes.find((n) => n.id === 4)!;
    expect(joined.raft!.snapshotIndex).toBeGreaterThan(0);
    expect(joined.kv).toEqual(v.nodes.find((n) => n.id === v.leader)!.kv);
    expect(joined.kv!.keys).toBe(7);
    // The snapshot's life is in the event stream, in the real cluster's words.
    const snapshots = events.filter((e) => e.kind === 'snapshot').map((e) => e.message);
    expect(snapshots.some((m) => /took a snapshot at \d+ and compacted its log/.test(m))).toBe(
      true,
    );
    expect(
      snapshots.some((m) => new RegExp(`sends snapshot \\d+ \\(\\d+ bytes\\) to 4`).test(m)),
    ).toBe(true);
    expect(snapshots.some((m) => /node 4 installed snapshot \d+ from \d/.test(m))).toBe(true);
    api.dispose();
  }, 60_000);

  it('nodeLogs tells what a node did, in the node log’s line shape', async () => {
    const { api } = await steadyLab(2);
    const v = await api.getView();
    const lines = await api.nodeLogs(v.leader, 50);
    const won = lines.find((l) => l.msg === `node ${v.leader} is leader of term ${v.term}`);
    expect(won).toMatchObject({ level: 'info', node: v.leader, term: v.term });
    expect(typeof won!.t).toBe('number');
    expect(won!.t as number).toBeLessThanOrEqual(v.now);
    await expect(api.nodeLogs(9, 5)).rejects.toThrow(/no node 9/);
    api.dispose();
  });

  it('names what it cannot do: a message not in flight, a node that does not exist', async () => {
    const { api } = await steadyLab(2);
    await api.labControl({ kind: 'pause' });
    await expect(api.labControl({ kind: 'drop', id: 987654 })).rejects.toThrow(/#987654/);
    await expect(api.labControl({ kind: 'delay', id: 987654, ms: 10 })).rejects.toThrow(/#987654/);
    await expect(api.labControl({ kind: 'crash', node: 42, unsynced: 'kept' })).rejects.toThrow(
      /node 42/,
    );
    api.dispose();
  });

  it('at a pace above 1, every message is held on its way as the real nodes hold theirs', async () => {
    const { host, api } = await steadyLab(5);
    const flights = async (): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 400 && seen.length < 5; i++) {
        await settle(host, 20);
        for (const m of lab(await api.getView()).inFlight) seen.push(m.deliverAt - m.sentAt);
      }
      return seen;
    };
    expect(Math.max(...(await flights()))).toBeLessThan(20);
    await api.setPace(20, false);
    const slow = await flights();
    expect(slow.length).toBeGreaterThan(0);
    for (const ms of slow) expect(ms).toBeGreaterThanOrEqual(200);
    api.dispose();
  });

  it('samples the messages push as real nodes do, and leaves nothing out while stepping', async () => {
    const { host, api } = await steadyLab(6);
    const batches: MessageBatch[] = [];
    api.onMessages((b) => batches.push(b));
    await api.startWorkload({
      clients: 8,
      rate: 0,
      keys: 5,
      readRatio: 0,
      casRatio: 0,
      valueBytes: 8,
      seconds: 0,
    });
    for (let i = 0; i < 45; i++) await settle(host, 20); // 900 ms: one sampling window
    await api.stopWorkload();
    await settle(host, 100);
    const perSlot = new Map<string, number>();
    for (const b of batches)
      for (const t of b.traces) {
        const k = `${t.from}-${t.to}/${t.type}`;
        perSlot.set(k, (perSlot.get(k) ?? 0) + 1);
      }
    // 900 ms fall in at most two one-second windows of the sampler: at most 2 × 10 per slot.
    expect(Math.max(...perSlot.values())).toBeLessThanOrEqual(20);
    const skipped = batches.reduce(
      (n, b) => n + Object.values(b.skipped).reduce((a, x) => a + x, 0),
      0,
    );
    expect(skipped).toBeGreaterThan(0);
    // Stepping, each message taken off the network was pushed when it was sent.
    await settle(host, 1100);
    await api.labControl({ kind: 'pause' });
    batches.length = 0;
    const delivered: string[] = [];
    for (let i = 0; i < 25; i++) {
      const r = await api.labControl({ kind: 'step', until: 'message' });
      const m = /delivered (\S+) (\d+)→(\d+) \(term \d+, #\d+\)/.exec(r.summary);
      if (m) delivered.push(`${m[2]}-${m[3]}/${m[1]}`);
    }
    await settle(host, 100);
    const pushed = batches.flatMap((b) => b.traces.map((t) => `${t.from}-${t.to}/${t.type}`));
    expect(delivered.length).toBeGreaterThan(10);
    for (const d of delivered.slice(3)) expect(pushed).toContain(d);
    expect(batches.every((b) => Object.keys(b.skipped).length === 0)).toBe(true);
    api.dispose();
  });

  it('paused, no virtual time passes; a message step runs exactly one delivery', async () => {
    const { host, api } = await steadyLab(3);
    await api.labControl({ kind: 'pause' });
    const before = lab(await api.getView());
    await settle(host, 5000);
    const still = lab(await api.getView());
    expect(still.now).toBe(before.now);
    expect(still.steps).toBe(before.steps);
    expect(still.playing).toBe(false);
    const received = async () => {
      let n = 0;
      for (const from of [1, 2, 3])
        for (const to of [1, 2, 3])
          if (from !== to) for (const c of (await api.linkDetail(from, to)).byType) n += c.received;
      return n;
    };
    let delivered = 0;
    let held = 0;
    for (let i = 0; i < 12; i++) {
      const r0 = await received();
      const prior = lab(await api.getView()).inFlight;
      const { summary } = await api.labControl({ kind: 'step', until: 'message' });
      const after = lab(await api.getView());
      const n = (await received()) - r0;
      if (n === 1) {
        // It delivered the next message, which had been in flight.
        delivered++;
        const id = Number(/#(\d+)\)/.exec(summary)![1]);
        expect(prior.map((m) => m.id)).toContain(id);
        expect(after.inFlight.map((m) => m.id)).not.toContain(id);
      } else {
        // Or it stopped before delivering a message it had just put on the network.
        held++;
        expect(n).toBe(0);
        expect(summary).toMatch(/now on the network/);
        expect(after.inFlight[0]!.id).toBeGreaterThan(Math.max(0, ...prior.map((m) => m.id)));
      }
    }
    expect(delivered).toBeGreaterThan(0);
    expect(held).toBeGreaterThan(0);
    api.dispose();
  });

  it('stepping message by message, every message is in flight before it is delivered', async () => {
    const { api } = await steadyLab(8);
    await api.labControl({ kind: 'pause' });
    const seen = new Set<number>();
    let deliveries = 0;
    for (let i = 0; i < 150; i++) {
      for (const m of lab(await api.getView()).inFlight) seen.add(m.id);
      const { summary } = await api.labControl({ kind: 'step', until: 'message' });
      const m = /^(?:ran \d+ steps; the last )?delivered .*#(\d+)\)$/.exec(summary);
      if (!m) continue;
      deliveries++;
      expect(seen.has(Number(m[1])), summary).toBe(true);
    }
    expect(deliveries).toBeGreaterThan(50);
    api.dispose();
  });

  it('a dropped vote request is never delivered', async () => {
    const { api } = await steadyLab(4);
    await api.labControl({ kind: 'pause' });
    const v = await api.getView();
    // Votes to one follower spend 300 ms on the network (a link rule), so one is seen in flight.
    for (const n of v.nodes)
      if (n.id !== v.leader)
        await api.setLinkRules(n.id, [{ from: '*', types: ['vote'], delayMs: 300 }]);
    await api.labControl({ kind: 'crash', node: v.leader, unsynced: 'kept' });
    let vote: number | undefined;
    for (let i = 0; i < 5000 && vote === undefined; i++) {
      await api.labControl({ kind: 'step', until: 'message' });
      vote = lab(await api.getView()).inFlight.find(
        (m) => m.type === 'vote' && m.to !== v.leader,
      )?.id;
    }
    expect(vote, (await api.getEvents(0)).map((e) => e.message).join('\n')).toBeDefined();
    const { summary } = await api.labControl({ kind: 'drop', id: vote! });
    expect(summary).toMatch(/^dropped vote \d→\d \(term \d+\)$/);
    expect(lab(await api.getView()).inFlight.map((m) => m.id)).not.toContain(vote);
    for (let i = 0; i < 300; i++) {
      const s = await api.labControl({ kind: 'step', until: 'message' });
      expect(s.summary).not.toContain(`#${vote})`);
    }
    api.dispose();
  });

  it('align timers sets every follower to the same election timer, and provokes a split vote', async () => {
    let split = 0;
    for (let seed = 1; seed <= 12 && split === 0; seed++) {
      const { host, api } = await steadyLab(seed);
      await api.labControl({ kind: 'pause' });
      const v0 = await api.getView();
      await api.labControl({ kind: 'timers', how: 'align' });
      const followers = (await api.getView()).nodes.filter((n) => n.id !== v0.leader);
      const timers = followers.map((n) => n.raft!.timer);
      for (const t of timers) {
        expect(t.electionElapsed).toBe(timers[0]!.electionElapsed);
        expect(t.electionTimeout).toBe(timers[0]!.electionTimeout);
      }
      await api.labControl({ kind: 'timers', how: 'spread' });
      const spread = (await api.getView()).nodes
        .filter((n) => n.id !== v0.leader)
        .map((n) => n.raft!.timer.electionTimeout);
      expect(new Set(spread).size).toBe(spread.length);
      await api.labControl({ kind: 'timers', how: 'align' });
      const since = (await api.getEvents(0)).at(-1)!.seq;
      await api.isolateNode(v0.leader);
      await api.labControl({ kind: 'play' });
      await settle(host, 4000);
      // A split vote: two nodes stood as candidates for the same term.
      const elections = (await api.getEvents(since)).filter((e) => e.kind === 'election');
      const byTerm = new Map<number, Set<number>>();
      for (const e of elections) {
        const t = e.data!.term as number;
        byTerm.set(t, (byTerm.get(t) ?? new Set()).add(e.node!));
      }
      if ([...byTerm.values()].some((s) => s.size > 1)) split = seed;
      api.dispose();
    }
    expect(split).toBeGreaterThan(0);
  }, 60_000);

  it('answers the console with the key-value outcomes of the real nodes', async () => {
    const { host, api } = await steadyLab(8);
    const run = async <T>(p: Promise<T>): Promise<T> => {
      await settle(host, 200);
      return p;
    };
    expect(await run(api.kvPut('a', '1'))).toMatchObject({ ok: true, prev: null, error: null });
    expect(await run(api.kvPut('a', '2'))).toMatchObject({ ok: true, prev: '1' });
    const leader = (await api.getView()).leader;
    expect(await run(api.kvGet('a'))).toMatchObject({ ok: true, value: '2', servedBy: leader });
    expect(await run(api.kvCas('a', '1', '3'))).toMatchObject({
      ok: false,
      value: '2',
      error: 'compare failed: the key holds another value',
    });
    expect(await run(api.kvCas('a', '2', '3'))).toMatchObject({ ok: true, error: null });
    expect(await run(api.kvCas('b', null, 'x'))).toMatchObject({ ok: true });
    expect(await run(api.kvDel('a'))).toMatchObject({ ok: true, prev: '3' });
    expect(await run(api.kvGet('a'))).toMatchObject({ ok: true, value: null });
    // The store is replicated: every node holds the same keys.
    await settle(host, 500);
    const v = await api.getView();
    expect(v.nodes.map((n) => n.kv)).toEqual([1, 2, 3].map(() => ({ keys: 1, bytes: 2 })));
    api.dispose();
  });

  it('a paused node takes no messages until it resumes, then catches up', async () => {
    const { host, api } = await steadyLab(10);
    const v0 = await api.getView();
    const f = v0.nodes.find((n) => n.id !== v0.leader)!.id;
    await api.pauseNode(f);
    const heard = async () =>
      (await api.linkDetail(v0.leader, f)).byType.reduce((n, c) => n + c.received, 0);
    const h0 = await heard();
    const put = api.kvPut('p', '1');
    await settle(host, 3000);
    expect(await put).toMatchObject({ ok: true });
    const paused = await api.getView();
    const node = paused.nodes.find((n) => n.id === f)!;
    expect(node.process.state).toBe('paused');
    expect(node.raft!.commit).toBeLessThan(
      paused.nodes.find((n) => n.id === v0.leader)!.raft!.commit,
    );
    expect(await heard()).toBe(h0);
    // What waits for it is still in flight, listed, and can be acted on.
    const waiting = lab(paused).inFlight.filter(
      (m) => m.to === f && m.deliverAt <= lab(paused).now,
    );
    expect(waiting.length).toBeGreaterThan(0);
    await api.labControl({ kind: 'drop', id: waiting[0]!.id });
    expect(lab(await api.getView()).inFlight.map((m) => m.id)).not.toContain(waiting[0]!.id);
    await api.resumeNode(f);
    await settle(host, 1000);
    const back = await api.getView();
    expect(await heard()).toBeGreaterThan(h0);
    expect(back.nodes.find((n) => n.id === f)!.raft!.commit).toBe(
      back.nodes.find((n) => n.id === back.leader)!.raft!.commit,
    );
    api.dispose();
  });

  it('replaces a crashed member through the membership workflow', async () => {
    const { host, api } = await steadyLab(21);
    const v0 = await api.getView();
    const gone = v0.nodes.find((n) => n.id !== v0.leader)!.id;
    await api.killNode(gone);
    const { workflowId } = await api.replaceNode(gone);
    await settle(host, 5000);
    const v = await api.getView();
    const wf = v.workflows.find((w) => w.id === workflowId)!;
    expect(wf.state, JSON.stringify(wf.steps)).toBe('done');
    expect(wf.steps.map((s) => s.state)).toEqual(Array(9).fill('done'));
    expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3, 4].filter((id) => id !== gone));
    const leader = v.nodes.find((n) => n.id === v.leader)!;
    expect(leader.raft!.voters).toEqual([1, 2, 3, 4].filter((id) => id !== gone));
    api.dispose();
  });

  it('a killed leader is silent since it died: the view counts the time since its last report', async () => {
    const { host, api } = await steadyLab(23);
    // Without fast failover the followers wait for their election timeout before campaigning.
    await api.setPace(1, false);
    const old = (await api.getView()).leader;
    await api.killNode(old);
    const killedAt = (await api.getView()).now;
    // Less than the shortest election timeout (1000 ms): the followers still follow it.
    await settle(host, 600);
    const v = await api.getView();
    expect(v.leadership.state).toBe('silent');
    if (v.leadership.state !== 'silent') return;
    expect(v.leadership.leader).toBe(old);
    expect(v.leadership.silentMs).toBeCloseTo(v.now - killedAt, 0);
    expect(v.leadership.silentMs).toBeGreaterThanOrEqual(500);
    api.dispose();
  });

  it('runs every scenario it lists to its end in virtual time', async () => {
    const { host, api } = await steadyLab(12);
    const names = (await api.listScenarios()).map((x) => x.name);
    expect(names).toEqual([
      'leader-crash',
      'minority-partition',
      'partitioned-leader',
      'split-vote',
    ]);
    for (const name of names) {
      await api.runScenario(name);
      for (let i = 0; i < 100 && (await api.getView()).scenario?.state === 'running'; i++)
        await settle(host, 200);
      const run = (await api.getView()).scenario!;
      expect(run.state, `${name}: ${JSON.stringify(run.steps)}`).toBe('passed');
      await api.clearAllFaults();
      await settle(host, 3000);
    }
    api.dispose();
  }, 60_000);

  it('a workload on a calm run gives a linearizable history', async () => {
    const { host, api } = await steadyLab(9);
    await api.startWorkload({
      clients: 3,
      rate: 0,
      keys: 4,
      readRatio: 0.4,
      casRatio: 0.2,
      valueBytes: 8,
      seconds: 0,
    });
    await settle(host, 2000);
    await api.stopWorkload();
    await settle(host, 500);
    const v = await api.getView();
    expect(v.workload!.totals.ok).toBeGreaterThan(100);
    const r = await api.checkHistory();
    expect(r).toMatchObject({ state: 'done', result: 'ok' });
    expect(r.operations).toBeGreaterThan(100);
    const h = JSON.parse((await api.exportHistory()).json) as { operations: { op: string }[] };
    expect(new Set(h.operations.map((o) => o.op))).toEqual(new Set(['get', 'put', 'cas']));
    api.dispose();
  });

  it('a broken invariant (a mutated host) pauses the lab and names it', async () => {
    const schedule: LabSchedule = {
      format: 'raftdeck-lab-schedule',
      version: 1,
      seed: 1,
      nodes: 3,
      options: { mutation: 'send-before-fsync' },
      actions: [],
      steps: 0,
      now: 0,
    };
    const host = new ManualHost();
    const api = createLabDashboard({ schedule, host });
    await api.labControl({ kind: 'play' });
    await settle(host, 5000);
    const v = lab(await api.getView());
    expect(v.failure).not.toBeNull();
    expect(v.failure!.invariant).toBe('durability');
    expect(v.failure!.nodes.length).toBeGreaterThan(0);
    expect(v.failure!.step).toBe(v.steps);
    expect(v.playing).toBe(false);
    await settle(host, 2000);
    expect(lab(await api.getView()).steps).toBe(v.steps);
    await expect(api.labControl({ kind: 'play' })).rejects.toThrow(/durability/);
    api.dispose();
    // Without the mutation the same seed breaks nothing.
    const calm = createLabDashboard({
      schedule: { ...schedule, options: { mutation: null } },
      host,
    });
    await calm.labControl({ kind: 'play' });
    await settle(host, 5000);
    expect(lab(await calm.getView()).failure).toBeNull();
    calm.dispose();
  });
});
