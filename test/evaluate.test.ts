import { describe, expect, it } from 'vitest';
import { ALS, BatchRecommendations, Interactions, MostPopular, aucOf, evaluate, kFold, split, type Evaluable, type Id, type Metric } from '../src/index.js';
import { Random } from '../src/core/random.js';
import { IdMap } from '../src/data/ids.js';
import { randomInteractions } from './helpers.js';

// A fixed recommender: lists and scores given by hand, to check every metric against hand computation.
function fixed(lists: Record<string, Id[]>, scores: Record<string, Record<string, number>>, items: IdMap, k: number): Evaluable {
  return {
    async recommendBatch(users: Id[]) {
      const out = new Int32Array(users.length * k).fill(-1);
      users.forEach((u, r) => (lists[u as string] ?? []).slice(0, k).forEach((it, j) => (out[r * k + j] = items.indexOf(it))));
      return new BatchRecommendations(k, users, out, new Float32Array(users.length * k), items);
    },
    score(user: Id, ids: Id[]) {
      return ids.map((i) => scores[user as string]?.[i as string] ?? 0);
    },
  };
}

describe('metrics on a hand-computed case', () => {
  it('precision, recall, nDCG, MAP, MRR, hit rate, coverage, AUC', async () => {
    // Catalogue a..f. Training: u1 saw a; u2 saw b. Test: u1 -> {c, d}; u2 -> {e}.
    const train = await Interactions.fromIndices({ rows: Int32Array.of(0, 1), cols: Int32Array.of(0, 1), shape: [2, 6], userIds: ['u1', 'u2'], itemIds: ['a', 'b', 'c', 'd', 'e', 'f'] });
    const test = await Interactions.fromIndices({ rows: Int32Array.of(0, 0, 1), cols: Int32Array.of(2, 3, 4), shape: [2, 6], userIds: ['u1', 'u2'], itemIds: ['a', 'b', 'c', 'd', 'e', 'f'] });
    const model = fixed(
      { u1: ['c', 'b', 'd'], u2: ['a', 'c', 'f'] },
      { u1: { b: 3, c: 5, d: 1, e: 0, f: 2 }, u2: { a: 1, c: 2, d: 3, e: 2, f: 0 } },
      train.items,
      3,
    );
    const r = await evaluate(model, train, test, { k: 3 });
    // u1: hits at ranks 1 and 3 of {c, d}; u2: no hit.
    expect(r.users).toBe(2);
    expect(r.precision).toBeCloseTo((2 / 3 + 0) / 2, 10);
    expect(r.recall).toBeCloseTo((1 + 0) / 2, 10);
    const dcg = 1 / Math.log2(2) + 1 / Math.log2(4);
    const idcg = 1 / Math.log2(2) + 1 / Math.log2(3);
    expect(r.ndcg).toBeCloseTo(dcg / idcg / 2, 10);
    expect(r.map).toBeCloseTo(((1 / 1 + 2 / 3) / 2 + 0) / 2, 10);
    expect(r.mrr).toBeCloseTo((1 + 0) / 2, 10);
    expect(r.hitRate).toBeCloseTo(0.5, 10);
    expect(r.coverage).toBeCloseTo(5 / 6, 10); // c, b, d, a, f
    // AUC u1: positives c (5), d (1) vs negatives b (3), e (0), f (2): c beats 3, d beats 1 -> 4/6.
    // u2: positive e (2) vs a (1), c (2), d (3), f (0): beats a, f; ties c -> (2 + 0.5) / 4.
    expect(r.auc).toBeCloseTo((4 / 6 + 2.5 / 4) / 2, 10);
  });

  it('an empty test set is an error that says why, not zeros', async () => {
    const data = await randomInteractions({ users: 20, items: 10, density: 0.3, seed: 3 });
    const empty = Interactions.fromParts(data.users, data.items, { rows: data.userCount, cols: data.itemCount, indptr: new Int32Array(data.userCount + 1), indices: new Int32Array(0), data: new Float32Array(0) });
    const model = await new MostPopular().fit(data);
    await expect(evaluate(model, data, empty)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringMatching(/the test set has no interactions \(20 users, 10 items\)/) });
  });

  it('aucOf counts ties as one half', () => {
    expect(aucOf([{ score: 1, positive: true }, { score: 0, positive: false }])).toBe(1);
    expect(aucOf([{ score: 1, positive: true }, { score: 1, positive: false }])).toBe(0.5);
    expect(aucOf([{ score: 0, positive: true }, { score: 1, positive: false }, { score: 2, positive: false }])).toBe(0);
  });
});

