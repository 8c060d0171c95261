/**
 * recording-dashboard: the dashboard API over a recording, with no cluster running (`raftdeck
 * replay FILE`, the app's "Open recording…"). Everything it answers comes from the recording:
 * recordingInfo (source 'file'), viewAt, recordedEvents and recordedMessages; getView is the
 * last view recorded and getEvents the recorded events (the latest RECORDED_LIMIT). Every call
 * that would change a cluster (changesCluster) is refused, naming the recording; so are the
 * calls that need live nodes (nodeLogs, logEntries) and the client history (not recorded). It
 * pushes nothing.
 */
import {
  CallRefused,
  CALLS,
  changesCluster,
  type DashboardApi,
  type PushSource,
} from '../../contract/api';
import {
  RECORDED_LIMIT,
  type ClusterEvent,
  type ClusterView,
  type LinkDetail,
  type LogInspection,
  type LogQuery,
  type MessageTrace,
  type NodeId,
  type RecordedMoment,
  type RecordingInfo,
  type ScenarioInfo,
} from '../../contract/view';
import { RecordingReader } from './recording-reader';

/** RecordingRefusal: a call a recording cannot answer (the message says why). */
export class RecordingRefusal extends CallRefused {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingRefusal';
  }
}

/** RECENT_ON_LINK: how many of a link's latest recorded messages linkDetail answers. */
const RECENT_ON_LINK = 50;

// The calls that change a cluster are added in the constructor (each refuses); the interface
// merge makes the class a whole DashboardApi.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface RecordingDashboard extends DashboardApi {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class RecordingDashboard implements PushSource {
  /** open: a dashboard over the recording at `path` (an export file or a cluster/recording folder). */
  static open(path: string): RecordingDashboard {
    return new RecordingDashboard(RecordingReader.open(path));
  }

  constructor(readonly reader: RecordingReader) {
    const self = this as unknown as Record<string, unknown>;
    for (const name of CALLS) {
      if (!changesCluster(name)) continue;
      self[name] = async (): Promise<never> => {
        throw new RecordingRefusal(`${this.reader.path} is a recording: nothing can be changed`);
      };
    }
  }

  /** onView, onEvent, onMessages: a recording pushes nothing. */
  onView(): () => void {
    return () => undefined;
  }
  onEvent(): () => void {
    return () => undefined;
  }
  onMessages(): () => void {
    return () => undefined;
  }

  async getView(): Promise<ClusterView> {
    const to = this.reader.set.to;
    const at = to === null ? null : this.reader.set.viewAt(to).view;
    if (at === null) throw new RecordingRefusal(`${this.reader.path} holds no recorded view`);
    return at;
  }

  /** getEvents: the recorded events after `sinceSeq` (the latest RECORDED_LIMIT), in time order. */
  async getEvents(sinceSeq: number): Promise<ClusterEvent[]> {
    const { from, to } = this.reader.set;
    if (from === null || to === null) return [];
    return this.reader.set.events(from, to, RECORDED_LIMIT).filter((e) => e.seq > sinceSeq);
  }

  async exportEvents(): Promise<{ json: string }> {
    return { json: JSON.stringify(await this.getEvents(0), null, 2) };
  }

  async exportHistory(): Promise<{ json: string }> {
    throw new RecordingRefusal(
      `${this.reader.path} is a recording: it holds no client history to export`,
    );
  }

  async listScenarios(): Promise<ScenarioInfo[]> {
    return [];
  }

  /**
   * linkDetail: the link as the last recorded view shows it, and its latest recorded messages
   * (counters by type are not recorded, so byType is empty).
   */
  async linkDetail(from: NodeId, to: NodeId): Promise<LinkDetail> {
    const view = await this.getView();
    const link = view.links.find((l) => l.from === from && l.to === to);
    if (!link)
      throw new RecordingRefusal(
        `the recording's last view has no link ${from} → ${to} (links: ${view.links.map((l) => `${l.from}→${l.to}`).join(', ') || 'none'})`,
      );
    const recent: MessageTrace[] = [];
    const { from: start, to: end } = this.reader.set;
    if (start !== null && end !== null) {
      const all = this.reader.set.messages(start, end, RECORDED_LIMIT);
      for (const t of all) if (t.from === from && t.to === to) recent.push(t);
    }
    return { link, byType: [], recent: recent.slice(-RECENT_ON_LINK) };
  }

  async nodeLogs(id: NodeId, _lines: number): Promise<Record<string, unknown>[]> {
    throw new RecordingRefusal(
      `${this.reader.path} is a recording: it holds no logs of node ${id} (they are in its data folder, if any)`,
    );
  }

  async logEntries(_query: LogQuery): Promise<LogInspection> {
    throw new RecordingRefusal('a recording holds no log entries');
  }

  async exportLabSchedule(): Promise<{ json: string }> {
    throw new RecordingRefusal(
      `${this.reader.path} is a recording: only a running lab cluster exports its schedule`,
    );
  }

  recordingInfo(): Promise<RecordingInfo> {
    return this.reader.info();
  }

  viewAt(time: number): Promise<RecordedMoment> {
    return this.reader.viewAt(time);
  }

  recordedEvents(from: number, to: number, limit: number): Promise<ClusterEvent[]> {
    return this.reader.events(from, to, limit);
  }

  recordedMessages(from: number, to: number, limit: number): Promise<MessageTrace[]> {
    return this.reader.messages(from, to, limit);
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
