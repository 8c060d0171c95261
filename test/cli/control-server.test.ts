/**
 * The control port's bounds, over real sockets: silent connections cannot keep a command with the
 * token out (the oldest of them makes room), each has a deadline to send its line, commands being
 * carried out have a cap of their own, and `stats` shows all of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterEngine } from '../../main/cluster/engine';
import { RAFTDECK_ENGINE } from '../../main/contract/view';
import { CONTROL_FILE, writePrivate } from '../../main/cli/cluster-files';
import { controlCall } from '../../main/cli/control-client';
import {
  startControlServer,
  type ControlLimits,
  type ControlServer,
  type ControlServerStats,
} from '../../main/cli/control-server';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** fakeSupervisor: while held, heal waits until released, so commands can be kept running. */
function fakeSupervisor(): {
  sup: ClusterEngine;
  healed: () => number;
  hold: (on: boolean) => void;
} {
  let healed = 0;
  let waiting: (() => void)[] = [];
  let hold = false;
  const sup = {
    engineView: () => RAFTDECK_ENGINE,
    heal: () =>
      new Promise<void>((resolve) => {
        healed += 1;
        if (hold) waiting.push(resolve);
        else resolve();
      }),
  } as unknown as ClusterEngine;
  return {
    sup,
    healed: () => healed,
    hold: (on) => {
      hold = on;
      if (on) return;
      for (const w of waiting) w();
      waiting = [];
    },
  };
}

async function start(
  sup: ClusterEngine,
  limits: Partial<ControlLimits>,
): Promise<{ control: ControlServer; dir: string }> {
  const control = await startControlServer(sup, { limits });
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-control-'));
  writePrivate(
    join(dir, CONTROL_FILE),
    JSON.stringify({ port: control.port, token: control.token, pid: process.pid, clusterId: 'c' }),
  );
  closers.push(
    () => control.close(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return { control, dir };
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

const closed = (s: Socket): Promise<void> =>
  new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('the pace command of the control port', () => {
  it('sets the pace of the cluster and answers with it in words; refuses a bad one', async () => {
    const calls: [number, boolean][] = [];
    let pace = { pace: 1, fastFailover: true };
    const sup = {
      engineView: () => RAFTDECK_ENGINE,
      setPace: async (p: number, ff: boolean) => {
        calls.push([p, ff]);
        pace = { pace: p, fastFailover: ff };
      },
      get pace() {
        return pace;
      },
    } as unknown as ClusterEngine;
    const { dir } = await start(sup, {});
    const r = await controlCall(dir, { cmd: 'pace', args: { pace: 20, fastFailover: false } });
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/^pace 20×: .*held 200 ms.*fast failover off/);
    expect(calls).toEqual([[20, false]]);
    const bad = await controlCall(dir, { cmd: 'pace', args: { pace: 0, fastFailover: true } });
    expect(bad).toMatchObject({
      ok: false,
      message: expect.stringMatching(/pace must be an integer from 1 to 100/),
    });
    const noFlag = await controlCall(dir, {
      cmd: 'pace',
      args: { pace: 5 } as unknown as { pace: number; fastFailover: boolean },
    });
    expect(noFlag).toMatchObject({
      ok: false,
      message: expect.stringMatching(/fastFailover must be true or false/),
    });
    expect(calls).toHaveLength(1);
  });
});

describe('control port bounds', () => {
  it('answers a command with the token however many silent connections are open', async () => {
    const f = fakeSupervisor();
    const { control, dir } = await start(f.sup, { maxPending: 4 });
    const socks: Socket[] = [];
    for (let i = 0; i < 50; i++) socks.push(await silent(control.port));
    const r = await controlCall(dir, { cmd: 'heal', args: {} });
    expect(r).toEqual({ type: 'result', ok: true, message: 'healed the network' });
    expect(f.healed()).toBe(1);
    const s = control.stats();
    expect(s.pending).toBeLessThanOrEqual(4);
    expect(s.evictedPending).toBeGreaterThanOrEqual(47);
    expect(s.served).toBe(1);
  });

  it('closes a connection that sends no request line within the deadline', async () => {
    const { control } = await start(fakeSupervisor().sup, { authTimeoutMs: 150 });
    const s = await silent(control.port);
    const at = Date.now();
    await closed(s);
    expect(Date.now() - at).toBeGreaterThanOrEqual(140);
    expect(control.stats().timedOut).toBe(1);
  });

  it('answers "busy" beyond maxActive commands at once, and `stats` shows the counts', async () => {
    const f = fakeSupervisor();
    const { dir } = await start(f.sup, { maxActive: 2 });
    f.hold(true);
    const running = [
      controlCall(dir, { cmd: 'heal', args: {} }),
      controlCall(dir, { cmd: 'heal', args: {} }),
    ];
    while (f.healed() < 2) await new Promise((r) => setTimeout(r, 5));
    const busy = await controlCall(dir, { cmd: 'heal', args: {} });
    expect(busy).toEqual({
      type: 'result',
      ok: false,
      message: 'busy: 2 commands are being carried out (limit 2)',
    });
    f.hold(false);
    await Promise.all(running);
    const r = await controlCall(dir, { cmd: 'stats', args: {} });
    expect(r.ok).toBe(true);
    const stats = (r.stats as { control: ControlServerStats }).control;
    expect(stats).toMatchObject({
      limits: { maxPending: 32, maxActive: 2, authTimeoutMs: 2000 },
      busy: 1,
      served: 3,
      active: 1,
    });
  });
});
