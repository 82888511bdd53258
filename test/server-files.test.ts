// The server on model files of every kind with a catalogue, as `npm start` runs it: the demo's printed
// requests answer as printed, routes find models by kind, answers carry attributes and honour filters,
// and analytics models and the catalogue reload under load without a failed request.
import { copyFile, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WithAffinity } from '../src/server/index.js';
import { buildApp } from '../src/server/app.js';
import { curlOf, demoRequests, prepareDemo } from '../src/server/demo.js';
import { classificationMetrics } from '../src/analytics/logistic.js';
import { sampleRows, type Recommender } from '../src/models/contract.js';
import type { DemoShop } from '../src/data/synthetic.js';
import { ALS, type Bandit, type PropensityScorer } from '../src/index.js';
import { offerStatsOf } from '../src/insights/offers.js';
import { readDecisionLog } from '../src/io/decisionlog.js';

let app: WithAffinity;
let dir: string;
let shop: DemoShop;
let models: Record<string, string>;
let policy: Bandit;
const TOKEN = 'test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-serve-files-'));
  const demo = await prepareDemo(dir);
  shop = demo.shop;
  models = demo.models;
  policy = (demo.offers.policies.coupons as { bandit: Bandit }).bandit;
  app = await buildApp({ models, catalog: demo.catalog, offers: demo.offers, store: `sqlite:${join(dir, 'events.db')}`, adminToken: TOKEN, docs: false, pressure: false });
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

