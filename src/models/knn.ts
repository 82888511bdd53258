// ItemKNN and UserKNN: neighbourhood recommenders on top of similarity().
import { AffinityError, ErrorCode } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { native, type NativeCsr, type NativeKnnModel } from '../core/native.js';
import { intOption } from '../core/options.js';
import type { Id, IdMap } from '../data/ids.js';
import type { Interactions } from '../data/interactions.js';
import { csrArrays, type ModelFile, type ModelParts } from '../io/modelfile.js';
import {
  BatchRecommendations,
  candidateTest,
  historyIndices,
  interactionSizes,
  kOption,
  maskOf,
  notFitted,
  recommendFilter,
  trainingMetadata,
  splitIds,
  scoresFor,
  type Scores,
  type BatchOptions,
  type InteractionModel,
  type History,
  type Neighbor,
  type NeighborOptions,
  type Recommendation,
  type RecommendOptions,
  type TrainingMetadata,
} from './contract.js';
import {
  fromFile,
  interactionParts,
  interactionsFromFile,
  optionsOf,
  saveParts,
} from './parts.js';
import { resolveSimilarityOptions, similarity, SimilarityMatrix, type SimilarityOptions } from './similarity.js';

export interface KnnOptions extends Omit<SimilarityOptions, 'axis' | 'dense' | 'signal' | 'onProgress'> {}

/** @internal A model that scores through a neighbour matrix (a similarity, EASE's weights) and the training interactions. */
export abstract class NeighbourhoodModel<O extends object = KnnOptions> implements InteractionModel {
  abstract readonly kind: string;
  protected trained?: Interactions;
  protected model?: NativeKnnModel;
  protected sim?: SimilarityMatrix;
  protected readonly options: O;
  metadata?: TrainingMetadata;

  /** `check` rejects bad options up front (it throws), before any fit. */
  constructor(
    private readonly axis: 'items' | 'users',
    options: O,
    check: (options: O) => void,
  ) {
    check(options);
    this.options = { ...options };
  }

  protected abstract twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel;

  /** Computes the neighbourhoods. Runs on native threads; supports onProgress and signal. */
  async fit(data: Interactions, options: JobOptions = {}): Promise<this> {
    const sim = await similarity(data, { ...this.options, axis: this.axis, dense: false, ...pickJob(options) });
    if (!(sim instanceof SimilarityMatrix)) throw new AffinityError('expected a top-K similarity', ErrorCode.Internal);
    // Installed together, after success: a cancelled or failed fit leaves the previous model in place.
    this.install(data, sim);
    this.metadata = trainingMetadata({ ...interactionSizes(data), neighbours: sim.indices.length }, this.options);
    return this;
  }

  get fitted(): boolean {
    return this.model !== undefined;
  }

  get users(): IdMap {
    return this.state().data.users;
  }
  get items(): IdMap {
    return this.state().data.items;
  }
  /** The training interactions (the histories filterSeen uses). */
  get data(): Interactions {
    return this.state().data;
  }

  toParts(): ModelParts {
    const { data, sim } = this.state();
    const { header, arrays } = interactionParts(data);
    return { kind: this.kind, header: { ...header, options: { ...this.options } }, arrays: { ...arrays, ...csrArrays('similarity', sim) } };
  }

  /** Reads a model file of this kind: interactions, the similarity of its axis, options. */
  static async fromParts<T extends NeighbourhoodModel<object>>(this: new (options: never) => T, file: ModelFile): Promise<T> {
    const data = await interactionsFromFile(file);
    const model = fromFile(file, () => new this(optionsOf(file) as never));
    const ids = model.axis === 'items' ? data.items : data.users;
    const s = await file.csr('similarity', ids.size, ids.size);
    return fromFile(file, () => model.install(data, new SimilarityMatrix(ids, s.indptr, s.indices, s.data)));
  }

  /** @internal Installs verified parts (model files). */
  protected install(data: Interactions, sim: SimilarityMatrix): this {
    this.trained = data;
    this.sim = sim;
    this.model = this.twoHop(data, sim);
    return this;
  }

  /** Writes the model to a file (atomically); `loadModel(path)` reads it back. */
  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  protected state(): { data: Interactions; model: NativeKnnModel; sim: SimilarityMatrix } {
    if (!this.trained || !this.model || !this.sim) throw notFitted();
    return { data: this.trained, model: this.model, sim: this.sim };
  }

  /** The similarity matrix the model uses. */
  get similarity(): SimilarityMatrix {
    return this.state().sim;
  }

  /**
   * Erasure: a new model without these users, its neighbourhoods computed again from the remaining users
   * (every similarity a forgotten user contributed to is gone).
   */
  async withoutCustomers(customers: Id[], options: JobOptions = {}): Promise<this> {
    const { data } = this.state();
    const { data: rest } = data.withoutUsers(customers);
    if (rest === data) return this;
    const model = new (this.constructor as new (o: O) => this)(this.options);
    await model.fit(rest, options);
    if (this.metadata) model.metadata = { ...model.metadata!, input: this.metadata.input, quality: this.metadata.quality };
    return model;
  }

