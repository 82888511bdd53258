// Off-policy evaluation: how a new offer policy would have done, estimated from logs of another.
//   ips        mean of w_i r_i, w_i = π(a_i|x_i) / μ_i (μ: the logged propensity)
//   snips      Σ w_i r_i / Σ w_i (self-normalized: biased, far less variance)
//   dm         mean of Σ_a π(a|x_i) q̂(x_i, a) (the direct method: a reward model's view)
//   dr         dm + mean of w_i (r_i − q̂(x_i, a_i)) (doubly robust: unbiased if either part is right)
//   switch-dr  dr keeping the correction only where w_i <= tau (the Open Bandit Pipeline's definition)
// With positions (slates), π, μ and q̂ are per (arm, position) and each logged row is one slot, as in the
// Open Bandit Pipeline. Weights can be clipped (min(w, clip)); intervals are seeded bootstrap
// percentiles, resampled natively off the event loop.
import { native } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { Bandit } from './bandit.js';
import type { Id } from '../data/ids.js';
import type { ReadLog } from '../io/decisionlog.js';

/** Contexts of logged rows: rows x dims, row-major. */
export interface LogContexts {
  values: Float32Array | Float64Array;
  rows: number;
  dims: number;
}

export interface BanditLogs {
  /** The arm shown in each logged row (0-based). */
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  /** The probability the logging policy had of choosing that arm (at that position), in (0, 1]. */
  propensities: ArrayLike<number>;
  /** What the logging policy saw: needed to evaluate a Bandit or a function of the context. */
  contexts?: LogContexts;
  /** The slot each row was shown in (0-based), for slates of `positions` offers. */
  positions?: ArrayLike<number>;
}

/**
 * The policy to evaluate: its action probabilities per logged row (rows x arms x positions, row-major),
 * a function of a row's context giving them (arms x positions), or a Bandit (the same distribution at
 * every position; its arms are the logged actions' indices).
 */
export type TargetPolicy = { probabilities: ArrayLike<number> } | ((context: Float64Array | null, row: number) => ArrayLike<number>) | Bandit;

export type OpeEstimator = 'ips' | 'snips' | 'dm' | 'dr' | 'switch-dr';

