import { describe, expect, it } from 'vitest';
import {
  AffinityError,
  ALS,
  ContentRecommender,
  ErrorCode,
  HybridRecommender,
  Interactions,
  LogisticRegression,
  Transactions,
  churnDataset,
  classificationMetrics,
  coPurchaseRules,
  kmeans,
  segmentCustomers,
  silhouetteScore,
  tokenize,
} from '../src/index.js';
import { Random } from '../src/core/random.js';
import { referenceKMeans } from './reference.js';
import { atEachLevel } from './helpers.js';

const DAY = 86_400;

function blobs(rows: number, dims: number, k: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: rows * dims }, (_, i) => rng.normal() * 0.5 + (Math.floor(i / dims) % k) * 4 * (i % 2 ? 1 : -1));
}

describe('kmeans', () => {
  it('matches the TypeScript reference: same seeds, same assignments, on every SIMD level', async () => {
    for (const seed of [1, 2, 3]) {
      const values = blobs(600, 5, 4, seed);
      const ref = referenceKMeans(values, 600, 5, 4, 100, seed);
      await atEachLevel(async () => {
        const m = await kmeans({ values, rows: 600, dims: 5 }, { k: 4, seed, tolerance: 0 });
        expect(Array.from(m.assignments)).toEqual(Array.from(ref.assignments));
        for (let i = 0; i < ref.centroids.length; i++) expect(m.centroids[i]).toBeCloseTo(ref.centroids[i], 4);
        expect(m.converged).toBe(true);
        expect(Array.from(await m.predict({ values, rows: 600, dims: 5 }))).toEqual(Array.from(m.assignments));
      });
    }
  });

  it('reports iterations, can be cancelled, and rejects bad input with codes', async () => {
    const values = blobs(2000, 4, 3, 9);
    const seen: number[] = [];
    await kmeans({ values, rows: 2000, dims: 4 }, { k: 3, onIteration: (_i, inertia) => seen.push(inertia) });
    await new Promise((resolve) => setTimeout(resolve, 50)); // iteration events are queued to the JS thread
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeLessThanOrEqual(seen[i - 1] * (1 + 1e-6));
    const aborted = AbortSignal.abort();
    await expect(kmeans({ values, rows: 2000, dims: 4 }, { k: 3, signal: aborted })).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    await expect(kmeans([[1, 2], [3, 4]], { k: 3 })).rejects.toMatchObject({ code: ErrorCode.BadInput });
    await expect(kmeans([[1, 2], [3]], { k: 1 })).rejects.toMatchObject({ code: ErrorCode.DimMismatch });
    await expect(kmeans([[1, NaN]], { k: 1 })).rejects.toMatchObject({ code: ErrorCode.BadInput });
    await expect(kmeans({ values: new Float32Array(5), rows: 2, dims: 2 }, { k: 1 })).rejects.toMatchObject({ code: ErrorCode.DimMismatch });
  });

  it('silhouette: 1 for far apart tight clusters, near 0 for one blob split in two', async () => {
    const far = [[0, 0], [0, 0.1], [100, 0], [100, 0.1]];
    expect(await silhouetteScore(far, [0, 0, 1, 1])).toBeGreaterThan(0.99);
    const rng = new Random(4);
    const blob = Array.from({ length: 400 }, () => [rng.normal(), rng.normal()]);
    const halves = blob.map((p) => (p[0] < 0 ? 0 : 1));
    const s = await silhouetteScore(blob, halves);
    expect(s).toBeGreaterThan(0.2);
    expect(s).toBeLessThan(0.5);
  });
});

