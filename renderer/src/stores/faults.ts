import { defineStore } from 'pinia';
import type { LinkRule, NodeId } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConfirmStore } from './confirm';
import { useConnectionStore } from './connection';
import { useToastStore } from './toasts';

export type NodeAction = 'kill' | 'stop' | 'restart' | 'pause' | 'resume' | 'isolate';

const CALL_OF = {
  kill: 'killNode',
  stop: 'stopNode',
  restart: 'restartNode',
  pause: 'pauseNode',
  resume: 'resumeNode',
  isolate: 'isolateNode',
} as const;

/**
 * useFaultsStore: every fault control, each one dashboard call. Failures become toasts (through
 * the connection store); the cluster view shows the effect.
 */
export const useFaultsStore = defineStore('faults', () => {
  const conn = useConnectionStore();
  const toasts = useToastStore();

  const cluster = useClusterStore();
  const confirm = useConfirmStore();

  async function nodeAction(action: NodeAction, id: NodeId): Promise<void> {
    if (action === 'kill' && confirm.enabled) {
      const ok = await confirm.ask({
        text: `Kill node ${id}${describeNode(cluster, id)}? Its process gets SIGKILL, with no chance to finish what it is writing.`,
        action: `Kill node ${id}`,
      });
      if (!ok) return;
    }
    await conn.run(CALL_OF[action], id);
  }

  const busyNode = (action: NodeAction, id: NodeId): boolean => conn.isBusy(CALL_OF[action], id);

  /** partition applies groups, dropping empty ones; fewer than two non-empty groups is refused. */
  async function partition(groups: NodeId[][]): Promise<boolean> {
    const nonEmpty = groups.filter((g) => g.length > 0);
    if (nonEmpty.length < 2) {
      toasts.error('A partition needs nodes in at least two groups');
      return false;
    }
    return (await conn.run('partition', nonEmpty)) !== undefined;
  }

  return {
    nodeAction,
    busyNode,
    partition,
    heal: () => conn.run('healNetwork'),
    /** clearAll clears every fault and brings stopped nodes back, and says what it did. */
    clearAll: async (): Promise<void> => {
      const r = await conn.run('clearAllFaults');
      if (r) toasts.success(`Cleared all faults: ${r.summary}`);
    },
    setLinkRules: (id: NodeId, rules: LinkRule[]) => conn.run('setLinkRules', id, rules),
    setSlowDisk: (id: NodeId, ms: number) => conn.run('setSlowDisk', id, ms),
    setAutoRestart: (id: NodeId, on: boolean) => conn.run('setAutoRestart', id, on),
  };
});

/** describeNode: ", the leader" / ", a learner" / "": how to name node `id` in a question. */
export function describeNode(cluster: ReturnType<typeof useClusterStore>, id: NodeId): string {
  if (cluster.leaderId === id) return ', the leader';
  const n = cluster.node(id);
  if (n?.membership === 'learner') return ', a learner';
  return n?.role ? `, a ${n.role}` : '';
}