export interface OpeOptions extends JobOptions {
  estimator?: OpeEstimator;
  arms: number;
  /** Slots per slate (default 1). */
  positions?: number;
  /** dm, dr, switch-dr: a reward model's expected reward per row, arm and position (fitRewardModel makes one). */
  rewardModel?: ArrayLike<number>;
  /** Clip importance weights at this value (default: no clipping). */
  clip?: number;
  /** switch-dr: keep the correction where w <= tau (default 10). */
  tau?: number;
  /** Bootstrap resamples for the interval (default 1000; 0: no interval). */
  bootstrap?: number;
  confidence?: number;
  seed?: number;
  /** Bandit policies: draws per row that estimate a Thompson policy's probabilities (default 1000). */
  samples?: number;
  threads?: number;
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

/** The checked logs, with contexts as Float64Array (what policies read). */
interface Checked {
  n: number;
  arms: number;
  positions: number;
  position: (row: number) => number;
  contexts: Float64Array | null;
  dims: number;
}

/** Validates logs and the options about their shape; shared by offPolicyValue and fitRewardModel. */
export function checkLogs(logs: BanditLogs, arms: number, positions: number): Checked {
  if (logs === null || typeof logs !== 'object') throw badInput('logs must be { actions, rewards, propensities }');
  const n = logs.actions?.length;
  if (!(n > 0)) throw badInput('the logs hold no rows');
  if (logs.rewards?.length !== n || logs.propensities?.length !== n) throw new AffinityError('actions, rewards and propensities must have one entry per row', ErrorCode.DimMismatch);
  for (let i = 0; i < n; i++) {
    const a = logs.actions[i];
    if (!Number.isInteger(a) || a < 0 || a >= arms) throw badInput(`action ${i} is ${a}, outside [0, ${arms})`);
    if (!Number.isFinite(logs.rewards[i])) throw badInput(`reward ${i} is not a finite number`);
    const p = logs.propensities[i];
    if (!(p > 0 && p <= 1)) throw badInput(`propensity ${i} is ${p}: it must be in (0, 1]`);
  }
  const pos = logs.positions;
  if (pos !== undefined) {
    if (pos.length !== n) throw new AffinityError('positions must have one entry per row', ErrorCode.DimMismatch);
    for (let i = 0; i < n; i++) if (!Number.isInteger(pos[i]) || pos[i] < 0 || pos[i] >= positions) throw badInput(`position ${i} is ${pos[i]}, outside [0, ${positions}): set the positions option`);
  }
  let contexts: Float64Array | null = null;
  let dims = 0;
  if (logs.contexts !== undefined) {
    const c = logs.contexts;
    if (c === null || typeof c !== 'object' || !(c.values instanceof Float32Array || c.values instanceof Float64Array)) throw badInput('contexts must be { values: Float32Array | Float64Array, rows, dims }');
    if (c.rows !== n || !Number.isInteger(c.dims) || c.dims < 1 || c.values.length !== n * c.dims) throw new AffinityError(`contexts must be rows (${n}) x dims values`, ErrorCode.DimMismatch);
    contexts = c.values instanceof Float64Array ? c.values : Float64Array.from(c.values);
    for (let i = 0; i < contexts.length; i++) if (!Number.isFinite(contexts[i])) throw badInput(`context value ${i} is not finite`);
    dims = c.dims;
  }
  return { n, arms, positions, position: pos ? (i) => pos[i] : () => 0, contexts, dims };
}

/**
 * ```ts
 * const uniform = { probabilities: new Float64Array(rows * 34).fill(1 / 34) };
 * await offPolicyValue({ actions, rewards, propensities }, uniform, { arms: 34, estimator: 'snips' });
 * await offPolicyValue({ actions, rewards, propensities, contexts }, bandit, { arms: 34, estimator: 'dr', rewardModel });
 * ```
 */
export async function offPolicyValue(logs: BanditLogs, policy: TargetPolicy, options: OpeOptions): Promise<OpeResult> {
  const arms = intOption(options?.arms, 'arms', 1, 1_000_000, 0);
  const o = {
    estimator: oneOf(options.estimator, 'estimator', ['ips', 'snips', 'dm', 'dr', 'switch-dr'], 'snips'),
    positions: intOption(options.positions, 'positions', 1, 1000, 1),
    clip: options.clip === undefined || options.clip === Infinity ? Infinity : numberOption(options.clip, 'clip', Infinity, Number.MIN_VALUE),
    tau: numberOption(options.tau, 'tau', 10, 0),
    bootstrap: intOption(options.bootstrap, 'bootstrap', 0, 100_000, 1000),
    confidence: numberOption(options.confidence, 'confidence', 0.95, 0),
    seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
    samples: intOption(options.samples, 'samples', 1, 1_000_000, 1000),
    threads: intOption(options.threads, 'threads', 0, 256, 0),
  };
  if (!(o.confidence < 1)) throw badInput('confidence must be in (0, 1)');
  const logs2 = checkLogs(logs, arms, o.positions);
  const { n } = logs2;
  const width = arms * o.positions;
  const q = options.rewardModel;
  const needsModel = o.estimator === 'dm' || o.estimator === 'dr' || o.estimator === 'switch-dr';
  if (needsModel && (q === undefined || q.length !== n * width)) throw new AffinityError(`${o.estimator} needs rewardModel: rows x arms x positions expected rewards (${n * width} values)`, ErrorCode.DimMismatch);
  const probability = await policyProbabilities(policy, logs2, o, options);

  const term = new Float64Array(n);
  const weight = new Float64Array(n);
  let sw = 0;
  let sw2 = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = logs.actions[i];
    const k = logs2.position(i);
    const w = Math.min(probability(i, a, k) / logs.propensities[i], o.clip);
    weight[i] = w;
    sw += w;
    sw2 += w * w;
    const r = logs.rewards[i];
    if (o.estimator === 'ips' || o.estimator === 'snips') term[i] = w * r;
    else {
      let dm = 0;
      for (let b = 0; b < arms; b++) dm += probability(i, b, k) * q![(i * arms + b) * o.positions + k];
      const corrected = o.estimator === 'dr' || (o.estimator === 'switch-dr' && w <= o.tau);
      term[i] = dm + (corrected ? w * (r - q![(i * arms + a) * o.positions + k]) : 0);
    }
    sum += term[i];
  }
  const ratio = o.estimator === 'snips';
  const value = ratio ? (sw > 0 ? sum / sw : 0) : sum / n;
  let ci: [number, number] = [NaN, NaN];
  if (o.bootstrap > 0) {
    const draws = await runJob(options, (cancel, progress) => native.bootstrapMeans(term, ratio ? weight : null, o.bootstrap, o.seed, o.threads, cancel, progress));
    draws.sort();
    const tail = (1 - o.confidence) / 2;
    const at = (p: number) => draws[Math.min(o.bootstrap - 1, Math.max(0, Math.floor(p * o.bootstrap)))];
    ci = [at(tail), at(1 - tail)];
  }
  return { estimator: o.estimator, value, ci, effectiveSampleSize: sw2 > 0 ? (sw * sw) / sw2 : 0, rows: n };
}

