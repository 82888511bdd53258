// Offline evaluation: train/test splits and ranking, classification and rating metrics.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';
import type { Recommender } from '../models/contract.js';

export interface SplitOptions {
  /**
   * random: per user, a seeded random testFraction of their interactions (at least one kept for training);
   * leave-last-out: per user, the latest interaction (needs timestamps);
   * time: every interaction after the (1 - testFraction) quantile of time (needs timestamps).
   * Users with a single interaction stay in training (random, leave-last-out).
   */
  strategy?: 'random' | 'leave-last-out' | 'time';
  testFraction?: number;
  seed?: number;
}

/** Splits interactions into train and test sets that share the same user and item ids (and indices). */
export async function split(data: Interactions, options: SplitOptions = {}): Promise<{ train: Interactions; test: Interactions }> {
  const strategy = oneOf(options.strategy, 'strategy', ['random', 'leave-last-out', 'time'] as const, 'random');
  const fraction = numberOption(options.testFraction, 'testFraction', 0.2, 0);
  if (fraction >= 1) throw badInput('testFraction must be in [0, 1)');
  const rng = new Random(intOption(options.seed, 'seed', 0, 0xffffffff, 42));
  const c = data.csr;
  const ts = c.timestamps;
  if (strategy !== 'random' && !ts) throw badInput(`split strategy '${strategy}' needs timestamps`);
  const inTest = new Uint8Array(c.indices.length);
  if (strategy === 'time') {
    const sorted = Float64Array.from(ts!).sort();
    const cutoff = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * (1 - fraction)))];
    for (let p = 0; p < inTest.length; p++) inTest[p] = ts![p] > cutoff ? 1 : 0;
  } else {
    for (let u = 0; u < c.rows; u++) {
      const begin = c.indptr[u];
      const n = c.indptr[u + 1] - begin;
      if (n < 2) continue;
      if (strategy === 'leave-last-out') {
        let last = begin;
        for (let p = begin + 1; p < begin + n; p++) if (ts![p] >= ts![last]) last = p;
        inTest[last] = 1;
      } else {
        const take = Math.min(n - 1, Math.round(n * fraction));
        const positions = rng.shuffle(Int32Array.from({ length: n }, (_, i) => begin + i));
        for (let t = 0; t < take; t++) inTest[positions[t]] = 1;
      }
    }
  }
  return { train: await partOf(data, inTest, 0), test: await partOf(data, inTest, 1) };
}

/**
 * k-fold cross-validation: each user's interactions are shuffled (seeded) and dealt round-robin into
 * `folds` parts; fold f tests on part f and trains on the others. Users with a single interaction stay in
 * training in every fold. Train and test share the id maps, as split() gives them.
 */
export async function kFold(data: Interactions, options: { folds?: number; seed?: number } = {}): Promise<{ train: Interactions; test: Interactions }[]> {
  const folds = intOption(options.folds, 'folds', 2, 100, 5);
  const rng = new Random(intOption(options.seed, 'seed', 0, 0xffffffff, 42));
  const c = data.csr;
  const foldOf = new Uint8Array(c.indices.length).fill(255);
  for (let u = 0; u < c.rows; u++) {
    const begin = c.indptr[u];
    const n = c.indptr[u + 1] - begin;
    if (n < 2) continue;
    const positions = rng.shuffle(Int32Array.from({ length: n }, (_, i) => begin + i));
    const offset = rng.int(folds); // users with few interactions do not all test in the first folds
    positions.forEach((p, i) => (foldOf[p] = (i + offset) % folds));
  }
  const out: { train: Interactions; test: Interactions }[] = [];
  for (let f = 0; f < folds; f++) {
    const inTest = foldOf.map((x) => (x === f ? 1 : 0));
    out.push({ train: await partOf(data, inTest, 0), test: await partOf(data, inTest, 1) });
  }
  return out;
}

