/** put: writes a key and prints the previous value and the node that answered. */
import type { Command } from '../args';
import { KV_EXIT, kvOptions } from '../options';

export const putCommand: Command = {
  name: 'put',
  summary: 'write a key',
  usage: ['put KEY VALUE [--endpoints HOST:PORT,... | --data DIR]'],
  description: 'Writes VALUE under KEY and prints the previous value and the node that answered.',
  positionals: [{ name: 'KEY' }, { name: 'VALUE' }],
  options: kvOptions,
  examples: [
    'raftdeck put greeting hello',
    'raftdeck put k v --endpoints 127.0.0.1:21001,127.0.0.1:21002',
  ],
  exitCodes: KV_EXIT,
  async run(args) {
    const { runKv } = await import('../kv-run');
    const [key, value] = args.positionals;
    return runKv({ op: 'put', key: key!, value: value! }, args);
  },
};
