#!/usr/bin/env node
// raftdeck command line. Commands (start, put/get, bench, scenario, serve) arrive with the
// cluster supervisor; for now it only knows --help and --version.

const VERSION = '0.1.0';

const USAGE = `raftdeck ${VERSION}: operations dashboard for a local Raft cluster

Usage:
  raftdeck <command> [options]
  raftdeck --help | --version

No commands yet: commands arrive with the cluster supervisor.
`;

const [command] = process.argv.slice(2);

if (command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
} else if (command === '--version' || command === '-v') {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
} else if (command === undefined) {
  process.stderr.write(USAGE);
  process.exit(2);
} else {
  process.stderr.write(`raftdeck: unknown command '${command}'\n\n${USAGE}`);
  process.exit(2);
}
