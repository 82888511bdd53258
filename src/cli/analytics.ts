// `affinity train` for the marketing kinds: segments, propensity, rules, content and hybrid, trained on a
// purchase-lines file (and a product catalogue), each with the summary a marketer reads first.
import { trainPropensity, type CustomerDataset } from '../analytics/churn.js';
import { LogisticRegression } from '../analytics/logistic.js';
import { coPurchaseRules } from '../analytics/rules.js';
import { segmentCustomers } from '../analytics/segments.js';
import { RandomForest } from '../analytics/trees.js';
import { Catalog } from '../data/catalog.js';
import type { Id } from '../data/ids.js';
import { Transactions } from '../data/transactions.js';
import type { TransactionColumns } from '../io/transactionfile.js';
import { ALS } from '../models/als.js';
import { ContentRecommender } from '../models/content.js';
import type { Model } from '../models/contract.js';
import { HybridRecommender } from '../models/hybrid.js';
import { f3, num, table, usage, whereOf } from './common.js';
import { progress } from './progress.js';

export const ANALYTICS_KINDS = ['segments', 'propensity', 'rules', 'content', 'hybrid'] as const;

export const ANALYTICS_OPTIONS = {
  items: { type: 'string' },
  k: { type: 'string' },
  horizon: { type: 'string' },
  'min-support': { type: 'string' },
  'min-lift': { type: 'string' },
  classifier: { type: 'string' },
} as const;

/** --columns customer,item,time[,amount[,basket]]: header names or 0-based indices; amount may be A*B. */
export function transactionColumns(spec: unknown): TransactionColumns {
  if (typeof spec !== 'string') throw usage('--columns customer,item,time[,amount[,basket]] is required for this model');
  const [customer, item, time, amount, basket] = spec.split(',').map((s) => s.trim());
  if (!customer || !item || !time) throw usage('--columns needs at least customer,item,time');
  return { customer, item, time, amount: amount || undefined, basket: basket || undefined };
}


