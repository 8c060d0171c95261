/** add-node: the membership workflow that adds a node, its steps printed as they happen. */
import type { Command } from '../args';
import { runControl } from '../control-run';
import { CONTROL_NOTE, MEMBERSHIP_EXIT, controlDataOption } from '../options';

export const addNodeCommand: Command = {
  name: 'add-node',
  summary: 'add a node (spawn → learner → catch up → promote → committed)',
  usage: ['add-node [--data DIR]'],
  description: `Adds a new node to the cluster and prints each step of the workflow as it happens.\n\n${CONTROL_NOTE}`,
  positionals: [],
  options: [controlDataOption],
  examples: [],
  exitCodes: MEMBERSHIP_EXIT,
  run(args) {
    return runControl(args, 'add-node', { cmd: 'add-node', args: {} }, true);
  },
};
