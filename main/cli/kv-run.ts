/** kv-run: how put, get, del and cas reach the cluster's client servers and say which node answered. */
import { KvError, UnknownOutcomeError, type KvOperation } from '../node/client';
import { CliError, EXIT, type ParsedArgs } from './args';
import { clientEndpoints, openKv, type Endpoints } from './cluster-files';

const dec = new TextDecoder();
const text = (v: Uint8Array | null): string | null => (v === null ? null : dec.decode(v));
const show = (v: string | null): string => (v === null ? 'absent' : JSON.stringify(v));

function who(ep: Endpoints, address: string): string {
  const id = ep.ids.get(address);
  return id === undefined ? address : `node ${id} at ${address}`;
}

/**
 * runKv carries out one key-value operation against the cluster (--endpoints, or the nodes listed
 * in DIR/cluster.json) and prints its result and the node that answered; it resolves with the
 * exit code (1 when a cas did not swap, 3 when a write's outcome is unknown).
 */
export async function runKv(op: KvOperation, args: ParsedArgs): Promise<number> {
  const ep = clientEndpoints(args);
  const json = args.flag('json');
  const client = await openKv(ep, args.number('timeout-ms'));
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
