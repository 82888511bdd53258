// Recency-frequency summaries of purchase lines, as the lifetime-value literature defines them (Fader,
// Hardie & Lee 2005; lifetimes' summary_data_from_transaction_data):
//   - purchases are counted per day (UTC) or per basket: several lines on one day (in one basket) are one purchase;
//   - frequency = repeat purchases: the purchases after the first one, up to the calibration end;
//   - recency = time from the first purchase to the last one (0 without repeats); T = time from the first
//     purchase to the calibration end; monetary = mean spend of the repeat purchases (0 without repeats);
//   - customers whose first purchase is after the calibration end are left out;
//   - holdout (with observationEnd): purchases after the calibration end up to observationEnd, and their mean spend.
import { badInput } from '../core/errors.js';
import type { Id } from '../data/ids.js';
import { SECONDS_PER_DAY, type Transactions } from '../data/transactions.js';
import { oneOf } from '../core/options.js';

export interface RfmOptions {
  /** The end of the calibration period (unix seconds or a Date); its day counts. */
  calibrationEnd: number | Date;
  /** The end of a holdout period after it, for checking forecasts. */
  observationEnd?: number | Date;
  /** Time unit of recency and T (default 'weeks', the literature's). */
  unit?: 'days' | 'weeks';
  /** What one purchase is: a day with lines (default) or a basket. */
  frequencyOf?: 'days' | 'baskets';
}

/** Parallel arrays, one entry per customer (in order of first appearance in the transactions). */
export interface RfmSummary {
  customers: Id[];
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array;
  holdoutFrequency?: Float64Array;
  holdoutMonetary?: Float64Array;
}

function seconds(v: number | Date, what: string): number {
  const s = v instanceof Date ? v.getTime() / 1000 : v;
  if (typeof s !== 'number' || !Number.isFinite(s)) throw badInput(`${what} must be a Date or unix seconds`);
  return s;
}

export function rfmSummary(tx: Transactions, options: RfmOptions): RfmSummary {
  if (options === null || typeof options !== 'object') throw badInput('rfmSummary needs { calibrationEnd }');
  const unit = oneOf(options.unit, 'unit', ['days', 'weeks'] as const, 'weeks');
  const per = oneOf(options.frequencyOf, 'frequencyOf', ['days', 'baskets'] as const, 'days');
  const calibrationDay = Math.floor(seconds(options.calibrationEnd, 'calibrationEnd') / SECONDS_PER_DAY);
  const observationDay = options.observationEnd === undefined ? undefined : Math.floor(seconds(options.observationEnd, 'observationEnd') / SECONDS_PER_DAY);
  if (observationDay !== undefined && observationDay < calibrationDay) throw badInput('observationEnd must not be before calibrationEnd');
  const scale = unit === 'weeks' ? 7 : 1;

  // One purchase per (customer, day) or (customer, basket): its day and summed spend.
  const purchases = new Map<string, { customer: number; day: number; spend: number }>();
  for (let i = 0; i < tx.size; i++) {
    const day = Math.floor(tx.time[i] / SECONDS_PER_DAY);
    const key = per === 'days' ? `${tx.customer[i]}:${day}` : `${tx.customer[i]}#${tx.basket[i]}`;
    const p = purchases.get(key);
    if (p) {
      p.spend += tx.amount[i];
      if (per === 'baskets') p.day = Math.min(p.day, day);
    } else purchases.set(key, { customer: tx.customer[i], day, spend: tx.amount[i] });
  }
  const n = tx.customers.size;
  const first = new Float64Array(n).fill(Infinity);
  for (const p of purchases.values()) if (p.day <= calibrationDay && p.day < first[p.customer]) first[p.customer] = p.day;
  const count = new Float64Array(n), last = new Float64Array(n), spend = new Float64Array(n);
  const holdCount = new Float64Array(n), holdSpend = new Float64Array(n);
  for (const p of purchases.values()) {
    const c = p.customer;
    if (!Number.isFinite(first[c])) continue;
    if (p.day <= calibrationDay) {
      if (p.day === first[c] && per === 'days') continue; // the first purchase is not a repeat
      count[c]++;
      last[c] = Math.max(last[c], p.day - first[c]);
      spend[c] += p.spend;
    } else if (observationDay !== undefined && p.day <= observationDay) {
      holdCount[c]++;
      holdSpend[c] += p.spend;
    }
  }
  if (per === 'baskets') {
    // The first basket is not a repeat: take it out of the counts (the earliest, lowest spend on ties is irrelevant: its spend is removed).
    const firstSpend = new Float64Array(n).fill(NaN);
    for (const p of purchases.values()) if (p.day === first[p.customer] && Number.isNaN(firstSpend[p.customer])) firstSpend[p.customer] = p.spend;
    for (let c = 0; c < n; c++) {
      if (!Number.isFinite(first[c])) continue;
      count[c]--;
      spend[c] -= firstSpend[c];
    }
  }
  const keep: number[] = [];
  for (let c = 0; c < n; c++) if (Number.isFinite(first[c])) keep.push(c);
  const pick = (a: Float64Array, f: (v: number, c: number) => number) => Float64Array.from(keep, (c) => f(a[c], c));
  return {
    customers: keep.map((c) => tx.customers.ids[c]),
    frequency: pick(count, (v) => v),
    recency: pick(last, (v, c) => (count[c] > 0 ? v / scale : 0)),
    T: pick(first, (v) => (calibrationDay - v) / scale),
    monetary: pick(spend, (v, c) => (count[c] > 0 ? v / count[c] : 0)),
    ...(observationDay === undefined
      ? {}
      : { holdoutFrequency: pick(holdCount, (v) => v), holdoutMonetary: pick(holdSpend, (v, c) => (holdCount[c] > 0 ? v / holdCount[c] : 0)) }),
  };
}
