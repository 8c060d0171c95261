/**
 * The file recording on disk: private modes, a restart that keeps earlier runs, the size bound
 * (the oldest segment dropped and said), damage (a flipped byte, a bad header, an unknown format
 * version, a torn tail, a hostile length) skipped with a note while the rest still answers, and
 * an export file that replays like the folder it came from.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../../main/contract/view';
import {
  checkRecordLimit,
  FileRecording,
  segmentBytesFor,
  type FileRecordingOptions,
} from '../../../main/cluster/recording/file-recording';
import {
  encodePayload,
  frame,
  peekRecord,
  traceOf,
  traceTuple,
} from '../../../main/cluster/recording/recording-format';
import { exportRecording, RecordingReader } from '../../../main/cluster/recording/recording-reader';
import type { MessageTrace } from '../../../main/contract/view';
import { event, T0, trace, view } from './recording-fixtures';
const dirs: string[] = [];
const open: FileRecording[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftdeck-rec-'));
  dirs.push(d);
  return d;
}

function recording(dir: string, o: Partial<FileRecordingOptions> = {}): FileRecording {
  const r = new FileRecording(dir, { clusterId: 'raftdeck-test', ...o });
  open.push(r);
  return r;
}

/** bulky: a view with some weight, so segments fill up quickly. */
const bulky = (i: number): ClusterView =>
  view(T0 + i * 100, (i % 3) + 1, { pad: `${i}`.repeat(200), samples: [i, i * 2, i * 3] });

const segmentFiles = (dir: string): string[] =>
  readdirSync(join(dir, 'recording'))
    .filter((n) => n.endsWith('.rdrec'))
    .sort()
    .map((n) => join(dir, 'recording', n));

/** writeRun records `n` bulky views (from view `first`) and events into a closed recording. */
async function writeRun(
  dir: string,
  first: number,
  n: number,
  o: Partial<FileRecordingOptions> = {},
): Promise<ClusterView[]> {
  const r = recording(dir, o);
  const views: ClusterView[] = [];
  for (let i = first; i < first + n; i++) {
    const v = bulky(i);
    views.push(v);
    r.addView(v);
    if (i % 10 === 0) r.addEvent(event(i, T0 + i * 100 + 1));
  }
  await r.close();
  return views;
}

