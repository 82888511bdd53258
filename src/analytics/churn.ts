// Churn labels from a time cutoff, standard customer features, and a propensity scorer for serving.
import type { ALS } from '../models/als.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { IdMap, type Id } from '../data/ids.js';
import { numberOption } from '../core/options.js';
import { customerStats, factorRows, slog1p } from './features.js';
import type { Matrix } from '../data/matrix.js';
import type { Attribution, LogisticRegression } from './logistic.js';
import { SECONDS_PER_DAY, type Transactions } from '../data/transactions.js';

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
  return { customers: new IdMap(ids, 'user'), featureNames: names, features: { values, rows: ids.length, dims }, labels };
}

export interface PropensityResult {
  customer: Id;
  probability: number;
  attributions: Attribution[];
}

/** A fitted model plus current feature rows: scores customers by id, for the server. */
export class PropensityScorer {
  constructor(
    readonly model: LogisticRegression,
    readonly dataset: CustomerDataset,
  ) {
    if (!model.fitted) throw new AffinityError('the propensity model is not fitted', ErrorCode.NotFitted);
    if (dataset.features.dims !== model.coefficients.length) throw new AffinityError('the dataset does not fit the model', ErrorCode.DimMismatch);
  }

  /** Probabilities (and the `top` largest attributions) for known customers; unknown ids throw. */
  score(customers: Id[], top = 5): PropensityResult[] {
    const { features } = this.dataset;
    const rows = customers.map((c) => this.dataset.customers.indexOf(c));
    const values = new Float32Array(rows.length * features.dims);
    rows.forEach((r, i) => values.set(features.values.subarray(r * features.dims, (r + 1) * features.dims), i * features.dims));
    const p = this.model.predictProba({ values, rows: rows.length, dims: features.dims });
    return customers.map((customer, i) => ({
      customer,
      probability: p[i],
      attributions: this.model.attributions(values.subarray(i * features.dims, (i + 1) * features.dims), top),
    }));
  }
}
