/**
 * control-server: the control port of a running `raftdeck start` (see control-protocol.ts). It
 * listens on 127.0.0.1 only, checks the token in constant time, validates every argument, and
 * carries the command out on the cluster's engine (faults) or as a membership workflow, streaming
 * the workflow's steps. A command the engine cannot carry out is refused with the engine's reason.
 *
 * Bounds, so that a local process without the token cannot keep the commands out: connections
 * that have not sent their request line yet are at most maxPending, and when one more arrives the
 * oldest of them is closed (a real client sends its line as soon as it connects); each has
 * authTimeoutMs to send it. Requests with the right token being carried out have their own cap,
 * maxActive; one more is answered "busy". Once answered, a connection is closed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_PACE, type LinkRule, type WorkflowView } from '../contract/view';
import { describePace } from '../view/pace';
import { refuseUnavailable, type ClusterEngine, type WorkflowRun } from '../cluster/engine';
import type { EngineFeature } from '../contract/view';
import {
  MAX_REQUEST_BYTES,
  type ControlMessage,
  type ControlRequest,
  type ControlResult,
} from './control-protocol';

/** ControlLimits bound the control port (see the file comment). */
export interface ControlLimits {
  maxPending: number;
  maxActive: number;
  authTimeoutMs: number;
}

/** DEFAULT_CONTROL_LIMITS: 32 connections waiting for their line, 16 commands at once, 2 s. */
export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxPending: 32,
  maxActive: 16,
  authTimeoutMs: 2000,
};

/** ControlServerStats: the control port's bounds, and counts since it started. */
export interface ControlServerStats {
  limits: ControlLimits;
  /** pending: connections still to send their line; active: commands being carried out. */
  pending: number;
  active: number;
  accepted: number;
  /** served: commands carried out (whatever their result). */
  served: number;
  /** unauthorized: wrong token or unreadable line; timedOut: no line within authTimeoutMs. */
  unauthorized: number;
  timedOut: number;
  /** evictedPending: closed before sending a line, to make room for a newer connection. */
  evictedPending: number;
  /** busy: refused because maxActive commands were running. */
  busy: number;
}

/** ControlServer is a listening control port. */
export interface ControlServer {
  port: number;
  token: string;
  stats(): ControlServerStats;
  /**
   * addStats adds a section to what the `stats` command answers (e.g. the web server of
   * `raftdeck serve`); `read` is called on each request.
   */
  addStats(name: string, read: () => unknown): void;
  close(): Promise<void>;
}

/** ControlServerOptions: bounds that differ from DEFAULT_CONTROL_LIMITS. */
export interface ControlServerOptions {
  limits?: Partial<ControlLimits>;
}

class BadRequest extends Error {}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nodeId(v: unknown, what = 'id'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new BadRequest(`${what} must be a positive integer`);
  return v;
}

function nonNegative(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
    throw new BadRequest(`${what} must be a number from 0 to ${max}`);
  return v;
}

/** linkRule validates the one kind of rule the command line sets: a delay or drop towards a peer. */
function linkRule(v: unknown): LinkRule {
  if (!isRecord(v)) throw new BadRequest('rule must be an object');
  const to = v.to === '*' ? '*' : nodeId(v.to, 'rule.to');
  const rule: LinkRule = { to };
  if (v.drop !== undefined) rule.drop = nonNegative(v.drop, 'rule.drop', 1);
  if (v.delayMs !== undefined) rule.delayMs = nonNegative(v.delayMs, 'rule.delayMs', 600_000);
  if (v.jitterMs !== undefined) rule.jitterMs = nonNegative(v.jitterMs, 'rule.jitterMs', 600_000);
  if (rule.drop === undefined && rule.delayMs === undefined)
    throw new BadRequest('rule needs drop or delayMs');
  return rule;
}

const seconds = (v: WorkflowView): string =>
  `${(((v.finishedAt ?? Date.now()) - v.startedAt) / 1000).toFixed(1)} s`;

/** followWorkflow streams a workflow's steps as they change and resolves with its outcome. */
async function followWorkflow(
  started: Promise<WorkflowRun>,
  send: (m: ControlMessage) => void,
): Promise<ControlResult> {
  const { view, run } = await started;
  const wf = { view };
  const seen = wf.view.steps.map(() => '');
  const flush = (): void => {
    wf.view.steps.forEach((s, index) => {
      const key = `${s.state}|${s.detail}|${s.progress}`;
      if (s.state === 'pending' || key === seen[index]) return;
      seen[index] = key;
      send({ type: 'step', kind: wf.view.kind, node: wf.view.node, index, ...s });
    });
  };
  const timer = setInterval(flush, 100);
  try {
    const v = await run;
    flush();
    if (v.state === 'done')
      return { type: 'result', ok: true, message: `${v.kind} ${v.node}: done in ${seconds(v)}` };
    if (v.state === 'unknown')
      return {
        type: 'result',
        ok: false,
        unknown: true,
        message: `${v.kind} ${v.node}: outcome unknown: ${v.error}`,
      };
    return { type: 'result', ok: false, message: `${v.kind} ${v.node} failed: ${v.error}` };
  } finally {
    clearInterval(timer);
  }
}

