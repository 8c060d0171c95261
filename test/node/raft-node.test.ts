import { afterEach, describe, expect, it } from 'vitest';
import { KvState } from '../../main/node/kv/kv-state';
import { JsonLog } from '../../main/node/logger';
import { NotLeaderError, type NodeEvent } from '../../main/node/node-api';
import { RaftNode } from '../../main/node/raft-node';
import { MemoryDisk, MemoryStorage } from '../../main/node/storage/memory-storage';
import type { Message, ReadIndexMsg, SnapshotPart } from '../../main/raft/types';
import { FaultFilter } from '../../main/node/transport/fault-filter';
import { TcpTransport } from '../../main/node/transport/transport';
import { MemNetwork, type MemTransport } from './mem-transport';
import { waitFor } from './process/harness';
import { TEST_SECRET } from './transport/helpers';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (x: Uint8Array | null): string | null => (x ? new TextDecoder().decode(x) : null);

interface Member {
  node: RaftNode;
  transport: TcpTransport;
  faults: FaultFilter;
  storage: MemoryStorage;
  peer: string;
}

const started: Member[] = [];

async function makeTransport(
  id: number,
): Promise<{ transport: TcpTransport; faults: FaultFilter; peer: string }> {
  const faults = new FaultFilter();
  const transport = new TcpTransport({
    id,
    clusterId: 'inproc',
    secret: TEST_SECRET,
    port: 0,
    faults,
    log: () => undefined,
  });
  const a = await transport.listen();
  return { transport, faults, peer: `${a.host}:${a.port}` };
}

interface NodeOpts {
  snapshotEntries?: number;
  snapshotStepKeys?: number;
}

async function cluster(n: number, opts: NodeOpts = {}): Promise<Member[]> {
  const ts = await Promise.all(Array.from({ length: n }, (_, i) => makeTransport(i + 1)));
  const peers = ts.map((t, i) => ({
    id: i + 1,
    address: { peer: t.peer, client: `127.0.0.1:${9000 + i}` },
  }));
  const ms = ts.map((t, i) => member(i + 1, t, peers, false, opts));
  await Promise.all(ms.map((m) => m.node.start()));
  return ms;
}

function member(
  id: number,
  t: { transport: TcpTransport; faults: FaultFilter; peer: string },
  peers: { id: number; address: { peer: string; client: string } }[],
  join: boolean,
  opts: NodeOpts = {},
): Member {
  const storage = new MemoryStorage();
  const node = new RaftNode({
    id,
    clusterId: 'inproc',
    dataDir: '(memory)',
    storage,
    transport: t.transport,
    faults: t.faults,
    log: new JsonLog(undefined, { node: id }),
    peerAddress: t.peer,
    clientAddress: `127.0.0.1:${9000 + id - 1}`,
    adminAddress: '',
    initialPeers: peers,
    join,
    tickMs: 5,
    heartbeatMs: 20,
    electionMs: 200,
    snapshotEntries: opts.snapshotEntries ?? 0,
    ...(opts.snapshotStepKeys ? { snapshotStepKeys: opts.snapshotStepKeys } : {}),
    snapshotKeep: 5,
    snapshotChunkBytes: 1024,
    promoteGap: 5,
    requestTimeoutMs: 3000,
    onFatal: (e) => {
      throw e;
    },
  });
  const m = { node, storage, ...t };
  started.push(m);
  return m;
}

function leaderOf(ms: Member[]): Member | undefined {
  return ms.find((m) => m.node.status().role === 'leader');
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.node.shutdown('test over')));
});

/** outcomeOf: how a request ended, as text: 'done', or the error's name and message. */
function outcomeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'done',
    (e: Error) => `${e.name}: ${e.message}`,
  );
}

