// Customer segmentation: RFM and/or ALS embeddings, standardized, clustered with k-means.
import type { ALS } from '../models/als.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { sampleRows, trainingMetadata, withDataSizes, type TrainingMetadata } from '../models/contract.js';
import { finite64, idMapOf, saveParts } from '../models/parts.js';
import { IdMap, rowsWithout, type Id } from '../data/ids.js';
import { type JobOptions } from '../core/jobs.js';
import { intOption, oneOf } from '../core/options.js';
import { customerStats, factorRows, fitStandardizer, hstack, slog1p, standardize } from './features.js';
import { kmeans, silhouetteScore, type KMeans } from './kmeans.js';
import type { Matrix } from '../data/matrix.js';
import type { Transactions } from '../data/transactions.js';

export interface SegmentOptions extends JobOptions {
  /** 'rfm' (default), 'embedding' (ALS user factors) or 'both'. */
  features?: 'rfm' | 'embedding' | 'both';
  /** Segments in the returned model (default 5). */
  k?: number;
  /** Also cluster for every k in [min, max] and report inertia and silhouette, to help choose k. */
  kRange?: [number, number];
  /** Required for 'embedding' and 'both': a model trained on these customers. */
  als?: ALS;
  /** The category of an item, for the profiles' top categories. */
  categoryOf?: (item: Id) => string | undefined;
  /** Reference time for recency (unix seconds). Default: the day after the last transaction. */
  asOf?: number;
  seed?: number;
  /** Rows scored for the silhouette (default 4000). */
  silhouetteSample?: number;
}

export interface SegmentProfile {
  segment: number;
  size: number;
  share: number;
  /** Means over the segment, in days, baskets and amount. */
  recencyDays: number;
  frequency: number;
  monetary: number;
  topItems: { item: Id; customers: number }[];
  topCategories: { category: string; share: number }[];
}

export interface KDiagnostic {
  k: number;
  inertia: number;
  silhouette: number;
}

/** How raw feature rows become the clustered vectors: (x - mean) / std per column (std carries each block's weight). */
export interface SegmentSpace {
  features: 'rfm' | 'embedding' | 'both';
  /** The reference time recency was measured from (unix seconds). */
  asOf: number;
  /** k x dims, in segment order. */
  centroids: Float32Array;
  mean: Float64Array;
  std: Float64Array;
}

export class Segmentation {
  static readonly kind = 'segments';
  readonly kind = Segmentation.kind;
  readonly fitted = true;
  metadata?: TrainingMetadata;

  constructor(
    readonly k: number,
    readonly customers: IdMap,
    /** Segment of each customer, in `customers` order. Segment 0 spends the most on average. */
    readonly assignments: Int32Array,
    readonly profiles: SegmentProfile[],
    readonly inertia: number,
    readonly silhouette: number,
    readonly diagnostics: KDiagnostic[],
    readonly featureNames: string[],
    readonly space: SegmentSpace,
  ) {}

  /** The segment of a customer and its profile; unknown customers throw ERR_AFFINITY_UNKNOWN_ID. */
  segmentOf(customer: Id): { segment: number; profile: SegmentProfile } {
    const segment = this.assignments[this.customers.indexOf(customer)];
    return { segment, profile: this.profiles[segment] };
  }

