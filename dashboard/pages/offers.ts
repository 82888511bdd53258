import type { Offers } from '../api.js';
import { chart, Plot } from '../charts.js';
import { fmt, pct, section, table, h } from '../dom.js';
import { withChoice, type Page } from './page.js';

export const offersPage: Page<Offers> = {
  id: 'offers',
  title: 'Offers',
  shows: (o) => o.policies.length > 0,
  choices: (o) => o.policies,
  load: (src, _o, policy) => src.get(withChoice('/v1/insights/offers', 'policy', policy)),
  render(d) {
    const offers = d.offers.map((o) => ({ ...o, offer: String(o.offer) }));
    const timeline = d.timeline.at.map((at, i) => ({ at: new Date(at), decisions: d.timeline.decisions[i], reward: d.timeline.reward[i] }));
    const logged = d.estimates[0]?.logged;
    return [
      section(
        `Policy "${d.policy}"`,
        chart('offer-rates', 'Reward per show by offer, with 95% intervals', () => ({
          x: { label: null, domain: offers.map((o) => o.offer) },
          y: { label: 'reward per show', grid: true },
          marks: [Plot.ruleX(offers.filter((o) => o.shows > 0), { x: 'offer', y1: (o) => o.ci[0], y2: (o) => o.ci[1], strokeWidth: 2 }), Plot.dot(offers, { x: 'offer', y: 'rate', fill: 'currentColor', r: 4 }), Plot.text(offers, { x: 'offer', y: 'rate', text: (o) => `${fmt(o.rate)} (${fmt(o.shows)} shows)`, dx: 8, textAnchor: 'start' })],
        })),
        table(['offer', 'active', 'shows', 'rewarded', 'reward per show', '95% interval'], offers.map((o) => [o.offer, o.active ? 'yes' : 'no', fmt(o.shows), fmt(o.rewarded), fmt(o.rate), `${fmt(o.ci[0])} – ${fmt(o.ci[1])}`])),
      ),
      section(
        'Over time',
        timeline.length > 0
          ? chart('cumulative-reward', 'Cumulative decisions and reward', () => ({
              x: { label: 'time', type: 'utc' },
              y: { label: 'cumulative count', grid: true },
              symbol: { domain: ['decisions', 'reward'], legend: true },
              marks: [
                Plot.line(timeline, { x: 'at', y: 'decisions', strokeDasharray: '6 3' }),
                Plot.line(timeline, { x: 'at', y: 'reward', strokeWidth: 2 }),
                Plot.dot(timeline.filter((_, i) => i % Math.max(1, Math.floor(timeline.length / 12)) === 0).flatMap((t) => [{ at: t.at, v: t.decisions, what: 'decisions' }, { at: t.at, v: t.reward, what: 'reward' }]), { x: 'at', y: 'v', symbol: 'what' }),
              ],
            }), 'Dashed: decisions; solid: reward.')
          : h('p', { class: 'empty' }, 'No decisions logged yet.'),
      ),
      section(
        'The current policy, valued on the logged decisions (off-policy)',
        d.estimates.length > 0
          ? chart('ope', 'Estimated reward per decision, with bootstrap 95% intervals', (w) => ({
              marginLeft: 70,
              x: { label: 'reward per decision', grid: true },
              y: { label: null, domain: [...d.estimates.map((e) => e.estimator.toUpperCase()), 'LOGGED'] },
              marks: [
                Plot.ruleY(d.estimates, { y: (e) => e.estimator.toUpperCase(), x1: (e) => e.ci[0] ?? e.value, x2: (e) => e.ci[1] ?? e.value, strokeWidth: 2 }),
                Plot.dot(d.estimates, { y: (e) => e.estimator.toUpperCase(), x: 'value', fill: 'currentColor', r: 4 }),
                ...(logged !== undefined ? [Plot.dot([logged], { x: (v) => v, y: () => 'LOGGED', symbol: 'square', r: 5, stroke: 'currentColor' })] : []),
                Plot.text(d.estimates, { y: (e) => e.estimator.toUpperCase(), x: 'value', text: (e) => fmt(e.value), dy: -10 }),
              ],
              width: w,
            }), 'LOGGED is the mean reward the logging policy earned.')
          : h('p', { class: 'empty' }, 'No logged decisions to value the policy on yet.'),
        table(['estimator', 'value', '95% interval', 'effective sample size', 'decisions', 'logged mean'], d.estimates.map((e) => [e.estimator.toUpperCase(), fmt(e.value), `${fmt(e.ci[0])} – ${fmt(e.ci[1])}`, fmt(e.effectiveSampleSize), fmt(e.rows), fmt(e.logged)])),
        h('p', { class: 'note' }, `Shares of shows: ${offers.map((o) => `${o.offer} ${pct(o.shows / Math.max(1, offers.reduce((a, b) => a + b.shows, 0)), 0)}`).join(', ')}`),
      ),
    ];
  },
};
