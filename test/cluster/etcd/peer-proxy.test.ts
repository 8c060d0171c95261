/**
 * The peer proxies against stand-in members (plain TCP servers that answer like etcd's peer
 * handler: a stream GET gets a response that keeps sending, a POST /raft gets 204), so direction,
 * cuts, delay, limits and counters are checked without etcd. peer-network.test.ts runs real etcd.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerNetwork } from '../../../main/cluster/etcd/peer-proxy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  server: Server;
  address: string;
  /** posts: bodies of POST /raft received, in order. */
  posts: string[];
  heads: string[];
}

const servers: Server[] = [];
const sockets: Socket[] = [];
let net: PeerNetwork | undefined;

afterEach(async () => {
  await net?.close();
  net = undefined;
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** member starts a stand-in peer listener; a stream sends `tick` every `everyMs`. */
async function member(everyMs = 10): Promise<Member> {
  const m: Member = { server: createServer(), address: '', posts: [], heads: [] };
  m.server.on('connection', (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    let buf = '';
    let timer: ReturnType<typeof setInterval> | undefined;
    s.on('close', () => clearInterval(timer));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        m.heads.push(head.split('\r\n')[0]!);
        if (head.startsWith('GET /raft/stream/')) {
          s.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
          let n = 0;
          timer = setInterval(() => s.write(`tick${n++};`), everyMs);
        } else if (head.startsWith('POST /raft')) {
          m.posts.push(body);
          s.write('HTTP/1.1 204 No Content\r\n\r\n');
        } else {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
      }
    });
  });
  await new Promise<void>((r) => m.server.listen(0, '127.0.0.1', r));
  servers.push(m.server);
  m.address = `127.0.0.1:${(m.server.address() as { port: number }).port}`;
  return m;
}

interface Dialed {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
  isClosed: () => boolean;
  /** at: when each chunk arrived (ms since dialing). */
  at: number[];
}

function dial(address: string, request: string): Dialed {
  const [host, port] = address.split(':');
  const socket = connect({ host, port: Number(port) });
  sockets.push(socket);
  socket.on('error', () => undefined);
  const t0 = Date.now();
  let text = '';
  let isClosed = false;
  const at: number[] = [];
  socket.on('data', (d) => {
    text += d.toString('latin1');
    at.push(Date.now() - t0);
  });
  const closed = new Promise<void>((r) =>
    socket.on('close', () => {
      isClosed = true;
      r();
    }),
  );
  socket.write(request);
  return { socket, received: () => text, closed, isClosed: () => isClosed, at };
}

const streamFrom = (proxyOfSender: string) =>
  `GET /raft/stream/message/2 HTTP/1.1\r\nHost: x\r\nX-PeerURLs: http://${proxyOfSender}\r\nX-Server-From: 1\r\n\r\n`;
const postFrom = (proxyOfSender: string, body: string) =>
  `POST /raft HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nX-PeerURLs: http://${proxyOfSender}\r\nX-Server-From: 1\r\n\r\n${body}`;