describe('RaftNode on real TCP transports', () => {
  it('elects a leader, replicates writes, serves linearizable reads anywhere and redirects writes', async () => {
    const ms = await cluster(3);
    const leader = await waitFor('a leader', () => leaderOf(ms));
    for (let i = 0; i < 50; i++) {
      const r = await leader.node.propose({
        clientId: 'c',
        seq: i + 1,
        cmd: { op: 'put', key: `k${i}`, value: b(`v${i}`) },
      });
      expect(r.ok).toBe(true);
    }
    for (const m of ms) expect(s(await m.node.get('k49'))).toBe('v49');
    const follower = ms.find((m) => m !== leader)!;
    const err = await follower.node
      .propose({ clientId: 'c', seq: 100, cmd: { op: 'put', key: 'x', value: b('y') } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).hint.leaderId).toBe(leader.node.id);
    expect((err as NotLeaderError).hint.leaderClientAddress).toBe(
      leader.node.status().clientAddress,
    );
  });

  it('serves its log decoded, with when each node appended, committed and applied an entry', async () => {
    const ms = await cluster(3);
    const leader = await waitFor('a leader', () => leaderOf(ms));
    const before = Date.now();
    await leader.node.propose({
      clientId: 'insp',
      seq: 1,
      cmd: { op: 'put', key: 'k-inspect', value: b('v-1') },
    });
    for (const m of ms) {
      await waitFor(`node ${m.node.id} applied the put`, () =>
        m.node
          .logEntries({ from: 1, count: 50, maxBytes: 1 << 20, key: 'k-inspect' })
          .entries.find((e) => e.appliedAt !== null),
      );
      const r = m.node.logEntries({ from: 1, count: 50, maxBytes: 1 << 20, key: 'k-inspect' });
      expect(r.entries).toHaveLength(1);
      const e = r.entries[0]!;
      expect(e).toMatchObject({ kind: 'put', key: 'k-inspect', value: 'v-1', client: 'insp' });
      expect(e.appendedAt).toBeGreaterThanOrEqual(before);
      expect(e.committedAt).toBeGreaterThanOrEqual(before);
      expect(e.appliedAt).toBeGreaterThanOrEqual(e.committedAt!);
      if (m === leader) expect(e.committedAt).toBeGreaterThanOrEqual(e.appendedAt!);
      const range = m.node.logEntries({ from: 1, count: 50, maxBytes: 1 << 20 });
      expect(range.entries.map((x) => x.kind)).toContain('config');
      expect(range.entries.map((x) => x.kind)).toContain('noop');
      expect(range.lastIndex).toBe(e.index);
    }
  });

  it('setPace stretches the tick and holds every message sent, live; the same pace again changes nothing', async () => {
    const ms = await cluster(3);
    const leader = await waitFor('a leader', () => leaderOf(ms));
    const events: NodeEvent[] = [];
    leader.node.subscribe((e) => events.push(e));
    const version = leader.node.status().version;
    for (const m of ms) {
      expect(m.node.setPace({ pace: 10, fastFailover: false })).toEqual({
        pace: 10,
        fastFailover: false,
        previous: { pace: 1, fastFailover: true },
      });
    }
    expect(leader.node.setPace({ pace: 10, fastFailover: false }).previous).toEqual({
      pace: 10,
      fastFailover: false,
    });
    expect(events.filter((e) => e.type === 'pace')).toEqual([
      expect.objectContaining({
        type: 'pace',
        pace: 10,
        fastFailover: false,
        previous: { pace: 1, fastFailover: true },
      }),
    ]);
    const st = leader.node.status();
    expect(st.version).toBeGreaterThan(version);
    expect(st.timing).toMatchObject({ tickMs: 5, pace: 10, fastFailover: false });
    expect(leader.transport.currentPace).toBe(10);
    // Heartbeats every 4 ticks of 50 ms, each held 100 ms.
    const from = leader.transport.traces.nextSeq;
    const to = ms.find((m) => m !== leader)!.node.id;
    const hbs = await waitFor('five heartbeats to one follower', () => {
      const mine = leader.node
        .messages({ since: from, peer: to, limit: 4096 })
        .traces.filter((t) => t.type === 'heartbeat' && t.dir === 'out');
      return mine.length >= 5 ? mine : undefined;
    });
    for (const t of hbs)
      expect([t.fate, t.delayMs >= 100, t.delayMs <= 140]).toEqual(['delayed', true, true]);
    const spacing = hbs.slice(1).map((t, i) => t.time - hbs[i].time);
    expect(Math.min(...spacing.slice(1))).toBeGreaterThanOrEqual(150);
    // The cluster still works at this pace.
    const r = await leader.node.propose({
      clientId: 'p',
      seq: 1,
      cmd: { op: 'put', key: 'k', value: b('v') },
    });
    expect(r.ok).toBe(true);
  });

  it('isolating the leader with fault rules moves leadership; clearing them lets it rejoin', async () => {
    const ms = await cluster(3);
    const old = await waitFor('a leader', () => leaderOf(ms));
    old.node.setFaults([
      { to: '*', drop: 1 },
      { from: '*', drop: 1 },
    ]);
    const fresh = await waitFor('a new leader', () =>
      ms.find((m) => m !== old && m.node.status().role === 'leader'),
    );
    await fresh.node.propose({
      clientId: 'c',
      seq: 1,
      cmd: { op: 'put', key: 'after', value: b('1') },
    });
    await waitFor('old leader to step down', () => old.node.status().role !== 'leader');
    old.node.clearFaults();
    await waitFor(
      'old leader catches up',
      () => old.node.status().applied >= fresh.node.status().commit,
    );
    expect(s(await old.node.get('after'))).toBe('1');
  });

  it('a leader that removes itself and steps down before the commit says it cannot learn the outcome', async () => {
    const ms = await cluster(3);
    const leader = await waitFor('a leader', () => leaderOf(ms));
    const [cut, other] = ms.filter((m) => m !== leader) as [Member, Member];
    // Without `cut`, the configuration {cut, other} has no quorum: the leader steps down
    // (check quorum) before the entry commits, and it is no member of that configuration.
    cut.node.setFaults([
      { to: '*', drop: 1 },
      { from: '*', drop: 1 },
    ]);
    const err = await leader.node.remove(leader.node.id).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('OutcomeUnknownError');
    expect(err?.message).toMatch(
      new RegExp(`node ${leader.node.id} lost leadership before the change at \\d+ committed`),
    );
    expect(leader.node.status().role).toBe('follower');
    // The next leader commits the removal; the old leader stays behind, out of the configuration.
    cut.node.clearFaults();
    const next = await waitFor('a new leader', () =>
      [cut, other].find((m) => m.node.status().role === 'leader'),
    );
    await waitFor('the removal to commit', () => next.node.status().pendingConfIndex === 0);
    expect(next.node.status().voters).toEqual([cut.node.id, other.node.id].sort());
  });

  it('a leader that removes itself learns the commit while its own disk is slow, and reports success', async () => {
    const ms = await cluster(3);
    const leader = await waitFor('a leader', () => leaderOf(ms));
    // The new configuration commits on the other two alone, and the leader steps down on seeing
    // that commit while it is still waiting for its own fsync: the commit is known, not yet applied.
    leader.storage.setFsyncDelay(300);
    const r = await leader.node.remove(leader.node.id);
    expect(r.index).toBeGreaterThan(0);
    expect(leader.node.status().role).not.toBe('leader');
  });

  it('snapshots after snapshotEntries entries once they hold half the state in bytes', async () => {
    const ms = await cluster(3, { snapshotEntries: 10 });
    const leader = await waitFor('a leader', () => leaderOf(ms));
    let seq = 0;
    const put = (key: string, bytes: number): Promise<unknown> =>
      leader.node.propose({
        clientId: 'c',
        seq: ++seq,
        cmd: { op: 'put', key, value: new Uint8Array(bytes) },
      });
    for (let i = 0; i < 100; i++) await put(`big${i}`, 1000);
    const snapIndex = (): number => leader.node.status().snapshotIndex;
    expect(snapIndex()).toBeGreaterThan(0);
    const { index: at } = await leader.node.snapshotNow();
    expect(snapIndex()).toBe(at);
    // Many small writes: enough entries, too few bytes to be worth rewriting a 100 KB state.
    for (let i = 0; i < 40; i++) await put('small', 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(snapIndex()).toBe(at);
    // Half the state's size written: a new snapshot.
    for (let i = 0; i < 60; i++) await put(`big${i}`, 1000);
    await waitFor('a new snapshot', () => snapIndex() > at + 40);
  });

  it('keeps committing writes while it writes a snapshot of a large state', async () => {
    const ms = await cluster(3, { snapshotStepKeys: 50 });
    const leader = await waitFor('a leader', () => leaderOf(ms));
    const put = (seq: number, key: string): Promise<unknown> =>
      leader.node.propose({ clientId: 'c', seq, cmd: { op: 'put', key, value: b(key) } });
    for (let i = 0; i < 5000; i += 500)
      await Promise.all(Array.from({ length: 500 }, (_, j) => put(i + j + 1, `k${i + j}`)));
    const order: string[] = [];
    const snap = leader.node.snapshotNow().then((r) => {
      order.push('snapshot');
      return r;
    });
    await put(5001, 'during').then(() => order.push('write'));
    const r = await snap;
    // The write was applied after the snapshot began and is not in it.
    expect(order).toEqual(['write', 'snapshot']);
    expect(r.index).toBeLessThan(leader.node.status().applied);
    expect(r.index).toBeGreaterThanOrEqual(5000);
    const img = KvState.restore(leader.storage.disk.snapshot!.data);
    expect(img.size).toBe(5000);
    expect(img.get('during')).toBeUndefined();
    expect(s(img.get('k4999') ?? null)).toBe('k4999');
    expect(s(await leader.node.get('during'))).toBe('during');
  });

  it('adds a learner that catches up by snapshot, promotes it, transfers leadership to it, removes a node', async () => {
    const ms = await cluster(3, { snapshotEntries: 20 });
    const leader = await waitFor('a leader', () => leaderOf(ms));
    for (let i = 0; i < 60; i++) {
      await leader.node.propose({
        clientId: 'c',
        seq: i + 1,
        cmd: { op: 'put', key: `k${i}`, value: b('x'.repeat(100)) },
      });
    }
    await waitFor('a snapshot', () => leader.node.status().snapshotIndex > 20);
    const t4 = await makeTransport(4);
    const peers = ms.map((m) => ({
      id: m.node.id,
      address: { peer: m.peer, client: m.node.status().clientAddress },
    }));
    const m4 = member(4, t4, peers, true);
    const parts: SnapshotPart[] = [];
    m4.storage.receiveSnapshot = (p) => void parts.push(p);
    await m4.node.start();
    await leader.node.addLearner(4, { peer: t4.peer, client: '127.0.0.1:9003' });
    await waitFor(
      'learner caught up',
      () => m4.node.status().applied >= leader.node.status().commit,
    );
    expect(m4.node.status().role).toBe('learner');
    const installed = m4.node.recentEvents(500).find((e) => e.type === 'snapshot-installed');
    expect(installed).toBeDefined();
    // The storage was handed the image piece by piece as it arrived, in order, all of it.
    const pieces = parts.flatMap((p) =>
      p.kind === 'bytes' && p.meta.index === installed!.index ? [p] : [],
    );
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.map((p) => p.offset)).toEqual(
      pieces.map((_, i) => pieces.slice(0, i).reduce((n, q) => n + q.data.length, 0)),
    );
    const total = pieces[0]!.total;
    expect(pieces.reduce((n, q) => n + q.data.length, 0)).toBe(total);
    expect(m4.storage.disk.snapshot?.data.length).toBe(total);
    await leader.node.promote(4);
    expect(leader.node.status().voters).toEqual([1, 2, 3, 4]);
    await leader.node.transferLeader(4);
    await waitFor('node 4 leads', () => m4.node.status().role === 'leader');
    const victim = ms.find((m) => m !== leader)!;
    await m4.node.remove(victim.node.id);
    expect(m4.node.status().voters).not.toContain(victim.node.id);
    expect(s(await m4.node.get('k59'))).toBe('x'.repeat(100));
  });
});

