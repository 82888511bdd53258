import { describe, expect, it } from 'vitest';
import { Interactions, ItemKNN, UserKNN, AffinityError } from '../src/index.js';
import { referenceSimilarity, referenceTwoHopScores } from './reference.js';
import { atEachLevel, randomInteractions } from './helpers.js';

function csrOfRef(rows: { index: number; score: number }[][]) {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (const r of rows) {
    for (const x of r) indices.push(x.index), data.push(x.score);
    indptr.push(indices.length);
  }
  return { indptr, indices, data };
}

function topFromScores(scores: Map<number, number>, k: number, skip: Set<number>) {
  return [...scores.entries()]
    .filter(([i]) => !skip.has(i))
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, k);
}

describe('ItemKNN', () => {
  it('scores equal Σ_j r_uj · sim(j, i) over the user items, at every SIMD level', async () => {
    const data = await randomInteractions({ users: 80, items: 60, density: 0.1, seed: 21 });
    const ref = csrOfRef(referenceSimilarity(data.csr, { axis: 'items', measure: 'cosine', k: 8 }));
    await atEachLevel(async () => {
      const model = await new ItemKNN({ k: 8 }).fit(data);
      for (let u = 0; u < 80; u += 7) {
        const scores = referenceTwoHopScores(data.csr, ref, u, 60);
        const seen = new Set(Array.from(data.csr.indices.subarray(data.csr.indptr[u], data.csr.indptr[u + 1])));
        const want = topFromScores(scores, 10, seen);
        const got = model.recommend(u, { k: 10 });
        expect(got.length).toBe(want.length);
        got.forEach((g, r) => {
          expect(g.score).toBeCloseTo(want[r][1], 4);
          if (g.item !== want[r][0]) expect(scores.get(g.item as number)).toBeCloseTo(want[r][1], 4);
        });
        const all = model.score(u, Array.from({ length: 60 }, (_, i) => i));
        all.forEach((s, i) => expect(s).toBeCloseTo(scores.get(i) ?? 0, 4));
      }
    });
  });

  it('applies filterSeen, exclude and include', async () => {
    const data = await randomInteractions({ users: 50, items: 40, density: 0.15, seed: 2 });
    const model = await new ItemKNN({ k: 10 }).fit(data);
    const seen = new Set(data.itemsOf(3).map((x) => x.item));
    const recs = model.recommend(3, { k: 100 });
    expect(recs.some((r) => seen.has(r.item))).toBe(false);
    const withSeen = model.recommend(3, { k: 100, filterSeen: false });
    expect(withSeen.some((r) => seen.has(r.item))).toBe(true);
    const banned = recs.slice(0, 2).map((r) => r.item);
    expect(model.recommend(3, { k: 100, exclude: [...banned, 'not-an-item'] }).some((r) => banned.includes(r.item))).toBe(false);
    const allowed = recs.slice(3, 6).map((r) => r.item);
    expect(model.recommend(3, { k: 100, include: allowed }).map((r) => r.item).sort()).toEqual([...allowed].sort());
    expect(model.recommend(3, { include: ['unknown'] })).toEqual([]);
  });

  it('k larger than the catalogue returns every candidate; k = 0 returns none', async () => {
    const data = await randomInteractions({ users: 20, items: 15, density: 0.3, seed: 4 });
    const model = await new ItemKNN().fit(data);
    const all = model.recommend(0, { k: 1e9 });
    expect(all.length).toBeLessThanOrEqual(15);
    expect(model.recommend(0, { k: 0 })).toEqual([]);
    expect(() => model.recommend(0, { k: -1 })).toThrow(AffinityError);
    expect(() => model.recommend(0, { k: Infinity })).toThrow(/k must be an integer/);
  });

  it('recommendBatch equals recommend per user', async () => {
    const data = await randomInteractions({ users: 200, items: 100, density: 0.05, seed: 8 });
    const model = await new ItemKNN({ k: 20 }).fit(data);
    const users = Array.from({ length: 200 }, (_, i) => i);
    const batch = await model.recommendBatch(users, { k: 5, threads: 2 });
    expect(batch.items.length).toBe(200 * 5);
    for (const u of users) expect(batch.get(u)).toEqual(model.recommend(u, { k: 5 }));
  });

  it('similarItems comes from the neighbour lists', async () => {
    const data = await Interactions.fromArrays({ users: ['a', 'a', 'b', 'b', 'c'], items: ['x', 'y', 'x', 'y', 'z'] });
    const model = await new ItemKNN().fit(data);
    expect(model.similarItems('x')).toEqual([{ id: 'y', score: expect.closeTo(1, 6) }]);
    expect(model.similarItems('z')).toEqual([]);
  });

  it('rejects unknown ids and use before fit', async () => {
    const model = new ItemKNN();
    expect(() => model.recommend('u')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_NOT_FITTED' }));
    const data = await Interactions.fromArrays({ users: ['a', 'b'], items: ['x', 'x'] });
    await model.fit(data);
    expect(() => model.recommend('nobody')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_UNKNOWN_ID' }));
    expect(model.score('a', ['nothing']).unknown).toEqual(['nothing']);
    expect((await model.recommendBatch(['a', 'zz'])).unknown).toEqual(['zz']);
    expect(() => model.recommend(NaN)).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => model.recommend({} as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => new ItemKNN({ measure: 'euclid' as 'cosine' })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
  });
});

describe('UserKNN', () => {
  it('scores equal Σ_v sim(u, v) · r_vi over the K most similar users', async () => {
    const data = await randomInteractions({ users: 70, items: 50, density: 0.12, seed: 31 });
    const sim = referenceSimilarity(data.csr, { axis: 'users', measure: 'cosine', k: 6 });
    const ref = csrOfRef(sim);
    await atEachLevel(async () => {
      const model = await new UserKNN({ k: 6 }).fit(data);
      for (let u = 0; u < 70; u += 5) {
        const scores = referenceTwoHopScores(ref, data.csr, u, 50);
        const all = model.score(u, Array.from({ length: 50 }, (_, i) => i));
        all.forEach((s, i) => expect(s).toBeCloseTo(scores.get(i) ?? 0, 4));
        const seen = new Set(Array.from(data.csr.indices.subarray(data.csr.indptr[u], data.csr.indptr[u + 1])));
        const want = topFromScores(scores, 5, seen);
        expect(model.recommend(u, { k: 5 }).map((r) => r.score)).toEqual(want.map((w) => expect.closeTo(w[1], 4)));
        expect(model.similarUsers(u, { k: 3 }).map((n) => n.id)).toEqual(sim[u].slice(0, 3).map((r) => r.index));
      }
    });
  });

  it('a user with no interactions gets no recommendations', async () => {
    const data = await Interactions.fromIndices({ rows: Int32Array.of(0, 1), cols: Int32Array.of(0, 1), shape: [3, 2] });
    const model = await new UserKNN().fit(data);
    expect(model.recommend(2)).toEqual([]);
  });
});