  /** The nearest segment of a raw feature row (featureNames order: RFM as days, baskets and spend; then ALS factors). */
  assign(row: ArrayLike<number>): number {
    const { centroids, mean, std } = this.space;
    const d = this.featureNames.length;
    if (row.length !== d) throw new AffinityError(`the row has ${row.length} features, the model ${d}`, ErrorCode.DimMismatch);
    const z = Array.from({ length: d }, (_, j) => (rfmTransform(this.featureNames[j], Number(row[j])) - mean[j]) / std[j]);
    if (z.some((v) => !Number.isFinite(v))) throw badInput('the row must hold finite numbers');
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < this.k; c++) {
      let distance = 0;
      for (let j = 0; j < d; j++) distance += (z[j] - centroids[c * d + j]) ** 2;
      if (distance < bestDistance) (best = c), (bestDistance = distance);
    }
    return best;
  }

  /**
   * Erasure: the segmentation without these customers' rows; each profile's size and share count them
   * out, and their points leave the projection (the centroids, the profiles' means and the axes stay as
   * fitted until the next fit).
   */
  async withoutCustomers(customers: Id[]): Promise<Segmentation> {
    const rows = rowsWithout(this.customers, customers);
    if (!rows) return this;
    const assignments = Int32Array.from(rows, (r) => this.assignments[r]);
    const sizes = new Array<number>(this.k).fill(0);
    for (const a of assignments) sizes[a]++;
    const profiles = this.profiles.map((p) => ({ ...p, size: sizes[p.segment], share: rows.length === 0 ? 0 : sizes[p.segment] / rows.length }));
    const out = new Segmentation(this.k, new IdMap(Array.from(rows, (r) => this.customers.ids[r]), 'user'), assignments, profiles, this.inertia, this.silhouette, this.diagnostics, this.featureNames, this.space);
    out.metadata = withDataSizes(this.metadata, { customers: rows.length });
    if (out.metadata?.projection) out.metadata = { ...out.metadata, projection: projectionWithout(out.metadata.projection, rows, this.customers.size) };
    return out;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const { centroids, mean, std, ...spec } = this.space;
    return {
      kind: Segmentation.kind,
      header: {
        k: this.k,
        customers: this.customers.size,
        dims: this.featureNames.length,
        featureNames: this.featureNames,
        space: spec,
        inertia: this.inertia,
        silhouette: this.silhouette,
        diagnostics: this.diagnostics,
        profiles: this.profiles,
        ids: { customers: [...this.customers.ids] },
      },
      arrays: { assignments: this.assignments, centroids, mean, std },
    };
  }

  static async fromParts(file: ModelFile): Promise<Segmentation> {
    const { k, customers: n, dims: d, featureNames, space, inertia, silhouette, diagnostics, profiles } = file.fields;
    if (![k, n, d].every((x) => Number.isInteger(x) && (x as number) >= 0) || (k as number) < 1) throw file.corrupt('bad dimensions');
    const assignments = file.i32('assignments', n as number);
    for (let i = 0; i < assignments.length; i++) if (assignments[i] < 0 || assignments[i] >= (k as number)) throw file.corrupt(`customer ${i} is in segment ${assignments[i]} of ${k as number}`);
    const centroids = file.f32('centroids', (k as number) * (d as number));
    await file.finite(centroids, 'centroids');
    const std = finite64(file, 'std', d as number);
    if (std.some((s) => !(s > 0))) throw file.corrupt('a standard deviation is not positive');
    const s = space as { features?: unknown; asOf?: unknown } | undefined;
    if (s === null || typeof s !== 'object' || !FEATURES.includes(s.features as never) || typeof s.asOf !== 'number') throw file.corrupt('feature space missing or malformed');
    if (!Array.isArray(featureNames) || featureNames.length !== d || !featureNames.every((x) => typeof x === 'string')) throw file.corrupt('feature names do not match the dimensions');
    if (!Array.isArray(profiles) || profiles.length !== k || !profiles.every((p, i) => p !== null && typeof p === 'object' && (p as SegmentProfile).segment === i)) throw file.corrupt('profiles do not match the segments');
    if (typeof inertia !== 'number' || typeof silhouette !== 'number' || !Array.isArray(diagnostics)) throw file.corrupt('fit figures missing');
    const ids = (file.header.ids as { customers?: unknown } | undefined)?.customers;
    if (!Array.isArray(ids) || ids.length !== n) throw file.corrupt('id maps do not match the dimensions');
    const space_: SegmentSpace = { features: s.features as SegmentSpace['features'], asOf: s.asOf, centroids, mean: finite64(file, 'mean', d as number), std };
    return new Segmentation(k as number, await idMapOf(file, ids, 'user'), assignments, profiles as SegmentProfile[], inertia, silhouette, diagnostics as KDiagnostic[], featureNames as string[], space_);
  }
}

