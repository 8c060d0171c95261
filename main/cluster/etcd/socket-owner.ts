/**
 * socket-owner: which user owns the other end of a loopback TCP connection, read from Linux's
 * /proc/net/tcp (the kernel's table of IPv4 TCP sockets: local and remote address, state, uid).
 * A connection accepted on 127.0.0.1:LOCAL from 127.0.0.1:REMOTE has, in that table, the dialing
 * socket as the row whose local address is REMOTE and remote address LOCAL; its uid is the user
 * that made it. This is how the peer proxies keep other local users out: TCP on loopback has no
 * SO_PEERCRED, but the table says the same thing.
 */
import { readFileSync } from 'node:fs';

/** hexPort: a port as /proc/net/tcp writes it (4 upper-case hex digits). */
const hexPort = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');

/** LOOPBACK: 127.0.0.1 as /proc/net/tcp writes it (little-endian hex). */
const LOOPBACK = '0100007F';

/**
 * dialerUid: the uid owning the socket at 127.0.0.1:`remotePort` connected to 127.0.0.1:
 * `localPort`, or undefined when the table has no such row (the connection is gone, or the
 * table cannot be read). `table` is the text of /proc/net/tcp (read when not given).
 */
export function dialerUid(
  localPort: number,
  remotePort: number,
  table?: string,
): number | undefined {
  let text = table;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/tcp', 'utf8');
    } catch {
      return undefined;
    }
  }
  const local = `${LOOPBACK}:${hexPort(remotePort)}`;
  const remote = `${LOOPBACK}:${hexPort(localPort)}`;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[1] !== local || f[2] !== remote) continue;
    const uid = Number(f[7]);
    return Number.isSafeInteger(uid) ? uid : undefined;
  }
  return undefined;
}
