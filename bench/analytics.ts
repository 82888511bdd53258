// bench/analytics: marketing analytics on UCI Online Retail (purchase lines with a customer), with the protocol spelled out.
//   1. Churn: features from lines before a cutoff, churned = no purchase in the 90 days after it. Train at
//      cutoff T-180d, test at T-90d (T = the last day): ROC AUC, PR AUC, F1, against recency alone.
//   2. Segments: RFM k-means for k = 4..8 (inertia, silhouette), profiles for k = 5.
//   3. Cold start: 1,000 customers (seed 7) with >= 3 distinct items are held out of training; each shows
//      their first 2 distinct items (by time) and the rest are the truth. Hit rate@10 of popularity,
//      content (TF-IDF of descriptions), ALS fold-in and the hybrid.
//   4. Co-purchase rules over all invoices: time, rule count, the top rules by lift.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ALS,
  ContentRecommender,
  RandomForest,
  HybridRecommender,
  Interactions,
  LogisticRegression,
  churnDataset,
  classificationMetrics,
  coPurchaseRules,
  kmeans,
  segmentCustomers,
  type Id,
} from '../src/index.js';
import { Random } from '../src/core/random.js';
import { loadRetail, type Retail } from './retail.js';
import { referenceKMeans } from '../test/reference.js';

const RETAIL = fileURLToPath(new URL('../../shared/data/uci-online-retail/online_retail.csv.gz', import.meta.url));
const DAY = 86_400;
const f3 = (x: number) => x.toFixed(3);

async function churn({ tx }: Retail): Promise<void> {
  const end = tx.timeRange[1];
  const train = churnDataset(tx, { cutoff: end - 180 * DAY, horizonDays: 90 });
  const test = churnDataset(tx, { cutoff: end - 90 * DAY, horizonDays: 90 });
  const started = performance.now();
  const model = await new LogisticRegression({ l2: 1e-3, classWeight: 'balanced', featureNames: train.featureNames }).fit(train.features, train.labels);
  const ms = performance.now() - started;
  const p = model.predictProba(test.features);
  const m = classificationMetrics(test.labels, p);
  const recency = Float64Array.from({ length: test.features.rows }, (_, r) => test.features.values[r * test.features.dims]);
  const baseline = classificationMetrics(test.labels, recency);
  console.log(`\n## Churn (90 days), train ${train.features.rows} customers at T-180d, test ${test.features.rows} at T-90d`);
  console.log(`fit: ${model.report!.iterations} L-BFGS iterations, converged ${model.report!.converged}, ${ms.toFixed(0)} ms`);
  console.log(`churn rate test ${(m.positives / (m.positives + m.negatives)).toFixed(3)}`);
  console.log(`| model | ROC AUC | PR AUC | precision | recall | F1 | accuracy |\n|---|---|---|---|---|---|---|`);
  console.log(`| logistic (${train.featureNames.length} features) | ${f3(m.rocAuc)} | ${f3(m.prAuc)} | ${f3(m.precision)} | ${f3(m.recall)} | ${f3(m.f1)} | ${f3(m.accuracy)} |`);
  const forestStarted = performance.now();
  const forest = await new RandomForest({ trees: 200, minSamplesLeaf: 5, classWeight: 'balanced', seed: 1, featureNames: train.featureNames }).fit(train.features, train.labels);
  const forestMs = performance.now() - forestStarted;
  const fm = classificationMetrics(test.labels, await forest.predictProba(test.features));
  console.log(`| random forest (200 trees, min leaf 5, ${forestMs.toFixed(0)} ms) | ${f3(fm.rocAuc)} | ${f3(fm.prAuc)} | ${f3(fm.precision)} | ${f3(fm.recall)} | ${f3(fm.f1)} | ${f3(fm.accuracy)} |`);
  console.log(`| recency alone | ${f3(baseline.rocAuc)} | ${f3(baseline.prAuc)} | | | | |`);
  console.log('calibration (predicted -> observed): ' + m.calibration.filter((b) => b.count > 0).map((b) => `${f3(b.meanPredicted)}->${f3(b.observedRate)} (${b.count})`).join(', '));
  console.log('coefficients: ' + model.featureNames.map((n, i) => `${n} ${model.coefficients[i].toFixed(2)}`).join(', '));
}

async function segments(retail: Retail): Promise<void> {
  const started = performance.now();
  const s = await segmentCustomers(retail.tx, { k: 5, kRange: [4, 8], categoryOf: retail.categoryOf });
  console.log(`\n## RFM segments (${s.customers.size} customers, ${(performance.now() - started).toFixed(0)} ms for k = 4..8 plus the model)`);
  console.log('| k | inertia | silhouette |\n|---|---|---|');
  for (const d of s.diagnostics) console.log(`| ${d.k} | ${d.inertia.toFixed(0)} | ${f3(d.silhouette)} |`);
  console.log('| segment | share | recency (days) | baskets | spend | top items | top types |\n|---|---|---|---|---|---|---|');
  for (const p of s.profiles)
    console.log(
      `| ${p.segment} | ${f3(p.share)} | ${p.recencyDays.toFixed(0)} | ${p.frequency.toFixed(1)} | ${p.monetary.toFixed(0)} | ${p.topItems.slice(0, 3).map((i) => i.item).join(' ')} | ${p.topCategories.slice(0, 3).map((c) => c.category).join(' ')} |`,
    );
}