export async function trainAnalytics(kind: string, values: Record<string, unknown>): Promise<{ model: Model; summary: string }> {
  const path = values.data as string | undefined;
  if (!path) throw usage('--data is required');
  const columns = transactionColumns(values.columns);
  const where = whereOf(values.where);
  // Every number is checked before the file is read.
  for (const name of ['k', 'horizon', 'min-support', 'min-lift'] as const) num(values[name], name);
  if (values.classifier !== undefined && values.classifier !== 'logistic' && values.classifier !== 'forest') throw usage('--classifier must be logistic or forest');
  if ((kind === 'content' || kind === 'hybrid') && typeof values.items !== 'string') throw usage(`--items products.csv is required for ${kind}`);
  const tx = await Transactions.fromFile(path, { columns, where, delimiter: values.delimiter as string | undefined, skipInvalid: values['skip-invalid'] === true });
  progress.log(`data: ${tx.size} lines, ${tx.customers.size} customers, ${tx.items.size} items${tx.skipped ? `, ${tx.skipped} invalid rows skipped` : ''}${tx.filtered ? `, ${tx.filtered} left out by --where` : ''}`);
  const catalog = typeof values.items === 'string' ? await Catalog.fromFile(values.items) : undefined;
  const categoryColumn = catalog?.column('category');
  const categoryOf = categoryColumn?.type === 'strings' ? (item: Id) => (catalog!.rowOf(item) < 0 ? undefined : categoryColumn.values[catalog!.rowOf(item)][0]) : undefined;

  if (kind === 'segments') {
    const model = await segmentCustomers(tx, { k: num(values.k, 'k') ?? 5, categoryOf, onProgress: progress.bar('segments') });
    const rows = model.profiles.map((p) => [p.segment, p.size, f3(p.share), p.recencyDays.toFixed(0), p.frequency.toFixed(1), p.monetary.toFixed(0), p.topCategories.map((c) => c.category).join(' ') || '-']);
    return { model, summary: `${model.k} segments, silhouette ${f3(model.silhouette)}\n${table(['segment', 'customers', 'share', 'recency (days)', 'baskets', 'spend', 'top categories'], rows)}` };
  }
  if (kind === 'propensity') {
    const classifier = values.classifier ?? 'logistic';
    const horizonDays = num(values.horizon, 'horizon') ?? 90;
    const categories = categoryOf ? topCategories(tx, categoryOf, 8) : [];
    const fit = (d: CustomerDataset) =>
      classifier === 'forest'
        ? new RandomForest({ classWeight: 'balanced', minSamplesLeaf: 5, featureNames: d.featureNames }).fit(d.features, d.labels, { onProgress: progress.bar('forest') })
        : new LogisticRegression({ classWeight: 'balanced', featureNames: d.featureNames }).fit(d.features, d.labels);
    const { scorer, check: m } = await trainPropensity(tx, { horizonDays, categoryOf, categories, fit }).catch((err: Error) => {
      throw /too little time/.test(err.message) ? usage(`${err.message} (--horizon)`) : err;
    });
    const summary = `${classifier === 'forest' ? 'random forest' : 'logistic regression'}: churn within ${horizonDays} days, time split (fitted at T-${2 * horizonDays}d, tested at T-${horizonDays}d)\n${table(
      ['ROC AUC', 'PR AUC', 'precision', 'recall', 'F1', 'churn rate', 'customers scored'],
      [[f3(m.rocAuc), f3(m.prAuc), f3(m.precision), f3(m.recall), f3(m.f1), f3(m.positives / (m.positives + m.negatives)), scorer.dataset.customers.size]],
    )}`;
    return { model: scorer, summary };
  }
  if (kind === 'rules') {
    const model = await coPurchaseRules(tx, { minSupport: num(values['min-support'], 'min-support'), minLift: num(values['min-lift'], 'min-lift') ?? 1, k: num(values.k, 'k'), onProgress: progress.bar('rules') });
    const top = model
      .top()
      .sort((a, b) => b.count - a.count)
      .slice(0, 10)
      .map((r) => [String(r.antecedent), String(r.consequent), r.count, f3(r.confidence), f3(r.lift)]);
    return { model, summary: `${model.size} rules over ${model.basketCount} baskets; the ten seen in most baskets:\n${table(['if bought', 'also bought', 'baskets', 'confidence', 'lift'], top)}` };
  }
  if (kind === 'content' || kind === 'hybrid') {
    if (!catalog) throw usage(`--items products.csv is required for ${kind}`);
    const name = catalog.column('name');
    const products = (catalog.items.ids as Id[]).map((id, row) => ({
      id,
      text: name?.type === 'string' ? (name.values[row] ?? '') : '',
      categories: categoryColumn?.type === 'strings' ? categoryColumn.values[row] : [],
    }));
    const data = await tx.toInteractions('count');
    const content = await new ContentRecommender({ k: num(values.k, 'k') }).fit(products, data, { onProgress: progress.bar('content') });
    const summary = `content: ${content.items.size} products, ${content.vocabulary.length} terms, interest vectors for ${content.users.size} customers`;
    if (kind === 'content') return { model: content, summary };
    const als = await new ALS({ seed: 1 }).fit(data, { onProgress: progress.bar('als') });
    const model = new HybridRecommender(content, als, data);
    return { model, summary: `${summary}\ncollaborative: ALS, ${als.options.factors} factors, ${data.userCount} customers x ${data.itemCount} items` };
  }
  throw usage(`unknown model kind '${kind}'`);
}

/** The categories with the most lines, for the category-mix features. */
function topCategories(tx: Transactions, categoryOf: (item: Id) => string | undefined, n: number): string[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < tx.size; i++) {
    const c = categoryOf(tx.items.ids[tx.item[i]]);
    if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([c]) => c);
}
