import { describe, expect, it } from 'vitest';
import type { HandlerTable } from '../../main/raft/raft';
import { MESSAGE_TYPES, ROLES } from '../../main/raft/types';
import type { AppMsg, VoteMsg } from '../../main/raft/types';
import { HANDLERS } from './helpers';

describe('the (role, message type) handler table', () => {
  it('has a handler for every role and every message type', () => {
    for (const role of ROLES) {
      for (const type of MESSAGE_TYPES) {
        expect(typeof HANDLERS[role][type], `${role}/${type}`).toBe('function');
      }
      expect(Object.keys(HANDLERS[role]).sort()).toEqual([...MESSAGE_TYPES].sort());
    }
    expect(Object.keys(HANDLERS).sort()).toEqual([...ROLES].sort());
  });

  it('gives each handler its own message type (checked by tsc)', () => {
    const onVote: HandlerTable['pre-vote'] = (_r, m: VoteMsg) => void m.lastTerm;
    // @ts-expect-error: the handler of 'app' receives an AppMsg, not a VoteMsg
    const wrong: HandlerTable['app'] = (_r, m: VoteMsg) => void m.lastTerm;
    const onApp: HandlerTable['app'] = (_r, m: AppMsg) => void m.prevIndex;
    expect([onVote, wrong, onApp].every((h) => typeof h === 'function')).toBe(true);
  });
});
