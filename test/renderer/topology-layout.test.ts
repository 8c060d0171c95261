// The Topology view's geometry: ring layout, label placement, link lanes and labels.
import { describe, expect, it } from 'vitest';
import type { LinkView } from '../../main/contract/view';
import {
  cutPieces,
  drawingSize,
  formatRate,
  HEIGHT,
  LABEL_LINE,
  LABEL_LINES,
  labelLineY,
  lane,
  MIN_HEIGHT,
  MIN_WIDTH,
  LANE_OFFSET,
  layoutTopology,
  linkWidth,
  marksAround,
  nearestNode,
  pairLabel,
  pairsOf,
  pointAt,
  TIMER_GAP,
} from '../../renderer/src/lib/topology-layout';

const link = (from: number, to: number, over: Partial<LinkView> = {}): LinkView => ({
  from,
  to,
  state: 'up',
  rule: null,
  drop: 0,
  delayMs: 0,
  oneWay: false,
  msgsPerSec: 0,
  bytesPerSec: 0,
  connected: true,
  ...over,
});

/** box: a rough bounding box of a node's circle, arc and label block. */
function boxes(l: ReturnType<typeof layoutTopology>) {
  return [...l.nodes.values()].map((n) => {
    const R = n.r + TIMER_GAP + 4;
    return { id: n.id, x1: n.x - R, x2: n.x + R, y1: n.y - R, y2: n.y + R };
  });
}

