// A fake transport backed by a small recording, for the time-travel tests: the views, events and
// messages a test records are what recordingInfo, viewAt, recordedEvents and recordedMessages
// answer, as the recording contract says (latest view at or before an instant; spans with both
// ends included, the latest `limit`, oldest first).
import type {
  ClusterEvent,
  ClusterView,
  MessageTrace,
  RecordingInfo,
} from '../../main/contract/view';
import { fakeTransport, node, raft, view } from './helpers';
import type { FakeTransport } from './helpers';

/** TestRecording: views, events and messages in time order, answered as a Recording does. */
export class TestRecording {
  views: ClusterView[] = [];
  eventList: ClusterEvent[] = [];
  traces: MessageTrace[] = [];

  /** addView keeps the views in time order (a view added at an instant already held comes after). */
  addView(v: ClusterView): void {
    this.views.push(v);
    this.views.sort((a, b) => a.now - b.now);
  }
  addEvent(e: ClusterEvent): void {
    this.eventList.push(e);
  }
  addMessages(batch: { traces: MessageTrace[]; skipped?: Record<string, number> }): void {
    this.traces.push(...batch.traces);
    this.traces.sort((a, b) => a.time - b.time);
  }
  info(): RecordingInfo {
    return {
      source: 'live',
      path: '(test)',
      clusterId: 'test',
      formatVersion: 0,
      from: this.views[0]?.now ?? null,
      to: this.views.at(-1)?.now ?? null,
      bytes: 0,
      limitBytes: 0,
      segments: 0,
      recording: true,
      notes: [],
    };
  }
  viewAt(time: number) {
    const before = this.views.filter((v) => v.now <= time);
    const view = before.at(-1) ?? null;
    return { time, view, viewTime: view?.now ?? null };
  }
  events(from: number, to: number, limit: number): ClusterEvent[] {
    return this.eventList.filter((e) => e.time >= from && e.time <= to).slice(-limit);
  }
  messages(from: number, to: number, limit: number): MessageTrace[] {
    return this.traces.filter((m) => m.time >= from && m.time <= to).slice(-limit);
  }
}

export interface ReplayTransport extends FakeTransport {
  recording: TestRecording;
  /** source: what recordingInfo says the recording is ('file': opened without a cluster). */
  source: RecordingInfo['source'];
}

/** T0: the first recorded instant of the tests' recordings. */
export const T0 = 1_700_000_000_000;

/**
 * leaderView: a healthy 3-node cluster led by `leader` in `term`, as it was at `now`.
 */
export function leaderView(leader: number, term: number, now: number, version = 1): ClusterView {
  const ids = [1, 2, 3];
  return view({
    version,
    now,
    leader,
    term,
    nodes: ids.map((id) =>
      id === leader
        ? node(id, 'leader', {
            raft: raft({ role: 'leader', term, leader }),
          })
        : node(id, 'follower', { raft: raft({ term, leader }) }),
    ),
  });
}

export function event(seq: number, time: number, over: Partial<ClusterEvent> = {}): ClusterEvent {
  return { seq, time, node: null, kind: 'leader', message: `event ${seq}`, ...over };
}

export function trace(time: number, over: Partial<MessageTrace> = {}): MessageTrace {
  return {
    from: 1,
    to: 2,
    type: 'app',
    term: 2,
    seq: 1,
    time,
    dir: 'out',
    fate: 'sent',
    delayMs: 0,
    bytes: 64,
    ...over,
  };
}

/**
 * replayTransport: a fake transport whose live view is `live` and whose recording holds what the
 * test adds to `recording`.
 */
export function replayTransport(
  live: ClusterView = leaderView(1, 2, T0 + 60_000, 100),
): ReplayTransport {
  const t = fakeTransport(live) as ReplayTransport;
  t.recording = new TestRecording();
  t.source = 'live';
  t.answers.recordingInfo = () => ({ ...t.recording.info(), source: t.source });
  t.answers.viewAt = (time) => t.recording.viewAt(time as number);
  t.answers.recordedEvents = (from, to, limit) =>
    t.recording.events(from as number, to as number, limit as number);
  t.answers.recordedMessages = (from, to, limit) =>
    t.recording.messages(from as number, to as number, limit as number);
  return t;
}

/**
 * electionRecording: node 1 leads term 2 for ten seconds from T0, is killed at T0 + 10 s, and
 * node 2 leads term 3 from T0 + 11 s; a view every 100 ms, the kill and the new leader as
 * events, the election's votes as messages.
 */
export function recordElection(t: ReplayTransport): void {
  let version = 1;
  for (let at = T0; at <= T0 + 20_000; at += 100) {
    const before = at < T0 + 11_000;
    t.recording.addView(before ? leaderView(1, 2, at, version++) : leaderView(2, 3, at, version++));
  }
  t.recording.addEvent(event(1, T0, { kind: 'leader', node: 1, message: 'node 1 leads term 2' }));
  t.recording.addEvent(event(2, T0 + 10_000, { kind: 'fault', node: 1, message: 'kill node 1' }));
  t.recording.addEvent(
    event(3, T0 + 10_500, { kind: 'election', node: 2, message: 'node 2 campaigns' }),
  );
  t.recording.addEvent(
    event(4, T0 + 11_000, { kind: 'leader', node: 2, message: 'node 2 leads term 3' }),
  );
  t.recording.addMessages({
    traces: [
      trace(T0 + 9_000, { type: 'heartbeat', term: 2, from: 1, to: 2 }),
      trace(T0 + 10_600, {
        type: 'vote',
        term: 3,
        from: 2,
        to: 3,
        seq: 2,
        index: 100,
        logTerm: 2,
      }),
      trace(T0 + 10_610, { type: 'vote-resp', term: 3, from: 3, to: 2, seq: 3, reject: false }),
      trace(T0 + 11_100, {
        type: 'app',
        term: 3,
        from: 2,
        to: 3,
        seq: 4,
        index: 100,
        logTerm: 2,
        entries: 1,
        commit: 100,
      }),
    ],
    skipped: {},
  });
}
