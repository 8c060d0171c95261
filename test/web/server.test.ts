// main/web: browser mode. The page and the socket need the session token, Host must be ours,
// the socket must come from our own origin, every call is validated, and pushes arrive.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DashboardApi, PushSource } from '../../main/contract/api';
import type { SocketServerMessage } from '../../main/contract/socket';
import type { ClusterEvent, ClusterView, MessageBatch } from '../../main/contract/view';
import { completeView } from '../../main/view/projection';
import { startWebServer, tokenMatches } from '../../main/web/server';
import type { WebServer } from '../../main/web/server';

const TOKEN = 'test-token-0123456789abcdef';

function makeView(version: number): ClusterView {
  return completeView({
    clusterId: 'c',
    dataDir: '/d',
    version,
    now: version,
    state: 'running',
    nodes: [],
    leader: 1,
    term: 1,
    commit: 0,
    partitions: null,
    workflows: [],
    workload: null,
    checker: { state: 'idle', result: null, operations: 0, keys: 0, ms: null, failure: null },
    scenario: null,
  });
}

const calls: { name: string; args: unknown[] }[] = [];
const api = new Proxy({} as DashboardApi, {
  get(_t, name: string) {
    return async (...args: unknown[]) => {
      calls.push({ name, args });
      if (name === 'getView') return makeView(1);
      if (name === 'kvGet')
        return { ok: true, value: 'v', prev: null, error: null, servedBy: 1, ms: 1 };
      if (name === 'stopNode') throw new Error('node 9 is not running');
      return undefined;
    };
  },
});
const viewSubs = new Set<(v: ClusterView) => void>();
const eventSubs = new Set<(e: ClusterEvent) => void>();
const messageSubs = new Set<(b: MessageBatch) => void>();
const pushes: PushSource = {
  onView: (cb) => (viewSubs.add(cb), () => viewSubs.delete(cb)),
  onEvent: (cb) => (eventSubs.add(cb), () => eventSubs.delete(cb)),
  onMessages: (cb) => (messageSubs.add(cb), () => messageSubs.delete(cb)),
};

let server: WebServer;
let origin: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>raftdeck</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  server = await startWebServer({
    api,
    pushes,
    port: 0,
    token: TOKEN,
    staticDir: dir,
    viewIntervalMs: 50,
  });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
});

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** connect opens a socket and collects its messages; rejects with the HTTP status if refused. */
function connect(
  query: string,
  headers: Record<string, string> = { Origin: origin },
): Promise<{ ws: WebSocket; messages: SocketServerMessage[] }> {
  return new Promise((resolve, reject) => {
    const { Origin, ...rest } = headers;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, {
      headers: rest,
      ...(Origin ? { origin: Origin } : {}),
    });
    const messages: SocketServerMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as SocketServerMessage));
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

