import type { Segments } from '../api.js';
import { chart, Plot, SYMBOLS } from '../charts.js';
import { fmt, pct, section, stat, table, h } from '../dom.js';
import { ofModelKind, type Page } from './page.js';

export const segmentsPage: Page<Segments> = {
  id: 'segments',
  title: 'Segments',
  ...ofModelKind<Segments>('segments', '/v1/insights/segments'),
  render(d) {
    const name = (s: number) => `segment ${s}`;
    const projection = d.projection;
    const dots = projection ? projection.x.map((x, i) => ({ x, y: projection.y[i], segment: name(projection.segment[i]) })) : [];
    const names = d.profiles.map((p) => name(p.segment));
    return [
      section(`Segment model "${d.model}"`, h('div', { class: 'stats' }, stat('segments', fmt(d.k)), stat('silhouette', fmt(d.silhouette)), stat('inertia', fmt(d.inertia)))),
      section(
        'Sizes and profiles',
        chart('segment-sizes', 'Customers per segment', () => ({
          x: { label: null, domain: names },
          y: { label: 'customers', grid: true },
          marks: [Plot.barY(d.profiles, { x: (p) => name(p.segment), y: 'size', fill: (p) => name(p.segment) }), Plot.text(d.profiles, { x: (p) => name(p.segment), y: 'size', text: (p) => pct(p.share), dy: -8 }), Plot.ruleY([0])],
          color: { domain: names },
        })),
        table(
          ['segment', 'customers', 'share', 'recency (days)', 'frequency', 'monetary', 'top categories'],
          d.profiles.map((p) => [name(p.segment), fmt(p.size), pct(p.share), fmt(p.recencyDays), fmt(p.frequency), fmt(p.monetary), p.topCategories.slice(0, 3).map((c) => `${c.category} (${pct(c.share, 0)})`).join(', ') || '–']),
          'R/F/M profile of each segment',
        ),
      ),
      projection
        ? section(
            'Customers on the two leading principal axes',
            chart('projection', 'Customers by segment (a sample)', () => ({
              x: { label: `axis 1 (${pct(projection.explained[0], 0)} of variance)` },
              y: { label: `axis 2 (${pct(projection.explained[1], 0)} of variance)` },
              symbol: { domain: names, range: SYMBOLS.slice(0, names.length) as unknown as string[], legend: true },
              color: { domain: names, legend: false },
              marks: [Plot.dot(dots, { x: 'x', y: 'y', stroke: 'segment', symbol: 'segment', r: 2.5, strokeOpacity: 0.7 })],
            }), 'Each segment has its own symbol as well as its own colour.'),
          )
        : h('span'),
      section(
        'How many segments',
        d.diagnostics.length === 0 ? h('p', { class: 'empty' }, `Trained with k = ${d.k} given, so there is no k range to compare (train with a k range to see silhouette and inertia by k).`) : h(
          'div',
          { class: 'grid2' },
          chart('silhouette', 'Silhouette by k (higher is better)', () => ({
            x: { label: 'k', ticks: d.diagnostics.map((x) => x.k), tickFormat: 'd' },
            y: { label: 'silhouette', grid: true },
            marks: [Plot.line(d.diagnostics, { x: 'k', y: 'silhouette' }), Plot.dot(d.diagnostics, { x: 'k', y: 'silhouette', fill: 'currentColor' }), Plot.ruleX([d.k], { strokeDasharray: '4 4' }), Plot.text([d.k], { x: (k) => k, frameAnchor: 'top', text: () => `chosen k = ${d.k}`, dy: 8 })],
          })),
          chart('inertia', 'Inertia by k (the elbow)', () => ({
            x: { label: 'k', ticks: d.diagnostics.map((x) => x.k), tickFormat: 'd' },
            y: { label: 'inertia', grid: true },
            marks: [Plot.line(d.diagnostics, { x: 'k', y: 'inertia' }), Plot.dot(d.diagnostics, { x: 'k', y: 'inertia', symbol: 'square', fill: 'currentColor' }), Plot.ruleX([d.k], { strokeDasharray: '4 4' })],
          })),
        ),
      ),
    ];
  },
};
