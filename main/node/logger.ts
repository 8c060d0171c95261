import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** LogLine is one structured log record as written to the node's log file. */
export type LogLine = { t: number; level: LogLevel; msg: string } & Record<string, unknown>;

/** DEFAULT_LOG_MAX_BYTES: node.log is rotated before it grows past 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/** DEFAULT_LOG_KEEP: rotated files kept (node.log.1, the newest, to node.log.3). */
export const DEFAULT_LOG_KEEP = 3;

/** DEFAULT_REPEAT_LIMIT: lines of one kind written per window; the rest are counted. */
export const DEFAULT_REPEAT_LIMIT = 20;

/** DEFAULT_REPEAT_WINDOW_MS: the window of the repeat limit. */
export const DEFAULT_REPEAT_WINDOW_MS = 10_000;

/** MAX_REPEAT_KINDS: kinds of line tracked at once; lines of further kinds share one allowance. */
const MAX_REPEAT_KINDS = 1000;

/** JsonLogOptions: what JsonLog keeps and how it bounds the file. */
export interface JsonLogOptions {
  /** keep: lines kept in memory for streaming (default 1000). */
  keep?: number;
  /** echo: also write every line to stderr. */
  echo?: boolean;
  /** maxFileBytes: rotate the file before it grows past this (0: never). */
  maxFileBytes?: number;
  /** keepFiles: rotated files kept, `file.1` (newest) to `file.N`; 0 keeps none. */
  keepFiles?: number;
  /** repeatLimit: lines of one kind written per repeatWindowMs (0: no limit); see logKind. */
  repeatLimit?: number;
  repeatWindowMs?: number;
  /** now: the clock (tests). */
  now?: () => number;
}

/** Repeats counts the lines of one kind in the current window. */
interface Repeats {
  windowStart: number;
  written: number;
  suppressed: number;
  /** last: the latest line left out, whose level, text and fields the summary repeats. */
  last: LogLine | undefined;
}

/**
 * logKind is what makes two lines "the same" for the repeat limit: the level and the text with
 * every number and every quoted string blanked, so that a line naming a different port, count or
 * (attacker-chosen) cluster id is still the same kind of line.
 */
export function logKind(level: LogLevel, msg: string): string {
  const template = msg.replace(/"(?:[^"\\]|\\.)*"/g, '"*"').replace(/\d+/g, '#');
  return `${level} ${template}`;
}

/**
 * JsonLog writes structured JSON lines to a file (append) and keeps the latest lines in memory
 * so the admin protocol can stream them. Each line is written with one write() call as it is
 * logged, so a process killed right after still leaves it in the file (its supervisor reads the
 * last lines after a crash). Writing never throws: a failing log file is reported once on stderr
 * and then ignored.
 *
 * Bounds. A kind of line (logKind) is written at most repeatLimit times per window; further
 * lines of that kind are left out of the file and of the memory ring, and counted; once the
 * window has passed (checked every window, and when the kind is logged again) one line says
 * "…repeated N times: <the last of them>" with `repeated: N`. The file is rotated by size:
 * before a line would take it past maxFileBytes, `file` becomes `file.1` (the older ones shift up
 * to `file.keepFiles`, the oldest is dropped) and a new `file` is started. Ordering: lines reach
 * the files in the order they were logged.
 */
