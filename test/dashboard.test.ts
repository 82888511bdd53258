/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The dashboard and the report in a real browser: Debian's Chromium driven by playwright-core, against the
// demo shop served from its files with an admin token. Every page is loaded on a desktop and a phone
// viewport; each chart must be drawn with its data (marks, axis labels), with no console error, no failed
// request and no customer id in any URL. Screenshots go to test-artifacts/dashboard/. Without a Chromium
// the file skips loudly, unless AFFINITY_REQUIRE_BROWSER=1 (CI) makes that a failure.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildApp } from '../src/server/app.js';
import { prepareDemo } from '../src/server/demo.js';
import type { WithAffinity } from '../src/server/index.js';
import { chromiumPath, launchChromium } from '../src/cli/browser.js';
import { main } from '../src/cli/main.js';
import type { DemoShop } from '../src/data/synthetic.js';
import type { Bandit } from '../src/index.js';

const browserPath = chromiumPath();
if (!browserPath) {
  if (process.env.AFFINITY_REQUIRE_BROWSER === '1') throw new Error('AFFINITY_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium, or set AFFINITY_CHROMIUM)');
  console.warn('SKIPPED: the dashboard browser tests need a Chromium (apt-get install chromium)');
}

const TOKEN = 'dashboard-test-token';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const PAGES = ['overview', 'customer', 'segments', 'churn', 'campaigns', 'lifetime', 'offers', 'quality'];
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

let app: WithAffinity;
let base: string;
let dir: string;
let shop: DemoShop;
let models: Record<string, string>;
let bandit: Bandit;
let browser: Awaited<ReturnType<typeof launchChromium>>;