describe('the demo, served from its files', () => {
  it("answers every request it prints, as printed", async () => {
    const { recommend, analytics, events } = demoRequests(shop);
    for (const r of [...recommend, ...analytics, ...events]) {
      // The printed command is what is sent: its JSON body, parsed back from the curl line.
      const line = curlOf('http://localhost:8080', r);
      const body = line.includes(" -d '") ? JSON.parse(line.slice(line.indexOf(" -d '") + 5, -1)) : undefined;
      const reply = await app.inject({ method: r.method, url: r.path, ...(body ? { payload: body } : {}) });
      expect(reply.statusCode, `${line}\n${reply.body}`).toBe(r.path === '/v1/events' ? 202 : 200);
    }
    expect((await post('/v1/recommend', events[1].body)).json().fresh).toBe(1);
  });

  it('lists every model with its kind and training metadata, and the catalogue', async () => {
    const reply = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
    expect(reply.models.map((m: { name: string; kind: string }) => `${m.name}:${m.kind}`)).toEqual([
      'als:als',
      'itemknn:itemknn',
      'segments:segments',
      'propensity:propensity',
      'rules:rules',
      'content:content',
      'hybrid:hybrid',
      'forest:forest',
      'uplift:uplift',
      'clv:clv',
    ]);
    for (const m of reply.models) expect(m.metadata, m.name).toMatchObject({ trainedAt: expect.any(String), library: expect.any(String), data: expect.any(Object) });
    expect(reply.models.find((m: { name: string }) => m.name === 'segments')).toMatchObject({ users: shop.transactions.customers.size, reloadable: true });
    expect(reply.catalog).toMatchObject({ version: 1, products: shop.products.length, attributes: ['name', 'category', 'price', 'inStock', 'stock'] });
  });

  it("the files keep the samples the charts need (held-out predictions, a projection, loss curves), and the listing leaves them out", async () => {
    const metaOf = (name: string) => app.affinity.registry.byName(name).model.metadata!;
    const churn = metaOf('propensity').holdout!;
    expect(churn.kind).toBe('binary');
    if (churn.kind !== 'binary') return;
    expect(churn.score.length).toBe(churn.label.length);
    expect(new Set(churn.label)).toEqual(new Set([0, 1]));
    // The sample is the check the quality figure came from: its AUC is the stored one, up to the rounding of scores.
    expect(classificationMetrics(churn.label, churn.score).rocAuc).toBeCloseTo(metaOf('propensity').quality!.rocAuc, 2);
    const uplift = metaOf('uplift').holdout!;
    expect(uplift.kind === 'uplift' && Object.keys(uplift.uplift).sort()).toEqual(['coupon', 'email']);
    const clv = metaOf('clv').holdout!;
    expect(clv.kind === 'purchases' && clv.weeks).toBe(13);
    const projection = metaOf('segments').projection!;
    expect(projection.x.length).toBe(Math.min(2000, shop.transactions.customers.size));
    expect(new Set(projection.segment).size).toBe(4);
    expect(metaOf('als').curves!.loss).toHaveLength(10);
    const listed = (await app.inject({ method: 'GET', url: '/v1/models' })).json().models as { name: string; metadata: Record<string, unknown> }[];
    for (const m of listed) expect(Object.keys(m.metadata), m.name).not.toContain('holdout');
    expect(listed.find((m) => m.name === 'segments')!.metadata).not.toHaveProperty('projection');
    expect((listed.find((m) => m.name === 'als')!.metadata.curves as { loss: number[] }).loss).toHaveLength(10);
  });

  it('serves the churn page: curves and weights of the held-out check, 404 for a model of another kind', async () => {
    const reply = await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/churn' });
    expect(reply.statusCode, reply.body).toBe(200);
    const view = reply.json();
    const meta = app.affinity.registry.byName('propensity').model.metadata!;
    expect(view.model).toBe('propensity');
    expect(view.rocAuc).toBeCloseTo(meta.quality!.rocAuc, 2);
    expect([view.roc.x[0], view.roc.y[0], view.roc.x.at(-1), view.roc.y.at(-1)]).toEqual([0, 0, 1, 1]);
    expect(view.roc.x.length).toBeLessThanOrEqual(200);
    expect(view.calibration).toHaveLength(10);
    expect(view.calibration.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(view.rows);
    expect(view.weightKind).toBe('coefficient');
    const magnitudes = view.weights.map((w: { weight: number }) => Math.abs(w.weight));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
    expect((await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/churn?model=als' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/churn?other=1' })).statusCode).toBe(400);
  });

  it('serves the campaigns page: arm rates with intervals and lifts from the held-out rows, and Qini curves', async () => {
    const reply = await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/campaigns' });
    expect(reply.statusCode, reply.body).toBe(200);
    const view = reply.json();
    const holdout = app.affinity.registry.byName('uplift').model.metadata!.holdout!;
    if (holdout.kind !== 'uplift') throw new Error('no uplift holdout');
    expect(view.arms.map((a: { arm: string }) => a.arm)).toEqual(['control', 'coupon', 'email']);
    for (const a of view.arms) {
      const ys = holdout.outcome.filter((_, i) => holdout.arm[i] === a.arm);
      expect(a.rows).toBe(ys.length);
      expect(a.rate).toBeCloseTo(ys.reduce((x, y) => x + y, 0) / ys.length, 12);
      expect(a.ci[0]).toBeLessThan(a.rate);
      expect(a.ci[1]).toBeGreaterThan(a.rate);
      expect(a.lift).toBeCloseTo(a.rate - view.arms[0].rate, 12);
    }
    // The demo's e-mail brings back recent web shoppers (src/server/demo.ts): a lift over all its rows. (The
    // coupon moves only lapsed customers, a few of those held out: its overall lift is near zero.)
    expect(view.arms[2].lift).toBeGreaterThan(0.03);
    expect(view.qini.map((q: { arm: string }) => q.arm)).toEqual(['coupon', 'email']);
    for (const q of view.qini) expect(q.curve.x[0]).toBe(0);
    // The uplift curve's last point is the whole arm against the whole control: rate difference times rows.
    for (const q of view.qini) {
      const arm = view.arms.find((a: { arm: string }) => a.arm === q.arm), control = view.arms[0];
      expect(q.uplift.x.at(-1)).toBe(arm.rows + control.rows);
      expect(q.uplift.y.at(-1)).toBeCloseTo((arm.rate - control.rate) * (arm.rows + control.rows), 9);
    }
  });

  it('serves the lifetime page: P(alive) and expected purchases on a frequency x recency grid, values, the holdout check', async () => {
    const reply = await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/lifetime' });
    expect(reply.statusCode, reply.body).toBe(200);
    const { grid, values, holdout } = reply.json();
    const columns = grid.recency.length;
    expect(grid.probabilityAlive).toHaveLength(grid.frequency.length * columns);
    // BG/NBD: a customer who never came back is alive for sure; one who did is likelier alive the more recent their last purchase.
    expect(grid.probabilityAlive.slice(0, columns).every((p: number) => p === 1)).toBe(true);
    const row2 = grid.probabilityAlive.slice(2 * columns, 3 * columns);
    for (let j = 1; j < columns; j++) expect(row2[j]).toBeGreaterThanOrEqual(row2[j - 1] - 1e-12);
    expect(row2[0]).toBeLessThan(row2[columns - 1]);
    expect(values.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(Math.min(2000, shop.transactions.customers.size));
    expect(holdout.weeks).toBe(13);
    expect(holdout.groups.length).toBeGreaterThan(2);
  });

  it('serves the segments page: profiles, the projection and the k diagnostics', async () => {
    const view = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/segments' })).json();
    expect(view.k).toBe(4);
    expect(view.profiles.reduce((a: number, p: { size: number }) => a + p.size, 0)).toBe(shop.transactions.customers.size);
    expect(view.projection.explained[0]).toBeGreaterThanOrEqual(view.projection.explained[1]);
    expect(view.projection.segment).toHaveLength(view.projection.x.length);
  });

  it('serves the quality page: loss per iteration, and coverage and popularity of top-10 lists against a brute-force count', async () => {
    const view = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/quality?model=als' })).json();
    expect(view.kind).toBe('als');
    expect(view.curves.loss).toHaveLength(10);
    expect(view.figures.finalLoss).toBe(view.curves.loss.at(-1));
    const als = app.affinity.registry.byName('als').model as Recommender;
    const users = als.users.ids.filter((_, u) => sampleRows(als.users.size, 500).includes(u));
    const distinct = new Set(users.flatMap((u) => als.recommend(u, { k: 10 }).map((r) => r.item)));
    expect(view.lists.users).toBe(users.length);
    expect(view.lists.coverage).toBeCloseTo(distinct.size / als.items.size, 12);
    // Collaborative models lean to popular items: the lists' mean popularity percentile is above the middle.
    expect(view.lists.recommendedPopularity).toBeGreaterThan(0.5);
    expect(view.lists.topDecileShare).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/quality?model=segments' })).statusCode).toBe(404);
  });

  it('serves the overview: every model, and per route the requests counted so far', async () => {
    const before = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/overview' })).json();
    for (let i = 0; i < 5; i++) await post('/v1/recommend', { user: shop.data.users.ids[i], k: 3 });
    const after = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/overview' })).json();
    expect(after.models.map((m: { name: string }) => m.name)).toContain('clv');
    expect(after.models.find((m: { name: string }) => m.name === 'als').trainedAt).toEqual(expect.any(String));
    const count = (o: { routes: { key: string; count: number }[] }) => o.routes.find((r) => r.key === '/v1/recommend')?.count ?? 0;
    expect(count(after) - count(before)).toBe(5);
    expect(after.routes.find((r: { key: string }) => r.key === '/v1/recommend').p50).toBeGreaterThan(0);
    expect(after.engine.length).toBeGreaterThan(0);
    const reload = await app.inject({ method: 'POST', url: '/v1/models/itemknn/reload', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(reload.statusCode).toBe(200);
    const history = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/overview' })).json().reloads;
    expect(history.at(-1)).toMatchObject({ model: 'itemknn', ok: true, version: reload.json().version });
  });

  it('serves the offers page: rewards over time from the decision log, and the policy valued off-policy', async () => {
    const before = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/offers' })).json();
    const start = before.timeline.decisions.at(-1) ?? 0;
    const startReward = before.timeline.reward.at(-1) ?? 0;
    let rewards = 0, logged = 0;
    for (let i = 0; i < 30; i++) {
      const d = (await post('/v1/offers/decide', { customer: shop.data.users.ids[i] })).json();
      if (d.decisionId === null) continue; // nothing eligible: nothing logged
      logged++;
      if (logged % 3 === 0) {
        expect((await post('/v1/offers/reward', { decisionId: d.decisionId, reward: 1 })).statusCode).toBe(200);
        rewards++;
      }
    }
    const view = (await app.inject({ method: 'GET', headers: auth, url: '/v1/insights/offers' })).json();
    expect(logged).toBeGreaterThan(20);
    expect(view.timeline.decisions.at(-1)).toBe(start + logged);
    expect(view.timeline.reward.at(-1)).toBe(startReward + rewards);
    expect(view.timeline.at).toEqual([...view.timeline.at].sort((a: number, b: number) => a - b));
    expect(view.estimates.map((e: { estimator: string }) => e.estimator)).toEqual(['ips', 'snips']);
    expect(view.estimates[0].rows).toBe(start + logged);
    expect(view.estimates[1].logged).toBeCloseTo((startReward + rewards) / (start + logged), 12);
    expect(view.offers.reduce((a: number, o: { shows: number }) => a + o.shows, 0)).toBe(start + logged);
    // The same counts from the log alone, as `affinity report --logs` reads them.
    const fromLog = offerStatsOf(await readDecisionLog(join(dir, 'offers', 'coupons', 'decisions.log')), policy);
    expect(fromLog.map((o) => [o.offer, o.shows, o.rewarded, o.rewardSum])).toEqual(view.offers.map((o: { offer: string; shows: number; rewarded: number; rewardSum: number }) => [o.offer, o.shows, o.rewarded, o.rewardSum]));
  });

  it('computes a page once per model: the same answer until a reload swaps in another file', async () => {
    const url = '/v1/insights/quality?model=als';
    const first = (await app.inject({ method: 'GET', headers: auth, url })).json();
    expect((await app.inject({ method: 'GET', headers: auth, url })).json()).toEqual(first);
    // Another ALS in the served file's place (written beside it, renamed over it), then a reload.
    const path = models.als;
    const other = await new ALS({ factors: 8, iterations: 4, seed: 3 }).fit(shop.data);
    await other.save(`${path}.next`);
    await rename(`${path}.next`, path);
    expect((await app.inject({ method: 'POST', url: '/v1/models/als/reload', headers: auth })).statusCode).toBe(200);
    const after = (await app.inject({ method: 'GET', headers: auth, url })).json();
    expect(after.curves.loss).toHaveLength(4);
    expect(first.curves.loss).toHaveLength(10);
  });

  it('the dashboard data needs the admin token once the server has one', async () => {
    for (const url of ['/v1/insights/overview', '/v1/insights/churn', '/v1/insights/offers']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
      expect((await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer wrong' } })).statusCode, url).toBe(401);
    }
    expect((await app.inject({ method: 'POST', url: '/v1/insights/customer', payload: { customer: shop.data.users.ids[0] } })).statusCode).toBe(401);
  });

  it('shows one customer across every model, the same as each route answers, and previews the offer without logging it', async () => {
    const customer = shop.data.users.ids[3];
    expect((await post('/v1/events', { type: 'purchase', customer, item: shop.data.items.ids[2], amount: 12.5 })).statusCode).toBe(202);
    const stats = (await app.inject({ method: 'GET', url: '/v1/offers/stats' })).json();
    const reply = await app.inject({ method: 'POST', url: '/v1/insights/customer', headers: auth, payload: { customer } });
    expect(reply.statusCode, reply.body).toBe(200);
    const view = reply.json();
    const als = shop.data.itemsOf(customer);
    expect(view.history.trainedCount).toBe(als.length);
    expect(view.history.trained[0].value).toBe(Math.max(...als.map((a) => a.value)));
    expect(view.history.trained[0].name).toEqual(expect.any(String));
    expect(view.history.events.at(-1)).toMatchObject({ type: 'purchase', item: String(shop.data.items.ids[2]), amount: 12.5 });
    expect(view.segment.segment).toBe((await app.inject({ url: `/v1/segments/${customer}` })).json().segment);
    const churn = (await post('/v1/propensity', { customers: [customer] })).json().results[0];
    expect(view.churn.probability).toBeCloseTo(churn.probability, 12);
    expect(view.churn.attributions).toEqual(churn.attributions);
    const clv = (await app.inject({ url: `/v1/clv/${customer}` })).json();
    expect(view.value).toMatchObject({ model: 'clv', value: clv.value, probabilityAlive: clv.probabilityAlive });
    // What the customer would be shown now: with the purchase just recorded folded in.
    const rec = (await post('/v1/recommend', { model: 'als', user: customer, k: 5 })).json();
    expect(rec.fresh).toBeGreaterThan(0);
    expect(view.recommendations.fresh).toBe(rec.fresh);
    expect(view.recommendations.items.map((r: { item: unknown }) => r.item)).toEqual(rec.items.map((r: { item: unknown }) => r.item));
    const why = (await post('/v1/explain', { model: 'als', user: customer, item: rec.items[0].item, k: 3 })).json();
    expect(view.recommendations.items[0].because.map((b: { item: unknown }) => b.item)).toEqual(why.contributions.map((c: { item: unknown }) => c.item));
    const p = view.offer.offers.map((o: { probability: number }) => o.probability);
    expect(p.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 6);
    expect(p).toEqual([...p].sort((a, b) => b - a));
    const shows = (s: { offers: { shows: number }[] }) => s.offers.reduce((a, o) => a + o.shows, 0);
    expect(shows((await app.inject({ method: 'GET', url: '/v1/offers/stats' })).json())).toBe(shows(stats));
    const unknown = await app.inject({ method: 'POST', url: '/v1/insights/customer', headers: auth, payload: { customer: 'nobody-at-all' } });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/v1/insights/customer', headers: auth, payload: { customer: 'x', extra: 1 } })).statusCode).toBe(400);
  });

  it('lifetime value by customer carries the segment the segment model gives', async () => {
    const customer = shop.data.users.ids[0];
    const clv = (await app.inject({ url: `/v1/clv/${customer}` })).json();
    const segment = (await app.inject({ url: `/v1/segments/${customer}` })).json();
    expect(clv).toMatchObject({ model: 'clv', customer, months: 12, segment: segment.segment });
    expect(clv.probabilityAlive).toBeGreaterThan(0);
    expect(clv.value).toBeGreaterThan(0);
  });

  it('routes find models by kind: a named model of another kind, or no model of the kind, is 404 naming what is served', async () => {
    const wrong = await app.inject({ method: 'GET', url: `/v1/segments/${shop.data.users.ids[0]}?model=als` });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json()).toMatchObject({ code: 'ERR_AFFINITY_UNKNOWN_MODEL', message: expect.stringMatching(/"als" is a als model, not a segments model; it serves als \(als\), itemknn \(itemknn\), segments \(segments\)/) });
    const rec = await post('/v1/recommend', { model: 'rules', user: shop.data.users.ids[0] });
    expect(rec.statusCode).toBe(404);
    expect(rec.json().message).toMatch(/not a recommender model/);
    const bare = await buildApp({ models: { als: models.als }, docs: false });
    const none = await bare.inject({ method: 'POST', url: '/v1/propensity', payload: { customers: ['x'] } });
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toBe('this server has no propensity model; it serves als (als)');
    await bare.close();
  });
});

describe('propensity from purchase lines', () => {
  it("scores a customer's lines with the stored recipe as their stored row scores", async () => {
    const scorer = app.affinity.registry.byName('propensity').model as PropensityScorer;
    const cutoff = scorer.dataset.recipe.cutoff;
    const tx = shop.transactions;
    const customer = scorer.dataset.customers.ids[3];
    const lines = [];
    for (let i = 0; i < tx.size; i++)
      if (tx.customers.ids[tx.customer[i]] === customer && tx.time[i] < cutoff) lines.push({ item: tx.items.ids[tx.item[i]], time: tx.time[i], amount: tx.amount[i], basket: tx.basket[i] });
    const byId = (await post('/v1/propensity', { customers: [customer] })).json().results[0];
    const byLines = (await post('/v1/propensity', { histories: [{ customer, lines }], asOf: cutoff })).json().results[0];
    expect(byLines.probability).toBeCloseTo(byId.probability, 5);
    expect((await post('/v1/propensity', { customers: [customer], histories: [{ customer, lines }] })).json().code).toBe('ERR_AFFINITY_BAD_INPUT');
    expect((await post('/v1/propensity', { histories: [{ customer: 'new', lines: [{ item: 'P0001', time: cutoff + 10 }] }], asOf: cutoff })).statusCode).toBe(422);
  });
});

describe('the catalogue in answers', () => {
  const user = () => shop.data.users.ids[0];
  const products = () => new Map(shop.products.map((p, i) => [p.id, { ...p, stock: (i * 7) % 5 }]));

  it('filters every recommendation-shaped answer and returns the fields asked for', async () => {
    const category = shop.products[3].category;
    const filter = { category: { in: [category] }, price: { lte: 20 }, inStock: true };
    const fields = ['name', 'category', 'price', 'stock'];
    const ok = (items: { item?: string; id?: string; attributes?: Record<string, unknown> }[], what: string) => {
      expect(items.length, what).toBeGreaterThan(0);
      for (const r of items) {
        const p = products().get((r.item ?? r.id)!)!;
        expect(p.category === category && p.price <= 20 && p.stock > 0, `${what}: ${r.item ?? r.id}`).toBe(true);
        expect(r.attributes, what).toEqual({ name: p.name, category: [p.category], price: p.price, stock: p.stock });
      }
    };
    const p1 = shop.data.itemsOf(user())[0].item;
    ok((await post('/v1/recommend', { user: user(), k: 5, filter, fields })).json().items, 'recommend');
    ok((await post('/v1/recommend', { model: 'itemknn', user: user(), k: 5, filter, fields })).json().items, 'itemknn');
    ok((await post('/v1/recommend', { user: 'nobody', fallback: 'popular', k: 5, filter, fields })).json().items, 'popular fallback');
    ok((await post('/v1/recommend/anonymous', { items: [p1], k: 5, filter, fields })).json().items, 'anonymous');
    ok((await post('/v1/similar/items', { item: p1, k: 5, filter, fields })).json().neighbors, 'similar');
    ok((await post('/v1/content/recommend', { items: [p1], k: 5, filter, fields })).json().items, 'content');
    ok((await post('/v1/content/similar', { item: p1, k: 5, filter, fields })).json().neighbors, 'content similar');
    ok((await post('/v1/hybrid/recommend', { user: user(), k: 5, filter, fields })).json().items, 'hybrid');
    const batch = (await post('/v1/recommend/batch', { users: shop.data.users.ids.slice(0, 3), k: 4, filter, fields })).json();
    for (const r of batch.results) ok(r.items, 'batch');
    const also = (await post('/v1/also-bought', { items: [p1], k: 5, filter: { inStock: true }, fields: ['stock'] })).json().items;
    for (const r of also) expect(r.attributes.stock).toBeGreaterThan(0);
  });

  it('refuses unknown attributes (400), malformed filters, and filters without a catalogue', async () => {
    const unknown = await post('/v1/recommend', { user: user(), filter: { colour: 'red' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'ERR_AFFINITY_UNKNOWN_ATTRIBUTE', message: expect.stringMatching(/"colour".*name, category, price, inStock, stock/) });
    expect((await post('/v1/recommend', { user: user(), fields: ['colour'] })).json().code).toBe('ERR_AFFINITY_UNKNOWN_ATTRIBUTE');
    expect((await post('/v1/recommend', { user: user(), filter: { price: { below: 3 } } })).statusCode).toBe(400);
    expect((await post('/v1/recommend', { user: user(), filter: { price: 'cheap' } })).json().code).toBe('ERR_AFFINITY_BAD_INPUT');
    expect((await post('/v1/recommend', { user: user(), filter: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`a${i}`, 1])) })).statusCode).toBe(400);
    const bare = await buildApp({ models: { als: models.als }, docs: false });
    const none = await bare.inject({ method: 'POST', url: '/v1/recommend', payload: { user: user(), filter: { inStock: true } } });
    expect(none.statusCode).toBe(422);
    expect(none.json()).toMatchObject({ code: 'ERR_AFFINITY_UNSUPPORTED', message: expect.stringMatching(/no product catalogue/) });
    await bare.close();
  });

  it('answers items the catalogue lacks without attributes, and counts them', async () => {
    const path = join(dir, 'partial.json');
    await writeFile(path, JSON.stringify(shop.products.slice(0, 10).map((p) => ({ id: p.id, name: p.name }))));
    const partial = await buildApp({ models: { als: models.als }, catalog: path, docs: false });
    const items = (await partial.inject({ method: 'POST', url: '/v1/recommend', payload: { user: user(), k: 30, fields: ['name'] } })).json().items;
    const missing = items.filter((r: { attributes?: unknown }) => r.attributes === undefined).length;
    expect(missing).toBeGreaterThan(0);
    for (const r of items) if (r.attributes) expect(r.attributes.name).toBe(shop.products.find((p) => p.id === r.item)!.name);
    const metrics = (await partial.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`affinity_catalog_missing_items_total{} ${missing}`);
    await partial.close();
  });
});

describe('reloads', () => {
  it('an analytics model and the catalogue reload while requests run: no request fails, and a bad file keeps the old one', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const customer = shop.data.users.ids[5];
    let failed = 0;
    let served = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const replies = await Promise.all([
          app.inject({ method: 'GET', url: `/v1/segments/${customer}` }),
          post('/v1/propensity', { customers: [customer] }),
          post('/v1/recommend', { user: customer, k: 3, filter: { inStock: true }, fields: ['name'] }),
        ]);
        for (const r of replies) r.statusCode === 200 ? served++ : failed++;
      }
    })();
    try {
    for (let round = 0; round < 4; round++) {
      for (const name of ['segments', 'propensity', 'hybrid']) {
        const r = await app.inject({ method: 'POST', url: `/v1/models/${name}/reload`, headers: auth });
        expect(r.statusCode, r.body).toBe(200);
      }
      expect((await app.inject({ method: 'POST', url: '/v1/catalog/reload', headers: auth })).json()).toMatchObject({ version: round + 2 });
    }
    // A broken file: the reload fails, the model in service stays.
    await copyFile(models.segments, join(dir, 'segments.good'));
    await writeFile(models.segments, 'not a model');
    const bad = await app.inject({ method: 'POST', url: '/v1/models/segments/reload', headers: auth });
    expect(bad.json().code).toBe('ERR_AFFINITY_CORRUPT_FILE');
    await copyFile(join(dir, 'segments.good'), models.segments);
    } finally {
      running = false;
      await load;
    }
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(10);
    expect((await app.inject({ method: 'GET', url: `/v1/segments/${customer}` })).json()).toMatchObject({ model: 'segments', user: customer });
    const versions = (await app.inject({ method: 'GET', url: '/v1/models' })).json().models;
    expect(versions.find((m: { name: string }) => m.name === 'segments').version).toBe(5);
  });
});
