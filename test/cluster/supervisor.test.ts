import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterEvent, ClusterView } from '../../main/contract/view';
import { connectAdmin } from '../../main/cluster/admin-link';
import { check } from '../../main/cluster/checker/porcupine';
import { Supervisor } from '../../main/cluster/supervisor';
import { raftdeckSessions, Workload } from '../../main/cluster/workload';
import { KvClient } from '../../main/node/client';
import { addNode, removeNode, replaceNode, transferLeader } from '../../main/cluster/workflows';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let sup: Supervisor | undefined;
let dir: string | undefined;

afterEach(async () => {
  const pids = sup
    ? [...sup.nodes.values()].map((m) => m.proc.pid).filter((p): p is number => p !== null)
    : [];
  await sup?.stop();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already stopped
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  sup = undefined;
  dir = undefined;
});

async function until<T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function started(nodes = 3): Promise<Supervisor> {
  dir = mkdtempSync(join(tmpdir(), 'raftdeck-sup-'));
  sup = new Supervisor({
    dir,
    nodes,
    timing: { tickMs: 10, heartbeatMs: 50, electionMs: 500 },
    snapshotEntries: 300,
    snapshotChunkBytes: 8192,
    connect: connectAdmin,
  });
  await sup.start();
  return sup;
}

describe('Supervisor on real node processes', () => {
  it('starts 3 nodes, elects a leader, and the view and events show it', async () => {
    const s = await started();
    const views: ClusterView[] = [];
    s.onView((v) => views.push(v));
    const leader = await until('a leader', () => s.view().leader);
    const v = s.view();
    expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    expect(v.nodes.every((n) => n.process.state === 'running' && n.process.pid)).toBe(true);
    expect(v.nodes.every((n) => n.membership === 'voter')).toBe(true);
    await until('all healthy with status', () =>
      s.view().nodes.every((n) => n.health === 'healthy' && n.raft !== null),
    );
    const lv = s.view().nodes.find((n) => n.id === leader)!;
    expect(lv.raft!.role).toBe('leader');
    expect(lv.raft!.progress.map((p) => p.id)).toEqual([1, 2, 3].filter((i) => i !== leader));
    expect(s.allEvents().some((e) => e.kind === 'leader' && e.node === leader)).toBe(true);
    // Views are pushed, at 10 Hz or more while things change.
    await sleep(1000);
    expect(views.length).toBeGreaterThanOrEqual(8);
  }, 30_000);

  it('kill -9 the leader: a new leader; restart: it rejoins; pause/resume; partition and heal', async () => {
    const s = await started();
    const first = await until('a leader', () => s.view().leader);
    await s.kill(first);
    expect(s.view().nodes.find((n) => n.id === first)!.process.state).toBe('crashed');
    const second = await until('a new leader', () => {
      const l = s.view().leader;
      return l && l !== first ? l : undefined;
    });
    const ev = s
      .allEvents()
      .find(
        (e: ClusterEvent) =>
          e.kind === 'process' && e.node === first && /killed by SIGKILL/.test(e.message),
      );
    expect(ev).toBeDefined();
    await s.restart(first);
    await until('old leader rejoins as follower', () => {
      const n = s.view().nodes.find((x) => x.id === first)!;
      return n.raft?.role === 'follower' && n.raft.leader === second;
    });

    const follower = [1, 2, 3].find((i) => i !== s.view().leader)!;
    s.pause(follower);
    expect(s.view().nodes.find((n) => n.id === follower)!.health).toBe('paused');
    s.resume(follower);
    await until(
      'resumed node reports again',
      () => s.view().nodes.find((n) => n.id === follower)!.health === 'healthy',
    );

    const l = s.view().leader;
    const others = [1, 2, 3].filter((i) => i !== l);
    await s.partition([[l], others]);
    expect(s.view().partitions).toEqual([[l], others]);
    expect(s.view().nodes.find((n) => n.id === l)!.faults.rules.length).toBeGreaterThan(0);
    const fresh = await until('the majority side elects', () => {
      const nl = s
        .view()
        .nodes.filter((n) => others.includes(n.id))
        .find((n) => n.raft?.role === 'leader');
      return nl?.id;
    });
    await until(
      'the cut-off leader steps down',
      () => s.view().nodes.find((n) => n.id === l)!.raft?.role !== 'leader',
    );
    await s.heal();
    await until(
      'healed node follows the new leader',
      () => s.view().nodes.find((n) => n.id === l)!.raft?.leader === fresh,
    );
    expect(s.view().partitions).toBeNull();
  }, 60_000);

  it('adds a 4th and 5th node (learner → voter), removes a follower and then the leader', async () => {
    const s = await started();
    await until('a leader', () => s.view().leader);
    const a = await addNode(s);
    const w4 = await a.run;
    expect(w4.state, w4.error ?? '').toBe('done');
    expect(w4.steps.map((x) => x.state)).toEqual(['done', 'done', 'done', 'done', 'done']);
    const b = await addNode(s);
    expect((await b.run).state).toBe('done');
    const v = s.view();
    expect(v.nodes.map((n) => [n.id, n.membership])).toEqual([
      [1, 'voter'],
      [2, 'voter'],
      [3, 'voter'],
      [4, 'voter'],
      [5, 'voter'],
    ]);
    expect(s.allEvents().some((e) => e.kind === 'config' && /add-learner 4/.test(e.message))).toBe(
      true,
    );
    expect(s.allEvents().some((e) => e.kind === 'config' && /promote 5/.test(e.message))).toBe(
      true,
    );

    const leader = s.view().leader;
    const follower = [1, 2, 3, 4, 5].find((i) => i !== leader)!;
    const followerDir = s.view().nodes.find((n) => n.id === follower)!.dataDir;
    const r1 = await (await removeNode(s, follower)).run;
    expect(r1.state, r1.error ?? '').toBe('done');
    expect(existsSync(followerDir)).toBe(false);
    expect(s.view().nodes.map((n) => n.id)).not.toContain(follower);

    const r2 = await (await removeNode(s, leader)).run;
    expect(r2.state, r2.error ?? '').toBe('done');
    const next = await until('a leader among the rest', () => {
      const l = s.view().leader;
      return l && l !== leader ? l : undefined;
    });
    expect(s.view().nodes.find((n) => n.id === next)!.raft!.voters).toHaveLength(3);

    const t = [...s.nodes.keys()].find((i) => i !== next)!;
    const tr = await (await transferLeader(s, t)).run;
    expect(tr.state, tr.error ?? '').toBe('done');
    expect(s.view().leader).toBe(t);
  }, 120_000);

  it('finishes removing a leader that lost leadership before it saw the removal commit', async () => {
    const s = await started();
    const leader = await until('a leader', () => s.view().leader);
    const [cut, other] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    const leaderDir = s.view().nodes.find((n) => n.id === leader)!.dataDir;
    // With `cut` isolated the new configuration {cut, other} cannot commit: the leader steps down
    // (check quorum) without committing it, and a removed node never campaigns again.
    await s.isolate(cut);
    const { run } = await removeNode(s, leader);
    await until(
      'the leader to step down',
      () => s.view().nodes.find((n) => n.id === leader)!.raft?.role === 'follower',
    );
    await s.heal();
    // `other` holds the entry, wins the election and commits it; the old leader never hears of it.
    const r = await run;
    expect(r.state, r.error ?? '').toBe('done');
    expect(r.steps.map((x) => x.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(r.steps[1]!.detail).toMatch(/committed by node \d+ in term \d+/);
    // It still learns of its removal (from the new leader) and exits by itself.
    expect(r.steps[2]!.detail).toBe('exited with code 0');
    expect(
      s.allEvents().some((e) => e.node === leader && /learnt that it was removed/.test(e.message)),
    ).toBe(true);
    expect(s.view().nodes.map((n) => n.id)).toEqual([cut, other].sort());
    expect(existsSync(leaderDir)).toBe(false);
    const next = s.view().nodes.find((n) => n.id === s.view().leader)!;
    expect(next.raft!.voters.sort()).toEqual([cut, other].sort());

    // A spawned node the configuration never held is simply cleaned up.
    const spare = await s.allocateNode();
    await s.startNode(spare.rec.id);
    const r2 = await (await removeNode(s, spare.rec.id)).run;
    expect(r2.state, r2.error ?? '').toBe('done');
    expect(r2.steps[0]!.detail).toBe('not in the configuration; quorum unaffected');
    expect(r2.steps[2]!.detail).toBe('cannot learn of its removal; stopped');
    expect(s.nodes.has(spare.rec.id)).toBe(false);
  }, 90_000);

  it('add-node without quorum ends "outcome unknown", and the learner commits once quorum returns', async () => {
    const s = await started();
    const leader = await until('a leader', () => s.view().leader);
    await until('every node reporting', () => s.view().nodes.every((n) => n.raft !== null));
    const followers = [1, 2, 3].filter((i) => i !== leader);
    // The followers' disks stall for 12 s: the leader takes the change but cannot commit it, and
    // steps down; the node gives up waiting after its 10 s request timeout.
    for (const f of followers) await s.setSlowDisk(f, 12_000);
    const { wf, run } = await addNode(s);
    const id = wf.view.node;
    const r = await run;
    expect(r.state, r.error ?? '').toBe('unknown');
    expect(r.steps.map((x) => x.state)).toEqual([
      'done',
      'unknown',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(r.steps[1]!.name).toBe('add as learner');
    expect(r.steps[1]!.detail).toMatch(
      /^outcome unknown: add-learner on node \d+: .*not committed within/,
    );
    expect(r.error).toMatch(new RegExp(`remove-node ${id}`));
    expect(s.view().workflows.find((w) => w.id === r.id)?.state).toBe('unknown');
    expect(
      s.allEvents().some((e) => e.kind === 'workflow' && /outcome unknown/.test(e.message)),
    ).toBe(true);
    // It was not a failure: once the disks recover, the change commits and the node is a learner.
    for (const f of followers) await s.setSlowDisk(f, 0);
    await until(
      `node ${id} in the committed configuration`,
      () => {
        const l = s.view().nodes.find((n) => n.id === s.view().leader)?.raft;
        return !!l && l.pendingConfIndex === 0 && l.learners.includes(id);
      },
      40_000,
    );
  }, 90_000);

  it('refuses a removal that would lose quorum, and says why', async () => {
    const s = await started();
    const leader = await until('a leader', () => s.view().leader);
    const [f1, f2] = [1, 2, 3].filter((i) => i !== leader);
    await s.kill(f1!);
    const r = await (await removeNode(s, leader)).run;
    expect(r.state).toBe('failed');
    expect(r.error).toMatch(/would lose quorum: only 1 of the 2 remaining voters/);
    void f2;
  }, 30_000);

  it('runs a workload whose history is linearizable, through a leader kill', async () => {
    const s = await started();
    await until('a leader', () => s.view().leader);
    const wl = new Workload(
      raftdeckSessions(() => s.view().nodes.map((n) => n.addresses.client)),
      {
        clients: 6,
        keys: 5,
        seconds: 0,
      },
    );
    wl.start();
    await sleep(1500);
    await s.kill(s.view().leader);
    await sleep(2500);
    await wl.stop();
    expect(wl.totals.ok).toBeGreaterThan(100);
    const v = check(wl.history, { timeoutMs: 20_000 });
    expect(v.result).toBe('ok');
    // A second run on the same cluster meets none of the first run's values: its keys are its own.
    const again = new Workload(
      raftdeckSessions(() => s.view().nodes.map((n) => n.addresses.client)),
      {
        clients: 4,
        keys: 5,
      },
    );
    again.start();
    await sleep(1000);
    await again.stop();
    expect(again.prefix).not.toBe(wl.prefix);
    expect(again.totals.ok).toBeGreaterThan(20);
    expect(check(again.history, { timeoutMs: 20_000 }).result).toBe('ok');
    // The checker does catch a corrupted read in this very history.
    const read = wl.history.find((o) => o.op === 'get' && o.outcome === 'ok' && o.output?.value);
    read!.output = { value: 'never-written' };
    expect(check(wl.history, { timeoutMs: 20_000 }).result).toBe('not-linearizable');
  }, 60_000);

  it('refuses to start a member whose data folder is gone, and replaces it by a fresh node', async () => {
    const s = await started();
    await until('a leader', () => s.view().leader);
    const leader = s.view().leader;
    const gone = [1, 2, 3].find((i) => i !== leader)!;
    const kv = new KvClient({ endpoints: s.view().nodes.map((n) => n.addresses.client) });
    try {
      for (let i = 0; i < 20; i++) await kv.put(`k${i}`, `v${i}`);
      // A member that has run is restarted with --require-state.
      expect(s.view().nodes.every((n) => n.process.commandLine.includes('--require-state'))).toBe(
        false,
      );
      await s.restart(gone);
      expect(s.get(gone).proc.commandLine).toContain('--require-state');

      await s.stopNode(gone);
      const folder = s.nodeDir(s.get(gone).rec);
      rmSync(folder, { recursive: true });
      const err = (await s.restart(gone).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain(
        `node ${gone} has run before, but its data folder ${folder} is gone`,
      );
      expect(err.message).toContain(`raftdeck replace-node ${gone}`);
      expect(existsSync(folder)).toBe(false);
      expect(s.get(gone).proc.running).toBe(false);
      const nv = s.view().nodes.find((n) => n.id === gone)!;
      expect(nv.startRefused).toBe(err.message);
      expect(nv.health).toBe('down');
      const ev = s.allEvents().filter((e) => e.kind === 'storage' && e.node === gone);
      expect(ev.map((e) => e.message)).toEqual([err.message]);
      // Turning auto-restart on does not bring it back either.
      await expect(s.startNode(gone)).rejects.toThrow(/is gone/);

      const { wf, run } = await replaceNode(s, gone);
      expect(wf.view.kind).toBe('replace-node');
      const r = await run;
      expect(r.state, r.error ?? '').toBe('done');
      expect(r.steps.map((x) => [x.name, x.state])).toEqual([
        ['check quorum', 'done'],
        ['commit configuration without it', 'done'],
        ['node exited', 'done'],
        ['data removed', 'done'],
        ['spawn empty node', 'done'],
        ['add as learner', 'done'],
        ['catch up', 'done'],
        ['promote to voter', 'done'],
        ['configuration committed', 'done'],
      ]);
      expect(r.steps[2]!.detail).toBe('was not running (stopped)');
      expect(r.steps[4]!.detail).toMatch(/^node 4, pid \d+$/);
      expect(r.steps[8]!.detail).toBe('node 4 is a voter');
      const v = s.view();
      expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3].filter((i) => i !== gone).concat(4));
      const l = v.nodes.find((n) => n.id === v.leader)!;
      expect(l.raft!.voters.sort()).toEqual(v.nodes.map((n) => n.id).sort());
      expect(s.manifest.nodes.find((n) => n.id === gone)!.state).toBe('removed');
      expect(existsSync(folder)).toBe(false);
      for (let i = 0; i < 20; i++) {
        const got = await kv.get(`k${i}`);
        expect(got && new TextDecoder().decode(got)).toBe(`v${i}`);
      }
    } finally {
      await kv.close();
    }
  }, 90_000);

  it('one supervisor per cluster folder; an older manifest learns which members have run', async () => {
    const s = await started();
    await until('a leader', () => s.view().leader);
    const other = new Supervisor({ dir: dir!, connect: connectAdmin });
    await expect(other.start()).rejects.toThrow(`cluster folder ${s.dir} is in use by pid`);
    expect(other.nodes.size).toBe(0);
    await s.stop();
    // cluster.json as written before `started` was recorded: a member with a node.json has run
    // (and is restarted with --require-state); node 3, without one, is taken as never started.
    const file = join(dir!, 'cluster.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Record<string, unknown>[] };
    for (const n of m.nodes) delete n.started;
    writeFileSync(file, JSON.stringify(m));
    rmSync(join(dir!, 'node-3'), { recursive: true });
    sup = new Supervisor({ dir: dir!, connect: connectAdmin });
    await sup.start();
    const flags = [1, 2, 3].map((id) => sup!.get(id).proc.commandLine.includes('--require-state'));
    expect(flags).toEqual([true, true, false]);
    expect(sup.manifest.nodes.map((n) => n.started)).toEqual([true, true, true]);
    expect(sup.view().nodes.every((n) => n.startRefused === null)).toBe(true);
  }, 60_000);

  it('adopts the cluster in its folder after a restart of the supervisor', async () => {
    const s = await started();
    await until('a leader', () => s.view().leader);
    const id = s.manifest.clusterId;
    await s.stop();
    expect(s.view().nodes.every((n) => n.process.state === 'stopped')).toBe(true);
    sup = new Supervisor({ dir: dir!, connect: connectAdmin });
    await sup.start();
    expect(sup.manifest.clusterId).toBe(id);
    await until('a leader again', () => sup!.view().leader);
  }, 60_000);
});
