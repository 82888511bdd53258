import type { Churn } from '../api.js';
import { chart, Plot, points } from '../charts.js';
import { fmt, pct, section, stat, table, h } from '../dom.js';
import { ofModelKind, type Page } from './page.js';

export const churnPage: Page<Churn> = {
  id: 'churn',
  title: 'Churn',
  ...ofModelKind<Churn>('propensity', '/v1/insights/churn'),
  render(d) {
    const base = d.positives / Math.max(1, d.rows);
    // An empty bin has no mean to draw.
    const bins = d.calibration.filter((b) => b.count > 0);
    return [
      section(
        `Propensity model "${d.model}" on held-out customers`,
        h('div', { class: 'stats' }, stat('ROC AUC', fmt(d.rocAuc)), stat('PR AUC', fmt(d.prAuc), `base rate ${pct(base)}`), stat('held-out customers', fmt(d.rows), `${fmt(d.positives)} positive`)),
      ),
      section(
        'How well it ranks',
        h(
          'div',
          { class: 'grid2' },
          chart('roc', 'ROC curve', () => ({
            x: { label: 'false positive rate', domain: [0, 1] },
            y: { label: 'true positive rate', domain: [0, 1] },
            marks: [Plot.line([[0, 0], [1, 1]], { strokeDasharray: '4 4', stroke: 'currentColor', strokeOpacity: 0.5 }), Plot.line(points(d.roc), { x: 'x', y: 'y', strokeWidth: 2 }), Plot.text([{ x: 0.6, y: 0.3 }], { x: 'x', y: 'y', text: () => `AUC ${fmt(d.rocAuc)}` })],
          }), 'The dashed diagonal is a random ranking.'),
          chart('pr', 'Precision and recall', () => ({
            x: { label: 'recall', domain: [0, 1] },
            y: { label: 'precision', domain: [0, 1] },
            marks: [Plot.ruleY([base], { strokeDasharray: '4 4', strokeOpacity: 0.5 }), Plot.line(points(d.pr), { x: 'x', y: 'y', strokeWidth: 2 })],
          }), `The dashed line is the base rate (${pct(base)}).`),
        ),
      ),
      section(
        'Calibration and weights',
        h(
          'div',
          { class: 'grid2' },
          chart('calibration', 'Calibration: predicted against observed, by decile', () => ({
            x: { label: 'mean predicted probability', domain: [0, 1] },
            y: { label: 'observed rate', domain: [0, 1] },
            marks: [Plot.line([[0, 0], [1, 1]], { strokeDasharray: '4 4', strokeOpacity: 0.5 }), Plot.line(bins, { x: 'meanPredicted', y: 'observedRate' }), Plot.dot(bins, { x: 'meanPredicted', y: 'observedRate', r: (b) => Math.sqrt(b.count), fill: 'currentColor', fillOpacity: 0.6, tip: true })],
          }), 'Dots on the diagonal are well calibrated; their area is the number of customers.'),
          chart('weights', d.weightKind === 'coefficient' ? 'Coefficients (standardized features)' : 'Feature importances', (w) => ({
            marginLeft: Math.min(180, w * 0.35),
            x: { label: d.weightKind === 'coefficient' ? 'coefficient' : 'importance', grid: true },
            y: { label: null, domain: d.weights.map((x) => x.feature) },
            marks: [Plot.barX(d.weights, { x: 'weight', y: 'feature', fill: (x) => (x.weight < 0 ? 'negative' : 'positive') }), Plot.text(d.weights, { x: 'weight', y: 'feature', text: (x) => fmt(x.weight), dx: 4, textAnchor: 'start' }), Plot.ruleX([0])],
            color: { domain: ['negative', 'positive'], legend: false },
          })),
        ),
        table(['bin', 'customers', 'mean predicted', 'observed'], d.calibration.map((b) => [`${pct(b.lower, 0)}–${pct(b.upper, 0)}`, fmt(b.count), pct(b.meanPredicted), pct(b.observedRate)]), 'Calibration bins'),
      ),
    ];
  },
};
