// Churn labels from a time cutoff, standard customer features, and a propensity scorer for serving.
import type { ALS } from '../models/als.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { checkId, IdMap, rowsWithout, type Id } from '../data/ids.js';
import { numberOption } from '../core/options.js';
import { customerStats, factorRows, slog1p } from './features.js';
import { selectRows, type Matrix } from '../data/matrix.js';
import { classificationMetrics, LogisticRegression, type Attribution, type ClassificationMetrics } from './logistic.js';
import { RandomForest } from './trees.js';
import { SECONDS_PER_DAY, Transactions } from '../data/transactions.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { sampleRows, splitIds, withDataSizes, withUnknown, type HoldoutSample, type PartLoader, type TrainingMetadata } from '../models/contract.js';
import { fromFile, idMapOf, partsWithMeta, saveParts } from '../models/parts.js';

export interface ChurnOptions {
  /** Features use lines before the cutoff (unix seconds or Date). */
  cutoff: number | Date;
  /** Churned = no purchase in the this many days after the cutoff (default 90). */
  horizonDays?: number;
  /** Adds the share of lines in each of these categories (the category mix). */
  categoryOf?: (item: Id) => string | undefined;
  categories?: string[];
  /** Adds the customer's ALS factors (zeros for customers it does not know). */
  als?: ALS;
}

export interface CustomerDataset {
  customers: IdMap;
  featureNames: string[];
  features: Matrix;
  /** 1 = churned (no purchase within the horizon after the cutoff). Empty when nothing follows the cutoff. */
  labels: Uint8Array;
  /** How the rows were computed, so a saved model computes new customers' rows the same way. */
  recipe: FeatureRecipe;
}

/** What turns a customer's lines into a feature row: everything churnDataset was given, as data. */
export interface FeatureRecipe {
  /** The cutoff the rows were computed at (unix seconds). */
  cutoff: number;
  horizonDays: number;
  /** The category-mix columns, in order. */
  categories: string[];
  /** [item, category] for every item of the data in one of those categories (categoryOf, as a table). */
  itemCategories: [Id, string][];
  /** ALS factor columns at the end of the row (0 without ALS). */
  factors: number;
}

const BASE_FEATURES = ['recencyDays', 'log_frequency', 'log_monetary', 'tenureDays', 'log_basketValue', 'basketSize', 'log_distinctItems', 'baskets30d', 'baskets90d'];

/**
 * One row per customer with at least one purchase before the cutoff: RFM, tenure, basket value and size,
 * variety, recent activity, optional category mix and ALS factors; the label says whether the customer
 * bought nothing in (cutoff, cutoff + horizon].
 */
