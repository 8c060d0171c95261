// Builders for renderer tests: cluster views and nodes with sensible defaults, and a transport
// that records calls, answers them from a table, and lets the test push views and events.
import type { CallName, DashboardApi, PushHandler, PushName } from '../../main/contract/api';
import type { ClusterView } from '../../main/contract/view';
import { completeView } from '../../main/view/projection';
import { follower, node, raft } from '../view/fixtures';
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import type { Router } from 'vue-router';
import type { ConnectionStatus, Transport } from '../../renderer/src/api';
import { createDeckRouter } from '../../renderer/src/router';
import { startStores } from '../../renderer/src/stores';
import { useUiStore } from '../../renderer/src/stores/ui';

// The node and Raft builders are shared with the view tests.
export { follower, node, raft };

/**
 * view: a healthy 3-node cluster led by node 1 in term 2, unless overridden; the fields that
 * follow from the rest (divergence, faults, health counts) are derived as the projection does.
 */
export function view(overrides: Partial<ClusterView> = {}): ClusterView {
  return completeView({
    clusterId: 'test',
    dataDir: '/data',
    version: 1,
    now: 1_000_000,
    state: 'running',
    nodes: [
      node(1, 'leader', {
        raft: raft({ role: 'leader', progress: [follower(2), follower(3)] }),
      }),
      node(2, 'follower'),
      node(3, 'follower'),
    ],
    leader: 1,
    term: 2,
    commit: 100,
    partitions: null,
    workflows: [],
    workload: null,
    checker: { state: 'idle', result: null, operations: 0, keys: 0, ms: null, failure: null },
    scenario: null,
    ...overrides,
  });
}

export interface RecordedCall {
  name: CallName;
  args: unknown[];
}

export interface FakeTransport extends Transport {
  calls: RecordedCall[];
  answers: Partial<Record<CallName, (...args: unknown[]) => unknown>>;
  push<P extends PushName>(push: P, payload: Parameters<PushHandler<P>>[0]): void;
  setStatus(s: Partial<ConnectionStatus>): void;
}

export function fakeTransport(initial: ClusterView = view()): FakeTransport {
  const handlers = new Map<string, Set<(p: unknown) => void>>();
  const statusSubs = new Set<(s: ConnectionStatus) => void>();
  let status: ConnectionStatus = { state: 'connected', attempt: 0, retryAt: null, error: null };
  const t: FakeTransport = {
    kind: 'browser',
    calls: [],
    answers: {
      getView: () => initial,
      getEvents: () => [],
      listScenarios: () => [],
    },
    call: ((name: CallName, ...args: unknown[]) => {
      t.calls.push({ name, args });
      const answer = t.answers[name];
      try {
        return Promise.resolve(answer ? answer(...args) : undefined);
      } catch (err) {
        return Promise.reject(err);
      }
    }) as Transport['call'],
    on(push, handler) {
      let set = handlers.get(push);
      if (!set) handlers.set(push, (set = new Set()));
      set.add(handler as (p: unknown) => void);
      return () => set.delete(handler as (p: unknown) => void);
    },
    onStatus(cb) {
      statusSubs.add(cb);
      cb(status);
      return () => statusSubs.delete(cb);
    },
    close() {},
    push(push, payload) {
      for (const h of handlers.get(push) ?? []) h(payload);
    },
    setStatus(s) {
      status = { ...status, ...s };
      for (const cb of statusSubs) cb(status);
    },
  };
  return t;
}

/**
 * startDeck: what a page needs to mount: a fresh, active Pinia with every store started over
 * transport `t`, and a memory router that the UI store follows.
 */
export function startDeck(t: Transport): { pinia: Pinia; router: Router } {
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createDeckRouter(createMemoryHistory());
  useUiStore(pinia).attach(router);
  startStores(pinia, t);
  return { pinia, router };
}

/** flush lets pending promises settle. */
export const flush = () => new Promise((r) => setTimeout(r, 0));

export type { DashboardApi };
