/** get: reads a key through the leader (linearizable) and prints it and the node that answered. */
import type { Command } from '../args';
import { KV_EXIT, kvOptions } from '../options';

export const getCommand: Command = {
  name: 'get',
  summary: 'read a key (linearizable)',
  usage: ['get KEY [--endpoints HOST:PORT,... | --data DIR]'],
  description:
    'Reads KEY (a linearizable read through the leader) and prints its value and the node that answered.',
  positionals: [{ name: 'KEY' }],
  options: kvOptions,
  examples: [],
  exitCodes: KV_EXIT,
  async run(args) {
    const { runKv } = await import('../kv-run');
    return runKv({ op: 'get', key: args.positionals[0]! }, args);
  },
};
