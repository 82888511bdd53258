// The dashboard: a page per kind of served model, routed by the address's hash (#/churn), which never
// carries customer data. In a report file the same pages are drawn, one after another, from inlined data.
import { reportSource, serverSource, setToken, Unauthorized, type Overview, type ReportData, type Source } from './api.js';
import { h } from './dom.js';
import { campaignsPage } from './pages/campaigns.js';
import { churnPage } from './pages/churn.js';
import { customerPage } from './pages/customer.js';
import { lifetimePage } from './pages/lifetime.js';
import { offersPage } from './pages/offers.js';
import { overviewPage } from './pages/overview.js';
import type { Page } from './pages/page.js';
import { qualityPage } from './pages/quality.js';
import { segmentsPage } from './pages/segments.js';

const PAGES: Page<any>[] = [overviewPage, customerPage, segmentsPage, churnPage, campaignsPage, lifetimePage, offersPage, qualityPage];

const root = document.getElementById('app')!;
let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

function shell(pages: Page[], current: string | undefined, title: string): HTMLElement {
  const nav = h('nav', { 'aria-label': 'pages' }, h('ul', {}, pages.map((p) => h('li', {}, h('a', { href: `#/${p.id}`, ...(p.id === current ? { 'aria-current': 'page' } : {}) }, p.title)))));
  return h('header', {}, h('div', { class: 'brand' }, title), nav);
}

function tokenForm(retry: () => void): HTMLElement {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', 'aria-label': 'admin token', required: true });
  const form = h('form', { class: 'search' }, input, h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value);
    retry();
  });
  return h('main', {}, h('section', { class: 'card' }, h('h2', {}, 'This server needs its admin token'), h('p', {}, 'The dashboard shows customer data, so it asks for the token the server was started with (AFFINITY_ADMIN_TOKEN). It is kept for this tab only.'), form));
}

function picker(page: Page, choices: string[], current: string): HTMLElement {
  const select = h('select', { id: 'choice', 'aria-label': page.id === 'offers' ? 'policy' : 'model' }, choices.map((c) => h('option', { value: c, ...(c === current ? { selected: true } : {}) }, c)));
  select.addEventListener('change', () => (location.hash = `#/${page.id}/${encodeURIComponent(select.value)}`));
  return h('div', { class: 'picker' }, h('label', {}, page.id === 'offers' ? 'Policy ' : 'Model ', select));
}

function failure(err: unknown): HTMLElement {
  return h('main', {}, h('section', { class: 'card' }, h('h2', {}, 'Could not load this page'), h('p', { class: 'error', role: 'alert' }, (err as Error).message)));
}

async function showServerPage(source: Source): Promise<void> {
  const mine = ++generation;
  clearTimeout(timer);
  const retry = () => void showServerPage(source);
  try {
    const overview = await source.get<Overview>('/v1/insights/overview');
    const pages = PAGES.filter((p) => p.shows(overview));
    // #/page or #/page/name: which page, and which of its models (or policies) when there are several.
    const [id = 'overview', chosen] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    const page = pages.find((p) => p.id === id) ?? pages[0];
    const choices = page.choices?.(overview) ?? [];
    const choice = chosen !== undefined && choices.includes(chosen) ? chosen : choices[0];
    document.title = `${page.title} · Affinity`;
    const main = h('main', { 'data-page': page.id });
    if (mine !== generation) return;
    root.replaceChildren(shell(pages, page.id, 'Affinity'), ...(choices.length > 1 ? [picker(page, choices, choice!)] : []), main);
    const draw = async (first: boolean) => {
      const data = await page.load(source, overview, choice);
      if (mine !== generation) return;
      main.replaceChildren(...page.render(data, source));
      main.removeAttribute('data-stale');
      if (first) main.setAttribute('data-ready', '');
      if (page.refreshMs) schedule();
    };
    // A live page keeps polling through a failed refresh (a restart, a dropped connection), showing the
    // last answer marked stale; only a missing token stops it.
    const refresh = () =>
      void draw(false).catch((err) => {
        if (err instanceof Unauthorized) return onError(err);
        if (mine !== generation) return;
        main.setAttribute('data-stale', '');
        schedule();
      });
    const schedule = () => {
      if (document.visibilityState === 'visible') timer = setTimeout(refresh, page.refreshMs);
      else document.addEventListener('visibilitychange', () => mine === generation && refresh(), { once: true });
    };
    const onError = (err: unknown) => {
      if (mine !== generation) return;
      root.replaceChildren(err instanceof Unauthorized ? tokenForm(retry) : failure(err));
    };
    await draw(true).catch(onError);
  } catch (err) {
    root.replaceChildren(err instanceof Unauthorized ? tokenForm(retry) : failure(err));
  }
}

function showReport(data: ReportData): void {
  const source = reportSource(data);
  const pages = PAGES.filter((p) => !p.serverOnly && (p.id === 'overview' || data.pages[p.id] !== undefined));
  root.replaceChildren(
    h('header', {}, h('div', { class: 'brand' }, `Affinity report · ${data.generatedAt.replace('T', ' ').slice(0, 16)} UTC`)),
    ...pages.map((p) => h('main', { 'data-page': p.id }, h('h1', {}, p.title), ...p.render(p.id === 'overview' ? data.overview : data.pages[p.id], source))),
  );
  root.setAttribute('data-ready', '');
}

const inlined = document.getElementById('affinity-data');
if (inlined) showReport(JSON.parse(inlined.textContent ?? '{}') as ReportData);
else {
  const source = serverSource();
  window.addEventListener('hashchange', () => void showServerPage(source));
  window.addEventListener('affinity:unauthorized', () => root.replaceChildren(tokenForm(() => void showServerPage(source))));
  void showServerPage(source);
}
