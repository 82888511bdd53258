// Off-policy evaluation: how a new offer policy would have done, estimated from logs of another.
//   ips        mean of w_i r_i, w_i = π(a_i|x_i) / μ_i (μ: the logged propensity)
//   snips      Σ w_i r_i / Σ w_i (self-normalized: biased, far less variance)
//   dm         mean of Σ_a π(a|x_i) q̂(x_i, a) (the direct method: a reward model's view)
//   dr         dm + mean of w_i (r_i − q̂(x_i, a_i)) (doubly robust: unbiased if either part is right)
//   switch-dr  dr keeping the correction only where w_i <= tau (the Open Bandit Pipeline's definition)
// Weights can be clipped (min(w, clip)); confidence intervals are seeded bootstrap percentiles.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';

export interface BanditLogs {
  /** The arm shown in each logged row (0-based). */
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  /** The probability the logging policy had of choosing that arm, in (0, 1]. */
  propensities: ArrayLike<number>;
}

/**
 * The policy to evaluate: its action probabilities per logged row (rows x arms, row-major), or a function
 * giving them for a row.
 */
export type TargetPolicy = { probabilities: ArrayLike<number> } | ((row: number) => ArrayLike<number>);

export type OpeEstimator = 'ips' | 'snips' | 'dm' | 'dr' | 'switch-dr';

export interface OpeOptions {
  estimator?: OpeEstimator;
  arms: number;
  /** dm, dr, switch-dr: a reward model's expected reward per row and arm (rows x arms, row-major). */
  rewardModel?: ArrayLike<number>;
  /** Clip importance weights at this value (default: no clipping). */
  clip?: number;
  /** switch-dr: keep the correction where w <= tau (default 10). */
  tau?: number;
  /** Bootstrap resamples for the interval (default 1000; 0: no interval). */
  bootstrap?: number;
  confidence?: number;
  seed?: number;
}

export interface OpeResult {
  estimator: OpeEstimator;
  value: number;
  /** Bootstrap percentile interval (NaN without resamples). */
  ci: [number, number];
  /** (Σ w)² / Σ w²: how many logged rows the estimate is worth. */
  effectiveSampleSize: number;
  rows: number;
}

interface Terms {
  /** Per row: the weighted term the estimator averages (ips, dm, dr) or w r (snips). */
  term: Float64Array;
  /** Per row: the weight (snips' denominator). */
  weight: Float64Array;
}

function terms(logs: BanditLogs, probability: (row: number, arm: number) => number, o: Required<Omit<OpeOptions, 'rewardModel'>> & { rewardModel?: ArrayLike<number> }): Terms {
  const n = logs.actions.length;
  const term = new Float64Array(n);
  const weight = new Float64Array(n);
  const q = o.rewardModel;
  for (let i = 0; i < n; i++) {
    const a = logs.actions[i];
    const w = Math.min(probability(i, a) / logs.propensities[i], o.clip);
    weight[i] = w;
    const r = logs.rewards[i];
    if (o.estimator === 'ips' || o.estimator === 'snips') {
      term[i] = w * r;
      continue;
    }
    let dm = 0;
    for (let b = 0; b < o.arms; b++) dm += probability(i, b) * q![i * o.arms + b];
    const correction = o.estimator === 'dm' || (o.estimator === 'switch-dr' && w > o.tau) ? 0 : w * (r - q![i * o.arms + a]);
    term[i] = dm + correction;
  }
  return { term, weight };
}

function estimate(t: Terms, estimator: OpeEstimator, rows: ArrayLike<number> | null, n: number): number {
  let sum = 0;
  let weights = 0;
  for (let j = 0; j < n; j++) {
    const i = rows ? rows[j] : j;
    sum += t.term[i];
    weights += t.weight[i];
  }
  return estimator === 'snips' ? (weights > 0 ? sum / weights : 0) : sum / n;
}

/**
 * ```ts
 * const uniform = { probabilities: new Float64Array(rows * 34).fill(1 / 34) };
 * offPolicyValue({ actions, rewards, propensities }, uniform, { arms: 34, estimator: 'snips' });
 * ```
 */
