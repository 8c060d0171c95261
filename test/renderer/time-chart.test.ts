// @vitest-environment happy-dom
// TimeChart over uPlot, on a recording 2D context (happy-dom has no canvas): the window it shows,
// zoom by a drag selection and back by double-click, the span buttons, and the bands it shades.
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type uPlot from 'uplot';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import TimeChart from '../../renderer/src/components/common/TimeChart.vue';
import type { Band, ChartData } from '../../renderer/src/lib/chart';

/** fills: every fillRect on any chart canvas, with the fill style it used. */
const fills: { style: string; x: number; w: number }[] = [];

beforeAll(() => {
  const noop = () => undefined;
  const context = () => {
    const ctx: Record<string | symbol, unknown> = {
      fillStyle: '',
      measureText: (s: string) => ({ width: s.length * 6 }),
      fillRect(x: number, _y: number, w: number) {
        fills.push({ style: String(ctx.fillStyle), x, w });
      },
    };
    return new Proxy(ctx, {
      get: (t, k) => (k in t ? t[k] : noop),
      set: (t, k, v) => ((t[k] = v), true),
    });
  };
  HTMLCanvasElement.prototype.getContext = context as never;
  (globalThis as { Path2D?: unknown }).Path2D = class {
    moveTo = noop;
    lineTo = noop;
    rect = noop;
    arc = noop;
    closePath = noop;
    bezierCurveTo = noop;
    addPath = noop;
  };
});

let w: VueWrapper | undefined;
beforeEach(() => {
  setActivePinia(createPinia());
  fills.length = 0;
});
afterEach(() => {
  w?.unmount();
  w = undefined;
});

/** data: one sample a second for `n` seconds, ending at 1,000,000 ms. */
function data(n: number, end = 1_000_000): ChartData {
  const times = Array.from({ length: n }, (_, i) => end - (n - 1 - i) * 1000);
  return { times, lines: [{ name: 'ok', color: 'var(--accent)', values: times.map(() => 5) }] };
}

async function chart(d: ChartData, bands: Band[] = []) {
  w = mount(TimeChart, {
    props: { data: d, bands, unit: 'ops/s', title: 'Throughput' },
    global: { plugins: [createPinia()] },
    attachTo: document.body,
  });
  await w.vm.$nextTick();
  return w;
}
const plot = () => (w!.vm as unknown as { plot: uPlot }).plot;
const xRange = () => ({ from: plot().scales.x.min, to: plot().scales.x.max });

describe('TimeChart', () => {
  it('follows the newest minute, and the whole run when asked', async () => {
    await chart(data(600));
    expect(xRange()).toEqual({ from: 940_000, to: 1_000_000 });
    await w!.setProps({ data: data(601, 1_001_000) });
    expect(xRange()).toEqual({ from: 941_000, to: 1_001_000 });
    const all = w!.findAll('.span').find((b) => b.text() === 'all')!;
    await all.trigger('click');
    expect(xRange()).toEqual({ from: 401_000, to: 1_001_000 });
    expect(all.attributes('aria-pressed')).toBe('true');
  });

  it('a drag selection zooms and holds while data comes; a double-click follows again', async () => {
    await chart(data(600));
    const u = plot();
    const left = u.valToPos(950_000, 'x');
    const right = u.valToPos(970_000, 'x');
    u.setSelect({ left, top: 0, width: right - left, height: 10 });
    await w!.vm.$nextTick();
    expect(xRange().from).toBeCloseTo(950_000, -2);
    expect(xRange().to).toBeCloseTo(970_000, -2);
    expect(w!.get('.hint').text()).toContain('zoomed');
    await w!.setProps({ data: data(601, 1_001_000) });
    expect(xRange().to).toBeCloseTo(970_000, -2);
    u.over.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    await w!.vm.$nextTick();
    expect(xRange()).toEqual({ from: 941_000, to: 1_001_000 });
    expect(w!.get('.hint').text()).toBe('drag to zoom');
  });

  it('shades each band over its time range, behind the lines', async () => {
    await chart(data(600), [
      { kind: 'fault', from: 950_000, to: 960_000 },
      { kind: 'errors', from: 980_000, to: null },
    ]);
    plot().redraw(false);
    const u = plot();
    const band = (style: string) => fills.filter((f) => f.style === style).at(-1)!;
    const fault = band('--warn-bg');
    expect(fault.x).toBeCloseTo(u.valToPos(950_000, 'x', true), 0);
    expect(fault.x + fault.w).toBeCloseTo(u.valToPos(960_000, 'x', true), 0);
    // An open band reaches the newest sample.
    const errors = band('--bad-bg');
    expect(errors.x + errors.w).toBeCloseTo(u.valToPos(1_000_000, 'x', true), 0);
    expect(w!.text()).toContain('fault');
    expect(w!.text()).toContain('failed ops');
  });
});
