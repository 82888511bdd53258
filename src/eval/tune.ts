// Hyperparameter search on the user's own data: random search with successive halving, scored on a seeded
// validation split carved from the data it is given (the caller's training data: it never sees a test set).
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { JobOptions } from '../core/jobs.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';
import { Interactions } from '../data/interactions.js';
import { ALS } from '../models/als.js';
import { BPR } from '../models/bpr.js';
import type { InteractionModel } from '../models/contract.js';
import { EASE } from '../models/ease.js';
import { ItemKNN } from '../models/knn.js';
import { evaluate, split, type Metric } from './evaluate.js';

export type TunableModel = 'als' | 'ease' | 'itemknn' | 'bpr';
export const TUNABLE_MODELS: readonly TunableModel[] = ['als', 'ease', 'itemknn', 'bpr'];

/** One parameter's range: a list to pick from, or a number range (log-uniform with `log`, whole numbers with `integer`). */
export type ParamSpace = { values: readonly (string | number | boolean)[] } | { min: number; max: number; log?: boolean; integer?: boolean };
export type SearchSpace = Record<string, ParamSpace>;
export type Params = Record<string, string | number | boolean>;

/** The default spaces: the settings that move nDCG most on the public data sets. */
export const DEFAULT_SPACES: Readonly<Record<TunableModel, SearchSpace>> = {
  als: {
    factors: { values: [16, 32, 64, 128, 256] },
    regularization: { min: 1e-3, max: 10, log: true },
    alpha: { min: 0.05, max: 50, log: true },
    iterations: { values: [8, 15, 25] },
  },
  ease: { lambda: { min: 1, max: 5000, log: true } },
  itemknn: {
    k: { min: 5, max: 500, log: true, integer: true },
    shrink: { min: 0, max: 100 },
    measure: { values: ['cosine', 'jaccard', 'dot', 'lift'] },
    weighting: { values: ['none', 'tfidf', 'bm25'] },
  },
  bpr: {
    factors: { values: [16, 32, 64, 128] },
    learningRate: { min: 0.01, max: 0.3, log: true },
    regularization: { min: 1e-4, max: 0.1, log: true },
    epochs: { values: [30, 60, 120] },
  },
};

/** The parameter each kind trains longer with: successive halving gives early rungs a fraction of it. */
const RESOURCE: Partial<Record<TunableModel, string>> = { als: 'iterations', bpr: 'epochs' };
const MAX_RUNGS = 3;

export interface Trial {
  /** Which sampled setting (0-based); a setting promoted through rungs appears once per rung. */
  id: number;
  params: Params;
  /** The halving rung (0 first); the last rung trains with the full resource. */
  rung: number;
  /** The metric on the validation split. */
  metric: number;
  fitSeconds: number;
}

export interface TuneOptions extends JobOptions {
  model: TunableModel;
  /** Parameters to search (default DEFAULT_SPACES[model]); others take the model's defaults, or `fixed`. */
  space?: SearchSpace;
  /** Parameters set for every trial (threads, seed...). */
  fixed?: Params;
  /** Settings sampled (default 30). */
  budget?: number;
  /** 'ndcg@10' (default), 'precision@k', 'recall@k', 'map@k', 'mrr@k', 'hitRate@k'. */
  metric?: string;
  /** How the validation split is carved from the data (default 20% of each user's interactions). */
  split?: { testFraction?: number };
  /** Seed of the sampling and the split (default 42). */
  seed?: number;
  /** Successive halving: keep the best 1/eta at each rung (default 3; 1 = plain random search). */
  eta?: number;
  /** Called after each trial, in order. */
  onTrial?: (trial: Trial) => void;
}

export interface TuneResult {
  trials: Trial[];
  /** The best setting at the full resource, and its validation metric. */
  best: { params: Params; metric: number };
  /** A model with the best setting, refit on all the data tune was given. */
  model: InteractionModel;
}

function parseMetric(spec: string): { metric: Metric; k: number } {
  const m = /^(precision|recall|ndcg|map|mrr|hitRate)@([1-9]\d*)$/.exec(spec);
  if (!m) throw badInput(`metric must look like 'ndcg@10' (precision, recall, ndcg, map, mrr or hitRate at k), got ${JSON.stringify(spec)}`);
  return { metric: m[1] as Metric, k: Number(m[2]) };
}

function checkSpace(space: unknown): SearchSpace {
  if (space === null || typeof space !== 'object' || Array.isArray(space)) throw badInput('space must be an object of parameter ranges');
  for (const [name, p] of Object.entries(space as Record<string, unknown>)) {
    const r = p as Partial<{ values: unknown; min: unknown; max: unknown; log: unknown }>;
    if (r && Array.isArray(r.values)) {
      if (r.values.length === 0) throw badInput(`space.${name}.values is empty`);
      continue;
    }
    if (!r || typeof r.min !== 'number' || typeof r.max !== 'number' || !Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max)
      throw badInput(`space.${name} must be { values: [...] } or { min, max } with min <= max`);
    if (r.log && !(r.min > 0)) throw badInput(`space.${name}: a log range needs min > 0`);
  }
  return space as SearchSpace;
}