/** The interactions whose mask entry is `wanted`, with the same id maps. */
async function partOf(data: Interactions, inTest: Uint8Array, wanted: number): Promise<Interactions> {
  const c = data.csr;
  const ts = c.timestamps;
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < c.rows; u++)
    for (let p = c.indptr[u]; p < c.indptr[u + 1]; p++)
      if (inTest[p] === wanted) {
        rows.push(u);
        cols.push(c.indices[p]);
        vals.push(c.data[p]);
        if (ts) times.push(ts[p]);
      }
  return Interactions.fromIndices({
    rows: Int32Array.from(rows),
    cols: Int32Array.from(cols),
    values: Float32Array.from(vals),
    timestamps: ts ? Float64Array.from(times) : undefined,
    shape: [c.rows, c.cols],
    userIds: data.users.ids,
    itemIds: data.items.ids,
  });
}

export type Metric = 'precision' | 'recall' | 'ndcg' | 'map' | 'mrr' | 'hitRate' | 'auc' | 'coverage' | 'popularity' | 'rmse' | 'mae';
export const ALL_METRICS: readonly Metric[] = ['precision', 'recall', 'ndcg', 'map', 'mrr', 'hitRate', 'auc', 'coverage', 'popularity', 'rmse', 'mae'];

/** What evaluate() needs of a model: every recommender in this package has it. */
export type Evaluable = Pick<Recommender, 'recommendBatch' | 'predictsRatings'> & {
  /** Scores of items the model knows (evaluation asks for no others). */
  score(user: Id, items: Id[]): readonly number[];
};

export interface EvaluateOptions {
  k?: number;
  metrics?: Metric[];
}

export interface Evaluation {
  /** Test users evaluated (known to the model, at least one test item). */
  users: number;
  k: number;
  precision?: number;
  recall?: number;
  ndcg?: number;
  map?: number;
  mrr?: number;
  hitRate?: number;
  auc?: number;
  coverage?: number;
  /** Share of recommendation slots taken by the 10% most popular training items... */
  popularity?: number;
  /** ...and their share of training interactions, for comparison. */
  popularityBaseline?: number;
  rmse?: number;
  mae?: number;
}

/**
 * Evaluates a model trained on `train` against `test` (same id maps, as split() makes them). Ranking metrics
 * average over test users; each user's recommendations exclude their training items.
 *   precision@K = hits / K;  recall@K = hits / |T|;  nDCG@K = Σ_hits 1/log2(rank+1) / Σ_{r=1..min(|T|,K)} 1/log2(r+1)
 *   MAP@K = (1 / min(|T|, K)) Σ_hits precision@rank;  MRR = 1 / rank of the first hit (0 if none in K);
 *   hit rate = share of users with a hit;  AUC = P(score(test item) > score(unseen non-test item)), ties ½;
 *   coverage = distinct recommended items / catalogue;  RMSE, MAE over test ratings (explicit ALS only).
 */
