// The dashboard API conformance suite (conformance.ts) through browser mode: a lab cluster
// behind the web server, driven over a real WebSocket with the page's protocol
// (main/contract/socket.ts), so the wire — validation, dispatch, pushes, throttling — conforms
// too, not only the implementations behind it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CALLS, type DashboardApi, type PushSource } from '../../main/contract/api';
import { SOCKET_PATH, type SocketCall, type SocketServerMessage } from '../../main/contract/socket';
import type { ClusterEvent, ClusterView, MessageBatch } from '../../main/contract/view';
import { createLabDashboard } from '../../main/lab/lab-dashboard';
import { nodeLabHost } from '../../main/web/lab-host';
import { startWebServer } from '../../main/web/server';
import { describeConformance } from './conformance';

/** Page: the dashboard API and pushes as a page sees them over one socket. */
interface Page {
  api: DashboardApi & PushSource;
  close(): void;
}

async function openPage(url: string, origin: string): Promise<Page> {
  const ws = new WebSocket(url, { origin });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const viewSubs = new Set<(v: ClusterView) => void>();
  const eventSubs = new Set<(e: ClusterEvent) => void>();
  const messageSubs = new Set<(b: MessageBatch) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as SocketServerMessage;
    if (m.type === 'reply') {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.ok) w?.resolve(m.value);
      else w?.reject(new Error(m.error));
    } else if (m.push === 'view') {
      for (const cb of viewSubs) cb(m.payload);
    } else if (m.push === 'messages') {
      for (const cb of messageSubs) cb(m.payload);
    } else {
      for (const cb of eventSubs) cb(m.payload);
    }
  });
  const api = {} as Record<string, unknown>;
  for (const name of CALLS) {
    api[name] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const call: SocketCall = { type: 'call', id: nextId++, name, args };
        waiting.set(call.id, { resolve, reject });
        ws.send(JSON.stringify(call));
      });
  }
  return {
    api: {
      ...(api as unknown as DashboardApi),
      onView: (cb) => (viewSubs.add(cb), () => viewSubs.delete(cb)),
      onEvent: (cb) => (eventSubs.add(cb), () => eventSubs.delete(cb)),
      onMessages: (cb) => (messageSubs.add(cb), () => messageSubs.delete(cb)),
    },
    close: () => ws.close(),
  };
}

describeConformance(
  'browser mode (web server and socket)',
  async () => {
    const lab = createLabDashboard({ seed: 11, host: nodeLabHost(), epoch: Date.now() });
    const dir = mkdtempSync(join(tmpdir(), 'raftdeck-conformance-web-'));
    const token = 'conformance-token-0123456789';
    const server = await startWebServer({
      api: lab,
      pushes: lab,
      port: 0,
      token,
      staticDir: dir,
    });
    const page = await openPage(
      `ws://127.0.0.1:${server.port}${SOCKET_PATH}?token=${token}`,
      `http://127.0.0.1:${server.port}`,
    );
    return {
      api: page.api,
      dispose: async () => {
        page.close();
        await server.close();
        lab.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { timeoutMs: 15_000 },
);
