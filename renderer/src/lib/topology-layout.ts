/**
 * topology-layout: where the Topology view draws things, as pure functions of the members and
 * the drawing's size (in SVG user units): the voters on an ellipse, the others (learners, joining
 * nodes) on a row below it, each node's label block on the side away from the centre, the lanes
 * of the links between every pair, and where the marks along them go. No DOM, no clock.
 */
import type { LinkState, LinkView, NodeId } from '../../../main/contract/view';

export interface Point {
  x: number;
  y: number;
}

/**
 * LabelPlace: where a node's label block goes: its anchor, and `y` the baseline of its first line
 * ('top'), of its last line ('bottom': the block grows upward, above a node at the top) or of its
 * middle line ('middle': beside a node). labelLineY gives each line's baseline.
 */
export interface LabelPlace {
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
  align: 'top' | 'middle' | 'bottom';
}

/** labelLineY: the baseline of line `i` of a label block of `count` lines placed at `l`. */
export function labelLineY(l: LabelPlace, i: number, count: number): number {
  const first =
    l.align === 'top'
      ? l.y
      : l.align === 'bottom'
        ? l.y - (count - 1) * LABEL_LINE
        : l.y - ((count - 1) * LABEL_LINE) / 2;
  return first + i * LABEL_LINE;
}

export interface NodePlace extends Point {
  id: NodeId;
  /** r: the node's circle; its timer arc is drawn at r + TIMER_GAP. */
  r: number;
  /** ring: true for a voter on the ring, false for a member set apart (learner, joining). */
  ring: boolean;
  label: LabelPlace;
}

export interface Layout {
  width: number;
  height: number;
  /** centre and radii of the voters' ellipse. */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  nodes: Map<NodeId, NodePlace>;
}

/** HEIGHT: the drawing's largest height in user units; its width follows the space's aspect. */
export const HEIGHT = 800;
/** MIN_HEIGHT: the drawing's least height: below it the drawing scales down as a whole. */
export const MIN_HEIGHT = 560;
/** MIN_WIDTH: the drawing's least width: a narrower space scales the drawing down as a whole. */
export const MIN_WIDTH = 800;
/** TIMER_GAP: the timer arc's distance outside the node's circle. */
export const TIMER_GAP = 9;
/** LABEL_LINE: the line height of a node's label block. */
export const LABEL_LINE = 22;
/** LABEL_LINES: the most lines a label block has (role, term, log and commit, health). */
export const LABEL_LINES = 4;
/** LABEL_WIDTH: the room kept beside a side node for its label block. */
const LABEL_WIDTH = 210;
/** EDGE: the room kept between a label block and the drawing's edge. */
const EDGE = 14;
/** LEARNER_ROW: the height kept below the ring for members set apart. */
const LEARNER_ROW = 130;

/**
 * drawingSize: the size in user units of the drawing that fills a space of the given pixel size:
 * one unit per pixel for heights between MIN_HEIGHT and HEIGHT (so text keeps its size), scaled
 * beyond; the width follows the aspect within [MIN_WIDTH, 1700] (a narrow space scales the whole
 * drawing down rather than squeeze the ring, and a wide one does not stretch it thin).
 */
export function drawingSize(pxWidth: number, pxHeight: number): { width: number; height: number } {
  if (!(pxWidth > 0) || !(pxHeight > 0)) return { width: 1200, height: HEIGHT };
  const height = Math.round(Math.min(HEIGHT, Math.max(MIN_HEIGHT, pxHeight)));
  const width = Math.round(Math.min(1700, Math.max(MIN_WIDTH, (height * pxWidth) / pxHeight)));
  return { width, height };
}

/** nodeRadius: smaller circles for more nodes, so neighbours never touch. */
export function nodeRadius(count: number): number {
  return count <= 5 ? 46 : count <= 7 ? 42 : 36;
}