export function churnDataset(tx: Transactions, options: ChurnOptions): CustomerDataset {
  if (options === null || typeof options !== 'object') throw badInput('churnDataset needs { cutoff }');
  const cutoff = options.cutoff instanceof Date ? options.cutoff.getTime() / 1000 : options.cutoff;
  if (typeof cutoff !== 'number' || !Number.isFinite(cutoff)) throw badInput('cutoff must be a unix time in seconds or a Date');
  const horizon = numberOption(options.horizonDays, 'horizonDays', 90, Number.MIN_VALUE) * SECONDS_PER_DAY;
  const stats = customerStats(tx, cutoff);
  if (stats.rows.length === 0) throw badInput('no customer bought anything before the cutoff');
  const ids = Array.from(stats.rows, (c) => tx.customers.ids[c]);
  const categories = options.categories ?? [];
  if (categories.length > 0 && !options.categoryOf) throw badInput('categories needs categoryOf');
  const names = [...BASE_FEATURES, ...categories.map((c) => `category:${c}`)];
  const f = options.als ? factorRows(options.als, ids) : undefined;
  if (f) for (let d = 0; d < f.dims; d++) names.push(`factor${d}`);
  const dims = names.length;
  const values = new Float32Array(ids.length * dims);
  const rowOf = new Int32Array(tx.customers.size).fill(-1);
  stats.rows.forEach((c, r) => (rowOf[c] = r));
  for (let r = 0; r < ids.length; r++) {
    const o = r * dims;
    values[o] = stats.recency[r];
    values[o + 1] = Math.log1p(stats.frequency[r]);
    values[o + 2] = slog1p(stats.monetary[r]);
    values[o + 3] = stats.tenure[r];
    values[o + 4] = slog1p(stats.monetary[r] / stats.frequency[r]);
    values[o + 5] = stats.basketSize[r];
    values[o + 6] = Math.log1p(stats.distinctItems[r]);
    values[o + 7] = stats.recent30[r];
    values[o + 8] = stats.recent90[r];
    if (f) values.set(f.values.subarray(r * f.dims, (r + 1) * f.dims), o + BASE_FEATURES.length + categories.length);
  }
  const active = new Uint8Array(ids.length);
  let after = false;
  if (categories.length > 0) {
    const column = new Map(categories.map((c, i) => [c, BASE_FEATURES.length + i]));
    const lines = new Float64Array(ids.length);
    for (let i = 0; i < tx.size; i++) {
      if (tx.time[i] >= cutoff) continue;
      const r = rowOf[tx.customer[i]];
      lines[r]++;
      const col = column.get(options.categoryOf!(tx.items.ids[tx.item[i]]) ?? '');
      if (col !== undefined) values[r * dims + col]++;
    }
    for (let r = 0; r < ids.length; r++) for (const col of column.values()) values[r * dims + col] /= lines[r];
  }
  for (let i = 0; i < tx.size; i++) {
    const t = tx.time[i];
    if (t < cutoff) continue;
    if (t <= cutoff + horizon) {
      after = true;
      const r = rowOf[tx.customer[i]];
      if (r >= 0) active[r] = 1;
    }
  }
  const labels = after ? Uint8Array.from(active, (a) => 1 - a) : new Uint8Array(0);
  const wanted = new Set(categories);
  const itemCategories: [Id, string][] = [];
  if (categories.length > 0)
    for (const item of tx.items.ids) {
      const c = options.categoryOf!(item);
      if (c !== undefined && wanted.has(c)) itemCategories.push([item, c]);
    }
  const recipe: FeatureRecipe = { cutoff, horizonDays: horizon / SECONDS_PER_DAY, categories, itemCategories, factors: f?.dims ?? 0 };
  return { customers: new IdMap(ids, 'user'), featureNames: names, features: { values, rows: ids.length, dims }, labels, recipe };
}

export interface PropensityResult {
  customer: Id;
  probability: number;
  attributions: Attribution[];
}

/** One purchase line of a customer the scorer has no row for. */
export interface PurchaseLine {
  item: Id;
  /** Unix seconds or a Date. */
  time: number | Date;
  amount?: number;
  /** Lines of one basket share it (default: one basket per distinct time). */
  basket?: Id;
}

/**
 * What scores churn: logistic regression (attributions in log-odds) or a random forest classifier on 0/1
 * labels (attributions in probability, along each tree's path).
 */
export type PropensityModel = LogisticRegression | RandomForest;

/** Probabilities for labelled rows a model did not learn from, beside the labels: a sample for the metadata's holdout. */
export function binaryHoldout(labels: ArrayLike<number>, probabilities: ArrayLike<number>): HoldoutSample {
  if (labels.length !== probabilities.length) throw new AffinityError(`probabilities has ${probabilities.length} entries, labels ${labels.length}`, ErrorCode.DimMismatch);
  const rows = sampleRows(labels.length);
  return { kind: 'binary', score: rows.map((i) => Math.round(probabilities[i] * 1e5) / 1e5), label: rows.map((i) => (labels[i] ? 1 : 0)) };
}

/**
 * A propensity model as `affinity train --model propensity` and the demo build it, checked before it is
 * trusted: fitted on the labels at end − 2h and scored on what happened after end − h (its held-out check,
 * kept in the file), then refitted on that latest labelled window and set to score customers as of the end.
 */
