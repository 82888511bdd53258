import type { Lifetime } from '../api.js';
import { chart, Plot } from '../charts.js';
import { fmt, section, stat, table, h } from '../dom.js';
import { ofModelKind, type Page } from './page.js';

function heatmap(id: string, title: string, d: Lifetime, values: number[], label: string, scheme: Plot.ColorScheme): HTMLElement {
  const { frequency, recency } = d.grid;
  const cells = frequency.flatMap((f, i) => recency.map((r, j) => ({ f, r, v: values[i * recency.length + j], i, j })));
  return chart(id, title, (w) => {
    const every = w > 600 ? 2 : 4;
    return {
      padding: 0,
      marginLeft: 44,
      x: { label: 'recency: weeks from first to last purchase', type: 'band', tickFormat: (r: number) => fmt(r, 2), ticks: recency.filter((_, j) => j % 4 === 0) },
      y: { label: 'repeat purchases', type: 'band', reverse: true, ticks: frequency.filter((f) => f % 5 === 0) },
      color: { scheme, legend: true, label },
      marks: [
        Plot.cell(cells, { x: 'r', y: 'f', fill: 'v', inset: 0.5, tip: true, title: (c) => `${c.f} repeat purchases, recency ${fmt(c.r, 2)} weeks: ${fmt(c.v)}` }),
        // The values themselves on every few cells: the map reads without colour.
        Plot.text(cells.filter((c) => c.i % every === 0 && c.j % every === 0), { x: 'r', y: 'f', text: (c) => fmt(c.v, 2), fontSize: 8, fill: (c) => (c.v > 0.5 * Math.max(...values) ? 'black' : 'white') }),
      ],
    };
  });
}

export const lifetimePage: Page<Lifetime> = {
  id: 'lifetime',
  title: 'Lifetime value',
  ...ofModelKind<Lifetime>('clv', '/v1/insights/lifetime'),
  render(d) {
    const total = d.values.reduce((a, b) => a + b.count, 0);
    const holdout = d.holdout;
    const pairs = holdout ? holdout.groups.flatMap((g) => [{ f: g.frequency, v: g.predicted, what: 'predicted' }, { f: g.frequency, v: g.actual, what: 'actual' }]) : [];
    return [
      section(`Lifetime-value model "${d.model}"`, h('div', { class: 'stats' }, stat('customers observed up to', `${fmt(d.T)} weeks`), stat('horizon', `${fmt(d.grid.horizonWeeks)} weeks`))),
      section(
        'Frequency and recency',
        h(
          'div',
          { class: 'grid2' },
          heatmap('p-alive', 'P(alive) by frequency and recency', d, d.grid.probabilityAlive, 'P(alive)', 'blues'),
          heatmap('expected-purchases', `Expected purchases over the next ${fmt(d.grid.horizonWeeks)} weeks`, d, d.grid.expectedPurchases, 'expected purchases', 'oranges'),
        ),
      ),
      section(
        'Customer values',
        chart('clv-distribution', `Lifetime value of ${fmt(total)} customers (a sample)`, () => ({
          x: { label: 'lifetime value', grid: true },
          y: { label: 'customers', grid: true },
          marks: [Plot.rectY(d.values, { x1: 'lower', x2: 'upper', y: 'count', inset: 0.5, fill: 'currentColor', fillOpacity: 0.7 }), Plot.ruleY([0])],
        })),
      ),
      holdout
        ? section(
            `Holdout: predicted against actual purchases in the last ${fmt(holdout.weeks)} weeks`,
            chart('holdout', 'Mean purchases by repeat purchases in calibration', () => ({
              x: { label: 'repeat purchases in calibration', grid: true },
              y: { label: 'purchases per customer in holdout', grid: true },
              symbol: { domain: ['predicted', 'actual'], legend: true },
              marks: [Plot.line(pairs.filter((p) => p.what === 'predicted'), { x: 'f', y: 'v', strokeDasharray: '6 3' }), Plot.line(pairs.filter((p) => p.what === 'actual'), { x: 'f', y: 'v' }), Plot.dot(pairs, { x: 'f', y: 'v', symbol: 'what', stroke: 'currentColor' })],
            }), 'Dashed: predicted; solid: actual (each with its own symbol).'),
            table(['repeat purchases', 'customers', 'predicted', 'actual'], holdout.groups.map((g) => [fmt(g.frequency), fmt(g.customers), fmt(g.predicted), fmt(g.actual)])),
          )
        : h('span'),
    ];
  },
};
