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
 * Views are pushed throttled (push-throttle.ts), events as they happen, message batches as
 * they come (at most 20 a second from the source) but never to a socket that holds more than
 * MAX_MESSAGES_BUFFERED unsent bytes: a slow page misses batches instead of growing memory.
 *
 * Bounds (WebLimits), so that local processes without the token cannot keep the dashboard out:
 * a connection counts as pending until one of its requests carries the token. Pending
 * connections are at most maxPending; when one more arrives, the oldest pending one that is not
 * in the middle of a request is closed (a browser sends its request as soon as it connects, so
 * silent sockets cannot crowd it out), and one that is neither in a request nor authenticated
 * for authTimeoutMs is closed. Connections that presented the token have their own cap,
 * maxSessions: when it is full, the oldest of them that is idle (not a WebSocket, no request
 * in progress) makes room, else the request is refused with 503. WebSockets are at most
 * maxSockets; each is pinged every 30 s and closed if it did not answer the previous ping.
 * Node's own timeouts bound slow requests (headersTimeoutMs, requestTimeoutMs) and idle
 * keep-alive connections (keepAliveTimeoutMs).
 * main/web never imports electron.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { CallReply, DashboardApi, PushSource } from '../contract/api';
import type { SocketServerMessage } from '../contract/socket';
import { SOCKET_PATH } from '../contract/socket';
import type { ClusterEvent, ClusterView, MessageBatch } from '../contract/view';
import { dispatchCall } from '../contract/dispatch';
import { createViewThrottle } from '../contract/push-throttle';
import type { ViewThrottle } from '../contract/push-throttle';

/** WebLimits bound the web server (see the file comment). */
export interface WebLimits {
  maxPending: number;
  maxSessions: number;
  maxSockets: number;
  authTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** DEFAULT_WEB_LIMITS: the web server's bounds unless told otherwise. */
export const DEFAULT_WEB_LIMITS: WebLimits = {
  maxPending: 256,
  maxSessions: 64,
  maxSockets: 16,
  authTimeoutMs: 5000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
};

/** PING_INTERVAL_MS: how often every WebSocket is pinged. */
const PING_INTERVAL_MS = 30_000;

/** WebServerStats: the web server's bounds, and counts since it started. */
export interface WebServerStats {
  limits: WebLimits;
  /** pending: connections without the token yet; sessions: with it (sockets: WebSockets among them). */
  pending: number;
  sessions: number;
  sockets: number;
  accepted: number;
  /** evictedPending: pending ones closed to make room; timedOut: pending past authTimeoutMs. */
  evictedPending: number;
  timedOut: number;
  /** evictedSessions: idle authenticated ones closed to make room for another. */
  evictedSessions: number;
  /** refusedSessions, refusedSockets: turned away with 503 because their cap was reached. */
  refusedSessions: number;
  refusedSockets: number;
  /** unanswered: WebSockets closed for not answering a ping. */
  unanswered: number;
  /** messagesDropped: message batches not sent to a socket that was behind (see MAX_MESSAGES_BUFFERED). */
  messagesDropped: number;
}

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
  /** limits that differ from DEFAULT_WEB_LIMITS. */
  limits?: Partial<WebLimits>;
}

export interface WebServer {
  /** url: the page to open, with the token. */
  url: string;
  port: number;
  stats(): WebServerStats;
  close(): Promise<void>;
}

