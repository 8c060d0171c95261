/**
 * narration: how a node's own event reads in the cluster's event stream, as a table from event
 * type to the line (kind and words) it becomes. A type missing from the table, or a line that
 * returns undefined, is not narrated (e.g. 'faults', which the supervisor reports itself, and a
 * 'leader' event about another node).
 */
import type { EventKind } from '../contract/view';
import type { NodeEvent } from '../node/node-api';
import type { NodeId } from '../raft/types';

/** Line: one narrated line of the event stream. */
export interface Line {
  kind: EventKind;
  message: string;
}

type Narrator<T extends NodeEvent['type']> = (
  id: NodeId,
  e: Extract<NodeEvent, { type: T }>,
) => Line | undefined;

const line = (kind: EventKind, message: string): Line => ({ kind, message });

function describeChange(c: { type: string; node?: number }): string {
  return c.type === 'bootstrap' ? 'bootstrap' : `${c.type} ${c.node}`;
}

/** NARRATION: the line each node event type becomes. */
export const NARRATION: { [T in NodeEvent['type']]?: Narrator<T> } = {
  role: (id, e) => line('role', `node ${id} is ${e.role} in term ${e.term}`),
  leader: (id, e) =>
    e.leader === id ? line('leader', `node ${id} became leader of term ${e.term}`) : undefined,
  campaign: (id, e) =>
    line(
      'election',
      `node ${id} ${e.prevote ? 'asks for pre-votes' : 'campaigns'} for term ${e.term}${e.transfer ? ' (leadership transfer)' : ''}`,
    ),
  vote: (id, e) =>
    line(
      'vote',
      `node ${id} ${e.granted ? 'granted' : 'refused'} ${e.prevote ? 'pre-vote' : 'vote'} to ${e.candidate} for term ${e.term}${e.granted ? '' : `: ${e.reason}`}`,
    ),
  'step-down': (id, e) => line('leader', `node ${id} stepped down in term ${e.term} (${e.reason})`),
  config: (id, e) =>
    line(
      'config',
      `node ${id} applies config at ${e.index}: ${describeChange(e.change)} → voters [${e.conf.voters.join(',')}] learners [${e.conf.learners.join(',')}]`,
    ),
  'snapshot-send': (id, e) =>
    line('snapshot', `node ${id} sends snapshot ${e.index} (${e.total} bytes) to ${e.to}`),
  'snapshot-retry': (id, e) =>
    line(
      'snapshot',
      `node ${id} resends snapshot ${e.index} to ${e.to} from byte ${e.offset} (retry ${e.retries})`,
    ),
  'snapshot-sent': (id, e) =>
    line(
      'snapshot',
      `node ${id} finished sending snapshot ${e.index} to ${e.to}: ${e.total} bytes in ${e.chunks} chunks, ${e.retries} retries`,
    ),
  'snapshot-installed': (id, e) =>
    line('snapshot', `node ${id} installed snapshot ${e.index} from ${e.from}`),
  compacted: (id, e) =>
    line('snapshot', `node ${id} took a snapshot at ${e.index} and compacted its log`),
  transfer: (id, e) => line('leader', `leadership transfer from ${id} to ${e.target}: ${e.status}`),
  removed: (id, e) =>
    line(
      'config',
      `node ${id} learnt that it was removed (configuration at ${e.index}); it shuts down`,
    ),
  refused: (id, e) =>
    line(
      'fault',
      e.message === 'campaign'
        ? `node ${id} did not campaign: ${e.reason}`
        : `node ${id} refused a ${e.message} from node ${e.from}: ${e.reason}`,
    ),
  'storage-warning': (id, e) => line('storage', `node ${id}: ${e.message}`),
  started: (id, e) =>
    line(
      'process',
      `node ${id} recovered ${e.recovered.entries} entries, snapshot ${e.recovered.snapshotIndex}${e.recovered.repairedTail ? ', repaired a torn WAL tail' : ''}`,
    ),
};

/** narrate: the line node `id`'s event becomes in the cluster's stream, if any. */
export function narrate(id: NodeId, e: NodeEvent): Line | undefined {
  const n = NARRATION[e.type] as Narrator<typeof e.type> | undefined;
  return n?.(id, e as never);
}
