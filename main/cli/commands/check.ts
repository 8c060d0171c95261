/** check: a recorded history (raftdeck JSON or a Jepsen register log) against the checker. */
import { readFileSync } from 'node:fs';
import { HistoryError, historyFromJson, type Operation } from '../../cluster/checker/history';
import { JepsenParseError, parseJepsenLog } from '../../cluster/checker/jepsen';
import { check } from '../../cluster/checker/porcupine';
import { CliError, EXIT, UsageError, type ParsedArgs } from '../args';
import { verdictCode, verdictJson, verdictText } from '../verdict';

/** readHistory parses the file; a bad file is a CliError with exit code 2 naming the line/field. */
function readHistory(file: string, format: string | undefined, key: string): Operation[] {
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

export async function run(args: ParsedArgs): Promise<number> {
  const format = args.string('format');
  if (format !== undefined && format !== 'json' && format !== 'jepsen')
    throw new UsageError(`--format must be json or jepsen, not '${format}'`);
  const file = args.positionals[0]!;
  const ops = readHistory(file, format, args.string('key')!);
  const r = check(ops, { timeoutMs: args.number('timeout-ms') });
  if (args.flag('json'))
    process.stdout.write(`${JSON.stringify({ file, ...verdictJson(r, ops.length) })}\n`);
  else process.stdout.write(`${file}: ${verdictText(r, ops.length)}`);
  return verdictCode(r);
}
