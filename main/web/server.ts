/**
 * server: the dashboard in any browser. A plain node:http server on the loopback interface serves
 * the built renderer and carries the dashboard API over one WebSocket per page (see
 * contract/socket.ts), plus `POST /api/call/<name>` for scripts.
 *
 * Checks, in this order, on every request:
 *   1. Host must be 127.0.0.1:<port> or localhost:<port> (no DNS rebinding).
 *   2. The session token: `?token=` on the page and on the WebSocket upgrade, `Authorization:
 *      Bearer <token>` on the HTTP API; compared in constant time. Static assets (the built
 *      scripts and styles, the same bytes the desktop app ships) are served without it.
 *   3. Origin, when the browser sends one (always on a WebSocket upgrade): same origin only.
 *   4. Every call's arguments: the shared validator (contract/validate.ts), 400 with its message.
 * Views are pushed throttled (push-throttle.ts), events as they happen.
 * main/web never imports electron.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { CallReply, DashboardApi, PushSource } from '../contract/api';
import type { SocketServerMessage } from '../contract/socket';
import { SOCKET_PATH } from '../contract/socket';
import type { ClusterEvent, ClusterView } from '../contract/view';
import { dispatchCall } from './dispatch';
import { createViewThrottle } from './push-throttle';
import type { ViewThrottle } from './push-throttle';

export interface WebServerOptions {
  api: DashboardApi;
  pushes: PushSource;
  /** host: the interface to bind; loopback unless told otherwise. */
  host?: string;
  /** port: 0 picks a free one. */
  port: number;
  token: string;
  /** staticDir: the built renderer (out/renderer). */
  staticDir: string;
  /** viewIntervalMs: the least time between two view pushes to one page (default 50 = 20 Hz). */
  viewIntervalMs?: number;
}

export interface WebServer {
  /** url: the page to open, with the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const MAX_BUFFERED = 16 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** contentSecurityPolicy is the header sent with the page; the page's own meta CSP also applies. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** createSessionToken returns a fresh random token (192 bits, URL-safe). */
export function createSessionToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** tokenMatches compares a presented token with the session token in constant time. */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string') return false;
  return timingSafeEqual(digest(presented), digest(token)) && presented.length === token.length;
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { api, pushes, token } = options;
  const host = options.host ?? '127.0.0.1';
  const staticDir = resolve(options.staticDir);
  if (token.length < 16) throw new Error('startWebServer: the session token is too short');

  let port = options.port;
  const allowedHosts = (): Set<string> =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `${host}:${port}`]);
  const hostOk = (req: IncomingMessage): boolean =>
    typeof req.headers.host === 'string' && allowedHosts().has(req.headers.host.toLowerCase());
  const originOk = (req: IncomingMessage, required: boolean): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin.toLowerCase() === `http://${(req.headers.host ?? '').toLowerCase()}`;
  };

  const baseHeaders = (): Record<string, string> => ({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  });

  const sendText = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${text}\n`);
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, {
      ...baseHeaders(),
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end(JSON.stringify(body));
  };

  const serveFile = async (res: ServerResponse, rel: string, isPage: boolean): Promise<void> => {
    const file = normalize(join(staticDir, rel));
    if (file !== staticDir && !file.startsWith(staticDir + sep)) {
      sendText(res, 404, 'not found');
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(file);
      const headers: Record<string, string> = {
        ...baseHeaders(),
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': isPage ? 'no-store' : 'no-cache',
      };
      if (isPage) headers['Content-Security-Policy'] = contentSecurityPolicy(port);
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      sendText(res, 404, isPage ? 'the renderer is not built: run `npm run build`' : 'not found');
    }
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolveBody, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          reject(new Error('body too large'));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const handleApi = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    if (req.method !== 'POST') return sendText(res, 405, 'use POST');
    if (!tokenMatches(bearer(req), token)) return sendJson(res, 401, { error: 'token required' });
    if (!originOk(req, false)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    let args: unknown;
    try {
      const body = await readBody(req);
      args = body.trim() === '' ? [] : JSON.parse(body);
    } catch (err) {
      const reply: CallReply = {
        ok: false,
        status: 400,
        error: `${name}: the body must be a JSON array of arguments (${(err as Error).message})`,
      };
      return sendJson(res, 400, reply);
    }
    const reply = await dispatchCall(api, name, args);
    sendJson(res, reply.ok ? 200 : reply.status, reply);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostOk(req)) return sendText(res, 421, 'unexpected Host header');
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      const path = url.pathname;
      if (path.startsWith('/api/call/'))
        return handleApi(req, res, path.slice('/api/call/'.length));
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'GET only');
      if (path === '/' || path === '/index.html') {
        if (!tokenMatches(url.searchParams.get('token'), token)) {
          return sendText(
            res,
            401,
            'raftdeck: open the URL printed at start; it carries the session token (/?token=...)',
          );
        }
        return serveFile(res, 'index.html', true);
      }
      let rel: string;
      try {
        rel = decodeURIComponent(path);
      } catch {
        return sendText(res, 400, 'bad path');
      }
      if (rel.includes('\0') || rel.endsWith('.html')) return sendText(res, 404, 'not found');
      return serveFile(res, rel, false);
    })().catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, `internal error: ${String(err)}`);
      else res.destroy();
    });
  });

  // WebSocket: one per page. Upgrades are checked before the handshake completes.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  const clients = new Map<WebSocket, ViewThrottle>();
  let latestView: ClusterView | null = null;

  const sendTo = (ws: WebSocket, message: SocketServerMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  };

  const rejectUpgrade = (socket: Duplex, status: number, text: string): void => {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (!hostOk(req)) return rejectUpgrade(socket, 421, 'Misdirected Request');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname !== SOCKET_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (!tokenMatches(url.searchParams.get('token'), token)) {
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    if (!originOk(req, true)) return rejectUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const throttle = createViewThrottle(
      (view) => sendTo(ws, { type: 'push', push: 'view', payload: view }),
      {
        minIntervalMs: options.viewIntervalMs ?? 50,
      },
    );
    clients.set(ws, throttle);
    if (latestView) throttle.push(latestView);
    else {
      api.getView().then(
        (view) => throttle.push(view),
        () => undefined,
      );
    }

    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'not JSON');
      }
      const m = msg as { type?: unknown; id?: unknown; name?: unknown; args?: unknown };
      if (m === null || typeof m !== 'object' || m.type !== 'call' || !Number.isSafeInteger(m.id)) {
        return ws.close(1008, 'expected a call');
      }
      const id = m.id as number;
      void dispatchCall(api, m.name, m.args).then((reply) => {
        sendTo(ws, { type: 'reply', id, ...reply });
      });
    });
    ws.on('close', () => {
      throttle.dispose();
      clients.delete(ws);
    });
    ws.on('error', () => ws.terminate());
  });

  const offView = pushes.onView((view: ClusterView) => {
    latestView = view;
    for (const throttle of clients.values()) throttle.push(view);
  });
  const offEvent = pushes.onEvent((event: ClusterEvent) => {
    for (const ws of clients.keys()) sendTo(ws, { type: 'push', push: 'event', payload: event });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}/?token=${encodeURIComponent(token)}`,
    port,
    async close() {
      offView();
      offEvent();
      for (const [ws, throttle] of clients) {
        throttle.dispose();
        ws.terminate();
      }
      clients.clear();
      await new Promise<void>((resolveClose) => wss.close(() => resolveClose()));
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
}
