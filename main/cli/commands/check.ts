/** check: a recorded history (raftdeck JSON or a Jepsen register log) against the checker. */
import { readFileSync } from 'node:fs';
import type { Operation } from '../../cluster/checker/history';
import { CliError, EXIT, UsageError, type ParsedArgs, type Command } from '../args';
import { jsonOption, timeoutOption } from '../options';
import { verdictCode, verdictJson, verdictText } from '../verdict';

/** readHistory parses the file; a bad file is a CliError with exit code 2 naming the line/field. */
async function readHistory(
  file: string,
  format: string | undefined,
  key: string,
): Promise<Operation[]> {
  const [{ HistoryError, historyFromJson }, { JepsenParseError, parseJepsenLog }] =
    await Promise.all([
      import('../../cluster/checker/history'),
      import('../../cluster/checker/jepsen'),
    ]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      EXIT.usage,
    );
  }
  const kind = format ?? (text.trimStart().startsWith('{') ? 'json' : 'jepsen');
  try {
    if (kind === 'json') return historyFromJson(text);
    const ops = parseJepsenLog(text, { key });
    if (ops.length === 0)
      throw new CliError(
        `${file}: ${format ? 'no' : 'neither a raftdeck history (JSON) nor a Jepsen log: no'} jepsen.util events ("INFO jepsen.util - P :invoke :read nil")`,
        EXIT.usage,
      );
    return ops;
  } catch (e) {
    if (e instanceof HistoryError || e instanceof JepsenParseError)
      throw new CliError(`${file}: ${e.message}`, EXIT.usage);
    throw e;
  }
}

async function run(args: ParsedArgs): Promise<number> {
  const format = args.string('format');
  if (format !== undefined && format !== 'json' && format !== 'jepsen')
    throw new UsageError(`--format must be json or jepsen, not '${format}'`);
  const file = args.positionals[0]!;
  const ops = await readHistory(file, format, args.string('key')!);
  const { check } = await import('../../cluster/checker/porcupine');
  const r = check(ops, { timeoutMs: args.number('timeout-ms') });
  if (args.flag('json'))
    process.stdout.write(`${JSON.stringify({ file, ...verdictJson(r, ops.length) })}\n`);
  else process.stdout.write(`${file}: ${verdictText(r, ops.length)}`);
  return verdictCode(r);
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'check a recorded history for linearizability',
  usage: ['check FILE [--format json|jepsen] [--timeout-ms N]'],
  description: `Checks a history file with the Porcupine-style linearizability checker, key by key. FILE is a
raftdeck history (JSON, as \`raftdeck load --history\` writes it) or a Jepsen register test log
(\`INFO jepsen.util - P :invoke :read nil\` lines). Without --format the kind is detected from the
content. When the history is not linearizable it prints the key, the explanation and the failing
window.`,
  positionals: [{ name: 'FILE' }],
  options: [
    {
      name: 'format',
      type: 'string',
      value: 'json|jepsen',
      help: 'the file format (default: detect)',
    },
    {
      name: 'key',
      type: 'string',
      value: 'KEY',
      help: 'the key name for a Jepsen register',
      default: 'register',
    },
    timeoutOption(60_000, 'time allowed for the check'),
    jsonOption,
  ],
  examples: ['raftdeck check run.json', 'raftdeck check etcd_002.log --format jepsen'],
  exitCodes: [
    '0  linearizable',
    '1  not linearizable',
    '2  bad arguments or a bad file',
    '3  undecided in the time allowed',
  ],
  run,
};