/**
 * layoutTopology: `voters` on an ellipse, in the given order, the first at the top and going
 * clockwise; `apart` (learners, joining nodes) on a row below it, in order. A node's label goes
 * beside it (away from the centre) when it sits on the ellipse's left or right, above or below it
 * at the top and bottom. The layout's width and height are those asked for, or larger (same aspect)
 * when that much room does not hold the nodes apart with their labels.
 */
export function layoutTopology(
  voters: readonly NodeId[],
  apart: readonly NodeId[],
  width0: number,
  height0: number = HEIGHT,
): Layout {
  const r = nodeRadius(voters.length + apart.length);
  const blockH = LABEL_LINE * LABEL_LINES;
  const n = voters.length;
  // Where neighbours would crowd on a flat ellipse, the drawing grows (keeping its aspect) until
  // they and the labels fit: it is then drawn a little smaller, but nothing overlaps.
  let width = width0;
  let height = height0;
  let ringH = 0;
  let rx = 0;
  let ry = 0;
  for (let k = 0; k < 6; k++) {
    ringH = apart.length ? height - LEARNER_ROW : height;
    rx = Math.max(120, width / 2 - r - TIMER_GAP - 24 - LABEL_WIDTH);
    const fit = Math.max(90, ringH / 2 - r - TIMER_GAP - 16 - blockH - EDGE);
    ry = ringRy(n, rx, fit, r);
    if (ry <= fit) break;
    const grow = (height + 2 * (ry - fit)) / height;
    width = Math.round(width * grow);
    height = Math.round(height * grow);
  }
  const cx = width / 2;
  const cy = ringH / 2;
  const nodes = new Map<NodeId, NodePlace>();
  voters.forEach((id, i) => {
    const a = n === 1 ? -Math.PI / 2 : -Math.PI / 2 + (2 * Math.PI * i) / n;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const x = cx + rx * cos;
    const y = cy + ry * sin;
    let label: LabelPlace;
    const reach = r + TIMER_GAP + 16;
    if (Math.abs(cos) > 0.45) {
      label = {
        x: x + Math.sign(cos) * reach,
        y: y + LABEL_LINE * 0.3,
        anchor: cos > 0 ? 'start' : 'end',
        align: 'middle',
      };
    } else if (sin < 0) {
      label = { x, y: y - reach, anchor: 'middle', align: 'bottom' };
    } else {
      label = { x, y: y + reach + LABEL_LINE * 0.6, anchor: 'middle', align: 'top' };
    }
    nodes.set(id, { id, x: round(x), y: round(y), r, ring: true, label: roundLabel(label) });
  });
  const rowY = height - LEARNER_ROW / 2 - 10;
  const step = Math.min(330, (width - 80) / Math.max(1, apart.length));
  const left = cx - (step * (apart.length - 1)) / 2 - 70;
  apart.forEach((id, i) => {
    const x = left + step * i;
    const label: LabelPlace = {
      x: x + r + TIMER_GAP + 14,
      y: rowY + LABEL_LINE * 0.3,
      anchor: 'start',
      align: 'middle',
    };
    nodes.set(id, { id, x: round(x), y: round(rowY), r, ring: false, label: roundLabel(label) });
  });
  return { width, height, cx, cy, rx, ry, nodes };
}

/**
 * ringRy: the ellipse's vertical radius: `fit` (what leaves room for the labels above and below),
 * or more where neighbours on a flat ellipse would come closer than their timer arcs allow (the
 * labels then come closer to the edge, which beats nodes on top of each other).
 */
function ringRy(n: number, rx: number, fit: number, r: number): number {
  if (n < 2) return fit;
  const need = 2 * (r + TIMER_GAP) + 40;
  const closest = (ry: number): number => {
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
      const b = a + (2 * Math.PI) / n;
      const d = Math.hypot(rx * (Math.cos(a) - Math.cos(b)), ry * (Math.sin(a) - Math.sin(b)));
      min = Math.min(min, d);
    }
    return min;
  };
  let ry = fit;
  while (closest(ry) < need && ry < fit * 3) ry += 2;
  return ry;
}

