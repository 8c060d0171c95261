/**
 * peer-secret: the cluster's peer secret on disk. The supervisor creates it with the cluster and
 * writes it into every node's data dir as `peer-secret` before the node first starts; the node
 * reads it there at start, so the secret never appears in process arguments or the environment.
 *
 * Format (docs/protocol.md, "The peer secret"): exactly 64 hexadecimal digits (the 32 bytes of
 * the secret), optionally followed by one newline, in a regular file that grants no access to
 * group or others (mode 0600 or tighter). Anything else is refused.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { PEER_SECRET_BYTES } from './transport/peer-auth';
import { GROUP_OTHER_BITS, writePrivateFile } from './private-files';

/** PEER_SECRET_FILE: the name of the secret's file in a cluster folder and in a data dir. */
export const PEER_SECRET_FILE = 'peer-secret';

const SECRET_TEXT = /^([0-9a-fA-F]{64})\n?$/;

/** MAX_SECRET_FILE_BYTES: more than a valid file can hold; read no further. */
const MAX_SECRET_FILE_BYTES = 128;

/** PeerSecretError: the secret's file is missing, unsafe or malformed; the message names it. */
export class PeerSecretError extends Error {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`peer secret ${file}: ${why}`);
    this.name = 'PeerSecretError';
  }
}

/** peerSecretPath is where the secret lives in `dir` (a cluster folder or a data dir). */
export function peerSecretPath(dir: string): string {
  return join(dir, PEER_SECRET_FILE);
}

/** newPeerSecret returns PEER_SECRET_BYTES fresh random bytes. */
export function newPeerSecret(): Buffer {
  return randomBytes(PEER_SECRET_BYTES);
}

/** writePeerSecret writes `secret` to `file` atomically with mode 0600. */
export function writePeerSecret(file: string, secret: Uint8Array): void {
  if (secret.length !== PEER_SECRET_BYTES) {
    throw new RangeError(`a peer secret is ${PEER_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  writePrivateFile(file, `${Buffer.from(secret).toString('hex')}\n`);
}

/**
 * readPeerSecret reads and checks a secret file. It throws PeerSecretError if the file is
 * missing, is not a regular file (a symbolic link is not followed), grants any access to group or
 * others, or does not hold exactly 64 hex digits and at most one newline.
 */
export function readPeerSecret(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new PeerSecretError(file, 'missing (the supervisor writes it before a node starts)');
    }
    if (code === 'ELOOP') throw new PeerSecretError(file, 'is a symbolic link; refusing it');
    throw new PeerSecretError(file, (e as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PeerSecretError(file, 'is not a regular file');
    if ((st.mode & GROUP_OTHER_BITS) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new PeerSecretError(
        file,
        `mode ${mode} lets group or others access it; it must be 0600 (chmod 600 ${file})`,
      );
    }
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
      if (n === buf.length) break;
    }
    const m = SECRET_TEXT.exec(buf.toString('latin1', 0, n));
    if (n > MAX_SECRET_FILE_BYTES || m === null) {
      throw new PeerSecretError(
        file,
        `malformed: expected ${PEER_SECRET_BYTES * 2} hex digits and at most one newline, found ${n} bytes`,
      );
    }
    return Buffer.from(m[1], 'hex');
  } finally {
    closeSync(fd);
  }
}
