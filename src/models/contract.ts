// The model contract: what every model kind offers, the shared option parsing and result types, and the
// parts a model file stores. Servers, the CLI and evaluation dispatch on these capabilities, never on
// model classes (implicit's RecommenderBase plays this role there).
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { boolOption, intOption } from '../core/options.js';
import { VERSION } from '../core/version.js';
import type { JobOptions } from '../core/jobs.js';
import { checkId, type Id, type IdMap } from '../data/ids.js';
import type { Interactions } from '../data/interactions.js';
import { ItemFilter, maskHas } from '../data/filter.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';

/** The largest k any scan accepts (the native side counts in int32). */
export const MAX_K = 0x7ffffffe;

export interface RecommendOptions {
  /** How many items (default 10). Larger than the catalogue is fine: you get every candidate. */
  k?: number;
  /** Leave out items the user already interacted with (default true). */
  filterSeen?: boolean;
  /** Never return these items (unknown ids are ignored). */
  exclude?: Id[];
  /** Only return these items (unknown ids are ignored). */
  include?: Id[];
  /**
   * Only return items of the catalogue that pass this filter: `catalog.filter({ category: { in: ['tea'] },
   * price: { lte: 20 }, inStock: true })`. Applied inside the scan, so k items come back whenever k qualify.
   */
  filter?: ItemFilter;
}

export interface BatchOptions extends RecommendOptions, JobOptions {
  threads?: number;
}

export interface Recommendation {
  item: Id;
  score: number;
}

/** Options of a neighbour query: how many, and (item neighbours) a catalogue filter. */
export interface NeighborOptions {
  k?: number;
  /** Item neighbours only: keep those passing this catalogue filter. Models that store top-K lists filter those lists. */
  filter?: ItemFilter;
}

export interface Neighbor {
  id: Id;
  score: number;
}

/** A visitor's history: items (known ids; unknown ones are ignored) and optional values (default 1). */
export interface History {
  items: Id[];
  values?: number[];
}

/** k recommendations per user, row-major. `items` holds item indices (-1 where a user has fewer than k). */
export class BatchRecommendations {
  constructor(
    readonly k: number,
    readonly users: readonly Id[],
    readonly items: Int32Array,
    readonly scores: Float32Array,
    private readonly itemIds: IdMap,
    /** The users asked for that the model does not know (`users` holds the others, in order). */
    readonly unknown: readonly Id[] = [],
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

/** RecommendOptions checked once and turned into what the scans take. */
export interface RecommendFilter {
  k: number;
  filterSeen: boolean;
  exclude: Int32Array | null;
  /**
   * The items that may be returned: a list of indices (include, within the filter), a bit per item (a
   * catalogue filter: what the native scans test), or null for all.
   */
  candidates: Int32Array | Uint32Array | null;
  /** Nothing can qualify (an include list naming no known item, a filter no item passes): empty without a scan. */
  empty: boolean;
}

/** The one parser of k / filterSeen / exclude / include / filter, for every model. */
export function recommendFilter(items: IdMap, options: RecommendOptions | undefined): RecommendFilter {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw badInput('options must be an object');
  const mask = maskOf(items, options.filter);
  let include = items.knownIndices(options.include, 'include');
  if (include && mask) include = include.filter((i) => maskHas(mask, i));
  const candidates = include ?? mask;
  return {
    k: Math.min(kOption(options.k), MAX_K),
    filterSeen: boolOption(options.filterSeen, 'filterSeen', true),
    exclude: items.knownIndices(options.exclude, 'exclude'),
    candidates,
    empty: candidates !== null && (candidates instanceof Int32Array ? candidates.length === 0 : !candidates.some((w) => w !== 0)),
  };
}

/** The item mask of a catalogue filter for a model's items (cached with the filter), or null without one. */
export function maskOf(items: IdMap, filter: ItemFilter | undefined): Uint32Array | null {
  if (filter === undefined) return null;
  if (!(filter instanceof ItemFilter)) throw badInput('filter must be made by catalog.filter({ ... })');
  return filter.maskFor(items);
}

/** A test for "may this item index be returned" from candidates (all when null). */
export function candidateTest(candidates: Int32Array | Uint32Array | null): (item: number) => boolean {
  if (candidates === null) return () => true;
  if (candidates instanceof Uint32Array) return (i) => maskHas(candidates, i);
  const set = new Set(candidates);
  return (i) => set.has(i);
}

/** k of a top-k request: an integer >= 0, default 10 (huge values mean "all"). */
export function kOption(k: unknown, fallback = 10): number {
  return Math.min(intOption(k, 'k', 0, Number.MAX_SAFE_INTEGER, fallback), MAX_K);
}

/**
 * The ids of a list (a batch's users, customers to score): the known ones as indices (in the caller's order, as the caller spelled them) and
 * the unknown ones. List calls answer for the known ids and report the others; only single-id calls throw
 * ERR_AFFINITY_UNKNOWN_ID. Values that are no id at all are BAD_INPUT.
 */
export function splitIds(map: IdMap, ids: unknown, what = 'users'): { indices: Int32Array; known: Id[]; unknown: Id[] } {
  if (!Array.isArray(ids)) throw badInput(`${what} must be an array of ids`);
  const indices: number[] = [];
  const known: Id[] = [];
  const unknown: Id[] = [];
  for (const id of ids as unknown[]) {
    checkId(id, what);
    const i = map.find(id);
    if (i < 0) unknown.push(id);
    else indices.push(i), known.push(id);
  }
  return { indices: Int32Array.from(indices), known, unknown };
}

/** Scores aligned with the items asked for: NaN where an item is unknown, and those items in `unknown`. */
export type Scores = number[] & { readonly unknown: Id[] };

/** Scores the known items of a list (as indices) and places them at their positions in the caller's list. */
export function scoresFor(items: IdMap, ids: unknown, score: (indices: Int32Array) => ArrayLike<number>): Scores {
  if (!Array.isArray(ids)) throw badInput('items must be an array of ids');
  const positions: number[] = [];
  const indices: number[] = [];
  const unknown: Id[] = [];
  (ids as unknown[]).forEach((id, j) => {
    checkId(id, 'items');
    const i = items.find(id);
    if (i < 0) unknown.push(id);
    else positions.push(j), indices.push(i);
  });
  const known = indices.length > 0 ? score(Int32Array.from(indices)) : [];
  const out = new Array<number>(ids.length).fill(NaN);
  positions.forEach((p, n) => (out[p] = known[n]));
  return withUnknown(out, unknown);
}

/** A list answer with the ids it could not answer for (a non-enumerable property: the array compares and serializes as before). */
export function withUnknown<T>(list: T[], unknown: Id[]): T[] & { readonly unknown: Id[] } {
  return Object.defineProperty(list, 'unknown', { value: unknown, enumerable: false }) as T[] & { readonly unknown: Id[] };
}

/** The known items of a history as indices (unknown ids are ignored; the core sorts them and sums duplicates). */
export function historyIndices(items: IdMap, h: History): { items: Int32Array; values: Float32Array } {
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
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) throw badInput(`history.values[${j}] must be a finite number within float range, got ${String(v)}`);
    const i = items.find(id);
    if (i < 0) continue;
    idx[n] = i;
    val[n++] = v;
  }
  return { items: idx.subarray(0, n), values: val.subarray(0, n) };
}

