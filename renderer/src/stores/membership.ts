import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { NodeId, WorkflowView } from '../../../main/contract/view';
import { useClusterStore } from './cluster';
import { useConfirmStore } from './confirm';
import { describeNode } from './faults';
import { useConnectionStore } from './connection';

/**
 * useMembershipStore starts membership workflows (add, remove, replace, transfer leadership) and
 * follows them: the workflow a button started is `focused`, and its steps come live from the
 * cluster view. `refused` lists the members the supervisor will not start again (their data
 * folder is gone): the way back for them is replaceNode.
 */
export const useMembershipStore = defineStore('membership', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const confirm = useConfirmStore();
  const focusedId = ref<string | null>(null);

  const workflows = computed<WorkflowView[]>(() =>
    [...(cluster.view?.workflows ?? [])].sort((a, b) => b.startedAt - a.startedAt),
  );
  const running = computed(() => workflows.value.filter((w) => w.state === 'running'));
  const refused = computed(() =>
    (cluster.view?.nodes ?? []).filter(
      (n) => n.startRefused !== null && n.membership !== 'removed',
    ),
  );
  /** focused: the workflow picked, else the one running, else the latest (never "none yet" above a list). */
  const focused = computed(
    () =>
      workflows.value.find((w) => w.id === focusedId.value) ??
      running.value[0] ??
      workflows.value[0] ??
      null,
  );

  async function follow(p: Promise<{ workflowId: string } | undefined>): Promise<void> {
    const r = await p;
    if (r) focusedId.value = r.workflowId;
  }

  return {
    focusedId,
    workflows,
    running,
    refused,
    focused,
    addNode: () => follow(conn.run('addNode')),
    removeNode: async (id: NodeId): Promise<void> => {
      const ok = await confirm.ask({
        text: `Remove node ${id}${describeNode(cluster, id)}? It leaves the configuration and its data folder is deleted.`,
        action: `Remove node ${id}`,
      });
      if (ok) await follow(conn.run('removeNode', id));
    },
    replaceNode: (id: NodeId) => follow(conn.run('replaceNode', id)),
    transferLeader: (id: NodeId) => follow(conn.run('transferLeader', id)),
    focus: (id: string) => {
      focusedId.value = id;
    },
  };
});
