// Every chart goes through here: Observable Plot draws SVG (axis labels and values as text, so the charts
// read without colour and tests can find them), sized to the card it sits in.
import * as Plot from '@observablehq/plot';
import { h } from './dom.js';

export { Plot };

/**
 * A figure with a caption; the plot is drawn once the figure is in the page (its width is the card's),
 * and drawn again when the window changes size.
 */
export function chart(id: string, title: string, draw: (width: number) => Plot.PlotOptions, note?: string): HTMLElement {
  const holder = h('div', { class: 'plot' });
  const fig = h('figure', { class: 'chart', 'data-chart': id }, h('figcaption', {}, title), holder, note ? h('p', { class: 'note' }, note) : null);
  let drawn = -1;
  const render = () => {
    const width = Math.max(280, Math.min(760, Math.floor(holder.clientWidth || fig.clientWidth || 640)));
    if (width === drawn) return;
    drawn = width;
    const options = draw(width);
    const plot = Plot.plot({ width, height: Math.round(Math.min(360, Math.max(220, width * 0.55))), style: { fontSize: '12px', background: 'transparent' }, ...options });
    plot.setAttribute('role', 'img');
    plot.setAttribute('aria-label', title);
    holder.replaceChildren(plot);
  };
  queueMicrotask(function attach() {
    if (!fig.isConnected) return void requestAnimationFrame(attach);
    render();
    new ResizeObserver(() => render()).observe(holder);
  });
  return fig;
}

/** Symbols by series as well as colours: two series stay apart in grey print. */
export const SYMBOLS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star', 'wye', 'times'] as const;

export function symbolOf(i: number): string {
  return SYMBOLS[i % SYMBOLS.length];
}

/** Points of an { x, y } series as rows for Plot. */
export function points(series: { x: number[]; y: number[] }, extra: Record<string, string | number> = {}): { x: number; y: number }[] {
  return series.x.map((x, i) => ({ x, y: series.y[i], ...extra }));
}
