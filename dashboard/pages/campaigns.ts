import type { Campaigns } from '../api.js';
import { chart, Plot, points, symbolOf } from '../charts.js';
import { fmt, pct, section, table, h } from '../dom.js';
import { ofModelKind, type Page } from './page.js';

/** Profit of targeting the first x customers by predicted uplift: value of each extra outcome, less the cost of each contact. */
export function profitCurve(curve: { x: number[]; y: number[] }, value: number, cost: number): { x: number; y: number }[] {
  return curve.x.map((x, i) => ({ x, y: value * curve.y[i] - cost * x }));
}

/** One curve per treatment arm over customers targeted, a symbol on every 20th point, beside reference marks. */
function armCurves(id: string, title: string, yLabel: string, rows: { x: number; y: number }[], arms: string[], reference: Plot.Markish[], note: string): HTMLElement {
  return chart(id, title, () => ({
    x: { label: 'customers targeted', grid: true },
    y: { label: yLabel, grid: true },
    color: { domain: arms, legend: true },
    marks: [...reference, Plot.line(rows, { x: 'x', y: 'y', stroke: 'arm' }), Plot.dot(rows.filter((_, i) => i % 20 === 0), { x: 'x', y: 'y', stroke: 'arm', symbol: 'symbol' })],
  }), note);
}

export const campaignsPage: Page<Campaigns> = {
  id: 'campaigns',
  title: 'Campaigns',
  ...ofModelKind<Campaigns>('uplift', '/v1/insights/campaigns'),
  render(d) {
    const arms = d.arms.map((a) => a.arm);
    const qini = d.qini.flatMap((q, i) => points(q.curve, { arm: q.arm, symbol: symbolOf(i) }));
    const uplift = d.qini.flatMap((q, i) => points(q.uplift, { arm: q.arm, symbol: symbolOf(i) }));
    const value = h('input', { type: 'number', id: 'profit-value', value: 10, min: 0, step: 'any', 'aria-label': 'value of one extra outcome' });
    const cost = h('input', { type: 'number', id: 'profit-cost', value: 0.5, min: 0, step: 'any', 'aria-label': 'cost of one contact' });
    const holder = h('div');
    const drawProfit = () => {
      const v = Number(value.value) || 0, c = Number(cost.value) || 0;
      const curves = d.qini.map((q) => ({ arm: q.arm, rows: profitCurve(q.curve, v, c) }));
      const best = curves.map((p) => ({ arm: p.arm, ...p.rows.reduce((a, b) => (b.y > a.y ? b : a), { x: 0, y: 0 }) }));
      holder.replaceChildren(
        chart('profit', 'Targeting plan: profit by customers contacted', () => ({
          x: { label: 'customers contacted (held-out rows, by predicted uplift)', grid: true },
          y: { label: 'profit', grid: true },
          color: { domain: arms.slice(1), legend: true },
          marks: [
            Plot.ruleY([0]),
            ...curves.map((p, i) => Plot.line(p.rows, { x: 'x', y: 'y', stroke: () => p.arm, strokeDasharray: i % 2 ? '6 3' : undefined })),
            Plot.dot(best, { x: 'x', y: 'y', stroke: 'arm', symbol: 'star', r: 6 }),
            Plot.text(best, { x: 'x', y: 'y', text: (b) => `${b.arm}: best ${fmt(b.y)} at ${fmt(b.x)}`, dy: -12 }),
          ],
        }), 'Stars mark the most profitable number of contacts for each arm.'),
        table(['arm', 'best number contacted', 'profit there'], best.map((b) => [b.arm, fmt(b.x), fmt(b.y)])),
      );
    };
    value.addEventListener('input', drawProfit);
    cost.addEventListener('input', drawProfit);
    drawProfit();
    return [
      section(
        `Uplift model "${d.model}" on held-out customers`,
        chart('arm-rates', 'Outcome rate by arm, with 95% intervals', () => ({
          x: { label: null, domain: arms },
          y: { label: 'outcome rate', grid: true, tickFormat: '%' },
          marks: [Plot.ruleX(d.arms, { x: 'arm', y1: (a) => a.ci[0], y2: (a) => a.ci[1], strokeWidth: 2 }), Plot.dot(d.arms, { x: 'arm', y: 'rate', fill: 'currentColor', r: 4 }), Plot.text(d.arms, { x: 'arm', y: 'rate', text: (a) => pct(a.rate), dx: 10, textAnchor: 'start' })],
        })),
        table(['arm', 'customers', 'rate', '95% interval', 'lift over control'], d.arms.map((a) => [a.arm, fmt(a.rows), pct(a.rate, 2), `${pct(a.ci[0], 2)} – ${pct(a.ci[1], 2)}`, a.arm === d.control ? 'control' : `${a.lift >= 0 ? '+' : ''}${pct(a.lift, 2)}`])),
      ),
      section(
        'Qini and uplift curves: customers with the highest predicted uplift contacted first',
        armCurves('qini', 'Qini curve by arm', 'incremental outcomes', qini, arms.slice(1), d.qini.map((q) => Plot.line([[0, 0], [q.curve.x.at(-1) ?? 0, q.curve.y.at(-1) ?? 0]], { strokeDasharray: '4 4', strokeOpacity: 0.5 })), 'Dashed lines are random targeting.'),
        armCurves('uplift-curve', 'Uplift curve by arm', '(treated − control rate) × targeted', uplift, arms.slice(1), [Plot.ruleY([0])], 'Where the curve peaks before the end, targeting fewer customers gains more.'),
        table(['arm', 'Qini coefficient', 'area under the uplift curve'], d.qini.map((q) => [q.arm, fmt(q.coefficient), fmt(q.upliftArea)])),
      ),
      section('Targeting plan', h('div', { class: 'controls' }, h('label', {}, 'value of one extra outcome ', value), h('label', {}, 'cost of one contact ', cost)), holder),
    ];
  },
};
