import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ALS } from '../src/index.js';
import { buildApp } from '../src/server/app.js';
import { demoShop, type DemoShop } from '../src/data/synthetic.js';
import { demoAnalytics } from '../src/server/demo.js';
import { ModelRegistry } from '../src/server/registry.js';

let app: FastifyInstance;
let bare: FastifyInstance;
let shop: DemoShop;
let analytics: Awaited<ReturnType<typeof demoAnalytics>>;

beforeAll(async () => {
  shop = await demoShop(3, 300, 6000);
  const als = await new ALS({ factors: 8, iterations: 4 }).fit(shop.data);
  const registry = new ModelRegistry();
  registry.add('als', als);
  analytics = await demoAnalytics(shop, als);
  // Load shedding off: the suite's own training shares the event loop with the app under test.
  app = await buildApp({ registry, analytics, docs: false, pressure: false });
  const recommendersOnly = new ModelRegistry(); // the analytics models join the registry they are given
  recommendersOnly.add('als', als);
  bare = await buildApp({ registry: recommendersOnly, docs: false, pressure: false });
});
afterAll(async () => {
  await app.close();
  await bare.close();
});

const post = (url: string, payload: unknown, on = app) => on.inject({ method: 'POST', url, payload: payload as object });

describe('analytics endpoints', () => {
  it('GET /v1/segments/:user returns the segment and its profile', async () => {
    const customer = shop.data.users.ids[0];
    const r = await app.inject({ method: 'GET', url: `/v1/segments/${customer}` });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ model: 'segments', user: customer });
    expect(body.profile.segment).toBe(body.segment);
    expect(body.profile.size).toBeGreaterThan(0);
    expect(body.profile.topCategories.length).toBeGreaterThan(0);
    const unknown = await app.inject({ method: 'GET', url: '/v1/segments/nobody' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('ERR_AFFINITY_UNKNOWN_ID');
  });

  it('POST /v1/propensity scores customers with attributions', async () => {
    const [a, b] = shop.data.users.ids;
    const r = await post('/v1/propensity', { customers: [a, b], attributions: 2 });
    expect(r.statusCode).toBe(200);
    const { results } = r.json();
    expect(results.map((x: { customer: string }) => x.customer)).toEqual([a, b]);
    for (const x of results) {
      expect(x.probability).toBeGreaterThanOrEqual(0);
      expect(x.probability).toBeLessThanOrEqual(1);
      expect(x.attributions).toHaveLength(2);
    }
    const partial = await post('/v1/propensity', { customers: ['ghost', shop.data.users.ids[0]] });
    expect(partial.statusCode).toBe(200);
    expect(partial.json().unknown).toEqual(['ghost']);
    expect(partial.json().results.map((r: { customer: unknown }) => r.customer)).toEqual([shop.data.users.ids[0]]);
    const segments = (await post('/v1/segments', { customers: [shop.data.users.ids[0], 'ghost', shop.data.users.ids[1]] })).json();
    expect(segments.unknown).toEqual(['ghost']);
    expect(segments.results.map((r: { user: unknown }) => r.user)).toEqual([shop.data.users.ids[0], shop.data.users.ids[1]]);
    for (const r of segments.results) expect(segments.profiles.some((p: { segment: number }) => p.segment === r.segment)).toBe(true);
    expect((await post('/v1/propensity', { customers: [] })).statusCode).toBe(400);
    expect((await post('/v1/propensity', { customers: [a], attributions: 1e6 })).statusCode).toBe(400);
  });

  it('POST /v1/also-bought merges the rules of the given items', async () => {
    const item = shop.data.itemsOf(shop.data.users.ids[0])[0].item;
    const r = await post('/v1/also-bought', { items: [item, 'unknown-item'], k: 5 });
    expect(r.statusCode).toBe(200);
    const { items } = r.json();
    expect(items.length).toBeLessThanOrEqual(5);
    for (const x of items) {
      expect(x.item).not.toBe(item);
      expect(x.because).toBe(item);
      expect(x.confidence).toBeGreaterThan(0);
    }
    expect((await post('/v1/also-bought', { items: [item], k: 0 })).statusCode).toBe(400);
    expect((await post('/v1/also-bought', { items: [item], extra: 1 })).statusCode).toBe(400);
  });

  it('content and hybrid recommendations for known users and for visitors', async () => {
    const customer = shop.data.users.ids[0];
    const p = shop.products[0].id;
    for (const route of ['/v1/content/recommend', '/v1/hybrid/recommend']) {
      const known = await post(route, { user: customer, k: 4 });
      expect(known.statusCode).toBe(200);
      expect(known.json().items).toHaveLength(4);
      const visitor = await post(route, { items: [p], k: 4, exclude: [shop.products[1].id] });
      expect(visitor.statusCode).toBe(200);
      const ids = visitor.json().items.map((x: { item: string }) => x.item);
      expect(ids).not.toContain(p);
      expect(ids).not.toContain(shop.products[1].id);
      expect((await post(route, { user: customer, items: [p] })).statusCode).toBe(422);
      expect((await post(route, {})).statusCode).toBe(422);
      expect((await post(route, { items: [p], values: [1, 2] })).statusCode).toBe(422);
      expect((await post(route, { user: 'ghost' })).statusCode).toBe(404);
    }
    const similar = await post('/v1/content/similar', { item: p, k: 3 });
    expect(similar.statusCode).toBe(200);
    const same = shop.products.filter((x) => x.category === shop.products[0].category).map((x) => x.id);
    for (const n of similar.json().neighbors) expect(same).toContain(n.id);
  });

  it('a server without analytics models answers 404 with a code', async () => {
    const r = await post('/v1/also-bought', { items: ['x'] }, bare);
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'ERR_AFFINITY_UNKNOWN_MODEL', message: 'this server has no rules model; it serves als (als)' });
    expect((await bare.inject({ method: 'GET', url: '/v1/segments/x' })).statusCode).toBe(404);
  });
});

