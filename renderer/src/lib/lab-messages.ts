/**
 * lab-messages: how the lab's controls read and draw what is on its simulated network: a
 * message's details in words, virtual time as "t = 12.345 s", a broken invariant as one
 * sentence, and where a message in flight is along its link at a virtual instant. Pure
 * functions; the caller's clocks are passed in.
 */
import type { LabFailure, LabMessageView } from '../../../main/contract/view';

/** formatVirtual: virtual ms as "t = 12.345 s". */
export function formatVirtual(ms: number): string {
  return `t = ${(Math.max(0, ms) / 1000).toFixed(3)} s`;
}

/** lastLog: " (last log 12, term 3)" style words for a request's log position. */
function lastLog(m: LabMessageView): string {
  return m.index !== undefined
    ? `last log ${m.index}${m.logTerm !== undefined ? ` (term ${m.logTerm})` : ''}`
    : '';
}

function withCommit(text: string, m: LabMessageView): string {
  return m.commit !== undefined ? `${text}, commit ${m.commit}` : text;
}

/**
 * messageWords: what a message says, in words: "vote request, last log 12 (term 3)", "append
 * 13–15 (term 3), commit 12", "heartbeat, commit 12", "vote granted", "append rejected, hint 9",
 * "snapshot chunk 0–4096 of 8192". The sender, receiver and term are shown beside it.
 */
export function messageWords(m: LabMessageView): string {
  switch (m.type) {
    case 'vote':
    case 'pre-vote': {
      const what = m.type === 'vote' ? 'vote request' : 'pre-vote request';
      const log = lastLog(m);
      return log ? `${what}, ${log}` : what;
    }
    case 'vote-resp':
      return m.reject ? 'vote refused' : 'vote granted';
    case 'pre-vote-resp':
      return m.reject ? 'pre-vote refused' : 'pre-vote granted';
    case 'app': {
      const n = m.entries ?? 0;
      const prev = m.index ?? 0;
      const span = n === 0 ? '' : n === 1 ? ` ${prev + 1}` : ` ${prev + 1}–${prev + n}`;
      const base =
        n === 0
          ? `append (no entries) after ${prev}${m.logTerm !== undefined ? ` (term ${m.logTerm})` : ''}`
          : `append${span}${m.logTerm !== undefined ? ` (term ${m.logTerm})` : ''}`;
      return withCommit(base, m);
    }
    case 'app-resp':
      if (m.reject) return `append rejected${m.hint !== undefined ? `, hint ${m.hint}` : ''}`;
      return `append accepted${m.index !== undefined ? `, up to ${m.index}` : ''}`;
    case 'heartbeat':
      return withCommit('heartbeat', m);
    case 'heartbeat-resp':
      return 'heartbeat answer';
    case 'snap': {
      const off = m.snapOffset ?? 0;
      const total = m.snapTotal;
      const head = `snapshot chunk at ${off}${total !== undefined ? ` of ${total} bytes` : ''}`;
      const of = m.index !== undefined ? ` (image ${m.index})` : '';
      return `${head}${of}${m.done ? ', last' : ''}`;
    }
    case 'snap-resp':
      if (m.reject) return `snapshot gap, resend from ${m.snapOffset ?? 0}`;
      return m.done ? 'snapshot installed' : `snapshot acknowledged up to ${m.snapOffset ?? 0}`;
    case 'timeout-now':
      return 'timeout now: campaign at once';
    case 'read-index':
      return 'read index request';
    case 'read-index-resp':
      return m.reject
        ? 'read index refused'
        : `read index${m.index !== undefined ? ` ${m.index}` : ''}`;
    default:
      return m.type;
  }
}

/** SHORT_TYPE: the short label drawn beside a message's dot. */
const SHORT_TYPE: Record<string, string> = {
  app: 'append',
  'app-resp': 'append ok',
  heartbeat: 'heartbeat',
  'heartbeat-resp': 'hb ok',
  vote: 'vote?',
  'vote-resp': 'vote',
  'pre-vote': 'pre-vote?',
  'pre-vote-resp': 'pre-vote',
  snap: 'snapshot',
  'snap-resp': 'snapshot ok',
  'timeout-now': 'timeout now',
  'read-index': 'read index',
  'read-index-resp': 'read index',
};

/** shortLabel: the label beside a message's dot: its type, and ✓/✗ for an answer. */
export function shortLabel(m: LabMessageView): string {
  if (m.type === 'vote-resp' || m.type === 'pre-vote-resp')
    return `${SHORT_TYPE[m.type]} ${m.reject ? '✗' : '✓'}`;
  if (m.type === 'app-resp' && m.reject) return 'append ✗';
  return SHORT_TYPE[m.type] ?? m.type;
}

/** failureText: "Invariant broken at step 1234 (t = 5.210 s): election safety — nodes 2, 3: …". */
export function failureText(f: LabFailure): string {
  const nodes = f.nodes.length
    ? ` — ${f.nodes.length === 1 ? 'node' : 'nodes'} ${f.nodes.join(', ')}`
    : '';
  return `Invariant broken at step ${f.step} (${formatVirtual(f.at)}): ${f.invariant}${nodes}: ${f.text}`;
}

/**
 * virtualNow: the lab's virtual instant `sinceView` real ms after its view arrived, when virtual
 * time runs at `rate` virtual ms per real ms (the lab's speed while it plays, 0 while paused):
 * the view's `now`, moved on by that.
 */
export function virtualNow(viewNow: number, rate: number, sinceView: number): number {
  return viewNow + Math.max(0, sinceView) * Math.max(0, rate);
}

/**
 * flightFraction: how far along its link a message is at virtual instant `now`:
 * (now − sentAt) / (deliverAt − sentAt), kept within [0, 1] (a message due now, or sent and
 * delivered at the same instant, stands at its receiver's end).
 */
export function flightFraction(m: Pick<LabMessageView, 'sentAt' | 'deliverAt'>, now: number) {
  const span = m.deliverAt - m.sentAt;
  if (span <= 0) return now >= m.deliverAt ? 1 : 0;
  return Math.min(1, Math.max(0, (now - m.sentAt) / span));
}

/** arrivesIn: "arrives in 120 ms" / "due now" at virtual instant `now`. */
export function arrivesIn(m: Pick<LabMessageView, 'deliverAt'>, now: number): string {
  const ms = Math.round(m.deliverAt - now);
  return ms <= 0 ? 'due now' : `arrives in ${ms} ms`;
}