const round = (v: number): number => Math.round(v * 10) / 10;
const roundLabel = (l: LabelPlace): LabelPlace => ({ ...l, x: round(l.x), y: round(l.y) });

/** Pair: the two directions between nodes a < b, as the view lists them (either may be absent). */
export interface Pair {
  key: string;
  a: NodeId;
  b: NodeId;
  ab: LinkView | undefined;
  ba: LinkView | undefined;
  /** split: the two directions differ in state (one-way), so each gets its own lane. */
  split: boolean;
  /** state: the pair's state when not split (the worse of the two otherwise). */
  state: LinkState;
  msgsPerSec: number;
  bytesPerSec: number;
}

const SEVERITY: Record<LinkState, number> = { up: 0, down: 1, faulty: 2, cut: 3 };

/** pairKey: "a-b" with a < b. */
export const pairKey = (x: NodeId, y: NodeId): string => (x < y ? `${x}-${y}` : `${y}-${x}`);

/** pairsOf: the view's directed links grouped by unordered pair, ordered by (a, b). */
export function pairsOf(links: readonly LinkView[]): Pair[] {
  const by = new Map<string, Pair>();
  for (const l of links) {
    const a = Math.min(l.from, l.to);
    const b = Math.max(l.from, l.to);
    const key = pairKey(a, b);
    let p = by.get(key);
    if (!p) {
      const empty = { ab: undefined, ba: undefined, msgsPerSec: 0, bytesPerSec: 0 };
      p = { key, a, b, ...empty, split: false, state: 'up' };
      by.set(key, p);
    }
    if (l.from === a) p.ab = l;
    else p.ba = l;
  }
  const pairs = [...by.values()].sort((x, y) => x.a - y.a || x.b - y.b);
  for (const p of pairs) {
    const dirs = [p.ab, p.ba].filter((l): l is LinkView => l !== undefined);
    p.split = dirs.length === 2 && (p.ab!.state !== p.ba!.state || p.ab!.oneWay || p.ba!.oneWay);
    p.state = dirs.reduce<LinkState>(
      (s, l) => (SEVERITY[l.state] > SEVERITY[s] ? l.state : s),
      dirs[0]?.state ?? 'up',
    );
    p.msgsPerSec = dirs.reduce((s, l) => s + l.msgsPerSec, 0);
    p.bytesPerSec = dirs.reduce((s, l) => s + l.bytesPerSec, 0);
  }
  return pairs;
}

