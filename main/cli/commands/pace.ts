/** pace: changes the demo pace of a running cluster (every node, now and for later starts). */
import { UsageError, type Command } from '../args';
import { runControl } from '../control-run';
import {
  CONTROL_EXIT,
  CONTROL_NOTE,
  controlDataOption,
  fastFailoverOption,
  paceFrom,
} from '../options';

export const paceCommand: Command = {
  name: 'pace',
  summary: 'slow a running cluster down for a demo, or bring it back to real time',
  usage: ['pace N [--fast-failover on|off] [--data DIR]'],
  description: `Sets the pace of every node: N times slower than real time (1 = real time, at most 100).
Ticks, heartbeats and election timeouts last N times longer and every message is held 10×N ms on
its way, so elections and messages can be followed; nodes started later join at the same pace.
Fast failover (followers campaign at once when their leader's process is gone, its port refusing
connections) is on at pace 1 and off when slowed down, unless --fast-failover says otherwise.

${CONTROL_NOTE}`,
  positionals: [{ name: 'N' }],
  options: [fastFailoverOption, controlDataOption],
  examples: ['raftdeck pace 20', 'raftdeck pace 5 --fast-failover on', 'raftdeck pace 1'],
  exitCodes: CONTROL_EXIT,
  run(args) {
    const raw = args.positionals[0]!;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 100)
      throw new UsageError(`N must be a whole number from 1 to 100, not ${JSON.stringify(raw)}`);
    const { fastFailover } = paceFrom(n, args.string('fast-failover'));
    return runControl(args, 'pace', { cmd: 'pace', args: { pace: n, fastFailover } }, false);
  },
};
