// Plain TypeScript reference implementations: straightforward sparse code in float64, written from the
// textbook definitions. Tests hold the native kernels to these; the similarity bench races them.
import type { NativeCsr } from '../bindings/native.js';
import { Random } from '../src/core/random.js';

export interface RefSimilarityOptions {
  axis: 'items' | 'users';
  measure: 'cosine' | 'pearson' | 'jaccard' | 'dot' | 'lift';
  k: number;
  shrink?: number;
  minSimilarity?: number;
  minSupport?: number;
  weighting?: 'none' | 'tfidf' | 'bm25';
  bm25K1?: number;
  bm25B?: number;
}

export interface RefRow {
  index: number;
  score: number;
}

type SparseRows = { index: number[]; value: number[] }[];

function rowsOf(csr: NativeCsr, axis: 'items' | 'users'): { rows: SparseRows; features: number } {
  const nVec = axis === 'users' ? csr.rows : csr.cols;
  const rows: SparseRows = Array.from({ length: nVec }, () => ({ index: [], value: [] }));
  for (let u = 0; u < csr.rows; u++) {
    for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) {
      const i = csr.indices[p];
      const v = csr.data[p];
      if (axis === 'users') {
        rows[u].index.push(i);
        rows[u].value.push(v);
      } else {
        rows[i].index.push(u);
        rows[i].value.push(v);
      }
    }
  }
  return { rows, features: axis === 'users' ? csr.cols : csr.rows };
}

/** The vectors to compare, with the measure's preprocessing applied. */
export function referenceVectors(csr: NativeCsr, o: RefSimilarityOptions): { rows: SparseRows; features: number } {
  const { rows, features } = rowsOf(csr, o.axis);
  if (o.measure === 'jaccard' || o.measure === 'lift') for (const r of rows) r.value = r.value.map(() => 1);
  const weighting = o.weighting ?? 'none';
  if (weighting !== 'none') {
    const df = new Float64Array(features);
    for (const r of rows) for (const f of r.index) df[f]++;
    const idf = Array.from(df, (d) => Math.log(Math.max(rows.length, 1)) - Math.log1p(d));
    if (weighting === 'tfidf') {
      for (const r of rows) r.value = r.value.map((v, p) => Math.sqrt(v) * idf[r.index[p]]);
    } else {
      const k1 = o.bm25K1 ?? 100;
      const b = o.bm25B ?? 0.8;
      const lengths = rows.map((r) => r.value.reduce((a, v) => a + v, 0));
      const total = lengths.reduce((a, v) => a + v, 0);
      const avg = rows.length > 0 && total > 0 ? total / rows.length : 1;
      rows.forEach((r, i) => {
        const norm = 1 - b + (b * lengths[i]) / avg;
        r.value = r.value.map((v, p) => ((v * (k1 + 1)) / (k1 * norm + v)) * idf[r.index[p]]);
      });
    }
  }
  if (o.measure === 'pearson') {
    for (const r of rows) {
      if (r.value.length === 0) continue;
      const mean = r.value.reduce((a, v) => a + v, 0) / r.value.length;
      r.value = r.value.map((v) => v - mean);
    }
  }
  return { rows, features };
}

