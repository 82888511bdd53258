// Per-customer features from transactions: RFM and friends, standardization, ALS factor lookup.
import type { ALS } from '../models/als.js';
import type { Id } from '../data/ids.js';
import { SECONDS_PER_DAY, type Transactions } from '../data/transactions.js';
import type { Matrix } from '../data/matrix.js';

export interface CustomerStats {
  /** Customer indices (into tx.customers) of the customers with at least one line. */
  rows: Int32Array;
  /** Days from the last purchase to `asOf`. */
  recency: Float64Array;
  /** Distinct baskets. */
  frequency: Float64Array;
  /** Sum of amounts. */
  monetary: Float64Array;
  /** Days from the first purchase to `asOf`. */
  tenure: Float64Array;
  /** Lines (purchased products) per basket. */
  basketSize: Float64Array;
  /** Distinct items bought. */
  distinctItems: Float64Array;
  /** Baskets in the 30 and 90 days before `asOf`. */
  recent30: Float64Array;
  recent90: Float64Array;
}

/** Aggregates each customer's lines up to `asOf` (unix seconds; lines at or after it are ignored). */
export function customerStats(tx: Transactions, asOf: number): CustomerStats {
  const n = tx.customers.size;
  const first = new Float64Array(n).fill(Infinity);
  const last = new Float64Array(n).fill(-Infinity);
  const monetary = new Float64Array(n);
  const lines = new Float64Array(n);
  const baskets = new Map<number, Set<number>>();
  const basketTime = new Map<number, number>();
  const items = new Map<number, Set<number>>();
  for (let r = 0; r < tx.size; r++) {
    const t = tx.time[r];
    if (t >= asOf) continue;
    const c = tx.customer[r];
    if (t < first[c]) first[c] = t;
    if (t > last[c]) last[c] = t;
    monetary[c] += tx.amount[r];
    lines[c]++;
    let b = baskets.get(c);
    if (!b) baskets.set(c, (b = new Set()));
    b.add(tx.basket[r]);
    basketTime.set(tx.basket[r], Math.max(basketTime.get(tx.basket[r]) ?? -Infinity, t));
    let it = items.get(c);
    if (!it) items.set(c, (it = new Set()));
    it.add(tx.item[r]);
  }
  const rows = Int32Array.from(Array.from(baskets.keys()).sort((a, b) => a - b));
  const column = (f: (c: number) => number) => Float64Array.from(rows, f);
  const within = (c: number, days: number) => {
    let count = 0;
    for (const b of baskets.get(c)!) if ((basketTime.get(b) ?? -Infinity) >= asOf - days * SECONDS_PER_DAY) count++;
    return count;
  };
  return {
    rows,
    recency: column((c) => (asOf - last[c]) / SECONDS_PER_DAY),
    frequency: column((c) => baskets.get(c)!.size),
    monetary: column((c) => monetary[c]),
    tenure: column((c) => (asOf - first[c]) / SECONDS_PER_DAY),
    basketSize: column((c) => lines[c] / baskets.get(c)!.size),
    distinctItems: column((c) => items.get(c)!.size),
    recent30: column((c) => within(c, 30)),
    recent90: column((c) => within(c, 90)),
  };
}

/** Signed log1p: tames the long tails of spend and counts before standardizing. */
export function slog1p(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x));
}

export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
}

/** Column means and standard deviations (a constant column gets std 1). */
export function fitStandardizer(m: Matrix): Standardizer {
  const mean = new Float64Array(m.dims);
  const std = new Float64Array(m.dims);
  for (let r = 0; r < m.rows; r++) for (let d = 0; d < m.dims; d++) mean[d] += m.values[r * m.dims + d];
  for (let d = 0; d < m.dims; d++) mean[d] /= Math.max(1, m.rows);
  for (let r = 0; r < m.rows; r++)
    for (let d = 0; d < m.dims; d++) {
      const x = m.values[r * m.dims + d] - mean[d];
      std[d] += x * x;
    }
  for (let d = 0; d < m.dims; d++) {
    const s = Math.sqrt(std[d] / Math.max(1, m.rows));
    std[d] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** (x - mean) / std per column, into a new matrix. */
export function standardize(m: Matrix, s: Standardizer): Matrix {
  const values = new Float32Array(m.values.length);
  for (let r = 0; r < m.rows; r++)
    for (let d = 0; d < m.dims; d++) values[r * m.dims + d] = (m.values[r * m.dims + d] - s.mean[d]) / s.std[d];
  return { values, rows: m.rows, dims: m.dims };
}

/** The ALS user factors of the given customers (zeros for customers the model does not know). */
export function factorRows(als: ALS, customers: readonly Id[]): Matrix {
  const f = als.factors.factors;
  const values = new Float32Array(customers.length * f);
  customers.forEach((c, r) => {
    const u = als.data.users.find(c);
    if (u >= 0) values.set(als.userFactors.subarray(u * f, (u + 1) * f), r * f);
  });
  return { values, rows: customers.length, dims: f };
}

/** Columns side by side. */
export function hstack(blocks: Matrix[]): Matrix {
  const rows = blocks[0].rows;
  const dims = blocks.reduce((s, b) => s + b.dims, 0);
  const values = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    let at = r * dims;
    for (const b of blocks) {
      values.set(b.values.subarray(r * b.dims, (r + 1) * b.dims), at);
      at += b.dims;
    }
  }
  return { values, rows, dims };
}
