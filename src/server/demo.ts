// The demo shop behind `npm start`: seeded customers, products with names and categories, a year of
// purchases with power-law popularity; ALS and ItemKNN trained on it and served.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALS } from '../als.js';
import { Interactions } from '../interactions.js';
import { ItemKNN } from '../knn.js';
import { PropensityScorer, churnDataset } from '../analytics/churn.js';
import { ContentRecommender, HybridRecommender } from '../analytics/content.js';
import { LogisticRegression } from '../analytics/logistic.js';
import { coPurchaseRules } from '../analytics/rules.js';
import { segmentCustomers } from '../analytics/segments.js';
import { Transactions } from '../analytics/transactions.js';
import type { AnalyticsModels } from './routes/analytics.js';
import { Random, AliasTable } from '../random.js';

const ADJECTIVES = ['Organic', 'Classic', 'Smoked', 'Spiced', 'Vintage', 'Rustic', 'Golden', 'Wild', 'Fresh', 'Dark', 'Sparkling', 'Handmade'];
const CATEGORIES: Record<string, string[]> = {
  tea: ['Green Tea', 'Black Tea', 'Chai', 'Rooibos', 'Oolong', 'Matcha'],
  coffee: ['Espresso Beans', 'Filter Coffee', 'Cold Brew', 'Decaf Beans'],
  bakery: ['Sourdough', 'Croissant', 'Rye Bread', 'Scone', 'Brioche'],
  kitchen: ['Teapot', 'Mug', 'French Press', 'Grinder', 'Kettle', 'Tea Towel'],
  pantry: ['Honey', 'Jam', 'Olive Oil', 'Sea Salt', 'Granola', 'Chocolate'],
};

export interface DemoShop {
  products: { id: string; name: string; category: string; price: number }[];
  data: Interactions;
  /** The same purchases as lines with prices, and baskets (one per customer and day). */
  transactions: Transactions;
}

export async function demoShop(seed = 7, customers = 2000, purchases = 30_000): Promise<DemoShop> {
  const rng = new Random(seed);
  const products: DemoShop['products'] = [];
  for (const [category, nouns] of Object.entries(CATEGORIES))
    for (const noun of nouns)
      for (const adjective of ADJECTIVES.slice(0, 8)) products.push({ id: `P${String(products.length + 1).padStart(4, '0')}`, name: `${adjective} ${noun}`, category, price: Math.round(200 + rng.next() * 2800) / 100 });
  const categories = Object.keys(CATEGORIES);
  // Each customer leans to one or two categories; products are Zipf-popular within the shop.
  const weights = Float64Array.from(products, (_, r) => 1 / Math.pow(r + 1, 0.8));
  rng.shuffle(weights);
  const byCategory = new Map(categories.map((c) => [c, products.flatMap((p, i) => (p.category === c ? [i] : []))]));
  const tables = new Map(categories.map((c) => [c, new AliasTable(Float64Array.from(byCategory.get(c)!, (i) => weights[i]))]));
  const anyProduct = new AliasTable(weights);
  const users: string[] = [];
  const items: string[] = [];
  const times: number[] = [];
  const start = Date.UTC(2025, 0, 1) / 1000;
  const taste = Array.from({ length: customers }, () => [categories[rng.int(categories.length)], categories[rng.int(categories.length)]]);
  const activity = new AliasTable(Float64Array.from({ length: customers }, () => Math.exp(rng.normal())));
  for (let n = 0; n < purchases; n++) {
    const c = activity.sample(rng);
    const r = rng.next();
    const product = r < 0.75 ? byCategory.get(taste[c][r < 0.5 ? 0 : 1])![tables.get(taste[c][r < 0.5 ? 0 : 1])!.sample(rng)] : anyProduct.sample(rng);
    users.push(`C${String(c + 1).padStart(5, '0')}`);
    items.push(products[product].id);
    times.push(start + Math.floor(rng.next() * 365 * 86400));
  }
  const data = await Interactions.fromArrays({ users, items, timestamps: times });
  const price = new Map(products.map((p) => [p.id, p.price]));
  const transactions = Transactions.fromArrays({
    customers: users,
    items,
    timestamps: times,
    amounts: items.map((i) => price.get(i)!),
    baskets: users.map((u, n) => `${u}/${Math.floor(times[n] / 86400)}`),
  });
  return { products, data, transactions };
}

/** Segments, a 60-day churn model, co-purchase rules, content and hybrid models of the demo shop. */
export async function demoAnalytics(shop: DemoShop, als: ALS): Promise<AnalyticsModels> {
  const tx = shop.transactions;
  const end = tx.timeRange[1] + 1;
  const category = new Map(shop.products.map((p) => [p.id, p.category]));
  const categoryOf = (item: string | number) => category.get(String(item));
  const segments = await segmentCustomers(tx, { k: 4, categoryOf });
  const categories = [...new Set(shop.products.map((p) => p.category))];
  const train = churnDataset(tx, { cutoff: end - 60 * 86400, horizonDays: 60, categoryOf, categories });
  const model = await new LogisticRegression({ classWeight: 'balanced', featureNames: train.featureNames }).fit(train.features, train.labels);
  const propensity = new PropensityScorer(model, churnDataset(tx, { cutoff: end, categoryOf, categories }));
  const rules = await coPurchaseRules(tx, { minSupport: 2, minLift: 1, k: 20 });
  const content = await new ContentRecommender().fit(shop.products.map((p) => ({ id: p.id, text: p.name, categories: p.category })), shop.data);
  const hybrid = new HybridRecommender(content, als, shop.data);
  return { segments, propensity, rules, content, hybrid };
}

/** Trains the demo models and writes them (and the catalogue) to a directory; returns their paths. */
export async function prepareDemo(
  dir = join(tmpdir(), 'affinity-demo'),
): Promise<{ dir: string; models: Record<string, string>; shop: DemoShop; analytics: AnalyticsModels }> {
  await mkdir(dir, { recursive: true });
  const shop = await demoShop();
  const als = await new ALS({ factors: 32, iterations: 10, seed: 7 }).fit(shop.data);
  const knn = await new ItemKNN({ k: 30 }).fit(shop.data);
  const models = { als: join(dir, 'als.affinity'), itemknn: join(dir, 'itemknn.affinity') };
  await als.save(models.als);
  await knn.save(models.itemknn);
  await writeFile(join(dir, 'products.json'), JSON.stringify(shop.products, null, 2));
  return { dir, models, shop, analytics: await demoAnalytics(shop, als) };
}