/** RFM columns are clustered as log1p(days), log1p(baskets) and signed log1p(spend); factors as they are. */
function rfmTransform(feature: string, x: number): number {
  return feature === 'recency' || feature === 'frequency' ? Math.log1p(x) : feature === 'monetary' ? slog1p(x) : x;
}

const FEATURES = ['rfm', 'embedding', 'both'] as const;

/**
 * Segments customers. RFM features are log1p(recency days), log1p(baskets) and signed log1p(spend),
 * standardized to zero mean and unit variance; embedding features are the ALS user factors, standardized
 * and scaled so that, with 'both', each block carries the same total variance.
 */
export async function segmentCustomers(tx: Transactions, options: SegmentOptions = {}): Promise<Segmentation> {
  if (options === null || typeof options !== 'object') throw badInput('options must be an object');
  const features = oneOf(options.features, 'features', FEATURES, 'rfm');
  const k = intOption(options.k, 'k', 1, 1000, 5);
  const seed = intOption(options.seed, 'seed', 0, 0x7ffffffe, 42);
  if (features !== 'rfm' && !options.als) throw badInput(`features '${features}' needs options.als, a fitted ALS model`);
  if (tx.size === 0) throw badInput('there are no transactions');
  const asOf = options.asOf ?? tx.timeRange[1] + 86_400;
  const stats = customerStats(tx, asOf);
  const ids = Array.from(stats.rows, (c) => tx.customers.ids[c]);
  if (k > ids.length) throw badInput(`k (${k}) exceeds the number of customers (${ids.length})`);

  const rfm: Matrix = { values: new Float32Array(ids.length * 3), rows: ids.length, dims: 3 };
  for (let r = 0; r < ids.length; r++) {
    rfm.values[r * 3] = Math.log1p(stats.recency[r]);
    rfm.values[r * 3 + 1] = Math.log1p(stats.frequency[r]);
    rfm.values[r * 3 + 2] = slog1p(stats.monetary[r]);
  }
  const blocks: Matrix[] = [];
  const names: string[] = [];
  const mean: number[] = [];
  const std: number[] = [];
  if (features !== 'embedding') {
    const s = fitStandardizer(rfm);
    blocks.push(standardize(rfm, s));
    names.push('recency', 'frequency', 'monetary');
    mean.push(...s.mean);
    std.push(...s.std);
  }
  if (features !== 'rfm') {
    const f = factorRows(options.als!, ids);
    const s = fitStandardizer(f);
    const z = standardize(f, s);
    const scale = features === 'both' ? Math.sqrt(3 / f.dims) : 1;
    for (let i = 0; i < z.values.length; i++) z.values[i] *= scale;
    blocks.push(z);
    for (let d = 0; d < f.dims; d++) names.push(`factor${d}`);
    mean.push(...s.mean);
    std.push(...Array.from(s.std, (x) => x / scale));
  }
  const x = hstack(blocks);

  const job = { signal: options.signal };
  const sample = { ...job, sampleSize: options.silhouetteSample, seed };
  const diagnostics: KDiagnostic[] = [];
  const runs = new Map<number, { model: KMeans; silhouette: number }>();
  if (options.kRange) {
    const [lo, hi] = options.kRange;
    intOption(lo, 'kRange[0]', 1, 1000, 1);
    intOption(hi, 'kRange[1]', lo, Math.min(1000, ids.length), lo);
    for (let kk = lo; kk <= hi; kk++) {
      const m = await kmeans(x, { k: kk, seed, ...job });
      const s = kk > 1 ? await silhouetteScore(x, m.assignments, sample) : 0;
      runs.set(kk, { model: m, silhouette: s });
      diagnostics.push({ k: kk, inertia: m.inertia, silhouette: s });
      options.onProgress?.((kk - lo + 1) / (hi - lo + 2));
    }
  }
  // The chosen k was usually among the diagnostics: the same seed gives the same model, so reuse it.
  const model = runs.get(k)?.model ?? (await kmeans(x, { k, seed, ...job }));
  const silhouette = runs.get(k)?.silhouette ?? (k > 1 ? await silhouetteScore(x, model.assignments, sample) : 0);

  // Relabel by mean spend, highest first, so segment numbers mean something across runs.
  const spend = new Float64Array(k);
  for (let r = 0; r < ids.length; r++) spend[model.assignments[r]] += stats.monetary[r];
  const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => spend[b] / Math.max(1, model.sizes[b]) - spend[a] / Math.max(1, model.sizes[a]) || a - b);
  const relabel = new Int32Array(k);
  order.forEach((c, i) => (relabel[c] = i));
  const assignments = Int32Array.from(model.assignments, (c) => relabel[c]);
  const profiles = buildProfiles(tx, stats, assignments, k, options.categoryOf);
  const dims = names.length;
  const centroids = new Float32Array(k * dims);
  for (let c = 0; c < k; c++) centroids.set(model.centroids.subarray(c * dims, (c + 1) * dims), relabel[c] * dims);
  const space: SegmentSpace = { features, asOf, centroids, mean: Float64Array.from(mean), std: Float64Array.from(std) };
  options.onProgress?.(1);
  const segmentation = new Segmentation(k, new IdMap(ids, 'user'), assignments, profiles, model.inertia, silhouette, diagnostics, names, space);
  segmentation.metadata = {
    ...trainingMetadata({ lines: tx.size, customers: ids.length, items: tx.items.size }, { features, k, kRange: options.kRange ?? null, asOf, seed }),
    projection: projectionOf(x, assignments),
  };
  return segmentation;
}

