/**
 * args: how a command's arguments are read. Every command declares its positionals and options
 * (CommandSpec, beside its code in commands/<name>.ts); parseArgs reads the arguments with
 * node:util parseArgs and checks them against the spec, and throws a UsageError (exit code 2)
 * with one line naming the first problem. Options are `--name value` or `--name=value`; booleans
 * take no value; `--` ends the options (so a positional may start with a dash); `-h` is `--help`.
 */
import { parseArgs as utilParseArgs } from 'node:util';

/** DEFAULT_DATA_DIR: where a cluster lives unless --data says otherwise. */
export const DEFAULT_DATA_DIR = './.raftdeck-data';

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
  /**
   * refused: the option is never accepted, and this says why (a secret that must not be an
   * argument, say). It is refused in any form, with or without a value, before anything else.
   */
  refused?: string;
}

/** PositionalSpec declares one positional argument. */
export interface PositionalSpec {
  name: string;
  /** type: 'node-id' checks that the argument is a node id (a positive integer). */
  type?: 'node-id';
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

/**
 * Command is one `raftdeck` command, declared in its own file under commands/: its spec (what help
 * prints and parseArgs accepts) and `run`, which carries it out with the parsed arguments and
 * resolves with the exit code.
 */
export interface Command extends CommandSpec {
  run(args: ParsedArgs): Promise<number>;
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

/** readValue checks an option's raw value against its type and bounds. */
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

/** UtilOptions: options as node:util parseArgs declares them. */
type UtilOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** Token is one argument as node:util parseArgs reports it; `index` is its place in the args. */
type Token =
  | { kind: 'option'; name: string; rawName: string; index: number; value?: string }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

/** tokensOf runs node:util parseArgs over args, positionals allowed; strict mode throws. */
function tokensOf(options: UtilOptions, args: string[], strict: boolean): Token[] {
  return utilParseArgs({ args, options, strict, allowPositionals: true, tokens: true })
    .tokens as Token[];
}

/** utilOptions is the spec's options as node:util parseArgs declares them, with `-h, --help`. */
function utilOptions(spec: CommandSpec): UtilOptions {
  const options: UtilOptions = { help: { type: 'boolean', short: 'h' } };
  for (const o of spec.options)
    options[o.name] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  return options;
}

/**
 * joinDashValues writes `--name VALUE` as `--name=VALUE` when VALUE starts with a dash and the
 * option takes a value: such an option always takes the next argument (`--ms -5` is read, and
 * refused as below the minimum), where node:util would call it ambiguous.
 */
function joinDashValues(spec: CommandSpec, argv: readonly string[]): string[] {
  const takesValue = new Set(spec.options.filter((o) => o.type !== 'boolean').map((o) => o.name));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (arg.startsWith('--') && takesValue.has(arg.slice(2)) && next?.startsWith('-')) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** strictProblem names the first argument node:util's strict mode refused, in the house's words. */
function strictProblem(spec: CommandSpec, args: string[], e: Error): string {
  const declared = utilOptions(spec);
  for (const t of tokensOf(declared, args, false)) {
    if (t.kind !== 'option') continue;
    const o = declared[t.name];
    if (!o) return `unknown option '${t.rawName.startsWith('--') ? t.rawName : args[t.index]}'`;
    if (o.type === 'boolean' && t.value !== undefined) return `--${t.name} takes no value`;
    if (o.type === 'string' && t.value === undefined) return `--${t.name} needs a value`;
  }
  return e.message;
}

/**
 * parseArgs reads argv against the command's spec with node:util parseArgs (strict, positionals
 * allowed), then checks what the spec declares: option types and bounds first, then (unless help
 * was asked for) the positionals; it throws a UsageError naming the first problem.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  for (const o of spec.options) {
    if (o.refused === undefined) continue;
    const end = argv.indexOf('--');
    const opts = end < 0 ? argv : argv.slice(0, end);
    if (opts.some((a) => a === `--${o.name}` || a.startsWith(`--${o.name}=`))) {
      throw new UsageError(o.refused);
    }
  }
  const args = joinDashValues(spec, argv);
  let tokens: Token[];
  try {
    tokens = tokensOf(utilOptions(spec), args, true);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(strictProblem(spec, args, e as Error));
  }
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const values = new Map<string, OptionValue>();
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    if (t.name === 'help') {
      help = true;
      continue;
    }
    if (given.has(t.name)) throw new UsageError(`--${t.name} is given twice`);
    given.add(t.name);
    const o = byName.get(t.name)!;
    values.set(t.name, o.type === 'boolean' ? true : readValue(o, t.value ?? ''));
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
  spec.positionals.forEach((p, i) => {
    if (p.type === 'node-id' && positionals[i] !== undefined) parseNodeId(positionals[i], p.name);
  });
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
