/**
 * cas: compare-and-set. `cas KEY OLD NEW` sets KEY to NEW only if it holds OLD; OLD '-', or
 * `cas KEY --absent NEW`, means the key must be absent. Exit 1 when the key did not hold OLD.
 */
import { UsageError, type Command } from '../args';
import { KV_EXIT, kvOptions } from '../options';

export const casCommand: Command = {
  name: 'cas',
  summary: 'compare-and-set a key',
  usage: [
    'cas KEY OLD NEW [--endpoints HOST:PORT,... | --data DIR]',
    'cas KEY --absent NEW',
    'cas KEY - NEW',
  ],
  description:
    "Sets KEY to NEW only if it holds OLD. OLD '-' or --absent means the key must be absent.",
  positionals: [{ name: 'KEY' }, { name: 'OLD' }, { name: 'NEW', optional: true }],
  options: [
    { name: 'absent', type: 'boolean', help: 'swap only if KEY is absent (then give KEY NEW)' },
    ...kvOptions,
  ],
  examples: ['raftdeck cas counter 1 2', 'raftdeck cas lock --absent me'],
  exitCodes: [
    KV_EXIT[0]!,
    '1  failed, or the key did not hold OLD (not swapped)',
    ...KV_EXIT.slice(2),
  ],
  async run(args) {
    const { runKv } = await import('../kv-run');
    const [key, a, b] = args.positionals;
    if (args.flag('absent')) {
      // With --absent the second positional is NEW: there is no OLD to give.
      if (args.positionals.length > 2)
        throw new UsageError(
          `unexpected argument '${args.positionals[2]}' (usage: cas KEY --absent NEW)`,
        );
      return runKv({ op: 'cas', key: key!, expected: null, value: a! }, args);
    }
    if (b === undefined) throw new UsageError('missing NEW (usage: cas KEY OLD NEW)');
    return runKv({ op: 'cas', key: key!, expected: a === '-' ? null : a!, value: b }, args);
  },
};