/** Console errors, failed requests and every URL a tab asked for. */
function watch(page: Page) {
  const seen = { errors: [] as string[], failed: [] as string[], urls: [] as string[] };
  page.on('console', (m) => void (m.type() === 'error' && seen.errors.push(m.text())));
  page.on('pageerror', (e) => void seen.errors.push(e.message));
  page.on('requestfailed', (r) => void seen.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('request', (r) => void seen.urls.push(r.url()));
  page.on('response', (r) => void (r.status() >= 400 && seen.failed.push(`${r.url()}: ${r.status()}`)));
  return seen;
}

/** Each chart on the page, once drawn: its marks by kind and its axis labels. */
async function charts(page: Page) {
  await page.waitForFunction(() => [...document.querySelectorAll('figure[data-chart]')].every((f) => f.querySelector('.plot svg')));
  return page.locator('main[data-page] figure[data-chart]').evaluateAll((figures) =>
    figures.map((f) => {
      // A chart with a legend is a figure of several SVGs (legend, plot): count over all of them.
      const svgs = [...f.querySelectorAll('.plot svg')];
      const marks: Record<string, number> = {};
      for (const g of f.querySelectorAll('.plot svg g[aria-label]')) {
        const label = g.getAttribute('aria-label')!;
        if (!/axis|tip/.test(label)) marks[label] = (marks[label] ?? 0) + g.children.length;
      }
      const axisLabels = [...f.querySelectorAll('.plot svg g[aria-label$="axis label"] text, .plot svg g[aria-label$="axis tick label"] text')].map((t) => t.textContent ?? '').filter(Boolean);
      const width = Math.max(...svgs.map((s) => s.getBoundingClientRect().width));
      return { id: f.getAttribute('data-chart')!, marks, axisLabels, width };
    }),
  );
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/dashboard/`);
  await page.waitForSelector('#token');
  await page.fill('#token', TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('main[data-page="overview"][data-ready]');
}

describe.skipIf(!browserPath)('the dashboard in Chromium', () => {
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { stdio: 'inherit' });
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'affinity-dashboard-'));
    const demo = await prepareDemo(dir);
    shop = demo.shop;
    models = demo.models;
    bandit = (demo.offers.policies.coupons as { bandit: Bandit }).bandit;
    app = await buildApp({ models, catalog: demo.catalog, offers: demo.offers, store: `sqlite:${join(dir, 'events.db')}`, adminToken: TOKEN, dashboard: true, docs: false, pressure: false });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    // Traffic for the overview and decisions with rewards for the offers page.
    for (let i = 0; i < 40; i++) {
      const customer = shop.data.users.ids[i];
      await app.inject({ method: 'POST', url: '/v1/recommend', payload: { user: customer, k: 5 } });
      const d = (await app.inject({ method: 'POST', url: '/v1/offers/decide', payload: { customer } })).json();
      if (d.decisionId && i % 3 === 0) await app.inject({ method: 'POST', url: '/v1/offers/reward', payload: { decisionId: d.decisionId, reward: 1 } });
    }
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('is off unless enabled, and its data needs the admin token', async () => {
    const plain = await buildApp({ models: { segments: models.segments }, docs: false, pressure: false });
    expect((await plain.inject({ url: '/dashboard/' })).statusCode).toBe(404);
    await plain.close();
    expect((await app.inject({ url: '/dashboard' })).headers.location).toBe('/dashboard/');
    const shell = await app.inject({ url: '/dashboard/', headers: { 'accept-encoding': 'gzip' } });
    expect(shell.headers['content-encoding']).toBe('gzip');
    expect(shell.headers['content-security-policy']).toContain("connect-src 'self'");
    expect((await app.inject({ url: '/v1/insights/overview' })).statusCode).toBe(401);
  });

  for (const [viewport, size] of Object.entries(VIEWPORTS)) {
    it(`draws every page with its data on a ${viewport} (${size.width}x${size.height})`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize(size);
      await signIn(page);
      const seen = watch(page);
      const api = async (path: string) => (await app.inject({ url: path, headers: { authorization: `Bearer ${TOKEN}` } })).json();
      const drawn: Record<string, Awaited<ReturnType<typeof charts>>> = {};
      for (const id of PAGES) {
        await page.goto(`${base}/dashboard/#/${id}`);
        await page.waitForSelector(`main[data-page="${id}"][data-ready]`);
        drawn[id] = await charts(page);
        for (const c of drawn[id]) {
          expect(Object.values(c.marks).reduce((a, b) => a + b, 0), `${id}/${c.id} has marks`).toBeGreaterThan(0);
          expect(c.axisLabels.length, `${id}/${c.id} has axis labels`).toBeGreaterThan(0);
          expect(c.width, `${id}/${c.id} fits the viewport`).toBeLessThanOrEqual(size.width);
        }
        // Nothing wider than the screen: a phone scrolls down, never sideways (tables scroll in their box).
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${id} on a ${viewport}`).toBeLessThanOrEqual(size.width);
        await page.screenshot({ path: join(ARTIFACTS, `${viewport}-${id}.png`), fullPage: true });
      }
      const ids = (p: string) => drawn[p].map((c) => c.id);
      expect(ids('churn')).toEqual(['roc', 'pr', 'calibration', 'weights']);
      expect(ids('segments')).toEqual(['segment-sizes', 'projection', 'silhouette', 'inertia']);
      expect(drawn.segments.find((c) => c.id === 'silhouette')!.marks.dot).toBe(7); // k = 2..8
      expect(ids('campaigns')).toEqual(['arm-rates', 'qini', 'uplift-curve', 'profit']);
      expect(ids('lifetime')).toEqual(['p-alive', 'expected-purchases', 'clv-distribution', 'holdout']);
      expect(ids('offers')).toEqual(['offer-rates', 'cumulative-reward', 'ope']);
      expect(ids('quality')).toContain('curve-als-loss');
      // The marks are the data: one dot per calibration bin, one bar per segment, one cell per grid point.
      const churn = await api('/v1/insights/churn');
      expect(drawn.churn.find((c) => c.id === 'calibration')!.marks.dot).toBe(churn.calibration.filter((b: { count: number }) => b.count > 0).length);
      expect(drawn.churn.find((c) => c.id === 'weights')!.marks.bar).toBe(churn.weights.length);
      const segments = await api('/v1/insights/segments');
      expect(drawn.segments.find((c) => c.id === 'segment-sizes')!.marks.bar).toBe(segments.k);
      expect(drawn.segments.find((c) => c.id === 'projection')!.marks.dot).toBe(segments.projection.x.length);
      const lifetime = await api('/v1/insights/lifetime');
      expect(drawn.lifetime.find((c) => c.id === 'p-alive')!.marks.cell).toBe(lifetime.grid.probabilityAlive.length);
      const campaigns = await api('/v1/insights/campaigns');
      expect(drawn.campaigns.find((c) => c.id === 'arm-rates')!.marks.dot).toBe(campaigns.arms.length);
      expect(seen.errors).toEqual([]);
      expect(seen.failed).toEqual([]);
      await page.close();
    });
  }

  it('lets you pick among several models of a kind, by name in the address; without a token it asks for none', async () => {
    const two = await buildApp({ models: { segments: models.segments, 'segments-b': models.segments, churn: models.propensity }, dashboard: true, docs: false, pressure: false });
    const at = await two.listen({ port: 0, host: '127.0.0.1' });
    try {
      const page = await browser.context.newPage();
      const seen = watch(page);
      await page.goto(`${at}/dashboard/#/segments`);
      await page.waitForSelector('main[data-page="segments"][data-ready]');
      expect(await page.locator('#choice option').allInnerTexts()).toEqual(['segments', 'segments-b']);
      expect(await page.locator('main h2').first().innerText()).toBe('Segment model "segments"');
      await page.selectOption('#choice', 'segments-b');
      await page.waitForFunction(() => document.querySelector('main h2')?.textContent === 'Segment model "segments-b"');
      expect(page.url()).toBe(`${at}/dashboard/#/segments/segments-b`);
      await page.goto(`${at}/dashboard/#/churn`);
      await page.waitForSelector('main[data-page="churn"][data-ready]');
      expect(await page.locator('#choice').count()).toBe(0); // one model of the kind: nothing to pick
      expect(await page.locator('nav a').allInnerTexts()).toEqual(['Overview', 'Customer', 'Segments', 'Churn']);
      expect(seen.errors).toEqual([]);
      expect(seen.failed).toEqual([]);
      await page.close();
    } finally {
      await two.close();
    }
  });

  it('refreshes the overview live: requests per second appear after two polls', async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const seen = watch(page);
    await page.waitForSelector('figure[data-chart="rps"] .plot svg', { timeout: 10_000 });
    const polls = seen.urls.filter((u) => u.endsWith('/v1/insights/overview')).length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(seen.errors).toEqual([]);
    // A refresh that fails marks the figures stale and polling goes on; the next answer clears it.
    await page.route('**/v1/insights/overview', (route) => route.abort());
    await page.waitForSelector('main[data-page="overview"][data-stale]', { timeout: 10_000 });
    await page.unroute('**/v1/insights/overview');
    await page.waitForSelector('main[data-page="overview"]:not([data-stale])', { timeout: 10_000 });
    expect(await page.locator('figure[data-chart="rps"]').count()).toBe(1);
    await page.close();
  });

  it('looks up a customer from the search box, with the id in no URL', async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const seen = watch(page);
    const customer = String(shop.data.users.ids[5]);
    await page.goto(`${base}/dashboard/#/customer`);
    await page.fill('#customer-id', customer);
    await page.click('form.search button');
    await page.waitForSelector('#customer-result[data-ready]');
    const view = (await app.inject({ method: 'POST', url: '/v1/insights/customer', headers: { authorization: `Bearer ${TOKEN}` }, payload: { customer } })).json();
    const text = await page.locator('#customer-result').innerText();
    expect(text).toContain(`Customer ${customer}`);
    expect(text).toContain(`${(view.churn.probability * 100).toFixed(1)}%`);
    expect(await page.locator('ol.recs li').count()).toBe(view.recommendations.items.length);
    expect(text).toContain(view.recommendations.items[0].name);
    expect(text).toContain(String(view.offer.offers[0].offer));
    const drawn = await charts(page);
    expect(drawn.map((c) => c.id)).toEqual(expect.arrayContaining(['attributions', 'offer-choice']));
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-customer-result.png'), fullPage: true });
    // Unknown ids say so, in words.
    await page.fill('#customer-id', 'nobody-here');
    await page.click('form.search button');
    await page.waitForSelector('#customer-result .error');
    expect(await page.locator('#customer-result .error').innerText()).toContain('No served model knows customer "nobody-here"');
    expect(seen.urls.filter((u) => u.includes(customer) || u.includes('nobody-here'))).toEqual([]);
    expect(page.url()).toBe(`${base}/dashboard/#/customer`);
    expect(seen.errors.filter((e) => !e.includes('404'))).toEqual([]);
    await page.close();
  });

  it('writes a report that opens with no network and draws the same charts, and renders them to PNG', async () => {
    const out = join(dir, 'report.html');
    const png = join(dir, 'png');
    const names = ['als', 'itemknn', 'segments', 'propensity', 'uplift', 'clv'];
    const policy = join(dir, 'coupons.affinity');
    await bandit.save(policy);
    const logs = join(dir, 'offers', 'coupons', 'decisions.log');
    expect(await main(['report', ...names.flatMap((n) => ['--model', `${n}=${models[n]}`]), '--policy', `coupons=${policy}`, '--logs', logs, '--out', out, '--png', png])).toBe(0);
    const page = await browser.context.newPage();
    const seen = watch(page);
    const url = pathToFileURL(out).href;
    const blocked: string[] = [];
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : (blocked.push(route.request().url()), route.abort())));
    await page.goto(url);
    await page.waitForSelector('#app[data-ready]');
    const drawn = await charts(page);
    const ids = drawn.map((c) => c.id);
    for (const id of ['roc', 'calibration', 'segment-sizes', 'projection', 'qini', 'profit', 'p-alive', 'holdout', 'curve-als-loss', 'offer-rates', 'cumulative-reward', 'ope']) expect(ids).toContain(id);
    for (const c of drawn) expect(c.axisLabels.length, c.id).toBeGreaterThan(0);
    expect(blocked).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
    const files = await readdir(png);
    expect(files.length).toBe(drawn.length);
    for (const id of ids) expect(files.some((f) => f.endsWith(`-${id}.png`)), id).toBe(true);
    for (const f of files) expect((await stat(join(png, f))).size).toBeGreaterThan(1000);
  });
});