export function offPolicyValue(logs: BanditLogs, policy: TargetPolicy, options: OpeOptions): OpeResult {
  if (logs === null || typeof logs !== 'object') throw badInput('logs must be { actions, rewards, propensities }');
  const n = logs.actions?.length;
  if (!(n > 0)) throw badInput('the logs hold no rows');
  if (logs.rewards?.length !== n || logs.propensities?.length !== n) throw new AffinityError('actions, rewards and propensities must have one entry per row', ErrorCode.DimMismatch);
  const arms = intOption(options?.arms, 'arms', 1, 1_000_000, 0);
  const o = {
    estimator: oneOf(options.estimator, 'estimator', ['ips', 'snips', 'dm', 'dr', 'switch-dr'], 'snips'),
    arms,
    rewardModel: options.rewardModel,
    clip: options.clip === undefined || options.clip === Infinity ? Infinity : numberOption(options.clip, 'clip', Infinity, Number.MIN_VALUE),
    tau: numberOption(options.tau, 'tau', 10, 0),
    bootstrap: intOption(options.bootstrap, 'bootstrap', 0, 100_000, 1000),
    confidence: numberOption(options.confidence, 'confidence', 0.95, 0),
    seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
  };
  if (!(o.confidence < 1)) throw badInput('confidence must be in (0, 1)');
  for (let i = 0; i < n; i++) {
    const a = logs.actions[i];
    if (!Number.isInteger(a) || a < 0 || a >= arms) throw badInput(`action ${i} is ${a}, outside [0, ${arms})`);
    if (!Number.isFinite(logs.rewards[i])) throw badInput(`reward ${i} is not a finite number`);
    const p = logs.propensities[i];
    if (!(p > 0 && p <= 1)) throw badInput(`propensity ${i} is ${p}: it must be in (0, 1]`);
  }
  const needsModel = o.estimator === 'dm' || o.estimator === 'dr' || o.estimator === 'switch-dr';
  if (needsModel && (o.rewardModel === undefined || o.rewardModel.length !== n * arms)) throw new AffinityError(`${o.estimator} needs rewardModel: rows x arms expected rewards (${n * arms} values)`, ErrorCode.DimMismatch);
  const probability = policyProbabilities(policy, n, arms);
  const t = terms(logs, probability, o);
  const value = estimate(t, o.estimator, null, n);
  let sw = 0;
  let sw2 = 0;
  for (const w of t.weight) (sw += w), (sw2 += w * w);
  let ci: [number, number] = [NaN, NaN];
  if (o.bootstrap > 0) {
    const random = new Random(o.seed);
    const rows = new Int32Array(n);
    const draws = new Float64Array(o.bootstrap);
    for (let b = 0; b < o.bootstrap; b++) {
      for (let j = 0; j < n; j++) rows[j] = Math.floor((random.nextUint32() * n) / 4294967296);
      draws[b] = estimate(t, o.estimator, rows, n);
    }
    draws.sort();
    const tail = (1 - o.confidence) / 2;
    const at = (q: number) => draws[Math.min(o.bootstrap - 1, Math.max(0, Math.floor(q * o.bootstrap)))];
    ci = [at(tail), at(1 - tail)];
  }
  return { estimator: o.estimator, value, ci, effectiveSampleSize: sw2 > 0 ? (sw * sw) / sw2 : 0, rows: n };
}

function policyProbabilities(policy: TargetPolicy, n: number, arms: number): (row: number, arm: number) => number {
  if (typeof policy === 'function') {
    let cachedRow = -1;
    let cached: ArrayLike<number> = [];
    return (row, arm) => {
      if (row !== cachedRow) {
        cached = policy(row);
        if (cached?.length !== arms) throw new AffinityError(`the policy gave ${cached?.length} probabilities for row ${row}, expected ${arms}`, ErrorCode.DimMismatch);
        for (let a = 0; a < arms; a++) if (!(cached[a] >= 0 && cached[a] <= 1)) throw badInput(`the policy's probability of arm ${a} in row ${row} is ${cached[a]}`);
        cachedRow = row;
      }
      return cached[arm];
    };
  }
  const p = policy?.probabilities;
  if (p === undefined || p.length !== n * arms) throw new AffinityError(`policy.probabilities must hold rows x arms = ${n * arms} values`, ErrorCode.DimMismatch);
  for (let i = 0; i < p.length; i++) if (!(p[i] >= 0 && p[i] <= 1)) throw badInput(`policy probability ${i} is ${p[i]}, outside [0, 1]`);
  return (row, arm) => p[row * arms + arm];
}
