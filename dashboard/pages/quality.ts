import type { Overview, Quality, Source } from '../api.js';
import { chart, Plot } from '../charts.js';
import { fmt, pct, section, stat, table, h } from '../dom.js';
import type { Page } from './page.js';

const CURVE_LABELS: Record<string, string> = { loss: 'training loss', correct: 'share of pairs ranked right' };

export const qualityPage: Page<Quality[]> = {
  id: 'quality',
  title: 'Recommendation quality',
  shows: (o) => o.models.some((m) => m.recommends),
  async load(src: Source, o: Overview) {
    return Promise.all(o.models.filter((m) => m.recommends).map((m) => src.get<Quality>(`/v1/insights/quality?model=${encodeURIComponent(m.name)}`)));
  },
  render(list) {
    return list.map((d) => {
      const curves = Object.entries(d.curves).filter(([, v]) => v.length > 0);
      const figures = Object.entries(d.figures);
      return section(
        `${d.kind} model "${d.model}"`,
        d.lists
          ? h(
              'div',
              { class: 'stats' },
              stat('catalogue coverage', pct(d.lists.coverage), `top-${d.lists.k} lists of ${fmt(d.lists.users)} users`),
              stat('popularity of recommended items', pct(d.lists.recommendedPopularity, 0), `percentile; users' own items: ${pct(d.lists.historyPopularity, 0)}`),
              stat('from the top 10% of items', pct(d.lists.topDecileShare)),
            )
          : null,
        curves.map(([name, y]) =>
          chart(`curve-${d.model}-${name}`, `${CURVE_LABELS[name] ?? name} per iteration`, () => ({
            x: { label: 'iteration', grid: true, tickFormat: 'd' },
            y: { label: CURVE_LABELS[name] ?? name, grid: true },
            marks: [Plot.line(y.map((v, i) => ({ i: i + 1, v })), { x: 'i', y: 'v' }), Plot.dot(y.map((v, i) => ({ i: i + 1, v })), { x: 'i', y: 'v', fill: 'currentColor', r: 2.5 })],
          })),
        ),
        figures.length > 0 ? table(['figure', 'value'], figures.map(([k, v]) => [k, fmt(v, 4)]), 'Training and the last evaluation') : h('p', { class: 'empty' }, 'No quality figures kept in this model file.'),
      );
    });
  },
};