/** Similarity of every pair sharing a feature, as a function of (row, col, accumulated product). */
export function referenceSimilarity(csr: NativeCsr, o: RefSimilarityOptions): RefRow[][] {
  const { rows, features } = referenceVectors(csr, o);
  const n = rows.length;
  const shrink = o.shrink ?? 0;
  const minSim = o.minSimilarity ?? 0;
  const minSupport = o.minSupport ?? 1;
  const norm = rows.map((r) => Math.sqrt(r.value.reduce((a, v) => a + v * v, 0)));
  const count = rows.map((r) => r.index.length);
  // Inverted index: feature -> (row, value)
  const byFeature: { row: number[]; value: number[] }[] = Array.from({ length: features }, () => ({ row: [], value: [] }));
  rows.forEach((r, i) => r.index.forEach((f, p) => (byFeature[f].row.push(i), byFeature[f].value.push(r.value[p]))));
  const acc = new Float64Array(n);
  const touched: number[] = [];
  const mark = new Uint8Array(n);
  const out: RefRow[][] = [];
  for (let i = 0; i < n; i++) {
    touched.length = 0;
    rows[i].index.forEach((f, p) => {
      const w = rows[i].value[p];
      const col = byFeature[f];
      for (let q = 0; q < col.row.length; q++) {
        const j = col.row[q];
        if (!mark[j]) {
          mark[j] = 1;
          touched.push(j);
        }
        acc[j] += w * col.value[q];
      }
    });
    const row: RefRow[] = [];
    for (const j of touched) {
      const dot = acc[j];
      acc[j] = 0;
      mark[j] = 0;
      if (j === i || dot === 0) continue;
      let sim: number;
      switch (o.measure) {
        case 'cosine':
        case 'pearson':
          sim = dot / (norm[i] * norm[j] + shrink);
          break;
        case 'dot':
          sim = dot / (1 + shrink);
          break;
        case 'jaccard':
          if (dot < minSupport) continue;
          sim = dot / (count[i] + count[j] - dot + shrink);
          break;
        case 'lift':
          if (dot < minSupport) continue;
          sim = dot / ((count[i] / Math.max(features, 1)) * count[j] + shrink);
          break;
      }
      if (sim > minSim) row.push({ index: j, score: sim });
    }
    row.sort((a, b) => b.score - a.score || a.index - b.index);
    out.push(row.slice(0, o.k));
  }
  return out;
}

/** ItemKNN (first = user's items, second = item neighbours) or UserKNN scores for one user, all items. */
export function referenceTwoHopScores(
  first: { indptr: ArrayLike<number>; indices: ArrayLike<number>; data: ArrayLike<number> },
  second: { indptr: ArrayLike<number>; indices: ArrayLike<number>; data: ArrayLike<number> },
  user: number,
  nItems: number,
): Map<number, number> {
  const scores = new Map<number, number>();
  for (let p = first.indptr[user]; p < first.indptr[user + 1]; p++) {
    const mid = first.indices[p];
    for (let q = second.indptr[mid]; q < second.indptr[mid + 1]; q++) {
      const item = second.indices[q];
      if (item >= nItems) throw new Error('bad item');
      scores.set(item, (scores.get(item) ?? 0) + first.data[p] * second.data[q]);
    }
  }
  return scores;
}

/**
 * Plain k-means: k-means++ seeding with the same generator and draws as the native one, then Lloyd steps
 * with double-precision distances. Stops when no assignment changes or after `iterations`.
 */
export function referenceKMeans(values: Float32Array, rows: number, dims: number, k: number, iterations: number, seed: number) {
  const rng = new Random(seed);
  const dist = (a: number, c: Float64Array | Float32Array, at: number) => {
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const x = values[a * dims + d] - c[at + d];
      s += x * x;
    }
    return s;
  };
  const centroids = new Float64Array(k * dims);
  const closest = new Float64Array(rows).fill(Infinity);
  let pick = Math.min(Math.floor(rng.next() * rows), rows - 1);
  for (let c = 0; c < k; c++) {
    if (c > 0) {
      let total = 0;
      for (const d of closest) total += d;
      const u = rng.next() * total;
      let cumulative = 0;
      pick = -1;
      for (let r = 0; r < rows && pick < 0; r++) if ((cumulative += closest[r]) > u) pick = r;
      if (pick < 0) pick = c % rows;
    }
    const centre = values.subarray(pick * dims, (pick + 1) * dims);
    centroids.set(centre, c * dims);
    for (let r = 0; r < rows; r++) closest[r] = Math.min(closest[r], dist(r, centre, 0));
  }
  const seeds = Float64Array.from(centroids);
  const assignments = new Int32Array(rows).fill(-1);
  let it = 0;
  while (it < iterations) {
    it++;
    let changed = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestDist = Infinity;
      for (let c = 0; c < k; c++) {
        const d = dist(r, centroids, c * dims);
        if (d < bestDist) (bestDist = d), (best = c);
      }
      if (assignments[r] !== best) changed++;
      assignments[r] = best;
    }
    if (changed === 0 || it === iterations) break;
    const sums = new Float64Array(k * dims);
    const counts = new Float64Array(k);
    for (let r = 0; r < rows; r++) {
      counts[assignments[r]]++;
      for (let d = 0; d < dims; d++) sums[assignments[r] * dims + d] += values[r * dims + d];
    }
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d] / counts[c];
  }
  return { seeds, centroids, assignments, iterations: it };
}