describe('split', () => {
  it('random: disjoint, complete, at least one training item per user, shared ids', async () => {
    const data = await randomInteractions({ users: 50, items: 40, density: 0.2, seed: 2 });
    const { train, test } = await split(data, { testFraction: 0.25, seed: 9 });
    expect(train.size + test.size).toBe(data.size);
    expect(test.users.ids).toBe(data.users.ids);
    for (let u = 0; u < 50; u++) {
      const a = new Set(train.itemsOf(u).map((x) => x.item));
      for (const t of test.itemsOf(u)) expect(a.has(t.item)).toBe(false);
      if (data.itemsOf(u).length > 0) expect(a.size).toBeGreaterThan(0);
    }
    const again = await split(data, { testFraction: 0.25, seed: 9 });
    expect(Array.from(again.test.csr.indices)).toEqual(Array.from(test.csr.indices));
  });

  it('leave-last-out and time use timestamps', async () => {
    const data = await Interactions.fromArrays({ users: ['a', 'a', 'a', 'b', 'b', 'c'], items: ['x', 'y', 'z', 'x', 'y', 'z'], timestamps: [1, 3, 2, 5, 4, 6] });
    const lastOut = await split(data, { strategy: 'leave-last-out' });
    expect(lastOut.test.itemsOf('a').map((x) => x.item)).toEqual(['y']);
    expect(lastOut.test.itemsOf('b').map((x) => x.item)).toEqual(['x']);
    expect(lastOut.test.itemsOf('c')).toEqual([]); // a single interaction stays in training
    const byTime = await split(data, { strategy: 'time', testFraction: 0.34 });
    expect(byTime.test.size).toBe(2); // t = 5, 6
    await expect(split(await Interactions.fromArrays({ users: ['a'], items: ['x'] }), { strategy: 'time' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });
});

describe('evaluate real models', () => {
  it('ALS beats most-popular on structured data; explicit ALS reports RMSE', async () => {
    // Planted taste groups: 5 groups of users, each buying mostly from its own block of 20 items (plus a
    // little noise). Popularity cannot see the groups; a working factorization must, by a wide margin.
    const rng = new Random(4);
    const users: number[] = [];
    const items: number[] = [];
    for (let u = 0; u < 200; u++) {
      const group = u % 5;
      const picked = new Set<number>();
      while (picked.size < 10) picked.add(group * 20 + rng.int(20));
      for (let n = 0; n < 2; n++) picked.add(rng.int(100));
      for (const i of picked) users.push(u), items.push(i);
    }
    const data = await Interactions.fromArrays({ users, items });
    const { train, test } = await split(data, { seed: 1 });
    const metrics: Metric[] = ['precision', 'ndcg', 'coverage'];
    const als = await evaluate(await new ALS({ factors: 8, iterations: 5 }).fit(train), train, test, { k: 10, metrics });
    const pop = await evaluate(await new MostPopular().fit(train), train, test, { k: 10, metrics });
    expect(als.users).toBe(pop.users);
    expect(als.ndcg!).toBeGreaterThan(0.3);
    expect(als.ndcg!).toBeGreaterThan(2 * pop.ndcg!);
    expect(als.precision!).toBeGreaterThan(2 * pop.precision!);
    expect(als.coverage!).toBeGreaterThan(pop.coverage!);
    const rated = await split(await randomInteractions({ users: 200, items: 100, density: 0.08, seed: 4 }), { seed: 1 });
    const explicit = await evaluate(await new ALS({ factors: 4, iterations: 5, feedback: 'explicit' }).fit(rated.train), rated.train, rated.test, { metrics: ['rmse', 'mae'] });
    expect(explicit.rmse).toBeGreaterThan(0);
    expect(explicit.mae!).toBeLessThanOrEqual(explicit.rmse!);
  });
});

describe('k-fold cross-validation', () => {
  it('tests every interaction of a user with two or more exactly once, keeps single ones in training, and is seeded', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.15, seed: 3 });
    const folds = await kFold(data, { folds: 4, seed: 7 });
    expect(folds).toHaveLength(4);
    const c = data.csr;
    const tested = new Map<string, number>();
    let testable = 0;
    for (let u = 0; u < data.csr.rows; u++) if (data.csr.indptr[u + 1] - data.csr.indptr[u] >= 2) testable += data.csr.indptr[u + 1] - data.csr.indptr[u];
    for (const { train, test } of folds) {
      expect(train.size + test.size).toBe(data.size);
      expect(Math.abs(test.size - testable / 4)).toBeLessThan(0.2 * (testable / 4)); // folds of about equal size
      expect([train.userCount, train.itemCount, test.userCount, test.itemCount]).toEqual([data.userCount, data.itemCount, data.userCount, data.itemCount]);
      for (let u = 0; u < test.userCount; u++)
        for (let p = test.csr.indptr[u]; p < test.csr.indptr[u + 1]; p++) {
          const key = `${u}:${test.csr.indices[p]}`;
          tested.set(key, (tested.get(key) ?? 0) + 1);
        }
    }
    for (let u = 0; u < c.rows; u++) {
      const n = c.indptr[u + 1] - c.indptr[u];
      for (let p = c.indptr[u]; p < c.indptr[u + 1]; p++) expect(tested.get(`${u}:${c.indices[p]}`) ?? 0, `user ${u}`).toBe(n >= 2 ? 1 : 0);
    }
    const again = await kFold(data, { folds: 4, seed: 7 });
    expect(Array.from(again[2].test.csr.indices)).toEqual(Array.from(folds[2].test.csr.indices));
    const other = await kFold(data, { folds: 4, seed: 8 });
    expect(Array.from(other[2].test.csr.indices)).not.toEqual(Array.from(folds[2].test.csr.indices));
    await expect(kFold(data, { folds: 1 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });
});
