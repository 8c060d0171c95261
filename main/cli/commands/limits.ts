/**
 * limits: the bounds of every port of a running cluster and what they have refused or closed: each
 * node's peer, client and admin ports, its budget for incomplete frames and its log (from the admin
 * status), and the control port and, under `raftdeck serve`, the web server (from the control
 * port's `stats` command).
 */
import type { ServerStats } from '../../node/node-api';
import type { TransportStats } from '../../node/transport/transport';
import type { WebServerStats } from '../../web/server';
import { CliError, EXIT, type ParsedArgs, type Command } from '../args';
import { dataOption, jsonOption, timeoutOption } from '../options';
import { dataDir, readAdminToken, readManifest } from '../cluster-files';
import { controlCall } from '../control-client';
import type { ControlServerStats } from '../control-server';
import { table } from '../format';

/** LimitsReport is what `limits --json` prints. */
export interface LimitsReport {
  nodes: {
    id: number;
    admin: string;
    servers?: ServerStats;
    /** peer: the peer port's bounds and what they refused (the transport's figures). */
    peer?: Pick<
      TransportStats,
      'peerPort' | 'inboundRefused' | 'handshakesEvicted' | 'handshakeFailures' | 'authFailures'
    > &
      Pick<TransportStats, 'budgetEvicted' | 'replaced'>;
    error?: string;
  }[];
  control?: ControlServerStats;
  web?: WebServerStats;
  controlError?: string;
}

const MiB = 1024 * 1024;
const bytes = (n: number): string =>
  n >= MiB ? `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB` : `${n} B`;
const secs = (ms: number): string => (ms === 0 ? 'never' : `${ms / 1000} s`);

/** rows turns a report into table rows: what, bounds, now, refused or closed. */
export function limitRows(r: LimitsReport): string[][] {
  const rows: string[][] = [];
  for (const n of r.nodes) {
    const s = n.servers;
    if (!s) {
      rows.push([`node ${n.id}`, '-', '-', n.error ?? 'no figures']);
      continue;
    }
    const p = n.peer;
    if (p) {
      const l = p.peerPort.limits;
      rows.push([
        `node ${n.id} peer`,
        `${l.maxInboundConnections} connections, ${l.maxPendingHandshakes} pending, handshake ${secs(l.handshakeTimeoutMs)}`,
        `${p.peerPort.connections} open, ${p.peerPort.pendingHandshakes} pending, ${p.peerPort.authenticated} peers`,
        `${p.handshakesEvicted} evicted, ${p.inboundRefused} refused, ${p.handshakeFailures} failed handshakes (${p.authFailures} bad proofs), ${p.budgetEvicted} over budget`,
      ]);
    }
    const c = s.client;
    rows.push([
      `node ${n.id} client`,
      `${c.limits.maxConnections} connections, idle ${secs(c.limits.idleTimeoutMs)}`,
      `${c.connections} open, ${c.idle} idle`,
      `${c.evicted} evicted, ${c.idleClosed} idle-closed, ${c.refused} refused, ${c.overBudget} over budget`,
    ]);
    const a = s.admin;
    rows.push([
      `node ${n.id} admin`,
      `${a.limits.maxPending} pending, ${a.limits.maxSessions} sessions, token ${secs(a.limits.authTimeoutMs)}, idle ${secs(a.limits.idleTimeoutMs)}`,
      `${a.pending} pending, ${a.sessions} sessions`,
      `${a.evictedPending} evicted, ${a.unauthorized} unauthorized, ${a.refusedSessions} refused, ${a.idleClosed} idle-closed`,
    ]);
    const f = s.frameBudget;
    rows.push([
      `node ${n.id} frames`,
      `${bytes(f.limitBytes)} of incomplete frames`,
      `${bytes(f.heldBytes)} held (peak ${bytes(f.peakBytes)})`,
      `${f.evictions} closed over budget`,
    ]);
    rows.push([
      `node ${n.id} log`,
      'repeats and size bounded',
      '',
      `${s.log.suppressed} lines counted, ${s.log.rotations} rotations`,
    ]);
  }
  const c = r.control;
  if (c) {
    rows.push([
      'control',
      `${c.limits.maxPending} pending, ${c.limits.maxActive} active, line ${secs(c.limits.authTimeoutMs)}`,
      `${c.pending} pending, ${c.active} active`,
      `${c.evictedPending} evicted, ${c.timedOut} timed out, ${c.unauthorized} unauthorized, ${c.busy} busy`,
    ]);
  } else if (r.controlError) {
    rows.push(['control', '-', '-', r.controlError]);
  }
  const w = r.web;
  if (w) {
    rows.push([
      'web',
      `${w.limits.maxPending} pending, ${w.limits.maxSessions} sessions, ${w.limits.maxSockets} sockets, token ${secs(w.limits.authTimeoutMs)}`,
      `${w.pending} pending, ${w.sessions} sessions, ${w.sockets} sockets`,
      `${w.evictedPending} evicted, ${w.timedOut} timed out, ${w.refusedSessions + w.refusedSockets} refused, ${w.unanswered} unanswered pings`,
    ]);
  }
  return rows;
}