export function notFitted(): AffinityError {
  return new AffinityError('call fit() first', ErrorCode.NotFitted);
}

/** How and on what a model was trained: stored in its file, shown by describeModel, `affinity inspect` and GET /v1/models. */
export interface TrainingMetadata {
  /** ISO 8601 time the fit finished. */
  trainedAt: string;
  /** The library version that trained it. */
  library: string;
  /** Sizes of the training data (interactions, users, items, customers, baskets, lines...). */
  data: Record<string, number>;
  /** The options it was trained with. */
  options: Record<string, unknown>;
  /** The input file, when it was trained from one (the CLI fills this in). */
  input?: { file: string; bytes: number; sha256: string };
  /** Quality figures measured when it was trained or evaluated (ROC AUC, precision@k, ...). */
  quality?: Record<string, number>;
  /** Where a model trained elsewhere came from (`{ kind: 'spark', dir, sparkVersion, ... }`). */
  source?: Record<string, unknown>;
  /** Figures per training iteration (`loss` for ALS, `correct` for BPR), for the dashboard's curves. */
  curves?: Record<string, number[]>;
  /** Held-out predictions beside what happened, sampled (no ids): ROC, calibration, Qini and holdout charts. */
  holdout?: HoldoutSample;
  /**
   * Customers placed on the two leading principal axes of the clustered space, sampled (no ids). `rows`
   * is each point's row in the model's customers, so that erasure takes an erased customer's point out.
   */
  projection?: { x: number[]; y: number[]; segment: number[]; explained: [number, number]; rows?: number[] };
}

/** What a model predicted on data it did not see, and what happened there. */
export type HoldoutSample =
  | { kind: 'binary'; score: number[]; label: number[] }
  | { kind: 'uplift'; control: string; arm: string[]; outcome: number[]; uplift: Record<string, number[]> }
  | { kind: 'purchases'; weeks: number; frequency: number[]; predicted: number[]; actual: number[] };

/** The most rows a metadata sample keeps: a chart's worth, small enough for every model file. */
export const SAMPLE_ROWS = 2000;

/** Up to `max` row indices spread evenly over n rows (all of them when n <= max): deterministic, no ids. */
export function sampleRows(n: number, max = SAMPLE_ROWS): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}

