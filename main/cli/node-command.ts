import { defaultNodeCommand, type NodeCommand } from '../cluster/node-command';

/**
 * cliNodeCommand is how the command line starts node processes: the supervisor's default, with
 * tsx given by its absolute location, so nodes start whatever folder `raftdeck` runs in.
 */
export function cliNodeCommand(): NodeCommand {
  const cmd = defaultNodeCommand();
  const i = cmd.args.indexOf('tsx');
  if (i > 0 && cmd.args[i - 1] === '--import') {
    const args = [...cmd.args];
    args[i] = import.meta.resolve('tsx');
    return { ...cmd, args };
  }
  return cmd;
}
