/**
 * The engine contract (engine-contract.ts) on a local etcd cluster: real etcd processes, network
 * faults through raftdeck's peer proxies. etcd is installed in CI (.ci/run); this never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdEngine } from '../../main/cluster/etcd/etcd-engine';
import { describeEngine } from './engine-contract';
import { haveEtcd } from '../etcd';

describeEngine(
  'etcd',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftdeck-engine-etcd-'));
    const engine = new EtcdEngine({
      dir,
      nodes: 3,
      timing: { heartbeatMs: 50, electionMs: 500 },
    });
    const pids = new Set<number>();
    const collect = (): void => {
      for (const p of engine.pids()) pids.add(p);
    };
    engine.onView(collect);
    await engine.start();
    collect();
    return {
      engine,
      dispose: async () => {
        collect();
        await engine.stop().catch(() => undefined);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { skip: !haveEtcd },
);
