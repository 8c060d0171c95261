import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../main/contract/view';
import { check } from '../../../main/cluster/checker/porcupine';
import { hostOf, openEtcdClient } from '../../../main/cluster/etcd/etcd-client';
import { classify, EtcdKvSession } from '../../../main/cluster/etcd/etcd-kv';
import { KvError, UnknownOutcomeError } from '../../../main/node/client';
import { startEtcdCluster, type TestEtcdCluster } from './etcd-harness';
import { haveEtcd } from '../../etcd';

let cluster: TestEtcdCluster;
const sessions: EtcdKvSession[] = [];
const text = (v: Uint8Array | null): string | null =>
  v === null ? null : Buffer.from(v).toString('utf8');

function session(
  options: Partial<ConstructorParameters<typeof EtcdKvSession>[0]> = {},
): EtcdKvSession {
  const s = new EtcdKvSession({
    endpoints: cluster.endpoints,
    clientId: 'test',
    timeoutMs: 3000,
    ...options,
  });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  cluster = await startEtcdCluster({ members: 3, name: 'kv' });
}, 60_000);

afterAll(async () => {
  for (const s of sessions) await s.close();
  await cluster?.stop();
});

describe.skipIf(!haveEtcd)('classify', () => {
  it('tells refusals before sending from answers that leave a write unknown', () => {
    const refused = [
      '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1',
      '14 UNAVAILABLE: No connection established. Last error: unable to verify the first certificate',
      '14 UNAVAILABLE: etcdserver: no leader',
      '8 RESOURCE_EXHAUSTED: etcdserver: too many requests',
      '2 UNKNOWN: raft proposal dropped',
      '14 UNAVAILABLE: etcdserver: rpc not supported for learner',
      '4 DEADLINE_EXCEEDED: Deadline exceeded after 1.001s,LB pick: 1.000s',
    ];
    for (const m of refused)
      expect(classify(new Error(m)), m).toMatchObject({ sent: false, refused: true });
    const unknown = [
      '14 UNAVAILABLE: etcdserver: leader changed',
      '14 UNAVAILABLE: etcdserver: request timed out',
      '14 UNAVAILABLE: etcdserver: request timed out, possibly due to previous leader failure',
      '14 UNAVAILABLE: Connection dropped',
      '4 DEADLINE_EXCEEDED: Deadline exceeded after 1.002s,LB pick: 0.001s,remote_addr=127.0.0.1:2379',
      '13 INTERNAL: something new',
    ];
    for (const m of unknown) expect(classify(new Error(m)), m).toMatchObject({ sent: true });
    expect(
      classify(new Error('3 INVALID_ARGUMENT: etcdserver: request is too large')),
    ).toMatchObject({
      sent: false,
      refused: false,
      code: 'bad-request',
    });
  });
});

