/**
 * storage-bench measures FileStorage on the local disk: appends per second with one fdatasync per
 * append, with group commit (concurrent writers sharing syncs, and large batches), and the time to
 * load 1,000,000 entries of 100 bytes. Run: npx tsx test/bench/storage-bench.ts [dir]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../main/node/storage/crc32c';
import { FileStorage } from '../../main/node/storage/file-storage';
import type { Entry } from '../../main/raft/types';

const ENTRY_BYTES = 100;
const LOAD_ENTRIES = 1_000_000;
const DURATION_MS = 2000;

const DATA = new Uint8Array(ENTRY_BYTES).map((_, i) => (i * 31) & 0xff);

function entry(index: number): Entry {
  return { index, term: 1, type: 'normal', data: DATA };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function fresh(root: string, name: string): Promise<FileStorage> {
  const s = new FileStorage({ dir: join(root, name) });
  await s.load();
  return s;
}

/** oneByOne: append one entry, sync, repeat (one fdatasync per entry). */
async function oneByOne(root: string): Promise<void> {
  const s = await fresh(root, 'one');
  let next = 1;
  const t0 = performance.now();
  while (performance.now() - t0 < DURATION_MS) {
    s.append([entry(next++)]);
    await s.sync();
  }
  const secs = (performance.now() - t0) / 1000;
  const { fdatasyncs } = s.stats();
  console.log(
    `sync per append        ${fmt((next - 1) / secs)} appends/s  (${fmt(fdatasyncs / secs)} fdatasync/s)`,
  );
  await s.close();
}

/** concurrent: `writers` loops each append one entry and await sync(); syncs coalesce. */
async function concurrent(root: string, writers: number): Promise<void> {
  const s = await fresh(root, `concurrent-${writers}`);
  let next = 1;
  const t0 = performance.now();
  const loop = async (): Promise<void> => {
    while (performance.now() - t0 < DURATION_MS) {
      s.append([entry(next++)]);
      await s.sync();
    }
  };
  await Promise.all(Array.from({ length: writers }, loop));
  const secs = (performance.now() - t0) / 1000;
  const { fdatasyncs } = s.stats();
  console.log(
    `group commit, ${String(writers).padStart(3)} writers ${fmt((next - 1) / secs)} appends/s  ` +
      `(${fmt(fdatasyncs / secs)} fdatasync/s, ${((next - 1) / fdatasyncs).toFixed(1)} appends per sync)`,
  );
  await s.close();
}

/** batches: append `size` entries, sync once, repeat. */
async function batches(root: string, size: number): Promise<void> {
  const s = await fresh(root, `batch-${size}`);
  let next = 1;
  const t0 = performance.now();
  while (performance.now() - t0 < DURATION_MS) {
    const list: Entry[] = [];
    for (let k = 0; k < size; k++) list.push(entry(next++));
    s.append(list);
    await s.sync();
  }
  const secs = (performance.now() - t0) / 1000;
  const mb = s.stats().bytesWritten / secs / 1e6;
  console.log(
    `batches of ${String(size).padStart(5)}      ${fmt((next - 1) / secs)} appends/s  (${mb.toFixed(0)} MB/s)`,
  );
  await s.close();
}

/** load: write LOAD_ENTRIES entries, then time a fresh load(). */
async function load(root: string): Promise<void> {
  const dir = join(root, 'load');
  const w = new FileStorage({ dir });
  await w.load();
  const tw = performance.now();
  for (let i = 1; i <= LOAD_ENTRIES; i += 10_000) {
    const list: Entry[] = [];
    for (let k = 0; k < 10_000; k++) list.push(entry(i + k));
    w.append(list);
    w.setHardState({ term: 1, vote: 1, commit: i + 9_999 });
    await w.sync();
  }
  const writeMs = performance.now() - tw;
  const { walBytes, segments } = w.sizes();
  await w.close();

  const r = new FileStorage({ dir });
  const t0 = performance.now();
  const state = await r.load();
  const ms = performance.now() - t0;
  if (state.entries.length !== LOAD_ENTRIES) throw new Error('load returned the wrong count');
  console.log(
    `wrote ${fmt(LOAD_ENTRIES)} x ${ENTRY_BYTES} B in ${fmt(writeMs)} ms; ` +
      `WAL ${(walBytes / 1e6).toFixed(0)} MB in ${segments} segments`,
  );
  console.log(
    `load ${fmt(LOAD_ENTRIES)} entries      ${fmt(ms)} ms  (${fmt(LOAD_ENTRIES / (ms / 1000))} entries/s, ` +
      `${(walBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`,
  );
  await r.close();
}

function crcSpeed(): void {
  const data = new Uint8Array(64 * 1024 * 1024).fill(0xa5);
  crc32c(data);
  const t0 = performance.now();
  for (let i = 0; i < 4; i++) crc32c(data);
  const secs = (performance.now() - t0) / 1000;
  console.log(`crc32c                 ${((4 * data.length) / secs / 1e9).toFixed(2)} GB/s`);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'raftdeck-bench-'));
  try {
    console.log(`FileStorage on ${root}`);
    crcSpeed();
    await oneByOne(root);
    for (const writers of [8, 64, 256]) await concurrent(root, writers);
    for (const size of [100, 10_000]) await batches(root, size);
    await load(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
