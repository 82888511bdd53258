// k-means and the silhouette score on dense vectors; the work runs natively.
import { native } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption } from '../core/options.js';
import { Random } from '../core/random.js';
import { toMatrix, type Matrix } from '../data/matrix.js';

export interface KMeansOptions extends JobOptions {
  k: number;
  /** Lloyd iterations at most (default 100). */
  iterations?: number;
  /** Stops when the inertia improves by less than this fraction (default 1e-6), or nothing moves. */
  tolerance?: number;
  seed?: number;
  threads?: number;
  /** Called on the JS thread after each Lloyd step (queued: the last calls may land just after the Promise settles). */
  onIteration?: (iteration: number, inertia: number) => void;
}

export class KMeans {
  constructor(
    /** k x dims, row-major. */
    readonly centroids: Float32Array,
    readonly k: number,
    readonly dims: number,
    /** The cluster of each input row. */
    readonly assignments: Int32Array,
    readonly sizes: Int32Array,
    /** Sum of squared distances of the rows to their centroids. */
    readonly inertia: number,
    readonly iterations: number,
    readonly converged: boolean,
  ) {}

  /** The nearest centroid of each row (native threads). */
  async predict(vectors: Matrix | number[][], options: JobOptions = {}): Promise<Int32Array> {
    const m = toMatrix(vectors);
    if (m.dims !== this.dims) throw new AffinityError(`vectors have ${m.dims} dimensions, the model ${this.dims}`, ErrorCode.DimMismatch);
    return runJob(options, (cancel, progress) => native.nearestCentroid(m.values, m.rows, m.dims, this.centroids, this.k, 0, cancel, progress));
  }
}

/**
 * k-means with k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd iterations, on native threads with
 * SIMD distances. Deterministic for a seed whatever the thread count.
 */
export async function kmeans(vectors: Matrix | number[][], options: KMeansOptions): Promise<KMeans> {
  if (options === null || typeof options !== 'object') throw badInput('kmeans needs options with k');
  const m = toMatrix(vectors);
  const k = intOption(options.k, 'k', 1, 0x7ffffffe, 0);
  if (k > m.rows) throw badInput(`k (${k}) must not exceed the number of vectors (${m.rows})`);
  const o = {
    k,
    iterations: intOption(options.iterations, 'iterations', 1, 1_000_000, 100),
    tolerance: numberOption(options.tolerance, 'tolerance', 1e-6, 0),
    seed: intOption(options.seed, 'seed', 0, 0x7ffffffe, 42),
    threads: intOption(options.threads, 'threads', 0, 256, 0),
  };
  if (options.onIteration !== undefined && typeof options.onIteration !== 'function') throw badInput('onIteration must be a function');
  const r = await runJob(options, (cancel, progress) => native.kmeans(m.values, m.rows, m.dims, o, cancel, progress, options.onIteration ?? null));
  return new KMeans(r.centroids, k, m.dims, r.assignments, r.sizes, r.inertia, r.iterations, r.converged);
}

export interface SilhouetteOptions extends JobOptions {
  /** Scores a seeded random sample of this many rows (default 4000): the exact score is O(rows²). */
  sampleSize?: number;
  seed?: number;
}

/** Mean silhouette coefficient, in [-1, 1]: higher means tighter, better separated clusters. */
export async function silhouetteScore(vectors: Matrix | number[][], labels: Int32Array | number[], options: SilhouetteOptions = {}): Promise<number> {
  const m = toMatrix(vectors);
  if (labels.length !== m.rows) throw new AffinityError(`labels has ${labels.length} entries, expected ${m.rows}`, ErrorCode.DimMismatch);
  const sampleSize = intOption(options.sampleSize, 'sampleSize', 2, 0x7ffffffe, 4000);
  let rows = Int32Array.from({ length: m.rows }, (_, i) => i);
  if (m.rows > sampleSize) {
    const random = new Random(intOption(options.seed, 'seed', 0, 0x7ffffffe, 42));
    for (let i = 0; i < sampleSize; i++) {
      const j = i + random.int(m.rows - i);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows = rows.slice(0, sampleSize).sort();
  }
  const values = new Float32Array(rows.length * m.dims);
  const sampleLabels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    values.set(m.values.subarray(r * m.dims, (r + 1) * m.dims), i * m.dims);
    const l = labels[r];
    if (!Number.isInteger(l) || l < 0) throw badInput(`labels[${r}] must be a non-negative integer`);
    sampleLabels[i] = l;
  });
  return runJob(options, (cancel, progress) => native.silhouette(values, rows.length, m.dims, sampleLabels, 0, cancel, progress));
}