describe.skipIf(!haveEtcd)('EtcdKvSession on a real 3-member etcd', () => {
  it('puts, gets, deletes and compares-and-sets with etcd answering', async () => {
    const s = session();
    expect(await s.get('a')).toBeNull();
    expect((await s.put('a', '1')).prev).toBeNull();
    expect(text((await s.put('a', '2')).prev)).toBe('1');
    expect(text(await s.get('a'))).toBe('2');
    expect(await s.cas('a', null, 'x')).toEqual({
      ok: false,
      current: new Uint8Array(Buffer.from('2')),
    });
    expect(await s.cas('a', '1', 'x')).toEqual({
      ok: false,
      current: new Uint8Array(Buffer.from('2')),
    });
    expect(await s.cas('a', '2', '3')).toEqual({ ok: true });
    expect(text(await s.get('a'))).toBe('3');
    expect(text((await s.del('a')).prev)).toBe('3');
    expect((await s.del('a')).prev).toBeNull();
    expect(await s.cas('a', null, 'new')).toEqual({ ok: true });
    expect(await s.cas('a', null, 'again')).toEqual({
      ok: false,
      current: new Uint8Array(Buffer.from('new')),
    });
    expect(await s.cas('b', 'x', 'y')).toEqual({ ok: false, current: null });
    const bin = new Uint8Array([0, 255, 7]);
    await s.put('bin', bin);
    expect(await s.get('bin')).toEqual(bin);
    const e = await s.execute({ op: 'get', key: 'a' });
    expect(cluster.endpoints.map(hostOf)).toContain(e.servedBy);
    expect(e.servedBy).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(e.attempts).toBe(1);
  });

  it('pins one member with via, and refuses an endpoint it does not know', async () => {
    for (const ep of cluster.endpoints) {
      const s = session({ via: hostOf(ep) });
      await s.put('via', ep);
      expect((await s.execute({ op: 'get', key: 'via' })).servedBy).toBe(hostOf(ep));
    }
    expect(() => session({ via: '127.0.0.1:1' })).toThrow(/127\.0\.0\.1:1 is not one of/);
  });

  it('moves on from an endpoint that refuses the connection, and says when none answers', async () => {
    const dead = 'http://127.0.0.1:1';
    const s = session({ endpoints: [dead, cluster.endpoints[0]!] });
    const e = await s.execute({ op: 'put', key: 'k', value: 'v' });
    expect(e.servedBy).toBe(hostOf(cluster.endpoints[0]!));
    const none = session({ endpoints: [dead], timeoutMs: 500 });
    const err = await none.put('k', 'v').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe('unreachable');
    expect((err as KvError).message).toMatch(
      /no member reachable \(tried 127\.0\.0\.1:1\).*ECONNREFUSED/,
    );
    await none.close();
    await expect(none.get('k')).rejects.toMatchObject({ code: 'closed' });
  });

  it('authenticates as a user when etcd checks users, and says so when it is refused', async () => {
    const admin = openEtcdClient({ endpoints: [cluster.endpoints[0]!], dialTimeoutMs: 3000 });
    try {
      await admin.auth.roleAdd({ name: 'root' });
      await admin.auth.userAdd({ name: 'root', password: 'secret' });
      await admin.auth.userGrantRole({ user: 'root', role: 'root' });
      await admin.auth.authEnable();
      const s = session({ auth: { user: 'root', password: 'secret' } });
      await s.put('auth', 'yes');
      expect(text(await s.get('auth'))).toBe('yes');
      const anonymous = session();
      const err = await anonymous.put('auth', 'no').catch((x: unknown) => x);
      expect(err).toBeInstanceOf(KvError);
      expect((err as KvError).code).toBe('bad-request');
      expect((err as KvError).message).toMatch(/user name is empty|permission denied/);
      const wrong = session({ auth: { user: 'root', password: 'wrong' } });
      await expect(wrong.get('auth')).rejects.toThrow(/authentication failed/);
      expect(text(await s.get('auth'))).toBe('yes');
    } finally {
      const root = openEtcdClient({
        endpoints: [cluster.endpoints[0]!],
        auth: { user: 'root', password: 'secret' },
        dialTimeoutMs: 3000,
      });
      await root.auth.authDisable().catch(() => undefined);
      root.close();
      admin.close();
    }
  });

  it('keeps a linearizable history through a leader kill and restart', async () => {
    const leaderIndex = async (): Promise<number> => {
      for (let tries = 0; tries < 100; tries++) {
        for (const [i, ep] of cluster.endpoints.entries()) {
          if (!cluster.members[i]!.proc) continue;
          const c = openEtcdClient({ endpoints: [ep], dialTimeoutMs: 1000 });
          try {
            const st = await c.maintenance.status();
            if (st.leader !== '0' && st.leader === st.header.member_id) return i;
          } catch {
            // not answering: try the next one
          } finally {
            c.close();
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no etcd leader found');
    };

    const history: HistoryOp[] = [];
    const t0 = performance.now();
    const now = (): number => performance.now() - t0;
    let running = true;
    let nextId = 0;
    const keys = ['x', 'y', 'z'];
    const unknown: UnknownOutcomeError[] = [];
    const loop = async (c: number): Promise<void> => {
      const s = session({ clientId: `c${c}`, timeoutMs: 2000 });
      let counter = 0;
      const seen = new Map<string, string | null>();
      while (running) {
        const key = keys[Math.floor(Math.random() * keys.length)]!;
        const x = Math.random();
        const value = `${c}-${counter++}`;
        const base = {
          id: nextId++,
          client: String(c),
          key,
          invoke: now(),
          outcome: 'unknown' as const,
        };
        const op: HistoryOp =
          x < 0.4
            ? { ...base, op: 'get' }
            : x < 0.7
              ? { ...base, op: 'cas', expected: seen.get(key) ?? null, value }
              : { ...base, op: 'put', value };
        history.push(op);
        try {
          if (op.op === 'get') {
            const v = text(await s.get(key));
            op.output = { value: v };
            seen.set(key, v);
          } else if (op.op === 'cas') {
            const r = await s.cas(key, op.expected ?? null, value);
            op.output = { casOk: r.ok };
            seen.set(key, r.ok ? value : text(r.current));
          } else {
            await s.put(key, value);
            seen.set(key, value);
          }
          op.outcome = 'ok';
          op.complete = now();
        } catch (e) {
          if (e instanceof UnknownOutcomeError) {
            // It may take effect at any time from now on: no completion time.
            op.outcome = 'unknown';
            unknown.push(e);
            seen.delete(key);
          } else {
            expect(e).toBeInstanceOf(KvError);
            op.outcome = 'fail';
            op.complete = now();
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
    };
    const loops = [0, 1, 2, 3].map((c) => loop(c));
    await new Promise((r) => setTimeout(r, 1500));
    const victim = await leaderIndex();
    const killedAt = now();
    await cluster.kill(victim);
    await new Promise((r) => setTimeout(r, 2500));
    cluster.restart(victim);
    await cluster.waitHealthy(30_000);
    const restartedAt = now();
    await new Promise((r) => setTimeout(r, 1500));
    running = false;
    await Promise.all(loops);

    const ok = history.filter((o) => o.outcome === 'ok');
    // The cluster served clients before the kill, while the member was down and after it came back.
    expect(ok.some((o) => o.complete! < killedAt)).toBe(true);
    expect(ok.some((o) => o.invoke > killedAt + 1500 && o.complete! < restartedAt)).toBe(true);
    expect(ok.some((o) => o.invoke > restartedAt)).toBe(true);
    expect(ok.filter((o) => o.op !== 'get').length).toBeGreaterThan(20);
    for (const e of unknown) expect(e.message).toMatch(/outcome unknown/);
    const result = check(history, { timeoutMs: 60_000 });
    expect(result.failure?.explanation).toBeUndefined();
    expect(result.result).toBe('ok');
  }, 90_000);
});
