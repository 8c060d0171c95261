import { createWriteStream, type WriteStream } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** LogLine is one structured log record as written to the node's log file. */
export type LogLine = { t: number; level: LogLevel; msg: string } & Record<string, unknown>;

/**
 * JsonLog writes structured JSON lines to a file (append) and keeps the latest lines in memory
 * so the admin protocol can stream them. Writing never throws: a failing log file is reported once
 * on stderr and then ignored.
 */
export class JsonLog {
  private readonly ring: LogLine[] = [];
  private stream: WriteStream | undefined;
  private failed = false;
  /** seq counts lines ever logged; recentSince() uses it to return only new ones. */
  seq = 0;

  constructor(
    file: string | undefined,
    private readonly base: Record<string, unknown> = {},
    private readonly keep = 1000,
    private readonly echo = false,
  ) {
    if (file) {
      this.stream = createWriteStream(file, { flags: 'a' });
      this.stream.on('error', (e) => {
        if (!this.failed) process.stderr.write(`log file ${file}: ${e.message}\n`);
        this.failed = true;
      });
    }
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    const line: LogLine = { t: Date.now(), level, msg, ...this.base, ...fields };
    this.seq++;
    this.ring.push(line);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
    const text = `${JSON.stringify(line, replacer)}\n`;
    if (this.stream && !this.failed) this.stream.write(text);
    if (this.echo) process.stderr.write(text);
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

  /** close flushes the file; resolves when written. */
  close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.end(resolve));
  }
}

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}
