import { ApiError, Unauthorized, type Customer, type Source } from '../api.js';
import { chart, Plot } from '../charts.js';
import { fmt, pct, section, stat, table, h } from '../dom.js';
import type { Page } from './page.js';

const label = (x: { item: unknown; name?: string; category?: string }) => (x.name ? `${x.name}${x.category ? ` (${x.category})` : ''}` : String(x.item));

function view(c: Customer): HTMLElement[] {
  const out: HTMLElement[] = [];
  const facts: HTMLElement[] = [];
  if (c.segment) facts.push(stat('segment', String(c.segment.segment), `${fmt(c.segment.profile.size)} customers like them`));
  if (c.churn) facts.push(stat('churn probability', pct(c.churn.probability), `model "${c.churn.model}"`));
  if (c.value) facts.push(stat('lifetime value', fmt(c.value.value), `over ${c.value.months} months`), stat('P(alive)', pct(c.value.probabilityAlive)), stat('expected purchases', fmt(c.value.expectedPurchases)));
  out.push(section(`Customer ${String(c.customer)}`, h('div', { class: 'stats' }, facts)));
  if (c.churn && c.churn.attributions.length > 0) {
    const a = c.churn.attributions;
    out.push(
      section(
        'Why this churn probability',
        chart('attributions', 'Largest feature contributions (log-odds)', (w) => ({
          marginLeft: Math.min(180, w * 0.35),
          x: { label: 'contribution', grid: true },
          y: { label: null, domain: a.map((x) => x.feature) },
          marks: [Plot.barX(a, { x: 'contribution', y: 'feature', fill: (x) => (x.contribution < 0 ? 'lowers risk' : 'raises risk') }), Plot.text(a, { x: 'contribution', y: 'feature', text: (x) => `${x.contribution < 0 ? '−' : '+'}${fmt(Math.abs(x.contribution))}`, dx: 4, textAnchor: 'start' }), Plot.ruleX([0])],
          color: { domain: ['lowers risk', 'raises risk'], legend: true },
        })),
      ),
    );
  }
  if (c.recommendations) {
    out.push(
      section(
        `Recommendations ("${c.recommendations.model}"${c.recommendations.fresh ? `, with ${c.recommendations.fresh} event${c.recommendations.fresh > 1 ? 's' : ''} since training` : ''})`,
        h('ol', { class: 'recs' }, c.recommendations.items.map((r) => h('li', {}, h('strong', {}, label(r)), ` score ${fmt(r.score)}`, r.because.length > 0 ? h('div', { class: 'because' }, 'because of ', r.because.map((b) => `${label(b)} (${pct(b.share, 0)})`).join(', ')) : null))),
      ),
    );
  }
  if (c.offer && c.offer.offers.length > 0) {
    const offers = c.offer.offers.map((o) => ({ ...o, offer: String(o.offer) }));
    out.push(
      section(
        `The offer policy "${c.offer.policy}" would choose`,
        h('p', {}, h('strong', {}, offers[0].offer), ` most likely (${pct(offers[0].probability)}); a preview, nothing was logged.`),
        chart('offer-choice', 'Chance of each offer', () => ({
          x: { label: 'probability', domain: [0, 1], tickFormat: '%', grid: true },
          y: { label: null, domain: offers.map((o) => o.offer) },
          marks: [Plot.barX(offers, { x: 'probability', y: 'offer', fill: 'currentColor', fillOpacity: 0.6 }), Plot.text(offers, { x: 'probability', y: 'offer', text: (o) => pct(o.probability), dx: 4, textAnchor: 'start' })],
        })),
      ),
    );
  }
  const events = c.history.events.map((e) => ({ ...e, at: new Date(e.time), what: e.name ?? e.item ?? '' }));
  out.push(
    section(
      'History',
      events.length > 0
        ? chart('timeline', 'Events recorded since training', () => ({
            x: { label: 'time', type: 'time' },
            y: { label: null },
            symbol: { legend: true },
            marks: [Plot.dot(events, { x: 'at', y: 'type', symbol: 'type', r: 5, stroke: 'currentColor', tip: true, title: (e) => `${e.type} ${e.what} ${e.amount ?? ''}` })],
          }))
        : h('p', { class: 'empty' }, 'No events stored for this customer since training.'),
      c.history.trained.length > 0
        ? table(['item', 'value'], c.history.trained.slice(0, 15).map((t) => [label(t), fmt(t.value)]), `Items in the training data (${fmt(c.history.trainedCount)}; the 15 with the largest values)`)
        : null,
    ),
  );
  return out;
}

export const customerPage: Page<null> = {
  id: 'customer',
  title: 'Customer',
  serverOnly: true,
  shows: (o) => o.models.length > 0,
  load: async () => null,
  render(_d, src: Source) {
    const input = h('input', { type: 'search', id: 'customer-id', name: 'customer', autocomplete: 'off', required: true, 'aria-label': 'customer id', placeholder: 'customer id' });
    const result = h('div', { id: 'customer-result', 'aria-live': 'polite' });
    const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, 'Look up'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const id = input.value.trim();
      if (!id) return;
      result.replaceChildren(h('p', { class: 'empty' }, 'Looking up…'));
      try {
        // The id goes in a POST body: it stays out of URLs, history and access logs.
        // The models resolve ids either way ("123" and 123 are one customer), so the id goes as typed.
        const c = await src.post<Customer>('/v1/insights/customer', { customer: id });
        result.replaceChildren(...view(c));
        result.setAttribute('data-ready', '');
      } catch (err) {
        if (err instanceof Unauthorized) return void window.dispatchEvent(new CustomEvent('affinity:unauthorized'));
        result.replaceChildren(h('p', { class: 'error', role: 'alert' }, err instanceof ApiError && err.status === 404 ? `No served model knows customer "${id}".` : `Could not look up the customer: ${(err as Error).message}`));
      }
    });
    return [section('Look up a customer', h('p', { class: 'note' }, "Everything the served models know about one customer. The id is sent in the request body, never in the page's address."), form), result];
  },
};
