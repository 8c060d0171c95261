/** dialerUid: the owner of the dialing end of a loopback connection, from /proc/net/tcp. */
import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { dialerUid } from '../../../main/cluster/etcd/socket-owner';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:5DC0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:5DC0 01 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0 20 4 30 10 -1
   2: 0100007F:5DC0 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0 20 4 30 10 -1
`;

describe('dialerUid', () => {
  it('reads the uid of the socket that dialed, not of the one that accepted', () => {
    // 0x5DC0 = 24000 (the proxy), 0xC350 = 50000 (the dialer, owned by uid 1000)
    expect(dialerUid(24000, 50000, TABLE)).toBe(1000);
    expect(dialerUid(50000, 24000, TABLE)).toBe(0);
    expect(dialerUid(24000, 50001, TABLE)).toBeUndefined();
  });

  it('names this process as the owner of a connection it makes to itself', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<{ local: number; remote: number }>((r) =>
      server.once('connection', (s) => r({ local: s.localPort!, remote: s.remotePort! })),
    );
    const c = connect({ host: '127.0.0.1', port });
    try {
      const { local, remote } = await accepted;
      expect(dialerUid(local, remote)).toBe(process.getuid!());
    } finally {
      c.destroy();
      server.close();
    }
  });
});
