/**
 * The web server's bounds, over real sockets: the dashboard API (HTTP and WebSocket) answers
 * while many silent sockets are open (the oldest of them makes room), a silent socket is closed
 * after the auth timeout, WebSockets and authenticated connections have caps of their own, and
 * stats() shows all of it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DashboardApi, PushSource } from '../../main/contract/api';
import { startWebServer, type WebLimits, type WebServer } from '../../main/web/server';

const TOKEN = 'test-token-0123456789abcdef';

const api = new Proxy({} as DashboardApi, {
  get: () => async () => ({ ok: true }),
});
const pushes: PushSource = {
  onView: () => () => undefined,
  onEvent: () => () => undefined,
  onMessages: () => () => undefined,
};

const closers: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(limits: Partial<WebLimits>): Promise<WebServer> {
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-web-limits-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  const server = await startWebServer({
    api,
    pushes,
    port: 0,
    token: TOKEN,
    staticDir: dir,
    limits,
  });
  closers.push(
    () => server.close(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return server;
}

function silent(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    closers.push(() => s.destroy());
  });
}

/** call posts one dashboard API call with the token and resolves with the HTTP status. */
function call(port: number, name = 'getView'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/api/call/${name}`,
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, Connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('[]');
  });
}

/**
 * keptAlive sends one API call on a raw keep-alive connection and leaves the connection open;
 * resolves with the status and the socket.
 */
async function keptAlive(port: number): Promise<{ status: number; socket: Socket }> {
  const s = await silent(port);
  s.write(
    `POST /api/call/getView HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Authorization: Bearer ${TOKEN}\r\nContent-Length: 2\r\n\r\n[]`,
  );
  const head = await new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) resolve(text);
    });
  });
  return { status: Number(head.split(' ')[1]), socket: s };
}

/** socket opens the dashboard WebSocket; rejects with the HTTP status if refused. */
function socket(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${TOKEN}`, {
      origin: `http://127.0.0.1:${port}`,
    });
    closers.push(() => ws.terminate());
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('web server bounds', () => {
  it('answers the dashboard API over HTTP and WebSocket while silent sockets flood it', async () => {
    const server = await serve({ maxPending: 16 });
    const socks: Socket[] = [];
    for (let i = 0; i < 200; i++) socks.push(await silent(server.port));
    expect(await call(server.port)).toBe(200);
    await socket(server.port);
    const s = server.stats();
    expect(s.pending).toBeLessThanOrEqual(16);
    expect(s.evictedPending).toBeGreaterThanOrEqual(184);
    expect(s.sockets).toBe(1);
    expect(socks.filter((x) => !x.destroyed).length).toBeLessThanOrEqual(16);
  });

  it('closes a socket that presents no token within the auth timeout', async () => {
    const server = await serve({ authTimeoutMs: 150 });
    const s = await silent(server.port);
    const at = Date.now();
    await new Promise((resolve) => s.once('close', resolve));
    expect(Date.now() - at).toBeGreaterThanOrEqual(140);
    expect(server.stats().timedOut).toBe(1);
  });

  it('caps WebSockets and authenticated connections, closing an idle one to make room', async () => {
    const server = await serve({ maxSockets: 2, maxSessions: 3 });
    await socket(server.port);
    await socket(server.port);
    await expect(socket(server.port)).rejects.toThrow('status 503');
    expect(server.stats().refusedSockets).toBe(1);
    // Two sessions are WebSockets; kept-alive API connections share the third.
    const first = await keptAlive(server.port);
    expect(first.status).toBe(200);
    const second = await keptAlive(server.port);
    expect(second.status).toBe(200);
    await new Promise((resolve) =>
      first.socket.destroyed ? resolve(0) : first.socket.once('close', resolve),
    );
    expect(second.socket.destroyed).toBe(false);
    expect(server.stats()).toMatchObject({ sessions: 3, sockets: 2, evictedSessions: 1 });
  });

  it('refuses an API call with 503 when every authenticated connection is busy or a WebSocket', async () => {
    const server = await serve({ maxSockets: 2, maxSessions: 2 });
    await socket(server.port);
    await socket(server.port);
    expect(await call(server.port)).toBe(503);
    expect(server.stats().refusedSessions).toBe(1);
  });
});
