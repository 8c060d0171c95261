/**
 * args: the command line's own small parser. Every command declares its positionals and options
 * (CommandSpec); parseArgs checks a command's arguments against it and throws a UsageError (exit
 * code 2) with one line naming the first problem. Options are `--name value` or `--name=value`;
 * booleans take no value; `--` ends the options (so a value may start with a dash); `-h` is
 * `--help`.
 */

/** EXIT: the command line's exit codes. */
export const EXIT = {
  ok: 0,
  /** failed: the command ran and failed (cluster unreachable, not linearizable, workflow failed). */
  failed: 1,
  /** usage: bad arguments, or a bad input file. */
  usage: 2,
  /** unknown: the outcome is not known (a write that may or may not have happened, an undecided check). */
  unknown: 3,
} as const;

/** UsageError: the arguments are wrong; the message is one line saying how. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** CliError: the command ran and could not do its job; `exitCode` says how it ends. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** OptionType: how an option's value is read. */
export type OptionType = 'string' | 'int' | 'number' | 'boolean';

export type OptionValue = string | number | boolean;

/** OptionSpec declares one `--name` option. */
export interface OptionSpec {
  name: string;
  type: OptionType;
  /** value: the placeholder shown in help (`--nodes N`). */
  value?: string;
  help: string;
  default?: OptionValue;
  /** min and max bound numeric options (inclusive). */
  min?: number;
  max?: number;
}

/** PositionalSpec declares one positional argument. */
export interface PositionalSpec {
  name: string;
  optional?: boolean;
  /** variadic: takes every remaining positional (at least one unless optional). */
  variadic?: boolean;
}

/** CommandSpec describes a command: what help prints and what parseArgs accepts. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** usage: forms of the command, each without the leading `raftdeck `. */
  usage: string[];
  description: string;
  positionals: PositionalSpec[];
  options: OptionSpec[];
  examples?: string[];
  /** exitCodes: one line per code, shown in help. */
  exitCodes?: string[];
}

/** ParsedArgs is a command's arguments after parseArgs, with defaults filled in. */
export class ParsedArgs {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, OptionValue>,
    /** given: the options given on the command line (not defaulted). */
    readonly given: ReadonlySet<string>,
    readonly help: boolean,
  ) {}

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : String(v);
  }

  number(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }

  flag(name: string): boolean {
    return this.values.get(name) === true;
  }
}

const INT = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i;

function readValue(spec: OptionSpec, raw: string): OptionValue {
  const where = `--${spec.name}`;
  if (spec.type === 'string') {
    if (raw === '') throw new UsageError(`${where} needs a value`);
    return raw;
  }
  let n: number;
  if (spec.type === 'int') {
    if (!INT.test(raw)) throw new UsageError(`${where} must be an integer, not '${raw}'`);
    n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new UsageError(`${where} is too large: ${raw}`);
  } else {
    if (!NUMBER.test(raw)) throw new UsageError(`${where} must be a number, not '${raw}'`);
    n = Number(raw);
  }
  if (spec.min !== undefined && n < spec.min)
    throw new UsageError(`${where} must be at least ${spec.min}, not ${raw}`);
  if (spec.max !== undefined && n > spec.max)
    throw new UsageError(`${where} must be at most ${spec.max}, not ${raw}`);
  return n;
}

/** parseArgs reads argv against the command's spec; it throws a UsageError. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const values = new Map<string, OptionValue>();
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  let optionsEnded = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (optionsEnded || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const o = byName.get(name);
    if (!o) throw new UsageError(`unknown option '--${name}'`);
    if (given.has(name)) throw new UsageError(`--${name} is given twice`);
    given.add(name);
    if (o.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values.set(name, true);
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      raw = argv[++i]!;
    }
    values.set(name, readValue(o, raw));
  }

  if (help) return new ParsedArgs(positionals, values, given, true);

  for (const o of spec.options) {
    if (!values.has(o.name) && o.default !== undefined) values.set(o.name, o.default);
  }
  const required = spec.positionals.filter((p) => !p.optional);
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required[positionals.length]!.name}`);
  }
  const variadic = spec.positionals.some((p) => p.variadic);
  if (!variadic && positionals.length > spec.positionals.length) {
    const extra = positionals[spec.positionals.length]!;
    throw new UsageError(`unexpected argument '${extra}'`);
  }
  return new ParsedArgs(positionals, values, given, false);
}

/** parseNodeId reads a node id (a positive integer); `what` names it in the error. */
export function parseNodeId(raw: string | undefined, what = 'ID'): number {
  if (raw === undefined) throw new UsageError(`missing ${what}`);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`${what} must be a node id (a positive integer), not '${raw}'`);
  return Number(raw);
}

/** parseAddress checks "host:port" and returns it; only loopback hosts are accepted. */
export function parseAddress(raw: string, what: string): string {
  const m = /^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/.exec(raw.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new UsageError(`${what}: '${raw}' is not a loopback host:port (e.g. 127.0.0.1:9001)`);
  return `${m[1] === 'localhost' ? '127.0.0.1' : m[1]}:${Number(m[2])}`;
}

function optionLine(o: OptionSpec): [string, string] {
  const left = `--${o.name}${o.type === 'boolean' ? '' : ` ${o.value ?? 'VALUE'}`}`;
  const def =
    o.default !== undefined && o.type !== 'boolean' ? ` (default ${String(o.default)})` : '';
  return [left, `${o.help}${def}`];
}

/** commandHelp renders a command's --help text. */
export function commandHelp(spec: CommandSpec): string {
  const out: string[] = [];
  out.push('Usage:');
  for (const u of spec.usage) out.push(`  raftdeck ${u}`);
  out.push('', spec.description.trim(), '');
  const rows = [...spec.options.map(optionLine), ['-h, --help', 'show this help'] as const];
  const width = Math.max(...rows.map(([l]) => l.length));
  out.push('Options:');
  for (const [l, r] of rows) out.push(`  ${l.padEnd(width)}  ${r}`);
  if (spec.examples?.length) {
    out.push('', 'Examples:');
    for (const e of spec.examples) out.push(`  ${e}`);
  }
  if (spec.exitCodes?.length) {
    out.push('', 'Exit codes:');
    for (const e of spec.exitCodes) out.push(`  ${e}`);
  }
  return `${out.join('\n')}\n`;
}