export class JsonLog {
  private readonly ring: LogLine[] = [];
  /** fd: the open log file; undefined without a file, after a failure, and once closed. */
  private fd: number | undefined;
  private failed = false;
  private rotationFailed = false;
  private size = 0;
  private readonly repeats = new Map<string, Repeats>();
  private repeatTimer: ReturnType<typeof setInterval> | undefined;
  private readonly keep: number;
  private readonly echo: boolean;
  private readonly maxFileBytes: number;
  private readonly keepFiles: number;
  private readonly repeatLimit: number;
  private readonly repeatWindowMs: number;
  private readonly now: () => number;
  /** seq counts lines written (to the file and the ring). */
  seq = 0;
  /** suppressed counts lines left out by the repeat limit, ever. */
  suppressed = 0;
  /** rotations counts file rotations. */
  rotations = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly base: Record<string, unknown> = {},
    options: JsonLogOptions = {},
  ) {
    this.keep = options.keep ?? 1000;
    this.echo = options.echo ?? false;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.keepFiles = options.keepFiles ?? DEFAULT_LOG_KEEP;
    this.repeatLimit = options.repeatLimit ?? DEFAULT_REPEAT_LIMIT;
    this.repeatWindowMs = options.repeatWindowMs ?? DEFAULT_REPEAT_WINDOW_MS;
    this.now = options.now ?? Date.now;
    if (file) this.open();
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    if (this.repeatLimit > 0 && !this.admit(level, msg, fields, now)) return;
    this.write({ t: now, level, msg, ...this.base, ...fields });
  }

  debug(msg: string, f?: Record<string, unknown>): void {
    this.log('debug', msg, f);
  }
  info(msg: string, f?: Record<string, unknown>): void {
    this.log('info', msg, f);
  }
  warn(msg: string, f?: Record<string, unknown>): void {
    this.log('warn', msg, f);
  }
  error(msg: string, f?: Record<string, unknown>): void {
    this.log('error', msg, f);
  }

  recent(n: number): LogLine[] {
    return this.ring.slice(-n);
  }

  /** flushRepeats writes the count of every kind whose window has passed (all of them if `all`). */
  flushRepeats(all = false): void {
    const now = this.now();
    for (const [kind, r] of this.repeats) {
      if (!all && now - r.windowStart < this.repeatWindowMs) continue;
      this.repeats.delete(kind);
      this.summarize(r, now);
    }
    if (this.repeats.size === 0 && this.repeatTimer !== undefined) {
      clearInterval(this.repeatTimer);
      this.repeatTimer = undefined;
    }
  }

  /** close writes the pending repeat counts and closes the file. */
  close(): Promise<void> {
    this.flushRepeats(true);
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeSync(fd);
    return Promise.resolve();
  }

  /**
   * admit applies the repeat limit: true if the line is to be written. A kind whose window has
   * passed starts a new one, after its count so far is written.
   */
  private admit(level: LogLevel, msg: string, fields: Record<string, unknown>, now: number) {
    let kind = logKind(level, msg);
    let r = this.repeats.get(kind);
    if (r === undefined && this.repeats.size >= MAX_REPEAT_KINDS) {
      this.flushRepeats();
      if (this.repeats.size >= MAX_REPEAT_KINDS) {
        kind = `${level} (other kinds)`;
        r = this.repeats.get(kind);
      }
    }
    if (r !== undefined && now - r.windowStart >= this.repeatWindowMs) {
      this.repeats.delete(kind);
      this.summarize(r, now);
      r = undefined;
    }
    if (r === undefined) {
      r = { windowStart: now, written: 0, suppressed: 0, last: undefined };
      this.repeats.set(kind, r);
      if (this.repeatTimer === undefined) {
        this.repeatTimer = setInterval(() => this.flushRepeats(), this.repeatWindowMs);
        this.repeatTimer.unref();
      }
    }
    if (r.written < this.repeatLimit) {
      r.written += 1;
      return true;
    }
    r.suppressed += 1;
    this.suppressed += 1;
    r.last = { t: now, level, msg, ...fields };
    return false;
  }

  private summarize(r: Repeats, now: number): void {
    if (r.suppressed === 0 || r.last === undefined) return;
    const { t: _t, level, msg, ...fields } = r.last;
    const n = r.suppressed.toLocaleString('en-US');
    this.write({
      ...fields,
      t: now,
      level,
      msg: `…repeated ${n} times: ${msg}`,
      ...this.base,
      repeated: r.suppressed,
      windowMs: now - r.windowStart,
    });
  }

  private write(line: LogLine): void {
    this.seq++;
    this.ring.push(line);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
    const text = `${JSON.stringify(line, replacer)}\n`;
    if (this.fd !== undefined) this.append(text);
    if (this.echo) process.stderr.write(text);
  }

  private append(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    try {
      const full = this.size > 0 && this.size + bytes.length > this.maxFileBytes;
      if (this.maxFileBytes > 0 && full && !this.rotationFailed) this.rotate();
      if (this.fd === undefined) return;
      writeSync(this.fd, bytes);
      this.size += bytes.length;
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private open(): void {
    try {
      this.fd = openSync(this.file!, 'a', 0o600);
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    if (!this.failed) process.stderr.write(`log file ${this.file}: ${e.message}\n`);
    this.failed = true;
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already reported
      }
    }
    this.fd = undefined;
  }

  /**
   * rotate closes the file, shifts the rotated ones, and starts a new file (see the class). If
   * the files cannot be renamed, that is reported once and the file simply grows from then on.
   */
  private rotate(): void {
    closeSync(this.fd!);
    this.fd = undefined;
    try {
      this.shiftFiles();
      this.rotations += 1;
    } catch (e) {
      process.stderr.write(`log file ${this.file}: cannot rotate: ${(e as Error).message}\n`);
      this.rotationFailed = true;
    }
    this.open();
  }

  private shiftFiles(): void {
    const file = this.file!;
    if (this.keepFiles === 0) {
      if (existsSync(file)) unlinkSync(file);
      return;
    }
    for (let i = this.keepFiles - 1; i >= 1; i--) {
      if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    }
    if (existsSync(file)) renameSync(file, `${file}.1`);
  }
}

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}

/**
 * readLogTail returns the last `n` lines of a log that JsonLog rotates: from `file`, then, when
 * it holds fewer, from `file.1`, `file.2` and so on, oldest line first. Only the end of each file
 * is read (enough for n lines of up to 2 KiB), so a large log costs no more than a small one.
 */
export function readLogTail(file: string, n: number): string[] {
  const lines: string[] = [];
  const budget = Math.max(64 * 1024, n * 2048);
  for (let i = 0; lines.length < n; i++) {
    const f = i === 0 ? file : `${file}.${i}`;
    if (!existsSync(f)) {
      if (i === 0) continue;
      break;
    }
    let text: string;
    let whole: boolean;
    try {
      const fd = openSync(f, 'r');
      try {
        const size = statSync(f).size;
        const len = Math.min(size, budget);
        const buf = Buffer.alloc(len);
        readSync(fd, buf, 0, len, size - len);
        text = buf.toString('utf8');
        whole = len === size;
      } finally {
        closeSync(fd);
      }
    } catch {
      break;
    }
    const got = text.split('\n').filter((l) => l.trim() !== '');
    // A file read from the middle starts with part of a line.
    if (!whole && !text.startsWith('\n')) got.shift();
    lines.unshift(...got.slice(-(n - lines.length)));
  }
  return lines.slice(-n);
}
