// ItemKNN and UserKNN: neighbourhood recommenders on top of similarity().
import { native, type NativeCsr, type NativeKnnModel } from '../bindings/native.js';
import { AffinityError, ErrorCode, badInput } from './errors.js';
import { checkId, type Id, type IdMap } from './ids.js';
import type { Interactions } from './interactions.js';
import { intOption, runJob, type JobOptions } from './jobs.js';
import { resolveSimilarityOptions, similarity, SimilarityMatrix, type Neighbor, type SimilarityOptions } from './similarity.js';

export interface KnnOptions extends Omit<SimilarityOptions, 'axis' | 'dense' | 'signal' | 'onProgress'> {}

export interface RecommendOptions {
  /** How many items (default 10). Larger than the catalogue is fine: you get every candidate. */
  k?: number;
  /** Leave out items the user already interacted with (default true). */
  filterSeen?: boolean;
  /** Never return these items (unknown ids are ignored). */
  exclude?: Id[];
  /** Only return these items (unknown ids are ignored). */
  include?: Id[];
}

export interface Recommendation {
  item: Id;
  score: number;
}

export interface BatchOptions extends JobOptions {
  k?: number;
  filterSeen?: boolean;
  exclude?: Id[];
  include?: Id[];
  threads?: number;
}

/** k recommendations per user, row-major. `items` holds item indices (-1 where a user has fewer than k). */
export class BatchRecommendations {
  constructor(
    readonly k: number,
    readonly users: readonly Id[],
    readonly items: Int32Array,
    readonly scores: Float32Array,
    private readonly itemIds: IdMap,
  ) {}
  /** The recommendations of the row-th user of the batch, with ids. */
  get(row: number): Recommendation[] {
    const out: Recommendation[] = [];
    for (let r = 0; r < this.k; r++) {
      const item = this.items[row * this.k + r];
      if (item < 0) break;
      out.push({ item: this.itemIds.ids[item], score: this.scores[row * this.k + r] });
    }
    return out;
  }
}

const MAX_K = 0x7ffffffe;

abstract class NeighbourhoodModel {
  protected data?: Interactions;
  protected model?: NativeKnnModel;
  protected sim?: SimilarityMatrix;
  protected readonly options: KnnOptions;

  constructor(
    private readonly axis: 'items' | 'users',
    options: KnnOptions,
  ) {
    resolveSimilarityOptions({ ...options, axis }); // fail fast on bad options
    this.options = { ...options };
  }

  protected abstract twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel;

  /** Computes the neighbourhoods. Runs on native threads; supports onProgress and signal. */
  async fit(data: Interactions, options: JobOptions = {}): Promise<this> {
    const sim = await similarity(data, { ...this.options, axis: this.axis, dense: false, ...pickJob(options) });
    if (!(sim instanceof SimilarityMatrix)) throw new AffinityError('expected a top-K similarity', ErrorCode.Internal);
    // Installed together, after success: a cancelled or failed fit leaves the previous model in place.
    return this.install(data, sim);
  }

  get fitted(): boolean {
    return this.model !== undefined;
  }

  /** @internal What a model file stores. */
  parts(): { data: Interactions; sim: SimilarityMatrix; options: KnnOptions } {
    const { data, sim } = this.state();
    return { data, sim: sim, options: this.options };
  }

  /** @internal Installs verified parts (model files). */
  protected install(data: Interactions, sim: SimilarityMatrix): this {
    this.data = data;
    this.sim = sim;
    this.model = this.twoHop(data, sim);
    return this;
  }

  /** Writes the model to a file (atomically); `loadModel(path)` reads it back. */
  async save(path: string): Promise<void> {
    const { saveModel } = await import('./modelfile.js');
    await saveModel(this as unknown as ItemKNN, path);
  }

  protected state(): { data: Interactions; model: NativeKnnModel; sim: SimilarityMatrix } {
    if (!this.data || !this.model || !this.sim) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    return { data: this.data, model: this.model, sim: this.sim };
  }

  /** The similarity matrix the model uses. */
  get similarity(): SimilarityMatrix {
    return this.state().sim;
  }