describe('logistic regression', () => {
  // Labels from a known model; the fit must land at a stationary point and near the true coefficients.
  function data(rows: number, seed: number) {
    const rng = new Random(seed);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < rows; i++) {
      const row = [rng.normal(), rng.normal(), rng.normal()];
      const z = 1.5 * row[0] - 2 * row[1] + 0.5;
      x.push(row);
      y.push(rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    }
    return { x, y };
  }

  // Gradient of the documented loss in float64, written from the definition.
  function referenceGradient(x: number[][], y: number[], w: number[], b: number, l2: number): number[] {
    const g = new Array(w.length + 1).fill(0);
    for (let i = 0; i < x.length; i++) {
      const z = x[i].reduce((s, v, d) => s + v * w[d], b);
      const r = 1 / (1 + Math.exp(-z)) - y[i];
      x[i].forEach((v, d) => (g[d] += (r * v) / x.length));
      g[w.length] += r / x.length;
    }
    return g.map((v, d) => (d < w.length ? v + l2 * w[d] : v));
  }

  it('reaches the optimum: zero gradient by the reference, true coefficients recovered', async () => {
    const { x, y } = data(4000, 1);
    const model = await new LogisticRegression({ l2: 1e-3, standardize: false, tolerance: 1e-8 }).fit(x, y);
    expect(model.report).toMatchObject({ converged: true });
    const g = referenceGradient(x, y, Array.from(model.coefficients), model.intercept, 1e-3);
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-7);
    expect(model.coefficients[0]).toBeCloseTo(1.5, 0);
    expect(model.coefficients[1]).toBeCloseTo(-2, 0);
    expect(model.intercept).toBeCloseTo(0.5, 0);
    const p = model.predictProba(x);
    expect(classificationMetrics(y, p).rocAuc).toBeGreaterThan(0.85);
  });

  it('dense and sparse inputs give the same model; attributions sum to the log-odds', async () => {
    const { x, y } = data(500, 2);
    const dense = await new LogisticRegression({ standardize: false, tolerance: 1e-10 }).fit(x, y);
    const indptr = Int32Array.from({ length: 501 }, (_, i) => i * 3);
    const indices = Int32Array.from({ length: 1500 }, (_, i) => i % 3);
    const sparse = await new LogisticRegression({ standardize: false, tolerance: 1e-10 }).fit({ indptr, indices, data: Float32Array.from(x.flat()), shape: [500, 3] }, y);
    for (let d = 0; d < 3; d++) expect(sparse.coefficients[d]).toBeCloseTo(dense.coefficients[d], 5);
    const scaled = await new LogisticRegression({ featureNames: ['a', 'b', 'c'] }).fit(x, y);
    const a = scaled.attributions(x[7]);
    expect(a[0].feature).toMatch(/^[abc]$/);
    const logOdds = scaled.decision([x[7]])[0];
    expect(a.reduce((s, r) => s + r.contribution, scaled.intercept)).toBeCloseTo(logOdds, 6);
  });

  it('class weights shift predictions toward the rare class', async () => {
    const { x, y } = data(2000, 3);
    const rare = y.map((v, i) => (v === 1 && i % 4 !== 0 ? 0 : v));
    const plain = await new LogisticRegression().fit(x, rare);
    const balanced = await new LogisticRegression({ classWeight: 'balanced' }).fit(x, rare);
    const mean = (p: Float64Array) => p.reduce((s, v) => s + v, 0) / p.length;
    expect(mean(balanced.predictProba(x))).toBeGreaterThan(mean(plain.predictProba(x)) + 0.1);
  });

  it('rejects bad labels, shapes and options with codes', async () => {
    await expect(new LogisticRegression().fit([[1], [2]], [0, 2])).rejects.toMatchObject({ code: ErrorCode.BadInput });
    await expect(new LogisticRegression().fit([[1], [2]], [0])).rejects.toMatchObject({ code: ErrorCode.DimMismatch });
    expect(() => new LogisticRegression({ l2: -1 })).toThrow(AffinityError);
    expect(() => new LogisticRegression().predictProba([[1]])).toThrow(expect.objectContaining({ code: ErrorCode.NotFitted }));
  });
});

describe('classification metrics on hand-computed cases', () => {
  it('confusion counts, AUC with ties, average precision, calibration', () => {
    // scores: 0.9(1) 0.8(0) 0.7(1) 0.7(0) 0.2(0) 0.1(1)
    const y = [1, 0, 1, 0, 0, 1];
    const p = [0.9, 0.8, 0.7, 0.7, 0.2, 0.1];
    const m = classificationMetrics(y, p, { threshold: 0.5, bins: 2 });
    // predicted positive: first four -> tp 2, fp 2, fn 1, tn 1
    expect(m.accuracy).toBeCloseTo(3 / 6);
    expect(m.precision).toBeCloseTo(2 / 4);
    expect(m.recall).toBeCloseTo(2 / 3);
    expect(m.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3));
    // pairs (pos, neg): 0.9 beats 3; 0.7 beats 0.2 and ties 0.7 (0.5), loses to 0.8; 0.1 beats none -> 4.5/9
    expect(m.rocAuc).toBeCloseTo(4.5 / 9);
    // thresholds: {0.9}: R 1/3 P 1; {0.8}: no new positive; {0.7,0.7}: R 2/3 P 2/4; {0.2}: -; {0.1}: R 1 P 3/6
    expect(m.prAuc).toBeCloseTo((1 / 3) * 1 + (1 / 3) * 0.5 + (1 / 3) * 0.5);
    expect(m.calibration[0]).toMatchObject({ count: 2, observedRate: 0.5 });
    expect(m.calibration[1].count).toBe(4);
    expect(m.calibration[1].meanPredicted).toBeCloseTo((0.9 + 0.8 + 0.7 + 0.7) / 4);
  });
});

