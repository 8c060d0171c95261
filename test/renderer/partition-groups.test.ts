// Partition groups as dragging a node on the topology edits them.
import { describe, expect, it } from 'vitest';
import { currentGroups, moveNode } from '../../renderer/src/lib/partition-groups';

describe('partition groups', () => {
  it('no partition is one group; members a partition does not name form one more', () => {
    expect(currentGroups([1, 2, 3], null)).toEqual([[1, 2, 3]]);
    expect(currentGroups([1, 2, 3, 4], [[2, 1], [3]])).toEqual([[1, 2], [3], [4]]);
    expect(currentGroups([1, 2], [[1, 9], [2]])).toEqual([[1], [2]]);
  });

  it('moving a node into empty space gives it a side of its own', () => {
    expect(moveNode([[1, 2, 3]], 3, null)).toEqual([[1, 2], [3]]);
    expect(moveNode([[1, 2], [3]], 3, null)).toBe(null);
  });

  it("moving a node onto another puts it on that node's side", () => {
    expect(moveNode([[1, 2], [3]], 2, 3)).toEqual([[1], [2, 3]]);
    expect(moveNode([[1, 2], [3]], 3, 1)).toEqual([[1, 2, 3]]);
    expect(moveNode([[1, 2], [3]], 2, 1)).toBe(null);
    expect(moveNode([[1, 2], [3]], 7, 1)).toBe(null);
  });
});
