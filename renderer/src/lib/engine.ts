/**
 * engine: how the dashboard words the engine that runs the members (EngineView) and what it
 * cannot do. A view recorded before engines were named (no `engine`) is raftdeck's own:
 * everything available, no badge.
 */
import { RAFTDECK_ENGINE } from '../../../main/contract/view';
import type { ClusterView, EngineFeature, EngineView } from '../../../main/contract/view';

/** Features: one feature, or several of which a control needs any (see featureReason). */
export type Features = EngineFeature | readonly EngineFeature[];

/** engineOf: the engine of `view` (raftdeck's own when the view has none, or there is no view). */
export function engineOf(
  view: Pick<ClusterView, 'engine'> | { engine?: EngineView } | null,
): EngineView {
  return view?.engine ?? RAFTDECK_ENGINE;
}

/** engineName: how a note names the engine: "etcd", "the lab" or "raftdeck". */
export function engineName(engine: EngineView): string {
  if (engine.kind === 'etcd') return 'etcd';
  return engine.mode === 'lab' ? 'the lab' : 'raftdeck';
}

/**
 * featureReason: why a control needing `features` is unavailable on `view`'s engine, as the
 * dashboard shows it ("Unavailable on etcd: <reason>"), or null when it is available. With
 * several features the control is unavailable only when all of them are (it can do something
 * as long as one is possible); the reason is then the first one's.
 */
export function featureReason(
  view: { engine?: EngineView } | null,
  features: Features | undefined,
): string | null {
  if (features === undefined) return null;
  const engine = engineOf(view);
  const list: readonly EngineFeature[] = typeof features === 'string' ? [features] : features;
  if (list.length === 0) return null;
  const reasons = list.map((f) => engine.unavailable[f]);
  if (reasons.some((r) => r === undefined)) return null;
  return `Unavailable on ${engineName(engine)}: ${reasons[0]!}`;
}

/** FAULT_FEATURES: the faults; Clear all is there while the engine can do any of them. */
export const FAULT_FEATURES: readonly EngineFeature[] = [
  'kill',
  'stop',
  'pause',
  'isolate',
  'partition',
  'linkRules',
  'slowDisk',
];

/** MEMBERSHIP_CHANGES: without all three, raftdeck only watches the cluster (read-only). */
const MEMBERSHIP_CHANGES: readonly EngineFeature[] = ['addNode', 'removeNode', 'transferLeader'];

/** readOnly: the engine allows none of the membership changes. */
export function readOnly(engine: EngineView): boolean {
  return MEMBERSHIP_CHANGES.every((f) => engine.unavailable[f] !== undefined);
}

/** EngineBadge: what the top bar shows for the engine, and its tooltip. */
export interface EngineBadge {
  text: string;
  title: string;
  readOnly: boolean;
}

/**
 * engineBadge: the top bar's engine badge: "etcd 3.4.23 · local", "etcd 3.5.17 · attached ·
 * read-only" (the tooltip names the endpoints); null for raftdeck's own nodes, where the brand
 * already says it (and a lab keeps its own badge).
 */
export function engineBadge(engine: EngineView): EngineBadge | null {
  if (engine.kind === 'raftdeck') return null;
  const ro = readOnly(engine);
  const name = engine.version ? `${engine.kind} ${engine.version}` : engine.kind;
  const text = [name, engine.mode, ...(ro ? ['read-only'] : [])].join(' · ');
  const how =
    engine.mode === 'attached'
      ? `${name} cluster attached by its endpoints`
      : engine.mode === 'lab'
        ? `${name} on the simulated network`
        : `${name} members started and supervised here`;
  const lines = [how];
  if (engine.endpoints.length) lines.push(`endpoints: ${engine.endpoints.join(', ')}`);
  if (ro) lines.push('read-only: no membership changes, faults or writes from here');
  const off = Object.keys(engine.unavailable).length;
  if (off) lines.push(`${off} feature${off === 1 ? '' : 's'} unavailable (each control says why)`);
  return { text, title: lines.join('\n'), readOnly: ro };
}
