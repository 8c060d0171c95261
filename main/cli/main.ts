import { readFileSync } from 'node:fs';
import { CliError, EXIT, UsageError, commandHelp, parseArgs } from './args';
import { loadCommand, loadCommands } from './commands';

/** version reads the package's version. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** usage is the top-level help: every command with its summary. */
export async function usage(): Promise<string> {
  const commands = await loadCommands();
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `raftdeck ${version()}: operations tool for a local Raft cluster of real node processes

Usage:
  raftdeck <command> [arguments] [options]
  raftdeck <command> --help
  raftdeck --help | --version

Commands:
${lines.join('\n')}

Most commands find the cluster in ./.raftdeck-data unless --data DIR says otherwise.
Exit codes: 0 ok, 1 failed, 2 bad arguments, 3 outcome unknown.
`;
}

/** oneLine keeps the first line of an error message (errors are reported in one line). */
function oneLine(message: string): string {
  const first = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return first.trim();
}

/**
 * main runs one command line and resolves with the exit code: 0 ok, 1 failed, 2 bad arguments,
 * 3 outcome unknown. Errors are printed to stderr as one line prefixed with the command.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(await usage());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = rest[0] === undefined ? undefined : await loadCommand(rest[0]);
    if (rest[0] !== undefined && !topic) {
      process.stderr.write(`raftdeck: unknown command '${rest[0]}' (see raftdeck --help)\n`);
      return EXIT.usage;
    }
    process.stdout.write(topic ? commandHelp(topic) : await usage());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = await loadCommand(first);
  if (!command) {
    process.stderr.write(
      first.startsWith('-')
        ? `raftdeck: unknown option '${first}' (see raftdeck --help)\n`
        : `raftdeck: unknown command '${first}' (see raftdeck --help)\n`,
    );
    return EXIT.usage;
  }
  const name = command.name;
  try {
    const args = parseArgs(command, rest);
    if (args.help) {
      process.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(
        `raftdeck ${name}: ${oneLine(e.message)} (see raftdeck ${name} --help)\n`,
      );
      return EXIT.usage;
    }
    if (e instanceof CliError) {
      process.stderr.write(`raftdeck ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`raftdeck ${name}: ${err?.message ?? String(e)}\n`);
    return EXIT.failed;
  }
}
