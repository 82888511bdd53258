// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the closed-form linear
// autoencoder B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, diagonal zero. A user's scores are their row of
// X times B, the same two-hop scan as ItemKNN with B's rows as the neighbour lists.
import { totalmem } from 'node:os';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { native, type NativeKnnModel } from '../core/native.js';
import { intOption, numberOption } from '../core/options.js';
import type { Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { candidateTest, historyIndices, interactionSizes, kOption, maskOf, trainingMetadata, type Explanation, type History, type Neighbor, type NeighborOptions, type Recommendation, type RecommendOptions } from './contract.js';
import { csrOf, NeighbourhoodModel, neighbourRecommendFor } from './knn.js';
import { SimilarityMatrix } from './similarity.js';

export interface EaseOptions {
  /** The L2 penalty λ on B (default 250; MovieLens-sized data likes 100–1000, larger for denser data). */
  lambda?: number;
  /**
   * Keep the `keep` largest weights (by magnitude) of each item's row of B: a sparse approximation that
   * scores faster and stores n·keep weights instead of n². 0 (default) keeps all: the exact model.
   */
  keep?: number;
  /** The most bytes the fit may hold (default 40% of this machine's memory): above it, fit throws ERR_AFFINITY_TOO_LARGE. */
  memoryBudget?: number;
  threads?: number;
}

interface ResolvedEaseOptions {
  lambda: number;
  keep: number;
  memoryBudget?: number;
  threads: number;
}

export function resolveEaseOptions(o: EaseOptions = {}): ResolvedEaseOptions {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  const lambda = numberOption(o.lambda, 'lambda', 250, 0);
  if (!(lambda > 0)) throw badInput('lambda must be > 0');
  const budget = o.memoryBudget === undefined ? undefined : numberOption(o.memoryBudget, 'memoryBudget', 0, 1);
  return {
    lambda,
    keep: intOption(o.keep, 'keep', 0, 0x7ffffffe, 0),
    ...(budget === undefined ? {} : { memoryBudget: budget }),
    threads: intOption(o.threads, 'threads', 0, 256, 0),
  };
}

/** How long each part of the last fit took, and the inversion's rate. */
export interface EaseTimings {
  gramSeconds: number;
  inverseSeconds: number;
  /** The inversion's n³ flops over its time, in GFLOP/s. */
  inverseGflops: number;
}

export class EASE extends NeighbourhoodModel<ResolvedEaseOptions> {
  static readonly kind = 'ease';
  readonly kind = EASE.kind;
  /** Timings of the last fit (absent on a model read from a file). */
  timings?: EaseTimings;

  constructor(options: EaseOptions = {}) {
    super('items', resolveEaseOptions(options), () => {});
  }

  protected twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel {
    return new native.KnnModel(data.csr, csrOf(sim), data.csr);
  }

  /** Solves for B on native threads (progress, signal). A cancelled or failed fit keeps the previous model. */
  override async fit(data: Interactions, options: JobOptions = {}): Promise<this> {
    if (!(data instanceof Interactions)) throw badInput('fit needs an Interactions');
    const { lambda, keep, threads } = this.options;
    const budget = this.options.memoryBudget ?? Math.floor(totalmem() * 0.4);
    const bytes = native.easeFitBytes(data.itemCount, keep);
    if (bytes > budget)
      throw new AffinityError(
        `EASE on ${data.itemCount} items needs ${bytes} bytes (the ${data.itemCount}² Gram matrix, its inversion and the weights), above the memory budget of ${budget} bytes: ` +
          'raise memoryBudget, set keep to store fewer weights, drop rare items, or use ALS',
        ErrorCode.TooLarge,
      );
    const byItem = await data.toCSC();
    const r = await runJob(options, (cancel, progress) => native.easeFit(data.csr, byItem, lambda, keep, threads, cancel, progress));
    this.install(data, new SimilarityMatrix(data.items, r.weights.indptr, r.weights.indices, r.weights.data));
    this.timings = { gramSeconds: r.gramSeconds, inverseSeconds: r.inverseSeconds, inverseGflops: r.inverseSeconds > 0 ? r.inverseFlops / r.inverseSeconds / 1e9 : 0 };
    this.metadata = trainingMetadata({ ...interactionSizes(data), weights: r.weights.indices.length }, this.options);
    return this;
  }

  /** Recommendations from a history the model was not trained on: the history's row times B. */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const { data, sim } = this.state();
    return neighbourRecommendFor(data.items, sim, history, options, () => true);
  }

  async recommendForAsync(history: History, options: RecommendOptions = {}): Promise<Recommendation[]> {
    return this.recommendFor(history, options);
  }

  /** The items with the largest weights B[item, i]: what the item contributes most to. */
  similarItems(item: Id, options: NeighborOptions = {}): Neighbor[] {
    const { data, sim } = this.state();
    const row = data.items.indexOf(item);
    const allowed = candidateTest(maskOf(data.items, options.filter));
    const ranked: [number, number][] = [];
    for (let p = sim.indptr[row]; p < sim.indptr[row + 1]; p++) if (allowed(sim.indices[p])) ranked.push([sim.indices[p], sim.data[p]]);
    ranked.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    return ranked.slice(0, kOption(options.k)).map(([i, score]) => ({ id: data.items.ids[i], score }));
  }

  async similarItemsAsync(item: Id, options: NeighborOptions = {}): Promise<Neighbor[]> {
    return this.similarItems(item, options);
  }

  /** The exact contribution x_j · B[j, item] of each of the user's past items to the score of `item`. */
  explain(user: Id, item: Id, options: { k?: number } = {}): Explanation {
    const history = this.state().data.itemsOf(user);
    return this.explainFor({ items: history.map((h) => h.item), values: history.map((h) => h.value) }, item, options);
  }

  /** explain() for a visitor's history. */
  explainFor(history: History, item: Id, options: { k?: number } = {}): Explanation {
    const { data, sim } = this.state();
    const target = data.items.indexOf(item);
    const h = historyIndices(data.items, history);
    const parts = new Map<number, number>();
    for (let n = 0; n < h.items.length; n++) {
      const j = h.items[n];
      for (let p = sim.indptr[j]; p < sim.indptr[j + 1]; p++)
        if (sim.indices[p] === target) parts.set(j, (parts.get(j) ?? 0) + h.values[n] * sim.data[p]);
    }
    const ranked = [...parts].filter(([, c]) => c !== 0).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0] - b[0]);
    const score = ranked.reduce((s, [, c]) => s + c, 0);
    return {
      item,
      score,
      contributions: ranked.slice(0, kOption(options.k)).map(([j, c]) => ({ item: data.items.ids[j], contribution: c, share: score === 0 ? 0 : c / score })),
    };
  }
}
