/** kv: put, get, del and cas against the cluster's client servers, saying which node answered. */
import { KvClient, KvError, UnknownOutcomeError, type KvOperation } from '../../node/client';
import { CliError, EXIT, UsageError, type ParsedArgs } from '../args';
import { clientEndpoints, type Endpoints } from '../cluster-files';

const dec = new TextDecoder();
const text = (v: Uint8Array | null): string | null => (v === null ? null : dec.decode(v));
const show = (v: string | null): string => (v === null ? 'absent' : JSON.stringify(v));

/** operation reads the command's positionals into one key-value operation. */
function operation(name: string, args: ParsedArgs): KvOperation {
  const [key, a, b] = args.positionals;
  const arity = (n: number, form: string): void => {
    if (args.positionals.length > n)
      throw new UsageError(`unexpected argument '${args.positionals[n]}' (usage: ${form})`);
  };
  switch (name) {
    case 'put':
      return { op: 'put', key: key!, value: a! };
    case 'get':
      return { op: 'get', key: key! };
    case 'del':
      return { op: 'del', key: key! };
    case 'cas':
      if (args.flag('absent')) {
        arity(2, 'cas KEY --absent NEW');
        return { op: 'cas', key: key!, expected: null, value: a! };
      }
      if (b === undefined) throw new UsageError('missing NEW (usage: cas KEY OLD NEW)');
      return { op: 'cas', key: key!, expected: a === '-' ? null : a!, value: b };
    default:
      throw new UsageError(`unknown key-value command ${name}`);
  }
}

function who(ep: Endpoints, address: string): string {
  const id = ep.ids.get(address);
  return id === undefined ? address : `node ${id} at ${address}`;
}

export async function run(args: ParsedArgs, name: string): Promise<number> {
  const op = operation(name, args);
  const ep = clientEndpoints(args);
  const json = args.flag('json');
  const client = new KvClient({ endpoints: ep.addresses, timeoutMs: args.number('timeout-ms') });
  const started = performance.now();
  const label = `${op.op} ${JSON.stringify(op.key)}`;
  try {
    const r = await client.execute(op);
    const ms = Number((performance.now() - started).toFixed(1));
    const node = ep.ids.get(r.servedBy) ?? null;
    const base = { op: op.op, key: op.key, servedBy: r.servedBy, node, ms };
    const by = `[${who(ep, r.servedBy)}, ${ms} ms]`;
    let code: number = EXIT.ok;
    if (op.op === 'get') {
      const value = text(r.result as Uint8Array | null);
      if (json) process.stdout.write(`${JSON.stringify({ ...base, ok: true, value })}\n`);
      else process.stdout.write(`${label}: ${show(value)} ${by}\n`);
    } else if (op.op === 'cas') {
      const c = r.result as { ok: boolean; current?: Uint8Array | null };
      const current = c.ok ? null : text(c.current ?? null);
      if (!c.ok) code = EXIT.failed;
      if (json)
        process.stdout.write(
          `${JSON.stringify({ ...base, ok: c.ok, swapped: c.ok, ...(c.ok ? {} : { current }) })}\n`,
        );
      else
        process.stdout.write(
          c.ok
            ? `${label}: swapped ${show(op.expected === null ? null : String(op.expected))} → ${JSON.stringify(String(op.value))} ${by}\n`
            : `${label}: not swapped, the key holds ${show(current)} ${by}\n`,
        );
    } else {
      const prev = text((r.result as { prev: Uint8Array | null }).prev);
      if (json) process.stdout.write(`${JSON.stringify({ ...base, ok: true, prev })}\n`);
      else process.stdout.write(`${label}: ok, it held ${show(prev)} ${by}\n`);
    }
    return code;
  } catch (e) {
    if (e instanceof UnknownOutcomeError) {
      if (json)
        process.stdout.write(
          `${JSON.stringify({ op: op.op, key: op.key, ok: false, outcome: 'unknown', error: e.cause.message })}\n`,
        );
      else
        process.stdout.write(
          `${label}: outcome unknown, it may or may not have taken effect (${e.cause.message})\n`,
        );
      return EXIT.unknown;
    }
    if (e instanceof KvError) {
      const tried = e.code === 'unreachable' ? '' : ` (endpoints ${ep.addresses.join(', ')})`;
      throw new CliError(`${e.message}${tried}; addresses from ${ep.source}`);
    }
    throw e;
  } finally {
    await client.close();
  }
}