/** FEATURE_OF: the engine feature each command needs (none: every engine has it). */
const FEATURE_OF: Partial<Record<string, EngineFeature>> = {
  kill: 'kill',
  stop: 'stop',
  restart: 'restart',
  pause: 'pause',
  resume: 'pause',
  isolate: 'isolate',
  partition: 'partition',
  heal: 'partition',
  'link-rule': 'linkRules',
  'slow-disk': 'slowDisk',
  pace: 'pace',
  'add-node': 'addNode',
  'remove-node': 'removeNode',
  'replace-node': 'replaceNode',
  'transfer-leader': 'transferLeader',
};

/** execute carries out one validated request. */
async function execute(
  sup: ClusterEngine,
  req: ControlRequest,
  send: (m: ControlMessage) => void,
  stats: () => Record<string, unknown>,
): Promise<ControlResult> {
  const args: Record<string, unknown> = isRecord(req.args) ? req.args : {};
  const ok = (message: string): ControlResult => ({ type: 'result', ok: true, message });
  const feature = FEATURE_OF[req.cmd];
  if (feature !== undefined) refuseUnavailable(sup, feature);
  switch (req.cmd) {
    case 'view':
      return { ...ok('the cluster as the dashboard shows it'), view: sup.view() };
    case 'stats':
      return { ...ok('the bounds of the control port and what they have refused'), stats: stats() };
    case 'kill': {
      const id = nodeId(args.id);
      await sup.kill(id);
      return ok(`killed node ${id} (SIGKILL)`);
    }
    case 'stop': {
      const id = nodeId(args.id);
      await sup.stopNode(id);
      return ok(`stopped node ${id}`);
    }
    case 'restart': {
      const id = nodeId(args.id);
      await sup.restart(id);
      const pid = sup.view().nodes.find((n) => n.id === id)?.process.pid;
      return ok(`node ${id} is running again (pid ${pid ?? '?'})`);
    }
    case 'pause': {
      const id = nodeId(args.id);
      sup.pause(id);
      return ok(`paused node ${id} (SIGSTOP)`);
    }
    case 'resume': {
      const id = nodeId(args.id);
      sup.resume(id);
      return ok(`resumed node ${id} (SIGCONT)`);
    }
    case 'isolate': {
      const id = nodeId(args.id);
      await sup.isolate(id);
      return ok(`isolated node ${id} from every other node`);
    }
    case 'partition': {
      const raw = args.groups;
      if (!Array.isArray(raw) || raw.length === 0 || !raw.every(Array.isArray))
        throw new BadRequest('groups must be a list of lists of node ids');
      const groups = (raw as unknown[][]).map((g) => g.map((id) => nodeId(id, 'a group member')));
      await sup.partition(groups);
      return ok(`partitioned into ${groups.map((g) => `{${g.join(',')}}`).join(' ')}`);
    }
    case 'link-rule': {
      const id = nodeId(args.id);
      const rule = linkRule(args.rule);
      const rules = [...sup.linkRules(id), rule];
      await sup.setLinkRules(id, rules);
      return ok(`node ${id} now has ${rules.length} link rule(s)`);
    }
    case 'slow-disk': {
      const id = nodeId(args.id);
      const ms = nonNegative(args.ms, 'ms', 600_000);
      await sup.setSlowDisk(id, ms);
      return ok(
        ms ? `slow disk on node ${id}: +${ms} ms per fsync` : `disk of node ${id} restored`,
      );
    }
    case 'heal':
      await sup.heal();
      return ok('healed the network');
    case 'pace': {
      const pace = args.pace;
      if (typeof pace !== 'number' || !Number.isInteger(pace) || pace < 1 || pace > MAX_PACE)
        throw new BadRequest(`pace must be an integer from 1 to ${MAX_PACE}`);
      if (typeof args.fastFailover !== 'boolean')
        throw new BadRequest('fastFailover must be true or false');
      await sup.setPace(pace, args.fastFailover);
      return ok(describePace(sup.pace));
    }
    case 'clear-faults': {
      const { summary } = await sup.clearAllFaults();
      return ok(`cleared every fault: ${summary}`);
    }
    case 'add-node':
      return followWorkflow(sup.addNode(), send);
    case 'remove-node':
      return followWorkflow(sup.removeNode(nodeId(args.id)), send);
    case 'replace-node':
      return followWorkflow(sup.replaceNode(nodeId(args.id)), send);
    case 'transfer-leader':
      return followWorkflow(sup.transferLeader(nodeId(args.id)), send);
    default:
      throw new BadRequest(`unknown command ${JSON.stringify((req as { cmd: unknown }).cmd)}`);
  }
}

