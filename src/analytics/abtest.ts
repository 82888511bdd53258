// A/B (and A/B/n) test analysis: did the campaign work, by how much, how sure are we.
//   rates (conversion, visit): Wilson intervals per arm, Newcombe's hybrid score interval for the difference
//     (method 10 of Newcombe 1998), the pooled two-proportion z-test, the log risk-ratio interval for the
//     relative lift;
//   means (spend): Welch's t-test and interval, the delta-method interval for the relative lift;
//   Holm's correction across the arms; a sample-ratio-mismatch chi-squared test against the planned split.
import { badInput } from '../core/errors.js';
import { numberOption } from '../core/options.js';
import { chiSquaredSurvival, normalCdf, normalQuantile, studentQuantile, studentTwoSidedP } from './stats.js';

export type Group = string | number;

export interface AbTestOptions {
  /** The control group's label. */
  control: Group;
  /** 'rate' for 0/1 outcomes (default), 'mean' for amounts. */
  metric?: 'rate' | 'mean';
  /** Confidence of the intervals (default 0.95). */
  confidence?: number;
  /** The planned share of each group, for the sample-ratio check (default: equal shares). */
  planned?: Record<string, number>;
}

export interface ArmSummary {
  group: Group;
  n: number;
  /** The rate or the mean. */
  value: number;
  /** Its interval (Wilson for rates, t for means). */
  valueCi: [number, number];
}

export interface ArmComparison extends ArmSummary {
  /** value - control's value, and its interval. */
  lift: number;
  liftCi: [number, number];
  /** lift / control's value, and its interval. */
  relativeLift: number;
  relativeLiftCi: [number, number];
  pValue: number;
  /** Holm-adjusted across the arms compared with control. */
  adjustedPValue: number;
}

export interface AbTestResult {
  metric: 'rate' | 'mean';
  confidence: number;
  control: ArmSummary;
  arms: ArmComparison[];
  /** Sample-ratio mismatch: chi-squared of the group sizes against the planned split; a small p-value means the assignment is broken. */
  srm: { chiSquared: number; df: number; pValue: number };
}

interface Moments {
  group: Group;
  n: number;
  sum: number;
  sumSquares: number;
}

/** Wilson's score interval for x successes in n. */
export function wilsonInterval(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The z of a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * A 95% interval for a mean from its count, sum and sum of squares: Wilson's for 0/1 outcomes (it stays
 * inside [0, 1] and is honest at small n), the normal approximation with the sample variance otherwise.
 */
export function meanInterval(n: number, sum: number, squares: number, binary: boolean): [number, number] {
  if (n === 0) return [0, binary ? 1 : 0];
  if (binary) return wilsonInterval(sum, n, Z95);
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (squares - n * mean * mean) / (n - 1)) : 0;
  const half = Z95 * Math.sqrt(variance / n);
  return [mean - half, mean + half];
}

/** Holm's step-down adjustment of p-values (family-wise error), in the order given. */
export function holmAdjust(p: number[]): number[] {
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b]);
  const out = new Array<number>(p.length);
  let running = 0;
  order.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (p.length - rank) * p[i]));
    out[i] = running;
  });
  return out;
}

export function abTest(outcomes: ArrayLike<number>, groups: ArrayLike<Group>, options: AbTestOptions): AbTestResult {
  if (options === null || typeof options !== 'object' || options.control === undefined) throw badInput('abTest needs { control }: the control group');
  const metric = options.metric ?? 'rate';
  if (metric !== 'rate' && metric !== 'mean') throw badInput("metric must be 'rate' or 'mean'");
  const confidence = numberOption(options.confidence, 'confidence', 0.95, 0);
  if (!(confidence > 0 && confidence < 1)) throw badInput('confidence must be in (0, 1)');
  if (outcomes?.length !== groups?.length) throw badInput(`outcomes has ${outcomes?.length} entries, groups ${groups?.length}`);
  const byGroup = new Map<Group, Moments>();
  for (let i = 0; i < outcomes.length; i++) {
    const y = outcomes[i];
    if (typeof y !== 'number' || !Number.isFinite(y)) throw badInput(`outcomes[${i}] must be a finite number`);
    if (metric === 'rate' && y !== 0 && y !== 1) throw badInput(`outcomes[${i}] is ${y}: a rate needs 0 or 1 (metric: 'mean' for amounts)`);
    const g = groups[i];
    if (typeof g !== 'string' && typeof g !== 'number') throw badInput(`groups[${i}] must be a string or number`);
    let m = byGroup.get(g);
    if (!m) byGroup.set(g, (m = { group: g, n: 0, sum: 0, sumSquares: 0 }));
    m.n++;
    m.sum += y;
    m.sumSquares += y * y;
  }
  const control = byGroup.get(options.control);
  if (!control) throw badInput(`no rows in the control group ${JSON.stringify(options.control)} (groups: ${[...byGroup.keys()].map((g) => JSON.stringify(g)).join(', ')})`);
  const treated = [...byGroup.values()].filter((m) => m !== control);
  if (treated.length === 0) throw badInput('only the control group has rows: nothing to compare');
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const arms = treated.map((t) => (metric === 'rate' ? compareRates(t, control, z) : compareMeans(t, control, confidence)));
  const adjusted = holmAdjust(arms.map((a) => a.pValue));
  arms.forEach((a, i) => (a.adjustedPValue = adjusted[i]));
  return { metric, confidence, control: summary(control, metric, z, confidence), arms, srm: sampleRatio([...byGroup.values()], options.planned) };
}

function variance(m: Moments): number {
  return m.n > 1 ? Math.max(0, (m.sumSquares - (m.sum * m.sum) / m.n) / (m.n - 1)) : 0;
}

