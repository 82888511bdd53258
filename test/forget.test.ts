// Erasure in the models: a model without some customers is the model as if they had never been in its
// training data (checked against the definitions), and neighbourhood fold-in agrees with recommend().
import { describe, expect, it } from 'vitest';
import { ALS, Interactions, ItemKNN, MostPopular, UserKNN } from '../src/index.js';
import { randomInteractions } from './helpers.js';
import { residual } from './reference-als.js';

/** The same factorization seen from the items' side: item rows as users, so residual() checks item rows. */
async function transposed(model: ALS, data: Interactions): Promise<{ model: ALS; data: Interactions }> {
  const csr = data.csr;
  const rows: number[] = [];
  const cols: number[] = [];
  for (let u = 0; u < csr.rows; u++) for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) rows.push(csr.indices[p]), cols.push(u);
  const t = await Interactions.fromIndices({ rows: Int32Array.from(rows), cols: Int32Array.from(cols), values: Float32Array.from(csr.data), shape: [csr.cols, csr.rows] });
  const f = model.factors;
  const swapped = { ...f, users: f.items, items: f.users, userFactors: f.itemFactors, itemFactors: f.userFactors, userBias: f.itemBias, itemBias: f.userBias };
  return { model: ALS.fromFactors(model.options, t, swapped), data: t };
}

describe('models without some customers', () => {
  for (const feedback of ['implicit', 'explicit'] as const) {
    it(`ALS (${feedback}): the customers' rows go, the items they had solve their normal equations without them`, async () => {
      const data = await randomInteractions({ users: 50, items: 30, density: 0.2, seed: 71 });
      const m = await new ALS({ factors: 5, iterations: 3, feedback, solver: 'cholesky', regularization: 0.1 }).fit(data);
      const gone = [3, 17];
      const touched = new Set(gone.flatMap((u) => data.itemsOf(u).map((x) => x.item as number)));
      const without = await m.withoutCustomers(gone);
      expect(without).not.toBe(m);
      expect(m.users.size).toBe(50); // the served model is untouched
      expect(without.users.size).toBe(48);
      expect(without.users.has(3) || without.users.has(17)).toBe(false);
      expect(without.data.size).toBe(data.size - gone.reduce((n, u) => n + data.itemsOf(u).length, 0));
      for (const u of without.users.ids) {
        const before = m.userFactors.subarray((u as number) * 5, (u as number) * 5 + 5);
        const r = without.users.indexOf(u);
        expect(Array.from(without.userFactors.subarray(r * 5, r * 5 + 5))).toEqual(Array.from(before));
      }
      const t = await transposed(without, without.data);
      let changed = 0;
      for (let i = 0; i < 30; i++) {
        const row = (a: Float32Array) => Array.from(a.subarray(i * 5, i * 5 + 5));
        if (touched.has(i)) {
          expect(residual(t.model, t.data, i), `item ${i}`).toBeLessThan(1e-4);
          if (row(without.itemFactors).some((v, a) => v !== row(m.itemFactors)[a])) changed++;
        } else expect(row(without.itemFactors)).toEqual(row(m.itemFactors));
      }
      expect(changed).toBe(touched.size);
      await expect(Promise.resolve().then(() => without.recommend(3))).rejects.toMatchObject({ code: 'ERR_AFFINITY_UNKNOWN_ID' });
      expect(await m.withoutCustomers(['nobody'])).toBe(m);
    });
  }

  it('ItemKNN and UserKNN: the neighbourhoods are those of a fit without the customers', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.15, seed: 73 });
    for (const Kind of [ItemKNN, UserKNN]) {
      const m = await new Kind({ k: 10 }).fit(data);
      const without = await m.withoutCustomers([5, 9]);
      const { data: rest } = data.withoutUsers([5, 9]);
      const reference = await new Kind({ k: 10 }).fit(rest);
      expect(Array.from(without.similarity.indices)).toEqual(Array.from(reference.similarity.indices));
      expect(Array.from(without.similarity.data)).toEqual(Array.from(reference.similarity.data));
      for (const u of [0, 12, 40]) expect(without.recommend(u, { k: 5 })).toEqual(reference.recommend(u, { k: 5 }));
      expect(without.users.has(5)).toBe(false);
      expect(m.users.has(5)).toBe(true);
    }
  });

  it('MostPopular: the counts without the customers', async () => {
    const data = await Interactions.fromArrays({ users: ['a', 'b', 'b', 'c'], items: ['x', 'y', 'x', 'y'] });
    const m = MostPopular.of(data);
    const without = await m.withoutCustomers(['b']);
    expect(without.recommendFor({ items: [] }, { k: 2 }).map((r) => [r.item, r.score])).toEqual([['x', 1], ['y', 1]]);
    expect(m.recommendFor({ items: [] }, { k: 1 })[0].score).toBe(2);
  });

  it('Interactions.withoutUsers keeps the other rows, their values and timestamps, and the items', async () => {
    const data = await Interactions.fromArrays({ users: ['a', 'b', 'c', 'b'], items: ['x', 'y', 'z', 'z'], values: [1, 2, 3, 4], timestamps: [10, 20, 30, 40] });
    const { data: rest, touched } = data.withoutUsers(['b', 'nobody']);
    expect(rest.users.ids).toEqual(['a', 'c']);
    expect(rest.items.ids).toEqual(['x', 'y', 'z']);
    expect(rest.itemsOf('c')).toEqual([{ item: 'z', value: 3 }]);
    expect(Array.from(rest.csr.timestamps!)).toEqual([10, 30]);
    expect(Array.from(touched)).toEqual([1, 2]);
  });
});

describe('ItemKNN fold-in', () => {
  it('recommendFor(a training user history) is recommend(that user), filters included', async () => {
    const data = await randomInteractions({ users: 50, items: 40, density: 0.2, seed: 79, values: 'real' });
    const m = await new ItemKNN({ k: 12 }).fit(data);
    for (const u of [0, 11, 33]) {
      const h = data.itemsOf(u);
      const history = { items: h.map((x) => x.item), values: h.map((x) => x.value) };
      for (const options of [{ k: 7 }, { k: 5, filterSeen: false }, { k: 6, exclude: [1, 2, 3] }, { k: 4, include: [5, 6, 7, 8, 9, 10, 11] }]) {
        const want = m.recommend(u, options);
        const got = m.recommendFor(history, options);
        expect(got.map((r) => r.item), `user ${u} ${JSON.stringify(options)}`).toEqual(want.map((r) => r.item));
        got.forEach((r, j) => expect(r.score).toBeCloseTo(want[j].score, 4));
      }
    }
    expect(m.recommendFor({ items: ['unknown'] })).toEqual([]);
  });
});