describe('tokenizer', () => {
  it('splits on Unicode word boundaries, lower-cases, NFKC-normalizes, keeps numbers', () => {
    expect(tokenize('WHITE Hanging-Heart T-Light holder, 12 pcs')).toEqual(['white', 'hanging', 'heart', 'light', 'holder', '12', 'pcs']);
    expect(tokenize('Ｃａｆé crème brûlée')).toEqual(['café', 'crème', 'brûlée']);
    expect(tokenize('Ελληνικά και русский текст')).toEqual(['ελληνικά', 'και', 'русский', 'текст']);
  });
  it('turns text without spaces into character bigrams, also inside mixed runs', () => {
    expect(tokenize('推荐系统')).toEqual(['推荐', '荐系', '系统']);
    expect(tokenize('iphone手机壳')).toEqual(['iphone', '手机', '机壳']);
    expect(tokenize('猫')).toEqual(['猫']);
    expect(tokenize('カレー と ラーメン')).toEqual(['カレ', 'レー', 'と', 'ラー', 'ーメ', 'メン']);
  });
  it('drops stopwords and short words on request', () => {
    expect(tokenize('a set of the mugs', { stopwords: new Set(['of', 'the']) })).toEqual(['set', 'mugs']);
    expect(tokenize('a b cd', { minLength: 1 })).toEqual(['a', 'b', 'cd']);
  });
});

describe('transactions, segments and churn', () => {
  // Three kinds of customers: frequent big spenders, occasional ones, and lapsed ones who stopped early.
  function shop(): Transactions {
    const rng = new Random(5);
    const customers: string[] = [];
    const items: string[] = [];
    const times: number[] = [];
    const amounts: number[] = [];
    const baskets: string[] = [];
    const start = 1_600_000_000;
    for (let c = 0; c < 90; c++) {
      const kind = c % 3;
      const visits = kind === 0 ? 20 : kind === 1 ? 6 : 2;
      for (let v = 0; v < visits; v++) {
        // The last visit is on a fixed day per kind, so recency separates the kinds too.
        const day = v === 0 ? (kind === 2 ? 29 : 359) : kind === 2 ? rng.int(29) : 180 + rng.int(179);
        for (let l = 0; l < 2; l++) {
          customers.push(`c${c}`);
          items.push(`i${(kind * 5 + rng.int(5)) % 15}`);
          times.push(start + day * DAY + v);
          amounts.push(kind === 0 ? 100 : kind === 1 ? 20 : 5);
          baskets.push(`c${c}-${v}`);
        }
      }
    }
    return Transactions.fromArrays({ customers, items, timestamps: times, amounts, baskets });
  }

  it('RFM segments separate the three kinds and describe them', async () => {
    const tx = shop();
    const s = await segmentCustomers(tx, { k: 3, kRange: [2, 4], categoryOf: (i) => (Number(String(i).slice(1)) < 5 ? 'gifts' : 'home') });
    expect(s.diagnostics.map((d) => d.k)).toEqual([2, 3, 4]);
    const kindOf = (c: number) => s.segmentOf(`c${c}`).segment;
    for (let c = 0; c < 90; c++) expect(kindOf(c)).toBe(kindOf(c % 3));
    expect(new Set([kindOf(0), kindOf(1), kindOf(2)]).size).toBe(3);
    // Segment 0 spends most: the big spenders.
    expect(kindOf(0)).toBe(0);
    const big = s.profiles[0];
    expect(big.size).toBe(30);
    expect(big.frequency).toBe(20);
    expect(big.monetary).toBe(20 * 2 * 100);
    expect(big.topCategories[0].category).toBe('gifts');
    expect(s.profiles[kindOf(2)].recencyDays).toBeGreaterThan(250);
    expect(() => s.segmentOf('nobody')).toThrow(expect.objectContaining({ code: ErrorCode.UnknownId }));
    const without = await s.withoutCustomers(['c0', 'c1']);
    expect(() => without.segmentOf('c0')).toThrow(expect.objectContaining({ code: ErrorCode.UnknownId }));
    expect(without.profiles.reduce((n, p) => n + p.size, 0)).toBe(88);
    for (let c = 2; c < 90; c++) expect(without.segmentOf(`c${c}`).segment).toBe(s.segmentOf(`c${c}`).segment);
    expect(s.segmentOf('c0').segment).toBe(kindOf(0)); // the served model is untouched
    await expect(segmentCustomers(tx, { features: 'embedding' })).rejects.toMatchObject({ code: ErrorCode.BadInput });
  });

  it('segments on ALS embeddings', async () => {
    const tx = shop();
    const als = await new ALS({ factors: 4, iterations: 5 }).fit(await tx.toInteractions('binary'));
    const s = await segmentCustomers(tx, { features: 'both', k: 3, als });
    expect(s.featureNames).toHaveLength(7);
    expect(s.profiles.reduce((n, p) => n + p.size, 0)).toBe(90);
  });

  it('churn labels follow the cutoff and horizon; features are computed before the cutoff', () => {
    const tx = Transactions.fromArrays({
      customers: ['a', 'a', 'b', 'c', 'a'],
      items: ['x', 'y', 'x', 'z', 'x'],
      timestamps: [0, 10 * DAY, 5 * DAY, 40 * DAY, 50 * DAY],
      amounts: [5, 7, 3, 1, 100],
    });
    const d = churnDataset(tx, { cutoff: 20 * DAY, horizonDays: 60 });
    expect(d.customers.ids).toEqual(['a', 'b']); // c first bought after the cutoff
    expect(Array.from(d.labels)).toEqual([0, 1]); // a came back on day 50, b did not
    const row = (c: string) => d.features.values.subarray(d.customers.indexOf(c) * d.features.dims, (d.customers.indexOf(c) + 1) * d.features.dims);
    expect(row('a')[0]).toBeCloseTo(10); // recency in days
    expect(row('a')[1]).toBeCloseTo(Math.log1p(2)); // two baskets
    expect(row('a')[2]).toBeCloseTo(Math.log1p(12)); // spend before the cutoff only
    expect(row('a')[3]).toBeCloseTo(20); // tenure
    expect(() => churnDataset(tx, { cutoff: NaN })).toThrow(expect.objectContaining({ code: ErrorCode.BadInput }));
  });
});

