import { MAX_RAFT_NUMBER } from './types';
import type { Entry, Message } from './types';

/** inBounds: n is an integer from 0 to MAX_RAFT_NUMBER (what every term, index and count must be). */
export function inBounds(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_RAFT_NUMBER;
}

function bad(field: string, n: number): string {
  return `${field} ${n} is not an integer from 0 to ${MAX_RAFT_NUMBER}`;
}

/**
 * checkEntries checks that `entries` can follow (prevIndex, prevTerm) in a message of term
 * `term`: consecutive indexes from prevIndex + 1, terms never decreasing, from prevTerm up to
 * `term`. A leader only ever sends such a batch; anything else would corrupt the log.
 */
function checkEntries(
  entries: Entry[],
  prevIndex: number,
  prevTerm: number,
  term: number,
): string | undefined {
  let last = prevTerm;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    if (e.index !== prevIndex + 1 + k) {
      return `entry ${k} has index ${e.index}, expected ${prevIndex + 1 + k}`;
    }
    if (!inBounds(e.term)) return bad(`entry ${e.index}: term`, e.term);
    if (e.term < last || e.term > term) {
      return `entry ${e.index} has term ${e.term}, outside [${last}, ${term}]`;
    }
    last = e.term;
  }
  if (prevIndex + entries.length > MAX_RAFT_NUMBER) {
    return bad('last entry index', prevIndex + entries.length);
  }
  return undefined;
}

/**
 * checkMessage returns why a message must be refused, or undefined if it may be stepped. Every
 * number in it must be an integer from 0 to MAX_RAFT_NUMBER (so that no term or index a node
 * adopts is beyond what it can increment exactly), and a term it reports for an entry can be no
 * later than the message's own term. The transport's codec checks the same on the wire; the core
 * checks again because it must be safe with any host.
 */
export function checkMessage(m: Message): string | undefined {
  if (!inBounds(m.term)) return bad('term', m.term);
  if (!inBounds(m.from) || !inBounds(m.to)) return bad('node id', inBounds(m.from) ? m.to : m.from);
  switch (m.type) {
    case 'app':
      if (!inBounds(m.prevIndex)) return bad('prevIndex', m.prevIndex);
      if (!inBounds(m.prevTerm)) return bad('prevTerm', m.prevTerm);
      if (m.prevTerm > m.term) return `prevTerm ${m.prevTerm} is later than term ${m.term}`;
      if (!inBounds(m.commit)) return bad('commit', m.commit);
      return checkEntries(m.entries, m.prevIndex, m.prevTerm, m.term);
    case 'app-resp':
      if (!inBounds(m.index)) return bad('index', m.index);
      if (!inBounds(m.hintIndex)) return bad('hintIndex', m.hintIndex);
      if (!inBounds(m.hintTerm)) return bad('hintTerm', m.hintTerm);
      if (m.hintTerm > m.term) return `hintTerm ${m.hintTerm} is later than term ${m.term}`;
      return undefined;
    case 'vote':
    case 'pre-vote':
      if (!inBounds(m.lastIndex)) return bad('lastIndex', m.lastIndex);
      if (!inBounds(m.lastTerm)) return bad('lastTerm', m.lastTerm);
      if (m.lastTerm > m.term) return `lastTerm ${m.lastTerm} is later than term ${m.term}`;
      return undefined;
    case 'heartbeat':
      if (!inBounds(m.commit)) return bad('commit', m.commit);
      return inBounds(m.readSeq) ? undefined : bad('readSeq', m.readSeq);
    case 'heartbeat-resp':
      return inBounds(m.readSeq) ? undefined : bad('readSeq', m.readSeq);
    case 'snap':
      if (!inBounds(m.meta.index)) return bad('snapshot index', m.meta.index);
      if (!inBounds(m.meta.term)) return bad('snapshot term', m.meta.term);
      if (m.meta.term > m.term) return `snapshot term ${m.meta.term} is later than term ${m.term}`;
      if (!inBounds(m.offset)) return bad('offset', m.offset);
      return inBounds(m.total) ? undefined : bad('total', m.total);
    case 'snap-resp':
      if (!inBounds(m.snapIndex)) return bad('snapIndex', m.snapIndex);
      return inBounds(m.nextOffset) ? undefined : bad('nextOffset', m.nextOffset);
    case 'read-index':
      return inBounds(m.ctx) ? undefined : bad('ctx', m.ctx);
    case 'read-index-resp':
      if (!inBounds(m.ctx)) return bad('ctx', m.ctx);
      return inBounds(m.index) ? undefined : bad('index', m.index);
    case 'vote-resp':
    case 'pre-vote-resp':
    case 'timeout-now':
      return undefined;
  }
}
