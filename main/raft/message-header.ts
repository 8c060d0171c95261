/**
 * message-header: what a Raft message says, without its payload: the fields a person reads to
 * follow a conversation between nodes (terms, indexes, commit, rejections, snapshot offsets). A
 * transport records these for the dashboard; entry payloads and snapshot bytes never go this way.
 */
import type { Message, MessageType, NodeId } from './types';

/**
 * MessageHeader: one message's header. Which optional fields are present depends on the type:
 * - app: index = prevIndex, logTerm = prevTerm, entries, entryBytes, commit;
 * - app-resp: index, reject, hint (= hintIndex) when rejected;
 * - vote, pre-vote: index = lastIndex, logTerm = lastTerm;
 * - vote-resp, pre-vote-resp, read-index-resp: reject (read-index-resp also index);
 * - heartbeat: commit;
 * - snap: index, logTerm (of the image), snapOffset, snapTotal, entryBytes (= chunk bytes), done;
 * - snap-resp: index (= snapIndex), snapOffset (= nextOffset), done, reject (= gap).
 */
export interface MessageHeader {
  from: NodeId;
  to: NodeId;
  type: MessageType;
  term: number;
  index?: number;
  logTerm?: number;
  entries?: number;
  entryBytes?: number;
  commit?: number;
  reject?: boolean;
  hint?: number;
  snapOffset?: number;
  snapTotal?: number;
  done?: boolean;
}

/**
 * MessageFate: what the transport did with a message: 'sent' (written to the peer's connection),
 * 'delayed' (held by the fault filter or the pace, then sent), 'dropped' (lost: by a fault rule,
 * a full queue or no connection), 'received' (read from a peer and handed to Raft).
 */
export type MessageFate = 'sent' | 'delayed' | 'dropped' | 'received';

/**
 * MessageTrace: a header as one node's transport saw it. `seq` increases by one per trace the node
 * records (so a reader sees how many it missed); `time` is the node's clock (ms since the epoch)
 * when it was sent or received; `delayMs` is how long it was held before sending (0 if not);
 * `bytes` is its encoded size on the wire.
 */
export interface MessageTrace extends MessageHeader {
  seq: number;
  time: number;
  dir: 'out' | 'in';
  fate: MessageFate;
  delayMs: number;
  bytes: number;
}

/** headerOf: the header of a message (see MessageHeader for which fields each type has). */
export function headerOf(m: Message): MessageHeader {
  const h: MessageHeader = { from: m.from, to: m.to, type: m.type, term: m.term };
  switch (m.type) {
    case 'app': {
      h.index = m.prevIndex;
      h.logTerm = m.prevTerm;
      h.entries = m.entries.length;
      let bytes = 0;
      for (const e of m.entries) bytes += e.data.length;
      h.entryBytes = bytes;
      h.commit = m.commit;
      break;
    }
    case 'app-resp':
      h.index = m.index;
      h.reject = m.reject;
      if (m.reject) h.hint = m.hintIndex;
      break;
    case 'vote':
    case 'pre-vote':
      h.index = m.lastIndex;
      h.logTerm = m.lastTerm;
      break;
    case 'vote-resp':
    case 'pre-vote-resp':
      h.reject = m.reject;
      break;
    case 'heartbeat':
      h.commit = m.commit;
      break;
    case 'snap':
      h.index = m.meta.index;
      h.logTerm = m.meta.term;
      h.snapOffset = m.offset;
      h.snapTotal = m.total;
      h.entryBytes = m.data.length;
      h.done = m.done;
      break;
    case 'snap-resp':
      h.index = m.snapIndex;
      h.snapOffset = m.nextOffset;
      h.done = m.done;
      h.reject = m.gap;
      break;
    case 'read-index-resp':
      h.index = m.index;
      h.reject = m.reject;
      break;
    case 'heartbeat-resp':
    case 'timeout-now':
    case 'read-index':
      break;
  }
  return h;
}