export async function evaluate(model: Evaluable, train: Interactions, test: Interactions, options: EvaluateOptions = {}): Promise<Evaluation> {
  const k = intOption(options.k, 'k', 1, 100_000, 10);
  const metrics = new Set(options.metrics ?? ALL_METRICS);
  for (const m of metrics) if (!ALL_METRICS.includes(m)) throw badInput(`unknown metric '${m}'`);
  if (train.userCount !== test.userCount || train.itemCount !== test.itemCount)
    throw new AffinityError('train and test must share their id maps (use split())', ErrorCode.DimMismatch);
  const tc = test.csr;
  const users: number[] = [];
  for (let u = 0; u < tc.rows; u++) if (tc.indptr[u + 1] > tc.indptr[u]) users.push(u);
  const ids = users.map((u) => test.users.ids[u]);
  const out: Evaluation = { users: users.length, k };
  // Figures over no users would be zeros that look like a model that finds nothing.
  if (users.length === 0) throw badInput(`the test set has no interactions (${test.userCount} users, ${test.itemCount} items): nothing to evaluate; check the split (testFraction, strategy) or the data`);
  const recs = await model.recommendBatch(ids, { k, filterSeen: true });
  if (recs.unknown.length > 0) throw new AffinityError(`the model does not know ${recs.unknown.length} test users (${JSON.stringify(recs.unknown[0])}, ...): train it on the training split`, ErrorCode.DimMismatch);
  const kk = recs.k;
  let precision = 0, recall = 0, ndcg = 0, map = 0, mrr = 0, hitRate = 0;
  const recommended = new Set<number>();
  users.forEach((u, row) => {
    const truth = new Set(tc.indices.subarray(tc.indptr[u], tc.indptr[u + 1]));
    let hits = 0, dcg = 0, ap = 0, first = 0;
    for (let r = 0; r < kk; r++) {
      const item = recs.items[row * kk + r];
      if (item < 0) break;
      recommended.add(item);
      if (!truth.has(item)) continue;
      hits++;
      dcg += 1 / Math.log2(r + 2);
      ap += hits / (r + 1);
      if (first === 0) first = r + 1;
    }
    let idcg = 0;
    for (let r = 0; r < Math.min(truth.size, k); r++) idcg += 1 / Math.log2(r + 2);
    precision += hits / k;
    recall += hits / truth.size;
    ndcg += dcg / idcg;
    map += ap / Math.min(truth.size, k);
    mrr += first > 0 ? 1 / first : 0;
    hitRate += hits > 0 ? 1 : 0;
  });
  const n = users.length;
  const put = (m: Metric, v: number) => metrics.has(m) && (out[m as keyof Evaluation] = v as never);
  put('precision', precision / n);
  put('recall', recall / n);
  put('ndcg', ndcg / n);
  put('map', map / n);
  put('mrr', mrr / n);
  put('hitRate', hitRate / n);
  put('coverage', recommended.size / Math.max(1, train.itemCount));
  if (metrics.has('popularity')) {
    const top = new Set(train.itemsByPopularity().subarray(0, Math.max(1, Math.ceil(train.itemCount / 10))));
    let slots = 0, popular = 0;
    for (const i of recs.items) if (i >= 0) (slots++, top.has(i) && popular++);
    let inTop = 0;
    for (const i of train.csr.indices) if (top.has(i)) inTop++;
    out.popularity = slots > 0 ? popular / slots : 0;
    out.popularityBaseline = train.size > 0 ? inTop / train.size : 0;
  }
  if (metrics.has('auc')) {
    let auc = 0;
    const all = train.items.ids;
    for (const u of users) {
      const seen = new Set(train.csr.indices.subarray(train.csr.indptr[u], train.csr.indptr[u + 1]));
      const truth = new Set(tc.indices.subarray(tc.indptr[u], tc.indptr[u + 1]));
      const candidates: number[] = [];
      for (let i = 0; i < all.length; i++) if (!seen.has(i) || truth.has(i)) candidates.push(i);
      const scores = model.score(test.users.ids[u], candidates.map((i) => all[i]));
      auc += aucOf(candidates.map((i, j) => ({ score: scores[j], positive: truth.has(i) })));
    }
    out.auc = auc / n;
  }
  if ((metrics.has('rmse') || metrics.has('mae')) && model.predictsRatings === true) {
    let se = 0, ae = 0, count = 0;
    for (const u of users) {
      const items = Array.from(tc.indices.subarray(tc.indptr[u], tc.indptr[u + 1]), (i) => test.items.ids[i]);
      const pred = model.score(test.users.ids[u], items);
      pred.forEach((p, j) => {
        const e = p - tc.data[tc.indptr[u] + j];
        se += e * e;
        ae += Math.abs(e);
        count++;
      });
    }
    put('rmse', Math.sqrt(se / count));
    put('mae', ae / count);
  }
  return out;
}

/** AUC of scored examples: the probability a positive outranks a negative, ties counted ½. */
export function aucOf(examples: { score: number; positive: boolean }[]): number {
  const sorted = [...examples].sort((a, b) => a.score - b.score);
  let positives = 0, negatives = 0, rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1..j share their average
    for (let t = i; t < j; t++) if (sorted[t].positive) (positives++, (rankSum += avgRank));
    negatives += j - i;
    i = j;
  }
  negatives -= positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
