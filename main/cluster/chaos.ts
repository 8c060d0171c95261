/**
 * chaos: a workload runs while random faults, drawn from a seeded generator, hit the cluster
 * (kill -9 and restart, pause and resume, isolation and partitions, per-link delay and loss, one
 * membership change). At the end every fault is cleared, the cluster converges, every key is read
 * once more, and the history, with those final reads appended, is checked for linearizability and
 * for lost acknowledged writes.
 */
import type { ClusterView, HistoryOp, LinkRule } from '../contract/view';
import { KvClient } from '../node/client';
import type { NodeId } from '../raft/types';
import { check, type Verdict } from './checker/porcupine';
import { agreedLeader, describeView } from './scenarios/context';
import type { Supervisor } from './supervisor';
import { addNode, removeNode } from './workflows';
import { raftdeckSessions, Workload } from './workload';
import { seededRng } from '../raft/rng';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dec = new TextDecoder();

export interface ChaosOptions {
  /** seconds: how long faults are injected (the run takes longer: recovery and the check). */
  seconds: number;
  /** clients: concurrent workload clients (default 8). */
  clients?: number;
  /** keys: the workload's key space (default 20). */
  keys?: number;
  /** seed: for the fault schedule (default: random); the report names it, to replay a run. */
  seed?: number;
  /** membership: make one membership change during the run (default true). */
  membership?: boolean;
  /** checkTimeoutMs: the linearizability check's time bound (default 60 000). */
  checkTimeoutMs?: number;
  onLog?: (line: string) => void;
}

/** ChaosReport: what happened and what the checks found. */
export interface ChaosReport {
  seconds: number;
  seed: number;
  /** ops: operations recorded by the workload (the final reads not included). */
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  /** faults: the timeline of faults and recoveries, "+12.3 s kill -9 node 2". */
  faults: string[];
  /** membership: what the membership change did, or why it did not happen. */
  membership: string;
  /** converged: after the faults were cleared, every node applied the same last index. */
  converged: boolean;
  /** finalReads: keys read after quiescence and appended to the history. */
  finalReads: number;
  /** verdict: of the whole history with the final reads; 'unknown' means the check ran out of time. */
  verdict: Verdict;
  /** failure: the checker's explanation when the verdict is 'not-linearizable'. */
  failure: string | null;
  checkMs: number;
  /** lostWrites: keys whose final value contradicts an acknowledged write (see findLostWrites). */
  lostWrites: number;
  lost: string[];
}

/** written is the value an operation wrote if it took effect, or undefined if it writes nothing. */
function written(op: HistoryOp): { value: string | null } | undefined {
  if (op.outcome === 'fail') return undefined;
  if (op.op === 'put') return { value: op.value ?? null };
  if (op.op === 'del') return { value: null };
  if (op.op === 'cas') {
    if (op.outcome === 'ok' && op.output?.casOk !== true) return undefined;
    return { value: op.value ?? null };
  }
  return undefined;
}

/**
 * findLostWrites compares each key's final value (read after quiescence, after every operation in
 * the history) with the acknowledged writes. Keys start absent. A final value is impossible, and
 * counted as a lost write, when every operation that could have written it (a write of that value
 * that was acknowledged or has an unknown outcome; for "absent", also the initial state) completed
 * before some other acknowledged write on the key was invoked: that later write then took effect
 * after it, so the final read cannot return it. Unknown-outcome writes never complete, so they can
 * always explain their value; values written twice are handled by requiring all writers to fail.
 * This never reports a loss that did not happen; the linearizability check of the history with the
 * final reads appended is the complete check.
 */
