/**
 * codec-bench measures encode and decode throughput of the node-to-node codec on the hot path:
 * AppendEntries with 64 entries of 128 bytes each; and the cost of putting one snapshot chunk
 * into a frame, copied (encodeFrame) or as parts (encodeOutFrame, what the transport sends).
 * Run: npx tsx test/bench/codec-bench.ts
 */
import type { AppMsg, Entry, Message } from '../../main/raft/types';
import { MessageCodec } from '../../main/node/transport/codec';

const ENTRIES = 64;
const ENTRY_BYTES = 128;
const DURATION_MS = 1500;

function makeMessage(): AppMsg {
  // Entry data are views into one buffer, as they are when read back from a WAL segment.
  const arena = new Uint8Array(ENTRIES * ENTRY_BYTES);
  for (let i = 0; i < arena.length; i++) arena[i] = (i * 31) & 0xff;
  const entries: Entry[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    entries.push({
      index: 1_000_001 + i,
      term: 7,
      type: 'normal',
      data: arena.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES),
    });
  }
  return {
    type: 'app',
    from: 1,
    to: 2,
    term: 7,
    prevIndex: 1_000_000,
    prevTerm: 7,
    commit: 999_990,
    entries,
  };
}

function run(name: string, bytesPerOp: number, op: () => void): void {
  for (let i = 0; i < 2000; i++) op();
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < DURATION_MS) {
    for (let i = 0; i < 500; i++) op();
    ops += 500;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const perSec = (ops / elapsedMs) * 1000;
  const mib = (perSec * bytesPerOp) / (1024 * 1024);
  const us = (elapsedMs * 1000) / ops;
  console.log(
    `${name.padEnd(22)} ${Math.round(perSec).toLocaleString('en-US').padStart(10)} msg/s` +
      `  ${(perSec * ENTRIES).toExponential(2)} entries/s  ${mib.toFixed(0).padStart(5)} MiB/s` +
      `  ${us.toFixed(2)} us/msg`,
  );
}

const codec = new MessageCodec();
const msg = makeMessage();
const body = codec.encode(msg);
const frameBytes = body.length + 4;
console.log(
  `AppendEntries: ${ENTRIES} entries x ${ENTRY_BYTES} bytes, body ${body.length} bytes ` +
    `(payload ${ENTRIES * ENTRY_BYTES}, overhead ${body.length - ENTRIES * ENTRY_BYTES})`,
);
let sink = 0;
run('encodeFrame', frameBytes, () => {
  sink += codec.encodeFrame(msg).length;
});
run('encode (copy)', body.length, () => {
  sink += codec.encode(msg).length;
});
run('decode + validate', body.length, () => {
  const m = codec.decode(body);
  sink += m.term;
});

// A snapshot chunk the size the snapshot stage sends, from a 100 MB image: every chunk is a new
// part of the image, so the frames a copy makes are new memory each time, as on a leader.
const CHUNK = 1_045_000;
const image = new Uint8Array(100 * CHUNK).fill(5);
function chunkMessage(k: number): Message {
  return {
    type: 'snap',
    from: 1,
    to: 4,
    term: 7,
    meta: { index: 100_002, term: 7, conf: { voters: [1, 2, 3], learners: [4], addresses: {} } },
    offset: k * CHUNK,
    total: image.length,
    data: image.subarray(k * CHUNK, (k + 1) * CHUNK),
    done: k === 99,
  };
}
for (const [name, encode] of [
  ['snapshot chunk, copied', (m: Message) => codec.encodeFrame(m).length],
  [
    'snapshot chunk, parts',
    (m: Message) => {
      const f = codec.encodeOutFrame(m);
      return f instanceof Uint8Array ? f.length : f.reduce((n, b) => n + b.length, 0);
    },
  ],
] as const) {
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < 100; k++) sink += encode(chunkMessage(k));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(
      `${name.padEnd(24)} ${((ms * 1000) / 100).toFixed(1).padStart(8)} us/chunk of ${CHUNK} bytes` +
        `  (${(image.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`,
    );
  }
}
if (sink === 0) console.log('unreachable');
