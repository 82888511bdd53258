// The models behind `npm start`: every kind trained on the demo shop (src/data/synthetic.ts), saved to
// files and served from them, with the product catalogue: what the demo shows is the production path.
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALS } from '../models/als.js';
import { ItemKNN } from '../models/knn.js';
import { churnDataset, trainPropensity } from '../analytics/churn.js';
import { ContentRecommender } from '../models/content.js';
import { HybridRecommender } from '../models/hybrid.js';
import { coPurchaseRules } from '../analytics/rules.js';
import { segmentCustomers } from '../analytics/segments.js';
import { LifetimeValueModel } from '../analytics/lifetime.js';
import { rfmSummary } from '../analytics/rfm.js';
import { writeFileAtomic } from '../io/files.js';
import type { AnalyticsModels } from './analytics-models.js';
import { RandomForest } from '../analytics/trees.js';
import { UpliftModel } from '../analytics/uplift.js';
import { Random } from '../core/random.js';
import { Bandit } from '../analytics/bandit.js';
import type { Id } from '../data/ids.js';
import type { OffersOptions } from './offers.js';
import { FeatureTable } from '../data/featuretable.js';
import { demoShop, type DemoShop } from '../data/synthetic.js';

/** Segments, a 60-day churn model, co-purchase rules, content and hybrid models of the demo shop. */
export async function demoAnalytics(shop: DemoShop, als: ALS): Promise<Required<AnalyticsModels>> {
  const tx = shop.transactions;
  const end = tx.timeRange[1] + 1;
  const category = new Map(shop.products.map((p) => [p.id, p.category]));
  const categoryOf = (item: string | number) => category.get(String(item));
  const segments = await segmentCustomers(tx, { k: 4, kRange: [2, 8], categoryOf }); // the k range: the dashboard charts silhouette and inertia by k
  const categories = [...new Set(shop.products.map((p) => p.category))];
  // As `affinity train --model propensity` does: checked on a time split, then fitted on the latest labelled window.
  const { scorer: propensity } = await trainPropensity(tx, { horizonDays: 60, categoryOf, categories });
  const rules = await coPurchaseRules(tx, { minSupport: 2, minLift: 1, k: 20 });
  const content = await new ContentRecommender().fit(shop.products.map((p) => ({ id: p.id, text: p.name, categories: p.category })), shop.data);
  const hybrid = new HybridRecommender(content, als, shop.data);
  const campaign = demoCampaign(shop);
  const spec = { outcome: 'purchased', treatment: 'arm', control: 'control' };
  const [campaignTrain, campaignTest] = campaign.split(0.7, 1);
  const upliftCheck = await new UpliftModel({ trees: 40, seed: 3 }).fit(campaignTrain, spec);
  const uplift = (await new UpliftModel({ trees: 40, seed: 3 }).fit(campaign, spec)).withCustomers(campaign);
  uplift.metadata = { ...uplift.metadata!, holdout: await upliftCheck.holdoutSample(campaignTest, spec) };
  const forest = await new RandomForest({ trees: 40, maxDepth: 8, minSamplesLeaf: 10, seed: 3 }).fit(campaign, 'purchased');
  return { segments, propensity, rules, content, hybrid, forest, uplift };
}

/**
 * A past campaign to the demo shop's customers, seeded: each got no contact, an e-mail or a coupon at random.
 * The e-mail brings back recent web shoppers (+20 points), the coupon lapsed customers (+15); nothing moves
 * phone customers. Features are the customers' churn features at the end of the data and their channel.
 */