  /** Top-k items for a known user, best first. Synchronous: microseconds per call. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const { data, model } = this.state();
    checkId(user, 'user');
    return twoHopRecommend(model, data.users.indexOf(user), data.items, options);
  }

  /** Top-k items for many users on native threads. */
  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data, model } = this.state();
    if (!Array.isArray(users)) throw badInput('users must be an array of ids');
    const indices = Int32Array.from(users, (u) => {
      checkId(u, 'users');
      return data.users.indexOf(u);
    });
    const k = Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K, data.itemCount);
    const filterSeen = boolOption(options.filterSeen, 'filterSeen', true);
    const exclude = data.items.knownIndices(options.exclude, 'exclude');
    const include = data.items.knownIndices(options.include, 'include');
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    if (include !== null && include.length === 0)
      return new BatchRecommendations(0, users, new Int32Array(0), new Float32Array(0), data.items);
    const r = await runJob(options, (cancel, progress) =>
      model.recommendBatch(indices, k, filterSeen, exclude, include, threads, cancel, progress),
    );
    return new BatchRecommendations(k, users, r.items, r.scores, data.items);
  }

  /** The model's score for each of the given items (0 where no neighbour links them). Unknown items throw. */
  score(user: Id, items: Id[]): number[] {
    const { data, model } = this.state();
    checkId(user, 'user');
    if (!Array.isArray(items)) throw badInput('items must be an array of ids');
    const u = data.users.indexOf(user);
    const idx = Int32Array.from(items, (i) => {
      checkId(i, 'items');
      return data.items.indexOf(i);
    });
    return Array.from(model.score(u, idx));
  }
}

/** @internal Top-k of one row of a two-hop model (KNN, content), with the options checked and ids mapped back. */
export function twoHopRecommend(model: NativeKnnModel, row: number, items: IdMap, options: RecommendOptions): Recommendation[] {
  const k = Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K);
  const filterSeen = boolOption(options.filterSeen, 'filterSeen', true);
  const exclude = items.knownIndices(options.exclude, 'exclude');
  const include = items.knownIndices(options.include, 'include');
  if (include !== null && include.length === 0) return [];
  const r = model.recommend(row, k, filterSeen, exclude, include);
  return Array.from(r.items, (item, i) => ({ item: items.ids[item], score: r.scores[i] }));
}

function pickJob(o: JobOptions): JobOptions {
  return { signal: o.signal, onProgress: o.onProgress };
}

function boolOption(v: unknown, name: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw badInput(`${name} must be a boolean`);
  return v;
}

function csrOf(sim: SimilarityMatrix): NativeCsr {
  return { rows: sim.size, cols: sim.size, indptr: sim.indptr, indices: sim.indices, data: sim.data };
}

/**
 * Item-based collaborative filtering: score(u, i) = Σ_{j ∈ items(u)} r_uj · sim(j, i), where sim(j, ·) holds the
 * k nearest neighbours of j.
 */
export class ItemKNN extends NeighbourhoodModel {
  constructor(options: KnnOptions = {}) {
    super('items', options);
  }
  /** @internal */
  static restore(options: KnnOptions, data: Interactions, sim: SimilarityMatrix): ItemKNN {
    return new ItemKNN(options).install(data, sim);
  }
  protected twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel {
    return new native.KnnModel(data.csr, csrOf(sim), data.csr);
  }
  /** The most similar items to an item, best first. */
  similarItems(item: Id, options: { k?: number } = {}): Neighbor[] {
    const { sim } = this.state();
    checkId(item, 'item');
    return sim.neighbors(item, intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10));
  }
}

/** User-based collaborative filtering: score(u, i) = Σ_{v ∈ kNN(u)} sim(u, v) · r_vi. */
export class UserKNN extends NeighbourhoodModel {
  constructor(options: KnnOptions = {}) {
    super('users', options);
  }
  /** @internal */
  static restore(options: KnnOptions, data: Interactions, sim: SimilarityMatrix): UserKNN {
    return new UserKNN(options).install(data, sim);
  }
  protected twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel {
    return new native.KnnModel(csrOf(sim), data.csr, data.csr);
  }
  /** The most similar users to a user, best first. */
  similarUsers(user: Id, options: { k?: number } = {}): Neighbor[] {
    const { sim } = this.state();
    checkId(user, 'user');
    return sim.neighbors(user, intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10));
  }
}