export function findLostWrites(
  ops: readonly HistoryOp[],
  finals: ReadonlyMap<string, string | null>,
): string[] {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const lost: string[] = [];
  for (const [key, v] of finals) {
    const list = byKey.get(key) ?? [];
    const acked = list.filter((o) => o.outcome === 'ok' && written(o) !== undefined);
    // Writers of v, as [complete time, op]; the initial (absent) state is complete at -Infinity.
    const writers: [number, HistoryOp | undefined][] = list
      .filter((o) => written(o)?.value === v)
      .map((o) => [o.outcome === 'ok' ? o.complete! : Infinity, o]);
    if (v === null) writers.push([-Infinity, undefined]);
    if (writers.length === 0) {
      lost.push(`${key}: the final value ${JSON.stringify(v)} was never written`);
      continue;
    }
    const overwrittenBy = (done: number, w: HistoryOp | undefined): HistoryOp | undefined =>
      acked.find((a) => a !== w && done < a.invoke);
    const explained = writers.some(([done, w]) => overwrittenBy(done, w) === undefined);
    if (!explained) {
      const [done, w] = writers[0]!;
      const a = overwrittenBy(done, w)!;
      const by = w ? `op ${w.id} (completed at ${done.toFixed(1)} ms)` : 'the initial state';
      lost.push(
        `${key}: the final value ${JSON.stringify(v)} comes from ${by}, but the acknowledged ${a.op} op ${a.id} of ${JSON.stringify(written(a)!.value)} was invoked later (at ${a.invoke.toFixed(1)} ms) and is lost`,
      );
    }
  }
  return lost;
}

/**
 * withFinalReads appends one completed get per key, with the value read after quiescence, invoked
 * after every operation of the history completed (times are in the history's own clock, so they
 * are placed just after its latest timestamp). Checking the result for linearizability also
 * checks that no acknowledged write was lost: a final read must see the last write.
 */
export function withFinalReads(
  ops: readonly HistoryOp[],
  finals: ReadonlyMap<string, string | null>,
): HistoryOp[] {
  let last = 0;
  let nextId = 0;
  for (const op of ops) {
    last = Math.max(last, op.invoke, op.complete ?? 0);
    nextId = Math.max(nextId, op.id + 1);
  }
  const history = [...ops];
  for (const [key, value] of finals) {
    history.push({
      id: nextId++,
      client: 'final',
      op: 'get',
      key,
      invoke: last + 1,
      complete: last + 2,
      outcome: 'ok',
      output: { value },
    });
  }
  return history;
}

type FaultKind = 'kill' | 'pause' | 'net' | 'rules';

interface Active {
  kind: FaultKind;
  nodes: NodeId[];
  until: number;
  label: string;
  undo: () => Promise<void>;
}

/** converged: one agreed leader, everything committed, every member applied the same last index. */
function allConverged(v: ClusterView): boolean {
  const l = agreedLeader(v);
  if (!l) return false;
  const lr = v.nodes.find((n) => n.id === l)!.raft!;
  if (lr.commit !== lr.lastIndex) return false;
  return v.nodes
    .filter((n) => n.membership !== 'removed')
    .every(
      (n) =>
        n.process.state === 'running' &&
        n.raft !== null &&
        n.raft.leader === l &&
        n.raft.applied === lr.commit &&
        n.raft.lastIndex === lr.lastIndex,
    );
}

/**
 * runChaos runs a workload under random faults for `seconds`, then clears the faults, lets the
 * cluster converge, reads every key, and checks the history. Faults touch at most a minority of
 * the voters at once (a membership change shrinks that budget while it runs), so the cluster is
 * usually available; now and then, though, every node is cut off from every other for a few
 * seconds. The checks hold whether the cluster is available or not.
 */
