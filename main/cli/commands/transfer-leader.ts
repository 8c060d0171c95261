/** transfer-leader: asks the leader to hand leadership to node ID, and waits until ID leads. */
import type { Command } from '../args';
import { runControl } from '../control-run';
import { CONTROL_EXIT, CONTROL_NOTE, controlDataOption } from '../options';

export const transferLeaderCommand: Command = {
  name: 'transfer-leader',
  summary: 'hand leadership to node ID',
  usage: ['transfer-leader ID [--data DIR]'],
  description: `Asks the leader to catch node ID up and hand leadership over, and waits until ID leads.\n\n${CONTROL_NOTE}`,
  positionals: [{ name: 'ID', type: 'node-id' }],
  options: [controlDataOption],
  examples: [],
  exitCodes: CONTROL_EXIT,
  run(args) {
    const id = Number(args.positionals[0]);
    return runControl(args, 'transfer-leader', { cmd: 'transfer-leader', args: { id } }, true);
  },
};
