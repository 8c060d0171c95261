/** del: deletes a key and prints what it held and the node that answered. */
import type { Command } from '../args';
import { KV_EXIT, kvOptions } from '../options';

export const delCommand: Command = {
  name: 'del',
  summary: 'delete a key',
  usage: ['del KEY [--endpoints HOST:PORT,... | --data DIR]'],
  description: 'Deletes KEY and prints what it held and the node that answered.',
  positionals: [{ name: 'KEY' }],
  options: kvOptions,
  examples: [],
  exitCodes: KV_EXIT,
  async run(args) {
    const { runKv } = await import('../kv-run');
    return runKv({ op: 'del', key: args.positionals[0]! }, args);
  },
};
