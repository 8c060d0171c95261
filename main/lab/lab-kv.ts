/**
 * lab-kv: the key-value state machine of the lab's nodes, pure (TextEncoder, no Buffer, no
 * packages) so the lab runs in a browser Web Worker. It has the semantics of the real node's
 * KvState (main/node/kv/kv-state.ts): put answers the previous value, del the deleted one, cas
 * swaps only when the key holds `expected` (null: absent) and otherwise answers the current value;
 * every write carries its client's id and sequence number, and a command whose sequence number a
 * client already had applied gets the first result again (at most once). Its entry encoding is
 * its own: LAB_KV_MAGIC then the command as JSON, so the simulator's own payloads (plain text)
 * are never taken for commands and leave the map alone.
 */
import type { Entry } from '../raft/types';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** LAB_KV_MAGIC: the first byte of every lab key-value command (0x01, never in the simulator's text payloads). */
export const LAB_KV_MAGIC = 0x01;

/** LabKvOp: one command; `expected` null means the key must be absent. */
export type LabKvOp =
  | { op: 'put'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'cas'; key: string; expected: string | null; value: string };

export interface LabKvCommand {
  client: string;
  seq: number;
  cmd: LabKvOp;
}

/** LabKvResult: what applying a command produced (the real KvResult's outcomes, as text). */
export type LabKvResult =
  { ok: true; prev: string | null } | { ok: false; error: 'cas-mismatch'; current: string | null };

/** encodeLabCommand: a command as an entry payload. */
export function encodeLabCommand(c: LabKvCommand): Uint8Array {
  const body = enc.encode(JSON.stringify([c.client, c.seq, c.cmd]));
  const out = new Uint8Array(body.length + 1);
  out[0] = LAB_KV_MAGIC;
  out.set(body, 1);
  return out;
}

/** decodeLabCommand: the command in an entry payload, or undefined if it is not one. */
export function decodeLabCommand(data: Uint8Array): LabKvCommand | undefined {
  if (data.length < 2 || data[0] !== LAB_KV_MAGIC) return undefined;
  try {
    const v = JSON.parse(dec.decode(data.subarray(1))) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return undefined;
    const [client, seq, cmd] = v as [unknown, unknown, LabKvOp];
    if (typeof client !== 'string' || typeof seq !== 'number' || typeof cmd?.key !== 'string')
      return undefined;
    if (cmd.op !== 'put' && cmd.op !== 'del' && cmd.op !== 'cas') return undefined;
    return { client, seq, cmd };
  } catch {
    return undefined;
  }
}

interface Session {
  seq: number;
  result: LabKvResult;
}

/**
 * LabKv: the replicated map and the clients' sessions. apply() takes committed entries in log
 * order; image()/fromImage() are its part of a snapshot (an empty store's image is empty, so the
 * simulator's snapshots are byte for byte what they were without it).
 */
export class LabKv {
  readonly map = new Map<string, string>();
  private readonly sessions = new Map<string, Session>();

  /** apply runs a committed entry; undefined when the entry is not a key-value command. */
  apply(e: Entry): LabKvResult | undefined {
    const c = decodeLabCommand(e.data);
    if (!c) return undefined;
    const s = this.sessions.get(c.client);
    if (s && c.seq <= s.seq) return s.result;
    const result = this.run(c.cmd);
    this.sessions.set(c.client, { seq: c.seq, result });
    return result;
  }

  private run(k: LabKvOp): LabKvResult {
    const cur = this.map.get(k.key) ?? null;
    if (k.op === 'put') {
      this.map.set(k.key, k.value);
      return { ok: true, prev: cur };
    }
    if (k.op === 'del') {
      this.map.delete(k.key);
      return { ok: true, prev: cur };
    }
    if (cur !== k.expected) return { ok: false, error: 'cas-mismatch', current: cur };
    this.map.set(k.key, k.value);
    return { ok: true, prev: cur };
  }

  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  /** bytes: the keys' and values' UTF-16 lengths (what the view's kv.bytes shows). */
  bytes(): number {
    let b = 0;
    for (const [k, v] of this.map) b += k.length + v.length;
    return b;
  }

  /** image: the store as snapshot bytes (empty for an empty store). */
  image(): Uint8Array {
    if (this.map.size === 0 && this.sessions.size === 0) return new Uint8Array(0);
    return enc.encode(JSON.stringify({ map: [...this.map], sessions: [...this.sessions] }));
  }

  static fromImage(b: Uint8Array): LabKv {
    const kv = new LabKv();
    if (b.length === 0) return kv;
    const v = JSON.parse(dec.decode(b)) as {
      map: [string, string][];
      sessions: [string, Session][];
    };
    for (const [k, x] of v.map) kv.map.set(k, x);
    for (const [k, s] of v.sessions) kv.sessions.set(k, s);
    return kv;
  }
}
