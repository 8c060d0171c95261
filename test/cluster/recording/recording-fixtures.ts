/** recording-fixtures: made-up views, events and traces for the recording tests. */
import type { ClusterEvent, ClusterView, MessageTrace } from '../../../main/contract/view';

export const T0 = 1_765_000_000_000;

/** view: a made-up cluster view at `now` (only its shape matters to a recording). */
export function view(
  now: number,
  leader: number,
  extra: Record<string, unknown> = {},
): ClusterView {
  return {
    clusterId: 'raftdeck-test',
    now,
    version: now - T0,
    leader,
    term: leader + 1,
    nodes: [1, 2, 3].map((id) => ({
      id,
      role: id === leader ? 'leader' : 'follower',
      commit: now % 97,
    })),
    workload: null,
    ...extra,
  } as unknown as ClusterView;
}

export function event(seq: number, time: number, message = `event ${seq}`): ClusterEvent {
  return { seq, time, node: 1, kind: 'leader', message };
}

export function trace(seq: number, time: number, from = 1, to = 2): MessageTrace {
  return {
    seq,
    time,
    from,
    to,
    type: 'app',
    term: 2,
    dir: 'out',
    fate: 'sent',
    delayMs: 0,
    bytes: 40,
  };
}
