// A plain TypeScript CART grower written from the definitions, for the tests to hold the native trees to:
// the same bins (native binning is checked against sorted ranks on its own), the same random streams
// (sfc32), and the same rules, so the splits must agree node for node.
import { Random } from '../src/core/random.js';

export interface RefTreeData {
  rows: number;
  dims: number;
  /** features * rows, column-major bin codes (255 = missing). */
  bins: Uint8Array;
  binCount: Int32Array;
  edges: Float32Array[];
  categorical: boolean[];
  task: 'classification' | 'regression';
  classes: number;
  label: Int32Array;
  target: Float32Array;
  weights?: Float32Array;
}

export interface RefTreeOptions {
  criterion: 'gini' | 'entropy' | 'squared_error';
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  maxFeatures: number;
  trees: number;
  bootstrap: boolean;
  seed: number;
}

export interface RefNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
  missingLeft: boolean;
  leftCategories?: number[];
  value: number[];
  samples: number;
}

type Stats = number[];

export function referenceForest(d: RefTreeData, o: RefTreeOptions): RefNode[][] {
  const width = d.task === 'classification' ? 1 + d.classes : 4;
  const weight = (s: Stats) => (d.task === 'classification' ? s.slice(1).reduce((a, b) => a + b, 0) : s[1]);
  const score = (s: Stats) => {
    const w = weight(s);
    if (o.criterion === 'squared_error') return s[1] > 0 ? (s[2] * s[2]) / s[1] : 0;
    if (o.criterion === 'gini') {
      if (!(w > 0)) return 0;
      let q = 0;
      for (let c = 0; c < d.classes; c++) q += s[1 + c] * s[1 + c];
      return q / w;
    }
    let q = 0;
    for (let c = 0; c < d.classes; c++) if (s[1 + c] > 0) q += s[1 + c] * Math.log2(s[1 + c] / w);
    return q;
  };
  const add = (into: Stats, count: number, w: number, r: number) => {
    into[0] += count;
    if (d.task === 'classification') into[1 + d.label[r]] += w;
    else {
      const wy = w * d.target[r];
      into[1] += w;
      into[2] += wy;
      into[3] += wy * d.target[r];
    }
  };
  const pure = (s: Stats) => {
    if (d.task === 'classification') {
      const w = weight(s);
      return s.slice(1).filter((v) => v > 1e-9 * w).length <= 1;
    }
    const mean = s[2] / s[1];
    return Math.max(0, s[3] / s[1] - mean * mean) <= 1e-14 * Math.max(1, mean * mean);
  };
  const value = (s: Stats) =>
    d.task === 'classification' ? Array.from({ length: d.classes }, (_, c) => Math.fround(Math.max(0, s[1 + c]) / weight(s))) : [Math.fround(s[2] / s[1])];
  const sortKey = (s: Stats, majority: number) => {
    if (d.task === 'regression') return s[1] > 0 ? s[2] / s[1] : 0;
    const w = weight(s);
    return w > 0 ? s[1 + (d.classes === 2 ? 1 : majority)] / w : 0;
  };

  const forest: RefNode[][] = [];
  for (let t = 0; t < o.trees; t++) {
    const rng = new Random((o.seed + Math.imul(0x9e3779b9, t + 1)) >>> 0);
    const count = new Float64Array(d.rows);
    if (o.bootstrap) for (let i = 0; i < d.rows; i++) count[Math.floor((rng.nextUint32() * d.rows) / 4294967296)] += 1;
    else count.fill(1);
    const w = Float64Array.from(count, (c, r) => Math.fround(c * (d.weights ? d.weights[r] : 1)));
    const rows: number[] = [];
    for (let r = 0; r < d.rows; r++) if (count[r] > 0) rows.push(r);
    const perm = Array.from({ length: d.dims }, (_, i) => i);
    const nodes: RefNode[] = [];
    const newNode = (s: Stats) => nodes.push({ feature: -1, threshold: 0, left: -1, right: -1, missingLeft: false, value: value(s), samples: s[0] }) - 1;
    const total: Stats = new Array(width).fill(0);
    for (const r of rows) add(total, count[r], w[r], r);
    newNode(total);
    const stack: { node: number; rows: number[]; depth: number; total: Stats }[] = [{ node: 0, rows, depth: 0, total }];
    while (stack.length) {
      const p = stack.pop()!;
      const s = p.total;
      if (p.depth >= o.maxDepth || s[0] < o.minSamplesSplit || s[0] < 2 * o.minSamplesLeaf || pure(s)) continue;
      const parentScore = score(s);
      let majority = 0;
      if (d.task === 'classification') for (let c = 1; c < d.classes; c++) if (s[1 + c] > s[1 + majority]) majority = c;
      let best = null as { gain: number; f: number; missingLeft: boolean; L: Stats; R: Stats; bin: number; cats: number[] } | null;
      for (let j = 0, examined = 0; j < d.dims && examined < o.maxFeatures; j++) {
        const k = j + Math.floor((rng.nextUint32() * (d.dims - j)) / 4294967296);
        [perm[j], perm[k]] = [perm[k], perm[j]];
        const f = perm[j];
        const hist: Stats[] = Array.from({ length: 256 }, () => new Array(width).fill(0));
        for (const r of p.rows) add(hist[d.bins[f * d.rows + r]], count[r], w[r], r);
        if (hist.filter((h) => h[0] > 0).length < 2) continue;
        examined++;
        let order: number[] = [];
        for (let b = 0; b < d.binCount[f]; b++) if (hist[b][0] > 0) order.push(b);
        if (d.categorical[f]) order = order.map((b) => ({ b, key: sortKey(hist[b], majority) })).sort((a, c) => (a.key < c.key ? -1 : a.key > c.key ? 1 : 0)).map((e) => e.b);
        const missing = hist[255];
        const nonMissing = s.map((v, i) => v - missing[i]);
        const left: Stats = new Array(width).fill(0);
        for (let jj = 0; jj < order.length; jj++) {
          for (let i = 0; i < width; i++) left[i] += hist[order[jj]][i];
          for (const missingLeft of [false, true]) {
            if (missingLeft && (missing[0] === 0 || jj === order.length - 1)) continue;
            const L = left.map((v, i) => v + (missingLeft ? missing[i] : 0));
            const R = left.map((v, i) => nonMissing[i] - v + (missingLeft ? 0 : missing[i]));
            if (L[0] < o.minSamplesLeaf || R[0] < o.minSamplesLeaf || !(weight(L) > 0) || !(weight(R) > 0)) continue;
            const gain = score(L) + score(R) - parentScore;
            if (best !== null && !(gain > best.gain)) continue;
            best = { gain, f, missingLeft, L, R, bin: order[jj], cats: order.slice(0, jj + 1) };
          }
        }
        if (best?.f === f && missing[0] === 0) best.missingLeft = best.L[0] >= best.R[0];
      }
      if (best === null || !(best.gain > 0)) continue;
      const b = best;
      const cat = d.categorical[b.f];
      const goesLeft = (r: number) => {
        const v = d.bins[b.f * d.rows + r];
        if (v === 255) return b.missingLeft;
        return cat ? b.cats.includes(v) : v <= b.bin;
      };
      const l = newNode(b.L);
      const rr = newNode(b.R);
      Object.assign(nodes[p.node], {
        feature: b.f,
        left: l,
        right: rr,
        missingLeft: b.missingLeft,
        threshold: cat ? NaN : b.bin < d.edges[b.f].length ? d.edges[b.f][b.bin] : Infinity,
        ...(cat ? { leftCategories: [...b.cats].sort((x, y) => x - y) } : {}),
      });
      stack.push({ node: rr, rows: p.rows.filter((r) => !goesLeft(r)), depth: p.depth + 1, total: b.R });
      stack.push({ node: l, rows: p.rows.filter(goesLeft), depth: p.depth + 1, total: b.L });
    }
    forest.push(nodes);
  }
  return forest;
}
