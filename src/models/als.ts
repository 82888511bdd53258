// ALS: matrix factorization for implicit feedback (purchases, views) or explicit ratings.
import { native, type NativeAlsFactors, type NativeAlsModel, type NativeAlsOptions } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { IdMap, type Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import {
  BatchRecommendations,
  historyIndices,
  interactionSizes,
  kOption,
  maskOf,
  notFitted,
  recommendFilter,
  trainingMetadata,
  withDataSizes,
  splitIds,
  scoresFor,
  type Scores,
  type BatchOptions,
  type Explanation,
  type History,
  type InteractionModel,
  type Neighbor,
  type NeighborOptions,
  type Recommendation,
  type RecommendOptions,
  type TrainingMetadata,
} from './contract.js';
export type { Explanation } from './contract.js';
import { writeSparkALS, type SparkExportOptions } from '../io/sparkdir.js';
import { fromFile, saveParts, interactionDims, interactionParts, interactionsFromFile, optionsOf } from './parts.js';

/** The largest factor or bias a model file may hold: beyond it, dot products of up to 1024 factors overflow float32 into NaN scores. */
const MAX_FACTOR = 1e9;

export interface AlsOptions {
  /** Latent dimensions (default 64). */
  factors?: number;
  /** Sweeps over users and items (default 15). */
  iterations?: number;
  /** L2 penalty λ (default 0.01 implicit; 0.1 explicit, scaled by each row's rating count). */
  regularization?: number;
  /** Implicit confidence c = 1 + alpha · value (default 1). */
  alpha?: number;
  /** 'implicit' (default; purchases, clicks) or 'explicit' (ratings, with global mean and biases). */
  feedback?: 'implicit' | 'explicit';
  /** Implicit solver: 'cg' (default; conjugate gradient warm-started) or 'cholesky' (exact). Explicit is always exact. */
  solver?: 'cg' | 'cholesky';
  /** Conjugate gradient steps per row and sweep (default 3). */
  cgSteps?: number;
  /**
   * Scale λ by each row's number of ratings (ALS-WR; implicit: of positive values), as Spark MLlib does for
   * both kinds of feedback. Default: true for explicit, false for implicit (scaled implicit rows solve exactly).
   */
  scaleRegularization?: boolean;
  /** Explicit: a global mean and user and item biases (default true); false fits x·y alone, as Spark's explicit ALS. */
  biases?: boolean;
  /** Seed of the initial factors (default 42). Same seed and data: same model, whatever the thread count. */
  seed?: number;
  threads?: number;
}

export interface FitOptions extends JobOptions {
  /** Called after each iteration with its training loss. */
  onIteration?: (iteration: number, loss: number) => void;
}


export function resolveAlsOptions(o: AlsOptions = {}): NativeAlsOptions {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  const feedback = oneOf(o.feedback, 'feedback', ['implicit', 'explicit'] as const, 'implicit');
  const regularization = numberOption(o.regularization, 'regularization', feedback === 'implicit' ? 0.01 : 0.1, 0);
  if (!(regularization > 0)) throw badInput('regularization must be > 0');
  if (o.scaleRegularization !== undefined && typeof o.scaleRegularization !== 'boolean') throw badInput('scaleRegularization must be a boolean');
  if (o.biases !== undefined && typeof o.biases !== 'boolean') throw badInput('biases must be a boolean');
  if (o.biases === false && feedback === 'implicit') throw badInput('biases: false applies to explicit feedback (implicit models have no biases)');
  return {
    factors: intOption(o.factors, 'factors', 1, 1024, 64),
    iterations: intOption(o.iterations, 'iterations', 0, 100_000, 15),
    regularization,
    alpha: numberOption(o.alpha, 'alpha', 1, 0),
    feedback,
    solver: oneOf(o.solver, 'solver', ['cg', 'cholesky'] as const, 'cg'),
    cgSteps: intOption(o.cgSteps, 'cgSteps', 1, 1000, 3),
    scaleRegularization: o.scaleRegularization ?? feedback === 'explicit',
    biases: o.biases ?? true,
    seed: intOption(o.seed, 'seed', 0, Number.MAX_SAFE_INTEGER, 42),
    threads: intOption(o.threads, 'threads', 0, 256, 0),
  };
}

export class ALS implements InteractionModel {
  static readonly kind: string = 'als';
  readonly kind: string = ALS.kind;
  readonly options: Readonly<NativeAlsOptions>;
  metadata?: TrainingMetadata;
  /** Training loss after each iteration of the last fit. */
  losses: number[] = [];
  private state?: { data: Interactions; factors: NativeAlsFactors; scorer: NativeAlsModel };

  constructor(options: AlsOptions = {}) {
    this.options = Object.freeze(resolveAlsOptions(options));
  }

  /** Trains from scratch on `data`. A cancelled or failed fit keeps the previous model. */
  async fit(data: Interactions, options: FitOptions = {}): Promise<this> {
    if (!(data instanceof Interactions)) throw badInput('fit needs an Interactions');
    if (options.onIteration !== undefined && typeof options.onIteration !== 'function') throw badInput('onIteration must be a function');
    const iu = await data.toCSC();
    const result = await runJob(options, (cancel, progress) =>
      native.alsFit(data.csr, iu, this.options, null, cancel, progress, options.onIteration ?? null),
    );
    this.losses = Array.from(result.losses);
    this.adopt(data, result);
    this.metadata = { ...trainingMetadata(interactionSizes(data), this.options), quality: { finalLoss: this.losses.at(-1) ?? NaN }, curves: { loss: [...this.losses] } };
    return this;
  }

  /**
   * Writes the model as Spark MLlib's ALSModel directory (metadata/, userFactors/, itemFactors/ in
   * Parquet), which `ALSModel.load(dir)` reads, so a Spark job can score with factors trained here.
   * Ids must be int32 decimals, as Spark's are.
   */
  async exportSpark(dir: string, options: SparkExportOptions = {}): Promise<void> {
    const f = this.factors;
    if (!f.implicit && this.options.biases) throw new AffinityError("Spark's explicit ALS has no biases: train with { feedback: 'explicit', biases: false } to export", ErrorCode.Unsupported);
    const o = this.options;
    await writeSparkALS(dir, { userIds: this.users.ids, itemIds: this.items.ids, userFactors: f.userFactors, itemFactors: f.itemFactors, rank: f.factors, training: { implicitPrefs: f.implicit, alpha: o.alpha, regParam: o.regularization, maxIter: o.iterations } }, options);
  }

  /** Writes the model to a file (atomically); `loadModel(path)` reads it back. */
  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const { data, factors: f } = this.s();
    const { header, arrays } = interactionParts(data);
    return {
      kind: this.kind,
      header: { ...header, options: this.storedOptions(), als: { factors: f.factors, implicit: f.implicit, globalMean: f.globalMean } },
      arrays: {
        ...arrays,
        userFactors: f.userFactors,
        itemFactors: f.itemFactors,
        ...(f.userBias && f.itemBias ? { userBias: f.userBias, itemBias: f.itemBias } : {}),
      },
    };
  }

  /** The options a model file keeps: what the constructor takes back. */
  protected storedOptions(): Record<string, unknown> {
    return { ...this.options };
  }

  static async fromParts(file: ModelFile): Promise<ALS> {
    const { users, items } = interactionDims(file);
    const a = file.fields.als as { factors?: unknown; implicit?: unknown; globalMean?: unknown } | null | undefined;
    if (!a || typeof a !== 'object' || !Number.isInteger(a.factors) || (a.factors as number) < 1 || typeof a.implicit !== 'boolean' || !Number.isFinite(a.globalMean))
      throw file.corrupt('ALS parameters missing');
    const f = a.factors as number;
    // Array lengths first (O(1)): a file whose header promises more than it holds fails before any O(n) work.
    const factors: NativeAlsFactors = {
      users,
      items,
      factors: f,
      implicit: a.implicit,
      globalMean: a.globalMean as number,
      userFactors: file.f32('userFactors', users * f),
      itemFactors: file.f32('itemFactors', items * f),
      userBias: a.implicit ? null : file.f32('userBias', users),
      itemBias: a.implicit ? null : file.f32('itemBias', items),
    };
    for (const k of ['userFactors', 'itemFactors', 'userBias', 'itemBias'] as const) if (factors[k]) await file.finite(factors[k]!, k, MAX_FACTOR);
    const data = await interactionsFromFile(file);
    const options = optionsOf(file);
    return fromFile(file, () => this.fromFactors(options as AlsOptions, data, factors));
  }

  /** Builds a model from trained factors (model files, other tools), with `data` as the users' histories. */
  static fromFactors(options: AlsOptions, data: Interactions, factors: NativeAlsFactors): ALS {
    const model = new this(options);
    model.adopt(data, factors);
    return model;
  }

  protected adopt(data: Interactions, factors: NativeAlsFactors): void {
    const scorer = new native.AlsModel(factors, data.csr, this.options);
    this.state = { data, factors, scorer };
  }

  get fitted(): boolean {
    return this.state !== undefined;
  }

  private s() {
    if (!this.state) throw notFitted();
    return this.state;
  }

  /** Explicit models predict ratings: RMSE and MAE apply to score(). */
  get predictsRatings(): boolean {
    return this.options.feedback === 'explicit';
  }

  get users(): IdMap {
    return this.s().data.users;
  }
  get items(): IdMap {
    return this.s().data.items;
  }
  /** The training interactions (the histories filterSeen uses). */
  get data(): Interactions {
    return this.s().data;
  }
  /** users x factors, row-major. Do not mutate. */
  get userFactors(): Float32Array {
    return this.s().factors.userFactors;
  }
  /** items x factors, row-major. Do not mutate. */
  get itemFactors(): Float32Array {
    return this.s().factors.itemFactors;
  }
  /** Raw factors and biases (for saving or exporting). */
  get factors(): NativeAlsFactors {
    return this.s().factors;
  }

  /** Top-k items for a known user, best first. Synchronous. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const { data, scorer } = this.s();
    const u = data.users.indexOf(user);
    const f = recommendFilter(data.items, options);
    if (f.empty) return [];
    return toList(data.items, scorer.recommend(u, f.k, f.filterSeen, f.exclude, f.candidates));
  }

  /** Top-k for many users on native threads. */
  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data, scorer } = this.s();
    const b = splitIds(data.users, users);
    const f = recommendFilter(data.items, options);
    const k = Math.min(f.k, data.itemCount);
    if (f.empty) return new BatchRecommendations(0, b.known, new Int32Array(0), new Float32Array(0), data.items, b.unknown);
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    const r = await runJob(options, (cancel, progress) => scorer.recommendBatch(b.indices, k, f.filterSeen, f.exclude, f.candidates, threads, cancel, progress));
    return new BatchRecommendations(k, b.known, r.items, r.scores, data.items, b.unknown);
  }

  /** The model's score for each given item (explicit models: the predicted rating). Unknown items throw. */
  score(user: Id, items: Id[]): Scores {
    const { data, scorer } = this.s();
    const u = data.users.indexOf(user);
    return scoresFor(data.items, items, (idx) => scorer.score(u, idx));
  }

  /** Recommendations for a visitor who is not in the model, from their interactions (fold-in). */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const { data, scorer } = this.s();
    const h = historyIndices(data.items, history);
    const f = recommendFilter(data.items, options);
    if (f.empty) return [];
    return toList(data.items, scorer.recommendFor(h.items, h.values, f.k, f.filterSeen, f.exclude, f.candidates));
  }

  /** recommendFor() on native threads: for servers, where the catalogue scan should not hold the event loop. */
  async recommendForAsync(history: History, options: RecommendOptions & JobOptions = {}): Promise<Recommendation[]> {
    const { data, scorer } = this.s();
    const h = historyIndices(data.items, history);
    const f = recommendFilter(data.items, options);
    if (f.empty) return [];
    const r = await runJob(options, (cancel) => scorer.recommendForAsync(h.items, h.values, f.k, f.filterSeen, f.exclude, f.candidates, cancel));
    return toList(data.items, r);
  }

  /** Scores of candidate items for a visitor (fold-in), aligned with `candidates` as score() is. */
  scoreFor(history: History, candidates: Id[]): Scores {
    const { data, scorer } = this.s();
    const h = historyIndices(data.items, history);
    return scoresFor(data.items, candidates, (idx) => scorer.scoreFor(h.items, h.values, idx));
  }

  /** The factor vector (and explicit bias) of a visitor, solved with the training equations. */
  foldIn(history: History): { factors: Float32Array; bias: number } {
    const { data, scorer } = this.s();
    const h = historyIndices(data.items, history);
    return scorer.foldIn(h.items, h.values);
  }

  /** Most similar items by cosine in factor space. */
  similarItems(item: Id, options: NeighborOptions = {}): Neighbor[] {
    const { data, scorer } = this.s();
    return neighborsOf(data.items, scorer.similar(true, data.items.indexOf(item), kOption(options.k), maskOf(data.items, options.filter)));
  }

  /** Most similar users by cosine in factor space. */
  similarUsers(user: Id, options: { k?: number } = {}): Neighbor[] {
    const { data, scorer } = this.s();
    return neighborsOf(data.users, scorer.similar(false, data.users.indexOf(user), kOption(options.k), null));
  }

  /** similarItems() / similarUsers() on a worker thread (they scan every item or user): for servers. */
  async similarAsync(kind: 'items' | 'users', id: Id, options: NeighborOptions & JobOptions = {}): Promise<Neighbor[]> {
    const { data, scorer } = this.s();
    const ids = kind === 'items' ? data.items : data.users;
    const row = ids.indexOf(id);
    const k = kOption(options.k);
    if (kind === 'users' && options.filter !== undefined) throw badInput('a catalogue filter applies to item neighbours only');
    const allowed = maskOf(ids, options.filter);
    return neighborsOf(ids, await runJob(options, (cancel) => scorer.similarAsync(kind === 'items', row, k, allowed, cancel)));
  }

  similarItemsAsync(item: Id, options: NeighborOptions & JobOptions = {}): Promise<Neighbor[]> {
    return this.similarAsync('items', item, options);
  }

  similarUsersAsync(user: Id, options: { k?: number } & JobOptions = {}): Promise<Neighbor[]> {
    return this.similarAsync('users', user, options);
  }

  /**
   * Builds, on a worker thread, what scoring and fold-in otherwise build on first use on the calling
   * thread: item panels sorted for early-stopping scans, and YᵀY. Servers call it before a model takes
   * requests; elsewhere it is optional.
   */
  async prepare(options: JobOptions = {}): Promise<this> {
    const { scorer } = this.s();
    await runJob(options, (cancel) => scorer.prepareAsync(cancel));
    return this;
  }

  /** Which of the user's past items drive the score of `item` (through the user's weighted Gram matrix). */
  explain(user: Id, item: Id, options: { k?: number } = {}): Explanation {
    const { data } = this.s();
    const history = data.itemsOf(user);
    return this.explainFor({ items: history.map((h) => h.item), values: history.map((h) => h.value) }, item, options);
  }

  /** explain() for a visitor's history. */
  explainFor(history: History, item: Id, options: { k?: number } = {}): Explanation {
    const { data, scorer } = this.s();
    const target = data.items.indexOf(item);
    const h = historyIndices(data.items, history);
    const r = scorer.explain(h.items, h.values, target);
    const k = kOption(options.k);
    const contributions = Array.from(r.items.subarray(0, k), (i, j) => ({
      item: data.items.ids[i],
      contribution: r.scores[j],
      share: r.total === 0 ? 0 : r.scores[j] / r.total,
    }));
    return { item, score: r.total, contributions };
  }

  /**
   * Erasure: a new model without these users: their factor rows dropped, and the factors of the items
   * they had re-solved from the remaining users (one half-step of ALS on those rows), so nothing they
   * taught the model stays in it.
   */
  async withoutCustomers(customers: Id[], options: JobOptions = {}): Promise<ALS> {
    const { data, factors: f } = this.s();
    const { data: rest, touched } = data.withoutUsers(customers);
    if (rest === data) return this;
    const keep = Int32Array.from(rest.users.ids, (u) => data.users.indexOf(u));
    const rows = (a: Float32Array, width: number) => {
      const out = new Float32Array(keep.length * width);
      keep.forEach((u, r) => out.set(a.subarray(u * width, (u + 1) * width), r * width));
      return out;
    };
    let next: NativeAlsFactors = { ...f, users: keep.length, userFactors: rows(f.userFactors, f.factors), userBias: f.userBias && rows(f.userBias, 1), itemFactors: f.itemFactors.slice(), itemBias: f.itemBias?.slice() ?? null };
    if (touched.length > 0) {
      const csc = await rest.toCSC();
      next = await runJob(options, (cancel, progress) => native.alsSolveRows(csc, this.options, next, false, touched, cancel, progress));
    }
    const model = ALS.fromFactors(this.options, rest, next);
    model.losses = this.losses;
    model.metadata = withDataSizes(this.metadata, interactionSizes(rest));
    return model;
  }

  /**
   * Updates the model for new interactions without retraining everything: `data` is the current full
   * interaction set (ids matched by value; unseen ids are added as new rows), and only the rows of
   * `users` and `items` are re-solved, users first.
   */
  async partialFit(data: Interactions, which: { users?: Id[]; items?: Id[] } & JobOptions = {}): Promise<this> {
    const { data: old, factors } = this.s();
    if (!(data instanceof Interactions)) throw badInput('partialFit needs an Interactions');
    const userIds = [...old.users.ids, ...data.users.ids.filter((u) => !old.users.has(u))];
    const itemIds = [...old.items.ids, ...data.items.ids.filter((i) => !old.items.has(i))];
    const users = new IdMap(userIds, 'user');
    const items = new IdMap(itemIds, 'item');
    // Re-index `data` into the model's id order (new ids at the end).
    const rows = new Int32Array(data.size);
    const cols = new Int32Array(data.size);
    const uMap = Int32Array.from(data.users.ids, (u) => users.indexOf(u));
    const iMap = Int32Array.from(data.items.ids, (i) => items.indexOf(i));
    for (let u = 0; u < data.csr.rows; u++)
      for (let p = data.csr.indptr[u]; p < data.csr.indptr[u + 1]; p++) (rows[p] = uMap[u]), (cols[p] = iMap[data.csr.indices[p]]);
    const merged = await Interactions.fromIndices(
      { rows, cols, values: data.csr.data, timestamps: data.csr.timestamps ?? undefined, shape: [userIds.length, itemIds.length], userIds, itemIds },
      { signal: which.signal },
    );
    let next = grow(factors, userIds.length, itemIds.length, this.options.seed);
    const solve = async (byUsers: boolean, ids: Id[] | undefined) => {
      if (!ids?.length) return;
      const map = byUsers ? users : items;
      const idx = Int32Array.from(ids, (id) => map.indexOf(id, byUsers ? 'users' : 'items'));
      const csr = byUsers ? merged.csr : await merged.toCSC();
      next = await runJob(which, (cancel, progress) => native.alsSolveRows(csr, this.options, next, byUsers, idx, cancel, progress));
    };
    await solve(true, which.users);
    await solve(false, which.items);
    this.adopt(merged, next);
    return this;
  }
}