export function demoCampaign(shop: DemoShop): FeatureTable {
  const tx = shop.transactions;
  const ds = churnDataset(tx, { cutoff: tx.timeRange[1] + 1, horizonDays: 60 });
  const random = new Random(11);
  const columns: Record<string, (string | number)[]> = { customer: [], recencyDays: [], baskets: [], spend: [], channel: [], arm: [], purchased: [] };
  const { values, dims } = ds.features;
  ds.customers.ids.forEach((id, r) => {
    const recency = Math.round(values[r * dims]);
    const baskets = Math.round(Math.expm1(values[r * dims + 1]));
    const channel = ['web', 'web', 'store', 'phone'][random.int(4)];
    const arm = ['control', 'email', 'coupon'][random.int(3)];
    let p = 0.08 + (baskets > 10 ? 0.1 : 0);
    if (arm === 'email' && channel === 'web' && recency < 60) p += 0.2;
    if (arm === 'coupon' && channel !== 'phone' && recency >= 60) p += 0.15;
    columns.customer.push(String(id));
    columns.recencyDays.push(recency);
    columns.baskets.push(baskets);
    columns.spend.push(Math.round(Math.expm1(values[r * dims + 2])));
    columns.channel.push(channel);
    columns.arm.push(arm);
    columns.purchased.push(random.next() < p ? 1 : 0);
  });
  return FeatureTable.fromColumns(columns, { id: 'customer' });
}

/**
 * The demo's offer policy: linear Thompson sampling over no contact, an e-mail and a coupon, warmed up on
 * the past campaign (its arms were assigned at random, so every row is an unbiased lesson), with the
 * customers' context from the same table.
 */
export function demoOffers(shop: DemoShop): { bandit: Bandit; contextFor: (customer: Id) => Record<string, number> | undefined } {
  const campaign = demoCampaign(shop);
  const featureNames = ['bias', 'recency', 'baskets', 'spend', 'web'];
  const contexts = new Map<Id, Record<string, number>>();
  const ids = campaign.labels('customer');
  const recency = campaign.numbers('recencyDays'), baskets = campaign.numbers('baskets'), spend = campaign.numbers('spend');
  const channel = campaign.labels('channel'), arm = campaign.labels('arm'), purchased = campaign.numbers('purchased');
  const bandit = new Bandit({ policy: 'lin-thompson', arms: ['none', 'email', 'coupon'], featureNames, scale: 0.3, seed: 5 });
  for (let r = 0; r < campaign.rows; r++) {
    const context = { bias: 1, recency: recency[r] / 100, baskets: Math.log1p(baskets[r]), spend: Math.log1p(spend[r]) / 5, web: channel[r] === 'web' ? 1 : 0 };
    contexts.set(String(ids[r]), context);
    bandit.update(arm[r] === 'control' ? 'none' : String(arm[r]), purchased[r], context);
  }
  return { bandit, contextFor: (customer) => contexts.get(String(customer)) };
}

/** The demo catalogue: the shop's products with a seeded stock count (some out of stock, so the filters show). */
export function demoProducts(shop: DemoShop): { id: string; name: string; category: string; price: number; stock: number }[] {
  return shop.products.map((p, i) => ({ ...p, stock: (i * 7) % 5 }));
}

/** Trains every demo model and writes each (and the catalogue) to a directory; returns their paths. */
export async function prepareDemo(dir = join(tmpdir(), 'affinity-demo')): Promise<{ dir: string; models: Record<string, string>; catalog: string; shop: DemoShop; offers: OffersOptions }> {
  await mkdir(dir, { recursive: true });
  const shop = await demoShop();
  const als = await new ALS({ factors: 32, iterations: 10, seed: 7 }).fit(shop.data);
  const knn = await new ItemKNN({ k: 30 }).fit(shop.data);
  // Lifetime value as of the last purchase: a calibration period of all the shop's history.
  const clv = await LifetimeValueModel.fit(rfmSummary(shop.transactions, { calibrationEnd: shop.transactions.timeRange[1] }), { penalizer: 0.001 });
  // Its holdout check: the same model fitted on all but the last 13 weeks, against what those weeks held.
  const [, last] = shop.transactions.timeRange;
  const calibration = rfmSummary(shop.transactions, { calibrationEnd: last - 13 * 7 * 86400, observationEnd: last });
  clv.metadata = { ...clv.metadata!, holdout: await (await LifetimeValueModel.fit(calibration, { penalizer: 0.001 })).holdoutSample(calibration, 13) };
  const all = { als, itemknn: knn, ...(await demoAnalytics(shop, als)), clv };
  const models: Record<string, string> = {};
  for (const [name, model] of Object.entries(all)) {
    models[name] = join(dir, `${name}.affinity`);
    await model.save(models[name]);
  }
  const catalog = join(dir, 'products.json');
  await writeFileAtomic(catalog, [Buffer.from(JSON.stringify(demoProducts(shop), null, 2))]);
  // A fresh offers directory per demo: its decision log starts empty.
  const { bandit, contextFor } = demoOffers(shop);
  const offersDir = join(dir, 'offers');
  await rm(offersDir, { recursive: true, force: true });
  return { dir, models, catalog, shop, offers: { dir: offersDir, policies: { coupons: { bandit, contextFor } } } };
}

