// What the lifetime-value page charts: P(alive) and expected purchases over a frequency x recency grid
// (lifetimes' heat maps), the distribution of customers' values, and the holdout check: mean predicted
// against actual purchases by how often customers had bought.
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { LifetimeValueModel } from '../analytics/lifetime.js';
import { sampleRows } from '../models/contract.js';
import { histogram, type Bin } from './curves.js';

export interface LifetimeView {
  /** Customers' age T (weeks) the heat maps are drawn at: the longest in the data. */
  T: number;
  /** Rows: repeat purchases 0..; columns: recency (weeks) at the grid's points; values rows x columns. */
  grid: { frequency: number[]; recency: number[]; probabilityAlive: number[]; expectedPurchases: number[]; horizonWeeks: number };
  /** Discounted value over the model's horizon, of a sample of the customers. */
  values: Bin[];
  /** By repeat purchases in the calibration period (the last group holds that many or more). */
  holdout?: { weeks: number; groups: { frequency: number; customers: number; predicted: number; actual: number }[] };
}

export async function lifetimeView(model: LifetimeValueModel): Promise<LifetimeView> {
  const { frequency, T: ages } = model.summary;
  if (frequency.length === 0) throw new AffinityError('the lifetime-value model keeps no customers', ErrorCode.Unsupported);
  // Loops, not Math.max(...): a spread of a million customers overflows the stack.
  let T = 0, most = 1;
  for (let i = 0; i < ages.length; i++) (T = Math.max(T, ages[i])), (most = Math.max(most, frequency[i]));
  const maxF = Math.min(30, most);
  const recencies = Array.from({ length: 21 }, (_, j) => Math.round(((j * T) / 20) * 100) / 100);
  const f: number[] = [], r: number[] = [];
  for (let i = 0; i <= maxF; i++) for (const rec of recencies) f.push(i), r.push(i === 0 ? 0 : rec);
  const cells = { frequency: Float64Array.from(f), recency: Float64Array.from(r), T: new Float64Array(f.length).fill(T) };
  const horizonWeeks = model.options.months * model.options.unitsPerMonth;
  const [alive, expected] = await Promise.all([model.purchases.probabilityAlive(cells), model.purchases.conditionalExpectedPurchases(cells, horizonWeeks)]);
  const ids = sampleRows(model.customers.size).map((i) => model.customers.ids[i]);
  const worth = await model.valueOf(ids);
  const holdout = model.metadata?.holdout;
  return {
    T,
    grid: { frequency: Array.from({ length: maxF + 1 }, (_, i) => i), recency: recencies, probabilityAlive: Array.from(alive), expectedPurchases: Array.from(expected), horizonWeeks },
    values: histogram(worth.map((w) => w.value), 20),
    ...(holdout?.kind === 'purchases' ? { holdout: { weeks: holdout.weeks, groups: holdoutGroups(holdout.frequency, holdout.predicted, holdout.actual) } } : {}),
  };
}

/** Mean predicted and actual holdout purchases per calibration frequency 0..6, the last group 7 or more. */
export function holdoutGroups(frequency: readonly number[], predicted: readonly number[], actual: readonly number[], top = 7) {
  const groups = Array.from({ length: top + 1 }, (_, frequency) => ({ frequency, customers: 0, predicted: 0, actual: 0 }));
  frequency.forEach((x, i) => {
    const g = groups[Math.min(top, Math.round(x))];
    g.customers++;
    g.predicted += predicted[i];
    g.actual += actual[i];
  });
  return groups.filter((g) => g.customers > 0).map((g) => ({ ...g, predicted: g.predicted / g.customers, actual: g.actual / g.customers }));
}
