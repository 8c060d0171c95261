/**
 * The engine contract (engine-contract.ts) on a local etcd cluster: real etcd processes, network
 * faults through raftdeck's peer proxies. etcd is installed in CI (.ci/run); there it never skips.
 */
import { haveEtcd } from '../etcd';
import { describeEngine } from './engine-contract';
import { startEtcdEngine } from './etcd/engine-harness';

describeEngine(
  'etcd',
  async () => {
    const c = await startEtcdEngine('engine-etcd');
    return { engine: c.engine, dispose: () => c.teardown() };
  },
  { skip: !haveEtcd },
);