describe('co-purchase rules', () => {
  // Baskets: {a,b,c} {a,b} {a,c} {b,c} {a,b,d} {d}
  const tx = Transactions.fromArrays({
    customers: Array(13).fill('u'),
    items: ['a', 'b', 'c', 'a', 'b', 'a', 'c', 'b', 'c', 'a', 'b', 'd', 'd'],
    baskets: [1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6],
    timestamps: Array(13).fill(0),
  });

  it('support, confidence and lift match hand counts', async () => {
    const rules = await coPurchaseRules(tx, { minSupport: 1, rankBy: 'confidence' });
    // a in 4 baskets, b in 4, c in 3, d in 2; a&b in 3, a&c 2, b&c 2, a&d 1, b&d 1; N = 6
    const ab = rules.rulesFor('a').find((r) => r.consequent === 'b')!;
    expect(ab).toMatchObject({ count: 3, support: 3 / 6, confidence: 3 / 4 });
    expect(ab.lift).toBeCloseTo(3 / 4 / (4 / 6));
    expect(rules.rulesFor('a').map((r) => r.consequent)).toEqual(['b', 'c', 'd']);
    const dc = rules.rulesFor('d');
    expect(dc.map((r) => [r.consequent, r.count, r.confidence])).toEqual([['a', 1, 0.5], ['b', 1, 0.5]]);
    expect(rules.size).toBe(10);
  });

  it('thresholds and ranking by lift; alsoBought merges antecedents', async () => {
    const byLift = await coPurchaseRules(tx, { minSupport: 2 });
    expect(byLift.rulesFor('d')).toEqual([]);
    // c -> a: conf 2/3, lift (2/3)/(4/6) = 1; c -> b the same
    expect(byLift.rulesFor('c').map((r) => r.lift)).toEqual([1, 1]);
    const strict = await coPurchaseRules(tx, { minSupport: 1, minConfidence: 0.7, rankBy: 'confidence' });
    expect(strict.top().map((r) => `${r.antecedent}${r.consequent}`).sort()).toEqual(['ab', 'ba']);
    const also = (await coPurchaseRules(tx, { minSupport: 1, rankBy: 'confidence' })).alsoBought(['c', 'd', 'unknown'], { k: 5 });
    expect(also.map((r) => r.item)).toEqual(['a', 'b']);
    expect(also[0]).toMatchObject({ because: 'c', confidence: 2 / 3 });
    await expect(coPurchaseRules(tx, { rankBy: 'support' as never })).rejects.toMatchObject({ code: ErrorCode.BadInput });
  });
});