function summary(m: Moments, metric: 'rate' | 'mean', z: number, confidence: number): ArmSummary {
  const value = m.sum / m.n;
  if (metric === 'rate') return { group: m.group, n: m.n, value, valueCi: wilsonInterval(m.sum, m.n, z) };
  const half = m.n > 1 ? studentQuantile(1 - (1 - confidence) / 2, m.n - 1) * Math.sqrt(variance(m) / m.n) : NaN;
  return { group: m.group, n: m.n, value, valueCi: [value - half, value + half] };
}

function compareRates(t: Moments, c: Moments, z: number): ArmComparison {
  const pt = t.sum / t.n, pc = c.sum / c.n;
  const [lt, ut] = wilsonInterval(t.sum, t.n, z);
  const [lc, uc] = wilsonInterval(c.sum, c.n, z);
  const lift = pt - pc;
  const liftCi: [number, number] = [lift - Math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2), lift + Math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)];
  const pooled = (t.sum + c.sum) / (t.n + c.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / t.n + 1 / c.n));
  const pValue = se > 0 ? 2 * normalCdf(-Math.abs(lift) / se) : lift === 0 ? 1 : 0; // the tail itself: no 1 - x cancellation
  // Relative lift: the log risk ratio's interval (undefined when either arm has no success).
  const ratio = pt / pc;
  const seLog = Math.sqrt((1 - pt) / t.sum + (1 - pc) / c.sum);
  const relativeLiftCi: [number, number] = t.sum > 0 && c.sum > 0 ? [ratio * Math.exp(-z * seLog) - 1, ratio * Math.exp(z * seLog) - 1] : [NaN, NaN];
  return { group: t.group, n: t.n, value: pt, valueCi: [lt, ut], lift, liftCi, relativeLift: pc > 0 ? ratio - 1 : NaN, relativeLiftCi, pValue, adjustedPValue: pValue };
}

function compareMeans(t: Moments, c: Moments, confidence: number): ArmComparison {
  const mt = t.sum / t.n, mc = c.sum / c.n;
  const vt = variance(t) / t.n, vc = variance(c) / c.n;
  const se = Math.sqrt(vt + vc);
  const df = (vt + vc) ** 2 / ((vt * vt) / Math.max(1, t.n - 1) + (vc * vc) / Math.max(1, c.n - 1));
  const q = studentQuantile(1 - (1 - confidence) / 2, df);
  const lift = mt - mc;
  const pValue = se > 0 ? studentTwoSidedP(lift / se, df) : lift === 0 ? 1 : 0;
  // Relative lift by the delta method on mt / mc.
  const ratio = mt / mc;
  const seRatio = Math.abs(ratio) * Math.sqrt(vt / (mt * mt) + vc / (mc * mc));
  const relativeLiftCi: [number, number] = mc !== 0 && mt !== 0 ? [ratio - 1 - q * seRatio, ratio - 1 + q * seRatio] : [NaN, NaN];
  const valueHalf = t.n > 1 ? studentQuantile(1 - (1 - confidence) / 2, t.n - 1) * Math.sqrt(vt) : NaN;
  return {
    group: t.group,
    n: t.n,
    value: mt,
    valueCi: [mt - valueHalf, mt + valueHalf],
    lift,
    liftCi: [lift - q * se, lift + q * se],
    relativeLift: mc !== 0 ? ratio - 1 : NaN,
    relativeLiftCi,
    pValue,
    adjustedPValue: pValue,
  };
}

function sampleRatio(groups: Moments[], planned?: Record<string, number>): AbTestResult['srm'] {
  const total = groups.reduce((s, g) => s + g.n, 0);
  const shares = groups.map((g) => (planned ? planned[String(g.group)] : 1));
  if (shares.some((s) => typeof s !== 'number' || !(s > 0))) throw badInput('planned must give a positive share for every group');
  const sum = shares.reduce((a, b) => a + b, 0);
  const chiSquared = groups.reduce((x, g, i) => {
    const expected = (total * shares[i]) / sum;
    return x + (g.n - expected) ** 2 / expected;
  }, 0);
  const df = groups.length - 1;
  return { chiSquared, df, pValue: chiSquaredSurvival(chiSquared, df) };
}

export interface SampleSizeOptions {
  /** The control rate. */
  baseline: number;
  /** The absolute change in rate to detect (0.01 = one point). */
  minDetectableEffect: number;
  /** Default 0.8. */
  power?: number;
  /** Two-sided significance level (default 0.05). */
  alpha?: number;
}

/** Customers per arm for a two-proportion z-test to detect the effect (Fleiss' formula, no continuity correction). */
export function sampleSize(options: SampleSizeOptions): number {
  const p1 = numberOption(options?.baseline, 'baseline', NaN, 0);
  const delta = numberOption(options?.minDetectableEffect, 'minDetectableEffect', NaN);
  const power = numberOption(options?.power, 'power', 0.8, 0);
  const alpha = numberOption(options?.alpha, 'alpha', 0.05, 0);
  const p2 = p1 + delta;
  if (!(p1 > 0 && p1 < 1) || !(p2 > 0 && p2 < 1) || delta === 0) throw badInput('baseline and baseline + minDetectableEffect must be rates in (0, 1), and the effect not 0');
  if (!(power > 0 && power < 1) || !(alpha > 0 && alpha < 1)) throw badInput('power and alpha must be in (0, 1)');
  const za = normalQuantile(1 - alpha / 2), zb = normalQuantile(power);
  const mean = (p1 + p2) / 2;
  const n = (za * Math.sqrt(2 * mean * (1 - mean)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (delta * delta);
  return Math.ceil(n);
}