function sample(space: SearchSpace, rng: Random): Params {
  const out: Params = {};
  for (const [name, p] of Object.entries(space)) {
    if ('values' in p) {
      out[name] = p.values[rng.int(p.values.length)];
      continue;
    }
    const u = rng.next();
    let v = p.log ? Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min))) : p.min + u * (p.max - p.min);
    if (p.integer) v = Math.min(p.max, Math.max(p.min, Math.round(v)));
    else v = Number(v.toPrecision(4));
    out[name] = v;
  }
  return out;
}

/** A sampled setting made valid: reweighting applies to ItemKNN's cosine, pearson and dot only. */
function coherent(kind: TunableModel, params: Params): Params {
  if (kind === 'itemknn' && (params.measure === 'jaccard' || params.measure === 'lift')) return { ...params, weighting: 'none' };
  return params;
}

/** A new, unfitted model of a kind with these parameters (its constructor checks them). */
export function modelOf(kind: TunableModel, params: Params): InteractionModel {
  switch (kind) {
    case 'als':
      return new ALS(params as never);
    case 'ease':
      return new EASE(params as never);
    case 'itemknn':
      return new ItemKNN(params as never);
    case 'bpr':
      return new BPR(params as never);
  }
}

/** The resource a kind trains with at its defaults, when a setting does not name it. */
function defaultResource(kind: TunableModel): number {
  return kind === 'als' ? new ALS().options.iterations : new BPR().bprOptions.epochs;
}

/**
 * Searches `options.space` for the setting that maximizes the metric on a validation split of `data`, then
 * refits that setting on all of `data`. Pass training data only: the test set stays out of every choice.
 */
export async function tune(data: Interactions, options: TuneOptions): Promise<TuneResult> {
  if (!(data instanceof Interactions)) throw badInput('tune needs an Interactions');
  if (options === null || typeof options !== 'object') throw badInput('options must be an object');
  const kind = oneOf(options.model, 'model', TUNABLE_MODELS, 'als');
  if (options.model === undefined) throw badInput(`model is required (${TUNABLE_MODELS.join(', ')})`);
  const space = checkSpace(options.space ?? DEFAULT_SPACES[kind]);
  const fixed = options.fixed ?? {};
  if (fixed === null || typeof fixed !== 'object' || Array.isArray(fixed)) throw badInput('fixed must be an object');
  const budget = intOption(options.budget, 'budget', 1, 10_000, 30);
  const { metric, k } = parseMetric(options.metric ?? 'ndcg@10');
  const seed = intOption(options.seed, 'seed', 0, 0xffffffff, 42);
  const eta = intOption(options.eta, 'eta', 1, 100, 3);
  const testFraction = numberOption(options.split?.testFraction, 'split.testFraction', 0.2, 0);
  if (!(testFraction > 0 && testFraction < 1)) throw badInput('split.testFraction must be in (0, 1)');
  if (options.onTrial !== undefined && typeof options.onTrial !== 'function') throw badInput('onTrial must be a function');
  const { signal, onProgress } = options;

  const rng = new Random(seed);
  const settings = Array.from({ length: budget }, () => coherent(kind, { ...sample(space, rng), ...fixed }));
  for (const s of settings) modelOf(kind, s); // every setting is checked before any work
  const { train, test: validation } = await split(data, { testFraction, seed });

  const resource = RESOURCE[kind];
  // At most three rungs: the first trains a 1/eta² share, below which (an epoch or two) rankings are noise.
  const rungs = resource && eta > 1 ? Math.min(MAX_RUNGS, Math.max(1, Math.floor(Math.log(budget) / Math.log(eta)) + 1)) : 1;
  const totalFits = Array.from({ length: rungs }, (_, r) => Math.max(1, Math.floor(budget / eta ** r))).reduce((a, b) => a + b, 0);
  const trials: Trial[] = [];
  let alive = settings.map((_, id) => id);
  let done = 0;
  for (let rung = 0; rung < rungs; rung++) {
    const scored: { id: number; metric: number }[] = [];
    for (const id of alive) {
      if (signal?.aborted) throw new AffinityError('tune was cancelled', ErrorCode.Cancelled, { cause: signal.reason });
      const params = { ...settings[id] };
      if (resource) {
        const full = typeof params[resource] === 'number' ? (params[resource] as number) : defaultResource(kind);
        params[resource] = Math.max(1, Math.round(full / eta ** (rungs - 1 - rung)));
      }
      const started = performance.now();
      const model = await modelOf(kind, params).fit(train, { signal });
      const fitSeconds = (performance.now() - started) / 1000;
      const value = (await evaluate(model, train, validation, { k, metrics: [metric] }))[metric] as number;
      const trial: Trial = { id, params, rung, metric: value, fitSeconds };
      trials.push(trial);
      scored.push({ id, metric: value });
      options.onTrial?.(trial);
      onProgress?.(++done / totalFits);
    }
    scored.sort((a, b) => b.metric - a.metric || a.id - b.id);
    alive = scored.slice(0, Math.max(1, Math.floor(alive.length / eta))).map((s) => s.id);
    if (rung === rungs - 1) alive = [scored[0].id];
  }
  const last = trials.filter((t) => t.rung === rungs - 1).sort((a, b) => b.metric - a.metric || a.id - b.id)[0];
  const bestParams = { ...settings[last.id] };
  const model = await modelOf(kind, bestParams).fit(data, { signal });
  return { trials, best: { params: bestParams, metric: last.metric }, model };
}
