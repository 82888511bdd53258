import type { Overview } from '../api.js';
import { chart, Plot } from '../charts.js';
import { fmt, ms, section, stat, table, h } from '../dom.js';
import type { Page } from './page.js';

/** Requests per second between consecutive polls, the last 60 of them (two minutes at 2 s). */
const rate: { at: Date; rps: number; errors: number }[] = [];
let last: { at: number; requests: number; errors: number } | undefined;

function track(o: Overview): void {
  const at = Date.parse(o.at);
  if (last && at > last.at) {
    const dt = (at - last.at) / 1000;
    rate.push({ at: new Date(at), rps: Math.max(0, o.totals.requests - last.requests - 1) / dt, errors: Math.max(0, o.totals.errors - last.errors) / dt });
    if (rate.length > 60) rate.shift();
  }
  last = { at, requests: o.totals.requests, errors: o.totals.errors };
}

export const overviewPage: Page<Overview> = {
  id: 'overview',
  title: 'Overview',
  shows: () => true,
  refreshMs: 2000,
  async load(src, first) {
    const o = src.report ? first : await src.get<Overview>('/v1/insights/overview');
    if (!src.report) track(o);
    return o;
  },
  render(o, src) {
    const routes = o.routes.filter((r) => r.count > 0);
    const latency = routes.flatMap((r) => [
      { route: r.key, q: 'p50', s: r.p50 },
      { route: r.key, q: 'p99', s: r.p99 },
    ]).filter((x) => x.s !== null).map((x) => ({ ...x, ms: (x.s as number) * 1000 }));
    const out: HTMLElement[] = [];
    if (!src.report) {
      const now = rate.at(-1);
      out.push(
        section(
          'Traffic',
          h('div', { class: 'stats' }, stat('requests per second', now ? fmt(now.rps) : '–', 'over the last 2 s, not counting this page'), stat('requests', fmt(o.totals.requests)), stat('errors (5xx)', fmt(o.totals.errors)), stat('up for', `${fmt(o.uptimeSeconds / 60, 2)} min`)),
          rate.length > 1
            ? chart('rps', 'Requests per second, last two minutes', () => ({
                x: { label: 'time', type: 'time' },
                y: { label: 'requests per second', grid: true, zero: true },
                marks: [Plot.line(rate, { x: 'at', y: 'rps' }), Plot.dot(rate, { x: 'at', y: 'rps', r: 2, fill: 'currentColor' })],
              }))
            : h('p', { class: 'empty', 'data-waiting': 'rps' }, 'Measuring requests per second…'),
          latency.length > 0
            ? chart('latency', 'Latency by route (p50 and p99)', (w) => ({
                marginLeft: Math.min(230, w * 0.42),
                x: { label: 'milliseconds', type: 'log', grid: true, tickFormat: (v: number) => fmt(v) },
                y: { label: null },
                symbol: { domain: ['p50', 'p99'], legend: true },
                marks: [Plot.ruleY(routes.filter((r) => r.p50 !== null && r.p99 !== null), { y: 'key', x1: (r) => r.p50 * 1000, x2: (r) => r.p99 * 1000, strokeOpacity: 0.5 }), Plot.dot(latency, { x: 'ms', y: 'route', symbol: 'q', stroke: 'currentColor', r: 4 })],
              }), 'From the same histograms as /metrics: a quantile is known to within its bucket.')
            : h('p', { class: 'empty' }, 'No requests yet.'),
          table(['route', 'requests', 'errors', 'p50', 'p99'], routes.map((r) => [r.key, fmt(r.count), fmt(r.errors), ms(r.p50), ms(r.p99)]), 'Requests by route'),
          table(['engine operation', 'calls', 'p50', 'p99', 'total time'], o.engine.filter((e) => e.count > 0).map((e) => [e.key, fmt(e.count), ms(e.p50), ms(e.p99), ms(e.seconds)]), 'Engine time'),
        ),
      );
    }
    out.push(
      section(
        'Models',
        table(
          ['name', 'kind', 'version', 'trained', 'loaded', 'figures', 'data'],
          o.models.map((m) => [m.name, m.kind, fmt(m.version), m.trainedAt?.replace('T', ' ').slice(0, 16) ?? '–', m.loadedAt.replace('T', ' ').slice(0, 19), Object.entries(m.quality ?? {}).slice(0, 4).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || '–', Object.entries(m.data ?? {}).map(([k, v]) => `${fmt(v)} ${k}`).join(', ') || '–']),
        ),
      ),
    );
    if (!src.report)
      out.push(section('Reloads', o.reloads.length > 0 ? table(['at', 'model', 'result', 'version'], [...o.reloads].reverse().map((r) => [r.at.replace('T', ' ').slice(0, 19), r.model, r.ok ? 'ok' : `failed: ${r.error ?? ''}`, fmt(r.version)])) : h('p', { class: 'empty' }, 'No reloads since the server started.')));
    return out;
  },
};
