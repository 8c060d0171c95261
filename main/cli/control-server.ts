/**
 * control-server: the control port of a running `raftdeck start` (see control-protocol.ts). It
 * listens on 127.0.0.1 only, checks the token in constant time, validates every argument, and
 * carries the command out on the Supervisor (faults) or as a membership workflow, streaming the
 * workflow's steps.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { LinkRule, WorkflowView } from '../contract/view';
import type { Supervisor } from '../cluster/supervisor';
import { addNode, removeNode, transferLeader, type Workflow } from '../cluster/workflows';
import {
  MAX_REQUEST_BYTES,
  type ControlMessage,
  type ControlRequest,
  type ControlResult,
} from './control-protocol';

/** ControlServer is a listening control port. */
export interface ControlServer {
  port: number;
  token: string;
  close(): Promise<void>;
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
  started: Promise<{ wf: Workflow; run: Promise<WorkflowView> }>,
  send: (m: ControlMessage) => void,
): Promise<ControlResult> {
  const { wf, run } = await started;
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

/** execute carries out one validated request. */
async function execute(
  sup: Supervisor,
  req: ControlRequest,
  send: (m: ControlMessage) => void,
): Promise<ControlResult> {
  const args: Record<string, unknown> = isRecord(req.args) ? req.args : {};
  const ok = (message: string): ControlResult => ({ type: 'result', ok: true, message });
  switch (req.cmd) {
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
      return ok(`node ${id} is running again (pid ${sup.get(id).proc.pid})`);
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
      const rules = [...sup.get(id).customRules, rule];
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
    case 'clear-faults':
      await sup.clearAllFaults();
      return ok('cleared every fault');
    case 'add-node':
      return followWorkflow(addNode(sup), send);
    case 'remove-node':
      return followWorkflow(removeNode(sup, nodeId(args.id)), send);
    case 'transfer-leader':
      return followWorkflow(transferLeader(sup, nodeId(args.id)), send);
    default:
      throw new BadRequest(`unknown command ${JSON.stringify((req as { cmd: unknown }).cmd)}`);
  }
}

/** serveConnection reads one request line, runs it, and answers. No exception escapes. */
function serveConnection(sup: Supervisor, token: string, socket: Socket): void {
  let buf = '';
  let done = false;
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  const send = (m: ControlMessage): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(m)}\n`);
  };
  const finish = (r: ControlResult): void => {
    send(r);
    socket.end();
  };
  socket.setTimeout(10_000, () => {
    if (!done) socket.destroy();
  });
  socket.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    if (buf.length > MAX_REQUEST_BYTES) {
      done = true;
      finish({ type: 'result', ok: false, message: 'request too large' });
      return;
    }
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    done = true;
    socket.setTimeout(0);
    let req: ControlRequest;
    try {
      const parsed: unknown = JSON.parse(buf.slice(0, nl));
      if (!isRecord(parsed) || typeof parsed.cmd !== 'string') throw new Error('no cmd');
      req = parsed as ControlRequest;
    } catch {
      finish({ type: 'result', ok: false, message: 'malformed request' });
      return;
    }
    const presented = typeof req.token === 'string' ? req.token : '';
    if (!timingSafeEqual(digest(presented), digest(token))) {
      finish({ type: 'result', ok: false, message: 'unauthorized: wrong control token' });
      return;
    }
    execute(sup, req, send).then(finish, (e: Error) =>
      finish({ type: 'result', ok: false, message: e.message }),
    );
  });
}

/** startControlServer listens on a free loopback port for control requests. */
export async function startControlServer(sup: Supervisor): Promise<ControlServer> {
  const token = randomBytes(24).toString('hex');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(sup, token, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