  /** Top-k items for a known user, best first. Synchronous: microseconds per call. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const { data, model } = this.state();
    return twoHopRecommend(model, data.users.indexOf(user), data.items, options);
  }

  /** Top-k items for many users on native threads. */
  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data, model } = this.state();
    const b = splitIds(data.users, users);
    const f = recommendFilter(data.items, options);
    const k = Math.min(f.k, data.itemCount);
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    if (f.empty) return new BatchRecommendations(0, b.known, new Int32Array(0), new Float32Array(0), data.items, b.unknown);
    const r = await runJob(options, (cancel, progress) => model.recommendBatch(b.indices, k, f.filterSeen, f.exclude, f.candidates, threads, cancel, progress));
    return new BatchRecommendations(k, b.known, r.items, r.scores, data.items, b.unknown);
  }

  /** The model's score for each of the given items (0 where no neighbour links them). Unknown items throw. */
  score(user: Id, items: Id[]): Scores {
    const { data, model } = this.state();
    const u = data.users.indexOf(user);
    return scoresFor(data.items, items, (idx) => model.score(u, idx));
  }
}

/** @internal Top-k of one row of a two-hop model (KNN, content), with the options checked and ids mapped back. */
export function twoHopRecommend(model: NativeKnnModel, row: number, items: IdMap, options: RecommendOptions): Recommendation[] {
  const f = recommendFilter(items, options);
  if (f.empty) return [];
  const r = model.recommend(row, f.k, f.filterSeen, f.exclude, f.candidates);
  return Array.from(r.items, (item, i) => ({ item: items.ids[item], score: r.scores[i] }));
}

function pickJob(o: JobOptions): JobOptions {
  return { signal: o.signal, onProgress: o.onProgress };
}

/** @internal The native CSR view of a similarity matrix. */
export function csrOf(sim: SimilarityMatrix): NativeCsr {
  return { rows: sim.size, cols: sim.size, indptr: sim.indptr, indices: sim.indices, data: sim.data };
}

/**
 * Item-based collaborative filtering: score(u, i) = Σ_{j ∈ items(u)} r_uj · sim(j, i), where sim(j, ·) holds the
 * k nearest neighbours of j.
 */
export class ItemKNN extends NeighbourhoodModel {
  static readonly kind = 'itemknn';
  readonly kind = ItemKNN.kind;
  constructor(options: KnnOptions = {}) {
    super('items', options, (o) => resolveSimilarityOptions({ ...o, axis: 'items' }));
  }
  protected twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel {
    return new native.KnnModel(data.csr, csrOf(sim), data.csr);
  }
  /**
   * Recommendations from a history the model was not trained on (a visitor, or a customer's training
   * items with their events since): Σ_j v_j · sim(j, i) over the history's items, as recommend() scores.
   * filterSeen leaves out the history's items.
   */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const { data, sim } = this.state();
    return neighbourRecommendFor(data.items, sim, history, options, (score) => score > 0);
  }
  async recommendForAsync(history: History, options: RecommendOptions = {}): Promise<Recommendation[]> {
    return this.recommendFor(history, options); // the history's neighbour lists: no catalogue scan
  }
  /** The most similar items to an item, best first. */
  similarItems(item: Id, options: NeighborOptions = {}): Neighbor[] {
    return this.state().sim.neighbors(item, kOption(options.k), candidateTest(maskOf(this.items, options.filter)));
  }
  async similarItemsAsync(item: Id, options: NeighborOptions = {}): Promise<Neighbor[]> {
    return this.similarItems(item, options); // a few neighbour lists: no scan to move off the event loop
  }
}

/**
 * @internal Σ_j v_j · S[j, i] over a history's items (what recommend() scores for a trained user), ranked
 * with the options' filters; `keep` says which scores may be recommended.
 */
export function neighbourRecommendFor(items: IdMap, sim: SimilarityMatrix, history: History, options: RecommendOptions, keep: (score: number) => boolean): Recommendation[] {
  const h = historyIndices(items, history);
  const f = recommendFilter(items, options);
  if (f.empty || f.k === 0) return [];
  const scores = new Map<number, number>();
  for (let n = 0; n < h.items.length; n++) {
    const j = h.items[n];
    for (let p = sim.indptr[j]; p < sim.indptr[j + 1]; p++) {
      const i = sim.indices[p];
      scores.set(i, (scores.get(i) ?? 0) + h.values[n] * sim.data[p]);
    }
  }
  const allowed = candidateTest(f.candidates);
  const blocked = new Set<number>(f.exclude ?? []);
  if (f.filterSeen) for (const j of h.items) blocked.add(j);
  const ranked: [number, number][] = [];
  for (const [i, score] of scores) if (keep(score) && !blocked.has(i) && allowed(i)) ranked.push([i, Math.fround(score)]);
  ranked.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return ranked.slice(0, f.k).map(([i, score]) => ({ item: items.ids[i], score }));
}

/** User-based collaborative filtering: score(u, i) = Σ_{v ∈ kNN(u)} sim(u, v) · r_vi. */
export class UserKNN extends NeighbourhoodModel {
  static readonly kind = 'userknn';
  readonly kind = UserKNN.kind;
  constructor(options: KnnOptions = {}) {
    super('users', options, (o) => resolveSimilarityOptions({ ...o, axis: 'users' }));
  }
  protected twoHop(data: Interactions, sim: SimilarityMatrix): NativeKnnModel {
    return new native.KnnModel(csrOf(sim), data.csr, data.csr);
  }
  /** The most similar users to a user, best first. */
  similarUsers(user: Id, options: { k?: number } = {}): Neighbor[] {
    return this.state().sim.neighbors(user, kOption(options.k));
  }
  async similarUsersAsync(user: Id, options: { k?: number } = {}): Promise<Neighbor[]> {
    return this.similarUsers(user, options);
  }
}