/** Conn is one control connection. */
interface Conn {
  socket: Socket;
  /** state: waiting for its line, carrying out its command, or answered. */
  state: 'pending' | 'active' | 'done';
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** startControlServer listens on a free loopback port for control requests. */
export async function startControlServer(
  sup: ClusterEngine,
  options: ControlServerOptions = {},
): Promise<ControlServer> {
  const limits: ControlLimits = { ...DEFAULT_CONTROL_LIMITS };
  for (const [k, v] of Object.entries(options.limits ?? {})) {
    if (v !== undefined) limits[k as keyof ControlLimits] = v;
  }
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`control ${k} must be at least 1`);
  }
  const token = randomBytes(24).toString('hex');
  const tokenDigest = digest(token);
  /** pending: connections still to send their line, oldest first. */
  const pending = new Set<Conn>();
  const all = new Set<Conn>();
  let active = 0;
  const counts = {
    accepted: 0,
    served: 0,
    unauthorized: 0,
    timedOut: 0,
    evictedPending: 0,
    busy: 0,
  };
  const sections = new Map<string, () => unknown>();
  const stats = (): ControlServerStats => ({
    limits: { ...limits },
    pending: pending.size,
    active,
    ...counts,
  });
  const allStats = (): Record<string, unknown> => {
    const out: Record<string, unknown> = { control: stats() };
    for (const [name, read] of sections) out[name] = read();
    return out;
  };

  /** serve reads one request line, runs it, and answers. No exception escapes. */
  const serve = (c: Conn): void => {
    const { socket } = c;
    let buf = '';
    socket.setEncoding('utf8');
    const send = (m: ControlMessage): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(m)}\n`);
    };
    const finish = (r: ControlResult): void => {
      if (c.state === 'active') active -= 1;
      c.state = 'done';
      send(r);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const refuse = (message: string): void => {
      pending.delete(c);
      clearTimeout(c.timer);
      finish({ type: 'result', ok: false, message });
    };
    socket.on('data', (chunk: string) => {
      if (c.state !== 'pending') return;
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        counts.unauthorized += 1;
        refuse('request too large');
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: ControlRequest;
      try {
        const parsed: unknown = JSON.parse(buf.slice(0, nl));
        if (!isRecord(parsed) || typeof parsed.cmd !== 'string') throw new Error('no cmd');
        req = parsed as ControlRequest;
      } catch {
        counts.unauthorized += 1;
        refuse('malformed request');
        return;
      }
      const presented = typeof req.token === 'string' ? req.token : '';
      if (!timingSafeEqual(digest(presented), tokenDigest)) {
        counts.unauthorized += 1;
        refuse('unauthorized: wrong control token');
        return;
      }
      if (active >= limits.maxActive) {
        counts.busy += 1;
        refuse(`busy: ${active} commands are being carried out (limit ${limits.maxActive})`);
        return;
      }
      pending.delete(c);
      clearTimeout(c.timer);
      c.state = 'active';
      active += 1;
      counts.served += 1;
      execute(sup, req, send, allStats).then(finish, (e: Error) =>
        finish({ type: 'result', ok: false, message: e.message }),
      );
    });
  };

  const server: Server = createServer((socket) => {
    counts.accepted += 1;
    socket.on('error', () => undefined);
    if (pending.size >= limits.maxPending) {
      const oldest = pending.values().next().value!;
      pending.delete(oldest);
      clearTimeout(oldest.timer);
      counts.evictedPending += 1;
      oldest.socket.destroy();
    }
    const c: Conn = { socket, state: 'pending', timer: undefined };
    pending.add(c);
    all.add(c);
    socket.on('close', () => {
      pending.delete(c);
      all.delete(c);
      clearTimeout(c.timer);
    });
    c.timer = setTimeout(() => {
      // The event loop may have been busy past the deadline with the line already waiting to be
      // read: read it first (I/O runs before setImmediate callbacks), then decide.
      setImmediate(() => {
        if (c.state !== 'pending' || socket.destroyed) return;
        pending.delete(c);
        counts.timedOut += 1;
        socket.destroy();
      });
    }, limits.authTimeoutMs);
    c.timer.unref();
    serve(c);
  });
  // One over the limits is accepted, so that it can take the oldest pending one's place.
  server.maxConnections = limits.maxPending + limits.maxActive + 1;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    token,
    stats,
    addStats: (name, read) => void sections.set(name, read),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of all) {
          clearTimeout(c.timer);
          c.socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
