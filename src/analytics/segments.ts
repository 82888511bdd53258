// Customer segmentation: RFM and/or ALS embeddings, standardized, clustered with k-means.
import type { ALS } from '../models/als.js';
import { badInput } from '../core/errors.js';
import { IdMap, type Id } from '../data/ids.js';
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

export class Segmentation {
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
  ) {}

  /** The segment of a customer and its profile; unknown customers throw ERR_AFFINITY_UNKNOWN_ID. */
  segmentOf(customer: Id): { segment: number; profile: SegmentProfile } {
    const segment = this.assignments[this.customers.indexOf(customer)];
    return { segment, profile: this.profiles[segment] };
  }
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
  if (features !== 'embedding') {
    blocks.push(standardize(rfm, fitStandardizer(rfm)));
    names.push('recency', 'frequency', 'monetary');
  }
  if (features !== 'rfm') {
    const f = factorRows(options.als!, ids);
    const z = standardize(f, fitStandardizer(f));
    const scale = features === 'both' ? Math.sqrt(3 / f.dims) : 1;
    for (let i = 0; i < z.values.length; i++) z.values[i] *= scale;
    blocks.push(z);
    for (let d = 0; d < f.dims; d++) names.push(`factor${d}`);
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
  options.onProgress?.(1);
  return new Segmentation(k, new IdMap(ids, 'user'), assignments, profiles, model.inertia, silhouette, diagnostics, names);
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
