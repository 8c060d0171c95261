/**
 * commands: the registry of `raftdeck` commands. Each command lives in its own file here: its spec
 * (summary, usage, help text, options, positionals; plain data that main.ts reads for help and
 * parsing) beside its `run`. A command line loads only the file of the command it names (the
 * top-level help loads them all), and what a command needs only to run (the supervisor, the
 * clients, the checker, the scenarios) it imports inside `run`, so help and argument errors
 * answer without loading them. Nothing here imports main.ts, and no command imports this registry.
 */
import type { Command } from '../args';

/** FILES: every command's file, by the command's name, in the order help lists them. */
const FILES: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start')).startCommand,
  put: async () => (await import('./put')).putCommand,
  get: async () => (await import('./get')).getCommand,
  del: async () => (await import('./del')).delCommand,
  cas: async () => (await import('./cas')).casCommand,
  status: async () => (await import('./status')).statusCommand,
  limits: async () => (await import('./limits')).limitsCommand,
  'add-node': async () => (await import('./add-node')).addNodeCommand,
  'remove-node': async () => (await import('./remove-node')).removeNodeCommand,
  'replace-node': async () => (await import('./replace-node')).replaceNodeCommand,
  'transfer-leader': async () => (await import('./transfer-leader')).transferLeaderCommand,
  fault: async () => (await import('./fault')).faultCommand,
  heal: async () => (await import('./heal')).healCommand,
  pace: async () => (await import('./pace')).paceCommand,
  load: async () => (await import('./load')).loadCommand,
  check: async () => (await import('./check')).checkCommand,
  scenario: async () => (await import('./scenario')).scenarioCommand,
  serve: async () => (await import('./serve')).serveCommand,
  record: async () => (await import('./record')).recordCommand,
  replay: async () => (await import('./replay')).replayCommand,
  lab: async () => (await import('./lab')).labCommand,
  attach: async () => (await import('./attach')).attachCommand,
  app: async () => (await import('./app')).appCommand,
};

/** COMMAND_NAMES: the name of every command, in the order help lists them. */
export const COMMAND_NAMES: readonly string[] = Object.keys(FILES);

/** loadCommand loads the command called `name`, or resolves undefined if there is none. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(FILES, name) ? FILES[name]!() : undefined;
}

/** loadCommands loads every command, in the order help lists them. */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(COMMAND_NAMES.map((name) => FILES[name]!()));
}
