/**
 * record: what to do with a cluster's recording (`<DIR>/recording/`). `record export DIR FILE`
 * writes the whole recording into one file that `raftdeck replay FILE` opens anywhere; it works
 * while the cluster runs (each segment up to its last complete record).
 */
import { CliError, EXIT, UsageError, type Command, type ParsedArgs } from '../args';

const ACTIONS = ['export'];

async function run(args: ParsedArgs): Promise<number> {
  const [action, dir, file, ...extra] = args.positionals;
  if (!ACTIONS.includes(action!))
    throw new UsageError(`unknown record action '${action}' (one of ${ACTIONS.join(', ')})`);
  if (dir === undefined) throw new UsageError('missing DIR (usage: record export DIR FILE)');
  if (file === undefined) throw new UsageError('missing FILE (usage: record export DIR FILE)');
  if (extra.length > 0)
    throw new UsageError(`unexpected argument '${extra[0]}' (usage: record export DIR FILE)`);
  const { exportRecording } = await import('../../cluster/recording/recording-reader');
  let summary;
  try {
    summary = exportRecording(dir, file);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  for (const note of summary.notes) process.stderr.write(`note: ${note}\n`);
  process.stdout.write(`${summary.line}\n`);
  return EXIT.ok;
}

export const recordCommand: Command = {
  name: 'record',
  summary: "export a cluster's recording into one file (for replay elsewhere)",
  usage: ['record export DIR FILE'],
  description: `The supervisor records every cluster it runs into DIR/recording (views, events and sampled
Raft messages; bounded by --record-limit of start/serve, 256 MiB by default). \`record export DIR
FILE\` writes that whole recording into FILE, one file a person can attach to a bug report and
open with \`raftdeck replay FILE\` on any machine, with no cluster running. It works while the
cluster runs. FILE must not exist yet. The format is described in docs/recording.md.`,
  positionals: [{ name: 'ACTION' }, { name: 'ARGS', optional: true, variadic: true }],
  options: [],
  examples: ['raftdeck record export ./raftdeck-data bug-1234.rdrec'],
  exitCodes: ['0  written', '1  could not (the reason is printed)', '2  bad arguments'],
  run,
};