export async function runChaos(sup: Supervisor, o: ChaosOptions): Promise<ChaosReport> {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = seededRng(seed);
  const clients = o.clients ?? 8;
  const keys = o.keys ?? 20;
  const t0 = Date.now();
  const at = (): string => `+${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const faults: string[] = [];
  const log = (line: string): void => {
    o.onLog?.(`${at()} ${line}`);
  };
  const record = (line: string): void => {
    faults.push(`${at()} ${line}`);
    log(line);
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const between = (lo: number, hi: number): number => lo + rng() * (hi - lo);

  // Limits are stated for real time; a cluster slowed down N times gets N times as long.
  const waitView = async (what: string, pred: (v: ClusterView) => boolean, realMs: number) => {
    const ms = realMs * sup.pace.pace;
    const end = Date.now() + ms;
    while (!pred(sup.view())) {
      if (Date.now() > end)
        throw new Error(
          `timed out after ${ms / 1000} s waiting for ${what}: ${describeView(sup.view())}`,
        );
      await sleep(50);
    }
  };

  log(
    `chaos: seed ${seed}, ${o.seconds} s, ${clients} clients over ${keys} keys, pace ${sup.pace.pace}×`,
  );
  await waitView('a leader', (v) => agreedLeader(v) !== 0, 30_000);

  const endpoints = (): string[] =>
    sup
      .view()
      .nodes.filter((n) => n.membership !== 'removed')
      .map((n) => n.addresses.client);
  // The workload's keys are its own (a fresh prefix), so every key starts absent as the checker's
  // model assumes.
  const wl = new Workload(raftdeckSessions(endpoints), {
    clients,
    keys,
    readRatio: 0.5,
    casRatio: 0.1,
  });
  const keyNames = wl.keyNames();
  const active: Active[] = [];
  /** busy: nodes a membership change works on; faults leave them alone. */
  const busy = new Set<NodeId>();
  /** minVoters: the fewest voters the cluster may have right now (lower during a removal). */
  let minVoters = 0;
  let membership = o.membership === false ? 'not requested' : 'not started';

  const voters = (): NodeId[] => {
    const v = sup.view();
    const l = v.nodes.find((n) => n.id === (agreedLeader(v) || v.leader))?.raft;
    return l ? l.voters : v.nodes.filter((n) => n.membership === 'voter').map((n) => n.id);
  };
  const faulty = (): Set<NodeId> => new Set(active.flatMap((a) => a.nodes));
  const budget = (): number => {
    const n = Math.min(voters().length, minVoters || Infinity);
    return Math.max(0, Math.floor((n - 1) / 2));
  };

  const recover = async (a: Active): Promise<void> => {
    const i = active.indexOf(a);
    if (i < 0) return; // already recovered (the membership change may recover faults too)
    active.splice(i, 1);
    try {
      await a.undo();
      record(`recover: ${a.label}`);
    } catch (e) {
      record(`recover ${a.label} failed: ${(e as Error).message}`);
    }
  };

  /** nextSplit: no quorum-losing split before this time (they stay rare). */
  let nextSplit = 0;
  const inject = async (): Promise<void> => {
    const bad = faulty();
    const room = budget() - bad.size;
    if (room <= 0) return;
    const candidates = sup
      .view()
      .nodes.filter(
        (n) =>
          n.process.state === 'running' &&
          n.membership !== 'removed' &&
          !bad.has(n.id) &&
          !busy.has(n.id),
      )
      .map((n) => n.id);
    if (candidates.length === 0) return;
    // Now and then, with nothing else going on, no quorum at all for a few seconds: every node on
    // its own. Operations in flight then end unknown or failed, which the checks must take.
    const quiet = bad.size === 0 && busy.size === 0 && !minVoters && Date.now() > nextSplit;
    if (quiet && rng() < 0.06) {
      const all = sup.view().nodes.map((n) => n.id);
      await sup.partition(all.map((n) => [n]));
      const until = Date.now() + between(3000, 6000);
      nextSplit = until + 15_000;
      active.push({
        kind: 'net',
        nodes: all,
        until,
        label: 'heal the network (quorum back)',
        undo: () => sup.heal(),
      });
      record(`split every node from every other: no quorum`);
      return;
    }
    const id = pick(candidates);
    const role = sup.view().nodes.find((n) => n.id === id)?.raft?.role ?? 'unknown role';
    const until = Date.now() + between(1500, 5000);
    const netBusy = active.some((a) => a.kind === 'net' || a.kind === 'rules');
    const kinds: FaultKind[] = netBusy ? ['kill', 'pause'] : ['kill', 'pause', 'net', 'rules'];
    const kind = pick(kinds);
    if (kind === 'kill') {
      await sup.kill(id);
      active.push({
        kind,
        nodes: [id],
        until,
        label: `restart node ${id}`,
        undo: async () => {
          const m = sup.nodes.get(id);
          if (m && m.rec.state === 'member' && !m.proc.running) await sup.startNode(id);
        },
      });
      record(`kill -9 node ${id} (${role})`);
    } else if (kind === 'pause') {
      sup.pause(id);
      active.push({
        kind,
        nodes: [id],
        until,
        label: `resume node ${id}`,
        undo: async () => {
          if (sup.nodes.get(id)?.proc.state === 'paused') sup.resume(id);
        },
      });
      record(`pause node ${id} (${role})`);
    } else if (kind === 'net') {
      // A minority (up to the room left) cut off: one node isolated, or a partition into two sides.
      const size = 1 + Math.floor(rng() * Math.min(room, candidates.length));
      const minority = [id, ...candidates.filter((c) => c !== id)].slice(0, size);
      const heal = async (): Promise<void> => sup.heal();
      if (size === 1 && rng() < 0.5) {
        await sup.isolate(id);
        record(`isolate node ${id} (${role})`);
      } else {
        const rest = sup
          .view()
          .nodes.map((n) => n.id)
          .filter((n) => !minority.includes(n));
        await sup.partition([minority, rest]);
        record(`partition {${minority.join(',')}} | {${rest.join(',')}} (node ${id} ${role})`);
      }
      active.push({ kind, nodes: minority, until, label: 'heal the network', undo: heal });
    } else {
      const delay = Math.round(between(5, 120));
      const jitter = Math.round(between(0, delay));
      const drop = Number(between(0.05, 0.4).toFixed(2));
      const shapes: [string, LinkRule[]][] = [
        [
          `delay ${delay}±${jitter} ms both ways`,
          [
            { to: '*', delayMs: delay, jitterMs: jitter },
            { from: '*', delayMs: delay, jitterMs: jitter },
          ],
        ],
        [`drop ${drop} of outgoing messages`, [{ to: '*', drop }]],
        [
          `drop ${drop} of incoming and delay outgoing ${delay} ms`,
          [
            { from: '*', drop },
            { to: '*', delayMs: delay },
          ],
        ],
        [`drop ${drop} of app/app-resp`, [{ to: '*', drop, types: ['app', 'app-resp'] }]],
      ];
      const [what, rules] = pick(shapes);
      await sup.setLinkRules(id, rules);
      active.push({
        kind,
        nodes: [id],
        until,
        label: `clear link rules on node ${id}`,
        undo: async () => {
          if (sup.nodes.has(id)) await sup.setLinkRules(id, []);
        },
      });
      record(`link rules on node ${id} (${role}): ${what}`);
    }
  };

  /** changeMembership adds a node and removes it, or removes a voter and adds a fresh node. */
  const changeMembership = async (): Promise<void> => {
    const tryWorkflow = async (
      what: string,
      start: () => Promise<{ run: Promise<{ state: string; error: string | null }> }>,
      undo?: () => Promise<void>,
    ): Promise<boolean> => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        try {
          const r = await (await start()).run;
          if (r.state === 'done') return true;
          record(`${what} failed (attempt ${attempt}): ${r.error}`);
          await undo?.();
        } catch (e) {
          record(`${what} could not start (attempt ${attempt}): ${(e as Error).message}`);
        }
        await sleep(1000);
      }
      return false;
    };
    let added = 0;
    /** add adds a fresh node; a failed attempt takes the half-added node out again. */
    const add = (): Promise<boolean> =>
      tryWorkflow(
        'add node',
        async () => {
          const r = await addNode(sup);
          added = r.wf.view.node;
          busy.add(added);
          return r;
        },
        async () => {
          if (!sup.nodes.has(added)) return;
          const r = await (await removeNode(sup, added)).run.catch(() => undefined);
          if (r?.state !== 'done' && sup.nodes.has(added)) await sup.forgetNode(added);
          record(`took the half-added node ${added} out again`);
        },
      );
    if (rng() < 0.5) {
      minVoters = voters().length;
      record('membership: add a node');
      if (!(await add())) {
        membership = 'adding a node failed';
        return;
      }
      record(`membership: node ${added} is a voter`);
      await sleep(between(1000, 3000));
      const removed = await tryWorkflow(`remove node ${added}`, () => removeNode(sup, added));
      membership = removed
        ? `added node ${added}, then removed it`
        : `added node ${added}; removing it failed`;
      record(`membership: ${membership}`);
    } else {
      // Removing a voter shrinks the budget first: wait for the faults to fit in it.
      minVoters = voters().length - 1;
      while (faulty().size > budget()) {
        const first = active[0];
        if (first) await recover(first);
      }
      const candidates = voters().filter((id) => !faulty().has(id));
      const victim = pick(candidates);
      busy.add(victim);
      record(`membership: remove node ${victim}`);
      const removed = await tryWorkflow(`remove node ${victim}`, () => removeNode(sup, victim));
      if (!removed) {
        membership = `removing node ${victim} failed`;
        busy.delete(victim);
        return;
      }
      const ok = await add();
      membership = ok
        ? `removed node ${victim}, then added node ${added}`
        : `removed node ${victim}; adding a node failed`;
      record(`membership: ${membership}`);
    }
  };

  wl.start();
  const faultEnd = Date.now() + o.seconds * 1000;
  const memberAt = Date.now() + o.seconds * 1000 * between(0.2, 0.45);
  let memberTask: Promise<void> | undefined;
  let nextProgress = Date.now() + 10_000;
  try {
    while (Date.now() < faultEnd) {
      await sleep(Math.min(between(1000, 2000), Math.max(0, faultEnd - Date.now())));
      if (Date.now() >= faultEnd) break;
      if (Date.now() >= nextProgress) {
        nextProgress += 10_000;
        const t = wl.totals;
        const v = sup.view();
        log(
          `workload: ${t.ok} ok, ${t.failed} failed, ${t.unknown} unknown; leader ${v.leader || 'none'} term ${v.term}`,
        );
      }
      for (const a of active.filter((x) => x.until <= Date.now())) await recover(a);
      if (o.membership !== false && !memberTask && Date.now() >= memberAt) {
        memberTask = changeMembership()
          .catch((e: Error) => {
            membership = `failed: ${e.message}`;
            record(`membership change failed: ${e.message}`);
          })
          .finally(() => {
            minVoters = 0;
            busy.clear();
          });
      }
      if (rng() < 0.85) {
        try {
          await inject();
        } catch (e) {
          record(`fault failed: ${(e as Error).message}`);
        }
      }
    }
    if (memberTask) {
      if (busy.size > 0) log('waiting for the membership change to finish');
      await memberTask;
    }
  } finally {
    // Clear everything, whatever happened, and bring every member back.
    for (const a of [...active]) await recover(a);
    // Clearing all faults also starts every member that is down, and says which did not start.
    const cleared = await sup.clearAllFaults();
    for (const f of cleared.failed) record(f);
    record('all faults cleared');
  }

  const injectedFor = (Date.now() - t0) / 1000;
  let isConverged = false;
  const finals = new Map<string, string | null>();
  try {
    await waitView('a leader after the faults', (v) => agreedLeader(v) !== 0, 60_000);
    // The cluster serves the clients again.
    const okBefore = wl.totals.ok;
    await waitView(
      'the workload to make progress',
      () => wl.totals.ok >= okBefore + 50,
      30_000,
    ).catch((e: Error) => log(`after healing: ${e.message}`));
  } finally {
    await wl.stop();
  }
  log(
    `workload stopped: ${wl.totals.ok} ok, ${wl.totals.failed} failed, ${wl.totals.unknown} unknown`,
  );
  try {
    await waitView('every node to apply the same last index', allConverged, 60_000);
    isConverged = true;
  } catch (e) {
    log((e as Error).message);
  }

  // Final reads, one per key, after every operation of the history.
  const reader = new KvClient({ endpoints: endpoints(), timeoutMs: 10_000 });
  try {
    for (const k of keyNames) {
      for (let attempt = 1; ; attempt++) {
        try {
          const v = await reader.get(k);
          finals.set(k, v === null ? null : dec.decode(v));
          break;
        } catch (e) {
          if (attempt >= 3) {
            log(`final read of ${k} failed: ${(e as Error).message}`);
            break;
          }
          await sleep(500);
        }
      }
    }
  } finally {
    await reader.close();
  }
  const history = withFinalReads(wl.history, finals);
  log(`checking ${history.length} operations`);
  const res = check(history, { timeoutMs: o.checkTimeoutMs ?? 60_000 });
  const lost = findLostWrites(wl.history, finals);
  const t = wl.totals;
  const report: ChaosReport = {
    seconds: Math.round(injectedFor),
    seed,
    ops: wl.history.length,
    ok: t.ok,
    failed: t.failed,
    unknown: t.unknown,
    faults,
    membership,
    converged: isConverged,
    finalReads: finals.size,
    verdict: res.result,
    failure: res.failure ? `${res.failure.key}: ${res.failure.explanation}` : null,
    checkMs: Math.round(res.elapsedMs),
    lostWrites: lost.length,
    lost,
  };
  log(
    `verdict ${report.verdict} in ${report.checkMs} ms; ${report.lostWrites} lost writes; ${report.ops} ops (${t.unknown} unknown, ${t.failed} failed); ${faults.length} fault lines`,
  );
  return report;
}
