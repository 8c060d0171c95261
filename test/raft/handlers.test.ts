import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, ROLES } from '../../main/raft/types';
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
});