describe('content-based and hybrid recommendations', () => {
  const catalog = [
    { id: 'mug-red', text: 'Red ceramic coffee mug', categories: 'kitchen' },
    { id: 'mug-blue', text: 'Blue ceramic coffee mug', categories: 'kitchen' },
    { id: 'teapot', text: 'Ceramic teapot with infuser', categories: 'kitchen' },
    { id: 'lamp', text: 'Brass desk lamp', categories: 'lighting' },
    { id: 'lantern', text: 'Brass hanging lantern', categories: ['lighting', 'garden'] },
    { id: 'new-mug', text: 'Green ceramic coffee mug', categories: 'kitchen' },
    { id: 'tea-cn', text: '陶瓷茶壶', categories: 'kitchen' },
    { id: 'tea-cn2', text: '陶瓷茶杯' },
  ];

  it('similar items by TF-IDF cosine, including items nobody bought', async () => {
    const content = await new ContentRecommender().fit(catalog);
    const similar = content.similarItems('new-mug', { k: 2 }).map((n) => n.id);
    expect(new Set(similar)).toEqual(new Set(['mug-red', 'mug-blue']));
    expect(content.similarItems('lamp', { k: 1 })[0].id).toBe('lantern');
    expect(content.similarItems('tea-cn2', { k: 1 })[0].id).toBe('tea-cn');
    expect(content.termsOf('lamp').map((t) => t.term)).toContain('desk');
  });

  it('interest vectors: recommendations equal the cosine with the weighted sum of item vectors', async () => {
    const users = ['u1', 'u1', 'u2'];
    const items = ['mug-red', 'teapot', 'lamp'];
    const data = await Interactions.fromArrays({ users, items, values: [2, 1, 1] });
    const content = await new ContentRecommender().fit(catalog, data);
    const recs = content.recommend('u1', { k: 10 });
    expect(recs.map((r) => r.item)).not.toContain('mug-red');
    expect(recs[0].item === 'mug-blue' || recs[0].item === 'new-mug').toBe(true);
    // The same visitor as a cold-start history gives the same list.
    expect(content.recommendFor({ items: ['mug-red', 'teapot'], values: [2, 1] }, { k: 10 })).toEqual(recs);
    expect(content.recommend('u2', { k: 1 })[0].item).toBe('lantern');
    expect(content.recommendFor({ items: ['nothing-known'] })).toEqual([]);
    expect(() => content.recommend('nobody')).toThrow(expect.objectContaining({ code: ErrorCode.UnknownId }));
  });

  it('hybrid falls back to content for new users and cold items, and blends otherwise', async () => {
    const rng = new Random(1);
    const users: string[] = [];
    const items: string[] = [];
    for (let u = 0; u < 40; u++)
      for (const i of ['mug-red', 'mug-blue', 'teapot', 'lamp', 'lantern']) if (rng.next() < (u % 2 ? 0.8 : 0.2) === i.startsWith('mug') || rng.next() < 0.3) users.push(`u${u}`), items.push(i);
    users.push('few');
    items.push('lamp');
    const data = await Interactions.fromArrays({ users, items });
    const content = await new ContentRecommender().fit(catalog, data);
    const als = await new ALS({ factors: 4, iterations: 10 }).fit(data);
    const hybrid = new HybridRecommender(content, als, data, { contentWeight: 0.5 });
    expect(hybrid.recommend('few', { k: 3 })).toEqual(content.recommend('few', { k: 3 }));
    expect(hybrid.recommendFor({ items: ['mug-red'] }, { k: 3 })).toEqual(content.recommendFor({ items: ['mug-red'] }, { k: 3 }));
    const blended = hybrid.recommend('u1', { k: 10 });
    // new-mug has no interactions: only content can surface it.
    expect(blended.map((r) => r.item)).toContain('new-mug');
    for (const r of blended) expect(r.score).toBeGreaterThanOrEqual(0);
    expect(() => hybrid.recommend('ghost')).toThrow(expect.objectContaining({ code: ErrorCode.UnknownId }));
  });
});
