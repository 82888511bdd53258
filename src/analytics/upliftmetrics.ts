// Uplift evaluation with scikit-uplift's definitions: rows ranked by predicted uplift (descending, ties
// kept together as one step), curves over the number targeted, areas by the trapezoid rule, normalized
// against the random-targeting line and the perfect ranking.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';

export interface Curve {
  /** Rows targeted (0, then the end of each group of tied scores). */
  x: Float64Array;
  y: Float64Array;
}

function check(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>): void {
  if (uplift.length !== y.length || treatment.length !== y.length) throw new AffinityError('outcomes, uplift and treatment must have the same length', ErrorCode.DimMismatch);
  let treated = 0;
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw badInput(`outcome ${i} is not a finite number`);
    if (!Number.isFinite(uplift[i])) throw badInput(`uplift ${i} is not a finite number`);
    const t = treatment[i];
    if (t !== 0 && t !== 1 && t !== true && t !== false) throw badInput(`treatment ${i} must be 0/1 or a boolean`);
    treated += t === 1 || t === true ? 1 : 0;
  }
  if (treated === 0 || treated === y.length) throw badInput('uplift metrics need both treated and control rows');
}

// Cumulative treated/control counts and outcomes at the end of each tie group, in descending score order.
function steps(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>, value: (nt: number, yt: number, nc: number, yc: number) => number): Curve {
  check(y, uplift, treatment);
  const n = y.length;
  // numpy's argsort(kind='mergesort')[::-1]: ascending stable, reversed.
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => uplift[a] - uplift[b] || a - b)
    .reverse();
  const xs = [0];
  const ys = [0];
  let nt = 0, yt = 0, yc = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    const treated = treatment[i] === 1 || treatment[i] === true;
    if (treated) (nt += 1), (yt += y[i]);
    else yc += y[i];
    if (j === n - 1 || uplift[order[j + 1]] !== uplift[i]) {
      xs.push(j + 1);
      ys.push(value(nt, yt, j + 1 - nt, yc));
    }
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/** Uplift curve: (treated rate - control rate) among the top x, times x. */
export function upliftCurve(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>): Curve {
  return steps(y, uplift, treatment, (nt, yt, nc, yc) => ((nt > 0 ? yt / nt : 0) - (nc > 0 ? yc / nc : 0)) * (nt + nc));
}

/** Qini curve: treated outcomes minus control outcomes scaled to the treated count, among the top x. */
export function qiniCurve(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>): Curve {
  return steps(y, uplift, treatment, (nt, yt, nc, yc) => yt - (nc > 0 ? (yc * nt) / nc : 0));
}

const t01 = (treatment: ArrayLike<number | boolean>) => Float64Array.from({ length: treatment.length }, (_, i) => (treatment[i] === 1 || treatment[i] === true ? 1 : 0));

/** The best achievable Qini curve (negativeEffect: the oracle may also rank the harmed last). */
export function perfectQiniCurve(y: ArrayLike<number>, treatment: ArrayLike<number | boolean>, negativeEffect = true): Curve {
  const t = t01(treatment);
  if (negativeEffect) return qiniCurve(y, Float64Array.from(t, (ti, i) => y[i] * ti - y[i] * (1 - ti)), treatment);
  let yt = 0, nt = 0, yc = 0;
  for (let i = 0; i < t.length; i++) if (t[i]) (yt += y[i]), nt++;
  else yc += y[i];
  const ratio = yt - (nt * yc) / (t.length - nt);
  return { x: Float64Array.of(0, ratio, t.length), y: Float64Array.of(0, ratio, ratio) };
}

/** The best achievable uplift curve for binary outcomes. */
export function perfectUpliftCurve(y: ArrayLike<number>, treatment: ArrayLike<number | boolean>): Curve {
  const t = t01(treatment);
  let controlResponders = 0, treatedNonResponders = 0;
  for (let i = 0; i < t.length; i++) {
    if (y[i] === 1 && t[i] === 0) controlResponders++;
    if (y[i] === 0 && t[i] === 1) treatedNonResponders++;
  }
  const summand = controlResponders > treatedNonResponders ? y : t;
  return upliftCurve(y, Float64Array.from(t, (ti, i) => 2 * (y[i] === ti ? 1 : 0) + summand[i]), treatment);
}

/** Trapezoid area under a curve. */
export function area(c: Curve): number {
  let s = 0;
  for (let i = 1; i < c.x.length; i++) s += ((c.x[i] - c.x[i - 1]) * (c.y[i] + c.y[i - 1])) / 2;
  return s;
}

function normalized(actual: Curve, perfect: Curve): number {
  const last = perfect.x.length - 1;
  const baseline = area({ x: Float64Array.of(0, perfect.x[last]), y: Float64Array.of(0, perfect.y[last]) });
  return (area(actual) - baseline) / (area(perfect) - baseline);
}

/** Qini coefficient: (area under the Qini curve - random) / (perfect - random); scikit-uplift's qini_auc_score. */
export function qiniAucScore(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>, negativeEffect = true): number {
  return normalized(qiniCurve(y, uplift, treatment), perfectQiniCurve(y, treatment, negativeEffect));
}

/** AUUC: the same normalization on the uplift curve; scikit-uplift's uplift_auc_score. */
export function upliftAucScore(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>): number {
  return normalized(upliftCurve(y, uplift, treatment), perfectUpliftCurve(y, treatment));
}

/**
 * Treated rate minus control rate among the top ceil(k * n) rows by predicted uplift ('overall'), or among
 * the top ceil(k * n_group) of each group ('by_group'); scikit-uplift's uplift_at_k.
 */
export function upliftAtK(y: ArrayLike<number>, uplift: ArrayLike<number>, treatment: ArrayLike<number | boolean>, k = 0.3, strategy: 'overall' | 'by_group' = 'overall'): number {
  check(y, uplift, treatment);
  if (!(k > 0 && k < 1)) throw badInput('k must be a fraction in (0, 1)');
  const t = t01(treatment);
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => uplift[a] - uplift[b] || a - b)
    .reverse();
  const treatedTotal = t.reduce((a, b) => a + b, 0);
  const limit = strategy === 'overall' ? [Math.ceil(n * k), Math.ceil(n * k)] : [Math.ceil((n - treatedTotal) * k), Math.ceil(treatedTotal * k)];
  const sums = [0, 0];
  const counts = [0, 0];
  let seen = 0;
  for (const i of order) {
    if (strategy === 'overall' && seen++ >= limit[0]) break;
    const g = t[i];
    if (counts[g] >= limit[g]) continue;
    counts[g]++;
    sums[g] += y[i];
  }
  return (counts[1] > 0 ? sums[1] / counts[1] : NaN) - (counts[0] > 0 ? sums[0] / counts[0] : NaN);
}
