// The dashboard API conformance suite (conformance.ts) against the real cluster: a supervisor
// with three node processes in a temporary folder, stopped (and every pid killed) afterwards.
import { ClusterDashboard } from '../../main/cluster/dashboard';
import { openClusterRecording } from '../../main/cluster/recording/cluster-recording';
import { startCluster } from '../cluster/cluster-harness';
import { describeConformance } from './conformance';

describeConformance(
  'the real cluster',
  async () => {
    const c = await startCluster('conformance');
    // recording into the cluster's folder, as serve and the app do
    const api = new ClusterDashboard(c.engine, openClusterRecording(c.engine));
    return {
      api,
      dispose: async () => {
        await api.close().catch(() => undefined);
        await c.teardown();
      },
    };
  },
  { timeoutMs: 20_000 },
);
