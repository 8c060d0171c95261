/**
 * fault: injects a fault into the running cluster through its control port: a process fault
 * (kill, stop, restart, pause, resume, isolate), a partition, a link rule (delay, drop), a slow
 * disk, or `clear`. Which options apply depends on the kind, checked here.
 */
import { UsageError, parseNodeId, type Command, type ParsedArgs } from '../args';
import type { ControlCommand } from '../control-protocol';
import { runControl } from '../control-run';
import { CONTROL_EXIT, CONTROL_NOTE, controlDataOption } from '../options';

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

/** readFault reads `fault KIND ...` into a control command. */
export function readFault(args: ParsedArgs): ControlCommand {
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

export const faultCommand: Command = {
  name: 'fault',
  summary: 'inject a fault (kill, pause, isolate, partition, delay, drop, slow disk)',
  usage: [
    'fault kill|stop|restart|pause|resume|isolate ID',
    'fault partition 1,2 3',
    'fault delay ID --to PEER --ms N [--jitter N]',
    'fault drop ID --to PEER --p 0.3',
    'fault slow-disk ID --ms N',
    'fault clear',
  ],
  description: `Injects a fault into the running cluster:
  kill ID       SIGKILL the node's process          stop ID      stop it gracefully
  restart ID    (re)start the node's process        pause ID     SIGSTOP (resume ID: SIGCONT)
  isolate ID    cut the node off from every peer
  partition G1 G2 ...   split into groups (comma-separated ids) that cannot talk across;
                        nodes in no group stand alone
  delay ID --to PEER --ms N [--jitter N]   delay what ID sends to PEER ('*' = every peer)
  drop ID --to PEER --p P                  drop what ID sends to PEER with probability P
  slow-disk ID --ms N   add N ms to every fsync of ID (0 restores it)
  clear         heal the network, restore disks, resume paused nodes
Link rules add up until \`raftdeck heal\`.

${CONTROL_NOTE}`,
  positionals: [{ name: 'KIND' }, { name: 'ARGS', optional: true, variadic: true }],
  options: [
    {
      name: 'to',
      type: 'string',
      value: 'PEER',
      help: 'the peer a delay or drop applies to (an id, or * for all)',
    },
    {
      name: 'ms',
      type: 'int',
      value: 'N',
      help: 'milliseconds of delay (delay) or per fsync (slow-disk)',
      min: 0,
      max: 600_000,
    },
    {
      name: 'jitter',
      type: 'int',
      value: 'N',
      help: 'random ± milliseconds added to a delay',
      min: 0,
      max: 600_000,
    },
    {
      name: 'p',
      type: 'number',
      value: 'P',
      help: 'probability of dropping a message, 0 to 1',
      min: 0,
      max: 1,
    },
    controlDataOption,
  ],
  examples: [
    'raftdeck fault kill 2',
    'raftdeck fault partition 1,2 3',
    'raftdeck fault delay 1 --to 2 --ms 200 --jitter 50',
  ],
  exitCodes: CONTROL_EXIT,
  run(args) {
    return runControl(args, 'fault', readFault(args), false);
  },
};
