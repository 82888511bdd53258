// EASE against a dense double-precision reference: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, at every
// SIMD level; scores are X·B; explanations are exact; the memory budget and cancellation are honoured.
import { describe, expect, it } from 'vitest';
import { EASE, Interactions } from '../src/index.js';
import { atEachLevel, randomInteractions } from './helpers.js';

/** P⁻¹ by Gauss-Jordan in double, then B; diag(B) = 0. */
function referenceB(data: Interactions, lambda: number): Float64Array {
  const n = data.itemCount;
  const c = data.csr;
  const a = new Float64Array(n * n);
  for (let u = 0; u < c.rows; u++)
    for (let p = c.indptr[u]; p < c.indptr[u + 1]; p++)
      for (let q = c.indptr[u]; q < c.indptr[u + 1]; q++) a[c.indices[p] * n + c.indices[q]] += c.data[p] * c.data[q];
  for (let i = 0; i < n; i++) a[i * n + i] += lambda;
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    const pivot = a[col * n + col];
    for (let j = 0; j < n; j++) (a[col * n + j] /= pivot), (inv[col * n + j] /= pivot);
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r * n + col];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) (a[r * n + j] -= f * a[col * n + j]), (inv[r * n + j] -= f * inv[col * n + j]);
    }
  }
  const b = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) b[j * n + i] = i === j ? 0 : -inv[j * n + i] / inv[i * n + i];
  return b;
}

/** The model's weights as a dense matrix, and whether any row holds its own item. */
function denseWeights(model: EASE): { b: Float64Array; diagonal: boolean } {
  const s = model.similarity;
  const n = s.size;
  const b = new Float64Array(n * n);
  let diagonal = false;
  for (let j = 0; j < n; j++)
    for (let p = s.indptr[j]; p < s.indptr[j + 1]; p++) {
      if (s.indices[p] === j) diagonal = true;
      b[j * n + s.indices[p]] = s.data[p];
    }
  return { b, diagonal };
}

const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('EASE', () => {
  it('matches the dense reference at every SIMD level, with a zero diagonal (sizes across the blocks)', async () => {
    for (const [users, items, lambda] of [[40, 25, 3], [420, 300, 20]] as const) {
      const data = await randomInteractions({ users, items, density: 0.15, seed: items, values: 'real' });
      const want = referenceB(data, lambda);
      const scale = maxAbs(want);
      await atEachLevel(async (level) => {
        const model = await new EASE({ lambda }).fit(data);
        const { b, diagonal } = denseWeights(model);
        expect(diagonal, level).toBe(false);
        expect(model.similarity.indices.length).toBe(data.itemCount * (data.itemCount - 1));
        let worst = 0;
        for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(b[i] - want[i]));
        expect(worst / scale, `${level} ${items} items`).toBeLessThan(2e-4);
      });
    }
  });

  it('scores a user as their row of X times B, and a visitor the same way', async () => {
    const data = await randomInteractions({ users: 50, items: 30, density: 0.2, seed: 4 });
    const model = await new EASE({ lambda: 8 }).fit(data);
    const b = referenceB(data, 8);
    const n = data.itemCount;
    for (const u of [0, 7, 31]) {
      const user = data.users.ids[u];
      const history = data.itemsOf(user);
      const want = data.items.ids.map((_, i) => history.reduce((s, h) => s + h.value * b[data.items.indexOf(h.item) * n + i], 0));
      const got = model.score(user, [...data.items.ids]);
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 4));
      const top = model.recommend(user, { k: 5 });
      const visitor = model.recommendFor({ items: history.map((h) => h.item), values: history.map((h) => h.value) }, { k: 5 });
      expect(visitor.map((r) => r.item)).toEqual(top.map((r) => r.item));
      visitor.forEach((r, i) => expect(r.score).toBeCloseTo(top[i].score, 5));
    }
  });

  it('explains a score exactly: each past item contributes x_j · B[j, i]', async () => {
    const data = await randomInteractions({ users: 50, items: 30, density: 0.2, seed: 5 });
    const model = await new EASE({ lambda: 8 }).fit(data);
    const b = referenceB(data, 8);
    const user = data.users.ids[2];
    const item = model.recommend(user, { k: 1 })[0].item;
    const e = model.explain(user, item, { k: 1000 });
    const target = data.items.indexOf(item);
    const history = data.itemsOf(user);
    expect(e.contributions.length).toBe(history.length);
    for (const c of e.contributions) {
      const h = history.find((x) => x.item === c.item)!;
      expect(c.contribution).toBeCloseTo(h.value * b[data.items.indexOf(c.item) * data.itemCount + target], 4);
    }
    expect(e.score).toBeCloseTo(model.score(user, [item])[0], 4);
    expect(e.contributions.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 6);
  });

  it('keeps the largest weights per item when asked (the sparse approximation)', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.2, seed: 6 });
    const exact = denseWeights(await new EASE({ lambda: 5 }).fit(data)).b;
    const pruned = (await new EASE({ lambda: 5, keep: 7 }).fit(data)).similarity;
    const n = data.itemCount;
    for (let j = 0; j < n; j++) {
      expect(pruned.indptr[j + 1] - pruned.indptr[j]).toBe(7);
      const kept = new Set(pruned.indices.subarray(pruned.indptr[j], pruned.indptr[j + 1]));
      expect(kept.has(j)).toBe(false);
      const smallestKept = Math.min(...[...kept].map((i) => Math.abs(exact[j * n + i])));
      for (let i = 0; i < n; i++) if (i !== j && !kept.has(i)) expect(Math.abs(exact[j * n + i])).toBeLessThanOrEqual(smallestKept + 1e-6);
    }
  });

  it('refuses a catalogue above the memory budget, naming the items and bytes', async () => {
    const data = await randomInteractions({ users: 30, items: 200, density: 0.05, seed: 7 });
    const error = await new EASE({ memoryBudget: 100_000 }).fit(data).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_AFFINITY_TOO_LARGE' });
    expect((error as Error).message).toMatch(/200 items needs \d+ bytes.*budget of 100000 bytes/);
  });

  it('rejects bad options, and a cancelled fit keeps the previous model', async () => {
    for (const o of [{ lambda: 0 }, { lambda: -1 }, { lambda: Number.NaN }, { keep: -1 }, { keep: 1.5 }, { memoryBudget: 0 }])
      expect(() => new EASE(o)).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
    const data = await randomInteractions({ users: 50, items: 30, density: 0.2, seed: 8 });
    const model = await new EASE({ lambda: 8 }).fit(data);
    const before = model.recommend(data.users.ids[0]);
    const controller = new AbortController();
    controller.abort();
    await expect(model.fit(data, { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_AFFINITY_CANCELLED' });
    expect(model.recommend(data.users.ids[0])).toEqual(before);
  });

  it('reports its timings and the inversion rate', async () => {
    const data = await randomInteractions({ users: 80, items: 60, density: 0.2, seed: 9 });
    const model = await new EASE().fit(data);
    expect(model.timings!.inverseSeconds).toBeGreaterThan(0);
    expect(model.timings!.inverseGflops).toBeGreaterThan(0);
    expect(model.metadata?.options).toMatchObject({ lambda: 250, keep: 0 });
  });
});
