// The models behind `npm start`: ALS and ItemKNN trained on the demo shop (src/data/synthetic.ts), saved
// and served, with the analytics models built from the same purchases.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALS } from '../models/als.js';
import { ItemKNN } from '../models/knn.js';
import { PropensityScorer, churnDataset } from '../analytics/churn.js';
import { ContentRecommender, HybridRecommender } from '../models/content.js';
import { LogisticRegression } from '../analytics/logistic.js';
import { coPurchaseRules } from '../analytics/rules.js';
import { segmentCustomers } from '../analytics/segments.js';
import type { AnalyticsModels } from './routes/analytics.js';
import { demoShop, type DemoShop } from '../data/synthetic.js';

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
