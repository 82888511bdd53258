import { describe, expect, it } from 'vitest';
import { ALS, Interactions } from '../src/index.js';
import { drawInteractions } from '../src/data/synthetic.js';
import { Random } from '../src/core/random.js';
import { atEachLevel, randomInteractions } from './helpers.js';
import { residual } from './reference-als.js';

const allUsers = (d: Interactions) => [...d.users.ids];

// The training objective written from its definition, summed over every (user, item) pair.
function objective(model: ALS, data: Interactions): number {
  const f = model.options.factors;
  const { alpha, regularization } = model.options;
  const implicit = model.options.feedback === 'implicit';
  const X = model.userFactors;
  const Y = model.itemFactors;
  const fx = model.factors;
  const observed = new Map<number, number>();
  const csr = data.csr;
  for (let u = 0; u < data.userCount; u++)
    for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) observed.set(u * data.itemCount + csr.indices[p], csr.data[p]);
  let loss = 0;
  for (let u = 0; u < data.userCount; u++)
    for (let i = 0; i < data.itemCount; i++) {
      let s = 0;
      for (let a = 0; a < f; a++) s += X[u * f + a] * Y[i * f + a];
      const r = observed.get(u * data.itemCount + i);
      if (implicit) loss += (1 + alpha * (r ?? 0)) * ((r === undefined ? 0 : 1) - s) ** 2;
      else if (r !== undefined) loss += (r - (fx.globalMean + fx.userBias![u] + fx.itemBias![i] + s)) ** 2;
    }
  let norms = 0;
  for (const v of [...X, ...Y, ...(fx.userBias ?? []), ...(fx.itemBias ?? [])]) norms += v * v;
  return loss + regularization * norms;
}