describe('FileRecording', () => {
  it('keeps its folder 0700 and its segments 0600', async () => {
    const dir = tempDir();
    await writeRun(dir, 0, 5);
    expect(statSync(join(dir, 'recording')).mode & 0o777).toBe(0o700);
    for (const f of segmentFiles(dir)) expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('survives a restart: a new segment after the old ones, both runs answer, events by time', async () => {
    const dir = tempDir();
    const run1 = await writeRun(dir, 0, 30);
    const r = recording(dir);
    // the supervisor's event seq starts again at 1 after a restart
    r.addEvent(event(1, T0 + 10_000, 'second run'));
    const v2 = view(T0 + 10_000, 2);
    r.addView(v2);
    expect(segmentFiles(dir)).toHaveLength(2);
    expect((await r.viewAt(T0 + 1_550)).view).toEqual(run1[15]);
    expect((await r.viewAt(T0 + 20_000)).view).toEqual(v2);
    const evs = await r.events(0, T0 * 2, 100);
    expect(evs.map((e) => e.message)).toEqual([
      ...[0, 10, 20].map((i) => `event ${i}`),
      'second run',
    ]);
    const info = await r.info();
    expect(info).toMatchObject({
      source: 'live',
      segments: 2,
      from: T0,
      to: T0 + 10_000,
      formatVersion: 1,
    });
  });

  it('writes appends within the flush interval, before close', async () => {
    const dir = tempDir();
    const r = recording(dir);
    r.addView(view(T0, 1));
    await new Promise((res) => setTimeout(res, 600));
    const reader = RecordingReader.open(dir);
    expect((await reader.viewAt(T0)).view).toEqual(view(T0, 1));
  });

  it('drops the oldest segment beyond the limit and says so, in the notes and to onNote', async () => {
    const dir = tempDir();
    const told: string[] = [];
    const limitBytes = 64 << 10;
    const r = recording(dir, { limitBytes, segmentBytes: 16 << 10, onNote: (m) => told.push(m) });
    const views: ClusterView[] = [];
    for (let i = 0; i < 600; i++) {
      views.push(bulky(i));
      r.addView(views[i]!);
    }
    await Promise.resolve();
    const info = await r.info();
    const onDisk = segmentFiles(dir).reduce((n, f) => n + statSync(f).size, 0);
    expect(onDisk).toBeLessThanOrEqual(limitBytes);
    expect(info.bytes).toBe(onDisk);
    expect(info.limitBytes).toBe(limitBytes);
    expect(existsSync(join(dir, 'recording', '00000001.rdrec'))).toBe(false);
    expect(told.length).toBeGreaterThan(0);
    expect(told[0]).toMatch(
      /^recording: dropped the oldest segment \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d\) to stay within 0\.1 MiB$/,
    );
    expect(info.notes.join('\n')).toMatch(/dropped the oldest segment .* segments dropped so far/);
    // what is left still answers; what was dropped is gone
    expect((await r.viewAt(T0)).view).toBeNull();
    expect((await r.viewAt(T0 + 599 * 100)).view).toEqual(views[599]);
    expect((await r.viewAt(info.from! + 50)).view).toEqual(
      views[Math.floor((info.from! + 50 - T0) / 100)],
    );
  });

  it('skips a damaged segment with a note naming file, offset and span; the others still answer', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 300, { segmentBytes: 16 << 10 });
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    const bytes = readFileSync(files[1]!);
    const mid = bytes.length >> 1;
    for (let i = mid; i < mid + 8; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(files[1]!, bytes);
    const reader = RecordingReader.open(dir);
    const info = await reader.info();
    expect(info.notes.join('\n')).toMatch(
      new RegExp(
        `${files[1]}: damaged at offset \\d+ \\(a record fails its checksum\\); skipped the rest of that segment: \\d\\d:\\d\\d:\\d\\d–\\d\\d:\\d\\d:\\d\\d lost`,
      ),
    );
    // the first segment and every one after the damaged one still answer
    const segs = reader.set.segments;
    expect(segs[0]!.damage).toBeNull();
    expect(segs[1]!.damage).not.toBeNull();
    for (const seg of [segs[0]!, ...segs.slice(2)]) {
      for (const t of [seg.views.t[0]!, seg.views.t.at(-1)!]) {
        const i = Math.floor((t - T0) / 100);
        expect((await reader.viewAt(t)).view).toEqual(views[i]);
      }
    }
    expect((await reader.viewAt(T0 + 299 * 100)).view).toEqual(views[299]);
  });

  it('says a segment of another format version is one, and opens the rest', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 200, { segmentBytes: 16 << 10 });
    const files = segmentFiles(dir);
    const bytes = readFileSync(files[0]!);
    bytes.writeUInt32BE(7, 8);
    writeFileSync(files[0]!, bytes);
    const bad = readFileSync(files[1]!);
    bad.write('XXXX', 0, 'latin1');
    writeFileSync(files[1]!, bad);
    const info = await RecordingReader.open(dir).info();
    expect(info.notes).toContain(
      `${files[0]} is recording format 7; this raftdeck reads format 1; skipped`,
    );
    expect(info.notes.join('\n')).toContain(`${files[1]}: not a raftdeck recording segment`);
    expect(info.segments).toBe(files.length - 2);
    expect((await RecordingReader.open(dir).viewAt(T0 + 199 * 100)).view).toEqual(views[199]);
  });

  it('refuses a hostile record length without reading it', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 20);
    const [file] = segmentFiles(dir);
    const bytes = readFileSync(file!);
    // the first record after the header
    const headerLen = 12 + 8 + bytes.readUInt32BE(12);
    bytes.writeUInt32BE(0xffffffff, headerLen);
    writeFileSync(file!, bytes);
    const reader = RecordingReader.open(dir);
    const info = await reader.info();
    expect(info.notes.join('\n')).toMatch(
      /damaged at offset \d+ \(a record claims 4294967295 bytes \(at most 16777216\)\)/,
    );
    expect((await reader.viewAt(T0 + 1900)).view).toBeNull();
    expect(views).toHaveLength(20);
  });

  it('cuts a torn tail off when it starts again; a reader calls it an unfinished write', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 20);
    const [file] = segmentFiles(dir);
    appendFileSync(file!, Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 5]));
    expect((await RecordingReader.open(dir).info()).notes.join('\n')).toMatch(
      /ends mid-record at offset \d+ \(an unfinished write/,
    );
    const r = recording(dir);
    r.addView(view(T0 + 5000, 3));
    const info = await r.info();
    expect(info.notes).toEqual([]);
    expect((await r.viewAt(T0 + 1900)).view).toEqual(views[19]);
    expect((await r.viewAt(T0 + 5000)).view).toEqual(view(T0 + 5000, 3));
  });

  it('exports one file that replays like the folder, even while recording, and refuses to overwrite', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 150, { segmentBytes: 16 << 10 });
    const r = recording(dir);
    r.addView(view(T0 + 20_000, 2));
    r.addMessages({ traces: [trace(1, T0 + 20_000)], skipped: {} }, T0 + 20_001);
    r.flush();
    const file = join(tempDir(), 'bug.rdrec');
    const summary = exportRecording(dir, file);
    expect(summary.line).toMatch(
      new RegExp(
        `^wrote ${segmentFiles(dir).length} segments, \\d+\\.\\d MiB, \\d\\d:\\d\\d:\\d\\d–\\d\\d:\\d\\d:\\d\\d to ${file}$`,
      ),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reader = RecordingReader.open(file);
    const info = await reader.info();
    expect(info).toMatchObject({
      source: 'file',
      path: file,
      clusterId: 'raftdeck-test',
      from: T0,
      to: T0 + 20_001,
      notes: [],
    });
    for (const i of [0, 33, 77, 149])
      expect((await reader.viewAt(T0 + i * 100 + 20)).view).toEqual(views[i]);
    expect((await reader.viewAt(T0 + 30_000)).view).toEqual(view(T0 + 20_000, 2));
    expect(await reader.messages(0, T0 * 2, 5)).toEqual([trace(1, T0 + 20_000)]);
    expect((await reader.events(0, T0 * 2, 100)).map((e) => e.seq)).toEqual(
      [...Array(15).keys()].map((i) => i * 10),
    );
    expect(() => exportRecording(dir, file)).toThrow(
      `${file} exists already; give a new file name (nothing was written)`,
    );
    expect(() => exportRecording(tempDir(), join(tempDir(), 'x'))).toThrow(/holds no recording/);
  });

  it('reads the rest of an export whose block is damaged', async () => {
    const dir = tempDir();
    const views = await writeRun(dir, 0, 150, { segmentBytes: 16 << 10 });
    const file = join(tempDir(), 'bug.rdrec');
    exportRecording(dir, file);
    const bytes = readFileSync(file);
    const mid = Math.floor(bytes.length * 0.3);
    for (let i = mid; i < mid + 4; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(file, bytes);
    const reader = RecordingReader.open(file);
    const notes = (await reader.info()).notes.join('\n');
    expect(notes).toMatch(
      new RegExp(
        `${file}: block \\d+ at offset \\d+ fails its checksum; reading what of it is intact`,
      ),
    );
    expect(notes).toMatch(/damaged at offset \d+/);
    expect((await reader.viewAt(T0 + 149 * 100)).view).toEqual(views[149]);
    expect((await reader.viewAt(T0)).view).toEqual(views[0]);
  });

  it('opens neither a missing path nor a file of another kind', () => {
    const dir = tempDir();
    expect(() => RecordingReader.open(join(dir, 'nope'))).toThrow(
      `${join(dir, 'nope')}: no such file or folder`,
    );
    writeFileSync(join(dir, 'notes.txt'), 'hello, this is not a recording at all');
    expect(() => RecordingReader.open(join(dir, 'notes.txt'))).toThrow(
      /not a raftdeck recording export/,
    );
    expect(() => RecordingReader.open(dir)).toThrow(/holds no recording/);
  });

  it('refuses a hostile block length in an export without reading it', async () => {
    const dir = tempDir();
    await writeRun(dir, 0, 5);
    const file = join(tempDir(), 'hostile.rdrec');
    exportRecording(dir, file);
    const bytes = readFileSync(file);
    const firstBlock = 12 + 8 + bytes.readUInt32BE(12);
    bytes.writeUInt32BE(0xfffffff0, firstBlock);
    writeFileSync(file, bytes);
    const reader = RecordingReader.open(file);
    const info = await reader.info();
    expect(info.notes).toEqual([
      `${file}: block 1 at offset ${firstBlock} claims 4294967280 bytes (${bytes.length - firstBlock - 8} remain, at most 67108864 allowed); it and the rest of the file are skipped`,
    ]);
    expect(info.segments).toBe(0);
    expect((await reader.viewAt(T0 + 400)).view).toBeNull();
  });

  it('indexes a record from its start as its full decoding reads it', () => {
    for (const rec of [
      [4, T0, T0 - 5, [], {}],
      [1, T0 + 0.5, {}],
      [3, 7, {}],
      [3, -3, {}],
      [2, 70_000, null],
      [4, 4_000_000_000, 300, [], {}],
    ]) {
      const head = peekRecord(encodePayload(rec));
      expect(head, JSON.stringify(rec)).toEqual({
        kind: rec[0],
        time: rec[1],
        min: rec[0] === 4 ? rec[2] : rec[1],
      });
    }
    expect(peekRecord(encodePayload({ kind: 1 }))).toBeNull();
    expect(peekRecord(encodePayload([1, 'x', {}]))).toBeNull();
  });

  it('skips a checksummed record that is not msgpack, with a note, and answers the rest', async () => {
    const dir = tempDir();
    const r = recording(dir);
    r.addEvent(event(1, T0));
    await r.close();
    const [file] = segmentFiles(dir);
    const time = Buffer.alloc(8);
    time.writeUInt32BE(Math.floor((T0 + 5) / 4294967296), 0);
    time.writeUInt32BE((T0 + 5) >>> 0, 4);
    // [3, T0 + 5, <0xc1: a byte msgpack never uses>]
    appendFileSync(
      file!,
      frame(Buffer.concat([Buffer.from([0x93, 0x03, 0xcf]), time, Buffer.from([0xc1])])),
    );
    const reader = RecordingReader.open(dir);
    expect(await reader.events(0, T0 * 2, 10)).toEqual([event(1, T0)]);
    expect((await reader.info()).notes.join('\n')).toMatch(
      /at offset \d+: the record does not decode .*; skipped/,
    );
  });

  it('says an export of another format version is one', async () => {
    const dir = tempDir();
    await writeRun(dir, 0, 5);
    const file = join(tempDir(), 'new.rdrec');
    exportRecording(dir, file);
    const bytes = readFileSync(file);
    bytes.writeUInt32BE(2, 8);
    writeFileSync(file, bytes);
    expect(() => RecordingReader.open(file)).toThrow(
      `${file} is recording format 2; this raftdeck reads format 1`,
    );
  });

  it('keeps every field of a trace through its tuple, false and 0 included', async () => {
    const full: MessageTrace = {
      ...trace(9, T0 + 1),
      type: 'app-resp',
      index: 0,
      logTerm: 3,
      entries: 2,
      entryBytes: 80,
      commit: 7,
      reject: false,
      hint: 4,
      snapOffset: 0,
      snapTotal: 100,
      done: false,
    };
    expect(traceOf(traceTuple(full))).toEqual(full);
    expect(traceTuple(trace(1, T0))).toHaveLength(10);
    expect(traceOf('x')).toBeNull();
    const dir = tempDir();
    const r = recording(dir);
    r.addMessages({ traces: [full, trace(2, T0 + 2)], skipped: { '1-2': 4 } }, T0 + 3);
    await r.close();
    expect(await RecordingReader.open(dir).messages(0, T0 * 2, 10)).toEqual([
      full,
      trace(2, T0 + 2),
    ]);
  });

  it('checks the limit setting and sizes segments from it', () => {
    expect(checkRecordLimit(256)).toBe(256);
    expect(checkRecordLimit(0)).toBe(0);
    expect(() => checkRecordLimit(3)).toThrow(
      '--record-limit 3 is not a recording limit: give MiB in 4..1048576, or 0 to keep no recording on disk',
    );
    expect(() => checkRecordLimit(1.5)).toThrow(/--record-limit 1.5/);
    expect(segmentBytesFor(256 << 20)).toBe(16 << 20);
    expect(segmentBytesFor(4 << 20)).toBe(1 << 20);
    expect(segmentBytesFor(64 << 20)).toBe(4 << 20);
  });
});
