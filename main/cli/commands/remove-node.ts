/** remove-node: the membership workflow that removes node ID, refused when it would lose quorum. */
import type { Command } from '../args';
import { runControl } from '../control-run';
import { CONTROL_NOTE, MEMBERSHIP_EXIT, controlDataOption } from '../options';

export const removeNodeCommand: Command = {
  name: 'remove-node',
  summary: 'remove a node (config committed → node exits → data removed)',
  usage: ['remove-node ID [--data DIR]'],
  description: `Removes node ID from the cluster and prints each step of the workflow as it happens. It refuses when removing the node would lose quorum.\n\n${CONTROL_NOTE}`,
  positionals: [{ name: 'ID', type: 'node-id' }],
  options: [controlDataOption],
  examples: [],
  exitCodes: MEMBERSHIP_EXIT,
  run(args) {
    const id = Number(args.positionals[0]);
    return runControl(args, 'remove-node', { cmd: 'remove-node', args: { id } }, true);
  },
};