describe('campaign endpoints', () => {
  const row = { recencyDays: 20, baskets: 4, spend: 300, channel: 'web' };

  it('POST /v1/predict gives class probabilities of named feature rows, encoded as in training', async () => {
    const r = await post('/v1/predict', { rows: [{ ...row, arm: 'email' }, { ...row, arm: 'carrier pigeon' }, {}] });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ model: 'forest', task: 'classification', classes: [0, 1] });
    expect(body.results).toHaveLength(3);
    for (const result of body.results) {
      expect(result.probabilities).toHaveLength(2);
      expect(result.probabilities[0] + result.probabilities[1]).toBeCloseTo(1, 5);
      expect([0, 1]).toContain(result.label);
    }
    expect(body.results[0].probabilities[1]).toBeCloseTo(analytics.forest.predictRecords([{ ...row, arm: 'email' }])[1], 6);
  });

  it('POST /v1/uplift scores kept customers and feature rows, with the best arm', async () => {
    const [a, b] = shop.data.users.ids;
    const byId = await post('/v1/uplift', { customers: [a, 'nobody', b] });
    expect(byId.statusCode, byId.body).toBe(200);
    const body = byId.json();
    expect(body.arms).toEqual(['coupon', 'email']);
    expect(body.unknown).toEqual(['nobody']);
    expect(body.results.map((x: { customer: string }) => x.customer)).toEqual([a, b]);
    for (const x of body.results) {
      expect(x.uplift).toHaveLength(2);
      expect(x.best).toBe(body.arms[x.uplift.indexOf(Math.max(...x.uplift))]);
      expect(x.contact).toBe(Math.max(...x.uplift) > 0);
    }
    // Recent web shoppers answer the e-mail (the demo campaign's planted effect).
    const rows = await post('/v1/uplift', { rows: [row, { recencyDays: 200, channel: 'store' }] });
    expect(rows.json().results).toHaveLength(2);
    expect(rows.json().results[0].best).toBe('email');
  });

  it('refuses malformed campaign requests with a code', async () => {
    for (const [url, payload, status] of [
      ['/v1/uplift', { customers: ['x'], rows: [row] }, 422],
      ['/v1/uplift', {}, 422],
      ['/v1/predict', { rows: [] }, 400],
      ['/v1/predict', { rows: [{ recencyDays: { $gt: 1 } }] }, 400],
      ['/v1/predict', { rows: [row], model: 'uplift' }, 404],
      ['/v1/predict', { rows: Array.from({ length: 1001 }, () => row) }, 400],
    ] as const) {
      const r = await post(url, payload);
      expect(r.statusCode, `${url} ${JSON.stringify(payload).slice(0, 80)}: ${r.body}`).toBe(status);
      expect(r.json().code).toMatch(/^(ERR_AFFINITY_|FST_ERR_VALIDATION)/);
    }
    const none = await post('/v1/uplift', { rows: [row] }, bare);
    expect(none.statusCode).toBe(404);
    expect(none.json().code).toBe('ERR_AFFINITY_UNKNOWN_MODEL');
  });
});
