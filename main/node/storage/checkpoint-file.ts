import { crc32c } from './crc32c';
import { StorageCorruptError } from './storage';
import { readU32, readU64, writeU64 } from './wal-format';

/**
 * Checkpoint is what a store had made durable at the end of one sync: the WAL position (segment
 * seq and the end of its records) and the state that went with it. The store keeps it in the
 * `checkpoint` file of its data dir and checks on open that nothing below it is missing.
 */
export interface Checkpoint {
  /** counter grows by one per checkpoint written; the newest intact slot wins. */
  counter: number;
  /** seq: the active WAL segment (0 before the first segment exists). */
  seq: number;
  /** offset: the end of the records of segment `seq` that were durable. */
  offset: number;
  commit: number;
  term: number;
  vote: number;
  /** snapshotIndex: the index of the newest snapshot file that was durable (0 if none). */
  snapshotIndex: number;
  /** lastIndex: the last log index that was durable (for messages; it may go down). */
  lastIndex: number;
}

/**
 * CHECKPOINT_SLOT_BYTES: the file holds two slots of this size, written in turn (slot
 * counter % 2), so that a write torn by a power loss leaves the other one intact. A slot never
 * crosses a 512-byte sector.
 */
export const CHECKPOINT_SLOT_BYTES = 512;
export const CHECKPOINT_FILE_BYTES = 2 * CHECKPOINT_SLOT_BYTES;
const MAGIC = 'RDCKPT';
const VERSION = 1;
/** SLOT_DATA_BYTES: [u32 crc][6 magic][u8 version][u8 0][8 × u64 fields]. */
export const SLOT_DATA_BYTES = 12 + 8 * 8;
const FIELDS = [
  'counter',
  'seq',
  'offset',
  'commit',
  'term',
  'vote',
  'snapshotIndex',
  'lastIndex',
] as const;

/**
 * encodeCheckpointSlot encodes one slot (into `buf` if given, which it returns); it is written at
 * slotOffset(cp.counter).
 */
export function encodeCheckpointSlot(cp: Checkpoint, buf = Buffer.alloc(SLOT_DATA_BYTES)): Buffer {
  buf.fill(0, 0, SLOT_DATA_BYTES);
  buf.write(MAGIC, 4, 'latin1');
  buf[10] = VERSION;
  FIELDS.forEach((k, i) => writeU64(buf, 12 + 8 * i, cp[k]));
  buf.writeUInt32BE(crc32c(buf, 4, SLOT_DATA_BYTES), 0);
  return buf;
}

/** slotOffset is where the slot of a checkpoint with this counter lives in the file. */
export function slotOffset(counter: number): number {
  return (counter % 2) * CHECKPOINT_SLOT_BYTES;
}

/** encodeCheckpointFile is a whole file holding `cp` in both slots (counters cp - 1 and cp). */
export function encodeCheckpointFile(cp: Checkpoint): Buffer {
  const buf = Buffer.alloc(CHECKPOINT_FILE_BYTES);
  const before = { ...cp, counter: cp.counter - 1 };
  encodeCheckpointSlot(before).copy(buf, slotOffset(before.counter));
  encodeCheckpointSlot(cp).copy(buf, slotOffset(cp.counter));
  return buf;
}

function decodeSlot(buf: Uint8Array, at: number): Checkpoint | string {
  const slot = buf.subarray(at, at + SLOT_DATA_BYTES);
  const stored = readU32(slot, 0);
  const computed = crc32c(slot, 4, SLOT_DATA_BYTES);
  if (stored !== computed) return 'crc mismatch';
  if (Buffer.from(slot.subarray(4, 10)).toString('latin1') !== MAGIC) return 'bad magic';
  if (slot[10] !== VERSION) return `unsupported version ${slot[10]}`;
  const cp = {} as Checkpoint;
  for (let i = 0; i < FIELDS.length; i++) {
    const v = readU64(slot, 12 + 8 * i);
    if (v < 0) return `${FIELDS[i]} exceeds 2^53 - 1`;
    cp[FIELDS[i]] = v;
  }
  if (slotOffset(cp.counter) !== at) return `counter ${cp.counter} in the wrong slot`;
  return cp;
}

/**
 * checkpointSlots returns what each slot of a checkpoint file holds: the checkpoint, or
 * undefined for a slot that is not intact (the file's size is not checked).
 */
export function checkpointSlots(buf: Uint8Array): (Checkpoint | undefined)[] {
  return [0, CHECKPOINT_SLOT_BYTES].map((at) => {
    const slot = buf.length >= at + SLOT_DATA_BYTES ? decodeSlot(buf, at) : 'short';
    return typeof slot === 'string' ? undefined : slot;
  });
}

/**
 * decodeCheckpoint returns the newer of the file's intact slots; a file of another size, or with
 * no intact slot, is corruption (StorageCorruptError naming `file`).
 */
export function decodeCheckpoint(file: string, buf: Uint8Array): Checkpoint {
  if (buf.length !== CHECKPOINT_FILE_BYTES) {
    throw new StorageCorruptError(
      `corrupt checkpoint ${file}: size ${buf.length} bytes, expected ${CHECKPOINT_FILE_BYTES}`,
      file,
    );
  }
  const a = decodeSlot(buf, 0);
  const b = decodeSlot(buf, CHECKPOINT_SLOT_BYTES);
  if (typeof a === 'string' && typeof b === 'string') {
    throw new StorageCorruptError(
      `corrupt checkpoint ${file}: no intact slot (slot 0: ${a}; slot 1: ${b})`,
      file,
    );
  }
  if (typeof a === 'string') return b as Checkpoint;
  if (typeof b === 'string') return a;
  return a.counter > b.counter ? a : b;
}
