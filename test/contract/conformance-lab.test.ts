// The dashboard API conformance suite (conformance.ts) against the lab cluster: the production
// Raft core on a simulated network, played at speed 1 on the Node host. Its view clock starts
// at the wall clock (epoch) so the time-travel case can compare it with Date.now().
import { createLabDashboard } from '../../main/lab/lab-dashboard';
import { nodeLabHost } from '../../main/web/lab-host';
import { describeConformance } from './conformance';

describeConformance(
  'the lab cluster',
  async () => {
    const lab = createLabDashboard({ seed: 11, host: nodeLabHost(), epoch: Date.now() });
    return { api: lab, dispose: async () => lab.dispose() };
  },
  { timeoutMs: 15_000 },
);