/**
 * Customers on the two leading principal axes of the clustered space (a sample of them, no ids), with the
 * share of variance each axis explains: the dashboard's map of the segments.
 */
export function projectionOf(x: Matrix, assignments: Int32Array): NonNullable<TrainingMetadata['projection']> {
  const { rows, dims, values } = x;
  const axes = principalAxes(x, Math.min(2, dims));
  const rowsKept = sampleRows(rows);
  const coordinate = (axis: Float64Array | undefined, r: number) => {
    if (!axis) return 0;
    let s = 0;
    for (let d = 0; d < dims; d++) s += values[r * dims + d] * axis[d];
    return Math.round(s * 1e4) / 1e4;
  };
  return {
    x: rowsKept.map((r) => coordinate(axes.vectors[0], r)),
    y: rowsKept.map((r) => coordinate(axes.vectors[1], r)),
    segment: rowsKept.map((r) => assignments[r]),
    explained: [axes.explained[0] ?? 0, axes.explained[1] ?? 0],
    rows: rowsKept,
  };
}

/**
 * A projection over the rows kept (old row numbers, in order, of `before` rows): the points of rows that
 * went are dropped and the rest renumbered. A projection that does not say its rows (older files) cannot
 * tell whose points are whose, so it goes entirely.
 */
function projectionWithout(p: NonNullable<TrainingMetadata['projection']>, kept: Int32Array, before: number): TrainingMetadata['projection'] {
  if (!p.rows) return undefined;
  const renumbered = new Int32Array(before).fill(-1);
  kept.forEach((old, i) => (renumbered[old] = i));
  const points = p.rows.flatMap((r, i) => (r < before && renumbered[r] >= 0 ? [i] : []));
  return { x: points.map((i) => p.x[i]), y: points.map((i) => p.y[i]), segment: points.map((i) => p.segment[i]), explained: p.explained, rows: points.map((i) => renumbered[p.rows![i]]) };
}

/**
 * The leading eigenvectors of the covariance of x's columns (x is already centred: standardized), by power
 * iteration with deflation, and the share of the total variance each explains.
 */
