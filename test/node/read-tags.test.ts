import { describe, expect, it } from 'vitest';
import { ReadTags } from '../../main/node/read-tags';
import { MAX_RAFT_NUMBER } from '../../main/raft/types';

describe('ReadTags', () => {
  it('counts up from its start and wraps from MAX_RAFT_NUMBER to 1', () => {
    const t = new ReadTags(MAX_RAFT_NUMBER - 1);
    expect([t.take(), t.take(), t.take(), t.take()]).toEqual([
      MAX_RAFT_NUMBER - 1,
      MAX_RAFT_NUMBER,
      1,
      2,
    ]);
    expect(() => new ReadTags(0)).toThrow(/read tag start 0/);
    expect(() => new ReadTags(MAX_RAFT_NUMBER + 1)).toThrow(RangeError);
  });

  it('each process starts at its own random point within the bound', () => {
    const starts = Array.from({ length: 50 }, () => new ReadTags().take());
    expect(new Set(starts).size).toBe(50);
    for (const s of starts) {
      expect(Number.isSafeInteger(s) && s >= 1 && s <= MAX_RAFT_NUMBER).toBe(true);
    }
  });
});