async function coldStart(retail: Retail): Promise<void> {
  const { tx, catalog } = retail;
  // Distinct items per customer in time order.
  const order = Array.from({ length: tx.size }, (_, i) => i).sort((a, b) => tx.time[a] - tx.time[b] || a - b);
  const itemsOf = new Map<number, number[]>();
  for (const i of order) {
    const list = itemsOf.get(tx.customer[i]) ?? [];
    if (!list.includes(tx.item[i])) list.push(tx.item[i]);
    itemsOf.set(tx.customer[i], list);
  }
  const eligible = Array.from(itemsOf.keys()).filter((c) => itemsOf.get(c)!.length >= 3).sort((a, b) => a - b);
  const held = new Set(new Random(7).shuffle(Int32Array.from(eligible)).slice(0, 1000));
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < tx.size; i++) if (!held.has(tx.customer[i])) rows.push(tx.customer[i]), cols.push(tx.item[i]);
  const train = await Interactions.fromIndices({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), shape: [tx.customers.size, tx.items.size], userIds: tx.customers.ids, itemIds: tx.items.ids }, { duplicates: 'max' });
  const popular = Array.from(train.itemsByPopularity());
  const als = await new ALS({ factors: 64, iterations: 15, regularization: 0.05, alpha: 10 }).fit(train);
  const content = await new ContentRecommender().fit(catalog, train);
  const hybrid = new HybridRecommender(content, als, train, { minUserInteractions: 1 });
  const hits = { popularity: 0, content: 0, 'ALS fold-in': 0, hybrid: 0 };
  for (const c of held) {
    const list = itemsOf.get(c)!;
    const history = { items: list.slice(0, 2).map((i) => tx.items.ids[i]) };
    const truth = new Set(list.slice(2).map((i) => tx.items.ids[i]));
    const hit = (recs: { item: Id }[]) => (recs.some((r) => truth.has(r.item)) ? 1 : 0);
    const shown = new Set(history.items);
    hits.popularity += hit(popular.map((i) => ({ item: tx.items.ids[i] })).filter((r) => !shown.has(r.item)).slice(0, 10));
    hits.content += hit(content.recommendFor(history, { k: 10 }));
    hits['ALS fold-in'] += hit(als.recommendFor(history, { k: 10 }));
    hits.hybrid += hit(hybrid.recommendFor(history, { k: 10 }));
  }
  console.log(`\n## Cold start: ${held.size} held-out customers, 2 items shown, hit rate@10`);
  console.log('| model | hit rate@10 |\n|---|---|');
  for (const [name, h] of Object.entries(hits)) console.log(`| ${name} | ${f3(h / held.size)} |`);
}

async function rules({ tx }: Retail): Promise<void> {
  const started = performance.now();
  const r = await coPurchaseRules(tx, { minSupport: 30, k: 20 });
  const ms = performance.now() - started;
  console.log(`\n## Co-purchase rules: ${tx.basketCount} baskets, ${tx.items.size} items, ${r.size} rules (support >= 30 baskets, top 20 per item by lift) in ${ms.toFixed(0)} ms`);
  console.log('| A | B | baskets | support | confidence | lift |\n|---|---|---|---|---|---|');
  for (const x of r.top(10)) console.log(`| ${x.antecedent} | ${x.consequent} | ${x.count} | ${x.support.toFixed(4)} | ${f3(x.confidence)} | ${x.lift.toFixed(1)} |`);
}

async function kmeansSpeed(): Promise<void> {
  // Overlapping Gaussian clusters, so Lloyd runs all 20 iterations on both sides.
  const rows = 100_000, dims = 16, k = 32, iterations = 20;
  const rng = new Random(3);
  const values = Float32Array.from({ length: rows * dims }, (_, i) => rng.normal() + (Math.floor(i / dims) % 4));
  let t = performance.now();
  const native = await kmeans({ values, rows, dims }, { k, iterations, tolerance: 0, seed: 1 });
  const nativeMs = performance.now() - t;
  t = performance.now();
  const ref = referenceKMeans(values, rows, dims, k, iterations, 1);
  const refMs = performance.now() - t;
  const gflop = (2 * rows * dims * k * native.iterations) / 1e9;
  console.log(
    `\n## k-means speed: ${rows} x ${dims}, k = ${k}, seeding + ${native.iterations} Lloyd iterations: ${nativeMs.toFixed(0)} ms natively ` +
      `(${(gflop / (nativeMs / 1000)).toFixed(1)} GFLOP/s in the distance products) vs ${refMs.toFixed(0)} ms for the plain TypeScript reference ` +
      `(${ref.iterations} iterations): ${(refMs / nativeMs).toFixed(1)}x`,
  );
}

if (!existsSync(RETAIL)) {
  console.log('UCI Online Retail not found under ../shared/data: skipped');
} else {
  const started = performance.now();
  const retail = await loadRetail(RETAIL);
  console.log(`# Analytics on UCI Online Retail: ${retail.tx.size} purchase lines, ${retail.tx.customers.size} customers, loaded in ${(performance.now() - started).toFixed(0)} ms`);
  await churn(retail);
  await segments(retail);
  await coldStart(retail);
  await rules(retail);
}
await kmeansSpeed();
