/**
 * message-rows: what the message inspector says about each Raft message: which ones change a
 * node's role or term (highlighted), and how a row's fields read. Pure functions over traces.
 */
import type { MessageTrace } from '../../../main/contract/view';

/**
 * Significance: why a message is highlighted.
 * - 'new-term': the first message in the list with a term higher than every message before it
 *   (pre-votes do not count: they carry the term their sender would take, not one it has);
 *   whoever receives it with a lower term steps down to follower in that term.
 * - 'vote-granted' / 'vote-refused': an answer to a vote request (enough grants make a leader).
 * - 'pre-vote-granted' / 'pre-vote-refused': an answer to a pre-vote (enough grants start a real
 *   election).
 * - 'rejected': an append the follower refused (its log does not match); `hint` is where the
 *   leader should retry.
 * - 'timeout-now': a leader hands over: the receiver campaigns at once.
 */
export type Significance =
  | 'new-term'
  | 'vote-granted'
  | 'vote-refused'
  | 'pre-vote-granted'
  | 'pre-vote-refused'
  | 'rejected'
  | 'timeout-now';

/** SIGNIFICANCE: the legend, in the order shown. */
export const SIGNIFICANCE: { id: Significance; label: string; text: string }[] = [
  {
    id: 'new-term',
    label: 'new term',
    text: 'first message of a higher term: receivers step down',
  },
  { id: 'vote-granted', label: 'vote granted', text: 'a vote for the candidate' },
  { id: 'vote-refused', label: 'vote refused', text: 'a vote denied' },
  { id: 'pre-vote-granted', label: 'pre-vote granted', text: 'would vote: the election may start' },
  { id: 'pre-vote-refused', label: 'pre-vote refused', text: 'would not vote' },
  { id: 'rejected', label: 'append rejected', text: 'logs differ: retry from the hint' },
  { id: 'timeout-now', label: 'timeout now', text: 'leadership handed over: campaign now' },
];

const PREVOTE = new Set(['pre-vote', 'pre-vote-resp']);

/**
 * significanceOf: the significance of each message of `list` (oldest first), by position; null
 * where a message changes nobody's role or term. A message's own kind (a vote answer, a
 * rejection) wins over being the first of a new term.
 */
export function significanceOf(list: readonly MessageTrace[]): (Significance | null)[] {
  let highest = 0;
  return list.map((m) => {
    let s: Significance | null = null;
    if (!PREVOTE.has(m.type)) {
      if (highest > 0 && m.term > highest) s = 'new-term';
      highest = Math.max(highest, m.term);
    }
    if (m.type === 'vote-resp') s = m.reject ? 'vote-refused' : 'vote-granted';
    else if (m.type === 'pre-vote-resp') s = m.reject ? 'pre-vote-refused' : 'pre-vote-granted';
    else if (m.type === 'app-resp' && m.reject) s = 'rejected';
    else if (m.type === 'timeout-now') s = 'timeout-now';
    return s;
  });
}

/** indexText: index and log term as "index/logTerm" ("" when the type has neither). */
export function indexText(m: MessageTrace): string {
  if (m.index === undefined) return '';
  return m.logTerm !== undefined ? `${m.index}/${m.logTerm}` : String(m.index);
}

/** answerText: a response's outcome: "ok", "reject" (with "hint N" for an append). */
export function answerText(m: MessageTrace): string {
  if (m.reject === undefined) return '';
  if (!m.reject) return 'ok';
  return m.hint !== undefined ? `reject · hint ${m.hint}` : 'reject';
}

/** toJsonLines: one JSON object per message, in the order given, each line ended by \n. */
export function toJsonLines(list: readonly MessageTrace[]): string {
  let out = '';
  for (const m of list) out += `${JSON.stringify(m)}\n`;
  return out;
}