describe('RaftNode on an in-memory network', () => {
  const addr = (id: number) => ({
    peer: `127.0.0.1:${10_000 + id}`,
    client: `127.0.0.1:${9000 + id}`,
  });
  const founders = [1, 2, 3].map((id) => ({ id, address: addr(id) }));

  function memMember(
    net: MemNetwork,
    id: number,
    disk: MemoryDisk = new MemoryDisk(),
    onRemoved?: () => void,
    requestTimeoutMs = 5000,
  ): Member & { mem: MemTransport; disk: MemoryDisk } {
    const mem = net.transport(id);
    const storage = new MemoryStorage(disk);
    const faults = new FaultFilter();
    const node = new RaftNode({
      id,
      clusterId: 'inproc',
      dataDir: '(memory)',
      storage,
      transport: mem,
      faults,
      log: new JsonLog(undefined, { node: id }),
      peerAddress: addr(id).peer,
      clientAddress: addr(id).client,
      adminAddress: '',
      initialPeers: founders,
      join: false,
      tickMs: 5,
      heartbeatMs: 20,
      electionMs: 200,
      snapshotEntries: 0,
      snapshotKeep: 5,
      snapshotChunkBytes: 1024,
      requestTimeoutMs,
      onFatal: (e) => {
        throw e;
      },
      ...(onRemoved ? { onRemoved } : {}),
    });
    const m = {
      node,
      storage,
      faults,
      transport: mem as unknown as TcpTransport,
      peer: addr(id).peer,
      mem,
      disk,
    };
    started.push(m);
    return m;
  }

  const turns = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };

  it('read tags never repeat across a restart: a late answer to a read of the previous process serves no read', async () => {
    const net = new MemNetwork();
    const disk = new MemoryDisk();
    const leaderSays = (m: Member & { mem: MemTransport }, msg: Message): void =>
      m.mem.receive(msg);
    const heartbeat: Message = {
      type: 'heartbeat',
      from: 1,
      to: 2,
      term: 2,
      commit: 1,
      readSeq: 0,
    };
    const readOf = (from: number): ReadIndexMsg =>
      net.sent.filter((m): m is ReadIndexMsg => m.type === 'read-index' && m.from === from).at(-1)!;

    const first = memMember(net, 2, disk);
    await first.node.start();
    leaderSays(first, heartbeat);
    await waitFor('node 2 follows node 1', () => first.node.status().leader === 1);
    void first.node.get('k').catch(() => undefined);
    const old = await waitFor('the first read to reach the leader', () => readOf(2));
    await first.node.shutdown('restart');
    started.splice(started.indexOf(first), 1);
    net.sent.length = 0;

    const second = memMember(net, 2, disk);
    await second.node.start();
    leaderSays(second, heartbeat);
    await waitFor('node 2 follows node 1 again', () => second.node.status().leader === 1);
    let served = false;
    const read = second.node.get('k').then((v) => {
      served = true;
      return v;
    });
    const fresh = await waitFor('the second read to reach the leader', () => readOf(2));
    // The leader's answer to the read of the previous process arrives only now.
    leaderSays(second, {
      type: 'read-index-resp',
      from: 1,
      to: 2,
      term: 2,
      ctx: old.ctx,
      index: 1,
      reject: false,
    });
    await turns(20);
    expect(served).toBe(false);
    expect(fresh.ctx).not.toBe(old.ctx);
    leaderSays(second, {
      type: 'read-index-resp',
      from: 1,
      to: 2,
      term: 2,
      ctx: fresh.ctx,
      index: 1,
      reject: false,
    });
    expect(await read).toBeNull();
  });

  it('a removed node learns of its removal when the append with the commit is lost, and the leader lets it go', async () => {
    const net = new MemNetwork();
    const exited = new Map<number, () => void>();
    const exits = [1, 2, 3].map((id) => new Promise<void>((r) => exited.set(id, r)));
    const ms = [1, 2, 3].map((id) => memMember(net, id, new MemoryDisk(), () => exited.get(id)!()));
    await Promise.all(ms.map((m) => m.node.start()));
    const leader = await waitFor('a leader', () =>
      ms.find((m) => m.node.status().role === 'leader'),
    );
    const victim = ms.find((m) => m !== leader)!;
    const v = victim.node.id;
    const removal = leader.node.status().lastIndex + 1;
    let lost = 0;
    net.drop = (m) => {
      const carries = (m.type === 'app' || m.type === 'heartbeat') && m.commit >= removal;
      if (m.from !== leader.node.id || m.to !== v || !carries || lost > 0) return false;
      lost++;
      return true;
    };
    const r = await leader.node.remove(v);
    expect(r.index).toBe(removal);
    await Promise.race([
      exits[v - 1],
      new Promise((_, reject) => setTimeout(() => reject(new Error('node never exited')), 3000)),
    ]);
    expect(lost).toBe(1);
    // The leader stops dialing it: its transport drops the node once nothing is left to tell it.
    const peers = (): number[] => [...leader.mem.peers.keys()];
    await waitFor(
      'the leader to drop the removed node from its peers',
      () => !peers().includes(v),
      3000,
    );
    const sets = leader.mem.peerSets.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(leader.mem.peerSets.slice(sets - 1).every((s) => !s.includes(v))).toBe(true);
    expect(peers().sort()).toEqual(
      ms.filter((m) => m !== victim && m !== leader).map((m) => m.node.id),
    );
  });

  it('a cut-off leader keeps its callers waiting through its step-down, until their own timeouts name what they waited for', async () => {
    const net = new MemNetwork();
    const ms = [1, 2, 3].map((id) => memMember(net, id, new MemoryDisk(), undefined, 700));
    await Promise.all(ms.map((m) => m.node.start()));
    const leader = await waitFor('a leader', () => leaderOf(ms));
    await waitFor('the leader to commit in its term', () => {
      const st = leader.node.status();
      return st.commit === st.lastIndex && st.applied === st.commit ? true : undefined;
    });
    const a = leader.node.id;
    const target = ms.find((m) => m !== leader)!.node.id;
    net.drop = (m) => m.from === a || m.to === a;
    const at = leader.node.status().lastIndex + 1;
    const write = outcomeOf(
      leader.node.propose({ clientId: 'c', seq: 1, cmd: { op: 'put', key: 'k', value: b('v') } }),
    );
    const change = outcomeOf(leader.node.addLearner(9, addr(9)));
    const transfer = outcomeOf(leader.node.transferLeader(target));
    expect(await transfer).toBe(`Error: leadership did not move to ${target} within 400 ms`);
    expect(await write).toBe(
      `OutcomeUnknownError: the write at index ${at} was not seen applied within 700 ms`,
    );
    expect(await change).toBe(
      `OutcomeUnknownError: adding learner 9 (entry ${at + 1}) was not committed within 700 ms`,
    );
    // Check quorum took leadership away long before: stepping down answers none of them.
    expect(leader.node.status().role).not.toBe('leader');
  });

  it('shutting down answers the writes and reads in flight', async () => {
    const net = new MemNetwork();
    const ms = [1, 2, 3].map((id) => memMember(net, id));
    await Promise.all(ms.map((m) => m.node.start()));
    const leader = await waitFor('a leader', () => leaderOf(ms));
    const a = leader.node.id;
    net.drop = (m) => m.from === a || m.to === a;
    const write = outcomeOf(
      leader.node.propose({ clientId: 'c', seq: 1, cmd: { op: 'put', key: 'k', value: b('v') } }),
    );
    const read = outcomeOf(leader.node.get('k'));
    await leader.node.shutdown('test');
    expect(await write).toBe('OutcomeUnknownError: node shut down with the request in flight');
    expect(await read).toBe('Error: node shut down');
  });

  it('a change whose entry a snapshot from the new leader replaced is reported unknown, not done', async () => {
    const net = new MemNetwork();
    const ms = [1, 2, 3].map((id) => memMember(net, id));
    await Promise.all(ms.map((m) => m.node.start()));
    const old = await waitFor('a leader', () => leaderOf(ms));
    const a = old.node.id;
    net.drop = (m) => m.from === a || m.to === a;
    // Accepted while node `a` still leads; it can never commit there.
    const change = old.node.addLearner(9, addr(9)).then(
      (r) => r,
      (e: Error) => e,
    );
    const others = ms.filter((m) => m !== old);
    const fresh = await waitFor('a new leader', () =>
      others.find((m) => m.node.status().role === 'leader'),
    );
    for (let i = 0; i < 20; i++) {
      await fresh.node.propose({
        clientId: 'c',
        seq: i + 1,
        cmd: { op: 'put', key: `k${i}`, value: b('v') },
      });
    }
    await fresh.node.snapshotNow();
    expect(fresh.node.status().firstIndex).toBeGreaterThan(old.node.status().lastIndex);
    net.drop = undefined;
    const outcome = await change;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).name).toBe('OutcomeUnknownError');
    expect((outcome as Error).message).toMatch(/snapshot from the leader/);
    // Node 9 was never a member.
    expect(fresh.node.status().learners).not.toContain(9);
    await waitFor(
      'the old leader to catch up',
      () => old.node.status().applied >= fresh.node.status().commit,
    );
    expect(old.node.status().learners).not.toContain(9);
  });
});