export function principalAxes(x: Matrix, count: number): { vectors: Float64Array[]; explained: number[] } {
  const { rows, dims, values } = x;
  const cov = new Float64Array(dims * dims);
  for (let r = 0; r < rows; r++)
    for (let a = 0; a < dims; a++) {
      const va = values[r * dims + a];
      for (let b = a; b < dims; b++) cov[a * dims + b] += va * values[r * dims + b];
    }
  for (let a = 0; a < dims; a++) for (let b = a; b < dims; b++) cov[b * dims + a] = cov[a * dims + b] /= Math.max(1, rows);
  let total = 0;
  for (let a = 0; a < dims; a++) total += cov[a * dims + a];
  const vectors: Float64Array[] = [];
  const explained: number[] = [];
  for (let c = 0; c < count; c++) {
    let v = Float64Array.from({ length: dims }, (_, d) => 1 + d * 0.1);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(dims);
      for (let a = 0; a < dims; a++) for (let b = 0; b < dims; b++) w[a] += cov[a * dims + b] * v[b];
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let a = 0; a < dims; a++) w[a] /= norm;
      const change = w.reduce((m, wa, a) => m + Math.abs(wa - v[a]), 0);
      v = w;
      lambda = norm;
      if (change < 1e-10) break;
    }
    vectors.push(v);
    explained.push(total > 0 ? lambda / total : 0);
    for (let a = 0; a < dims; a++) for (let b = 0; b < dims; b++) cov[a * dims + b] -= lambda * v[a] * v[b];
  }
  return { vectors, explained };
}

function buildProfiles(
  tx: Transactions,
  stats: ReturnType<typeof customerStats>,
  assignments: Int32Array,
  k: number,
  categoryOf?: (item: Id) => string | undefined,
): SegmentProfile[] {
  const rowOf = new Int32Array(tx.customers.size).fill(-1);
  stats.rows.forEach((c, r) => (rowOf[c] = r));
  const profiles: SegmentProfile[] = Array.from({ length: k }, (_, segment) => ({
    segment,
    size: 0,
    share: 0,
    recencyDays: 0,
    frequency: 0,
    monetary: 0,
    topItems: [],
    topCategories: [],
  }));
  for (let r = 0; r < assignments.length; r++) {
    const p = profiles[assignments[r]];
    p.size++;
    p.recencyDays += stats.recency[r];
    p.frequency += stats.frequency[r];
    p.monetary += stats.monetary[r];
  }
  // Distinct buyers per (segment, item), and lines per (segment, category).
  const buyers = Array.from({ length: k }, () => new Map<number, Set<number>>());
  const categories = Array.from({ length: k }, () => new Map<string, number>());
  for (let i = 0; i < tx.size; i++) {
    const r = rowOf[tx.customer[i]];
    if (r < 0) continue;
    const s = assignments[r];
    let set = buyers[s].get(tx.item[i]);
    if (!set) buyers[s].set(tx.item[i], (set = new Set()));
    set.add(r);
    const category = categoryOf?.(tx.items.ids[tx.item[i]]);
    if (category !== undefined) categories[s].set(category, (categories[s].get(category) ?? 0) + 1);
  }
  for (const p of profiles) {
    const n = Math.max(1, p.size);
    p.share = p.size / assignments.length;
    p.recencyDays /= n;
    p.frequency /= n;
    p.monetary /= n;
    p.topItems = Array.from(buyers[p.segment], ([item, set]) => ({ item: tx.items.ids[item], customers: set.size }))
      .sort((a, b) => b.customers - a.customers || String(a.item).localeCompare(String(b.item)))
      .slice(0, 5);
    const total = Array.from(categories[p.segment].values()).reduce((a, b) => a + b, 0);
    p.topCategories = Array.from(categories[p.segment], ([category, count]) => ({ category, share: count / total }))
      .sort((a, b) => b.share - a.share || a.category.localeCompare(b.category))
      .slice(0, 5);
  }
  return profiles;
}