describe('ALS training', () => {
  const variants = [
    { feedback: 'implicit' },
    { feedback: 'explicit' },
    // Spark MLlib's equations: lambda scaled by each row's (positive) ratings; explicit without biases.
    { feedback: 'implicit', scaleRegularization: true, solver: 'cg' },
    { feedback: 'explicit', biases: false },
  ] as const;
  for (const variant of variants) {
    it(`${JSON.stringify(variant)}: every solved user row satisfies its normal equations (1e-4)`, async () => {
      const data = await randomInteractions({ users: 40, items: 25, density: 0.2, seed: 13 });
      const model = await new ALS({ factors: 6, iterations: 3, solver: 'cholesky', regularization: 0.1, ...variant }).fit(data);
      if ('biases' in variant) expect(model.factors.globalMean).toBe(0);
      // Re-solve users against the final item factors, then check the equations against them.
      await model.partialFit(data, { users: allUsers(data) });
      for (let u = 0; u < 40; u++) expect(residual(model, data, u), `user ${u}`).toBeLessThan(1e-4);
    });
  }

  it.each([5, 17])('conjugate gradient converges to the Cholesky solution (f = %i)', async (factors) => {
    const data = await randomInteractions({ users: 60, items: 30, density: 0.15, seed: 17 });
    const exact = await new ALS({ factors, iterations: 4, solver: 'cholesky', regularization: 0.1 }).fit(data);
    const cg = await new ALS({ factors, iterations: 4, solver: 'cg', cgSteps: 30, regularization: 0.1 }).fit(data);
    // CG works in the eigenbasis of the Gram matrix, so its factors are the Cholesky ones turned by one
    // orthonormal matrix shared by both sides. What a basis cannot change must agree: every score x.y and
    // every user-user product x.x' (together they fix X up to that turn).
    const products = (a: Float32Array, b: Float32Array, rows: number, cols: number) => {
      const out: number[] = [];
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          let s = 0;
          for (let k = 0; k < factors; k++) s += a[r * factors + k] * b[c * factors + k];
          out.push(s);
        }
      return out;
    };
    for (const [e, c] of [
      [products(exact.userFactors, exact.itemFactors, 60, 30), products(cg.userFactors, cg.itemFactors, 60, 30)],
      [products(exact.userFactors, exact.userFactors, 60, 60), products(cg.userFactors, cg.userFactors, 60, 60)],
    ]) {
      const diff = e.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i])), 0);
      const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(diff / scale).toBeLessThan(1e-3);
    }
  });

  it('is deterministic for a seed, whatever the thread count; SIMD levels agree to rounding', async () => {
    const data = await randomInteractions({ users: 300, items: 120, density: 0.05, seed: 19 });
    const one = await new ALS({ factors: 16, iterations: 3, threads: 1 }).fit(data);
    const two = await new ALS({ factors: 16, iterations: 3, threads: 2 }).fit(data);
    expect(Array.from(two.userFactors)).toEqual(Array.from(one.userFactors));
    expect(Array.from(two.itemFactors)).toEqual(Array.from(one.itemFactors));
    const ref = one;
    await atEachLevel(async () => {
      const m = await new ALS({ factors: 16, iterations: 3 }).fit(data);
      const diff = m.itemFactors.reduce((acc, v, i) => Math.max(acc, Math.abs(v - ref.itemFactors[i])), 0);
      expect(diff).toBeLessThan(1e-3);
      m.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i]) / ref.losses[i]).toBeLessThan(1e-4));
    });
  });

  // Implicit CG turns to the Gram matrix's eigenbasis only where that pays (f small against rows times CG
  // passes): 3 steps keep the full matrix on this data, 10 take the eigenbasis.
  for (const [feedback, cgSteps] of [['implicit', 3], ['implicit', 10], ['explicit', 3]] as const) {
    it(`${feedback} (cgSteps ${cgSteps}): the reported loss is the training objective of the final factors`, async () => {
      const data = await randomInteractions({ users: 45, items: 35, density: 0.15, seed: 31 });
      const model = await new ALS({ factors: 7, iterations: 3, feedback, cgSteps, regularization: 0.05, alpha: 2 }).fit(data);
      const want = objective(model, data);
      expect(Math.abs(model.losses[2] - want) / want).toBeLessThan(1e-5);
    });
  }

  it('reports a loss per iteration that does not increase with exact solves', async () => {
    const data = await randomInteractions({ users: 50, items: 40, density: 0.1, seed: 23 });
    const seen: [number, number][] = [];
    const model = await new ALS({ factors: 8, iterations: 6, solver: 'cholesky' }).fit(data, { onIteration: (i, l) => seen.push([i, l]) });
    await new Promise((r) => setTimeout(r, 20)); // iteration events arrive through the event loop
    expect(model.losses.length).toBe(6);
    expect(seen.map((s) => s[0])).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 1; i < 6; i++) expect(model.losses[i]).toBeLessThanOrEqual(model.losses[i - 1] * (1 + 1e-6));
  });

  it('cancel mid-fit rejects and leaves the model unchanged', async () => {
    const data = await randomInteractions({ users: 400, items: 300, density: 0.05, seed: 29 });
    const model = await new ALS({ factors: 16, iterations: 50 }).fit(data);
    const before = Array.from(model.userFactors);
    const controller = new AbortController();
    const refit = model.fit(data, { signal: controller.signal, onProgress: () => controller.abort(new Error('stop')) });
    await expect(refit).rejects.toMatchObject({ code: 'ERR_AFFINITY_CANCELLED' });
    expect(Array.from(model.userFactors)).toEqual(before);
    expect(model.recommend(0, { k: 3 }).length).toBe(3);
  });

  it('rejects bad input', async () => {
    const neg = await Interactions.fromArrays({ users: ['a'], items: ['x'], values: [-1] });
    await expect(new ALS().fit(neg)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    expect(() => new ALS({ factors: 0 })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => new ALS({ regularization: 0 })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => new ALS({ feedback: 'ratings' as 'explicit' })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => new ALS().recommend('a')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_NOT_FITTED' }));
    const data = await randomInteractions({ users: 10, items: 8, density: 0.4, seed: 1 });
    const m = await new ALS({ factors: 4, iterations: 1 }).fit(data);
    expect(() => m.recommend('ghost')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_UNKNOWN_ID' }));
    expect(m.score(0, ['ghost']).unknown).toEqual(['ghost']);
    expect(m.scoreFor({ items: [1] }, [2, 'ghost']).unknown).toEqual(['ghost']);
    expect(() => m.recommendFor({ items: [1], values: [NaN] })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    expect(() => m.recommendFor({ items: [1, 2], values: [1] })).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_DIM_MISMATCH' }));
  });
});

describe('ALS scoring', () => {
  it('recommend, recommendBatch and score equal X·Yᵀ with filters', async () => {
    const data = await randomInteractions({ users: 50, items: 70, density: 0.1, seed: 31 });
    const m = await new ALS({ factors: 8, iterations: 3 }).fit(data);
    const f = 8;
    const batch = await m.recommendBatch(allUsers(data), { k: 5 });
    for (let u = 0; u < 50; u += 3) {
      const seen = new Set(data.itemsOf(u).map((x) => x.item));
      const scores = Array.from({ length: 70 }, (_, i) => {
        let s = 0;
        for (let a = 0; a < f; a++) s += m.userFactors[u * f + a] * m.itemFactors[i * f + a];
        return { item: i, score: s };
      });
      const want = scores.filter((s) => !seen.has(s.item)).sort((a, b) => b.score - a.score || a.item - b.item).slice(0, 5);
      const got = m.recommend(u, { k: 5 });
      expect(got.map((g) => g.score)).toEqual(want.map((w) => expect.closeTo(w.score, 5)));
      expect(batch.get(u)).toEqual(got);
      expect(m.score(u, [0, 1, 2])).toEqual(scores.slice(0, 3).map((s) => expect.closeTo(s.score, 5)));
      const banned = got.slice(0, 2).map((g) => g.item);
      expect(m.recommend(u, { k: 5, exclude: banned }).some((g) => banned.includes(g.item))).toBe(false);
      expect(m.recommend(u, { k: 70, include: [3, 4, 5] }).every((g) => [3, 4, 5].includes(g.item as number))).toBe(true);
    }
    expect(m.similarItems(0, { k: 3 }).length).toBe(3);
    expect(m.similarUsers(0, { k: 3 })[0].score).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('scans in norm order with early stops return exactly the exhaustive top-k', async () => {
    // Power-law popularity, as in real data: most item factors are tiny, so scans stop early.
    const { rows, cols } = drawInteractions({ users: 300, items: 2500, interactions: 9000, seed: 5 });
    const ratings = Float32Array.from(rows, (_, p) => 1 + ((p * 7) % 5));
    for (const feedback of ['implicit', 'explicit'] as const) {
      const values = feedback === 'explicit' ? ratings : undefined;
      const data = await Interactions.fromIndices({ rows, cols, values, shape: [300, 2500] }, { duplicates: 'max' });
      const m = await new ALS({ factors: 16, iterations: 4, feedback }).fit(data);
      const all = Array.from({ length: 2500 }, (_, i) => i);
      const users = Array.from({ length: 30 }, (_, i) => (i * 37) % 300);
      const exhaustive = (u: number, k: number, filterSeen: boolean, exclude: number[]) => {
        const seen = new Set(filterSeen ? data.itemsOf(u).map((x) => x.item) : []);
        const scores = m.score(u, all); // the same multiply-add chains as the scan
        return all
          .filter((i) => !seen.has(i) && !exclude.includes(i))
          .map((i) => ({ item: i, score: scores[i] }))
          .sort((a, b) => b.score - a.score || a.item - b.item)
          .slice(0, k);
      };
      await atEachLevel(async (level) => {
        for (const k of [1, 10, 300]) {
          const batch = await m.recommendBatch(users, { k });
          users.forEach((u, r) => {
            const want = exhaustive(u, k, true, []);
            expect(m.recommend(u, { k }), `${feedback} ${level} user ${u} k ${k}`).toEqual(want);
            expect(batch.get(r)).toEqual(want);
          });
        }
        for (const u of users.slice(0, 10)) {
          const exclude = exhaustive(u, 3, false, []).map((w) => w.item);
          expect(m.recommend(u, { k: 10, filterSeen: false, exclude })).toEqual(exhaustive(u, 10, false, exclude));
        }
      });
    }
  });

  it('early stops hold where the norm bound is tight (items parallel to users)', async () => {
    // Each item is a scaled copy of one user's factor, so for that user x.y = |x||y| exactly: a bound
    // shaved by even a few percent drops the true top items.
    const f = 8, users = 12, items = 1500;
    const rng = new Random(9);
    const userFactors = Float32Array.from({ length: users * f }, () => rng.normal());
    const itemFactors = new Float32Array(items * f);
    for (let i = 0; i < items; i++) {
      const u = rng.int(users), scale = rng.next() ** 4;
      for (let a = 0; a < f; a++) itemFactors[i * f + a] = scale * userFactors[u * f + a] + 1e-4 * rng.normal();
    }
    const data = await Interactions.fromIndices({ rows: Int32Array.of(0), cols: Int32Array.of(0), shape: [users, items] });
    const factors = { users, items, factors: f, implicit: true, globalMean: 0, userFactors, itemFactors, userBias: null, itemBias: null };
    const m = ALS.fromFactors({ factors: f }, data, factors);
    const all = Array.from({ length: items }, (_, i) => i);
    for (let u = 0; u < users; u++) {
      const scores = m.score(u, all);
      const want = all.map((i) => ({ item: i, score: scores[i] })).sort((a, b) => b.score - a.score || a.item - b.item).slice(0, 20);
      expect(m.recommend(u, { k: 20, filterSeen: false })).toEqual(want);
    }
  });

  it('prepare() builds on a worker what the first calls would build, with the same answers', async () => {
    const data = await randomInteractions({ users: 40, items: 60, density: 0.15, seed: 8 });
    const trained = await new ALS({ factors: 6, iterations: 2 }).fit(data);
    const fresh = () => ALS.fromFactors(trained.options, data, trained.factors);
    const lazy = fresh();
    const prepared = await fresh().prepare();
    for (const u of [0, 7, 39]) expect(prepared.recommend(u, { k: 8 })).toEqual(lazy.recommend(u, { k: 8 }));
    expect(prepared.foldIn({ items: [1, 2, 3] })).toEqual(lazy.foldIn({ items: [1, 2, 3] }));
    const racing = fresh();
    const pending = racing.prepare(); // a call before the worker finishes builds its own copy; both agree
    expect(racing.recommend(3, { k: 5 })).toEqual(lazy.recommend(3, { k: 5 }));
    await pending;
    expect(racing.recommend(3, { k: 5 })).toEqual(lazy.recommend(3, { k: 5 }));
  });

  it('fold-in of a training user reproduces that user trained factor', async () => {
    for (const feedback of ['implicit', 'explicit'] as const) {
      const data = await randomInteractions({ users: 40, items: 30, density: 0.2, seed: 37 });
      const m = await new ALS({ factors: 6, iterations: 3, feedback, solver: 'cholesky', regularization: 0.1 }).fit(data);
      await m.partialFit(data, { users: allUsers(data) }); // user rows solved against the final item factors
      for (const u of [0, 7, 19]) {
        const h = data.itemsOf(u);
        const folded = m.foldIn({ items: h.map((x) => x.item), values: h.map((x) => x.value) });
        const trained = m.userFactors.subarray(u * 6, (u + 1) * 6);
        folded.factors.forEach((v, a) => expect(v).toBeCloseTo(trained[a], 4));
        if (feedback === 'explicit') expect(folded.bias).toBeCloseTo(m.factors.userBias![u], 4);
        const recs = m.recommendFor({ items: h.map((x) => x.item), values: h.map((x) => x.value) }, { k: 5 });
        expect(recs.map((r) => r.item)).toEqual(m.recommend(u, { k: 5 }).map((r) => r.item));
      }
    }
  });

  it('explain: contributions add up to the fold-in score', async () => {
    const data = await randomInteractions({ users: 40, items: 30, density: 0.2, seed: 41 });
    const m = await new ALS({ factors: 6, iterations: 4, solver: 'cholesky' }).fit(data);
    const top = m.recommend(3, { k: 1 })[0].item;
    const e = m.explain(3, top, { k: 100 });
    const h = data.itemsOf(3);
    const folded = m.foldIn({ items: h.map((x) => x.item), values: h.map((x) => x.value) });
    const score = folded.factors.reduce((s, v, a) => s + v * m.itemFactors[(top as number) * 6 + a], 0);
    expect(e.score).toBeCloseTo(score, 4);
    expect(e.contributions.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(e.score, 4);
    expect(e.contributions.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 4);
    expect(e.contributions.length).toBe(h.length);
  });

  it('partialFit adds new users and items and solves exactly the rows it is given', async () => {
    const base = await Interactions.fromArrays({ users: ['a', 'a', 'b', 'c', 'c'], items: ['x', 'y', 'x', 'z', 'y'] });
    const m = await new ALS({ factors: 4, iterations: 3, solver: 'cholesky', regularization: 0.1 }).fit(base);
    const more = await Interactions.fromArrays({ users: ['a', 'a', 'b', 'c', 'c', 'd', 'd'], items: ['x', 'y', 'x', 'z', 'y', 'x', 'w'] });
    const users = Float32Array.from(m.userFactors);
    await m.partialFit(more, { users: ['d'] });
    expect(m.users.ids).toEqual(['a', 'b', 'c', 'd']);
    expect(m.items.ids).toEqual(['x', 'y', 'z', 'w']);
    expect(Array.from(m.userFactors.subarray(0, users.length))).toEqual(Array.from(users)); // other users untouched
    // d's row is the exact least-squares solution against the item factors: what fold-in of d's history gives.
    const d = m.userFactors.subarray(3 * 4, 4 * 4);
    m.foldIn({ items: ['x', 'w'] }).factors.forEach((v, a) => expect(d[a]).toBeCloseTo(v, 4));
    expect(Math.max(...Array.from(d, Math.abs))).toBeGreaterThan(0.05); // not the small random start (< 0.01)
    const items = Float32Array.from(m.itemFactors);
    await m.partialFit(more, { items: ['w'] });
    expect(Array.from(m.itemFactors.subarray(0, 3 * 4))).toEqual(Array.from(items.subarray(0, 3 * 4)));
    const w = m.itemFactors.subarray(3 * 4, 4 * 4);
    expect(Math.max(...Array.from(w, (v, a) => Math.abs(v - items[3 * 4 + a])))).toBeGreaterThan(0.05);
    expect(m.recommend('d', { k: 10 }).map((r) => r.item)).not.toContain('x');
  });
});