/** Appends rows for new users/items, initialized like training (small random values). */
function grow(f: NativeAlsFactors, users: number, items: number, seed: number): NativeAlsFactors {
  if (users === f.users && items === f.items) return f;
  const extend = (a: Float32Array, n: number, salt: number) => {
    const out = new Float32Array(n * f.factors);
    out.set(a);
    let s = (seed ^ salt) >>> 0 || 1;
    for (let i = a.length; i < out.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = ((s >>> 0) / 4294967296) * 0.01;
    }
    return out;
  };
  const pad = (a: Float32Array | null, n: number) => {
    if (!a) return null;
    const out = new Float32Array(n);
    out.set(a);
    return out;
  };
  return {
    ...f,
    users,
    items,
    userFactors: extend(f.userFactors, users, 0x5eed),
    itemFactors: extend(f.itemFactors, items, 0xbeef),
    userBias: pad(f.userBias, users),
    itemBias: pad(f.itemBias, items),
  };
}

function toList(items: IdMap, r: { items: Int32Array; scores: Float32Array }): Recommendation[] {
  return Array.from(r.items, (i, j) => ({ item: items.ids[i], score: r.scores[j] }));
}

function neighborsOf(ids: IdMap, r: { items: Int32Array; scores: Float32Array }): Neighbor[] {
  return Array.from(r.items, (i, j) => ({ id: ids.ids[i], score: r.scores[j] }));
}
