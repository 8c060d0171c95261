// The backends the shell and browser mode open: --lab (or RAFTDECK_LAB=1) asks for a lab cluster
// instead of the cluster in the folder; a lab backend is the lab's dashboard (its view carries the
// lab) and touches no folder.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackend, openLabBackend, wantsLab } from '../../main/web/backends';

const dir = mkdtempSync(join(tmpdir(), 'raftdeck-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backends', () => {
  it('wants a lab for --lab or RAFTDECK_LAB=1, and only then', () => {
    expect(wantsLab(['node', 'app', '--lab'], {})).toBe(true);
    expect(wantsLab(['node', 'app'], { RAFTDECK_LAB: '1' })).toBe(true);
    expect(wantsLab(['node', 'app'], { RAFTDECK_LAB: '0' })).toBe(false);
    expect(wantsLab(['node', 'app', '--fake'], {})).toBe(false);
  });

  it('opens a lab cluster for a lab, writing nothing into the cluster folder', async () => {
    const folder = join(dir, 'cluster');
    const backend = await openBackend(folder, true);
    try {
      const v = await backend.api.getView();
      expect(v.lab?.seed).toBe(1);
      expect(v.nodes.map((n) => n.id)).toEqual([1, 2, 3]);
      expect(existsSync(folder)).toBe(false);
    } finally {
      await backend.dispose();
    }
  });

  it('opens a lab of the seed and size asked for', async () => {
    const backend = openLabBackend({ seed: 4, nodes: 5 });
    try {
      const v = await backend.api.getView();
      expect(v.lab?.source).toBe('seed 4');
      expect(v.nodes).toHaveLength(5);
    } finally {
      await backend.dispose();
    }
  });
});
