/**
 * ClusterDashboard over an engine that cannot do everything: each call of an unavailable feature
 * is refused (CallRefused, so the transports answer 409) with the engine's reason, before the
 * engine is asked for anything.
 */
import { describe, expect, it, vi } from 'vitest';
import { CallRefused } from '../../main/contract/api';
import { ClusterDashboard } from '../../main/cluster/dashboard';
import type { ClusterEngine } from '../../main/cluster/engine';
import type { EngineView } from '../../main/contract/view';

const ENGINE: EngineView = {
  kind: 'etcd',
  version: '3.4.23',
  mode: 'attached',
  unavailable: { kv: 'reads and writes are changes here', kill: 'not our processes' },
  endpoints: ['https://127.0.0.1:2379'],
};

function standIn(): {
  engine: ClusterEngine;
  kvSession: ReturnType<typeof vi.fn>;
  kill: ReturnType<typeof vi.fn>;
} {
  const kvSession = vi.fn();
  const kill = vi.fn(async () => undefined);
  const off = (): (() => void) => () => undefined;
  const engine = {
    engineView: () => ENGINE,
    onView: off,
    onEvent: off,
    onMessages: off,
    kvSession,
    kill,
    view: () => ({ nodes: [] }),
  } as unknown as ClusterEngine;
  return { engine, kvSession, kill };
}

describe('ClusterDashboard on an engine without some features', () => {
  it('refuses the console and kill with the reason, asking the engine for nothing', async () => {
    const s = standIn();
    const d = new ClusterDashboard(s.engine);
    for (const call of [
      () => d.kvPut('k', 'v'),
      () => d.kvGet('k'),
      () => d.kvDel('k'),
      () => d.kvCas('k', null, 'v'),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CallRefused);
      expect((err as Error).message).toBe('reads and writes are changes here');
    }
    await expect(d.killNode(1)).rejects.toThrow('not our processes');
    expect(s.kvSession).not.toHaveBeenCalled();
    expect(s.kill).not.toHaveBeenCalled();
  });
});
