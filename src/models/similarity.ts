// similarity(): item-item or user-user similarity matrices, top-K per row or dense.
import { native } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { Id, IdMap } from '../data/ids.js';
import type { Interactions } from '../data/interactions.js';
import type { Neighbor } from './contract.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption, oneOf } from '../core/options.js';

export type Measure = 'cosine' | 'pearson' | 'jaccard' | 'dot' | 'lift';
export type Weighting = 'none' | 'tfidf' | 'bm25';
export const MEASURES: readonly Measure[] = ['cosine', 'pearson', 'jaccard', 'dot', 'lift'];
export const WEIGHTINGS: readonly Weighting[] = ['none', 'tfidf', 'bm25'];

export interface SimilarityOptions extends JobOptions {
  /** Compare items (columns, the default) or users (rows). */
  axis?: 'items' | 'users';
  measure?: Measure;
  /** Neighbours kept per row (default 50; clamped to n - 1). */
  k?: number;
  /** Added to the denominator: damps similarities built on little co-occurrence (default 0). */
  shrink?: number;
  /** Neighbours must score strictly above this (default 0). */
  minSimilarity?: number;
  /** jaccard and lift: minimum number of co-occurrences (default 1). */
  minSupport?: number;
  /** Reweights the interaction matrix before cosine, pearson or dot. */
  weighting?: Weighting;
  bm25?: { k1?: number; b?: number };
  /** Return the full n x n matrix (diagonal included; k and minSimilarity ignored). At most 16384 rows. */
  dense?: boolean;
  /** Compute threads (default: all of the pool). */
  threads?: number;
}

export type { Neighbor } from './contract.js';

/** Top-K neighbours per row as CSR; each row is ordered by descending similarity (ties: lower index first). */
export class SimilarityMatrix {
  readonly kind = 'topk' as const;
  constructor(
    readonly ids: IdMap,
    readonly indptr: Int32Array,
    readonly indices: Int32Array,
    readonly data: Float32Array,
  ) {}
  get size(): number {
    return this.ids.size;
  }
  /** The stored neighbours of an id, best first; `allowed` keeps those whose index passes. */
  neighbors(id: Id, k = Infinity, allowed?: (index: number) => boolean): Neighbor[] {
    const row = this.ids.indexOf(id);
    const out: Neighbor[] = [];
    for (let p = this.indptr[row]; p < this.indptr[row + 1] && out.length < k; p++)
      if (!allowed || allowed(this.indices[p])) out.push({ id: this.ids.ids[this.indices[p]], score: this.data[p] });
    return out;
  }
}

/** Full n x n similarity, row-major. */
export class DenseSimilarity {
  readonly kind = 'dense' as const;
  constructor(
    readonly ids: IdMap,
    readonly values: Float32Array,
  ) {}
  get size(): number {
    return this.ids.size;
  }
  get(a: Id, b: Id): number {
    return this.values[this.ids.indexOf(a) * this.ids.size + this.ids.indexOf(b)];
  }
}

export interface ResolvedSimilarityOptions {
  axis: 'items' | 'users';
  measure: Measure;
  k: number;
  shrink: number;
  minSimilarity: number;
  minSupport: number;
  weighting: Weighting;
  bm25K1: number;
  bm25B: number;
  dense: boolean;
  threads: number;
}

export function resolveSimilarityOptions(o: SimilarityOptions = {}): ResolvedSimilarityOptions {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  const measure = oneOf(o.measure, 'measure', MEASURES, 'cosine');
  const weighting = oneOf(o.weighting, 'weighting', WEIGHTINGS, 'none');
  if (weighting !== 'none' && (measure === 'jaccard' || measure === 'lift'))
    throw badInput(`weighting '${weighting}' applies to cosine, pearson and dot; ${measure} uses presence only`);
  const minSimilarity = o.minSimilarity ?? 0;
  if (typeof minSimilarity !== 'number' || Number.isNaN(minSimilarity)) throw badInput('minSimilarity must be a number');
  if (o.dense !== undefined && typeof o.dense !== 'boolean') throw badInput('dense must be a boolean');
  const bm25B = numberOption(o.bm25?.b, 'bm25.b', 0.8, 0);
  if (bm25B > 1) throw badInput('bm25.b must be in [0, 1]');
  return {
    axis: oneOf(o.axis, 'axis', ['items', 'users'] as const, 'items'),
    measure,
    // Any k is accepted; the core clamps it to the number of rows.
    k: Math.min(intOption(o.k, 'k', 0, Number.MAX_SAFE_INTEGER, 50), 0x7ffffffe),
    shrink: numberOption(o.shrink, 'shrink', 0, 0),
    minSimilarity,
    minSupport: numberOption(o.minSupport, 'minSupport', 1, 0),
    weighting,
    bm25K1: numberOption(o.bm25?.k1, 'bm25.k1', 100, Number.MIN_VALUE),
    bm25B,
    dense: o.dense ?? false,
    threads: intOption(o.threads, 'threads', 0, 256, 0),
  };
}

/**
 * Similarity between the items (or users) of an interaction matrix.
 *
 * - cosine: x·y / (|x||y| + shrink)
 * - pearson: cosine after centring each vector on the mean of its stored values
 * - jaccard: |X∩Y| / (|X| + |Y| - |X∩Y| + shrink), on presence
 * - dot: x·y / (1 + shrink)
 * - lift: N·|X∩Y| / (|X||Y|) with N the number of users (baskets), pairs with at least minSupport co-occurrences
 */
export async function similarity(data: Interactions, options: SimilarityOptions = {}): Promise<SimilarityMatrix | DenseSimilarity> {
  const o = resolveSimilarityOptions(options);
  const ids = o.axis === 'items' ? data.items : data.users;
  const result = await runJob(options, (cancel, progress) =>
    native.similarity(
      data.csr,
      {
        axis: o.axis,
        measure: o.measure,
        weighting: o.weighting,
        k: o.k,
        shrink: o.shrink,
        minSimilarity: o.minSimilarity,
        minSupport: o.minSupport,
        bm25K1: o.bm25K1,
        bm25B: o.bm25B,
        dense: o.dense,
        threads: o.threads,
      },
      cancel,
      progress,
    ),
  );
  if (result.dense) return new DenseSimilarity(ids, result.dense);
  if (!result.topK) throw new AffinityError('native similarity returned no matrix', ErrorCode.Internal);
  return new SimilarityMatrix(ids, result.topK.indptr, result.topK.indices, result.topK.data);
}
