/**
 * attack-flood keeps many connections open to one port, for the attack benchmark (attack.ts). It
 * runs in a process of its own (several of them for the largest floods), so that the attacker's
 * sockets are not limited by the descriptor limit of the process that measures. The parent sends
 * 'report' (answered with the counts) and 'stop' (closes everything, answers, exits) over IPC.
 *
 * usage (from attack.ts): node --import tsx test/bench/attack-flood.ts '<FloodOptions as JSON>'
 */
import { connect, type Socket } from 'node:net';
import { encodeHello } from '../../main/node/transport/hello';
import { newNonce } from '../../main/node/transport/peer-auth';

/** FloodOptions: where to connect, how many, and what each connection sends first. */
export interface FloodOptions {
  port: number;
  count: number;
  /** reopen: open a new connection whenever one closes, until stopped, after reopenDelayMs. */
  reopen: boolean;
  reopenDelayMs?: number;
  /**
   * hello: each connection sends the hello an outsider can build knowing the cluster id (no peer
   * secret), claiming the node ids of `from` in turn, then stays silent.
   */
  hello?: { clusterId: string; to: number; from: number[] };
}

/** FloodCounts: what the server did to the attacker's connections. */
export interface FloodCounts {
  opened: number;
  failed: number;
  closedByServer: number;
  open: number;
  peakOpen: number;
}

/**
 * outsiderHello is the hello an outsider can build knowing only the cluster id: a valid
 * version 2 hello with a fresh nonce. An acceptor answers it with a challenge and then waits for
 * a proof of the peer secret that the outsider cannot make.
 */
export function outsiderHello(clusterId: string, from: number, to: number): Buffer {
  return encodeHello({ clusterId, from, to, nonce: newNonce() });
}

/** Flood keeps up to `count` connections to one port and counts what happens to them. */
export class Flood {
  readonly counts: FloodCounts = { opened: 0, failed: 0, closedByServer: 0, open: 0, peakOpen: 0 };
  private readonly sockets = new Set<Socket>();
  private connecting = 0;
  private wanted: number;
  private serial = 0;
  private stopping = false;
  private readonly pump: ReturnType<typeof setInterval>;

  constructor(private readonly o: FloodOptions) {
    this.wanted = o.count;
    this.pump = setInterval(() => this.fill(), 5);
  }

  /** settled: every first attempt has connected or failed. */
  get settled(): boolean {
    return this.counts.opened + this.counts.failed >= this.o.count;
  }

  private fill(): void {
    while (!this.stopping && this.wanted > 0 && this.connecting < 256) {
      this.wanted -= 1;
      this.connecting += 1;
      this.openOne();
    }
  }

  private openOne(): void {
    const s = connect({ host: '127.0.0.1', port: this.o.port });
    const n = this.serial++;
    let connected = false;
    s.on('connect', () => {
      connected = true;
      this.connecting -= 1;
      this.counts.opened += 1;
      this.sockets.add(s);
      this.counts.open = this.sockets.size;
      this.counts.peakOpen = Math.max(this.counts.peakOpen, this.sockets.size);
      const h = this.o.hello;
      if (h) s.write(outsiderHello(h.clusterId, h.from[n % h.from.length]!, h.to));
    });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => {
      if (!connected) {
        this.connecting -= 1;
        this.counts.failed += 1;
      } else {
        this.sockets.delete(s);
        this.counts.open = this.sockets.size;
        if (!this.stopping) this.counts.closedByServer += 1;
      }
      if (this.o.reopen && !this.stopping) {
        setTimeout(() => (this.wanted += 1), this.o.reopenDelayMs ?? 20);
      }
    });
  }

  stop(): void {
    this.stopping = true;
    clearInterval(this.pump);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

function child(): void {
  const flood = new Flood(JSON.parse(process.argv[3]!) as FloodOptions);
  const send = (m: unknown): void => void process.send!(m);
  const settled = setInterval(() => {
    if (!flood.settled) return;
    clearInterval(settled);
    send({ type: 'settled', counts: flood.counts });
  }, 20);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') send({ type: 'report', counts: flood.counts });
    if (m.type === 'stop') {
      flood.stop();
      send({ type: 'stopped', counts: flood.counts });
      setTimeout(() => process.exit(0), 100);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--child' && process.send) child();
