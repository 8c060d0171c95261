/**
 * control-run: how the commands that act on a running `raftdeck start` reach its control port
 * (DIR/control.json), print the steps of a workflow as they happen, and end.
 */
import { EXIT, type ParsedArgs } from './args';
import { dataDir } from './cluster-files';
import { controlCall } from './control-client';
import type { ControlCommand, ControlStep } from './control-protocol';

const MARK: Record<ControlStep['state'], string> = {
  pending: ' ',
  active: '…',
  done: '✓',
  failed: '✗',
  skipped: '-',
  unknown: '?',
};

/** stepPrinter prints each step when its state changes, and its progress at most once a second. */
function stepPrinter(): (s: ControlStep) => void {
  const last = new Map<number, { state: string; at: number }>();
  return (s) => {
    const prev = last.get(s.index);
    const now = Date.now();
    if (prev && prev.state === s.state && now - prev.at < 1000) return;
    last.set(s.index, { state: s.state, at: now });
    const pct =
      s.state === 'active' && s.progress !== null ? ` ${Math.round(s.progress * 100)}%` : '';
    const detail = s.detail ? `: ${s.detail}` : '';
    process.stdout.write(`  ${MARK[s.state]} ${s.name}${pct}${detail}\n`);
  };
}

/**
 * runControl sends `command` to the control port of the cluster in --data and prints its steps
 * and its result; `name` is the command line's command, `workflow` whether it is a membership
 * workflow (whose failure the printed steps already explain). Resolves with the exit code: 3 when
 * a change was made but is not known to have taken effect.
 */
export async function runControl(
  args: ParsedArgs,
  name: string,
  command: ControlCommand,
  workflow: boolean,
): Promise<number> {
  let headed = false;
  const printStep = stepPrinter();
  const result = await controlCall(dataDir(args), command, (s) => {
    if (!headed) {
      headed = true;
      process.stdout.write(`${s.kind} ${s.node}:\n`);
    }
    printStep(s);
  });
  if (result.ok) {
    process.stdout.write(`${result.message}\n`);
    return EXIT.ok;
  }
  if (result.unknown) {
    // Made, but not known to have taken effect: neither done nor failed (exit 3, like a write).
    process.stderr.write(`raftdeck ${name}: ${result.message}\n`);
    return EXIT.unknown;
  }
  process.stderr.write(
    `raftdeck ${name}: ${workflow && headed ? '' : 'failed: '}${result.message}\n`,
  );
  return EXIT.failed;
}
