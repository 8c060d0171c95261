/**
 * runner: one run of a scenario. Runner implements the ScenarioContext a scenario's code works
 * with (steps narrated in the run and the event stream, waits on the view, clients, workloads,
 * workflows) and restores the cluster when the scenario ends.
 */
import type { ScenarioRun } from '../../contract/view';
import type { NodeId } from '../../raft/types';
import type { ClusterEngine, KvSession } from '../engine';
import { Workload } from '../workload';
import type { ScenarioControl } from './control';
import {
  ScenarioFailure,
  agreedLeader,
  describeView,
  publishRun,
  secs,
  settled,
  type Scenario,
  type ScenarioContext,
  type StepFn,
  type ViewPredicate,
} from './context';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dec = new TextDecoder();

/** RESTORE is the last step of every run. */
export const RESTORE = 'Restore the cluster';

/** Runner holds one run's state and implements its ScenarioContext. */
export class Runner {
  readonly ctx: ScenarioContext;
  private current: ScenarioRun['steps'][number] | undefined;
  private readonly deferred: (() => Promise<void> | void)[] = [];
  private readonly clients = new Map<string, KvSession>();
  private readonly startVoters: number;

  constructor(
    private readonly sup: ClusterEngine,
    private readonly sc: Scenario,
    private readonly run: ScenarioRun,
    private readonly control?: ScenarioControl,
  ) {
    const electionMs = sup.timing.electionMs;
    const v0 = sup.view();
    const l0 = v0.nodes.find((n) => n.id === v0.leader)?.raft;
    this.startVoters = l0 ? l0.voters.length : v0.nodes.length;
    const ctx: ScenarioContext = {
      sup,
      electionMs,
      pace: () => sup.pace.pace,
      step: (text, fn) => this.step(text, fn),
      note: (detail) => {
        if (this.current) {
          this.current.detail = detail;
          publishRun(sup, run);
        }
      },
      expect(cond: unknown, message: string): asserts cond {
        if (!cond) throw new ScenarioFailure(message);
      },
      waitFor: (what, predicate, timeoutMs) => this.waitFor(what, predicate, timeoutMs),
      holds: async (what, predicate, ms) => {
        const end = Date.now() + ms * sup.pace.pace;
        while (Date.now() < end) {
          if (!predicate(sup.view())) {
            throw new ScenarioFailure(`expected ${what}, but: ${describeView(sup.view())}`);
          }
          await sleep(25);
        }
      },
      view: () => sup.view(),
      node: (id) => {
        const n = sup.view().nodes.find((x) => x.id === id);
        if (!n) throw new ScenarioFailure(`node ${id} is not in the cluster`);
        return n;
      },
      leader: () => {
        const l = agreedLeader(sup.view());
        if (!l) throw new ScenarioFailure(`no leader: ${describeView(sup.view())}`);
        return l;
      },
      waitLeader: (what = 'a leader', timeoutMs = Math.max(10_000, 20 * electionMs)) =>
        this.waitFor(what, agreedLeader, timeoutMs),
      voters: () => this.voters(),
      followers: () => {
        const v = sup.view();
        const l = agreedLeader(v);
        return this.voters().filter(
          (id) => id !== l && v.nodes.find((n) => n.id === id)?.process.state === 'running',
        );
      },
      follower: () => {
        const f = ctx.followers()[0];
        if (!f) throw new ScenarioFailure(`no running follower: ${describeView(sup.view())}`);
        return f;
      },
      write: async (key, value) => {
        await this.client().put(key, value);
      },
      del: async (key) => {
        await this.client().del(key);
      },
      read: async (key, via) => {
        const v = await this.client(via).get(key);
        return v === null ? null : dec.decode(v);
      },
      writeMany: (count, prefix, concurrency = 8) => this.writeMany(count, prefix, concurrency),
      workload: (options) =>
        new Workload(
          (clientId, timeoutMs) => sup.kvSession({ clientId, timeoutMs }),
          options,
          // Each sample marks the view changed, as every other step of the run does.
          () => publishRun(sup, run),
        ),
      eventsSince: (seq) => sup.eventsSince(seq),
      mark: () => {
        const all = sup.allEvents();
        return all.length ? all[all.length - 1]!.seq : 0;
      },
      defer: (fn) => {
        this.deferred.push(fn);
      },
    };
    this.ctx = ctx;
  }