describe('affinity report (no browser)', () => {
  it('refuses bad arguments with a usage error, and an unreadable model file with its code', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: unknown) => void errors.push(String(m));
    try {
      expect(await main(['report', '--out', join(tmpdir(), 'never.html')])).toBe(1);
      expect(await main(['report', '--model', 'nofile', '--out', join(tmpdir(), 'never.html')])).toBe(1);
      expect(await main(['report', '--model', `x=${join(tmpdir(), 'missing.affinity')}`])).toBe(1);
      expect(await main(['report', '--policy', `p=${join(tmpdir(), 'missing.affinity')}`, '--out', join(tmpdir(), 'never.html')])).toBe(1);
      expect(await main(['report', '--model', `x=${join(tmpdir(), 'missing.affinity')}`, '--out', join(tmpdir(), 'never.html')])).toBe(1);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toMatch(/--model is required|at least one --model/);
    expect(errors.join('\n')).toContain('expected name=FILE');
    expect(errors.join('\n')).toContain('--out FILE is required');
    expect(errors.join('\n')).toContain('--policy and --logs go together');
    expect(errors.join('\n')).toMatch(/ERR_AFFINITY_IO|no such file|ENOENT/);
  });

  it('inlines its data so that nothing in it can close the script it sits in', async () => {
    const { reportHtml } = await import('../src/server/dashboard.js');
    const hostile = '</script><script>alert(1)</script>';
    const html = reportHtml({ generatedAt: '2026-01-01T00:00:00Z', overview: { models: [{ name: hostile }] }, pages: {} }, { script: 'var s="</script>";', style: '' });
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data block's and the script's own
    const data = html.slice(html.indexOf('id="affinity-data">') + 19, html.indexOf('</script>'));
    expect(JSON.parse(data).overview.models[0].name).toBe(hostile);
  });
});
