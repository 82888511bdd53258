// The reward model of the direct and doubly robust estimators: q̂(x, a, position), one model per arm
// (so the context can change which arm is best), cross-fitted: each row's predictions come from models
// that never saw it, which keeps DR's correction term honest (Chernozhukov et al. 2018).
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';
import type { JobOptions } from '../core/jobs.js';
import type { Matrix } from '../data/matrix.js';
import { LogisticRegression } from './logistic.js';
import { checkLogs, type BanditLogs } from './ope.js';
import { RandomForest } from './trees.js';

export interface RewardModelOptions extends JobOptions {
  arms: number;
  positions?: number;
  /**
   * 'logistic' (binary rewards; the default with contexts), 'forest' (a regression forest: any reward),
   * or 'mean' (each arm's and position's smoothed mean: the default without contexts).
   */
  model?: 'logistic' | 'forest' | 'mean';
  /** Cross-fitting folds (default 2; 1 fits and predicts on all rows). */
  folds?: number;
  /** forest: trees (default 50) and depth (default 8). */
  trees?: number;
  maxDepth?: number;
  seed?: number;
  threads?: number;
}

/** Arms with fewer training rows than this are predicted by their smoothed mean. */
const MIN_ROWS = 30;
/** Pseudo-rows at the overall mean that smooth a mean. */
const PRIOR = 20;

/**
 * Expected reward per logged row, arm and position (rows x arms x positions, row-major): the
 * `rewardModel` offPolicyValue's dm, dr and switch-dr take.
 */
export async function fitRewardModel(logs: BanditLogs, options: RewardModelOptions): Promise<Float64Array> {
  const arms = intOption(options?.arms, 'arms', 1, 1_000_000, 0);
  const positions = intOption(options.positions, 'positions', 1, 1000, 1);
  const c = checkLogs(logs, arms, positions);
  const binary = Array.from({ length: c.n }, (_, i) => logs.rewards[i]).every((r) => r === 0 || r === 1);
  const kind = oneOf(options.model, 'model', ['logistic', 'forest', 'mean'], c.contexts ? (binary ? 'logistic' : 'forest') : 'mean');
  if (kind !== 'mean' && !c.contexts) throw badInput(`a ${kind} reward model needs the logs' contexts`);
  if (kind === 'logistic' && !binary) throw badInput('a logistic reward model needs rewards of 0 or 1: use model: "forest"');
  const folds = intOption(options.folds, 'folds', 1, 100, 2);
  const seed = intOption(options.seed, 'seed', 0, 0xffffffff, 42);
  const fold = new Int32Array(c.n);
  if (folds > 1) {
    const order = new Random(seed).shuffle(Int32Array.from({ length: c.n }, (_, i) => i));
    order.forEach((row, j) => (fold[row] = j % folds));
  }
  const out = new Float64Array(c.n * arms * positions);
  const dims = c.dims + (positions > 1 ? positions : 0);
  for (let f = 0; f < folds; f++) {
    const train = (i: number) => folds === 1 || fold[i] !== f;
    const target = Array.from({ length: c.n }, (_, i) => i).filter((i) => folds === 1 || fold[i] === f);
    // Smoothed means per arm and position: the 'mean' model, and the fallback of arms with few rows.
    const sum = new Float64Array(arms * positions), count = new Float64Array(arms * positions);
    let total = 0, rows = 0;
    for (let i = 0; i < c.n; i++) {
      if (!train(i)) continue;
      const cell = logs.actions[i] * positions + c.position(i);
      sum[cell] += logs.rewards[i];
      count[cell]++;
      total += logs.rewards[i];
      rows++;
    }
    const overall = rows > 0 ? total / rows : 0;
    const mean = Float64Array.from(sum, (s, cell) => (s + PRIOR * overall) / (count[cell] + PRIOR));
    for (const i of target) for (let cell = 0; cell < arms * positions; cell++) out[i * arms * positions + cell] = mean[cell];
    if (kind === 'mean') continue;
    for (let a = 0; a < arms; a++) {
      const mine: number[] = [];
      for (let i = 0; i < c.n; i++) if (train(i) && logs.actions[i] === a) mine.push(i);
      const y = mine.map((i) => logs.rewards[i]);
      if (mine.length < MIN_ROWS || y.every((v) => v === y[0])) continue;
      const model = kind === 'logistic' ? new LogisticRegression({ l2: 1e-3, threads: options.threads }) : new RandomForest({ task: 'regression', trees: options.trees ?? 50, maxDepth: options.maxDepth ?? 8, minSamplesLeaf: 20, seed, threads: options.threads });
      const x = features(c, mine, dims, positions, (i) => c.position(i));
      if (model instanceof LogisticRegression) await model.fit(x, y, { signal: options.signal });
      else await model.fit(x, y, { signal: options.signal });
      for (let k = 0; k < positions; k++) {
        const xk = features(c, target, dims, positions, () => k);
        const p = model instanceof LogisticRegression ? model.predictProba(xk) : await model.predict(xk, { signal: options.signal });
        target.forEach((i, j) => (out[(i * arms + a) * positions + k] = p[j]));
      }
    }
    options.onProgress?.((f + 1) / folds);
  }
  if (out.some((v) => !Number.isFinite(v))) throw new AffinityError('the reward model predicted a non-finite value', ErrorCode.Internal);
  return out;
}

/** The rows' contexts, with a one-hot of their position (from `positionOf`) when there are several. */
function features(c: ReturnType<typeof checkLogs>, rows: number[], dims: number, positions: number, positionOf: (row: number) => number): Matrix {
  const values = new Float32Array(rows.length * dims);
  rows.forEach((i, j) => {
    for (let d = 0; d < c.dims; d++) values[j * dims + d] = c.contexts![i * c.dims + d];
    if (positions > 1) values[j * dims + c.dims + positionOf(i)] = 1;
  });
  return { values, rows: rows.length, dims };
}