describe('layoutTopology', () => {
  it('puts the first voter at the top and goes clockwise, every node and label inside', () => {
    for (const h of [MIN_HEIGHT, HEIGHT]) {
      for (const n of [3, 5, 7, 9]) {
        const ids = Array.from({ length: n }, (_, i) => i + 1);
        const l = layoutTopology(ids, n === 9 ? [10] : [], MIN_WIDTH, h);
        const first = l.nodes.get(1)!;
        expect(first.x).toBeCloseTo(l.width / 2, 0);
        expect(first.y).toBeLessThan(l.cy);
        // clockwise in y-down coordinates: the second is right of the first
        expect(l.nodes.get(2)!.x).toBeGreaterThan(first.x);
        // a drawing too small for the ring grows, keeping its aspect
        expect(l.width / l.height).toBeCloseTo(MIN_WIDTH / h, 1);
        expect(l.height).toBeGreaterThanOrEqual(h);
        for (const b of boxes(l)) {
          expect(b.x1).toBeGreaterThanOrEqual(0);
          expect(b.x2).toBeLessThanOrEqual(l.width);
          expect(b.y1).toBeGreaterThanOrEqual(0);
          expect(b.y2).toBeLessThanOrEqual(l.height);
        }
        for (const p of l.nodes.values()) {
          // a full label block: cap height above the first baseline, descent below the last
          const top = labelLineY(p.label, 0, LABEL_LINES) - LABEL_LINE * 0.8;
          const bottom = labelLineY(p.label, LABEL_LINES - 1, LABEL_LINES) + LABEL_LINE * 0.3;
          expect(top, `label of node ${p.id}, height ${h}`).toBeGreaterThanOrEqual(0);
          expect(bottom, `label of node ${p.id}, height ${h}`).toBeLessThanOrEqual(l.height);
          // and it does not cover its own node
          if (p.label.anchor === 'middle') expect(top > p.y + p.r || bottom < p.y - p.r).toBe(true);
        }
      }
    }
  });

  it('never lets two nodes (with their timer arcs) overlap, up to 9 voters and 3 learners', () => {
    const nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (const [voters, apart, w, h] of [
      [nine, [], MIN_WIDTH, MIN_HEIGHT],
      [[1, 2, 3, 4, 5, 6], [7, 8, 9], MIN_WIDTH, MIN_HEIGHT],
      [[1, 2, 3, 4, 5], [6], MIN_WIDTH, MIN_HEIGHT],
      [nine, [10, 11, 12], 1200, HEIGHT],
      [nine, [10, 11, 12], 1700, HEIGHT],
    ] as const) {
      const l = layoutTopology(voters, apart, w, h);
      const all = [...l.nodes.values()];
      for (const a of all) {
        for (const b of all) {
          if (a.id >= b.id) continue;
          const gap = Math.hypot(a.x - b.x, a.y - b.y) - 2 * (a.r + TIMER_GAP);
          expect(gap, `nodes ${a.id} and ${b.id} at ${w}×${h}`).toBeGreaterThan(20);
        }
      }
    }
  });

  it('sets learners apart on a row below the ring, labels beside them', () => {
    const l = layoutTopology([1, 2, 3], [4, 5], 1200);
    const ring = [1, 2, 3].map((id) => l.nodes.get(id)!);
    const apart = [4, 5].map((id) => l.nodes.get(id)!);
    expect(ring.every((n) => n.ring)).toBe(true);
    expect(apart.every((n) => !n.ring)).toBe(true);
    const lowestVoter = Math.max(...ring.map((n) => n.y + n.r));
    for (const n of apart) {
      expect(n.y - n.r).toBeGreaterThan(lowestVoter);
      expect(n.label.anchor).toBe('start');
      expect(n.label.x).toBeGreaterThan(n.x + n.r);
    }
    expect(apart[0]!.y).toBe(apart[1]!.y);
  });

  it('places labels away from the centre: beside side nodes, above the top one', () => {
    const l = layoutTopology([1, 2, 3, 4], [], 1200);
    const top = l.nodes.get(1)!;
    expect(top.label.anchor).toBe('middle');
    expect(top.label.y).toBeLessThan(top.y - top.r);
    const right = l.nodes.get(2)!;
    expect(right.label.anchor).toBe('start');
    expect(right.label.x).toBeGreaterThan(right.x);
    const left = l.nodes.get(4)!;
    expect(left.label.anchor).toBe('end');
    expect(left.label.x).toBeLessThan(left.x);
    const bottom = l.nodes.get(3)!;
    expect(bottom.label.y).toBeGreaterThan(bottom.y + bottom.r);
  });

  it('drawingSize keeps one unit per pixel in its height range, the width by aspect', () => {
    expect(drawingSize(1600, 700)).toEqual({ width: 1600, height: 700 });
    expect(drawingSize(1020, 500)).toEqual({ width: Math.round((560 * 1020) / 500), height: 560 });
    expect(drawingSize(1660, 900)).toEqual({ width: Math.round((800 * 1660) / 900), height: 800 });
    expect(drawingSize(400, 800)).toEqual({ width: MIN_WIDTH, height: 800 });
    expect(drawingSize(4000, 800)).toEqual({ width: 1700, height: 800 });
    expect(drawingSize(0, 0)).toEqual({ width: 1200, height: HEIGHT });
  });

  it("a label block's lines: downward from the top, upward from the bottom, centred beside", () => {
    const at = (align: 'top' | 'middle' | 'bottom') =>
      [0, 1, 2].map((i) => labelLineY({ x: 0, y: 100, anchor: 'middle', align }, i, 3));
    expect(at('top')).toEqual([100, 100 + LABEL_LINE, 100 + 2 * LABEL_LINE]);
    expect(at('bottom')).toEqual([100 - 2 * LABEL_LINE, 100 - LABEL_LINE, 100]);
    expect(at('middle')).toEqual([100 - LABEL_LINE, 100, 100 + LABEL_LINE]);
  });
});