/** A request the demo prints as a curl command (and the tests send as printed). */
export interface DemoRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: object;
}

/** The requests the demo suggests, for a customer of the shop and two of their products. */
export function demoRequests(shop: DemoShop): { recommend: DemoRequest[]; analytics: DemoRequest[]; events: DemoRequest[] } {
  const customer = shop.data.users.ids[0];
  const [p1, p2] = shop.data.itemsOf(customer).map((x) => x.item);
  const category = shop.products[0].category;
  const post = (path: string, body: object): DemoRequest => ({ method: 'POST', path, body });
  return {
    recommend: [
      post('/v1/recommend', { user: customer, k: 5 }),
      post('/v1/recommend', { user: customer, k: 5, filter: { category: { in: [category] }, price: { lte: 20 }, inStock: true }, fields: ['name', 'category', 'price'] }),
      post('/v1/recommend', { model: 'itemknn', user: customer, k: 5 }),
      post('/v1/recommend/anonymous', { items: [p1, p2], k: 5, fields: ['name'] }),
      post('/v1/recommend', { user: 'new-visitor', k: 5, fallback: 'popular' }),
      post('/v1/score', { user: customer, items: [p1, 'P0002', 'P0003'] }),
      post('/v1/similar/items', { item: p1, k: 5, fields: ['name', 'price'] }),
      post('/v1/explain', { user: customer, item: shop.data.items.ids.find((i) => i !== p1 && i !== p2)!, k: 3 }),
    ],
    analytics: [
      { method: 'GET', path: `/v1/segments/${customer}` },
      post('/v1/propensity', { customers: [customer, shop.data.users.ids[1]], attributions: 3 }),
      { method: 'GET', path: `/v1/clv/${customer}` },
      post('/v1/clv', { customers: [customer, shop.data.users.ids[1], 'new-customer'] }),
      post('/v1/also-bought', { items: [p1], k: 5, fields: ['name'] }),
      post('/v1/content/recommend', { items: [p1], k: 5 }),
      post('/v1/content/similar', { item: p1, k: 5, filter: { inStock: true } }),
      post('/v1/hybrid/recommend', { user: customer, k: 5 }),
      post('/v1/uplift', { customers: [customer, shop.data.users.ids[1]] }),
      post('/v1/uplift', { rows: [{ recencyDays: 20, baskets: 4, spend: 300, channel: 'web' }] }),
      post('/v1/predict', { rows: [{ recencyDays: 20, baskets: 4, spend: 300, channel: 'web', arm: 'email' }] }),
      post('/v1/offers/decide', { customer }),
      { method: 'GET', path: '/v1/offers/stats' },
      { method: 'GET', path: '/v1/models' },
      { method: 'GET', path: '/metrics' },
    ],
    // With the demo's events store: a purchase, then a recommendation that folds it in ("fresh": 1).
    events: [
      post('/v1/events', { type: 'purchase', customer, item: shop.data.items.ids.find((i) => i !== p1 && i !== p2 && !shop.data.itemsOf(customer).some((x) => x.item === i))!, amount: 12.5 }),
      post('/v1/recommend', { user: customer, k: 5 }),
    ],
  };
}

/** A request as a curl command line. */
export function curlOf(url: string, r: DemoRequest): string {
  return r.body === undefined ? `curl -s ${url}${r.path}` : `curl -s -X POST ${url}${r.path} -H 'content-type: application/json' -d '${JSON.stringify(r.body)}'`;
}
