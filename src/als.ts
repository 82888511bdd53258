// ALS: matrix factorization for implicit feedback (purchases, views) or explicit ratings.
import { native, type NativeAlsFactors, type NativeAlsModel, type NativeAlsOptions } from '../bindings/native.js';
import { AffinityError, ErrorCode, badInput } from './errors.js';
import { checkId, IdMap, type Id } from './ids.js';
import { Interactions } from './interactions.js';
import { intOption, numberOption, oneOf, runJob, type JobOptions } from './jobs.js';
import { BatchRecommendations, type BatchOptions, type Recommendation, type RecommendOptions } from './knn.js';
import type { Neighbor } from './similarity.js';

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
  /** Scale λ by each row's interaction count (ALS-WR). Default: true for explicit, false for implicit. */
  scaleRegularization?: boolean;
  /** Seed of the initial factors (default 42). Same seed and data: same model, whatever the thread count. */
  seed?: number;
  threads?: number;
}

export interface FitOptions extends JobOptions {
  /** Called after each iteration with its training loss. */
  onIteration?: (iteration: number, loss: number) => void;
}

/** A visitor's history: items (known ids; unknown ones are ignored) and optional values (default 1). */
export interface History {
  items: Id[];
  values?: number[];
}

export interface Explanation {
  item: Id;
  /** The score this explanation accounts for (the fold-in score, without global mean and item bias). */
  score: number;
  /** Past items by the size of their contribution; shares sum to 1. */
  contributions: { item: Id; contribution: number; share: number }[];
}

export function resolveAlsOptions(o: AlsOptions = {}): NativeAlsOptions {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  const feedback = oneOf(o.feedback, 'feedback', ['implicit', 'explicit'] as const, 'implicit');
  const regularization = numberOption(o.regularization, 'regularization', feedback === 'implicit' ? 0.01 : 0.1, 0);
  if (!(regularization > 0)) throw badInput('regularization must be > 0');
  if (o.scaleRegularization !== undefined && typeof o.scaleRegularization !== 'boolean') throw badInput('scaleRegularization must be a boolean');
  return {
    factors: intOption(o.factors, 'factors', 1, 1024, 64),
    iterations: intOption(o.iterations, 'iterations', 0, 100_000, 15),
    regularization,
    alpha: numberOption(o.alpha, 'alpha', 1, 0),
    feedback,
    solver: oneOf(o.solver, 'solver', ['cg', 'cholesky'] as const, 'cg'),
    cgSteps: intOption(o.cgSteps, 'cgSteps', 1, 1000, 3),
    scaleRegularization: o.scaleRegularization ?? feedback === 'explicit',
    seed: intOption(o.seed, 'seed', 0, Number.MAX_SAFE_INTEGER, 42),
    threads: intOption(o.threads, 'threads', 0, 256, 0),
  };
}

const MAX_K = 0x7ffffffe;