async function run(args: ParsedArgs): Promise<number> {
  const { AdminClient } = await import('../../node/admin-client');
  const dir = dataDir(args);
  const manifest = readManifest(dir);
  const token = readAdminToken(dir);
  const ms = args.number('timeout-ms')!;
  const report: LimitsReport = {
    nodes: await Promise.all(
      manifest.nodes
        .filter((n) => n.state === 'member')
        .map(async (n) => {
          try {
            const c = await AdminClient.connect(n.admin, token, {
              connectTimeoutMs: ms,
              callTimeoutMs: ms,
            });
            try {
              const st = await c.status();
              const t = st.transport;
              return {
                id: n.id,
                admin: n.admin,
                servers: st.servers,
                peer: {
                  peerPort: t.peerPort,
                  inboundRefused: t.inboundRefused,
                  handshakesEvicted: t.handshakesEvicted,
                  handshakeFailures: t.handshakeFailures,
                  authFailures: t.authFailures,
                  budgetEvicted: t.budgetEvicted,
                  replaced: t.replaced,
                },
              };
            } finally {
              await c.close();
            }
          } catch (e) {
            return { id: n.id, admin: n.admin, error: (e as Error).message };
          }
        }),
    ),
  };
  try {
    const r = await controlCall(dir, { cmd: 'stats', args: {} });
    if (!r.ok) throw new Error(r.message);
    report.control = r.stats?.control as ControlServerStats | undefined;
    report.web = r.stats?.web as WebServerStats | undefined;
  } catch (e) {
    report.controlError = (e as Error).message;
  }
  if (report.nodes.every((n) => !n.servers) && !report.control) {
    throw new CliError(
      `neither the nodes nor the control port answered: is \`raftdeck start --data ${dir}\` running?`,
    );
  }
  if (args.flag('json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(
    `${table(['PORT', 'BOUNDS', 'NOW', 'REFUSED OR CLOSED SINCE START'], limitRows(report))}\n`,
  );
  return EXIT.ok;
}

export const limitsCommand: Command = {
  name: 'limits',
  summary: 'the bounds of every port, and what they refused or closed',
  usage: ['limits [--data DIR] [--json]'],
  description: `Shows the bounds of every port of the running cluster in DIR and what they have refused or
closed since they started: each node's peer port (connections, handshakes still to complete and
their timeout), client port (connections, idle timeout), admin port
(connections waiting for their token, sessions, timeouts), budget for incomplete frames and log;
the control port; and, under \`raftdeck serve\`, the web server. The nodes' figures come from
their admin status, the others from the control port.`,
  positionals: [],
  options: [dataOption(), jsonOption, timeoutOption(2000, 'how long to wait for each node')],
  exitCodes: ['0  figures printed', '1  nothing answered', '2  bad arguments'],
  run,
};
