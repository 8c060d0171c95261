/** The engine contract (engine-contract.ts) on raftdeck's own nodes. */
import { describeEngine } from './engine-contract';
import { startCluster } from './cluster-harness';

describeEngine('raftdeck', async () => {
  const c = await startCluster('engine-contract');
  return { engine: c.engine, dispose: () => c.teardown() };
});
