// The dashboard API conformance suite (conformance.ts) against a local etcd cluster: three etcd
// processes behind raftdeck's peer proxies; what etcd cannot do must be refused with its reason.
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { MemoryRecording } from '../../main/cluster/recording/memory-recording';
import { startEtcdEngine } from '../cluster/etcd/engine-harness';
import { haveEtcd } from '../etcd';
import { describeConformance } from './conformance';

describeConformance(
  'a local etcd cluster',
  async () => {
    const c = await startEtcdEngine('conformance-etcd');
    const api = new ClusterDashboard(c.engine, new MemoryRecording());
    return {
      api,
      dispose: async () => {
        await api.close().catch(() => undefined);
        await c.teardown();
      },
    };
  },
  { timeoutMs: 20_000, skip: !haveEtcd },
);