/** Segment: a straight piece of a lane, from (x1, y1) to (x2, y2). */
export interface Segment {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** LANE_OFFSET: how far each direction's own lane lies beside the pair's centre line. */
export const LANE_OFFSET = 6;

/**
 * lane: the path from node `from` to node `to`, trimmed to start and end outside both nodes'
 * timer arcs, moved `offset` units to the right of the direction of travel (so the two
 * directions of a pair, with the same offset, lie on opposite sides of the centre line).
 */
export function lane(from: NodePlace, to: NodePlace, offset = 0): Segment {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  // Right of travel in SVG's y-down coordinates.
  const nx = -uy * offset;
  const ny = ux * offset;
  const t1 = Math.min(len / 2, from.r + TIMER_GAP + 6);
  const t2 = Math.min(len / 2, to.r + TIMER_GAP + 6);
  return {
    x1: round(from.x + ux * t1 + nx),
    y1: round(from.y + uy * t1 + ny),
    x2: round(to.x - ux * t2 + nx),
    y2: round(to.y - uy * t2 + ny),
  };
}

/** pointAt: the point a fraction t ∈ [0, 1] of the way along a segment. */
export function pointAt(s: Segment, t: number): Point {
  return { x: s.x1 + (s.x2 - s.x1) * t, y: s.y1 + (s.y2 - s.y1) * t };
}

/** CUT_GAP: the gap left in the middle of a cut link. */
export const CUT_GAP = 26;

/** cutPieces: a segment with a gap of CUT_GAP in its middle, as two segments. */
export function cutPieces(s: Segment): [Segment, Segment] {
  const len = Math.hypot(s.x2 - s.x1, s.y2 - s.y1) || 1;
  const half = Math.min(0.45, CUT_GAP / 2 / len);
  const m1 = pointAt(s, 0.5 - half);
  const m2 = pointAt(s, 0.5 + half);
  return [
    { x1: s.x1, y1: s.y1, x2: round(m1.x), y2: round(m1.y) },
    { x1: round(m2.x), y1: round(m2.y), x2: s.x2, y2: s.y2 },
  ];
}

/** segmentPath: an SVG path for one or more segments. */
export function segmentPath(...segs: Segment[]): string {
  return segs.map((s) => `M${s.x1} ${s.y1}L${s.x2} ${s.y2}`).join('');
}

/**
 * linkWidth: a link's stroke width from its traffic: 1.5 when idle, one more unit per doubling
 * above 2 KiB/s, at most 8.
 */
export function linkWidth(bytesPerSec: number): number {
  if (!(bytesPerSec > 0)) return 1.5;
  return Math.round(Math.min(8, 1.5 + Math.max(0, Math.log2(1 + bytesPerSec / 2048))) * 10) / 10;
}

/** formatRate: messages per second in a link label ("12 msg/s", "0.5 msg/s"), "" when idle. */
export function formatRate(msgsPerSec: number): string {
  if (!(msgsPerSec >= 0.05)) return '';
  const v = msgsPerSec >= 10 ? Math.round(msgsPerSec) : Math.round(msgsPerSec * 10) / 10;
  return `${v} msg/s`;
}

/**
 * pairLabel: what a pair's label says: the rule of each faulty direction (prefixed with its
 * direction when the pair is split), then its message rate; "" when there is nothing to say.
 * Cut links are drawn with a gap, not a label; their rule is in the link's tooltip.
 */
export function pairLabel(p: Pair): string {
  const words: string[] = [];
  for (const l of [p.ab, p.ba]) {
    if (!l || l.state !== 'faulty' || !l.rule) continue;
    const rule = l.rule;
    const prefix = p.split ? `${l.from}→${l.to}: ` : '';
    if (!words.some((w) => w.endsWith(rule))) words.push(prefix + rule);
  }
  const rate = formatRate(p.msgsPerSec);
  if (rate) words.push(rate);
  return words.join(' · ');
}

/**
 * marksAround: positions for small marks (vote answers) around a node, each on the node's circle
 * of radius `radius` in the direction of the node it names; marks for nodes not placed are left
 * out.
 */
export function marksAround(
  at: NodePlace,
  toward: readonly NodeId[],
  places: ReadonlyMap<NodeId, Point>,
  radius: number,
): { id: NodeId; x: number; y: number }[] {
  const out: { id: NodeId; x: number; y: number }[] = [];
  for (const id of toward) {
    const p = places.get(id);
    if (!p) continue;
    const a = Math.atan2(p.y - at.y, p.x - at.x);
    out.push({ id, x: round(at.x + radius * Math.cos(a)), y: round(at.y + radius * Math.sin(a)) });
  }
  return out;
}

/** arcLength: the circumference of a timer arc of radius r (its dash length). */
export const arcLength = (r: number): number => 2 * Math.PI * r;

/**
 * nearestNode: the placed node whose centre is within `reach` of point p (the closest one), or
 * null; `except` is left out (the node being dragged).
 */
export function nearestNode(
  places: Iterable<NodePlace>,
  p: Point,
  reach: number,
  except?: NodeId,
): NodeId | null {
  let best: NodeId | null = null;
  let bestD = Infinity;
  for (const n of places) {
    if (n.id === except) continue;
    const d = Math.hypot(n.x - p.x, n.y - p.y);
    if (d <= reach && d < bestD) {
      best = n.id;
      bestD = d;
    }
  }
  return best;
}