type Probability = (row: number, arm: number, position: number) => number;

async function policyProbabilities(policy: TargetPolicy, logs: Checked, o: { seed: number; samples: number; threads: number; positions: number }, job: JobOptions): Promise<Probability> {
  const { n, arms, positions } = logs;
  const width = arms * positions;
  if (policy instanceof Bandit) {
    if (policy.arms.length !== arms) throw new AffinityError(`the bandit has ${policy.arms.length} offers, the logs ${arms} arms`, ErrorCode.DimMismatch);
    if (policy.dims > 0 && logs.dims !== policy.dims) throw new AffinityError(`the bandit reads ${policy.dims} context features: give the logs' contexts (rows x ${policy.dims})`, ErrorCode.DimMismatch);
    const p = await policy.probabilitiesFor(policy.dims > 0 ? logs.contexts : null, n, { ...job, seed: o.seed, samples: o.samples, threads: o.threads });
    return (row, arm) => p[row * arms + arm];
  }
  if (typeof policy === 'function') {
    let cachedRow = -1;
    let cached: ArrayLike<number> = [];
    return (row, arm, position) => {
      if (row !== cachedRow) {
        cached = policy(logs.contexts ? logs.contexts.subarray(row * logs.dims, (row + 1) * logs.dims) : null, row);
        if (cached?.length !== width) throw new AffinityError(`the policy gave ${cached?.length} probabilities for row ${row}, expected arms x positions = ${width}`, ErrorCode.DimMismatch);
        for (let a = 0; a < width; a++) if (!(cached[a] >= 0 && cached[a] <= 1)) throw badInput(`the policy's probability of arm ${Math.floor(a / positions)} in row ${row} is ${cached[a]}`);
        cachedRow = row;
      }
      return cached[arm * positions + position];
    };
  }
  const p = policy?.probabilities;
  if (p === undefined || p.length !== n * width) throw new AffinityError(`policy.probabilities must hold rows x arms x positions = ${n * width} values`, ErrorCode.DimMismatch);
  for (let i = 0; i < p.length; i++) if (!(p[i] >= 0 && p[i] <= 1)) throw badInput(`policy probability ${i} is ${p[i]}, outside [0, 1]`);
  return (row, arm, position) => p[(row * arms + arm) * positions + position];
}

/**
 * A decision log (readDecisionLog) as logs for offPolicyValue, with the offers numbered as in `arms` (a
 * target Bandit's arms). Decisions without a reward record count `missingReward` (default 0: not redeemed).
 */
export function banditLogsOf(log: ReadLog, arms: readonly Id[], options: { missingReward?: number } = {}): BanditLogs & { customers: Id[]; offers: Id[] } {
  const missing = numberOption(options.missingReward, 'missingReward', 0);
  const index = new Map<Id, number>(arms.map((a, i) => [a, i]));
  const rewards = new Map<string, number>();
  for (const r of log.records) if (r.t === 'r') rewards.set(r.id, r.reward);
  const decisions = log.records.filter((r) => r.t === 'd');
  if (decisions.length === 0) throw badInput('the decision log holds no decisions');
  const dims = decisions[0].x.length;
  const n = decisions.length;
  const actions = new Int32Array(n), rewardOf = new Float64Array(n), propensities = new Float64Array(n), values = new Float64Array(n * dims);
  const customers: Id[] = [], offers: Id[] = [];
  decisions.forEach((d, i) => {
    const a = index.get(d.arm);
    if (a === undefined) throw new AffinityError(`the log shows offer ${JSON.stringify(d.arm)}, which the policy does not know (it has ${arms.map((x) => JSON.stringify(x)).join(', ')})`, ErrorCode.UnknownId);
    if (d.x.length !== dims) throw new AffinityError(`decision ${d.id} has ${d.x.length} context values, the first ${dims}`, ErrorCode.DimMismatch);
    actions[i] = a;
    rewardOf[i] = rewards.get(d.id) ?? missing;
    propensities[i] = d.p;
    values.set(d.x, i * dims);
    customers.push(d.customer);
    offers.push(d.arm);
  });
  return { actions, rewards: rewardOf, propensities, ...(dims > 0 ? { contexts: { values, rows: n, dims } } : {}), customers, offers };
}
