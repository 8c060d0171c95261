/**
 * failover: SIGKILL the leader of a healthy, idle 3-member cluster and time, from the kill, until
 * (a) a surviving member reports a new leader and (b) a put through a client that knows all three
 * members succeeds; the trial's figure is the later of the two. The killed member is restarted and
 * the cluster brought back to health between trials.
 *
 * Both systems are watched the same way: the survivors' status is polled every 10 ms, and puts are
 * retried with short per-attempt deadlines (250 ms) and pauses of at most 20 ms.
 */
import type { Etcd3 } from 'etcd3';
import { etcdClient, startEtcd, type EtcdCluster } from './etcd-cluster';
import {
  TIMING,
  clientEndpoints,
  memberIds,
  startRaftdeck,
  statusOf,
  waitHealthy,
} from './raftdeck-cluster';
import { isInterrupted } from './teardown';
import type { StageContext } from './throughput';
import { KvClient } from '../../main/node/client';
import type { Supervisor } from '../../main/cluster/supervisor';

export interface FailoverResult {
  medianMs: number;
  maxMs: number;
  /** trials: each trial's time in ms (the later of leader known and put succeeded). */
  trials: number[];
  /** leaderMs: per trial, when a new leader was known. */
  leaderMs: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TRIAL_LIMIT_MS = 30_000;

/** summarize turns trial times into the result (the median of an even count is the mean of the middle two). */
function summarize(trials: number[], leaderMs: number[]): FailoverResult {
  const sorted = Float64Array.from(trials).sort();
  const n = sorted.length;
  const median =
    n === 0 ? NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    medianMs: Math.round(median),
    maxMs: Math.round(n === 0 ? NaN : sorted[n - 1]!),
    trials: trials.map(Math.round),
    leaderMs: leaderMs.map(Math.round),
  };
}

/**
 * measure runs the two watchers from t0 and resolves with both times (ms after t0), or throws if
 * either takes longer than the limit.
 */
async function measure(
  t0: number,
  leaderKnown: () => Promise<boolean>,
  putOnce: () => Promise<void>,
): Promise<{ leaderMs: number; putMs: number }> {
  const deadline = t0 + TRIAL_LIMIT_MS;
  const leader = (async () => {
    while (performance.now() < deadline) {
      if (await leaderKnown()) return performance.now() - t0;
      await sleep(10);
    }
    throw new Error(`no new leader within ${TRIAL_LIMIT_MS / 1000} s`);
  })();
  const put = (async () => {
    while (performance.now() < deadline) {
      try {
        await putOnce();
        return performance.now() - t0;
      } catch {
        await sleep(10);
      }
    }
    throw new Error(`no put succeeded within ${TRIAL_LIMIT_MS / 1000} s`);
  })();
  const [leaderMs, putMs] = await Promise.all([leader, put]);
  return { leaderMs, putMs };
}

function trialLine(
  system: string,
  i: number,
  killed: string,
  r: { leaderMs: number; putMs: number },
): string {
  return `${system.padEnd(8)} trial ${String(i + 1).padStart(2)}: killed ${killed}, new leader known after ${Math.round(r.leaderMs)} ms, put succeeded after ${Math.round(r.putMs)} ms`;
}

export async function failoverRaftdeck(ctx: StageContext, trials: number): Promise<FailoverResult> {
  const c = await startRaftdeck(ctx, 'failover-raftdeck');
  const sup: Supervisor = c.sup;
  const kv = new KvClient({
    endpoints: clientEndpoints(sup),
    timeoutMs: TRIAL_LIMIT_MS,
    attemptTimeoutMs: 250,
    connectTimeoutMs: 250,
    maxRetries: 1_000_000,
    backoff: { initialMs: 5, maxMs: 20, multiplier: 2 },
  });
  const times: number[] = [];
  const leaders: number[] = [];
  try {
    for (let i = 0; i < trials && !isInterrupted(); i++) {
      await waitHealthy(sup, 30_000);
      await kv.put('failover-warmup', 'x');
      await sleep(100 + Math.random() * 300);
      const leader = sup.leaderId();
      const survivors = memberIds(sup).filter((id) => id !== leader);
      let seq = 0;
      const t0 = performance.now();
      await sup.kill(leader);
      const r = await measure(
        t0,
        async () => {
          const st = await Promise.all(survivors.map((id) => statusOf(sup, id)));
          return st.some((s) => s !== undefined && s.leader !== 0 && s.leader !== leader);
        },
        async () => {
          await kv.put(`failover-${i}-${seq++}`, 'x');
        },
      );
      times.push(Math.max(r.leaderMs, r.putMs));
      leaders.push(r.leaderMs);
      ctx.log(trialLine('raftdeck', i, `node ${leader}`, r));
      await sup.startNode(leader);
    }
    return summarize(times, leaders);
  } finally {
    await kv.close();
    await c.stop();
  }
}

async function etcdPut(client: Etcd3, key: string): Promise<void> {
  await client
    .put(key)
    .value('x')
    .options({ deadline: Date.now() + 250 })
    .exec();
}

export async function failoverEtcd(ctx: StageContext, trials: number): Promise<FailoverResult> {
  const c = await startEtcd(ctx.root, 'failover-etcd', TIMING);
  const etcd: EtcdCluster = c.etcd;
  const client = etcdClient(etcd.clientAddresses());
  const times: number[] = [];
  const leaders: number[] = [];
  try {
    for (let i = 0; i < trials && !isInterrupted(); i++) {
      await etcd.waitHealthy(30_000);
      await client.put('failover-warmup').value('x').exec();
      await sleep(100 + Math.random() * 300);
      const leader = await etcd.leader();
      if (!leader) throw new Error('etcd cluster has no leader');
      const survivors = etcd.members.filter((m) => m !== leader);
      let seq = 0;
      const t0 = performance.now();
      await etcd.kill(leader);
      const r = await measure(
        t0,
        async () => {
          const st = await Promise.all(survivors.map((m) => etcd.statusOf(m, 200)));
          return st.some((s) => s !== undefined && s.leader !== '0' && s.leader !== leader.id);
        },
        () => etcdPut(client, `failover-${i}-${seq++}`),
      );
      times.push(Math.max(r.leaderMs, r.putMs));
      leaders.push(r.leaderMs);
      ctx.log(trialLine('etcd', i, `member ${leader.name}`, r));
      etcd.restart(leader);
    }
    return summarize(times, leaders);
  } finally {
    client.close();
    await c.stop();
  }
}
