/**
 * conformance: the dashboard API conformance suite. The same scenarios — kill and restart, a
 * partition and its healing, adding and removing a node, a workload and its check, and the order
 * of events and views — run against every implementation of DashboardApi + PushSource (the real
 * cluster's, the fake one), the way test/node/storage/contract.test.ts runs one contract over both
 * storages. An implementation passes when every page would show the same kind of truth on it.
 *
 * Each implementation's test file calls describeConformance with a factory; real timers are used
 * throughout (the fake ticks on its own timer), and every wait has a deadline that names what it
 * waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardApi, PushSource } from '../../main/contract/api';
import type {
  ClusterEvent,
  ClusterView,
  EngineFeature,
  LinkDetail,
  MessageBatch,
  NodeId,
  WorkflowView,
} from '../../main/contract/view';

/** Subject: one implementation under test, and how to dispose of it. */
export interface Subject {
  api: DashboardApi & PushSource;
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /** timeoutMs: deadline for each wait (elections, workflows). */
  timeoutMs: number;
  /** skip: the implementation cannot run here (its engine's binary is missing). */
  skip?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** waitView polls the view until `pred` holds, or fails naming `what` and the last view. */
async function waitView(
  api: DashboardApi,
  what: string,
  ms: number,
  pred: (v: ClusterView) => boolean,
): Promise<ClusterView> {
  const end = Date.now() + ms;
  let v = await api.getView();
  while (!pred(v)) {
    if (Date.now() > end) {
      const nodes = v.nodes
        .map((n) => `${n.id}:${n.process.state}/${n.raft?.role ?? '-'}/${n.membership}`)
        .join(' ');
      throw new Error(`timed out after ${ms} ms waiting for ${what}; leader ${v.leader}, ${nodes}`);
    }
    await sleep(50);
    v = await api.getView();
  }
  return v;
}

/** until polls `fn` until it answers truthy, or fails naming `what`. */
async function until<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** finished: how many steps of the view's scenario run have ended (done, failed or skipped). */
const finished = (v: ClusterView): number =>
  v.scenario?.steps.filter((st) => st.state !== 'pending' && st.state !== 'active').length ?? 0;
/** holding: the scenario run is paused with no step in progress. */
const holding = (v: ClusterView): boolean =>
  v.scenario?.paused === true && !v.scenario.steps.some((st) => st.state === 'active');

/** steady: one leader, every node running, following it, and a voter. */
function steady(v: ClusterView): boolean {
  return (
    v.leader !== 0 &&
    v.nodes.every(
      (n) =>
        n.process.state === 'running' &&
        n.membership === 'voter' &&
        n.raft !== null &&
        (n.id === v.leader || n.raft.leader === v.leader),
    )
  );
}

async function workflowEnd(api: DashboardApi, id: string, ms: number): Promise<WorkflowView> {
  const v = await waitView(api, `workflow ${id} to end`, ms, (x) =>
    x.workflows.some((w) => w.id === id && w.state !== 'running'),
  );
  return v.workflows.find((w) => w.id === id)!;
}

export function describeConformance(
  name: string,
  open: () => Promise<Subject>,
  options: ConformanceOptions,
): void {
  describe.skipIf(options.skip === true)(`dashboard API conformance: ${name}`, () => {
    let s: Subject;
    const events: ClusterEvent[] = [];
    const versions: number[] = [];
    let offEvent: () => void = () => undefined;
    let offView: () => void = () => undefined;
    const t = options.timeoutMs;

    beforeAll(async () => {
      s = await open();
      offEvent = s.api.onEvent((e) => events.push(e));
      offView = s.api.onView((v) => versions.push(v.version));
    }, t * 2);

    /**
     * unavailable: the reason the subject's engine gives for not having `feature`, or undefined
     * when it has it. A case about such a feature checks that the call is refused with that
     * reason instead (what the pages show in place of the control).
     */
    const unavailable = async (feature: EngineFeature): Promise<string | undefined> =>
      (await s.api.getView()).engine.unavailable[feature];

    afterAll(async () => {
      offEvent();
      offView();
      await s?.dispose();
    }, t * 2);

    it(
      'starts as one steady cluster of three voters with one leader',
      async () => {
        const v = await waitView(s.api, 'a steady cluster', t, steady);
        expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
        expect(v.state).toBe('running');
        expect(v.term).toBeGreaterThan(0);
        expect(v.nodes.find((n) => n.id === v.leader)?.raft?.role).toBe('leader');
        expect(v.healthCounts.healthy + v.healthCounts.lagging).toBe(3);
        expect(v.faults).toEqual([]);
        for (const n of v.nodes) {
          expect(n.divergence).toEqual([]);
          expect(n.raft?.voters).toEqual([1, 2, 3]);
        }
      },
      t,
    );

    it(
      'kill -9 of the leader: the node is down, another is elected, restart brings it back',
      async () => {
        const before = await waitView(s.api, 'a steady cluster', t, steady);
        const old = before.leader;
        await s.api.killNode(old);
        const after = await waitView(
          s.api,
          `a leader other than ${old}`,
          t,
          (v) => v.leader !== 0 && v.leader !== old,
        );
        const dead = after.nodes.find((n) => n.id === old)!;
        expect(dead.health).toBe('down');
        expect(dead.raft).toBeNull();
        expect(after.term).toBeGreaterThan(before.term);
        expect(after.faults.map((f) => f.key)).toContain(`down-${old}`);
        await s.api.restartNode(old);
        const back = await waitView(s.api, `node ${old} back and following`, t, steady);
        expect(back.nodes.find((n) => n.id === old)?.health).not.toBe('down');
        expect(back.faults).toEqual([]);
      },
      t * 3,
    );

    it(
      'a partition cuts a node off and shows as a fault; healing clears it',
      async () => {
        const v0 = await waitView(s.api, 'a steady cluster', t, steady);
        const alone = v0.nodes.map((n) => n.id).find((id) => id !== v0.leader)!;
        const rest = v0.nodes.map((n) => n.id).filter((id) => id !== alone);
        await s.api.partition([rest, [alone]]);
        const cut = await waitView(
          s.api,
          `node ${alone} cut off`,
          t,
          (v) => v.partitions !== null && rest.includes(v.leader),
        );
        expect(cut.partitions).toEqual([rest, [alone]]);
        expect(cut.faults[0]).toMatchObject({ kind: 'partition', node: null });
        const rules = cut.nodes.find((n) => n.id === alone)!.faults.rules;
        for (const other of rest) expect(rules).toContainEqual({ to: other, drop: 1 });
        await s.api.healNetwork();
        const healed = await waitView(s.api, 'the network healed', t, (v) => v.partitions === null);
        expect(healed.faults).toEqual([]);
        for (const n of healed.nodes) expect(n.faults.rules).toEqual([]);
        await waitView(s.api, 'a steady cluster after healing', t, steady);
      },
      t * 3,
    );

    it(
      'clear all heals the network and brings a killed node back, and says what it did',
      async () => {
        const v0 = await waitView(s.api, 'a steady cluster', t, steady);
        const [a, b] = v0.nodes.map((n) => n.id).filter((id) => id !== v0.leader) as [
          NodeId,
          NodeId,
        ];
        await s.api.killNode(a);
        await s.api.partition([[v0.leader, a], [b]]);
        await waitView(s.api, `node ${a} down`, t, (v) =>
          v.nodes.some((n) => n.id === a && n.health === 'down'),
        );
        const { summary } = await s.api.clearAllFaults();
        expect(summary).toContain('healed the partition');
        expect(summary).toContain(`started node ${a} again`);
        const back = await waitView(s.api, 'a steady cluster after clearing all', t, steady);
        expect(back.faults).toEqual([]);
        expect(back.partitions).toBeNull();
        const events = await s.api.getEvents(0);
        expect(
          events.some((e) => e.kind === 'fault' && e.message.startsWith('cleared all faults: ')),
        ).toBe(true);
      },
      t * 3,
    );
    it(
      'adds a fourth node as a voter, then removes it',
      async () => {
        await waitView(s.api, 'a steady cluster', t, steady);
        const add = await s.api.addNode();
        const added = await workflowEnd(s.api, add.workflowId, t * 2);
        expect(added).toMatchObject({ kind: 'add-node', state: 'done', error: null });
        const id: NodeId = added.node;
        const v4 = await waitView(s.api, `node ${id} a voter`, t, (v) =>
          v.nodes.some((n) => n.id === id && n.membership === 'voter'),
        );
        expect(v4.nodes.find((n) => n.id === v4.leader)?.raft?.voters).toContain(id);
        const rm = await s.api.removeNode(id);
        const removed = await workflowEnd(s.api, rm.workflowId, t * 2);
        expect(removed).toMatchObject({ kind: 'remove-node', node: id, state: 'done' });
        const v3 = await waitView(s.api, `node ${id} gone`, t, (v) =>
          v.nodes.every((n) => n.id !== id || n.membership === 'removed'),
        );
        expect(v3.nodes.find((n) => n.id === v3.leader)?.raft?.voters).not.toContain(id);
        await waitView(s.api, 'a steady cluster of three', t, (v) =>
          steady({ ...v, nodes: v.nodes.filter((n) => n.membership !== 'removed') }),
        );
      },
      t * 6,
    );

    it('refuses a call on a node that does not exist, with a message naming it', async () => {
      await expect(s.api.killNode(99)).rejects.toThrow(/99/);
    });

    it(
      'runs a workload that shows in the view, and checks its history',
      async () => {
        await waitView(s.api, 'a steady cluster', t, steady);
        await s.api.startWorkload({
          clients: 2,
          rate: 50,
          keys: 5,
          readRatio: 0.3,
          casRatio: 0.1,
          valueBytes: 8,
          seconds: 0,
        });
        const running = await waitView(
          s.api,
          'workload samples',
          t,
          (v) => (v.workload?.samples.length ?? 0) >= 2 && (v.workload?.totals.ok ?? 0) > 0,
        );
        expect(running.workload?.running).toBe(true);
        await s.api.stopWorkload();
        const stopped = await waitView(
          s.api,
          'the workload stopped',
          t,
          (v) => v.workload?.running === false,
        );
        expect(stopped.workload?.totals.ok).toBeGreaterThan(0);
        const checked = await s.api.checkHistory();
        expect(checked.state).toBe('done');
        expect(checked.result).toBe('ok');
        expect(checked.operations).toBeGreaterThan(0);
        const v = await waitView(
          s.api,
          'the checker result in the view',
          t,
          (x) => x.checker.state === 'done',
        );
        expect(v.checker.result).toBe('ok');
      },
      t * 3,
    );

    it(
      'setPace slows the cluster down: the view shows the pace and the nodes their stretched timers',
      async () => {
        const v0 = await waitView(s.api, 'a steady cluster', t, steady);
        const why = await unavailable('pace');
        if (why !== undefined) {
          await expect(s.api.setPace(5, false)).rejects.toThrow(why);
          expect((await s.api.getView()).pace.pace).toBe(1);
          return;
        }
        const beat = v0.nodes.find((n) => n.id === v0.leader)!.timer!;
        expect(beat.kind).toBe('heartbeat');
        await s.api.setPace(5, false);
        try {
          const slow = await waitView(s.api, 'the leader to report its heartbeat at 5×', t, (v) => {
            const l = v.nodes.find((n) => n.id === v.leader);
            return v.pace.pace === 5 && l?.timer?.timeoutMs === beat.timeoutMs * 5;
          });
          expect(slow.pace).toEqual({ pace: 5, fastFailover: false });
          const events = await s.api.getEvents(0);
          expect(events.some((e) => /^pace 5×/.test(e.message))).toBe(true);
        } finally {
          // Back to real time whatever happened, so the next scenarios run at it.
          await s.api.setPace(1, true);
        }
        const back = await waitView(s.api, 'the heartbeat back at real time', t, (v) => {
          const l = v.nodes.find((n) => n.id === v.leader);
          return v.pace.pace === 1 && l?.timer?.timeoutMs === beat.timeoutMs;
        });
        expect(back.pace).toEqual({ pace: 1, fastFailover: true });
        await waitView(s.api, 'a steady cluster at real time', t, steady);
      },
      t * 3,
    );

    it(
      'links across a partition are cut both ways, the others stay up, and healing brings them back',
      async () => {
        const v0 = await waitView(s.api, 'a steady cluster', t, steady);
        expect(v0.links).toHaveLength(6);
        expect(v0.links.every((l) => l.state === 'up')).toBe(true);
        const alone = v0.nodes.map((n) => n.id).find((id) => id !== v0.leader)!;
        const rest = v0.nodes.map((n) => n.id).filter((id) => id !== alone);
        await s.api.partition([rest, [alone]]);
        const cut = await waitView(s.api, `the links of node ${alone} cut`, t, (v) =>
          v.links.filter((l) => l.from === alone || l.to === alone).every((l) => l.state === 'cut'),
        );
        const across = cut.links.filter((l) => l.from === alone || l.to === alone);
        expect(across).toHaveLength(4);
        for (const l of across) expect(l.rule).toMatch(/partition/);
        const within = cut.links.filter((l) => l.from !== alone && l.to !== alone);
        expect(within.map((l) => l.state)).toEqual(['up', 'up']);
        await s.api.healNetwork();
        const healed = await waitView(s.api, 'every link up again', t, (v) =>
          v.links.every((l) => l.state === 'up'),
        );
        expect(healed.links.every((l) => l.rule === null)).toBe(true);
        await waitView(s.api, 'a steady cluster after healing', t, steady);
      },
      t * 3,
    );

    it(
      "pushes sampled messages, among them the leader's heartbeats",
      async () => {
        const v = await waitView(s.api, 'a steady cluster', t, steady);
        if ((await unavailable('messages')) !== undefined) {
          // an engine that does not report its messages pushes none
          const none: MessageBatch[] = [];
          const off = s.api.onMessages((b) => none.push(b));
          await sleep(1000);
          off();
          expect(none.flatMap((b) => b.traces)).toEqual([]);
          return;
        }
        const batches: MessageBatch[] = [];
        const off = s.api.onMessages((b) => batches.push(b));
        try {
          // A heartbeat to a follower the leader has no connection to yet (one restarted by an
          // earlier case) is traced as dropped, before it is encoded: look for one that went out.
          const beat = await until('a heartbeat from the leader, sent, in a batch', t, () =>
            batches
              .flatMap((b) => b.traces)
              .find(
                (tr) => tr.type === 'heartbeat' && tr.from === v.leader && tr.fate !== 'dropped',
              ),
          );
          expect(beat.dir).toBe('out');
          expect(v.nodes.map((n) => n.id)).toContain(beat.to);
          expect(beat.term).toBeGreaterThan(0);
          expect(beat.bytes).toBeGreaterThan(0);
          expect(beat.time).toBeGreaterThan(0);
          for (const b of batches) {
            expect(b.traces.every((tr) => tr.dir === 'out')).toBe(true);
            for (let i = 1; i < b.traces.length; i++) {
              expect(b.traces[i]!.time).toBeGreaterThanOrEqual(b.traces[i - 1]!.time);
            }
          }
        } finally {
          off();
        }
      },
      t * 2,
    );

    it(
      "linkDetail gives a live link's counters by type and its latest messages",
      async () => {
        const v = await waitView(s.api, 'a steady cluster', t, steady);
        const f = v.nodes.map((n) => n.id).find((id) => id !== v.leader)!;
        const why = await unavailable('linkDetail');
        if (why !== undefined) {
          await expect(s.api.linkDetail(v.leader, f)).rejects.toThrow(why);
          return;
        }
        const d: LinkDetail = await until(
          `heartbeats counted on ${v.leader} → ${f}`,
          t,
          async () => {
            const x = await s.api.linkDetail(v.leader, f);
            const hb = x.byType.find((c) => c.type === 'heartbeat');
            return hb && hb.sent > 0 && hb.received > 0 && x.recent.length > 0 ? x : undefined;
          },
        );
        expect(d.link).toMatchObject({ from: v.leader, to: f, state: 'up' });
        const hb = d.byType.find((c) => c.type === 'heartbeat')!;
        // received comes from the receiver's own report, taken at another moment than the
        // sender's: it is counted (above) but not compared with sent.
        expect(hb.sentBytes).toBeGreaterThan(0);
        expect(d.recent.length).toBeLessThanOrEqual(50);
        for (const tr of d.recent) expect(tr).toMatchObject({ from: v.leader, to: f, dir: 'out' });
        await expect(s.api.linkDetail(v.leader, 99)).rejects.toThrow(/99/);
      },
      t * 2,
    );

    it(
      'a scenario pauses between steps, steps one at a time, and resumes to its end',
      async () => {
        await waitView(s.api, 'a steady cluster', t, steady);
        await s.api.runScenario('leader-crash');
        await s.api.pauseScenario();
        const held = await waitView(s.api, 'the run held between steps', t * 2, holding);
        const k = finished(held);
        await sleep(1500);
        const still = await s.api.getView();
        expect(holding(still)).toBe(true);
        expect(finished(still)).toBe(k);
        await s.api.stepScenario();
        const stepped = await waitView(
          s.api,
          'exactly one more step',
          t * 2,
          (v) => finished(v) > k && holding(v),
        );
        expect(finished(stepped)).toBe(k + 1);
        await s.api.resumeScenario();
        const end = await waitView(
          s.api,
          'the scenario to end',
          t * 4,
          (v) => v.scenario?.state !== 'running',
        );
        const steps = end.scenario!.steps.map((st) => `${st.state} ${st.text}: ${st.detail}`);
        expect(end.scenario?.state, steps.join('\n')).toBe('passed');
        expect(end.scenario).toMatchObject({ name: 'leader-crash', paused: false });
        await expect(s.api.pauseScenario()).rejects.toThrow(/no scenario is running/);
        await waitView(s.api, 'a steady cluster after the scenario', t, steady);
      },
      t * 10,
    );

    it('delivers events in order, the same by push and by getEvents, and views in version order', async () => {
      expect(events.length).toBeGreaterThan(0);
      for (let i = 1; i < events.length; i++) {
        expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
        expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
      }
      const first = events[0]!.seq;
      const stored = await s.api.getEvents(first - 1);
      const pushed = events.map((e) => e.seq);
      expect(stored.map((e) => e.seq).slice(0, pushed.length)).toEqual(pushed);
      const later = await s.api.getEvents(events.at(-1)!.seq);
      expect(later.every((e) => e.seq > events.at(-1)!.seq)).toBe(true);
      // What happened is in the stream: the kill, a new leader, the partition, both workflows.
      const kinds = new Set(events.map((e) => e.kind));
      for (const k of ['fault', 'leader', 'workflow', 'workload'] as const)
        expect(kinds).toContain(k);
      expect(versions.length).toBeGreaterThan(0);
      for (let i = 1; i < versions.length; i++) {
        expect(versions[i]!).toBeGreaterThanOrEqual(versions[i - 1]!);
      }
    });

    describe('logEntries', () => {
      it(
        'finds a put by its key, with its value, held by every running node',
        async () => {
          await waitView(s.api, 'a steady cluster', t, steady);
          const value = `v-inspect-${Date.now()}`;
          const put = await s.api.kvPut('k-inspect', value);
          expect(put.error).toBeNull();
          const why = await unavailable('logEntries');
          if (why !== undefined) {
            await expect(
              s.api.logEntries({ from: 1, count: 50, key: 'k-inspect' }),
            ).rejects.toThrow(why);
            // the value is there all the same, for a read
            expect((await s.api.kvGet('k-inspect')).value).toBe(value);
            return;
          }
          const found = await until('the put held by every node', t, async () => {
            const r = await s.api.logEntries({ from: 1, count: 50, key: 'k-inspect' });
            const row = r.rows.find((x) => x.entry?.value === value);
            return row?.holders.every((h) => h.state === 'holds') ? { r, row } : undefined;
          });
          const { r, row } = found;
          expect(row.entry).toMatchObject({ kind: 'put', key: 'k-inspect', value });
          expect(row.entry!.valueBytes).toBe(value.length);
          expect(row.holders.map((h) => h.node)).toEqual([1, 2, 3]);
          for (const h of row.holders) expect(h.term).toBe(row.entry!.term);
          const v = await s.api.getView();
          expect(r.reference).toBe(v.leader);
          expect(r.rows.every((x) => x.entry?.key === 'k-inspect')).toBe(true);
          // The same entry by its index.
          const one = await s.api.logEntries({ from: row.index, count: 1 });
          expect(one.rows).toHaveLength(1);
          expect(one.rows[0]!.entry).toEqual(row.entry);
          expect(one.note).toBeNull();
        },
        t * 2,
      );

      it(
        'says where an index beyond every log went, and that entries below a snapshot are compacted',
        async () => {
          const v0 = await waitView(s.api, 'a steady cluster', t, steady);
          const why = await unavailable('logEntries');
          if (why !== undefined) {
            await expect(s.api.logEntries({ from: 1, count: 3 })).rejects.toThrow(why);
            return;
          }
          const last = Math.max(...v0.nodes.map((n) => n.raft?.lastIndex ?? 0));
          const beyond = await s.api.logEntries({ from: last + 1000, count: 5 });
          expect(beyond.rows).toEqual([]);
          expect(beyond.note).toMatch(/beyond the end of every log/);
          // Write until every node has compacted its log into a snapshot.
          const compacted = (v: ClusterView): boolean =>
            steady(v) && v.nodes.every((n) => (n.raft?.firstIndex ?? 0) > 3);
          if (!compacted(await s.api.getView())) {
            await s.api.startWorkload({
              clients: 4,
              rate: 0,
              keys: 5,
              readRatio: 0,
              casRatio: 0,
              valueBytes: 16,
              seconds: 0,
            });
            try {
              await waitView(s.api, 'every log compacted', t * 3, compacted);
            } finally {
              await s.api.stopWorkload();
            }
          }
          const r = await s.api.logEntries({ from: 1, count: 3 });
          expect(r.rows.map((x) => x.index)).toEqual([1, 2, 3]);
          for (const row of r.rows) {
            expect(row.entry).toBeNull();
            for (const h of row.holders) {
              expect(h.state).toBe('compacted');
              const n = r.nodes.find((x) => x.id === h.node)!;
              expect(h.snapshotIndex).toBe(n.snapshotIndex);
              expect(h.snapshotIndex).toBeGreaterThanOrEqual(row.index);
            }
          }
          expect(r.note).toMatch(/compacted the entries below \d+ into its snapshot at \d+/);
        },
        t * 5,
      );
    });
    describeTimeTravel(() => s, t);
  });
}

/**
 * describeTimeTravel: the recording behind time travel, on the same subject: after a kill, the
 * recording spans it, viewAt an instant before it shows the node running and one after it shows
 * it down, and recordedEvents holds the kill's event.
 */
function describeTimeTravel(subject: () => Subject, t: number): void {
  describe('time travel', () => {
    it(
      'records the cluster: viewAt before a kill shows the node running, after it down; the kill is among the recorded events',
      async () => {
        const { api } = subject();
        const steadyView = await waitView(api, 'a steady cluster', t, steady);
        const victim = steadyView.nodes.find((n) => n.id !== steadyView.leader)!.id;
        // a view of the steady cluster is recorded at most VIEW_INTERVAL_MS after it was pushed
        await sleep(300);
        const before = Date.now();
        await sleep(150);
        await api.killNode(victim);
        await waitView(
          api,
          `node ${victim} down`,
          t,
          (v) => v.nodes.find((n) => n.id === victim)?.process.state !== 'running',
        );
        // views are recorded at most every VIEW_INTERVAL_MS: wait for one that shows it down
        const { info, later } = await until(
          `a recorded view with node ${victim} down`,
          t,
          async () => {
            const i = await api.recordingInfo();
            const m = i.to === null ? null : await api.viewAt(i.to);
            const state = m?.view?.nodes.find((n) => n.id === victim)?.process.state;
            return state !== undefined && state !== 'running' ? { info: i, later: m! } : undefined;
          },
        );
        expect(info.from).not.toBeNull();
        expect(info.from!).toBeLessThanOrEqual(before);
        expect(info.to!).toBeGreaterThan(before);
        expect(info.recording).toBe(true);
        expect(later.viewTime!).toBeGreaterThan(before);

        const then = await api.viewAt(before);
        expect(then.time).toBe(before);
        expect(then.viewTime!).toBeLessThanOrEqual(before);
        expect(then.view?.nodes.find((n) => n.id === victim)?.process.state).toBe('running');
        expect((await api.viewAt(info.from! - 1)).view).toBeNull();

        const recorded = await api.recordedEvents(before, info.to!, 1000);
        const kill = recorded.filter((e) => e.kind === 'fault' && e.node === victim);
        expect(kill.length, recorded.map((e) => e.message).join('\n')).toBeGreaterThan(0);
        expect(kill[0]!.time).toBeGreaterThanOrEqual(before);

        await api.restartNode(victim);
        await waitView(api, 'a steady cluster after the restart', t, steady);
      },
      t * 4,
    );
  });
}
