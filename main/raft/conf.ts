import type { ConfChange, ConfEntry, ConfState, NodeId } from './types';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** encodeConfEntry serializes a conf entry payload (UTF-8 JSON, so any host can read it). */
export function encodeConfEntry(e: ConfEntry): Uint8Array {
  return encoder.encode(JSON.stringify(e));
}

/** decodeConfEntry parses a conf entry payload; it throws on anything that is not a well-formed ConfEntry. */
export function decodeConfEntry(data: Uint8Array): ConfEntry {
  const v = JSON.parse(decoder.decode(data)) as ConfEntry;
  if (!v || typeof v !== 'object' || !v.conf || !Array.isArray(v.conf.voters)) {
    throw new Error('malformed conf entry');
  }
  return v;
}

/** emptyConf is the configuration of a node that has not learnt one yet. */
export function emptyConf(): ConfState {
  return { voters: [], learners: [], addresses: {} };
}

export function isVoter(c: ConfState, id: NodeId): boolean {
  return c.voters.includes(id);
}

export function isLearner(c: ConfState, id: NodeId): boolean {
  return c.learners.includes(id);
}

export function isMember(c: ConfState, id: NodeId): boolean {
  return isVoter(c, id) || isLearner(c, id);
}

/** quorum is the size of a majority of n voters. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * applyChange returns the configuration after `cc`, or an error string if the change is not valid
 * against `c` (adding a member twice, promoting a non-learner, removing the last voter, ...).
 */
export function applyChange(c: ConfState, cc: ConfChange): ConfState | string {
  const voters = [...c.voters];
  const learners = [...c.learners];
  const addresses = { ...c.addresses };
  switch (cc.type) {
    case 'add-learner':
      if (!Number.isSafeInteger(cc.node) || cc.node <= 0) return `invalid node id ${cc.node}`;
      if (isMember(c, cc.node)) return `node ${cc.node} is already a member`;
      learners.push(cc.node);
      addresses[String(cc.node)] = cc.address;
      break;
    case 'promote':
      if (!isLearner(c, cc.node)) return `node ${cc.node} is not a learner`;
      learners.splice(learners.indexOf(cc.node), 1);
      voters.push(cc.node);
      break;
    case 'remove':
      if (!isMember(c, cc.node)) return `node ${cc.node} is not a member`;
      if (isVoter(c, cc.node)) {
        if (voters.length === 1) return `node ${cc.node} is the last voter`;
        voters.splice(voters.indexOf(cc.node), 1);
      } else {
        learners.splice(learners.indexOf(cc.node), 1);
      }
      delete addresses[String(cc.node)];
      break;
    default:
      return 'unknown change type';
  }
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  return { voters, learners, addresses };
}
