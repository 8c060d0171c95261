/** heal: removes partitions, isolation and every link rule (slow disks and paused nodes stay). */
import type { Command } from '../args';
import { runControl } from '../control-run';
import { CONTROL_EXIT, CONTROL_NOTE, controlDataOption } from '../options';

export const healCommand: Command = {
  name: 'heal',
  summary: 'remove partitions, isolation and link rules',
  usage: ['heal [--data DIR]'],
  description: `Heals the network: removes partitions, isolation and every link rule (slow disks and paused nodes stay; \`raftdeck fault clear\` restores those too).\n\n${CONTROL_NOTE}`,
  positionals: [],
  options: [controlDataOption],
  examples: [],
  exitCodes: CONTROL_EXIT,
  run(args) {
    return runControl(args, 'heal', { cmd: 'heal', args: {} }, false);
  },
};