describe('links', () => {
  const l = layoutTopology([1, 2, 3], [], 1200);
  const a = l.nodes.get(1)!;
  const b = l.nodes.get(2)!;

  it('a lane starts and ends outside both timer arcs, and the two directions lie apart', () => {
    const s = lane(a, b, 0);
    expect(Math.hypot(s.x1 - a.x, s.y1 - a.y)).toBeGreaterThan(a.r + TIMER_GAP);
    expect(Math.hypot(s.x2 - b.x, s.y2 - b.y)).toBeGreaterThan(b.r + TIMER_GAP);
    const ab = lane(a, b, LANE_OFFSET);
    const ba = lane(b, a, LANE_OFFSET);
    const mAB = pointAt(ab, 0.5);
    const mBA = pointAt(ba, 0.5);
    expect(Math.hypot(mAB.x - mBA.x, mAB.y - mBA.y)).toBeCloseTo(2 * LANE_OFFSET, 0);
  });

  it('a cut link leaves a gap in its middle', () => {
    const s = lane(a, b, 0);
    const [p, q] = cutPieces(s);
    expect(p.x1).toBe(s.x1);
    expect(q.x2).toBe(s.x2);
    const gap = Math.hypot(q.x1 - p.x2, q.y1 - p.y2);
    expect(gap).toBeGreaterThan(20);
    const mid = pointAt(s, 0.5);
    expect(Math.hypot(mid.x - p.x2, mid.y - p.y2)).toBeCloseTo(gap / 2, 0);
  });

  it('pairs both directions; a one-way fault splits the pair into two lanes', () => {
    const pairs = pairsOf([
      link(1, 2, { msgsPerSec: 10, bytesPerSec: 1000 }),
      link(2, 1, { msgsPerSec: 5, bytesPerSec: 500 }),
      link(1, 3, { state: 'cut', rule: 'partition', oneWay: true }),
      link(3, 1),
      link(2, 3, { state: 'faulty', rule: 'drop 30%' }),
      link(3, 2, { state: 'faulty', rule: 'drop 30%' }),
    ]);
    expect(pairs.map((p) => p.key)).toEqual(['1-2', '1-3', '2-3']);
    const [p12, p13, p23] = pairs;
    expect(p12!.split).toBe(false);
    expect(p12!.msgsPerSec).toBe(15);
    expect(p12!.bytesPerSec).toBe(1500);
    expect(p13!.split).toBe(true);
    expect(p13!.state).toBe('cut');
    expect(p23!.split).toBe(false);
    expect(p23!.state).toBe('faulty');
    // one rule said once when both directions carry it
    expect(pairLabel(p23!)).toBe('drop 30%');
    expect(pairLabel(p12!)).toBe('15 msg/s');
    expect(pairLabel(p13!)).toBe('');
  });

  it('labels a split faulty pair with its direction', () => {
    const [p] = pairsOf([
      link(1, 2, { state: 'faulty', rule: 'delay 200 ms', oneWay: true, msgsPerSec: 2 }),
      link(2, 1),
    ]);
    expect(pairLabel(p!)).toBe('1→2: delay 200 ms · 2 msg/s');
  });

  it('thickness grows with bytes per second, bounded', () => {
    expect(linkWidth(0)).toBe(1.5);
    expect(linkWidth(2048)).toBeGreaterThan(linkWidth(0));
    expect(linkWidth(1e6)).toBeGreaterThan(linkWidth(64 * 1024));
    expect(linkWidth(1e12)).toBe(8);
    expect(formatRate(0)).toBe('');
    expect(formatRate(0.46)).toBe('0.5 msg/s');
    expect(formatRate(123.4)).toBe('123 msg/s');
  });
});

describe('marks and hit tests', () => {
  const l = layoutTopology([1, 2, 3], [], 1200);
  it('puts a vote mark on the candidate toward the voter it names', () => {
    const c = l.nodes.get(1)!;
    const [m] = marksAround(c, [2], l.nodes, 70);
    const v = l.nodes.get(2)!;
    expect(Math.hypot(m!.x - c.x, m!.y - c.y)).toBeCloseTo(70, 0);
    // toward node 2: the mark is closer to 2 than the candidate is
    expect(Math.hypot(m!.x - v.x, m!.y - v.y)).toBeLessThan(Math.hypot(c.x - v.x, c.y - v.y));
    expect(marksAround(c, [9], l.nodes, 70)).toEqual([]);
  });

  it('nearestNode finds the node under a point, leaving out the dragged one', () => {
    const n2 = l.nodes.get(2)!;
    expect(nearestNode(l.nodes.values(), { x: n2.x + 5, y: n2.y }, 60)).toBe(2);
    expect(nearestNode(l.nodes.values(), { x: n2.x + 5, y: n2.y }, 60, 2)).toBe(null);
    expect(nearestNode(l.nodes.values(), { x: l.cx, y: l.cy }, 60)).toBe(null);
  });
});
