/**
 * replace-node: removes node ID (and its data folder), then adds a fresh node with the next id:
 * the way back for a node whose data folder is gone.
 */
import type { Command } from '../args';
import { runControl } from '../control-run';
import { CONTROL_NOTE, MEMBERSHIP_EXIT, controlDataOption } from '../options';

export const replaceNodeCommand: Command = {
  name: 'replace-node',
  summary: 'replace a node by a fresh one (remove it, then add a node with a new id and folder)',
  usage: ['replace-node ID [--data DIR]'],
  description: `Replaces node ID by a fresh node and prints each step as it happens: node ID is removed from
the configuration (refused when that would lose quorum), stopped if it runs, and its data folder
removed; then a new node, with the next id and its own folder, is spawned empty, added as a
learner, caught up and promoted (a learner is replaced by a learner).

This is the way back for a node whose data folder is gone, which the cluster refuses to start
again: an empty node under its old id could help elect a leader that lacks committed entries.

${CONTROL_NOTE}`,
  positionals: [{ name: 'ID', type: 'node-id' }],
  options: [controlDataOption],
  examples: ['raftdeck replace-node 2'],
  exitCodes: MEMBERSHIP_EXIT,
  run(args) {
    const id = Number(args.positionals[0]);
    return runControl(args, 'replace-node', { cmd: 'replace-node', args: { id } }, true);
  },
};
