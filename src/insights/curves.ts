// The data shaping the dashboard and the report share: curves and histograms as plain arrays of points,
// thinned to what a chart can show. Pure functions of numbers, so the charts are tested without a browser.
import { meanInterval } from '../analytics/abtest.js';

/** A chart's series: points in order along x. */
export interface Series {
  x: number[];
  y: number[];
}

/** At most `max` points of a curve, evenly spaced by index, always keeping the first and last. */
export function thin(curve: Series, max = 200): Series {
  const n = curve.x.length;
  if (n <= max) return { x: [...curve.x], y: [...curve.y] };
  const keep = Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
  return { x: keep.map((i) => curve.x[i]), y: keep.map((i) => curve.y[i]) };
}

/** Rows in descending score order, ties kept together: the thresholds a ranking curve steps through. */
function thresholdGroups(score: ArrayLike<number>): number[][] {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const groups: number[][] = [];
  for (const i of order) {
    const last = groups.at(-1);
    if (last && score[last[0]] === score[i]) last.push(i);
    else groups.push([i]);
  }
  return groups;
}

/** The ROC curve (false against true positive rate) of scores for 0/1 labels, from (0,0) to (1,1). */
export function rocCurve(score: ArrayLike<number>, label: ArrayLike<number>): Series {
  let positives = 0;
  for (let i = 0; i < label.length; i++) positives += label[i] ? 1 : 0;
  const negatives = label.length - positives;
  const out: Series = { x: [0], y: [0] };
  let tp = 0, fp = 0;
  for (const group of thresholdGroups(score)) {
    for (const i of group) label[i] ? tp++ : fp++;
    out.x.push(negatives ? fp / negatives : 0);
    out.y.push(positives ? tp / positives : 0);
  }
  return out;
}

/** The precision-recall curve (recall on x) of scores for 0/1 labels, one point per threshold. */
export function prCurve(score: ArrayLike<number>, label: ArrayLike<number>): Series {
  let positives = 0;
  for (let i = 0; i < label.length; i++) positives += label[i] ? 1 : 0;
  const out: Series = { x: [], y: [] };
  let tp = 0, seen = 0;
  for (const group of thresholdGroups(score)) {
    for (const i of group) tp += label[i] ? 1 : 0;
    seen += group.length;
    out.x.push(positives ? tp / positives : 0);
    out.y.push(tp / seen);
  }
  return out;
}

/** The area under a curve by the trapezoid rule (x ascending). */
export function trapezoidArea(curve: Series): number {
  let area = 0;
  for (let i = 1; i < curve.x.length; i++) area += ((curve.x[i] - curve.x[i - 1]) * (curve.y[i] + curve.y[i - 1])) / 2;
  return area;
}

export interface Bin {
  lower: number;
  upper: number;
  count: number;
}

/** Counts of values in `bins` equal-width bins over [min, max] of the finite values (the last bin is closed). */
export function histogram(values: ArrayLike<number>, bins = 20): Bin[] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) (lo = Math.min(lo, values[i])), (hi = Math.max(hi, values[i]));
  if (lo === Infinity) return [];
  if (hi === lo) return [{ lower: lo, upper: hi, count: Array.from(values).filter(Number.isFinite).length }];
  const width = (hi - lo) / bins;
  const out = Array.from({ length: bins }, (_, b) => ({ lower: lo + b * width, upper: b === bins - 1 ? hi : lo + (b + 1) * width, count: 0 }));
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    out[Math.min(bins - 1, Math.floor((values[i] - lo) / width))].count++;
  }
  return out;
}

/**
 * A quantile of a Prometheus-style histogram (upper bounds ascending, counts per bucket, not cumulative),
 * interpolated linearly inside its bucket as Prometheus' histogram_quantile does; NaN with no observations.
 * Past the last bound, the last bound is the answer.
 */
export function bucketQuantile(bounds: readonly number[], counts: readonly number[], q: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < bounds.length; b++) {
    if (below + counts[b] >= rank && counts[b] > 0) {
      const lower = b === 0 ? 0 : bounds[b - 1];
      return lower + ((bounds[b] - lower) * (rank - below)) / counts[b];
    }
    below += counts[b];
  }
  return bounds[bounds.length - 1];
}

/** A rate with its 95% interval: Wilson's for 0/1 outcomes, the normal one otherwise. */
export function rateWithInterval(outcomes: readonly number[]): { n: number; rate: number; ci: [number, number] } {
  const n = outcomes.length;
  if (n === 0) return { n, rate: 0, ci: [0, 0] };
  let sum = 0, squares = 0;
  for (const y of outcomes) (sum += y), (squares += y * y);
  return { n, rate: sum / n, ci: meanInterval(n, sum, squares, outcomes.every((y) => y === 0 || y === 1)) };
}