export async function trainPropensity(
  tx: Transactions,
  options: Omit<ChurnOptions, 'cutoff'> & { fit?: (d: CustomerDataset) => PropensityModel | Promise<PropensityModel> } = {},
): Promise<{ scorer: PropensityScorer; check: ClassificationMetrics }> {
  const { fit = (d: CustomerDataset) => new LogisticRegression({ classWeight: 'balanced', featureNames: d.featureNames }).fit(d.features, d.labels), ...churn } = options;
  const horizonDays = numberOption(churn.horizonDays, 'horizonDays', 90, Number.MIN_VALUE);
  const end = tx.timeRange[1] + 1;
  const at = (cutoff: number) => churnDataset(tx, { ...churn, cutoff, horizonDays });
  const train = at(end - 2 * horizonDays * SECONDS_PER_DAY);
  const test = at(end - horizonDays * SECONDS_PER_DAY);
  if (train.labels.length === 0 || test.labels.length === 0) throw badInput(`the data spans too little time for a ${horizonDays}-day horizon`);
  const fitted = await fit(train);
  const probabilities = fitted instanceof LogisticRegression ? fitted.predictProba(test.features) : await fitted.predictProba(test.features);
  const check = classificationMetrics(test.labels, probabilities);
  const scorer = new PropensityScorer(await fit(test), at(end));
  const churnRate = check.positives / (check.positives + check.negatives);
  scorer.metadata = { ...scorer.metadata!, quality: { ...scorer.metadata!.quality, rocAuc: check.rocAuc, prAuc: check.prAuc, churnRate }, holdout: binaryHoldout(test.labels, probabilities) };
  return { scorer, check };
}

/** A fitted model plus current feature rows: scores customers by id, for the server. */
export class PropensityScorer {
  static readonly kind = 'propensity';
  readonly kind = PropensityScorer.kind;
  readonly fitted = true;
  metadata?: TrainingMetadata;

  constructor(
    readonly model: PropensityModel,
    readonly dataset: CustomerDataset,
  ) {
    if (!(model instanceof LogisticRegression || model instanceof RandomForest) || !model.fitted) throw new AffinityError('the propensity model is not fitted', ErrorCode.NotFitted);
    if (model instanceof RandomForest && (model.task !== 'classification' || model.classes.length !== 2 || model.classes[1] !== 1))
      throw badInput('a propensity forest must classify 0/1 labels');
    const dims = model instanceof LogisticRegression ? model.coefficients.length : model.featureCount;
    if (dataset.features.dims !== dims) throw new AffinityError('the dataset does not fit the model', ErrorCode.DimMismatch);
    this.metadata = model.metadata && { ...model.metadata, data: { ...model.metadata.data, customers: dataset.customers.size } };
  }

  /**
   * Scores customers from their purchase lines, computing their rows with the recipe the model was trained
   * on (as of `asOf`, default now): for customers who are not in the scorer's rows, or whose rows are stale.
   */
  scoreLines(customers: { customer: Id; lines: PurchaseLine[] }[], options: { asOf?: number | Date; top?: number } = {}): PropensityResult[] {
    const r = this.dataset.recipe;
    if (r.factors > 0) throw new AffinityError('this model uses ALS factors, which need the ALS model: score known customers by id', ErrorCode.Unsupported);
    if (!Array.isArray(customers)) throw badInput('customers must be an array of { customer, lines }');
    const asOf = options.asOf === undefined ? Date.now() / 1000 : options.asOf instanceof Date ? options.asOf.getTime() / 1000 : options.asOf;
    const rows: Id[] = [], items: Id[] = [], times: (number | Date)[] = [], amounts: number[] = [], baskets: Id[] = [];
    for (const [n, c] of customers.entries()) {
      if (c === null || typeof c !== 'object' || !Array.isArray(c.lines) || c.lines.length === 0) throw badInput(`customers[${n}] needs a customer id and at least one line`);
      checkId(c.customer, `customers[${n}].customer`);
      for (const line of c.lines) {
        if (line === null || typeof line !== 'object') throw badInput(`customers[${n}].lines holds a non-object`);
        const t = line.time instanceof Date ? line.time.getTime() / 1000 : line.time;
        if (typeof t !== 'number' || !Number.isFinite(t) || t >= asOf) throw badInput(`customers[${n}]: every line needs a time before asOf`);
        rows.push(c.customer);
        items.push(line.item);
        times.push(t);
        amounts.push(line.amount ?? 0);
        baskets.push(line.basket ?? `${String(c.customer)}@${t}`);
      }
    }
    const tx = Transactions.fromArrays({ customers: rows, items, timestamps: times, amounts, baskets });
    const table = new Map(r.itemCategories);
    const ds = churnDataset(tx, { cutoff: asOf, horizonDays: r.horizonDays, categories: r.categories, categoryOf: (item) => table.get(item) });
    return new PropensityScorer(this.model, ds).score(customers.map((c) => c.customer), options.top ?? 5);
  }