async function waitFor<T>(fn: () => T | undefined, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let nextId = 1;
async function callOver(
  c: { ws: WebSocket; messages: SocketServerMessage[] },
  name: string,
  args: unknown[],
) {
  const id = nextId++;
  c.ws.send(JSON.stringify({ type: 'call', id, name, args }));
  return waitFor(() => c.messages.find((m) => m.type === 'reply' && m.id === id));
}

describe('the page', () => {
  it('requires the session token', async () => {
    expect((await http('/')).status).toBe(401);
    expect((await http('/?token=wrong')).status).toBe(401);
    const ok = await http(`/?token=${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<title>raftdeck</title>');
    expect(ok.headers['content-security-policy']).toContain("script-src 'self'");
    expect(ok.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves built assets, never files outside the renderer', async () => {
    expect((await http('/assets/app.js')).status).toBe(200);
    expect((await http('/assets/app.js')).headers['content-type']).toContain('javascript');
    expect((await http('/../package.json')).status).toBe(404);
    expect((await http('/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await http('/index.html')).status).toBe(401);
  });

  it('rejects a wrong Host header', async () => {
    const r = await http(`/?token=${TOKEN}`, { headers: { Host: `evil.example:${server.port}` } });
    expect(r.status).toBe(421);
    const l = await http(`/?token=${TOKEN}`, { headers: { Host: `localhost:${server.port}` } });
    expect(l.status).toBe(200);
  });

  it('compares tokens in full', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });
});

describe('the WebSocket', () => {
  it('requires the token', async () => {
    await expect(connect('')).rejects.toThrow('status 401');
    await expect(connect('?token=nope')).rejects.toThrow('status 401');
  });

  it('requires our own Origin', async () => {
    await expect(connect(`?token=${TOKEN}`, { Origin: 'http://evil.example' })).rejects.toThrow(
      'status 403',
    );
    await expect(
      connect(`?token=${TOKEN}`, { Origin: `http://localhost:${server.port}` }),
    ).rejects.toThrow('status 403');
    await expect(connect(`?token=${TOKEN}`, {})).rejects.toThrow('status 403');
  });

  it('requires our Host', async () => {
    await expect(
      connect(`?token=${TOKEN}`, { Origin: 'http://evil.example', Host: 'evil.example' }),
    ).rejects.toThrow('status 421');
  });

  it('round-trips a call, refuses invalid arguments and reports failures', async () => {
    const c = await connect(`?token=${TOKEN}`);
    const ok = await callOver(c, 'kvGet', ['k']);
    expect(ok).toMatchObject({ type: 'reply', ok: true, value: { value: 'v', servedBy: 1 } });
    expect(calls).toContainEqual({ name: 'kvGet', args: ['k'] });

    const before = calls.length;
    const bad = await callOver(c, 'killNode', [-1]);
    expect(bad).toMatchObject({ ok: false, status: 400 });
    expect((bad as { error: string }).error).toMatch(/killNode: argument 1 'id'/);
    expect(calls.length).toBe(before);

    expect(await callOver(c, 'rm -rf', [])).toMatchObject({ ok: false, status: 404 });
    expect(await callOver(c, 'stopNode', [9])).toMatchObject({
      ok: false,
      status: 500,
      error: 'stopNode: node 9 is not running',
    });
    c.ws.close();
  });

  it('sends the view on connect, then pushes views (throttled) and events', async () => {
    const c = await connect(`?token=${TOKEN}`);
    await waitFor(() => c.messages.find((m) => m.type === 'push' && m.push === 'view'));
    c.messages.length = 0;
    for (let v = 10; v < 30; v++) for (const cb of viewSubs) cb(makeView(v));
    for (const cb of eventSubs) cb({ seq: 5, time: 1, node: 2, kind: 'fault', message: 'kill' });
    const ev = await waitFor(() => c.messages.find((m) => m.type === 'push' && m.push === 'event'));
    expect(ev).toMatchObject({ payload: { seq: 5, message: 'kill' } });
    await waitFor(() =>
      c.messages.find((m) => m.type === 'push' && m.push === 'view' && m.payload.version === 29),
    );
    const views = c.messages.filter((m) => m.type === 'push' && m.push === 'view');
    // 20 views in one burst reach the page as at most two: the first, and the latest.
    expect(views.length).toBeLessThanOrEqual(2);
    c.ws.close();
  });

  it('pushes message batches, and skips them for a socket that is behind instead of closing it', async () => {
    const c = await connect(`?token=${TOKEN}`);
    await waitFor(() => c.messages.find((m) => m.type === 'push' && m.push === 'view'));
    const trace = {
      from: 1,
      to: 2,
      type: 'heartbeat' as const,
      term: 2,
      commit: 9,
      seq: 1,
      time: 1,
      dir: 'out' as const,
      fate: 'sent' as const,
      delayMs: 0,
      bytes: 40,
    };
    for (const cb of messageSubs) cb({ traces: [trace], skipped: { '1-3': 2 } });
    const first = await waitFor(() =>
      c.messages.find((m) => m.type === 'push' && m.push === 'messages'),
    );
    expect(first).toMatchObject({ payload: { traces: [trace], skipped: { '1-3': 2 } } });
    // The page stops reading: batches pile up in its socket until they are skipped.
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const big = {
      traces: Array.from({ length: 500 }, (_, i) => ({ ...trace, seq: i })),
      skipped: {},
    };
    const before = server.stats().messagesDropped;
    for (let i = 0; i < 150 && server.stats().messagesDropped === before; i++) {
      for (const cb of messageSubs) cb(big);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(server.stats().messagesDropped).toBeGreaterThan(before);
    socket.resume();
    // Still open: an event pushed now arrives.
    for (const cb of eventSubs)
      cb({ seq: 77, time: 1, node: null, kind: 'fault', message: 'after' });
    await waitFor(
      () => c.messages.find((m) => m.type === 'push' && m.push === 'event' && m.payload.seq === 77),
      10_000,
    );
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    c.ws.close();
  });

  it('closes a socket that sends something other than a call', async () => {
    const c = await connect(`?token=${TOKEN}`);
    const closed = new Promise<number>((r) => c.ws.on('close', (code) => r(code)));
    c.ws.send('{"type":"hello"}');
    expect(await closed).toBe(1008);
  });
});

describe('the HTTP API', () => {
  const post = (name: string, body: string, headers: Record<string, string> = {}) =>
    http(`/api/call/${name}`, {
      method: 'POST',
      body,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
    });

  it('round-trips a call with the bearer token', async () => {
    const r = await post('restartNode', '[2]');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, value: null });
    expect(calls).toContainEqual({ name: 'restartNode', args: [2] });
  });

  it('refuses invalid arguments with 400, no token with 401, another origin with 403', async () => {
    const bad = await post('setSlowDisk', '[1, -5]');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/setSlowDisk: argument 2 'fsyncDelayMs'/);
    expect((await post('healNetwork', 'not json')).status).toBe(400);
    expect((await post('healNetwork', '[]', { Authorization: '' })).status).toBe(401);
    expect((await post('healNetwork', '[]', { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await http('/api/call/healNetwork')).status).toBe(405);
  });
});