export class ALS {
  readonly options: Readonly<NativeAlsOptions>;
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
    return this;
  }

  /** Writes the model to a file (atomically); `loadModel(path)` reads it back. */
  async save(path: string): Promise<void> {
    const { saveModel } = await import('./modelfile.js');
    await saveModel(this, path);
  }

  /** Builds a model from trained factors (model files, other tools), with `data` as the users' histories. */
  static fromFactors(options: AlsOptions, data: Interactions, factors: NativeAlsFactors): ALS {
    const model = new ALS(options);
    model.adopt(data, factors);
    return model;
  }

  private adopt(data: Interactions, factors: NativeAlsFactors): void {
    const scorer = new native.AlsModel(factors, data.csr, this.options);
    this.state = { data, factors, scorer };
  }

  get fitted(): boolean {
    return this.state !== undefined;
  }

  private s() {
    if (!this.state) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    return this.state;
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
    checkId(user, 'user');
    const u = data.users.indexOf(user);
    const f = filterOf(data.items, options);
    if (f.include !== null && f.include.length === 0) return [];
    return toList(data.items, scorer.recommend(u, f.k, f.filterSeen, f.exclude, f.include));
  }

  /** Top-k for many users on native threads. */
  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data, scorer } = this.s();
    if (!Array.isArray(users)) throw badInput('users must be an array of ids');
    const idx = Int32Array.from(users, (u) => (checkId(u, 'users'), data.users.indexOf(u)));
    const f = filterOf(data.items, options);
    const k = Math.min(f.k, data.itemCount);
    if (f.include !== null && f.include.length === 0) return new BatchRecommendations(0, users, new Int32Array(0), new Float32Array(0), data.items);
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    const r = await runJob(options, (cancel, progress) => scorer.recommendBatch(idx, k, f.filterSeen, f.exclude, f.include, threads, cancel, progress));
    return new BatchRecommendations(k, users, r.items, r.scores, data.items);
  }

  /** The model's score for each given item (explicit models: the predicted rating). Unknown items throw. */
  score(user: Id, items: Id[]): number[] {
    const { data, scorer } = this.s();
    checkId(user, 'user');
    return Array.from(scorer.score(data.users.indexOf(user), itemIndices(data.items, items)));
  }

  /** Recommendations for a visitor who is not in the model, from their interactions (fold-in). */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const { data, scorer } = this.s();
    const h = historyOf(data.items, history);
    const f = filterOf(data.items, options);
    if (f.include !== null && f.include.length === 0) return [];
    return toList(data.items, scorer.recommendFor(h.items, h.values, f.k, f.filterSeen, f.exclude, f.include));
  }

  /** recommendFor() on native threads: for servers, where the catalogue scan should not hold the event loop. */
  async recommendForAsync(history: History, options: RecommendOptions & JobOptions = {}): Promise<Recommendation[]> {
    const { data, scorer } = this.s();
    const h = historyOf(data.items, history);
    const f = filterOf(data.items, options);
    if (f.include !== null && f.include.length === 0) return [];
    const r = await runJob(options, (cancel) => scorer.recommendForAsync(h.items, h.values, f.k, f.filterSeen, f.exclude, f.include, cancel));
    return toList(data.items, r);
  }

  /** Scores of candidate items for a visitor (fold-in). */
  scoreFor(history: History, candidates: Id[]): number[] {
    const { data, scorer } = this.s();
    const h = historyOf(data.items, history);
    return Array.from(scorer.scoreFor(h.items, h.values, itemIndices(data.items, candidates)));
  }

  /** The factor vector (and explicit bias) of a visitor, solved with the training equations. */
  foldIn(history: History): { factors: Float32Array; bias: number } {
    const { data, scorer } = this.s();
    const h = historyOf(data.items, history);
    return scorer.foldIn(h.items, h.values);
  }

  /** Most similar items by cosine in factor space. */
  similarItems(item: Id, options: { k?: number } = {}): Neighbor[] {
    const { data, scorer } = this.s();
    checkId(item, 'item');
    const r = scorer.similar(true, data.items.indexOf(item), Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K));
    return Array.from(r.items, (i, j) => ({ id: data.items.ids[i], score: r.scores[j] }));
  }

  /** Most similar users by cosine in factor space. */
  similarUsers(user: Id, options: { k?: number } = {}): Neighbor[] {
    const { data, scorer } = this.s();
    checkId(user, 'user');
    const r = scorer.similar(false, data.users.indexOf(user), Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K));
    return Array.from(r.items, (i, j) => ({ id: data.users.ids[i], score: r.scores[j] }));
  }

  /** similarItems() / similarUsers() on a worker thread (they scan every item or user): for servers. */
  async similarAsync(kind: 'items' | 'users', id: Id, options: { k?: number } & JobOptions = {}): Promise<Neighbor[]> {
    const { data, scorer } = this.s();
    checkId(id, kind === 'items' ? 'item' : 'user');
    const ids = kind === 'items' ? data.items : data.users;
    const k = Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K);
    const r = await runJob(options, (cancel) => scorer.similarAsync(kind === 'items', ids.indexOf(id), k, cancel));
    return Array.from(r.items, (i, j) => ({ id: ids.ids[i], score: r.scores[j] }));
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
    checkId(user, 'user');
    const history = data.itemsOf(user);
    return this.explainFor({ items: history.map((h) => h.item), values: history.map((h) => h.value) }, item, options);
  }

  /** explain() for a visitor's history. */
  explainFor(history: History, item: Id, options: { k?: number } = {}): Explanation {
    const { data, scorer } = this.s();
    checkId(item, 'item');
    const h = historyOf(data.items, history);
    const r = scorer.explain(h.items, h.values, data.items.indexOf(item));
    const k = intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10);
    const contributions = Array.from(r.items.subarray(0, k), (i, j) => ({
      item: data.items.ids[i],
      contribution: r.scores[j],
      share: r.total === 0 ? 0 : r.scores[j] / r.total,
    }));
    return { item, score: r.total, contributions };
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
      const idx = Int32Array.from(ids, (id) => (checkId(id, byUsers ? 'users' : 'items'), map.indexOf(id)));
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

function filterOf(items: IdMap, o: RecommendOptions) {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  if (o.filterSeen !== undefined && typeof o.filterSeen !== 'boolean') throw badInput('filterSeen must be a boolean');
  return {
    k: Math.min(intOption(o.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), MAX_K),
    filterSeen: o.filterSeen ?? true,
    exclude: items.knownIndices(o.exclude, 'exclude'),
    include: items.knownIndices(o.include, 'include'),
  };
}

function toList(items: IdMap, r: { items: Int32Array; scores: Float32Array }): Recommendation[] {
  return Array.from(r.items, (i, j) => ({ item: items.ids[i], score: r.scores[j] }));
}

function itemIndices(items: IdMap, ids: Id[]): Int32Array {
  if (!Array.isArray(ids)) throw badInput('items must be an array of ids');
  return Int32Array.from(ids, (i) => (checkId(i, 'items'), items.indexOf(i)));
}

/** The known items of a history as indices (unknown ids are ignored; the core sums duplicates). */
function historyOf(items: IdMap, h: History): { items: Int32Array; values: Float32Array } {
  if (h === null || typeof h !== 'object' || !Array.isArray(h.items)) throw badInput('history must be { items: Id[], values?: number[] }');
  const values = h.values;
  if (values !== undefined && (!Array.isArray(values) || values.length !== h.items.length))
    throw new AffinityError('history.values must have one value per item', ErrorCode.DimMismatch);
  const idx = new Int32Array(h.items.length);
  const val = new Float32Array(h.items.length);
  let n = 0;
  for (let j = 0; j < h.items.length; j++) {
    const id = h.items[j];
    checkId(id, 'history.items');
    const v = values ? values[j] : 1;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`history.values[${j}] must be a finite number`);
    const i = items.find(id);
    if (i < 0) continue;
    idx[n] = i;
    val[n++] = v;
  }
  return { items: idx.subarray(0, n), values: val.subarray(0, n) };
}