/** Metadata for a model that has just been fitted. */
export function trainingMetadata(data: Record<string, number>, options: object): TrainingMetadata {
  return { trainedAt: new Date().toISOString(), library: VERSION, data, options: JSON.parse(JSON.stringify(options)) as Record<string, unknown> };
}

/** A model's metadata with new data sizes (what erasure changes), or none when it had none. */
export function withDataSizes(metadata: TrainingMetadata | undefined, sizes: Record<string, number>): TrainingMetadata | undefined {
  return metadata && { ...metadata, data: { ...metadata.data, ...sizes } };
}

/** The sizes of interaction data, for metadata. */
export function interactionSizes(data: Interactions): Record<string, number> {
  return { interactions: data.csr.indices.length, users: data.userCount, items: data.itemCount };
}

/** Every model: a kind (its name in model files and on the server), and its parts for a file. */
export interface Model {
  /** 'als', 'itemknn', 'userknn', 'popular', 'content', 'hybrid', 'segments', 'propensity', 'rules', 'logistic'. */
  readonly kind: string;
  readonly fitted: boolean;
  /** Set by fit() and kept in the model's file; callers may add `input` and `quality` before saving. */
  metadata?: TrainingMetadata;
  /** What a model file stores (see io/modelfile.ts); the kind's `fromParts` reads it back. */
  toParts(): ModelParts;
  /** Writes the model to a file atomically; `loadModel(path)` reads it back. */
  save(path: string): Promise<void>;
  /**
   * Erasure: a new model, as if these customers had never been in its training data (their rows gone, the
   * parts they shaped re-solved), or this model when it knows none of them. The model itself is unchanged,
   * so requests in flight finish on it.
   */
  withoutCustomers?(customers: Id[], options?: JobOptions): Promise<Model>;
}

/** Why a model scores an item for a user: the past items behind the score. */
export interface Explanation {
  item: Id;
  /** The score this explanation accounts for (the fold-in score, without global mean and item bias). */
  score: number;
  /** Past items by the size of their contribution; shares sum to 1. */
  contributions: { item: Id; contribution: number; share: number }[];
}

/**
 * A model that ranks items for users. The optional members are capabilities: a caller checks for the
 * method, not for a class.
 */
export interface Recommender extends Model {
  /** The users it can recommend for, and the items it can recommend. */
  readonly users: IdMap;
  readonly items: IdMap;
  /** The training interactions (users' histories), where the model keeps them. */
  readonly data?: Interactions;
  /** Top-k items for a known user, best first. Synchronous: for cheap models, or a scan of microseconds. */
  recommend(user: Id, options?: RecommendOptions): Recommendation[];
  /** Top-k for many users, off the event loop. Users the model does not know are reported in `unknown`. */
  recommendBatch(users: Id[], options?: BatchOptions): Promise<BatchRecommendations>;
  /**
   * The model's score of each given item for a known user (an unknown user throws). Aligned with `items`:
   * NaN for an item the model does not know, listed in `unknown`.
   */
  score(user: Id, items: Id[]): Scores;
  /** Recommendations for someone the model was not trained on, from their history (fold-in, content). */
  recommendFor?(history: History, options?: RecommendOptions): Recommendation[];
  /** recommendFor off the event loop. */
  recommendForAsync?(history: History, options?: RecommendOptions & JobOptions): Promise<Recommendation[]>;
  /** The user's past items that drive the score of `item`, largest first (k of them, default 10). */
  explain?(user: Id, item: Id, options?: { k?: number }): Explanation;
  /** Most similar items / users (these may scan the catalogue, hence async). */
  similarItemsAsync?(item: Id, options?: NeighborOptions & JobOptions): Promise<Neighbor[]>;
  similarUsersAsync?(user: Id, options?: { k?: number } & JobOptions): Promise<Neighbor[]>;
  /** Builds scoring structures off the event loop before the model takes requests. */
  prepare?(options?: JobOptions): Promise<unknown>;
  /** True when score() predicts ratings (explicit feedback), so RMSE and MAE mean something. */
  readonly predictsRatings?: boolean;
}

/** A recommender trained on interactions alone (the kinds `affinity train` builds). */
export interface InteractionModel extends Recommender {
  fit(data: Interactions, options?: JobOptions): Promise<this>;
}

/** Reads the models stored inside a model file (a hybrid's parts), whatever their kind. */
export type PartLoader = (file: ModelFile) => Promise<Model>;

/** How a model file finds the class of its kind. */
export interface ModelKind {
  readonly kind: string;
  fromParts(file: ModelFile, loadPart: PartLoader): Promise<Model>;
}

/** True when a model ranks items for users (the /v1/recommend routes serve it). */
export function isRecommender(model: Model): model is Recommender {
  const m = model as Partial<Recommender>;
  return typeof m.recommend === 'function' && typeof m.recommendBatch === 'function' && typeof m.score === 'function' && m.users !== undefined && m.items !== undefined;
}