  /** Erasure: the scorer without these customers' feature rows (the fitted model's weights stay until the next fit). */
  async withoutCustomers(customers: Id[]): Promise<PropensityScorer> {
    const d = this.dataset;
    const rows = rowsWithout(d.customers, customers);
    if (!rows) return this;
    const labels = d.labels.length === 0 ? d.labels : Uint8Array.from(rows, (r) => d.labels[r]);
    const out = new PropensityScorer(this.model, { ...d, customers: new IdMap(Array.from(rows, (r) => d.customers.ids[r]), 'user'), features: selectRows(d.features, rows), labels });
    out.metadata = withDataSizes(this.metadata, { customers: rows.length });
    return out;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const { customers, featureNames, features, recipe } = this.dataset;
    return {
      kind: PropensityScorer.kind,
      header: { customers: customers.size, features: features.dims, featureNames, recipe, ids: { customers: [...customers.ids] } },
      arrays: { rows: features.values },
      parts: { model: partsWithMeta(this.model) },
    };
  }

  static async fromParts(file: ModelFile, loadPart: PartLoader): Promise<PropensityScorer> {
    const { customers: n, features: d, featureNames, recipe } = file.fields;
    if (![n, d].every((x) => Number.isInteger(x) && (x as number) >= 0)) throw file.corrupt('bad dimensions');
    const values = file.f32('rows', (n as number) * (d as number));
    await file.finite(values, 'feature rows');
    if (!Array.isArray(featureNames) || featureNames.length !== d || !featureNames.every((x) => typeof x === 'string')) throw file.corrupt('feature names do not match the rows');
    const r = recipe as FeatureRecipe | undefined;
    if (r === null || typeof r !== 'object' || !Number.isFinite(r.cutoff) || !(r.horizonDays > 0) || !Array.isArray(r.categories) || !Array.isArray(r.itemCategories) || !Number.isInteger(r.factors))
      throw file.corrupt('feature recipe missing or malformed');
    const ids = (file.header.ids as { customers?: unknown } | undefined)?.customers;
    if (!Array.isArray(ids) || ids.length !== n) throw file.corrupt('id maps do not match the dimensions');
    const model = await loadPart(file.part('model'));
    if (!(model instanceof LogisticRegression || model instanceof RandomForest)) throw file.corrupt(`part model holds a ${model.kind} model`);
    const dataset: CustomerDataset = { customers: await idMapOf(file, ids, 'user'), featureNames: featureNames as string[], features: { values, rows: n as number, dims: d as number }, labels: new Uint8Array(0), recipe: r };
    return fromFile(file, () => new PropensityScorer(model, dataset));
  }

  /**
   * Probabilities (and the `top` largest attributions) for the known customers of the list, in order; the
   * others are reported in `unknown`.
   */
  score(list: Id[], top = 5): PropensityResult[] & { unknown: Id[] } {
    const { features } = this.dataset;
    const { indices: rows, known: customers, unknown } = splitIds(this.dataset.customers, list, 'customers');
    const m = selectRows(features, rows);
    const values = m.values;
    const p = this.model instanceof LogisticRegression ? this.model.predictProba(m) : this.model.predictProbaSync(m);
    const results = customers.map((customer, i) => ({
      customer,
      probability: p[i],
      attributions: this.model.attributions(values.subarray(i * features.dims, (i + 1) * features.dims), top),
    }));
    return withUnknown(results, unknown);
  }
}