/** Conn is one TCP connection to the web server. */
interface Conn {
  socket: Socket;
  authed: boolean;
  /** ws: upgraded to a WebSocket; busy: requests in progress; lastActive: ms since the epoch. */
  ws: boolean;
  busy: number;
  lastActive: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const MAX_BODY = 1024 * 1024;
const MAX_BUFFERED = 16 * 1024 * 1024;
/** MAX_MESSAGES_BUFFERED: past this many unsent bytes, a socket's message batches are dropped. */
export const MAX_MESSAGES_BUFFERED = 256 * 1024;

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
  const limits: WebLimits = { ...DEFAULT_WEB_LIMITS };
  for (const [k, v] of Object.entries(options.limits ?? {})) {
    if (v !== undefined) limits[k as keyof WebLimits] = v;
  }
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`web ${k} must be at least 1`);
  }

  // ---- connections: pending until a request carries the token, then sessions.
  const conns = new Map<Socket, Conn>();
  /** pending and sessions hold connections oldest first. */
  const pending = new Set<Conn>();
  const sessions = new Set<Conn>();
  let sockets = 0;
  const counts = {
    accepted: 0,
    evictedPending: 0,
    timedOut: 0,
    evictedSessions: 0,
    refusedSessions: 0,
    refusedSockets: 0,
    unanswered: 0,
    messagesDropped: 0,
  };
  const forget = (c: Conn): void => {
    pending.delete(c);
    sessions.delete(c);
    conns.delete(c.socket);
    clearTimeout(c.timer);
    c.timer = undefined;
  };
  /** oldestIdle: the oldest connection of `set` in no request and not a WebSocket. */
  const oldestIdle = (set: Set<Conn>): Conn | undefined => {
    for (const c of set) if (c.busy === 0 && !c.ws) return c;
    return undefined;
  };
  /** armAuthTimer closes a pending connection that stays idle without the token for authTimeoutMs. */
  const armAuthTimer = (c: Conn, ms: number): void => {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      // Read whatever arrived while the event loop was busy before deciding.
      setImmediate(() => {
        c.timer = undefined;
        if (c.authed || c.socket.destroyed) return;
        const idle = Date.now() - c.lastActive;
        if (c.busy > 0 || idle < limits.authTimeoutMs) {
          armAuthTimer(c, Math.max(10, limits.authTimeoutMs - idle));
          return;
        }
        counts.timedOut += 1;
        forget(c);
        c.socket.destroy();
      });
    }, ms);
    c.timer.unref();
  };
  const onConnection = (socket: Socket): void => {
    counts.accepted += 1;
    socket.on('error', () => undefined);
    if (pending.size >= limits.maxPending) {
      const victim = oldestIdle(pending);
      if (victim === undefined) {
        socket.destroy();
        counts.evictedPending += 1;
        return;
      }
      counts.evictedPending += 1;
      forget(victim);
      victim.socket.destroy();
    }
    const c: Conn = {
      socket,
      authed: false,
      ws: false,
      busy: 0,
      lastActive: Date.now(),
      timer: undefined,
    };
    conns.set(socket, c);
    pending.add(c);
    socket.once('close', () => {
      if (c.ws) sockets -= 1;
      forget(c);
    });
    armAuthTimer(c, limits.authTimeoutMs);
  };
  /**
   * authenticate makes the connection of a request that carried the token a session; false if
   * maxSessions are open and none of them is idle (the request is then refused with 503).
   */
  const authenticate = (socket: Socket): boolean => {
    const c = conns.get(socket);
    if (c === undefined) return true;
    if (c.authed) return true;
    if (sessions.size >= limits.maxSessions) {
      const victim = oldestIdle(sessions);
      if (victim === undefined) {
        counts.refusedSessions += 1;
        return false;
      }
      counts.evictedSessions += 1;
      forget(victim);
      victim.socket.destroy();
    }
    pending.delete(c);
    clearTimeout(c.timer);
    c.timer = undefined;
    c.authed = true;
    sessions.add(c);
    return true;
  };
  const tooManySessions = `too many dashboard connections (limit ${limits.maxSessions})`;

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
    if (!authenticate(req.socket)) {
      res.shouldKeepAlive = false;
      return sendJson(res, 503, { error: tooManySessions });
    }
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

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const conn = conns.get(req.socket);
      if (conn !== undefined) {
        conn.busy += 1;
        conn.lastActive = Date.now();
        res.once('close', () => {
          conn.busy -= 1;
          conn.lastActive = Date.now();
        });
      }
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
          if (!authenticate(req.socket)) {
            res.shouldKeepAlive = false;
            return sendText(res, 503, tooManySessions);
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
    },
  );
  // One over the limits is accepted, so that it can take the oldest pending one's place.
  server.maxConnections = limits.maxPending + limits.maxSessions + 1;
  server.on('connection', onConnection);

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
    if (sockets >= limits.maxSockets) {
      counts.refusedSockets += 1;
      return rejectUpgrade(socket, 503, `Too many dashboard sockets (limit ${limits.maxSockets})`);
    }
    if (!authenticate(socket as Socket)) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const c = conns.get(socket as Socket);
    if (c !== undefined) {
      c.ws = true;
      sockets += 1;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // A WebSocket that did not answer the previous ping (a peer gone without closing) is closed.
  const answered = new WeakSet<WebSocket>();
  const pinger = setInterval(() => {
    for (const ws of clients.keys()) {
      if (!answered.has(ws)) {
        counts.unanswered += 1;
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  wss.on('connection', (ws: WebSocket) => {
    answered.add(ws);
    ws.on('pong', () => answered.add(ws));
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
  const offMessages = pushes.onMessages((batch: MessageBatch) => {
    for (const ws of clients.keys()) {
      if (ws.bufferedAmount > MAX_MESSAGES_BUFFERED) {
        counts.messagesDropped++;
        continue;
      }
      sendTo(ws, { type: 'push', push: 'messages', payload: batch });
    }
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
    stats: () => ({
      limits: { ...limits },
      pending: pending.size,
      sessions: sessions.size,
      sockets,
      ...counts,
    }),
    async close() {
      clearInterval(pinger);
      for (const c of conns.values()) clearTimeout(c.timer);
      offView();
      offEvent();
      offMessages();
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
