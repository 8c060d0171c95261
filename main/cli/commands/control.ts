/**
 * control: the commands that act on a running `raftdeck start` through its control port: faults,
 * heal, and the membership workflows (whose steps are printed as they happen).
 */
import { EXIT, UsageError, parseNodeId, type ParsedArgs } from '../args';
import { dataDir } from '../cluster-files';
import { controlCall } from '../control-client';
import type { ControlCommand, ControlStep } from '../control-protocol';

const PROCESS_FAULTS = ['kill', 'stop', 'restart', 'pause', 'resume', 'isolate'] as const;
const FAULT_KINDS = [...PROCESS_FAULTS, 'partition', 'delay', 'drop', 'slow-disk', 'clear'];

/** OPTION_KINDS: which fault kinds each option applies to. */
const OPTION_KINDS: Record<string, string[]> = {
  to: ['delay', 'drop'],
  ms: ['delay', 'slow-disk'],
  jitter: ['delay'],
  p: ['drop'],
};

function peer(raw: string | undefined, kind: string): number | '*' {
  if (raw === undefined) throw new UsageError(`fault ${kind} needs --to PEER`);
  return raw === '*' ? '*' : parseNodeId(raw, '--to');
}

/** faultCommand reads `fault KIND ...` into a control command. */
export function faultCommand(args: ParsedArgs): ControlCommand {
  const [kind, ...rest] = args.positionals;
  if (!FAULT_KINDS.includes(kind!))
    throw new UsageError(`unknown fault '${kind}' (one of ${FAULT_KINDS.join(', ')})`);
  for (const [option, kinds] of Object.entries(OPTION_KINDS)) {
    if (args.given.has(option) && !kinds.includes(kind!))
      throw new UsageError(`--${option} does not apply to fault ${kind}`);
  }
  const arity = (n: number, form: string): void => {
    if (rest.length < n)
      throw new UsageError(`missing ${form.split(' ')[n]} (usage: fault ${form})`);
    if (rest.length > n)
      throw new UsageError(`unexpected argument '${rest[n]}' (usage: fault ${form})`);
  };
  if ((PROCESS_FAULTS as readonly string[]).includes(kind!)) {
    arity(1, `${kind} ID`);
    return { cmd: kind as (typeof PROCESS_FAULTS)[number], args: { id: parseNodeId(rest[0]) } };
  }
  switch (kind) {
    case 'partition': {
      if (rest.length === 0) throw new UsageError('missing groups (usage: fault partition 1,2 3)');
      const groups = rest.map((g) =>
        g
          .split(',')
          .filter((s) => s !== '')
          .map((s) => parseNodeId(s, 'a group member')),
      );
      const all = groups.flat();
      const twice = all.find((id, i) => all.indexOf(id) !== i);
      if (twice !== undefined) throw new UsageError(`node ${twice} is in two groups`);
      return { cmd: 'partition', args: { groups } };
    }
    case 'delay': {
      arity(1, 'delay ID --to PEER --ms N');
      const ms = args.number('ms');
      if (ms === undefined) throw new UsageError('fault delay needs --ms N');
      const jitter = args.number('jitter');
      return {
        cmd: 'link-rule',
        args: {
          id: parseNodeId(rest[0]),
          rule: {
            to: peer(args.string('to'), kind),
            delayMs: ms,
            ...(jitter ? { jitterMs: jitter } : {}),
          },
        },
      };
    }
    case 'drop': {
      arity(1, 'drop ID --to PEER --p P');
      const p = args.number('p');
      if (p === undefined)
        throw new UsageError('fault drop needs --p P (a probability from 0 to 1)');
      return {
        cmd: 'link-rule',
        args: { id: parseNodeId(rest[0]), rule: { to: peer(args.string('to'), kind), drop: p } },
      };
    }
    case 'slow-disk': {
      arity(1, 'slow-disk ID --ms N');
      const ms = args.number('ms');
      if (ms === undefined)
        throw new UsageError('fault slow-disk needs --ms N (0 restores the disk)');
      return { cmd: 'slow-disk', args: { id: parseNodeId(rest[0]), ms } };
    }
    default:
      arity(0, 'clear');
      return { cmd: 'clear-faults', args: {} };
  }
}

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

export async function run(args: ParsedArgs, name: string): Promise<number> {
  let command: ControlCommand;
  switch (name) {
    case 'add-node':
      command = { cmd: 'add-node', args: {} };
      break;
    case 'remove-node':
      command = { cmd: 'remove-node', args: { id: parseNodeId(args.positionals[0]) } };
      break;
    case 'replace-node':
      command = { cmd: 'replace-node', args: { id: parseNodeId(args.positionals[0]) } };
      break;
    case 'transfer-leader':
      command = { cmd: 'transfer-leader', args: { id: parseNodeId(args.positionals[0]) } };
      break;
    case 'heal':
      command = { cmd: 'heal', args: {} };
      break;
    default:
      command = faultCommand(args);
  }
  const workflow = ['add-node', 'remove-node', 'replace-node', 'transfer-leader'].includes(name);
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
