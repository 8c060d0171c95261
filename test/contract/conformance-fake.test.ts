// The dashboard API conformance suite (conformance.ts) against the fake in-process cluster.
import { createFakeDashboard } from '../../main/web/fake-dashboard';
import { describeConformance } from './conformance';

describeConformance(
  'the fake cluster',
  async () => {
    const fake = createFakeDashboard({ seed: 11, tickMs: 20 });
    return { api: fake, dispose: async () => fake.dispose() };
  },
  { timeoutMs: 15_000 },
);
