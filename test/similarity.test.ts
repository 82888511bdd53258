import { describe, expect, it } from 'vitest';
import { DenseSimilarity, similarity, SimilarityMatrix, type Measure } from '../src/index.js';
import { referenceSimilarity, type RefSimilarityOptions } from './reference.js';
import { atEachLevel, expectSameNeighbours, randomInteractions } from './helpers.js';

const cases: { name: string; o: Omit<RefSimilarityOptions, 'axis'>; values?: 'ratings' | 'ones' | 'real' }[] = [
  { name: 'cosine', o: { measure: 'cosine', k: 10 } },
  { name: 'cosine, binary', o: { measure: 'cosine', k: 10 }, values: 'ones' },
  { name: 'cosine with shrink', o: { measure: 'cosine', k: 7, shrink: 5 } },
  { name: 'cosine with minSimilarity', o: { measure: 'cosine', k: 20, minSimilarity: 0.3 } },
  { name: 'pearson', o: { measure: 'pearson', k: 10 }, values: 'real' },
  { name: 'pearson, negative allowed', o: { measure: 'pearson', k: 10, minSimilarity: -2 }, values: 'real' },
  { name: 'jaccard', o: { measure: 'jaccard', k: 10 } },
  { name: 'jaccard with minSupport', o: { measure: 'jaccard', k: 10, minSupport: 3 } },
  { name: 'dot', o: { measure: 'dot', k: 10 } },
  { name: 'lift', o: { measure: 'lift', k: 10, minSupport: 2 } },
  { name: 'tfidf cosine', o: { measure: 'cosine', k: 10, weighting: 'tfidf' } },
  { name: 'bm25 cosine', o: { measure: 'cosine', k: 10, weighting: 'bm25', bm25K1: 1.2, bm25B: 0.75 } },
];

describe('similarity matches the TypeScript reference', () => {
  for (const axis of ['items', 'users'] as const) {
    for (const c of cases) {
      it(`${c.name} (${axis})`, async () => {
        const data = await randomInteractions({ users: 120, items: 90, density: 0.08, seed: 7, values: c.values });
        const ref = referenceSimilarity(data.csr, { ...c.o, axis });
        let first: SimilarityMatrix | undefined;
        await atEachLevel(async () => {
          const sim = await similarity(data, {
            axis,
            measure: c.o.measure as Measure,
            k: c.o.k,
            shrink: c.o.shrink,
            minSimilarity: c.o.minSimilarity,
            minSupport: c.o.minSupport,
            weighting: c.o.weighting,
            bm25: { k1: c.o.bm25K1, b: c.o.bm25B },
          });
          expect(sim).toBeInstanceOf(SimilarityMatrix);
          expectSameNeighbours(sim as SimilarityMatrix, ref);
          // Every SIMD level gives the same bits (no FMA contraction, one formula).
          if (!first) first = sim as SimilarityMatrix;
          else {
            expect(Array.from((sim as SimilarityMatrix).indices)).toEqual(Array.from(first.indices));
            expect(Array.from((sim as SimilarityMatrix).data)).toEqual(Array.from(first.data));
          }
        });
      });
    }
  }

  it('covers the dense (hot row) and sparse (cold row) scan paths on skewed data', async () => {
    // A row takes the touched-list path when its scatter work is under n/256: with 8000 items, tail items
    // (one or two light users) take it while popular items take the dense SIMD scan.
    const data = await randomInteractions({ users: 300, items: 8000, density: 0.0015, seed: 3 });
    const ref = referenceSimilarity(data.csr, { axis: 'items', measure: 'cosine', k: 15 });
    await atEachLevel(async () => {
      expectSameNeighbours((await similarity(data, { k: 15, threads: 2 })) as SimilarityMatrix, ref);
    });
  });

  it('gives the same result for any thread count', async () => {
    const data = await randomInteractions({ users: 300, items: 200, density: 0.05, seed: 11 });
    const one = (await similarity(data, { k: 12, threads: 1 })) as SimilarityMatrix;
    const two = (await similarity(data, { k: 12, threads: 2 })) as SimilarityMatrix;
    expect(Array.from(two.indices)).toEqual(Array.from(one.indices));
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
  });
});

describe('dense similarity', () => {
  it('equals the reference for every pair, diagonal included', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.1, seed: 5 });
    await atEachLevel(async () => {
      const dense = (await similarity(data, { dense: true, measure: 'cosine' })) as DenseSimilarity;
      expect(dense).toBeInstanceOf(DenseSimilarity);
      const ref = referenceSimilarity(data.csr, { axis: 'items', measure: 'cosine', k: 1000, minSimilarity: -Infinity });
      for (let i = 0; i < 40; i++) {
        const row = new Map(ref[i].map((r) => [r.index, r.score]));
        for (let j = 0; j < 40; j++) {
          const got = dense.values[i * 40 + j];
          if (i === j) {
            const hasData = data.csr.indices.includes(i);
            expect(got).toBeCloseTo(hasData ? 1 : 0, 5);
          } else expect(got).toBeCloseTo(row.get(j) ?? 0, 5);
        }
      }
      expect(dense.get(0, 1)).toBe(dense.values[1]);
    });
  });
});

describe('similarity edge cases', () => {
  it('handles empty rows and columns, and k larger than the catalogue', async () => {
    const data = await randomInteractions({ users: 30, items: 25, density: 0.1, seed: 9 });
    const sim = (await similarity(data, { k: 1_000_000 })) as SimilarityMatrix;
    const ref = referenceSimilarity(data.csr, { axis: 'items', measure: 'cosine', k: 1_000_000 });
    expectSameNeighbours(sim, ref);
  });

  it('a single user: items co-occur only through that user', async () => {
    const { Interactions } = await import('../src/index.js');
    const data = await Interactions.fromArrays({ users: ['u', 'u', 'u'], items: ['a', 'b', 'c'] });
    const sim = (await similarity(data, { k: 5 })) as SimilarityMatrix;
    expect(sim.neighbors('a').map((n) => n.id)).toEqual(['b', 'c']);
    expect(sim.neighbors('a')[0].score).toBeCloseTo(1, 6);
    const users = (await similarity(data, { axis: 'users', k: 5 })) as SimilarityMatrix;
    expect(users.neighbors('u')).toEqual([]);
  });

  it('rejects bad options with codes', async () => {
    const data = await randomInteractions({ users: 10, items: 10, density: 0.3, seed: 1 });
    await expect(similarity(data, { measure: 'nope' as Measure })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { k: -1 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { k: 1.5 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { shrink: NaN })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { shrink: -1 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { minSimilarity: NaN })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { measure: 'jaccard', weighting: 'tfidf' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { bm25: { b: 2 }, weighting: 'bm25' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { axis: 'rows' as 'items' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(similarity(data, { threads: 1000 })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it('refuses a dense matrix that would not fit', async () => {
    const { Interactions } = await import('../src/index.js');
    const data = await Interactions.fromIndices({ rows: Int32Array.of(0), cols: Int32Array.of(0), shape: [1, 20000] });
    await expect(similarity(data, { dense: true })).rejects.toMatchObject({ code: 'ERR_AFFINITY_TOO_LARGE' });
  });
});