async function twoMembers(options: ConstructorParameters<typeof PeerNetwork>[0] = {}) {
  const m1 = await member();
  const m2 = await member();
  net = new PeerNetwork(options);
  const p1 = await net.addMember(1, m1.address);
  const p2 = await net.addMember(2, m2.address);
  return { m1, m2, p1, p2, net };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('PeerNetwork (stand-in members)', () => {
  it('listens on 127.0.0.1 and forwards both ways, counting bytes in the message direction', async () => {
    const { m2, p1, p2, net } = await twoMembers();
    expect(p1).toMatch(/^127\.0\.0\.1:\d+$/);
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick3;'));
    const post = dial(p2, postFrom(p1, 'hello'));
    await until(() => post.received().includes('204'));
    expect(m2.posts).toEqual(['hello']);
    const stats = net.linkStats();
    // The stream carries 2 → 1 (the response), the post 1 → 2 (the body).
    const s21 = stats.find((x) => x.from === 2 && x.to === 1)!;
    const s12 = stats.find((x) => x.from === 1 && x.to === 2)!;
    expect(s21.bytes).toBeGreaterThan(20);
    expect(s21).toMatchObject({ connections: 1, open: 1 });
    expect(s12.bytes).toBeGreaterThan(postFrom(p1, 'hello').length - 1);
    expect(s12.connections).toBe(1);
    expect(net.memberIdsSeen().get('1')).toBe(1);
  });

  it('a cut in the stream direction closes the stream and refuses new ones, leaving the other direction up', async () => {
    const { m2, p1, p2, net } = await twoMembers();
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick1;'));
    // Member 2 sends nothing to 1: its stream to 1 breaks; member 1's posts to 2 still pass.
    net.setRules(2, [{ to: 1, drop: 1 }]);
    await s.closed;
    const again = dial(p2, streamFrom(p1));
    await again.closed;
    expect(again.received()).toBe('');
    const post = dial(p2, postFrom(p1, 'still'));
    await until(() => post.received().includes('204'));
    expect(m2.posts).toEqual(['still']);
    expect(net.linkStats().find((x) => x.from === 2 && x.to === 1)!.refused).toBe(2);
    // Healing lets a new stream through.
    net.setRules(2, []);
    const healed = dial(p2, streamFrom(p1));
    await until(() => healed.received().includes('tick1;'));
  });

  it('a cut in the post direction closes the post after its head is read; the body never arrives', async () => {
    const { m2, p1, p2, net } = await twoMembers();
    net.setRules(1, [{ to: 2, drop: 1 }]);
    const post = dial(p2, postFrom(p1, 'lost'));
    await post.closed;
    expect(m2.posts).toEqual([]);
    expect(m2.heads).toEqual([]);
    // The receiver's `from` rule cuts the same link.
    net.setRules(1, []);
    net.setRules(2, [{ from: 1, drop: 1 }]);
    const post2 = dial(p2, postFrom(p1, 'lost'));
    await post2.closed;
    expect(m2.posts).toEqual([]);
  });

  it('a kept-alive connection that starts with an anonymous probe is cut once a post shows its sender', async () => {
    const { m2, p1, p2, net } = await twoMembers();
    net.setPartition([[1], [2]]);
    // Member 2 is cut both ways from every other member: even an anonymous probe is closed.
    const probe = dial(p2, 'GET /raft/probing HTTP/1.1\r\nHost: x\r\n\r\n');
    await probe.closed;
    net.setPartition(null);
    net.setRules(1, [{ to: 2, drop: 1 }]);
    const c = dial(p2, 'GET /raft/probing HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => c.received().includes('ok'));
    c.socket.write(postFrom(p1, 'x'));
    await c.closed;
    expect(m2.posts).toEqual([]);
    expect(m2.heads).toEqual(['GET /raft/probing HTTP/1.1']);
  });

  it('a partition cuts both ways between groups', async () => {
    const { p1, p2, net } = await twoMembers();
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick0;'));
    net.setPartition([[1], [2]]);
    await s.closed;
    expect(net.fault(1, 2).drop).toBe(1);
    expect(net.fault(2, 1).drop).toBe(1);
    net.setPartition(null);
    expect(net.fault(2, 1).drop).toBe(0);
  });

  it('delays the message direction by delayMs, in order', async () => {
    const { p1, p2, net } = await twoMembers();
    net.setRules(2, [{ to: 1, delayMs: 300 }]);
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick5;'));
    // The member answers at once and ticks every 10 ms: nothing arrives before 300 ms.
    expect(s.at[0]).toBeGreaterThanOrEqual(290);
    const ticks = [...s.received().matchAll(/tick(\d+);/g)].map((m) => Number(m[1]));
    expect(ticks).toEqual(ticks.map((_, i) => i));
  });

  it('jitter varies the delay but never reorders the bytes of a connection', async () => {
    let k = 0;
    // Alternating draws: -90 ms then +90 ms around 100 ms, which would reorder separate messages.
    const { p1, p2, net } = await twoMembers({ rng: () => (k++ % 2 === 0 ? 1 : 0) });
    net.setRules(1, [{ from: 2, delayMs: 100, jitterMs: 90 }]);
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick8;'));
    const ticks = [...s.received().matchAll(/tick(\d+);/g)].map((m) => Number(m[1]));
    expect(ticks).toEqual(ticks.map((_, i) => i));
    expect(s.at[0]).toBeGreaterThanOrEqual(180);
  });

  it('drop below 1 resets the connection on a chunk with that probability', async () => {
    let draws = 0;
    // The first five chunks pass (draw 0.9 > 0.5), the sixth resets (draw 0.1).
    const rng = () => (++draws <= 5 ? 0.9 : 0.1);
    const { p1, p2, net } = await twoMembers({ rng });
    net.setRules(1, [{ from: 2, drop: 0.5 }]);
    const s = dial(p2, streamFrom(p1));
    await s.closed;
    expect(draws).toBe(6);
    expect(net.linkStats().find((x) => x.from === 2 && x.to === 1)!.resets).toBe(1);
  });

  it('refuses rules it cannot carry out and keeps the ones it had', async () => {
    const { net } = await twoMembers();
    net.setRules(1, [{ to: 2, delayMs: 5 }]);
    expect(() => net.setRules(1, [{ to: 2, types: ['append'] }])).toThrow(/message type/);
    expect(net.rulesOf(1)).toEqual([{ to: 2, delayMs: 5 }]);
  });

  it('closes malformed and oversized requests, and connections over the cap', async () => {
    const { m2, p1, p2 } = await twoMembers({ maxConnections: 2, headTimeoutMs: 300 });
    const bad = dial(p2, 'HELLO\r\n\r\n');
    await bad.closed;
    const big = dial(p2, `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}`);
    await big.closed;
    const silent = dial(p2, 'GET / HTTP/1.1\r\n');
    await silent.closed; // no complete head within headTimeoutMs
    expect(m2.heads).toEqual([]);
    const a = dial(p2, streamFrom(p1));
    const b = dial(p2, streamFrom(p1));
    await until(() => a.received().includes('tick0;') && b.received().includes('tick0;'));
    const c = dial(p2, streamFrom(p1));
    await c.closed;
    expect(c.received()).toBe('');
    expect(a.isClosed()).toBe(false);
  });

  it('removeMember closes its proxy and the connections from it', async () => {
    const { p1, p2, net } = await twoMembers();
    const s = dial(p2, streamFrom(p1));
    await until(() => s.received().includes('tick0;'));
    await net.removeMember(1);
    await s.closed;
    expect(net.members()).toEqual([2]);
    expect(net.proxyAddress(1)).toBeUndefined();
  });
});
