import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PortInUseError } from '../../main/node/transport/transport';
import { TcpListener } from '../../main/node/wire';

describe('TcpListener (the client and admin servers)', () => {
  const open: TcpListener[] = [];
  const logged: string[] = [];

  afterEach(async () => {
    for (const l of open.splice(0)) await l.close((s) => s.destroy());
    logged.length = 0;
  });

  function listener(port: number, accept = (): void => undefined): TcpListener {
    const l = new TcpListener('127.0.0.1', port, accept, 16, (_level, msg) => logged.push(msg));
    open.push(l);
    return l;
  }

  it('binds a free port when asked for port 0 and accepts connections on it', async () => {
    let accepted = 0;
    const l = listener(0, () => accepted++);
    const at = await l.listen();
    expect(at.host).toBe('127.0.0.1');
    expect(at.port).toBeGreaterThan(0);
    expect(l.address).toEqual(at);
    const s = connect(at.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    await expect.poll(() => accepted).toBe(1);
    s.destroy();
  });

  it('names a port in use, and can listen again once it is free', async () => {
    const first = listener(0);
    const { port } = await first.listen();
    const second = listener(port);
    const err = await second.listen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toBe(`port 127.0.0.1:${port} is already in use`);
    expect(second.address).toBeUndefined();
    await first.close((s) => s.destroy());
    await expect(second.listen()).resolves.toEqual({ host: '127.0.0.1', port });
  });

  it('gives up a bind that completes after close()', async () => {
    const l = listener(0);
    const pending = l.listen();
    await l.close((s) => s.destroy());
    await expect(pending).rejects.toThrow('server closed while starting to listen');
    expect(l.address).toBeUndefined();
    await expect(l.listen()).rejects.toThrow('server is closed');
  });
});