  private async step(text: string, fn: StepFn): Promise<void> {
    // A paused run holds here, between steps, until it is stepped or resumed.
    await this.control?.gate();
    let s = this.run.steps.find((x) => x.text === text && x.state === 'pending');
    if (!s) {
      s = { text, state: 'pending', detail: '' };
      const restore = this.run.steps.findIndex((x) => x.text === RESTORE && x.state === 'pending');
      if (restore >= 0 && text !== RESTORE) this.run.steps.splice(restore, 0, s);
      else this.run.steps.push(s);
    }
    const start = Date.now();
    s.state = 'active';
    s.detail = '';
    this.current = s;
    publishRun(this.sup, this.run);
    this.sup.event(null, 'scenario', `${this.sc.name}: ${text}…`);
    try {
      const detail = await fn();
      s.state = 'done';
      s.detail = `${detail || s.detail || 'done'} (${secs(Date.now() - start)})`;
      this.sup.event(null, 'scenario', `${this.sc.name}: ${text} — ${s.detail}`);
    } catch (e) {
      s.state = 'failed';
      s.detail = `${(e as Error).message} (after ${secs(Date.now() - start)})`;
      this.sup.event(null, 'scenario', `${this.sc.name}: ${text} FAILED — ${s.detail}`);
      throw e;
    } finally {
      this.current = undefined;
      publishRun(this.sup, this.run);
    }
  }

  private async waitFor<T>(
    what: string,
    predicate: ViewPredicate<T>,
    timeoutMs = 10_000,
  ): Promise<T> {
    // Limits are stated for real time; a cluster slowed down N times gets N times as long.
    const limit = timeoutMs * this.sup.pace.pace;
    const end = Date.now() + limit;
    for (;;) {
      const v = this.sup.view();
      const r = predicate(v);
      if (r) return r;
      if (Date.now() > end) {
        throw new ScenarioFailure(
          `timed out after ${secs(limit)} waiting for ${what}; cluster: ${describeView(v)}`,
        );
      }
      await sleep(25);
    }
  }

  private voters(): NodeId[] {
    const v = this.sup.view();
    const l = v.nodes.find((n) => n.id === (agreedLeader(v) || v.leader))?.raft;
    if (l) return [...l.voters];
    return v.nodes.filter((n) => n.membership === 'voter').map((n) => n.id);
  }

  /** client is a session over every member, or pinned to one member. */
  private client(via?: NodeId): KvSession {
    if (via !== undefined) this.ctx.node(via);
    const members = this.sup
      .view()
      .nodes.filter((n) => n.membership !== 'removed')
      .map((n) => n.addresses.client)
      .join(',');
    const key = via !== undefined ? `via ${via}` : members;
    let c = this.clients.get(key);
    if (!c) {
      c = this.sup.kvSession({
        via,
        // Slowed down, a write takes as many more round trips' time (and elections as long).
        timeoutMs: 10_000 * this.sup.pace.pace,
        clientId: `scenario-${this.sc.name}-${this.clients.size}-${Date.now()}`,
      });
      this.clients.set(key, c);
    }
    return c;
  }

  private async writeMany(count: number, prefix: string, concurrency: number): Promise<number> {
    const c = this.client();
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        await c.put(`${prefix}${i}`, `v${i}`);
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
    return done;
  }

  async cleanup(): Promise<void> {
    for (const fn of this.deferred.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup is best effort; the restore step reports what is still wrong.
      }
    }
  }

  /** restore heals the network, resumes and restarts nodes and restores the voter count. */
  async restore(): Promise<string> {
    const did: string[] = [];
    const sup = this.sup;
    // Clearing all faults also starts every member that is down; one that does not start fails
    // the restore.
    const cleared = await sup.clearAllFaults();
    if (cleared.failed.length > 0) throw new ScenarioFailure(cleared.failed.join('; '));
    if (!cleared.summary.startsWith('no fault')) did.push(cleared.summary.replace(/\.$/, ''));
    await this.ctx.waitLeader('a leader after restoring', 30_000);
    while (this.voters().length < this.startVoters) {
      const { view, run } = await sup.addNode();
      const r = await run;
      if (r.state !== 'done') throw new ScenarioFailure(`could not add a node: ${r.error}`);
      did.push(`added node ${view.node}`);
    }
    await this.waitFor(
      'every node to run, follow one leader and catch up',
      settled,
      Math.max(30_000, 40 * this.ctx.electionMs),
    );
    const v = sup.view();
    return `${did.length ? `${did.join(', ')}; ` : ''}${v.nodes.length} nodes follow node ${v.leader} in term ${v.term}`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
