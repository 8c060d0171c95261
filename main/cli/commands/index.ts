/**
 * commands: the registry of `raftdeck` commands. Each command lives in its own file here: its spec
 * (summary, usage, help text, options, positionals; plain data that main.ts reads for help and
 * parsing) beside its `run`. What a command needs only to run (the supervisor, the clients, the
 * checker, the scenarios) it imports inside `run`, so help and argument errors answer without
 * loading them. Nothing here imports main.ts, and no command imports this registry.
 */
import type { Command } from '../args';
import { addNodeCommand } from './add-node';
import { appCommand } from './app';
import { casCommand } from './cas';
import { checkCommand } from './check';
import { delCommand } from './del';
import { faultCommand } from './fault';
import { getCommand } from './get';
import { healCommand } from './heal';
import { limitsCommand } from './limits';
import { loadCommand } from './load';
import { putCommand } from './put';
import { removeNodeCommand } from './remove-node';
import { replaceNodeCommand } from './replace-node';
import { scenarioCommand } from './scenario';
import { serveCommand } from './serve';
import { startCommand } from './start';
import { statusCommand } from './status';
import { transferLeaderCommand } from './transfer-leader';

/** COMMANDS: every `raftdeck` command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  putCommand,
  getCommand,
  delCommand,
  casCommand,
  statusCommand,
  limitsCommand,
  addNodeCommand,
  removeNodeCommand,
  replaceNodeCommand,
  transferLeaderCommand,
  faultCommand,
  healCommand,
  loadCommand,
  checkCommand,
  scenarioCommand,
  serveCommand,
  appCommand,
];

/** findCommand returns the command called `name`, if there is one. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
