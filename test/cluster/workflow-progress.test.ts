// The catch-up step's progress while a snapshot is sent: the bar and the words come from the
// same bytes, so they never disagree (the bar once showed 70 % beside words that said 77 %).
import { describe, expect, it } from 'vitest';
import { snapshotProgress } from '../../main/cluster/workflows';

describe('snapshotProgress', () => {
  it('gives the bar the fraction of bytes acknowledged and the words the same bytes, formatted', () => {
    const mib = 1024 * 1024;
    const p = snapshotProgress({
      index: 900,
      acked: 16 * mib,
      total: 20.7 * mib,
      chunks: 16,
      retries: 1,
    });
    expect(p.fraction).toBeCloseTo(16 / 20.7, 6);
    expect(p.detail).toBe('receiving snapshot 900: 16.0 MiB of 20.7 MiB (16 chunks, 1 retries)');
  });

  it('is complete at the last byte and never above it', () => {
    expect(
      snapshotProgress({ index: 1, acked: 10, total: 10, chunks: 1, retries: 0 }).fraction,
    ).toBe(1);
    expect(snapshotProgress({ index: 1, acked: 0, total: 0, chunks: 0, retries: 0 }).fraction).toBe(
      0,
    );
  });
});
